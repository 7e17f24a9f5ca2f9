-- A minimal forward proxy for the network specs: absolute-form HTTP requests
-- and CONNECT tunnels, to 127.0.0.1 only. One connection at a time is plenty
-- for one client with keep-alive.
-- Usage: lua spec/support/proxy.lua <port-file> <log-file>
-- Writes its port to <port-file>; appends each connection's first line to <log-file>.
local socket = require("socket")

local port_file, log_file = arg[1], arg[2]
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local f = assert(io.open(port_file, "w")); f:write(port, "\n"); f:close()

local function log(line)
  local l = assert(io.open(log_file, "a")); l:write(line, "\n"); l:close()
end

-- Copies bytes both ways until either side closes.
local function pump(a, b)
  a:settimeout(0); b:settimeout(0)
  local peer = { [a] = b, [b] = a }
  while true do
    local readable = socket.select({ a, b }, nil, 30)
    if #readable == 0 then return end
    for _, s in ipairs(readable) do
      local data, err, partial = s:receive(8192)
      data = data or partial
      if data and #data > 0 then peer[s]:settimeout(5); peer[s]:send(data); peer[s]:settimeout(0) end
      if err == "closed" then return end
    end
  end
end

while true do
  local client = server:accept()
  client:settimeout(5)
  local line = client:receive("*l")
  if line then
    log(line)
    local method, target = line:match("^(%u+) (%S+)")
    local host, p
    if method == "CONNECT" then
      host, p = target:match("^([^:]+):(%d+)$")
    else
      host, p = target:match("^http://([^:/]+):(%d+)/")
    end
    if host ~= "127.0.0.1" and host ~= "localhost" then
      client:send("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    else
      local up = socket.tcp()
      up:settimeout(5)
      if not up:connect("127.0.0.1", tonumber(p)) then
        client:send("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
      elseif method == "CONNECT" then
        repeat local h = client:receive("*l") until not h or h == ""
        client:send("HTTP/1.1 200 Connection established\r\n\r\n")
        pump(client, up)
      else
        up:send(line .. "\r\n")
        pump(client, up)
      end
      up:close()
    end
  end
  client:close()
end
