-- Injected faults: a queue filled by POST /__control/faults. Each matching
-- non-control request consumes one use of the first matching fault; the fault
-- then replaces the normal answer (before auth), except `slow` and
-- `stall_after_headers`, which delay a normally handled request.
local json = require("workspace.json")
local reply = require("workspace.reply")

local M = {}

local queue = {}

function M.reset()
  queue = {}
end

local MB = 1024 * 1024

local KINDS = {
  status = true, ["429"] = true, ["503"] = true, slow = true, drop = true,
  reset_mid_body = true, stall_after_headers = true, non_json = true, html_500 = true,
  truncated = true, wrong_shape = true, huge = true, redirect = true, empty = true,
}

-- Kinds that do not replace the response (see app.lua).
M.DELAYS = { slow = true, stall_after_headers = true }

--- Validates and queues a list of faults; returns the number queued or nil, message.
function M.add(list)
  if type(list) ~= "table" then return nil, "'faults' must be an array" end
  local new = {}
  for i, f in ipairs(list) do
    if type(f) ~= "table" then return nil, "fault " .. i .. " must be an object" end
    f.kind = f.kind ~= nil and tostring(f.kind) or nil
    if not KINDS[f.kind] then return nil, "fault " .. i .. ": unknown kind " .. tostring(f.kind) end
    f.count = f.count or 1
    if type(f.count) ~= "number" or f.count < 1 or f.count ~= math.floor(f.count) then
      return nil, "fault " .. i .. ": 'count' must be a positive integer"
    end
    if f.path ~= nil and type(f.path) ~= "string" then
      return nil, "fault " .. i .. ": 'path' must be a string"
    end
    if f.method ~= nil and type(f.method) ~= "string" then
      return nil, "fault " .. i .. ": 'method' must be a string"
    end
    if f.headers ~= nil and type(f.headers) ~= "table" then
      return nil, "fault " .. i .. ": 'headers' must be an object"
    end
    new[#new + 1] = f
  end
  for _, f in ipairs(new) do queue[#queue + 1] = f end
  return #new
end

--- The faults still queued, in order.
function M.pending()
  return json.array(queue)
end

-- A fault without `path` only hits /api/ requests, so that a queued 503 is not
-- eaten by an OAuth token request; give a path (e.g. "token") to hit /oidc/.
local function matches(f, req)
  if f.method and f.method:upper() ~= req.method then return false end
  if f.path then return req.path:sub(-#f.path) == f.path end
  return req.path:sub(1, 5) == "/api/" or req.path:sub(1, 10) == "/ajax-api/"
end

--- Takes one use of the first fault matching `req`, or returns nil.
function M.take(req)
  for i, f in ipairs(queue) do
    if matches(f, req) then
      f.count = f.count - 1
      if f.count == 0 then table.remove(queue, i) end
      return f
    end
  end
  return nil
end

local function with_headers(f, headers)
  headers = headers or {}
  for k, v in pairs(f.headers or {}) do headers[k] = tostring(v) end
  return headers
end

local function error_fault(f, status, code, message, retry_after)
  status = tonumber(f.status) or status
  local headers = with_headers(f, {})
  if f.retry_after == nil then f.retry_after = retry_after end
  if f.retry_after and f.retry_after ~= json.null and f.retry_after ~= false then
    headers["Retry-After"] = tostring(f.retry_after)
  end
  if f.content_type then headers["Content-Type"] = f.content_type end
  local body = f.body
  if body == nil then
    local _, b = reply.error(f.error_code or code or reply.CODE_FOR_STATUS[status] or "INTERNAL_ERROR",
      f.message or message or ("Injected fault: HTTP " .. status .. "."))
    body = b
  end
  return status, body, headers
end

local SAMPLE_WEBHOOK = '{"id":"0123456789abcdef0123456789abcdef","creation_timestamp":1700000000000,'
  .. '"last_updated_timestamp":1700000000000,"events":["MODEL_VERSION_CREATED"],'
  .. '"status":"ACTIVE","http_url_spec":{"url":"https://example.invalid/hook",'
  .. '"enable_ssl_verification":true}}'

local HTML_LOGIN = "<!DOCTYPE html>\n<html><head><title>Databricks - Sign In</title></head>"
  .. "<body><h1>Sign in</h1><p>Please sign in to continue.</p></body></html>\n"
local HTML_500 = "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>\n"
  .. "<h1>HTTP ERROR 500</h1>\n<pre>Internal Server Error</pre>\n</body>\n</html>\n"

local function html(f) return with_headers(f, { ["Content-Type"] = "text/html; charset=utf-8" }) end

-- Sends the answer of a replacing fault. `send(status, body, headers)` is app.lua's.
local RUN = {
  status = function(f) return error_fault(f, 500) end,
  ["429"] = function(f)
    return error_fault(f, 429, "REQUEST_LIMIT_EXCEEDED",
      "The request rate limit has been exceeded. Please retry later.", "1")
  end,
  ["503"] = function(f)
    return error_fault(f, 503, "TEMPORARILY_UNAVAILABLE",
      "The service is temporarily unavailable. Please try again later.")
  end,
  non_json = function(f) return 200, f.body or HTML_LOGIN, html(f) end,
  html_500 = function(f) return 500, f.body or HTML_500, html(f) end,
  truncated = function(f, req)
    local full = req.path:sub(-5) == "/list"
      and '{"webhooks":[' .. SAMPLE_WEBHOOK .. "," .. SAMPLE_WEBHOOK .. "]}"
      or '{"webhook":' .. SAMPLE_WEBHOOK .. "}"
    return 200, full:sub(1, math.floor(#full / 2)), with_headers(f)
  end,
  wrong_shape = function(f) return 200, f.body or "[1,2]", with_headers(f) end,
  empty = function(f) return 200, "", with_headers(f) end,
  redirect = function(f)
    local location = f.location or "/login.html?next_url=%2F"
    local headers = html(f)
    headers.Location = location
    return tonumber(f.status) or 302,
      '<html><body>You are being <a href="' .. location .. '">redirected</a>.</body></html>', headers
  end,
}

-- Streams `size` bytes of valid JSON, flushing as it goes.
local function huge(f)
  local size = tonumber(f.size) or 50 * MB
  ngx.status = 200
  for k, v in pairs(with_headers(f, { ["Content-Type"] = "application/json" })) do ngx.header[k] = v end
  ngx.header["Content-Length"] = size
  local head, tail = '{"webhooks":[],"padding":"', '"}'
  if size < #head + #tail then head, tail = "", "" end
  local chunk = string.rep("x", 64 * 1024)
  local left = size - #head - #tail
  if not ngx.print(head) then return end
  while left > 0 do
    local n = math.min(left, #chunk)
    if not ngx.print(n == #chunk and chunk or chunk:sub(1, n)) then return end
    if not ngx.flush(true) then return end
    left = left - n
  end
  ngx.print(tail)
end

--- Answers the current request as fault `f` says.
function M.run(f, req, send)
  if f.kind == "drop" then
    return ngx.exit(444) -- nginx closes the connection without writing anything
  elseif f.kind == "reset_mid_body" then
    local partial = '{"webhooks":[' .. SAMPLE_WEBHOOK:sub(1, 60)
    ngx.status = 200
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Content-Length"] = tonumber(f.size) or 4096 -- more than is ever sent
    ngx.print(partial)
    ngx.flush(true)
    return ngx.exit(ngx.ERROR) -- an incomplete response: nginx closes the connection
  elseif f.kind == "huge" then
    return huge(f)
  end
  return send(RUN[f.kind](f, req))
end

return M
