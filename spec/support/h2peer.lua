--- Starts spec/support/h2server.py (Debian's python3-h2) in another process:
-- an HTTP/2 peer over TLS that can refuse a connection's streams with a GOAWAY.
--
--   local h2peer = require("spec.support.h2peer")
--   if h2peer.available() then
--     local peer = h2peer.start{ goaway = 1, max_streams = 1 }  -- both optional
--     peer.url  peer.ca_file  peer.events()  peer.stop()
--   end
--
-- peer.events() parses the server's log: { opened = n, recv = { {conn, stream,
-- method, path, model} ... }, answered = { ... }, goaway = { {conn, refused} },
-- refused = { {conn, stream} } (RST_STREAM past max_streams),
-- peak = { [conn] = most streams open at once } }.
local socket = require("socket")
local util = require("spec.support.util")

local M = {}

-- Debian's interpreter: python3-h2 lives in its dist-packages, and a python3
-- earlier in PATH (pyenv, a venv) would not see it
local PYTHON = "/usr/bin/python3"

--- Whether the server can run (python3-h2 installed; .ci/deps installs it).
function M.available()
  local ok = os.execute(PYTHON .. " -c 'import h2.connection' >/dev/null 2>&1")
  return ok == true or ok == 0
end

function M.start(opts)
  opts = opts or {}
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. util.q(dir)))
  local ca, cert, key = util.make_ca_and_cert(dir, "h2peer local CA")
  local portfile, logfile = dir .. "/port", dir .. "/log"
  local extra = ""
  if opts.goaway then extra = extra .. " goaway=" .. math.floor(opts.goaway) end
  if opts.max_streams then extra = extra .. " max_streams=" .. math.floor(opts.max_streams) end
  if opts.delay_ms then extra = extra .. " delay_ms=" .. math.floor(opts.delay_ms) end
  assert(os.execute(("%s spec/support/h2server.py %s %s %s %s%s >/dev/null 2>%s &"):format(
    PYTHON, util.q(portfile), util.q(logfile), util.q(cert), util.q(key), extra,
    util.q(dir .. "/stderr"))))
  local port, pid
  for _ = 1, 500 do
    local data = util.read_file(portfile)
    if data then port, pid = data:match("^(%d+) (%d+)$") end
    if port then break end
    socket.sleep(0.02)
  end
  assert(port, "the h2 server did not start: " .. util.tail(dir .. "/stderr"))
  local s = { url = "https://127.0.0.1:" .. port, port = tonumber(port), ca_file = ca, dir = dir }
  function s.events()
    local ev = { opened = 0, recv = {}, answered = {}, goaway = {}, refused = {}, peak = {} }
    for l in (util.read_file(logfile) or ""):gmatch("[^\n]+") do
      local kind, rest = l:match("^(%a+) (.*)$")
      local f = {}
      for w in (rest or ""):gmatch("%S+") do f[#f + 1] = tonumber(w) or w end
      if kind == "open" then
        ev.opened = ev.opened + 1
      elseif kind == "recv" then
        ev.recv[#ev.recv + 1] = { conn = f[1], stream = f[2], method = f[3], path = f[4], model = f[5] }
      elseif kind == "answered" then
        ev.answered[#ev.answered + 1] = { conn = f[1], stream = f[2], status = f[3] }
      elseif kind == "goaway" then
        ev.goaway[#ev.goaway + 1] = { conn = f[1], refused = f[2] }
      elseif kind == "refused" then
        ev.refused[#ev.refused + 1] = { conn = f[1], stream = f[2] }
      elseif kind == "peak" then
        ev.peak[f[1]] = f[2]
      end
    end
    return ev
  end
  local stopped = false
  function s.stop()
    if stopped then return end
    stopped = true
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.execute("rm -rf " .. util.q(dir))
  end
  return s
end

return M
