-- A minimal webhook receiver for the demo: a plain LuaSocket HTTP server that
-- verifies each delivery's X-Databricks-Signature before trusting it.
-- Usage: lua5.4 examples/receiver.lua <port-file> <secret>
-- Listens on 127.0.0.1 (an ephemeral port, written to <port-file>), answers
-- 200 to a verified delivery and 401 otherwise. For nginx, see examples/openresty/.
package.path = "./lua/?.lua;" .. package.path
package.cpath = "./build/5.4/?.so;" .. package.cpath

local socket = require("socket")
local webhooks = require("databricks.webhooks")

local port_file, secret = arg[1], arg[2]
assert(port_file and secret, "usage: receiver.lua <port-file> <secret>")

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local f = assert(io.open(port_file, "w"))
f:write(port, "\n")
f:close()

local function read_request(conn)
  local line = conn:receive("*l")
  if not line then return nil end
  local headers = {}
  while true do
    local h = conn:receive("*l")
    if not h or h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.*)$")
    if name then headers[name:lower()] = value end
  end
  local n = tonumber(headers["content-length"] or "0") or 0
  local body = n > 0 and conn:receive(n) or ""
  return line, headers, body
end

local function reply(conn, status, text)
  conn:send(("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, #text, text))
end

while true do
  local conn = server:accept()
  conn:settimeout(5)
  local line, headers, body = read_request(conn)
  if line then
    local ok, why = webhooks.verify_signature(secret, body, headers["x-databricks-signature"])
    if ok then
      local event = webhooks.parse_delivery(body)
      print(("receiver: verified %s for webhook %s (model %s)"):format(
        event and event.event or "?", event and event.webhook_id or "?", event and event.model_name or "-"))
      reply(conn, "200 OK", "OK")
    else
      print("receiver: rejected delivery: " .. why)
      reply(conn, "401 Unauthorized", why)
    end
    io.stdout:flush()
  end
  conn:close()
end
