-- Test deliveries (POST test): the payload Databricks sends (reference §4) and
-- a small HTTP/1.1 client on cosockets that POSTs it to the webhook URL.
--
-- Safety: the workspace only ever connects to loopback. A webhook URL with any
-- other host is accepted at create time (as Databricks would) but its delivery
-- fails as "could not resolve host" without any traffic leaving the machine.
local json = require("workspace.json")
local schema = require("workspace.schema")
local hmac_sha256 = require("workspace.hmac")

local M = {}

M.TIMEOUT_MS = 5000
M.MAX_BODY = 1024 * 1024 -- longer receiver answers are cut

local TARGET_STAGE = {
  MODEL_VERSION_TRANSITIONED_STAGE = "Production",
  TRANSITION_REQUEST_CREATED = "Production",
  MODEL_VERSION_TRANSITIONED_TO_STAGING = "Staging",
  MODEL_VERSION_TRANSITIONED_TO_PRODUCTION = "Production",
  MODEL_VERSION_TRANSITIONED_TO_ARCHIVED = "Archived",
  TRANSITION_REQUEST_TO_STAGING_CREATED = "Staging",
  TRANSITION_REQUEST_TO_PRODUCTION_CREATED = "Production",
  TRANSITION_REQUEST_TO_ARCHIVED_CREATED = "Archived",
}

local PAYLOAD_KEYS = { "event", "webhook_id", "event_timestamp", "model_name", "version",
  "to_stage", "from_stage", "tags", "comment", "text" }

--- The JSON payload of a test trigger for `event`.
function M.payload(wh, event, now_ms)
  local model = wh.model_name or "some-model"
  local p = { event = event, webhook_id = wh.id, event_timestamp = now_ms, model_name = model }
  local subject = string.format("registered model '%s' version 1", model)
  if event ~= "REGISTERED_MODEL_CREATED" then p.version = "1" end
  local to = TARGET_STAGE[event]
  if to then p.to_stage, p.from_stage = to, "None" end

  if event == "REGISTERED_MODEL_CREATED" then
    p.text = string.format("Registered model '%s' was created.", model)
  elseif event == "MODEL_VERSION_CREATED" then
    p.text = "A new version of " .. subject .. " was created."
  elseif event == "COMMENT_CREATED" then
    p.comment = "This is a test comment."
    p.text = "A user commented on " .. subject .. "."
  elseif event == "MODEL_VERSION_TAG_SET" then
    p.tags = { json.ordered({ key = "key1", value = "value1" }, { "key", "value" }) }
    p.text = "A user set version tag(s) 'key1' => 'value1' for " .. subject .. "."
  elseif event:find("^TRANSITION_REQUEST") then
    p.text = string.format("A user requested a transition of %s from None to %s.", subject, to)
  else
    p.text = string.format("Registered model '%s' version 1 transitioned from None to %s.",
      model, to)
  end
  return json.encode(json.ordered(p, PAYLOAD_KEYS))
end

-- Loopback only (see the top of this file): the address to connect to, or nil.
function M.connect_host(host)
  if host == "localhost" or host:match("^127%.%d+%.%d+%.%d+$") then
    return host == "localhost" and "127.0.0.1" or host
  end
  if host == "[::1]" then return "[::1]" end
  return nil
end

local function read_body(sock, headers)
  local te = (headers["transfer-encoding"] or ""):lower()
  if te:find("chunked", 1, true) then
    local parts, total = {}, 0
    while true do
      local line, err = sock:receive("*l")
      if not line then return nil, err end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then return nil, "bad chunk size" end
      if size == 0 then break end
      local chunk, cerr = sock:receive(size)
      if not chunk then return nil, cerr end
      sock:receive("*l")
      total = total + size
      parts[#parts + 1] = chunk
      if total >= M.MAX_BODY then break end
    end
    return table.concat(parts):sub(1, M.MAX_BODY)
  end
  local len = tonumber(headers["content-length"])
  if len then
    if len == 0 then return "" end
    return sock:receive(math.min(len, M.MAX_BODY))
  end
  local data, err, partial = sock:receive(M.MAX_BODY) -- until the receiver closes
  if data then return data end
  if err == "closed" then return partial end
  return nil, err
end

--- One HTTP/1.1 POST on a fresh connection (shared by both API families).
-- `t`: scheme, host, addr, port, path, header_lines (after Host, Content-Type
-- and Content-Length), body, verify (TLS), timeout_ms. Returns status, body,
-- headers (lower-case names), or nil, error, unsent (true when the receiver
-- closed before the request was written: nothing was delivered).
function M.send(t)
  local sock = ngx.socket.tcp()
  local timeout = t.timeout_ms or M.TIMEOUT_MS
  sock:settimeouts(timeout, timeout, timeout)
  local ok, err = sock:connect(t.addr, t.port)
  if not ok then return nil, "could not connect: " .. err end
  if t.scheme == "https" then
    local host = t.host
    local sni = not host:match("^[%d.]+$") and not host:find("[", 1, true) and host or nil
    -- false: no session object back; with nil, Debian's lua-resty-core 0.1.25 can
    -- fail an assertion after a failed verification (a 500 instead of our 400)
    ok, err = sock:sslhandshake(false, sni, t.verify)
    if not ok then
      sock:close()
      return nil, "TLS handshake failed: " .. err
    end
  end

  local default_port = t.scheme == "https" and 443 or 80
  local lines = {
    "POST " .. t.path .. " HTTP/1.1",
    "Host: " .. t.host .. ((t.port == default_port) and "" or ":" .. t.port),
    "Content-Type: application/json",
    "Content-Length: " .. #t.body,
  }
  for _, line in ipairs(t.header_lines or {}) do lines[#lines + 1] = line end
  lines[#lines + 1] = "Connection: close"
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. t.body)
  if not ok then
    sock:close()
    return nil, "could not send: " .. err, true
  end

  local status_line, rerr = sock:receive("*l")
  local status = status_line and tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then
    sock:close()
    return nil, "no valid HTTP response: " .. (rerr or "bad status line")
  end
  local headers = {}
  while true do
    local line, herr = sock:receive("*l")
    if not line then
      sock:close()
      return nil, "no valid HTTP response: " .. herr
    end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  local resp_body, berr = read_body(sock, headers)
  sock:close()
  if not resp_body then return nil, "could not read the response: " .. berr end
  return status, resp_body, headers
end

--- POSTs `body` to the webhook's URL. Returns status_code, response body, or nil, error.
-- A connection the receiver closed before the request could be written is
-- tried twice more after a short pause (nothing was delivered), as a delivery
-- agent would: a receiver under load may drop a fresh TLS connection.
function M.post(spec, body)
  local scheme, host, port, path = schema.parse_url(spec.url)
  local addr = scheme and M.connect_host(host)
  if not addr then return nil, "could not resolve host" end
  local lines = {}
  if spec.secret then lines[#lines + 1] = "X-Databricks-Signature: " .. hmac_sha256(spec.secret, body) end
  if spec.authorization then lines[#lines + 1] = "Authorization: " .. spec.authorization end
  local req = { scheme = scheme, host = host, addr = addr, path = path, body = body,
    port = port or (scheme == "https" and 443 or 80), header_lines = lines,
    verify = spec.enable_ssl_verification }
  local status, res, unsent = M.send(req)
  for _ = 1, 2 do
    if status or not unsent then break end
    ngx.sleep(0.05)
    status, res, unsent = M.send(req)
  end
  return status, res
end

return M
