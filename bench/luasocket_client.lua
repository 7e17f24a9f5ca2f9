--- The alternative a careful Lua user would write: a registry-webhooks client
-- on LuaSocket (+ LuaSec for https) and lua-cjson, with the same method shapes
-- as databricks.webhooks (tables in, tables out), so the benchmark can drive
-- both with the same loop.
--
-- Written to be fair, not a straw man:
--  * one persistent keep-alive connection (TCP_NODELAY), reopened only when
--    the server closed it (Connection: close, or a stale kept-alive socket);
--  * each request is one string built with a precomputed header block and
--    written with a single send();
--  * the response is parsed by hand from LuaSocket's buffered receive: status
--    line, headers, then a Content-Length body, a chunked body (with
--    trailers), or a read-to-close body;
--  * cjson.safe encodes and decodes; nothing else walks the data.
-- It does less than the module: no request validation, no retries, no
-- normalisation of numbers or nulls.
local socket = require("socket")
local cjson = require("cjson.safe")

local M = {}

local BASE = "/api/2.0/mlflow/registry-webhooks/"

local Client = {}
Client.__index = Client

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function api_error(code, message, status)
  return { error_code = code, message = message, status = status }
end

--- opts: host (http[s]://host[:port]), token, user_agent, timeout (seconds),
-- cafile / verify (https only).
function M.new(opts)
  local scheme, host, port = tostring(opts.host):match("^(https?)://([^/:]+):?(%d*)/?$")
  if not scheme then return nil, api_error("INVALID_PARAMETER_VALUE", "bad host " .. tostring(opts.host)) end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  local hostport = host
  if not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)) then
    hostport = host .. ":" .. port
  end
  local self = setmetatable({
    scheme = scheme, host = host, port = port, timeout = opts.timeout or 60,
    tls = scheme == "https" and { mode = "client", protocol = "any", verify = opts.verify == false
      and "none" or "peer", cafile = opts.cafile, options = { "all", "no_sslv2", "no_sslv3" } } or nil,
    -- every request carries the same block: built once
    fixed = "Host: " .. hostport .. "\r\nUser-Agent: " .. (opts.user_agent or "lua-socket-webhooks/1")
      .. "\r\nAccept: application/json\r\nAuthorization: Bearer " .. opts.token .. "\r\n",
    sock = nil, reused = false, connections = 0,
  }, Client)
  return self
end

function Client:close()
  if self.sock then self.sock:close() end
  self.sock = nil
end

function Client:connect()
  local sock, err = socket.tcp()
  if not sock then return nil, err end
  sock:settimeout(self.timeout)
  sock:setoption("tcp-nodelay", true)
  local ok, cerr = sock:connect(self.host, self.port)
  if not ok then
    sock:close()
    return nil, cerr
  end
  if self.tls then
    local ssl = require("ssl")
    local wrapped, werr = ssl.wrap(sock, self.tls)
    if not wrapped then
      sock:close()
      return nil, werr
    end
    sock = wrapped
    sock:sni(self.host)
    local hok, herr = sock:dohandshake()
    if not hok then
      sock:close()
      return nil, herr
    end
  end
  self.sock, self.reused = sock, false
  self.connections = self.connections + 1
  return sock
end

-- Reads the body that follows the headers.
local function read_body(sock, headers)
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local parts, n = {}, 0
    while true do
      local line, err = sock:receive("*l")
      if not line then return nil, err end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then return nil, "bad chunk size line" end
      if size == 0 then
        repeat -- trailers, up to the empty line
          line, err = sock:receive("*l")
          if not line then return nil, err end
        until line == ""
        return table.concat(parts, "", 1, n)
      end
      local chunk, cerr = sock:receive(size)
      if not chunk then return nil, cerr end
      n = n + 1
      parts[n] = chunk
      local crlf, lerr = sock:receive("*l")
      if crlf ~= "" then return nil, lerr or "bad chunk terminator" end
    end
  end
  local len = headers["content-length"]
  if len then
    len = tonumber(len)
    if not len or len < 0 then return nil, "bad Content-Length" end
    if len == 0 then return "" end
    return sock:receive(len)
  end
  headers.connection = "close" -- delimited by the end of the connection
  return sock:receive("*a")
end

