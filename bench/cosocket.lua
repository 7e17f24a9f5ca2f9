-- The module inside nginx: worker CPU per call on the cosocket transport
-- against a hand-written cosocket client doing the least a careful one must
-- (bench/cosocket_worker.lua says what, call for call), in one nginx worker
-- (LuaJIT), against the canned server over plain HTTP/1.1 on kept-alive
-- pooled connections.
--
--   lua5.4 bench/cosocket.lua [LUA_DIR] [BUILD_DIR] [N] [ROUNDS]
--
-- For each operation, ROUNDS (default 5) rounds of N (default 2000) calls per
-- implementation, interleaved; each round is one request to the bench's
-- nginx, which makes the N calls and answers the CPU seconds they took
-- (os.clock in the worker). Reported: the median per call, and module /
-- floor. "module" reuses one client; "module-new" makes and closes a client
-- per call (a client per request).
-- BENCH_COUNT=1: instead, user-space instructions per call (callgrind on a
-- one-process nginx, which takes no machine noise; blind to the kernel):
-- each implementation's calls counted in a run of N/10 and one of N/5, the
-- difference per call, so that start-up, loading and JIT compiling cancel.
-- BENCH_COUNT_KEEP=DIR keeps each callgrind profile there as IMPL.OP.N.
-- BENCH_PROFILE=FILE: instead, LuaJIT's profiler (jit.p, by function, with
-- the call stack) over one long run of each module implementation, to FILE.impl.op.
-- RESULT lines: `RESULT cosocket op=OP impl=IMPL us_per_call= floor_us= ratio=`.
local lua_dir = arg[1] or "lua"
local build = arg[2] or "build"
local N = tonumber(arg[3]) or 2000
local ROUNDS = tonumber(arg[4]) or 5

package.path = "./?.lua;./bench/?.lua;" .. lua_dir .. "/?.lua;" .. package.path
local util = require("spec.support.util")
local server = require("spec.support.openresty.server")
local canned = require("canned")
local socket = require("socket")

local ROOT = server.root()
local TOKEN = "dapi-bench-token"
local OPS = { "create", "delete", "mlflow-create", "mlflow-delete" }
local IMPLS = { "floor", "module", "module-new" }

local CONF = [[
@LOAD_MODULES@
@USER@
@PROCESS@
pid @PREFIX@/logs/nginx.pid;
error_log @PREFIX@/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    @TEMP_PATHS@
    lua_package_path "@LUA_DIR@/?.lua;@ROOT@/bench/?.lua;;";
    lua_package_cpath "@BUILD@/luajit/?.so;@LUA_CPATH@;;";
    lua_socket_log_errors off;
    # pooled connections idle this long at most: a one-process nginx under
    # callgrind (BENCH_COUNT) exits only when its pool has emptied
    lua_socket_keepalive_timeout 2s;
    init_by_lua_block { require("cosocket_worker") }
    server {
        listen 127.0.0.1:@PORT@;
        location = /run { content_by_lua_block {
            local a = ngx.req.get_uri_args()
            local ok, per_call = pcall(require("cosocket_worker").run, a.impl, a.op, tonumber(a.n),
                tonumber(a.port), a.token, a.profile)
            if not ok then ngx.status = 500 end
            ngx.say(tostring(per_call))
        } }
    }
}
]]

