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
--                             timeout = 60, connect_timeout = 30, max_body = 8 * 1024 * 1024 }
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
--   certificate". nginx trusts what `lua_ssl_trusted_certificate` names: a
--   client with `ca_file` is refused by `webhooks.new` inside nginx.
--   lua-nginx-module checks a certificate's DNS names only, never its IP
--   addresses, so an https URL with an IP literal (https://10.0.0.5/) is refused
--   with TLS_ERROR unless `verify_tls = false`: use the host's DNS name.
-- * `timeout` is a deadline for the whole exchange (connect, TLS handshake,
--   send, every read), as on the libcurl path: each read waits only for what is
--   left of it. The response head is read with byte limits (`MAX_LINE` per
--   line, `MAX_HEAD` in all, `MAX_HEADERS` lines) and the body with `max_body`;
--   past them: BAD_RESPONSE, and the connection is closed.
-- * Host names are resolved by nginx's `resolver` directive, which must be set
--   to your DNS server (e.g. `resolver 192.0.2.53 ipv6=off;`); "localhost" is mapped to
--   127.0.0.1 without it.
-- * No proxy support: `databricks.webhooks` keeps libcurl for clients with a
--   `proxy` option.
-- * Response bodies: Content-Length, chunked, or up to the close; bodies over
--   `max_body` are refused (the connection is closed, not pooled), whatever
--   the framing, and chunk-size lines are bounded like header lines.
--
-- @module databricks.webhooks.ngx

local ngx = ngx
local tcp = ngx.socket.tcp
local ngx_now, ngx_sleep, ngx_update_time = ngx.now, ngx.sleep, ngx.update_time
local type, pairs, tonumber, tostring, setmetatable = type, pairs, tonumber, tostring, setmetatable
local concat = table.concat
local str_find, str_lower, str_format, str_match = string.find, string.lower, string.format, string.match
local str_sub, str_byte = string.sub, string.byte
local math_max, math_floor = math.max, math.floor

local M = {}

--- The largest response body accepted: the client's `max_response_bytes`
-- (8 MiB unless set); a request's own `max_body` can only lower it.
M.DEFAULT_MAX_BODY = 8 * 1024 * 1024

--- Limits on a response head: bytes in one line (status, header, chunk size
-- or trailer line), bytes in the whole head, header lines.
M.MAX_LINE = 16 * 1024
M.MAX_HEAD = 64 * 1024
M.MAX_HEADERS = 100

-- Bytes asked of one receiveany(): for a head (a line is refused before the
-- buffer holds more than MAX_LINE + CHUNK), and for a body.
local CHUNK = 16 * 1024
local BODY_CHUNK = 64 * 1024

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
-- `max_body` (bytes; the most any response may have, whatever a request asks).
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    verify_tls = opts.verify_tls ~= false,
    pool_size = opts.pool_size,
    keepalive_ms = opts.keepalive_timeout and math_floor(opts.keepalive_timeout * 1000) or nil,
    max_body = opts.max_body or M.DEFAULT_MAX_BODY,
    connections = 0, -- TCP connections opened
    reused = 0,      -- requests sent on a pooled connection
    origins = {}, norigins = 0, -- see Transport:origin
  }, Transport)
  return self
end

-- scheme, host (as written, brackets kept for IPv6), port, request target.
local host_lib = require("databricks.webhooks.host")
-- for a request that names no timeout (the core always does)
local DEFAULT_TIMEOUT = require("databricks.webhooks.options").DEFAULTS.timeout
local parse_url, trim = host_lib.split_url, host_lib.trim
M.parse_url = parse_url -- for tests

-- A client talks to one or two origins (its host, a token endpoint): each is
-- split, checked and formatted once, and at most this many are kept.
local ORIGINS_MAX = 16

-- A request URL's origin, { scheme, host, port, host_header, pool }, and its
-- target, as parse_url would give them; or nil for a URL it refuses.
function Transport:origin(url)
  local origin, rest = str_match(url, "^(%a[%w+.-]*://[^/?#]*)(.*)$")
  if not origin then return nil end
  local o = self.origins[origin]
  if not o then
    local scheme, host, port = parse_url(origin)
    if not scheme then return nil end
    local default_port = (scheme == "https" and 443 or 80)
    local verify = scheme == "https" and self.verify_tls
    o = { scheme = scheme, host = host, port = port,
      host_header = port == default_port and host or (host .. ":" .. port),
      pool = str_format("databricks.webhooks:%s:%s:%d:%s", scheme, host, port, verify and "verify" or "noverify") }
    if self.norigins >= ORIGINS_MAX then self.origins, self.norigins = {}, 0 end
    self.origins[origin], self.norigins = o, self.norigins + 1
  end
  local target = rest == "" and "/" or rest
  if str_find(target, "#", 1, true) then target = str_match(target, "^([^#]*)") end
  return o, target
