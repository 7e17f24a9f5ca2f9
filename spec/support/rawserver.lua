-- The specs' one hand-made HTTP/1.1 server (LuaSocket), for peers the local
-- workspace never is: run as a separate process (the client under test
-- blocks in C, so the server cannot share its process) by
-- spec/support/rawpeer.lua (a script) and spec/support/stub.lua (a handler).
--
--   lua5.4 spec/support/rawserver.lua SCENARIO PORTFILE LOGFILE
--
-- SCENARIO is a Lua file returning either
--
-- * a list of connections, each a list of steps served in order on that
--   connection. A step reads one request, then:
--     parts = { "bytes", 0.05, "bytes", ... }  sends the strings, sleeping the numbers;
--                                            a part { rep = "x", bytes = N } sends N bytes
--                                            of "x" repeated, in 64 KiB pieces, and logs
--                                            "sent <n>" (less than N: the peer closed)
--     close = true                           closes the connection afterwards
--     reset = true                           closes it with a RST (SO_LINGER 0) instead
--   A step with no parts sends nothing. The log gets one line per request:
--   "<connection> <method> <target> <content-length>" followed by the request's
--   header lines and body, for the spec to read back. Each connection waits
--   10 s at most.
--
-- * or a handler, function(request, n) -> raw response bytes (request =
--   { method, target, headers = { lower-case name -> value }, body }; n counts
--   requests from 1; the global PORT is the server's own port, set before the
--   file runs): every request gets its answer on a connection closed
--   afterwards. The log gets "<method> <target>" per request (and "  body: ..."
--   when it has one). A request for /__stop ends the server; so do 60 s
--   without a connection.
local socket = require("socket")

local portfile, logfile = arg[2], arg[3]

local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
PORT = tonumber(port) -- luacheck: ignore (a global a handler may read)
local scenario = dofile(arg[1])
local log = assert(io.open(logfile, "w"))
log:setvbuf("line")
local f = assert(io.open(portfile .. ".tmp", "w"))
f:write(port)
f:close()
os.rename(portfile .. ".tmp", portfile)

-- headers: the lines as sent, and by lower-case name (the last one wins)
local function read_request(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local method, target = line:match("^(%S+) (%S+) HTTP/1%.1$")
  local lines, headers = {}, {}
  while true do
    local h = c:receive("*l")
    if not h then return nil end
    if h == "" then break end
    lines[#lines + 1] = h
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local len = tonumber(headers["content-length"] or "0") or 0
  local body = len > 0 and c:receive(len) or ""
  return { method = method, target = target, lines = lines, headers = headers, body = body, len = len }
end

local function serve_handler(handler)
  srv:settimeout(60)
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
end

local function send_part(c, p)
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

local function serve_script(connections)
  srv:settimeout(10)
  for i, steps in ipairs(connections) do
    local c = srv:accept()
    if not c then break end
    c:settimeout(10)
    for _, step in ipairs(steps) do
      local rq = read_request(c)
      if not rq then break end
      log:write(("%d %s %s %d\n"):format(i, rq.method, rq.target, rq.len))
      for _, h in ipairs(rq.lines) do log:write("  ", h, "\n") end
      log:write("  body: ", rq.body, "\n")
      for _, p in ipairs(step.parts or {}) do send_part(c, p) end
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
end

if type(scenario) == "function" then serve_handler(scenario) else serve_script(scenario) end
log:close()
srv:close()
