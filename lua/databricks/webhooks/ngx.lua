--- Non-blocking HTTP/1.1 transport for OpenResty / lua-nginx-module, on cosockets.
--
-- `databricks.webhooks` picks it by itself inside nginx, in every phase where
-- cosockets work (rewrite, access, content, ngx.timer, ssl_cert, ...); you
-- rarely need to require this module directly. It speaks the transport contract
-- of `opts.transport` (see the README, "OpenResty"):
--
--     local t = require("databricks.webhooks.ngx").new{ verify_tls = true }
--     local resp = t:request{ method = "GET", url = "https://host/path?q=1",
--                             headers = { Authorization = "Bearer ..." }, body = nil,
--                             timeout = 60, connect_timeout = 30, max_body = 16 * 1024 * 1024 }
--     -- resp = { status = 200, headers = { ["content-type"] = "..." }, body = "..." }
--     --     or { error_kind = "timeout"|"connect"|"connection"|"tls"|"too_large"|"local", message = "..." }
--     -- ("local": refused before sending, e.g. an unsupported URL; never retried)
--
-- What it does and does not do:
-- * Connections go back to nginx's per-worker keep-alive pool (`setkeepalive`),
--   one pool per scheme, host, port and TLS verification setting, so a
--   connection verified for one host is never reused for another. nginx drops
--   pooled connections the server closes; if one still fails before the first
--   byte of an answer, a GET is sent once more on a new connection, and any
--   other method reports CONNECTION_ERROR (it may have reached the server).
-- * TLS uses `sslhandshake(false, host, verify_tls)` (false: no session object; with nil,
--   Debian's lua-resty-core 0.1.25 can hit an assertion after a failed verification). Verification needs
--   `lua_ssl_trusted_certificate` in nginx.conf (e.g.
--   /etc/ssl/certs/ca-certificates.crt); without it every handshake with
--   verification on fails with TLS_ERROR "unable to get local issuer
--   certificate". The client's `ca_file` option is libcurl's and has no effect
--   here: nginx trusts what `lua_ssl_trusted_certificate` names. SNI is sent
--   for host names (not for IP literals, whose certificate names are not
--   checked by nginx).
-- * Host names are resolved by nginx's `resolver` directive, which must be set
--   to your DNS server (e.g. `resolver 192.0.2.53 ipv6=off;`); "localhost" is mapped to
--   127.0.0.1 without it.
-- * No proxy support: `databricks.webhooks` keeps libcurl for clients with a
--   `proxy` option.
-- * Response bodies: Content-Length, chunked, or up to the close; bodies over
--   `max_body` are refused (the connection is closed, not pooled).
--
-- @module databricks.webhooks.ngx

local ngx = ngx
local tcp = ngx.socket.tcp
local ngx_now, ngx_sleep = ngx.now, ngx.sleep
local type, pairs, tonumber, tostring, setmetatable = type, pairs, tonumber, tostring, setmetatable
local concat = table.concat
local str_find, str_lower, str_format, str_match = string.find, string.lower, string.format, string.match
local math_max, math_floor = math.max, math.floor

local M = {}

--- The largest response body accepted when a request gives no `max_body`
-- (the libcurl path's limit, too).
M.DEFAULT_MAX_BODY = 16 * 1024 * 1024

local MAX_HEADERS = 100

-- The User-Agent names the HTTP stack: this one, not libcurl.
local STACK_TOKEN = (function()
  local v = ngx.config and ngx.config.ngx_lua_version
  if type(v) ~= "number" then return "ngx_lua" end
  return str_format("ngx_lua/%d.%d.%d", math_floor(v / 1000000), math_floor(v / 1000) % 1000, v % 1000)
end)()

local Transport = {}
Transport.__index = Transport

--- Makes a transport. opts (all optional):
-- `verify_tls` (default true), `pool_size` (connections kept per pool; default
-- nginx's `lua_socket_pool_size`), `keepalive_timeout` (seconds a pooled
-- connection may idle; default nginx's `lua_socket_keepalive_timeout`),
-- `max_body` (bytes, when a request carries none).
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    verify_tls = opts.verify_tls ~= false,
    pool_size = opts.pool_size,
    keepalive_ms = opts.keepalive_timeout and math_floor(opts.keepalive_timeout * 1000) or nil,
    max_body = opts.max_body or M.DEFAULT_MAX_BODY,
    connections = 0, -- TCP connections opened
    reused = 0,      -- requests sent on a pooled connection
  }, Transport)
  return self
end

-- scheme, host (as written, brackets kept for IPv6), port, request target.
local function parse_url(url)
  local scheme, authority, target = str_match(url, "^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil end
  scheme = str_lower(scheme)
  if scheme ~= "http" and scheme ~= "https" then return nil end
  if str_find(authority, "@", 1, true) then return nil end -- no userinfo: it would leak into logs
  local host, port = str_match(authority, "^(%[[%x:.]+%])(.*)$")
  if not host then host, port = str_match(authority, "^([^:]+)(.*)$") end
  if not host then return nil end
  if port == "" then
    port = scheme == "https" and 443 or 80
  else
    port = tonumber(str_match(port, "^:(%d+)$"))
    if not port or port < 1 or port > 65535 then return nil end
  end
  target = target == "" and "/" or target
  if str_find(target, "#", 1, true) then target = str_match(target, "^([^#]*)") end
  return scheme, str_lower(host), port, target
end
M.parse_url = parse_url -- for tests

local function is_ip_literal(host)
  return str_find(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil or str_find(host, "^%[") ~= nil
end

local function failure(kind, message)
  return { error_kind = kind, message = message }
end

-- "timeout" from a cosocket is a timeout whatever the operation; the rest
-- depends on where it happened.
local function kind_of(err, otherwise)
  if err == "timeout" then return "timeout" end
  return otherwise
end

-- Reads the status line and headers of one response, skipping 1xx interim
-- answers. Returns { status, headers, keep }, or nil, kind, message, early
-- (early: not one byte of an answer arrived).
local function read_head(sock, deadline)
  local first = true
  while true do
    sock:settimeout(math_max(1, (deadline - ngx_now()) * 1000))
    local line, err, partial = sock:receive("*l")
    if not line then
      local early = first and (partial == nil or partial == "")
      if err == "closed" then
        return nil, "connection", "the server closed the connection before answering", early
      end
      return nil, kind_of(err, "connection"), "reading the response failed: " .. tostring(err), early
    end
    first = false
    local version, status = str_match(line, "^HTTP/(%d%.%d) (%d%d%d)")
    status = tonumber(status)
    if not status then
      return nil, "connection", "not an HTTP response (status line expected)"
    end
    local headers, n = {}, 0
    while true do
      local h, herr = sock:receive("*l")
      if not h then
        return nil, kind_of(herr, "connection"), "reading the response headers failed: " .. tostring(herr)
      end
      if h == "" then break end
      n = n + 1
      if n > MAX_HEADERS then return nil, "connection", "too many response headers" end
      local name, value = str_match(h, "^([^:%s]+)%s*:%s*(.-)%s*$")
      if name then
        name = str_lower(name)
        local old = headers[name]
        headers[name] = old and (old .. ", " .. value) or value
      end
    end
    if status >= 200 or status == 101 then
      local conn = str_lower(headers["connection"] or "")
      local keep
      if version == "1.1" then
        keep = not str_find(conn, "close", 1, true)
      else
        keep = str_find(conn, "keep-alive", 1, true) ~= nil
      end
      return { status = status, headers = headers, keep = keep }
    end
    -- 100 Continue and friends: the real answer follows
  end
end

-- Reads a chunked body. Returns body, or nil, kind, message.
local function read_chunked(sock, deadline, max)
  local parts, total = {}, 0
  while true do
    sock:settimeout(math_max(1, (deadline - ngx_now()) * 1000))
    local line, err = sock:receive("*l")
    if not line then return nil, kind_of(err, "connection"), "reading a chunk failed: " .. tostring(err) end
    local size = tonumber(str_match(line, "^%s*(%x+)"), 16)
    if not size then return nil, "connection", "malformed chunked body" end
    if size == 0 then
      -- trailers, up to the empty line
      repeat
        line, err = sock:receive("*l")
        if not line then
          return nil, kind_of(err, "connection"), "reading the trailers failed: " .. tostring(err)
        end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > max then return nil, "too_large", "response body exceeds " .. max .. " bytes" end
    local chunk
    chunk, err = sock:receive(size)
    if not chunk then return nil, kind_of(err, "connection"), "reading a chunk failed: " .. tostring(err) end
    parts[#parts + 1] = chunk
    line, err = sock:receive("*l")
    if line ~= "" then
      return nil, kind_of(err, "connection"), "malformed chunked body"
    end
  end
end

-- Reads until the server closes. Returns body, or nil, kind, message.
local function read_to_close(sock, deadline, max)
  local parts, total = {}, 0
  while true do
    sock:settimeout(math_max(1, (deadline - ngx_now()) * 1000))
    local data, err = sock:receiveany(65536)
    if not data then
      if err == "closed" then return concat(parts) end
      return nil, kind_of(err, "connection"), "reading the response body failed: " .. tostring(err)
    end
    total = total + #data
    if total > max then return nil, "too_large", "response body exceeds " .. max .. " bytes" end
    parts[#parts + 1] = data
  end
end

-- Returns body, reusable, or nil, kind, message.
local function read_body(sock, method, status, headers, deadline, max)
  if method == "HEAD" or status == 204 or status == 304 or status < 200 then return "", true end
  local te = headers["transfer-encoding"]
  if te and str_find(str_lower(te), "chunked", 1, true) then
    local body, kind, msg = read_chunked(sock, deadline, max)
    if not body then return nil, kind, msg end
    return body, true
  end
  local cl = headers["content-length"]
  if cl then
    local n = tonumber(str_match(cl, "^%s*(%d+)%s*$"))
    if not n then return nil, "connection", "malformed Content-Length" end
    if n > max then return nil, "too_large", "response body of " .. n .. " bytes exceeds " .. max end
    if n == 0 then return "", true end
    sock:settimeout(math_max(1, (deadline - ngx_now()) * 1000))
    local body, err = sock:receive(n)
    if not body then
      if err == "closed" then
        return nil, "connection", "the server closed the connection in the middle of the body"
      end
      return nil, kind_of(err, "connection"), "reading the response body failed: " .. tostring(err)
    end
    return body, true
  end
  local body, kind, msg = read_to_close(sock, deadline, max)
  if not body then return nil, kind, msg end
  return body, false
end

-- Opens (or takes from the pool) a connection and does the TLS handshake on a
-- new one. Returns sock, or nil, kind, message.
function Transport:connect(scheme, host, port, connect_ms, io_ms)
  local sock = tcp()
  sock:settimeouts(connect_ms, io_ms, io_ms)
  local tls = scheme == "https"
  local verify = tls and self.verify_tls
  -- IPv6 literals keep their brackets: nginx parses the address like a URL
  local addr = host == "localhost" and "127.0.0.1" or host
  local pool = str_format("databricks.webhooks:%s:%s:%d:%s", scheme, host, port, verify and "verify" or "noverify")
  local ok, err = sock:connect(addr, port, { pool = pool, pool_size = self.pool_size })
  if not ok then
    local hint = err and str_find(err, "no resolver", 1, true)
      and " (set nginx's `resolver` directive)" or ""
    return nil, kind_of(err, "connect"),
      str_format("connect to %s:%d failed: %s%s", host, port, tostring(err), hint)
  end
  local reused = sock:getreusedtimes()
  if reused and reused > 0 then
    self.reused = self.reused + 1
    return sock, true
  end
  self.connections = self.connections + 1
  if tls then
    local sni = not is_ip_literal(host) and host or nil
    local session
    session, err = sock:sslhandshake(false, sni, verify)
    if not session then
      sock:close()
      local hint = ""
      if verify and err and (str_find(err, "issuer", 1, true) or str_find(err, "self", 1, true)) then
        hint = " (is lua_ssl_trusted_certificate set in nginx.conf?)"
      end
      return nil, kind_of(err, "tls"),
        str_format("TLS handshake with %s:%d failed: %s%s", host, port, tostring(err), hint)
    end
  end
  return sock, false
end

-- The request's bytes, as an array for cosocket send (no concatenation).
local function request_bytes(req, target, host_header)
  local out = { req.method, " ", target, " HTTP/1.1\r\nHost: ", host_header, "\r\n" }
  local n = #out
  for name, value in pairs(req.headers or {}) do
    value = tostring(value)
    if str_find(name, "[\r\n:]") or str_find(value, "[\r\n]") then
      return nil, "header " .. tostring(name) .. " contains CR, LF or ':'"
    end
    local lname = str_lower(name)
    if lname == "user-agent" then
      value = value:gsub(" libcurl/%S+", " " .. STACK_TOKEN, 1)
    end
    if lname ~= "host" and lname ~= "content-length" and lname ~= "connection"
      and lname ~= "transfer-encoding" then
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] = name, ": ", value, "\r\n"
      n = n + 4
    end
  end
  local body = req.body
  if body then
    out[n + 1], out[n + 2], out[n + 3] = "Content-Length: ", tostring(#body), "\r\n"
    n = n + 3
  elseif req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    out[n + 1] = "Content-Length: 0\r\n"
    n = n + 1
  end
  out[n + 1] = "\r\n"
  if body and body ~= "" then out[n + 2] = body end
  return out
end

--- Sends one request and reads its response. Never raises for network
-- trouble: it returns `{ error_kind = ..., message = ... }`.
-- @tparam table req `method`, `url`, `headers`, `body`, `timeout`, `connect_timeout`, `max_body`
-- @treturn table `{ status, headers, body }` or `{ error_kind, message }`
function Transport:request(req)
  local scheme, host, port, target = parse_url(req.url or "")
  if not scheme then return failure("local", "unsupported URL (http:// or https:// expected)") end
  local timeout = req.timeout or 60
  local connect_ms = math_max(1, math_floor((req.connect_timeout or timeout) * 1000))
  local io_ms = math_max(1, math_floor(timeout * 1000))
  local max = req.max_body or self.max_body
  local default_port = (scheme == "https" and 443 or 80)
  local host_header = port == default_port and host or (host .. ":" .. port)
  local bytes, why = request_bytes(req, target, host_header)
  if not bytes then return failure("local", why) end

  for attempt = 1, 2 do
    local deadline = ngx_now() + timeout
    local sock, reused, cmsg = self:connect(scheme, host, port, connect_ms, io_ms)
    if not sock then return failure(reused, cmsg) end
    local head, kind, msg, early
    sock:settimeout(math_max(1, (deadline - ngx_now()) * 1000))
    local sent, err = sock:send(bytes)
    if sent then
      head, kind, msg, early = read_head(sock, deadline)
    else
      kind, msg, early = kind_of(err, "connection"), "sending the request failed: " .. tostring(err), true
    end
    if head then
      local body, reusable, bmsg = read_body(sock, req.method, head.status, head.headers, deadline, max)
      if not body then
        sock:close()
        return failure(reusable, bmsg)
      end
      if head.keep and reusable then
        sock:setkeepalive(self.keepalive_ms, self.pool_size)
      else
        sock:close()
      end
      return { status = head.status, headers = head.headers, body = body, reused = reused }
    end
    sock:close()
    -- A pooled connection that failed before one byte of an answer came back
    -- was most likely closed by the server while idle: a GET goes once more
    -- on a fresh connection. Anything else may have reached the server, so
    -- the failure is the answer and the client's retry policy (which never
    -- replays a create) decides, exactly as on the libcurl path.
    if not (early and reused and attempt == 1 and kind ~= "timeout" and req.method == "GET") then
      return failure(kind, msg)
    end
  end
end

--- Waits without blocking the worker (used between retries).
function Transport.sleep(_, seconds)
  ngx_sleep(seconds)
end

return M
