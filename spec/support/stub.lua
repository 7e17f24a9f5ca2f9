-- Starts spec/support/rawserver.lua with a handler, in another process (the
-- client under test blocks in C, so the server cannot share its process).
--
--   local stub = require("spec.support.stub")
--   local s = stub.start([[return function(req, n) return stub_response(200, "{}") end]])
--   s.url, s.port, s:requests() -> { "GET /path", ... }, s:stop()
--
-- The handler source may call response(status, body[, headers]) to build an answer.
local socket = require("socket")

local M = {}

local PRELUDE = [[
local function response(status, body, headers)
  local h = { "HTTP/1.1 " .. status .. " X", "Content-Length: " .. #body, "Connection: close",
    "Content-Type: application/json" }
  for _, line in ipairs(headers or {}) do h[#h + 1] = line end
  return table.concat(h, "\r\n") .. "\r\n\r\n" .. body
end
]]

local Stub = {}
Stub.__index = Stub

function Stub:requests()
  local out, f = {}, io.open(self.log)
  if not f then return out end
  for line in f:lines() do out[#out + 1] = line end
  f:close()
  return out
end

function Stub:stop()
  if self.stopped then return end
  self.stopped = true
  local c = socket.connect("127.0.0.1", self.port)
  if c then
    c:settimeout(5)
    c:send("GET /__stop HTTP/1.1\r\nHost: x\r\n\r\n")
    c:receive("*a")
    c:close()
  end
  os.remove(self.handler)
  os.remove(self.portfile)
  os.remove(self.log)
end

function M.start(source)
  local base = os.tmpname()
  local self = setmetatable({ handler = base .. ".lua", portfile = base .. ".port", log = base .. ".log" }, Stub)
  os.remove(base)
  local f = assert(io.open(self.handler, "w"))
  f:write(PRELUDE, source)
  f:close()
  assert(os.execute(("lua5.4 spec/support/rawserver.lua %s %s %s >/dev/null 2>&1 &")
    :format(self.handler, self.portfile, self.log)))
  for _ = 1, 200 do
    local p = io.open(self.portfile)
    if p then
      self.port = tonumber(p:read("*a"))
      p:close()
      break
    end
    socket.sleep(0.025)
  end
  assert(self.port, "stub server did not start")
  self.url = "http://127.0.0.1:" .. self.port
  return self
end

return M
