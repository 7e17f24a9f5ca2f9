-- JSON for the local workspace.
--
-- Decoding goes through cjson (strict and fast). Encoding is our own, because the
-- wire must look like Databricks' and not like cjson's defaults: integers always
-- print as integers (Unix-ms timestamps, never 1.5e+12), "/" is not escaped,
-- objects can have a fixed key order, and an empty array can be told apart from
-- an empty object.
local cjson = require("cjson")

local M = {}

M.null = cjson.null

cjson.decode_invalid_numbers(false) -- reject NaN, Infinity and hex literals
cjson.decode_max_depth(64)

local ARRAY_MT = { __jsonarray = true }

--- Marks `t` (default: a new table) so that it encodes as an array even when empty.
function M.array(t)
  return setmetatable(t or {}, ARRAY_MT)
end

--- Gives object `t` a fixed key order; keys not listed follow, sorted.
function M.ordered(t, keys)
  return setmetatable(t, { __jsonkeys = keys })
end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return ESCAPES[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. (s:gsub('[%c"\\]', escape_char)) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    error("json: cannot encode a non-finite number")
  end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return string.format("%d", n)
  end
  local s = string.format("%.14g", n)
  if tonumber(s) ~= n then s = string.format("%.17g", n) end
  return s
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsonarray then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode

local function encode_object(t, out)
  local mt = getmetatable(t)
  local order = mt and mt.__jsonkeys
  local keys, seen = {}, {}
  if order then
    for _, k in ipairs(order) do
      if t[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
    end
  end
  local rest = {}
  for k in pairs(t) do
    if not seen[k] then
      if type(k) ~= "string" then error("json: object keys must be strings") end
      rest[#rest + 1] = k
    end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end

  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encode_string(k)
    out[#out + 1] = ":"
    encode(t[k], out)
  end
  out[#out + 1] = "}"
end

encode = function(v, out)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif tv == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      encode_object(v, out)
    end
  else
    error("json: cannot encode a " .. tv)
  end
end

--- Encodes a Lua value as a JSON text.
function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

--- Joins already-encoded JSON texts into an array text (used for cached webhook views).
function M.raw_array(items)
  return "[" .. table.concat(items, ",") .. "]"
end

-- Python's json.dumps (the MLflow server's payloads): ", " and ": " separators,
-- ASCII only (\uXXXX, surrogate pairs above U+FFFF), keys in the order given
-- by M.ordered (else sorted), and floats that stay floats (M.float(100) → 100.0).
local FLOAT_MT = {}

--- Marks a number as a Python float for encode_python.
function M.float(n)
  return setmetatable({ n = n }, FLOAT_MT)
end

local function py_string(s)
  local out, i, n = { '"' }, 1, #s
  while i <= n do
    local c = s:byte(i)
    local cp, len = c, 1
    if c >= 0xF0 and i + 3 <= n then
      cp, len = (c % 8) * 262144 + (s:byte(i + 1) % 64) * 4096 + (s:byte(i + 2) % 64) * 64
        + s:byte(i + 3) % 64, 4
    elseif c >= 0xE0 and i + 2 <= n then
      cp, len = (c % 16) * 4096 + (s:byte(i + 1) % 64) * 64 + s:byte(i + 2) % 64, 3
    elseif c >= 0xC0 and i + 1 <= n then
      cp, len = (c % 32) * 64 + s:byte(i + 1) % 64, 2
    end
    local ch = s:sub(i, i)
    if cp >= 0x10000 then
      local v = cp - 0x10000
      out[#out + 1] = string.format("\\u%04x\\u%04x", 0xD800 + math.floor(v / 1024), 0xDC00 + v % 1024)
    elseif cp >= 0x7f + 1 then
      out[#out + 1] = string.format("\\u%04x", cp)
    elseif ESCAPES[ch] then
      out[#out + 1] = ESCAPES[ch]
    elseif c < 0x20 then
      out[#out + 1] = string.format("\\u%04x", c)
    else
      out[#out + 1] = ch
    end
    i = i + len
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local function py_float(n)
  if n ~= n or n == math.huge or n == -math.huge then error("json: cannot encode a non-finite number") end
  if n == math.floor(n) and math.abs(n) < 1e16 then return string.format("%d.0", n) end
  local s = string.format("%.17g", n)
  for digits = 1, 17 do -- the shortest text that reads back as n, as Python's repr
    local t = string.format("%." .. digits .. "g", n)
    if tonumber(t) == n then s = t; break end
  end
  if not s:find("[.eEn]") then s = s .. ".0" end
  return s
end

local function py_encode(v, out)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = py_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "table" and getmetatable(v) == FLOAT_MT then
    out[#out + 1] = py_float(v.n)
  elseif tv == "table" and is_array(v) then
    out[#out + 1] = "["
    for i = 1, #v do
      if i > 1 then out[#out + 1] = ", " end
      py_encode(v[i], out)
    end
    out[#out + 1] = "]"
  elseif tv == "table" then
    local mt = getmetatable(v)
    local keys, seen = {}, {}
    for _, k in ipairs(mt and mt.__jsonkeys or {}) do
      if v[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
    end
    local rest = {}
    for k in pairs(v) do
      if not seen[k] then rest[#rest + 1] = tostring(k) end
    end
    table.sort(rest)
    for _, k in ipairs(rest) do keys[#keys + 1] = k end
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = ", " end
      out[#out + 1] = py_string(k)
      out[#out + 1] = ": "
      py_encode(v[k], out)
    end
    out[#out + 1] = "}"
  else
    encode(v, out) -- booleans and null
  end
end

--- Encodes a Lua value as Python's json.dumps would.
function M.encode_python(v)
  local out = {}
  py_encode(v, out)
  return table.concat(out)
end

--- Decodes a JSON text; returns the value, or nil and a message.
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if ok then return v end
  return nil, tostring(v)
end

--- True when `s` (a request body) holds a JSON object at the top level. cjson
-- decodes `{}` and `[]` to the same empty table, so the text is checked itself.
function M.is_object_text(s)
  return s:match("^%s*{") ~= nil
end

return M