local function abs(dir) return dir:sub(1, 1) == "/" and dir or (ROOT .. "/" .. dir) end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- An nginx (master and workers, from its pid file) on one CPU, at nice -10
-- as root, as bench/bench.lua pins its servers. BENCH_PIN=0: not.
local function pin(prefix, cpu)
  local _, nproc = util.run("nproc")
  local master = tonumber((util.read_file(prefix .. "/logs/nginx.pid") or ""):match("%d+"))
  if not master then return end
  local pids = util.child_pids(master)
  pids[#pids + 1] = master
  local _, uid = util.run("id -u")
  for _, pid in ipairs(pids) do
    if os.getenv("BENCH_PIN") ~= "0" and (tonumber(util.trim(nproc)) or 1) >= 2 then
      util.run(("taskset -a -p -c %d %d >/dev/null 2>&1"):format(cpu, pid))
    end
    if util.trim(uid) == "0" then util.run("renice -n -10 -p " .. pid .. " >/dev/null 2>&1") end
  end
end

local function get(port, target)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(600)
  assert(c:send("GET " .. target .. " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"))
  local text = c:receive("*a")
  c:close()
  local status, body = text:match("^HTTP/1%.%d (%d+).-\r\n\r\n(.*)$")
  if status ~= "200" then error("the bench's nginx answered " .. tostring(status) .. ": " .. tostring(body)) end
  return util.trim(body)
end

local function conf(port, prefix, process)
  return util.fill(CONF, { LOAD_MODULES = server.load_modules(), USER = server.user_line(),
    TEMP_PATHS = server.temp_paths(prefix), PREFIX = prefix, LUA_DIR = abs(lua_dir), ROOT = ROOT,
    BUILD = abs(build), LUA_CPATH = server.lua_cpath(), PORT = tostring(port), PROCESS = process },
    "bench/cosocket")
end

local function sh(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

-- Instructions of a one-process nginx (under callgrind) that makes n calls.
local function instructions(prefix, port, canned_port, impl, op, n)
  local out = prefix .. "/callgrind.out"
  os.remove(out)
  assert(sh(("valgrind --tool=callgrind --callgrind-out-file=%s %s -p %s/ -c %s/conf/nginx.conf"
    .. " >%s/logs/valgrind.log 2>&1 & echo $! >%s/valgrind.pid"):format(out, os.getenv("BENCH_NGINX")
    or "/usr/sbin/nginx", prefix, prefix, prefix, prefix)))
  local up = false
  for _ = 1, 600 do
    local c = socket.connect("127.0.0.1", port)
    if c then c:close() up = true break end
    socket.sleep(0.1)
  end
  assert(up, "nginx under callgrind did not start: " .. tostring(util.tail(prefix .. "/logs/valgrind.log", 20)))
  get(port, ("/run?impl=%s&op=%s&n=%d&port=%d&token=%s"):format(impl, op, n, canned_port, TOKEN))
  local pid = util.trim(util.read_file(prefix .. "/valgrind.pid") or "")
  sh("kill -TERM " .. pid)
  for _ = 1, 600 do
    local text = util.read_file(out)
    local total = text and (text:match("\nsummary: (%d+)") or text:match("\ntotals: (%d+)"))
    if total and not util.nginx_running(prefix) then
      local keep = os.getenv("BENCH_COUNT_KEEP") -- a directory: each profile kept there as IMPL.OP.N
      if keep then sh(("cp %s %s"):format(util.q(out), util.q(("%s/%s.%s.%d"):format(keep, impl, op, n)))) end
      return tonumber(total)
    end
    socket.sleep(0.1)
  end
  error("no callgrind totals in " .. out)
end

local function count_mode(canned_port)
  local prefix = abs("bench/out/cosocket-count")
  assert(sh("mkdir -p " .. util.q(prefix .. "/conf") .. " " .. util.q(prefix .. "/logs") .. " "
    .. util.q(prefix .. "/tmp")))
  local port = server.free_port()
  util.write_file(prefix .. "/conf/nginx.conf", conf(port, prefix, "master_process off;\ndaemon off;"))
  local n1 = math.max(20, math.floor(N / 10))
  local n2 = 2 * n1
  print(("cosocket: user-space instructions per call (callgrind, one-process nginx, LuaJIT; runs of %d and %d"
    .. " calls):"):format(n1, n2))
  for _, op in ipairs(OPS) do
    local per = {}
    for _, impl in ipairs(IMPLS) do
      per[impl] = (instructions(prefix, port, canned_port, impl, op, n2)
        - instructions(prefix, port, canned_port, impl, op, n1)) / (n2 - n1)
    end
    for _, impl in ipairs(IMPLS) do
      print(("cosocket:   %-14s %-11s %9.0f instructions/call  %.2fx the floor"):format(op, impl, per[impl],
        per[impl] / per.floor))
      print(("RESULT cosocket-count op=%s impl=%s instructions=%.0f floor=%.0f ratio=%.3f"):format(op, impl,
        per[impl], per.floor, per[impl] / per.floor))
    end
  end
end

local canned_srv = canned.start{ prefix = "bench/out/cosocket-canned" }
local canned_port = canned_srv.port
local srv
local ok, err = pcall(function()
  if os.getenv("BENCH_COUNT") == "1" then return count_mode(canned_port) end
  srv = server.start_conf({
    conf = function(port, prefix) return conf(port, prefix, "worker_processes 1;\ndaemon on;") end,
  })
  -- the worker measured on the last CPU, the canned server on the first
  local _, nproc = util.run("nproc")
  pin(srv.prefix, math.max(0, (tonumber(util.trim(nproc)) or 1) - 1))
  pin(canned_srv.prefix, 0)
  local function run(impl, op, n, profile)
    local per = get(srv.port, ("/run?impl=%s&op=%s&n=%d&port=%d&token=%s%s"):format(impl, op, n, canned_port,
      TOKEN, profile and ("&profile=" .. abs(profile)) or ""))
    return assert(tonumber(per), per)
  end
  local profile = os.getenv("BENCH_PROFILE")
  if profile then
    for _, op in ipairs(OPS) do
      for _, impl in ipairs({ "module", "module-new" }) do
        run(impl, op, N)
        run(impl, op, N * ROUNDS, profile .. "." .. impl .. "." .. op)
      end
    end
    return
  end
  print(("cosocket: one nginx worker (LuaJIT), plain HTTP/1.1 to the canned server, pooled connections,"
    .. " %d rounds of %d calls, worker CPU per call (median):"):format(ROUNDS, N))
  for _, op in ipairs(OPS) do
    local us = {}
    for _, impl in ipairs(IMPLS) do
      run(impl, op, math.max(200, math.floor(N / 4))) -- JIT traces, pooled connections
      us[impl] = {}
    end
    for _ = 1, ROUNDS do
      for _, impl in ipairs(IMPLS) do table.insert(us[impl], run(impl, op, N) * 1e6) end
    end
    local floor = median(us.floor)
    for _, impl in ipairs(IMPLS) do
      local m = median(us[impl])
      print(("cosocket:   %-14s %-11s %7.1f us/call  %.2fx the floor"):format(op, impl, m, m / floor))
      print(("RESULT cosocket op=%s impl=%s us_per_call=%.2f floor_us=%.2f ratio=%.3f"):format(op, impl, m,
        floor, m / floor))
    end
  end
end)
if srv then srv:stop() end
canned_srv:stop()
if not ok then
  io.stderr:write("cosocket: ", tostring(err), "\n")
  os.exit(1)
end
