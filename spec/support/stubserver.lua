-- A one-purpose HTTP/1.1 server (LuaSocket) for hostile-peer specs: every
-- request gets the answer of a handler, on a connection closed afterwards.
--
--   lua5.4 spec/support/stubserver.lua HANDLER PORTFILE LOGFILE
--
-- HANDLER is a Lua file returning function(request, n) -> raw response bytes
-- (request = { method, target, headers = { lower-case name -> value }, body });
-- n counts requests from 1; the global PORT is the server's own port. The log gets "<method> <target>" per request.
-- A request for /__stop ends the server; so do 60 s without a connection.
local socket = require("socket")

local portfile, logfile = arg[2], arg[3]

local srv = assert(socket.bind("127.0.0.1", 0))
srv:settimeout(60)
local _, port = srv:getsockname()
PORT = tonumber(port) -- luacheck: ignore (a global the handler may read)
local handler = dofile(arg[1])
local log = assert(io.open(logfile, "w"))
log:setvbuf("line")
local f = assert(io.open(portfile .. ".tmp", "w"))
f:write(port)
f:close()
os.rename(portfile .. ".tmp", portfile)

local function read_request(c)
  local line = c:receive("*l")
  if not line then return nil end
  local method, target = line:match("^(%S+) (%S+) HTTP/1%.1$")
  local headers = {}
  while true do
    local h = c:receive("*l")
    if not h then return nil end
    if h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local len = tonumber(headers["content-length"] or "0") or 0
  local body = len > 0 and c:receive(len) or ""
  return { method = method, target = target, headers = headers, body = body }
end

local n = 0
while true do
  local c = srv:accept()
  if not c then break end
  c:settimeout(10)
  local rq = read_request(c)
  if rq and rq.target == "/__stop" then
    c:send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c:close()
    break
  end
  if rq then
    n = n + 1
    log:write(("%s %s\n"):format(rq.method, rq.target))
    if rq.body ~= "" then log:write("  body: ", rq.body, "\n") end
    local out = handler(rq, n)
    if out then c:send(out) end
  end
  c:close()
end
log:close()
srv:close()
