-- A small webhook receiver for the demo: a plain LuaSocket HTTP/1.1 server that
-- verifies each delivery's signature before trusting it: X-Databricks-Signature
-- for Databricks deliveries, X-MLflow-Signature (with X-MLflow-Delivery-Id and
-- X-MLflow-Timestamp, at most five minutes old) for open-source MLflow ones.
-- Usage: lua5.4 examples/receiver.lua <port-file> <secret> [deadline-seconds]
-- Listens on 127.0.0.1 (an ephemeral port, written to <port-file>), answers
-- 200 to a verified delivery and 401 otherwise. For nginx, see examples/openresty/.
--
-- Bounded in bytes and in time, since whoever can reach the port can send it
-- anything: a request line or header line over MAX_LINE bytes or more than
-- MAX_HEADERS headers gets 431, a Content-Length over MAX_BODY gets 413 (the
-- body is not read), a body without a Content-Length gets 411, and a
-- connection that has not delivered its whole request within the deadline
-- (10 s unless given) is answered 408 and closed, however slowly its bytes
-- arrive. It serves one connection at a time: a production receiver would run
-- behind nginx or in a server that handles many at once.
package.path = "./lua/?.lua;" .. package.path
package.cpath = "./build/5.4/?.so;" .. package.cpath

local socket = require("socket")
local cjson = require("cjson.safe")
local webhooks = require("databricks.webhooks")

local MAX_LINE = 8 * 1024
local MAX_HEADERS = 64
local MAX_BODY = 1024 * 1024 -- a delivery is well under 10 kB
local CHUNK = 4096

local function die(message)
  io.stderr:write("receiver.lua: ", message, "\n")
  os.exit(2)
end

local port_file, secret = arg[1], arg[2]
local deadline_s = tonumber(arg[3] or "10")
if not (port_file and secret and secret ~= "" and deadline_s and deadline_s > 0) then
  die("usage: receiver.lua <port-file> <secret> [deadline-seconds > 0]")
end

local server, bind_err = socket.bind("127.0.0.1", 0)
if not server then die("cannot listen on 127.0.0.1: " .. tostring(bind_err)) end
local _, port = server:getsockname()
local f, open_err = io.open(port_file, "w")
if not f then die("cannot write the port file: " .. tostring(open_err)) end
f:write(port, "\n")
f:close()

-- MLflow signs "delivery_id.timestamp.body": "v1," and the base64 of the
-- HMAC-SHA256; webhooks.verify_mlflow_signature checks it and its freshness.
local verify_mlflow = webhooks.verify_mlflow_signature

-- A refusal: the status to answer and why.
local function refuse(status, why) return nil, { status = status, why = why } end

-- Bytes from the connection, waiting no later than rd.deadline. Returns data,
-- or nil and a refusal (408 on timeout; nil status when the peer went away).
local function more(rd)
  local conn = rd.conn
  if not conn:dirty() then -- nothing left in LuaSocket's own buffer: wait for the kernel's
    local left = rd.deadline - socket.gettime()
    if left <= 0 then return refuse(408, "request not received in time") end
    local readable = socket.select({ conn }, nil, left)
    if not readable[1] then return refuse(408, "request not received in time") end
  end
  local data, err, partial = conn:receive(CHUNK) -- timeout 0: what is there
  data = data or partial
  if data and data ~= "" then return data end
  if err == "timeout" then return more(rd) end
  return refuse(nil, "connection " .. tostring(err))
end

-- The next line without its CRLF, refused past MAX_LINE bytes.
local function read_line(rd)
  while true do
    local e = rd.buf:find("\n", rd.pos, true)
    if e then
      local line = rd.buf:sub(rd.pos, e - 1):gsub("\r$", "")
      rd.pos = e + 1
      if #line > MAX_LINE then break end
      return line
    end
    if #rd.buf - rd.pos + 1 > MAX_LINE then break end
    local data, refusal = more(rd)
    if not data then return nil, refusal end
    rd.buf, rd.pos = rd.buf:sub(rd.pos) .. data, 1
  end
  return refuse(431, "header line longer than " .. MAX_LINE .. " bytes")
end

