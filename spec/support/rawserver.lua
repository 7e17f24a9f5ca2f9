-- A tiny scripted HTTP/1.1 server (LuaSocket) for framings the local workspace
-- never sends: run as a separate process by spec/33-wire_spec.lua.
--
--   lua5.4 spec/support/rawserver.lua SCENARIO PORTFILE LOGFILE
--
-- SCENARIO is a Lua file returning a list of connections, each a list of
-- steps served in order on that connection. A step reads one request, then:
--   parts = { "bytes", 0.05, "bytes", ... }  sends the strings, sleeping the numbers;
--                                          a part { rep = "x", bytes = N } sends N bytes
--                                          of "x" repeated, in 64 KiB pieces, and logs
--                                          "sent <n>" (less than N: the peer closed)
--   close = true                           closes the connection afterwards
--   reset = true                           closes it with a RST (SO_LINGER 0) instead
-- A step with no parts sends nothing. The log gets one line per request:
-- "<connection> <method> <target> <content-length>" followed by the request's
-- header lines and body, for the spec to read back.
local socket = require("socket")

local scenario = dofile(arg[1])
local portfile, logfile = arg[2], arg[3]

local srv = assert(socket.bind("127.0.0.1", 0))
srv:settimeout(10)
local _, port = srv:getsockname()
local log = assert(io.open(logfile, "w"))
log:setvbuf("line")
local f = assert(io.open(portfile .. ".tmp", "w"))
f:write(port)
f:close()
os.rename(portfile .. ".tmp", portfile)

local function read_request(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local method, target = line:match("^(%S+) (%S+) HTTP/1%.1$")
  local headers, len = {}, 0
  while true do
    local h = c:receive("*l")
    if not h then return nil end
    if h == "" then break end
    headers[#headers + 1] = h
    local n = h:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
    if n then len = tonumber(n) end
  end
  local body = len > 0 and c:receive(len) or ""
  return { method = method, target = target, headers = headers, body = body, len = len }
end

for i, steps in ipairs(scenario) do
  local c = srv:accept()
  if not c then break end
  c:settimeout(10)
  for _, step in ipairs(steps) do
    local rq = read_request(c)
    if not rq then break end
    log:write(("%d %s %s %d\n"):format(i, rq.method, rq.target, rq.len))
    for _, h in ipairs(rq.headers) do log:write("  ", h, "\n") end
    log:write("  body: ", rq.body, "\n")
    for _, p in ipairs(step.parts or {}) do
      if type(p) == "number" then
        socket.sleep(p)
      elseif type(p) == "table" then
        local piece = string.rep(p.rep, math.ceil(65536 / #p.rep)):sub(1, 65536)
        local sent = 0
        while sent < p.bytes do
          local n = math.min(#piece, p.bytes - sent)
          local last = c:send(piece, 1, n)
          if not last then break end
          sent = sent + n
        end
        log:write("sent ", sent, "\n")
      else
        c:send(p)
      end
    end
    if step.reset then
      c:setoption("linger", { on = true, timeout = 0 })
      c:close()
      break
    end
    if step.close then c:close() break end
  end
  pcall(c.close, c)
end
log:write("done\n")
log:close()
srv:close()
