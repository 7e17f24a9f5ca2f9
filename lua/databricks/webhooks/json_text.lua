--- JSON text that is the same bytes on every Lua (5.1-5.4, LuaJIT) and every
-- run: object keys in one fixed order (the fields of a webhook and of a plan
-- first, the rest sorted), never in `pairs` order, which Lua 5.4 varies from
-- run to run. Used by plan files (`export`, `plan --json`) and by the
-- command-line tool's JSON output. Needs nothing but Lua.
-- @module databricks.webhooks.json_text

local M = {}

local ARRAY = {} -- metatable marking a table to write as a JSON array

--- Marks `t` (default a new table) as a JSON array, even when empty.
function M.array(t) return setmetatable(t or {}, ARRAY) end

--- Whether `t` was marked by `array`.
function M.is_marked_array(t) return getmetatable(t) == ARRAY end

--- Removes, in place, every value equal to `null` (a decoder's sentinel, e.g.
-- `cjson.null`) from a decoded document: JSON null means absent. Returns `v`.
function M.strip_nulls(v, null)
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do
    if x == null then v[k] = nil else M.strip_nulls(x, null) end
  end
  return v
end

local KEY_ORDER = {}
for i, k in ipairs({ "version", "api", "model_names", "changes", "counts", "prune", "rotate_secrets", "actions",
  "create", "update", "delete", "unchanged", "unmanaged", "conflicts",
  "webhooks", "action", "id", "label", "name", "model_name", "events", "status", "description",
  "http_url_spec", "job_spec", "url", "enable_ssl_verification", "secret", "authorization", "job_id",
  "workspace_url", "access_token", "field", "old", "new", "added", "removed", "notes" }) do
  KEY_ORDER[k] = i
end

local function key_before(a, b)
  local ra, rb = KEY_ORDER[a] or math.huge, KEY_ORDER[b] or math.huge
  if ra ~= rb then return ra < rb end
  return tostring(a) < tostring(b)
end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

--- A string as a JSON string literal.
M.quote = quote

-- Integers as all their digits (job ids pass 2^53); JSON has no NaN or
-- infinity, so those are null.
local function number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if math.type and math.type(n) == "integer" then return ("%d"):format(n) end
  if n == math.floor(n) and math.abs(n) < 2 ^ 63 then return ("%.0f"):format(n) end
  return ("%.17g"):format(n)
end

-- `indent` nil writes one line with no spaces.
local function encode(v, indent, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "number" then
    out[#out + 1] = number(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t ~= "table" then
    out[#out + 1] = "null"
  elseif getmetatable(v) == ARRAY or (#v > 0 and next(v, #v) == nil) then
    if #v == 0 then out[#out + 1] = "[]"; return end
    local inner = indent and indent .. "  "
    out[#out + 1] = "["
    for i = 1, #v do
      if inner then out[#out + 1] = (i > 1 and ",\n" or "\n") .. inner elseif i > 1 then out[#out + 1] = "," end
      encode(v[i], inner, out)
    end
    out[#out + 1] = inner and ("\n" .. indent .. "]") or "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    if #keys == 0 then out[#out + 1] = "{}"; return end
    table.sort(keys, key_before)
    local inner = indent and indent .. "  "
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if inner then
        out[#out + 1] = (i > 1 and ",\n" or "\n") .. inner .. quote(tostring(k)) .. ": "
      else
        out[#out + 1] = (i > 1 and "," or "") .. quote(tostring(k)) .. ":"
      end
      encode(v[k], inner, out)
    end
    out[#out + 1] = inner and ("\n" .. indent .. "}") or "}"
  end
end

--- `v` as JSON indented by two spaces, with a final newline.
function M.pretty(v)
  local out = {}
  encode(v, "", out)
  return table.concat(out) .. "\n"
end

--- `v` as one line of JSON, without spaces or a final newline.
function M.line(v)
  local out = {}
  encode(v, nil, out)
  return table.concat(out)
end

return M