-- Reads one response: status, headers (lower-case names), body.
local function read_response(sock, method)
  local line, err, partial = sock:receive("*l")
  if not line then return nil, err, partial ~= "" end
  local status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)"))
  if not status then return nil, "bad status line", true end
  local headers = {}
  while true do
    local h, herr = sock:receive("*l")
    if not h then return nil, herr, true end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
  if status < 200 then return read_response(sock, method) end -- 100 Continue and friends
  local body, berr = ""
  if method ~= "HEAD" and status ~= 204 and status ~= 304 then
    body, berr = read_body(sock, headers)
    if not body then return nil, berr, true end
  end
  return status, headers, body
end

--- One HTTP exchange on the kept-alive connection. Returns status, headers, body.
function Client:exchange(method, target, body)
  local req
  if body then
    req = method .. " " .. target .. " HTTP/1.1\r\n" .. self.fixed
      .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
  else
    req = method .. " " .. target .. " HTTP/1.1\r\n" .. self.fixed .. "\r\n"
  end
  for _ = 1, 2 do
    local sock = self.sock
    if not sock then
      local err
      sock, err = self:connect()
      if not sock then return nil, err end
    end
    local reused = self.reused
    local sent, err = sock:send(req)
    local got_bytes = false
    if sent then
      local status, headers, rbody = read_response(sock, method)
      if status then
        self.reused = true
        local conn = headers.connection
        if conn and conn:lower():find("close", 1, true) then self:close() end
        return status, headers, rbody
      end
      err, got_bytes = headers, rbody
    end
    self:close()
    -- A kept-alive socket the server had already closed: reopen once. Anything
    -- else (or a failure on a fresh connection) is the caller's error.
    if not (reused and (err == "closed" or err == "connection reset by peer") and not got_bytes) then
      return nil, err
    end
  end
  return nil, "closed"
end

-- Runs a call; decodes the JSON answer; maps non-2xx answers to error tables.
function Client:call(method, path, body, query)
  local status, headers, text = self:exchange(method, query and (path .. "?" .. query) or path, body)
  if not status then
    return nil, api_error("CONNECTION_ERROR", tostring(headers))
  end
  local data = text ~= "" and cjson.decode(text) or {}
  if status < 200 or status > 299 then
    if type(data) == "table" then
      return nil, api_error(data.error_code or ("HTTP_" .. status), data.message, status)
    end
    return nil, api_error("HTTP_" .. status, text:sub(1, 200), status)
  end
  if type(data) ~= "table" then
    return nil, api_error("BAD_RESPONSE", "not a JSON object: " .. text:sub(1, 200), status)
  end
  return data
end

function Client:create(req)
  local data, err = self:call("POST", BASE .. "create", cjson.encode(req))
  if not data then return nil, err end
  return data.webhook
end

function Client:list(req)
  local q, n = {}, 0
  req = req or {}
  if req.events then
    for _, e in ipairs(req.events) do n = n + 1; q[n] = "events=" .. urlencode(e) end
  end
  if req.max_results then n = n + 1; q[n] = "max_results=" .. req.max_results end
  if req.model_name then n = n + 1; q[n] = "model_name=" .. urlencode(req.model_name) end
  if req.page_token then n = n + 1; q[n] = "page_token=" .. urlencode(req.page_token) end
  local page, err = self:call("GET", BASE .. "list", nil, n > 0 and table.concat(q, "&") or nil)
  if not page then return nil, err end
  page.webhooks = page.webhooks or {}
  return page
end

function Client:update(req)
  local data, err = self:call("PATCH", BASE .. "update", cjson.encode(req))
  if not data then return nil, err end
  return data.webhook or { id = req.id }
end

function Client:delete(req)
  local id = type(req) == "table" and req.id or req
  local data, err = self:call("DELETE", BASE .. "delete", nil, "id=" .. urlencode(id))
  if not data then return nil, err end
  return true
end

function Client:test(req)
  if type(req) ~= "table" then req = { id = req } end
  local data, err = self:call("POST", BASE .. "test", cjson.encode(req))
  if not data then return nil, err end
  if data.webhook and data.status_code == nil then data = data.webhook end
  return { status_code = data.status_code, body = data.body }
end

function Client:stats()
  return { connections = self.connections }
end

return M
