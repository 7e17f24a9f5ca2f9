-- The nginx delivery receiver's cost in one worker: CPU per request of
-- `receiver.handle` on open-source MLflow deliveries (signature over
-- id.timestamp.body, freshness, envelope parse, de-duplication on the
-- delivery id in a lua_shared_dict) and on Databricks ones (signature over
-- the body, de-duplication on its digest), against a bare handler that reads
-- the body and answers 200 OK the same way.
--
--   lua5.4 bench/receiver.lua [LUA_DIR] [BUILD_DIR] [N] [ROUNDS]
--
-- One nginx, `worker_processes 1`, loads the LuaJIT build (BUILD_DIR/luajit,
-- default build/luajit). After 1000 requests to each location to warm up,
-- the client sends ROUNDS (default 5) rounds of N (default 10000) deliveries
-- to each location in turn, over one kept-alive connection, each with its own
-- delivery id, signed before the round starts (so that none is a duplicate
-- and the client does no crypto while measured). The figure is the worker's CPU
-- (utime + stime from /proc, read before and after) per request: what bounds
-- a worker's throughput; the median of the rounds is reported. `ratio` is bare / location, i.e. the throughput the
-- receiver keeps of a bare handler's (target >= 0.7). The wall-clock rate of
-- this one sequential client is printed too, for information.
-- Both over one kept-alive connection and with a new connection per request
-- (N / 4 of them; what a sender without a connection pool costs the worker).
-- RESULT lines: `RESULT receiver api=K conn=keepalive|fresh us_per_req= bare_us= ratio= rps=`.
local lua_dir = arg[1] or "lua"
local build = arg[2] or "build"
local N = tonumber(arg[3]) or 10000
local ROUNDS = tonumber(arg[4]) or 5
local WARM = 1000

package.path = "./?.lua;" .. lua_dir .. "/?.lua;" .. package.path
local version = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
package.cpath = build .. "/" .. version .. "/?.so;" .. package.cpath
local util = require("spec.support.util")
local server = require("spec.support.openresty.server")
local webhooks = require("databricks.webhooks")
local socket = require("socket")

local SECRET = "whsec-bench-receiver-0123456789"
local ROOT = server.root()

local CONF = [[
@LOAD_MODULES@
@USER@
worker_processes 1;
daemon on;
pid @PREFIX@/logs/nginx.pid;
error_log @PREFIX@/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    @TEMP_PATHS@
    keepalive_requests 1000000;
    lua_package_path "@LUA_DIR@/?.lua;;";
    lua_package_cpath "@BUILD@/luajit/?.so;@LUA_CPATH@;;";
    lua_shared_dict seen 128m;   # every delivery of the run stays in it
    init_by_lua_block { require("databricks.webhooks.receiver") }
    server {
        listen 127.0.0.1:@PORT@;
        # the same answer as the receiver's: status, two headers, "OK\n"
        location = /bare { content_by_lua_block {
            ngx.req.read_body()
            local body = ngx.req.get_body_data() or ""
            ngx.status = 200
            ngx.header["Content-Type"] = "text/plain"
            ngx.header["Cache-Control"] = "no-store"
            ngx.print(#body > 0 and "OK" or "", "\n")
        } }
        location = /mlflow { content_by_lua_block {
            local receiver = require("databricks.webhooks.receiver")
            local seen = receiver.seen_in(ngx.shared.seen, 660)
            receiver.handle{ api = "mlflow", secret = "@SECRET@", is_duplicate = seen.is_duplicate,
                forget = seen.forget, on_event = function() end }
        } }
        # the receiver's verification alone: signature, freshness and parse, no de-dup store
        location = /mlflow-verify { content_by_lua_block {
            require("databricks.webhooks.receiver").handle{ api = "mlflow", secret = "@SECRET@",
                on_event = function() end }
        } }
        location = /databricks { content_by_lua_block {
            local receiver = require("databricks.webhooks.receiver")
            local seen = receiver.seen_in(ngx.shared.seen, 660)
            receiver.handle{ api = "databricks", secret = "@SECRET@", max_age = 300,
                is_duplicate = seen.is_duplicate, forget = seen.forget, on_event = function() end }
        } }
    }
}
]]

