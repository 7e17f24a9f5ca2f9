--- Starts spec/support/rawserver.lua (a scripted LuaSocket HTTP/1.1 server) in
-- another process, for specs that need a peer misbehaving byte by byte.
--
--   local rawpeer = require("spec.support.rawpeer")
--   local peer = rawpeer.start{ { { parts = { "HTTP/1.1 200 OK\r\n", 0.5, ... } } } }
--   peer.url  peer.log()  peer.requests()  peer.sent()  peer.stop()
--
-- The scenario is rawserver.lua's: a list of connections, each a list of steps.
local socket = require("socket")

local M = {}

local function serialize(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local out = {}
  for k, x in pairs(v) do out[#out + 1] = "[" .. serialize(k) .. "]=" .. serialize(x) end
  return "{" .. table.concat(out, ",") .. "}"
end

--- The Lua that runs the server: lua5.4 when there, else the one running busted.
local function interpreter()
  local ok = os.execute("command -v lua5.4 >/dev/null 2>&1")
  if ok == true or ok == 0 then return "lua5.4" end
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  return arg and arg[i] or "lua"
end

function M.start(scenario)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local sc = dir .. "/scenario.lua"
  local f = assert(io.open(sc, "w"))
  f:write("return ", serialize(scenario), "\n")
  f:close()
  local portfile, logfile = dir .. "/port", dir .. "/log"
  assert(os.execute(("%s spec/support/rawserver.lua %s %s %s >/dev/null 2>&1 &"):format(
    interpreter(), sc, portfile, logfile)))
  local port
  for _ = 1, 250 do
    local p = io.open(portfile)
    if p then port = p:read("*a"); p:close(); break end
    socket.sleep(0.02)
  end
  assert(port, "the raw server did not start")
  local s = { url = "http://127.0.0.1:" .. port, port = tonumber(port) }
  function s.log()
    local lines = {}
    local lf = io.open(logfile)
    if not lf then return lines end
    for l in lf:lines() do lines[#lines + 1] = l end
    lf:close()
    return lines
  end
  function s.requests() -- the request lines: "<conn> <method> <target> <len>"
    local out = {}
    for _, l in ipairs(s.log()) do
      if l:match("^%d+ ") then out[#out + 1] = l end
    end
    return out
  end
  function s.sent() -- bytes of each { rep = } part, once the server logged them
    local out = {}
    for _, l in ipairs(s.log()) do
      local n = l:match("^sent (%d+)$")
      if n then out[#out + 1] = tonumber(n) end
    end
    return out
  end
  function s.stop()
    os.execute("rm -rf " .. dir)
  end
  return s
end

return M