end

local function is_ip_literal(host)
  return str_find(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil or str_find(host, "^%[") ~= nil
end

-- "timeout" from a cosocket is a timeout whatever the operation; the rest
-- depends on where it happened.
local function kind_of(err, otherwise)
  if err == "timeout" then return "timeout" end
  return otherwise
end

local function failure(kind, message)
  return { error_kind = kind, message = message }
end

-- ----------------------------------------------------------------------------
-- Reading a response under a deadline and byte limits.
--
-- A cosocket read restarts its timer whenever some bytes arrive, and
-- receive("*l") buffers a line of any length. So every read here is a
-- receiveany() of a bounded size with a timeout of what is left until the
-- exchange's deadline, into a small buffer the reader owns.
-- ----------------------------------------------------------------------------

local Reader = {}
Reader.__index = Reader

local function new_reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", pos = 1, received = 0 }, Reader)
end

local function timed_out(self)
  return nil, "timeout", str_format("timed out: the exchange took longer than its timeout (%gs)",
    self.timeout or 0)
end

-- Receives whatever is there (at most n bytes) before the deadline.
-- Returns data, or nil, kind, message (kind "closed" when the server closed).
function Reader:some(n)
  local left = self.deadline - ngx_now()
  if left <= 0 then return timed_out(self) end
  self.sock:settimeout(math_max(1, math_floor(left * 1000)))
  local data, err = self.sock:receiveany(n)
  if data then
    self.received = self.received + #data
    return data
  end
  if err == "timeout" then return timed_out(self) end
  if err == "closed" then return nil, "closed", "the server closed the connection" end
  return nil, "connection", "reading the response failed: " .. tostring(err)
end

-- Bytes received but not used yet.
function Reader:pending()
  return #self.buf - self.pos + 1
end

-- Up to n bytes from the buffer (maybe "").
function Reader:take_buffered(n)
  local avail = self:pending()
  if avail <= 0 then return "" end
  if n < avail then avail = n end
  local s = str_sub(self.buf, self.pos, self.pos + avail - 1)
  self.pos = self.pos + avail
  return s
end

-- The next line without its CRLF (or bare LF), refused past `limit` bytes
-- before more than limit + CHUNK bytes are held. Returns line, or nil, kind, message.
-- A line that goes on past the buffer is gathered in pieces, each searched
-- once, and joined once: joining and searching the whole buffer again for
-- every piece is quadratic when a peer sends one byte at a time.
function Reader:line(limit, what)
  local buf, pos = self.buf, self.pos
  local e = str_find(buf, "\n", pos, true)
  if not e then
    local parts, held = { str_sub(buf, pos) }, #buf - pos + 1
    while not e do
      if held > limit then
        return nil, "too_large", str_format("%s longer than %d bytes", what, limit)
      end
      local data, kind, msg = self:some(CHUNK)
      if not data then
        self.buf, self.pos = concat(parts), 1
        return nil, kind, msg
      end
      local nl = str_find(data, "\n", 1, true)
      if nl then e = held + nl end
      parts[#parts + 1] = data
      held = held + #data
    end
    buf, pos = concat(parts), 1
    self.buf, self.pos = buf, 1
  end
  local last = e - 1
  if last >= pos and str_byte(buf, last) == 13 then last = last - 1 end
  if last - pos + 1 > limit then
    return nil, "too_large", str_format("%s longer than %d bytes", what, limit)
  end
  self.pos = e + 1
  return str_sub(buf, pos, last)
end

-- Exactly n bytes. Returns them, or nil, kind, message.
function Reader:exactly(n)
  local first = self:take_buffered(n)
  if #first == n then return first end
  local parts, got = { first }, #first
  while got < n do
    local want = n - got
    local data, kind, msg = self:some(want < BODY_CHUNK and want or BODY_CHUNK)
    if not data then
      if kind == "closed" then
        return nil, "connection", "the server closed the connection in the middle of the body"
      end
      return nil, kind, msg
    end
    got = got + #data
    parts[#parts + 1] = data
  end
  return concat(parts)
end

-- A header line's lower-case name and its value without the blanks around
-- it, or nil for a line that is not `name: value` (no colon, a blank in the
-- name, a continuation line). Found with finds and a trim, each linear: the
-- single pattern "^([^:%s]+)%s*:%s*(.-)%s*$" tries every blank of a run
-- against all the blanks after it (0.4 to 1 s of CPU for one 16 KiB line),
-- and nothing yields in the middle of a pattern, so no deadline cuts it.
local function split_header(h)
  local stop = str_find(h, "[%s:]")
  if not stop or stop == 1 then return nil end
  local colon = stop
  if str_byte(h, stop) ~= 58 then -- blanks between the name and the colon
    colon = str_find(h, "[^%s]", stop)
    if not colon or str_byte(h, colon) ~= 58 then return nil end
  end
  return str_lower(str_sub(h, 1, stop - 1)), trim(str_sub(h, colon + 1))
end

-- Reads the status line and headers of one response, skipping 1xx interim
-- answers (their bytes count towards the same limits). Returns
-- { status, headers, keep }, or nil, kind, message, early (early: not one byte
-- of an answer arrived).
-- One line of a response head, counted against the head's limits (the
-- reader holds the counts: no closure per response, which LuaJIT would not
-- compile).
local function next_line(rd, what)
  local line, kind, msg = rd:line(M.MAX_LINE, what)
  if not line then
    if kind == "closed" then
      return nil, "connection", "the server closed the connection before the end of the response head"
    end
    return nil, kind, msg
  end
  local head_bytes, lines = rd.head_bytes + #line + 2, rd.head_lines + 1
  rd.head_bytes, rd.head_lines = head_bytes, lines
  if head_bytes > M.MAX_HEAD then
    return nil, "too_large", str_format("response head larger than %d bytes", M.MAX_HEAD)
  end
  if lines > M.MAX_HEADERS + 1 then
    return nil, "too_large", str_format("more than %d response header lines", M.MAX_HEADERS)
  end
  return line
end

local function read_head(rd)
  rd.head_bytes, rd.head_lines = 0, 0
  while true do
    local line, kind, msg = next_line(rd, "status line")
    if not line then
      local early = rd.received == 0
      if early and kind == "connection" then msg = "the server closed the connection before answering" end
      return nil, kind, msg, early
    end
    local version, status = str_match(line, "^HTTP/(%d%.%d) (%d%d%d)")
    status = tonumber(status)
    if not status then
      return nil, "connection", "not an HTTP response (status line expected)"
    end
    local headers = {}
    while true do
      local h
      h, kind, msg = next_line(rd, "response header line")
      if not h then return nil, kind, msg end
      if h == "" then break end
      local name, value = split_header(h)
      if name then
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
    rd.head_lines = 0
  end
end

local function too_large(max)
  return nil, "too_large", "response body exceeds " .. max .. " bytes"
end

-- Reads a chunked body. Returns body, or nil, kind, message. The framing
-- (size lines, extensions, CRLFs) may take as many bytes as the body may
-- (at least MAX_HEAD): one-byte chunks with 16 KiB size lines would
-- otherwise let a peer send without end within `max`.
local function read_chunked(rd, max)
  local parts, total, framing = {}, 0, 0
  local max_framing = math_max(max, M.MAX_HEAD)
  while true do
    local line, kind, msg = rd:line(M.MAX_LINE, "chunk size line")
    if not line then return nil, kind == "closed" and "connection" or kind, "reading a chunk failed: " .. msg end
    framing = framing + #line + 4 -- with its CRLF and the chunk's
    if framing > max_framing then
      return nil, "too_large", str_format("chunked framing exceeds %d bytes", max_framing)
    end
    local hex = str_match(line, "^%s*(%x+)")
    if not hex then return nil, "connection", "malformed chunked body" end
    -- leading zeros are harmless; more than 8 significant digits is over any limit
    hex = str_match(hex, "^0*(%x*)$")
    if #hex > 8 then return too_large(max) end
    local size = tonumber(hex ~= "" and hex or "0", 16)
    if size == 0 then
      -- trailers, up to the empty line, within the limits of a head
      local trailer_bytes = 0
      repeat
        line, kind, msg = rd:line(M.MAX_LINE, "trailer line")
        if not line then
          return nil, kind == "closed" and "connection" or kind, "reading the trailers failed: " .. msg
        end
        trailer_bytes = trailer_bytes + #line + 2
        if trailer_bytes > M.MAX_HEAD then
          return nil, "too_large", str_format("response trailers larger than %d bytes", M.MAX_HEAD)
        end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > max then return too_large(max) end
    local chunk
    chunk, kind, msg = rd:exactly(size)
    if not chunk then return nil, kind, msg end
    parts[#parts + 1] = chunk
    line, kind, msg = rd:line(2, "chunk end")
    if line ~= "" then
      return nil, line and "connection" or (kind == "closed" and "connection" or kind),
        line and "malformed chunked body" or "reading a chunk failed: " .. msg
    end
  end
end

-- Reads until the server closes. Returns body, or nil, kind, message.
local function read_to_close(rd, max)
  local first = rd:take_buffered(max + 1)
  local parts, total = { first }, #first
  while total <= max do
    local data, kind, msg = rd:some(BODY_CHUNK)
    if not data then
      if kind == "closed" then return concat(parts) end
      return nil, kind, msg
    end
    total = total + #data
    parts[#parts + 1] = data
  end
  return too_large(max)
end

-- Returns body, reusable, or nil, kind, message.
local function read_body(rd, method, status, headers, max)
  if method == "HEAD" or status == 204 or status == 304 or status < 200 then return "", true end
  local te = headers["transfer-encoding"]
  if te and str_find(str_lower(te), "chunked", 1, true) then
    local body, kind, msg = read_chunked(rd, max)
    if not body then return nil, kind, msg end
    return body, true
  end
  local cl = headers["content-length"]
  if cl then
    -- the value is trimmed already; "^%s*0*(%d+)%s*$" would be quadratic in
    -- leading zeros times what follows them
    if not str_find(cl, "^%d+$") then return nil, "connection", "malformed Content-Length" end
    local digits = str_sub(cl, str_find(cl, "[^0]") or #cl)
    local n = tonumber(digits)
    if #digits > 15 or n > max then
      return nil, "too_large", "response body of " .. digits .. " bytes exceeds " .. max
    end
    if n == 0 then return "", true end
    local body, kind, msg = rd:exactly(n)
    if not body then return nil, kind, msg end
    return body, true
  end
  local body, kind, msg = read_to_close(rd, max)
  if not body then return nil, kind, msg end
  return body, false
end

-- Milliseconds left until deadline (at least 1), or nil when none is left.
local function ms_left(deadline)
  local left = deadline - ngx_now()
  if left <= 0 then return nil end
  return math_max(1, math_floor(left * 1000))
end

-- Opens (or takes from the pool) a connection and does the TLS handshake on a
-- new one, before the deadline. Returns sock, reused, or nil, kind, message.
function Transport:connect(o, connect_timeout, deadline)
  local scheme, host, port = o.scheme, o.host, o.port
  local left = ms_left(deadline)
  if not left then return nil, "timeout", "timed out before connecting" end
  local connect_ms = math_max(1, math_floor(connect_timeout * 1000))
  local sock = tcp()
  sock:settimeouts(connect_ms < left and connect_ms or left, left, left)
  local tls = scheme == "https"
  local verify = tls and self.verify_tls
  -- IPv6 literals keep their brackets: nginx parses the address like a URL
  local addr = host == "localhost" and "127.0.0.1" or host
  local ok, err = sock:connect(addr, port, { pool = o.pool, pool_size = self.pool_size })
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
    -- the handshake runs under the connect timeout, started once: give it
    -- what is left of the exchange
    left = ms_left(deadline)
    if not left then
      sock:close()
      return nil, "timeout", "timed out before the TLS handshake"
    end
    sock:settimeouts(left, left, left)
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

-- The client's User-Agent with this stack named instead of libcurl; the last
-- one is kept, as a client sends the same one every time.
local ua_in, ua_out
local function user_agent(value)
  if value ~= ua_in then
    ua_in, ua_out = value, (value:gsub(" libcurl/%S+", " " .. STACK_TOKEN, 1))
  end
  return ua_out
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
    if lname == "user-agent" then value = user_agent(value) end
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
  local o, target = self:origin(req.url or "")
  if not o then return failure("local", "unsupported URL (http:// or https:// expected)") end
  local host = o.host
  if o.scheme == "https" and self.verify_tls and is_ip_literal(host) then
    return failure("tls", str_format("TLS: the certificate of %s cannot be checked inside nginx "
      .. "(lua-nginx-module verifies DNS names only, not IP addresses): use the host's DNS name "
      .. "in the URL, or verify_tls = false", host))
  end
  local timeout = req.timeout or DEFAULT_TIMEOUT
  local max = req.max_body or self.max_body
  if self.max_body < max then max = self.max_body end
  local bytes, why = request_bytes(req, target, o.host_header)
  if not bytes then return failure("local", why) end

  -- one deadline for the whole exchange: connect, handshake, send, every read
  ngx_update_time()
  local deadline = ngx_now() + timeout
  for attempt = 1, 2 do
    local sock, reused, cmsg = self:connect(o, req.connect_timeout or timeout, deadline)
    if not sock then return failure(reused, cmsg) end
    local rd = new_reader(sock, deadline)
    rd.timeout = timeout
    local head, kind, msg, early
    local left = ms_left(deadline)
    local sent, err
    if left then
      sock:settimeout(left)
      sent, err = sock:send(bytes)
    else
      err = "timeout"
    end
    if sent then
      head, kind, msg, early = read_head(rd)
    else
      kind, msg, early = kind_of(err, "connection"), "sending the request failed: " .. tostring(err), true
    end
    if head then
      local body, reusable, bmsg = read_body(rd, req.method, head.status, head.headers, max)
      if not body then
        sock:close()
        return failure(reusable, bmsg)
      end
      -- bytes past the response would be read as the next one's: not pooled
      if head.keep and reusable and rd:pending() == 0 then
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