local function read_body(rd, n)
  local parts = { rd.buf:sub(rd.pos, rd.pos + n - 1) }
  local got = #parts[1]
  rd.pos = rd.pos + got
  while got < n do
    local data, refusal = more(rd)
    if not data then return nil, refusal end
    parts[#parts + 1] = data
    got = got + #data
  end
  local body = table.concat(parts)
  return body:sub(1, n)
end

-- "Name: value" -> the name and the value without the blanks around it, or
-- nil. By finds, each linear: the one pattern "^([^:%s]+):%s*(.-)%s*$" tries
-- every blank of a run against all those after it, seconds of CPU for a
-- header line of blanks, which anyone who can reach the port may send.
local function split_header(h)
  local colon, blank = h:find(":", 1, true), h:find("%s")
  if not colon or colon == 1 or (blank and blank < colon) then return nil end
  local from, to = h:find("%S", colon + 1), #h
  if not from then return h:sub(1, colon - 1), "" end
  while h:find("^%s", to) do to = to - 1 end
  return h:sub(1, colon - 1), h:sub(from, to)
end

-- Reads one request. Returns method, headers, body, or nil and a refusal.
local function read_request(rd)
  local line, refusal = read_line(rd)
  if not line then return nil, refusal end
  local method = line:match("^(%u+) %S+ HTTP/1%.[01]$")
  if not method then return refuse(400, "not an HTTP/1.x request line") end
  local headers, count = {}, 0
  while true do
    local h
    h, refusal = read_line(rd)
    if not h then return nil, refusal end
    if h == "" then break end
    count = count + 1
    if count > MAX_HEADERS then return refuse(431, "more than " .. MAX_HEADERS .. " headers") end
    local name, value = split_header(h)
    if not name then return refuse(400, "malformed header line") end
    name = name:lower()
    if headers[name] then return refuse(400, "header " .. name .. " given twice") end
    headers[name] = value
  end
  if method ~= "POST" then return refuse(405, "POST expected") end
  if headers["transfer-encoding"] then return refuse(411, "Content-Length required") end
  local cl = headers["content-length"] or "0"
  if not cl:match("^%d+$") then return refuse(400, "malformed Content-Length") end
  if #cl > 9 or tonumber(cl) > MAX_BODY then
    return refuse(413, "body larger than " .. MAX_BODY .. " bytes")
  end
  local body
  body, refusal = read_body(rd, tonumber(cl))
  if not body then return nil, refusal end
  return method, headers, body
end

local REASONS = { [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [411] = "Length Required",
  [413] = "Payload Too Large", [431] = "Request Header Fields Too Large" }

local function reply(conn, status, text)
  conn:settimeout(1) -- a peer that does not read its answer is not waited for
  conn:send(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, REASONS[status], #text, text))
end

local function serve(conn)
  conn:settimeout(0)
  local rd = { conn = conn, buf = "", pos = 1, deadline = socket.gettime() + deadline_s }
  local method, headers, body = read_request(rd)
  if not method then
    local refusal = headers
    if refusal.status then
      print(("receiver: refused request (%d): %s"):format(refusal.status, refusal.why))
      reply(conn, refusal.status, refusal.why)
    end
    return
  end
  if headers["x-mlflow-delivery-id"] or headers["x-mlflow-signature"] then
    local id = headers["x-mlflow-delivery-id"]
    local ok, why = verify_mlflow(secret, body, id, headers["x-mlflow-timestamp"], headers["x-mlflow-signature"])
    if ok then
      local event = cjson.decode(body) or {}
      print(("receiver: verified MLflow %s.%s, delivery %s"):format(tostring(event.entity),
        tostring(event.action), id))
      reply(conn, 200, "OK")
    else
      print("receiver: rejected MLflow delivery: " .. why)
      reply(conn, 401, why)
    end
    return
  end
  local ok, why = webhooks.verify_signature(secret, body, headers["x-databricks-signature"])
  if ok then
    local event = webhooks.parse_delivery(body)
    print(("receiver: verified %s for webhook %s (model %s)"):format(
      event and event.event or "?", event and event.webhook_id or "?", event and event.model_name or "-"))
    reply(conn, 200, "OK")
  else
    print("receiver: rejected delivery: " .. why)
    reply(conn, 401, why)
  end
end

while true do
  local conn = server:accept()
  if conn then
    serve(conn)
    io.stdout:flush()
    conn:close()
  end
end
