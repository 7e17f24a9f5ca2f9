--- The nginx side of bench/cosocket.lua: runs N calls in the current request
-- and answers the worker's CPU seconds per call (os.clock, which counts this
-- worker process only). Loaded by the bench's own nginx (LuaJIT).
--
-- impl "module": one client (`webhooks.new`, the cosocket transport) for all
-- N calls; "module-new": a client made and closed per call (a client per
-- request); "floor": what a careful hand-written cosocket client does per
-- call and no more: cjson.encode the body, the request line and headers from
-- a table, connect from nginx's pool, one send, the status line and header
-- lines read with their names lowercased, a Content-Length body,
-- setkeepalive, cjson.decode (the work of lua-resty-http + cjson, which
-- Debian does not package).
local webhooks = require("databricks.webhooks")
local core = require("databricks.webhooks.core")
local workload = require("workload")
local cjson = require("cjson")

local M = {}

local HEADERS = { "Accept", "Authorization", "User-Agent", "Content-Type" }

local function floor_call(port, values, method, target, body_table)
  local body = body_table and cjson.encode(body_table) or nil
  local out = { method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port, "\r\n" }
  for _, name in ipairs(HEADERS) do
    if name ~= "Content-Type" or body then
      out[#out + 1] = name .. ": " .. values[name] .. "\r\n"
    end
  end
  if body then out[#out + 1] = "Content-Length: " .. #body .. "\r\n" end
  out[#out + 1] = "\r\n"
  if body then out[#out + 1] = body end

  local sock = ngx.socket.tcp()
  sock:settimeout(10000)
  assert(sock:connect("127.0.0.1", port))
  assert(sock:send(out))
  local status_line = assert(sock:receive("*l"))
  local status = tonumber(status_line:sub(10, 12))
  local headers = {}
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    local colon = line:find(":", 1, true)
    headers[line:sub(1, colon - 1):lower()] = line:sub(colon + 1):gsub("^%s+", "")
  end
  local len = tonumber(headers["content-length"]) or 0
  local text = len > 0 and assert(sock:receive(len)) or ""
  sock:setkeepalive(nil, 16) -- lua_socket_keepalive_timeout, as the module's transport
  assert(status == 200, status_line)
  return text ~= "" and cjson.decode(text) or {}
end

-- The floor's request for op: method, target, the Lua table its body encodes.
local function floor_request(op, sink)
  local method, target, body = workload.http(op, "@ID@", sink)
  target = target:gsub("@ID@", ("%032x"):format(1))
  return method, target, body and cjson.decode(body) or nil
end

local function module_call(client, op, req)
  local method = workload.METHOD[op]
  local res, err = client[method](client, req)
  if not res then error("module " .. op .. ": " .. tostring(err and err.message or err)) end
  return res
end

--- CPU seconds per call of `impl` doing `op` n times against the canned
-- server at 127.0.0.1:port; with `profile`, under jit.p writing to that file.
function M.run(impl, op, n, port, token, profile)
  local url = "http://127.0.0.1:" .. port
  local api = workload.api(op)
  local sink = url .. "/__control/sink"
  local req = workload.request(op, ("%032x"):format(1), sink)
  local opts = { host = url, token = token, api = api == "mlflow" and "mlflow" or nil, retry_timeout = 0 }
  local call
  if impl == "floor" then
    local values = { Accept = "application/json", Authorization = "Bearer " .. token,
      ["Content-Type"] = "application/json",
      ["User-Agent"] = workload.user_agent(core.curl_version, "luajit/2.1") }
    local method, target, body = floor_request(op, sink)
    call = function() return floor_call(port, values, method, target, body) end
  elseif impl == "module" then
    local client = assert(webhooks.new(opts))
    call = function() return module_call(client, op, req) end
  elseif impl == "module-new" then
    call = function()
      local client = assert(webhooks.new(opts))
      local res = module_call(client, op, req)
      client:close()
      return res
    end
  else
    error("unknown impl " .. tostring(impl))
  end
  local p = profile and require("jit.p")
  if p then p.start("Fi1", profile) end
  local t0 = os.clock()
  for _ = 1, n do call() end
  local per = (os.clock() - t0) / n
  if p then p.stop() end
  return per
end

return M