-- An MLflow delivery as json.dumps writes it (about 280 bytes).
local MLFLOW_BODY = '{"entity": "model_version", "action": "created", "timestamp": '
  .. '"2026-12-07T02:14:38.066678+00:00", "data": {"name": "churn-model", "version": "12", '
  .. '"source": "models:/m-0123456789abcdef", "run_id": "0123456789abcdef0123456789abcdef", '
  .. '"tags": {}, "description": null}}'

local function databricks_body(i)
  return ('{"event": "MODEL_VERSION_CREATED", "webhook_id": "0123456789abcdef0123456789abcdef", '
    .. '"event_timestamp": %d, "model_name": "churn-model", "version": "12", "text": "n%d"}')
    :format(math.floor(socket.gettime() * 1000), i)
end

local function request(path, headers, body)
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
    "Content-Length: " .. #body }
  for _, h in ipairs(headers) do lines[#lines + 1] = h end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

-- n ready-to-send requests for a location; every delivery is a new one.
local serial = 0
local function requests(kind, n)
  local out = {}
  local ts = tostring(os.time())
  for i = 1, n do
    serial = serial + 1
    if kind == "mlflow" or kind == "mlflow-verify" then
      local id = ("%08x-0000-4000-8000-%012x"):format(os.time() % 0x7fffffff, serial)
      out[i] = request("/" .. kind, { "X-MLflow-Delivery-Id: " .. id, "X-MLflow-Timestamp: " .. ts,
        "X-MLflow-Signature: " .. webhooks.sign_mlflow(SECRET, id, ts, MLFLOW_BODY) }, MLFLOW_BODY)
    elseif kind == "databricks" then
      local body = databricks_body(serial)
      out[i] = request("/databricks", { "X-Databricks-Signature: " .. webhooks.sign(SECRET, body) }, body)
    else
      -- the bare handler gets the MLflow request's size and headers
      out[i] = request("/bare", { "X-MLflow-Delivery-Id: 00000000-0000-4000-8000-000000000000",
        "X-MLflow-Timestamp: " .. ts, "X-MLflow-Signature: v1," .. string.rep("A", 43) .. "=" },
        MLFLOW_BODY)
    end
  end
  return out
end

-- Sends each request and reads each answer (Content-Length or chunked): all
-- on one kept-alive connection, or (fresh) each on a new one.
local function drive(port, reqs, fresh)
  local c
  for i = 1, #reqs do
    if not c then
      c = assert(socket.connect("127.0.0.1", port))
      c:setoption("tcp-nodelay", true)
      c:settimeout(10)
    end
    assert(c:send(fresh and reqs[i]:gsub("\r\n", "\r\nConnection: close\r\n", 1) or reqs[i]))
    local status = assert(c:receive("*l"))
    local len
    while true do
      local line = assert(c:receive("*l"))
      if line == "" then break end
      local v = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
      if v then len = tonumber(v) end
      if line:lower():find("^transfer%-encoding: chunked") then len = nil end
    end
    local body
    if len then
      body = c:receive(len)
    else -- chunked: one chunk and the last
      local size = tonumber(assert(c:receive("*l")), 16)
      body = c:receive(size)
      c:receive("*l")
      c:receive("*l")
      c:receive("*l")
    end
    if not status:find(" 200 ", 1, true) or body ~= "OK\n" then
      error(("request %d answered %s %s"):format(i, status, tostring(body)))
    end
    if fresh then
      c:close()
      c = nil
    end
  end
  if c then c:close() end
end

-- The worker's utime + stime, in seconds (clock ticks of 1/100 s).
local function worker_cpu(pid)
  local f = assert(io.open("/proc/" .. pid .. "/stat"))
  local line = f:read("*l")
  f:close()
  local rest = line:match("^%d+ %b() (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local function worker_pid(prefix)
  local master = util.trim(assert(util.read_file(prefix .. "/logs/nginx.pid")))
  -- The master accepts on its socket before it has forked its worker.
  for _ = 1, 100 do
    local kids = util.child_pids(master)
    if kids[1] then return tostring(kids[1]) end
    socket.sleep(0.05)
  end
  error("no nginx worker")
end

local srv = server.start_conf({
  conf = function(port, prefix)
    return util.fill(CONF, { LOAD_MODULES = server.load_modules(), USER = server.user_line(),
      TEMP_PATHS = server.temp_paths(prefix), PREFIX = prefix,
      LUA_DIR = lua_dir:sub(1, 1) == "/" and lua_dir or (ROOT .. "/" .. lua_dir),
      BUILD = build:sub(1, 1) == "/" and build or (ROOT .. "/" .. build), LUA_CPATH = server.lua_cpath(),
      PORT = tostring(port), SECRET = SECRET }, "bench/receiver")
  end,
})
local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- The worker on the first CPU (at nice -10 as root), as bench/bench.lua pins
-- its servers; bench.lua runs this script on the last one. BENCH_PIN=0: not.
local function pin(pid)
  local _, nproc = util.run("nproc")
  if os.getenv("BENCH_PIN") ~= "0" and (tonumber(util.trim(nproc)) or 1) >= 2 then
    util.run("taskset -a -p -c 0 " .. pid .. " >/dev/null 2>&1")
  end
  local _, uid = util.run("id -u")
  if util.trim(uid) == "0" then util.run("renice -n -10 -p " .. pid .. " >/dev/null 2>&1") end
end

-- 0 when too few clock ticks were counted to tell
local function ratio(bare, us) return us > 0 and bare / us or 0 end

local KINDS = { "bare", "mlflow", "mlflow-verify", "databricks" }
local MODES = { { "keepalive", false, "one kept-alive connection" },
  { "fresh", true, "a new connection per request" } }
local ok, err = pcall(function()
  local pid = worker_pid(srv.prefix)
  pin(pid)
  for _, mode in ipairs(MODES) do
    local name, fresh, label = mode[1], mode[2], mode[3]
    local n = fresh and math.max(1, math.floor(N / 4)) or N -- connections are slower
    local us, rps = {}, {}
    for _, kind in ipairs(KINDS) do
      drive(srv.port, requests(kind, WARM), fresh) -- JIT traces, shared dict, connections
      us[kind], rps[kind] = {}, {}
    end
    -- rounds interleave the locations, so that a slow moment of the machine
    -- hits all of them; the median of the rounds is reported
    for _ = 1, ROUNDS do
      for _, kind in ipairs(KINDS) do
        local reqs = requests(kind, n)
        local cpu0, t0 = worker_cpu(pid), socket.gettime()
        drive(srv.port, reqs, fresh)
        local cpu, wall = worker_cpu(pid) - cpu0, socket.gettime() - t0
        table.insert(us[kind], cpu / n * 1e6)
        table.insert(rps[kind], n / wall)
      end
    end
    local results = {}
    for _, kind in ipairs(KINDS) do results[kind] = { us = median(us[kind]), rps = median(rps[kind]) } end
    local bare = results.bare.us
    print(("receiver: one nginx worker (LuaJIT), %s, %d rounds of %d requests per location, worker CPU"
      .. " per request (median):"):format(label, ROUNDS, n))
    for _, kind in ipairs(KINDS) do
      local r = results[kind]
      print(("receiver:   %-13s %7.1f us/req  ratio %.2fx  (one sequential client: %.0f req/s)")
        :format(kind, r.us, ratio(bare, r.us), r.rps))
    end
    for _, kind in ipairs({ "mlflow", "mlflow-verify", "databricks" }) do
      local r = results[kind]
      print(("RESULT receiver api=%s conn=%s us_per_req=%.2f bare_us=%.2f ratio=%.3f rps=%.0f")
        :format(kind, name, r.us, bare, ratio(bare, r.us), r.rps))
    end
  end
end)
srv:stop()
if not ok then
  io.stderr:write("receiver: ", tostring(err), "\n")
  os.exit(1)
end
