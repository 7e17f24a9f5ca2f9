--- The benchmark driver: `make bench` -> bench/run -> lua5.4 bench/bench.lua.
--
-- Starts the canned nginx (plain HTTP/1.1, TLS + HTTP/1.1, TLS + HTTP/2
-- listeners), runs every client on every operation over every protocol it
-- speaks, RUNS times, each measurement in a fresh process, then the decode,
-- memory, valgrind, callgrind and concurrency checks; prints one table per
-- operation, writes bench/out/results.md (+ cpu_per_op.png) and ends with the
-- summary line. bench/README.md explains the method and how to read it.
--
-- Environment: BENCH_RUNS (default 5), BENCH_SCALE (multiplies call counts,
-- default 1), BENCH_PIN=0 (do not pin client and servers to separate CPUs),
-- BENCH_LUAJIT=0 (skip the LuaJIT clients), BENCH_VALGRIND=0, BENCH_CALLGRIND=0,
-- BENCH_CONCURRENCY=0, BENCH_PACE=0, BENCH_PARSE=0, BENCH_RECEIVER=0, BENCH_MEMORY_CALLS (default 200000),
-- BENCH_WORKSPACE=1 (also measure against the local workspace, plain HTTP).
-- bench/run builds a private snapshot of the module (BENCH_BUILD_DIR, with
-- the Lua sources copied to BENCH_LUA_DIR), so that edits and rebuilds made
-- while the benchmark runs cannot change what it measures halfway.
local BUILD_DIR = os.getenv("BENCH_BUILD_DIR") or "build"
local LUA_DIR = os.getenv("BENCH_LUA_DIR") or "./lua"
package.path = "./bench/?.lua;" .. LUA_DIR .. "/?.lua;./?.lua;" .. package.path
package.cpath = BUILD_DIR .. "/5.4/?.so;" .. package.cpath

local socket = require("socket")
local workload = require("workload")
local canned = require("canned")
local WITH_WORKSPACE = os.getenv("BENCH_WORKSPACE") == "1"
local workspace = WITH_WORKSPACE and require("spec.support.workspace") or nil
local TOKEN = "dapi-bench-token" -- the canned server accepts anything

local OUT = "bench/out"
local T_START = socket.gettime()

local function env_num(name, default)
  return tonumber(os.getenv(name) or "") or default
end
local RUNS = math.max(1, math.floor(env_num("BENCH_RUNS", 5)))
local SCALE = env_num("BENCH_SCALE", 1)
local MEMORY_CALLS = math.floor(env_num("BENCH_MEMORY_CALLS", 200000))
local MEMORY_CHECKPOINT = 10000
local VALGRIND_CALLS = 2000
-- The concurrency check: deletes, in flight at once, added latency (seconds).
local CONC_N, CONC_PARALLEL = 500, 32
-- The pace check: creates, in flight at once, the workspace's requests per second.
local PACE_N, PACE_PARALLEL, PACE_LIMIT = 500, 32, 50

local function scaled(n) return math.max(20, math.floor(n * SCALE + 0.5)) end
-- Calls per measurement: sized so that each takes a few tenths of a second.
local COUNTS = {
  canned = { create = scaled(2000), list = scaled(400), update = scaled(2000),
    delete = scaled(2000), test = scaled(2000), ["mlflow-create"] = scaled(2000),
    ["mlflow-list"] = scaled(400), ["mlflow-update"] = scaled(2000), ["mlflow-delete"] = scaled(2000),
    ["mlflow-test"] = scaled(2000) },
  workspace = { create = scaled(1500), list = scaled(500), update = scaled(1500),
    delete = scaled(1500), test = scaled(1500) },
}
local CLI_CALLS = math.max(10, math.floor(20 * math.min(SCALE, 1) + 0.5))
local WARMUP, CLI_WARMUP = 50, 2

------------------------------------------------------------------------------
-- small helpers

local util = require("spec.support.util")
local q = util.q

local function capture(cmd)
  local p = assert(io.popen(cmd .. "; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return out:gsub("__rc=%d+%s*$", ""), rc
end

local function trim(s) return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", "")) end

local read_file = util.read_file
local write_file = util.write_file
local exists = util.exists

local function have(cmd)
  local _, rc = capture("command -v " .. q(cmd) .. " >/dev/null 2>&1")
  return rc == 0
end

-- "RESULT k=v k=v" -> table (numbers converted)
local function parse_result(text, tag)
  for line in text:gmatch("[^\n]+") do
    local rest = line:match("^RESULT (.*)$")
    if rest and (not tag or rest:find("^" .. tag)) then
      local r = {}
      for k, v in rest:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
      return r
    end
  end
  return nil
end

local function median(list)
  local t = {}
  for _, v in ipairs(list) do t[#t + 1] = v end
  if #t == 0 then return nil end
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local function commas(n)
  local s = ("%d"):format(math.floor(n + 0.5))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function fmt_x(v, base)
  if not v or not base or base == 0 then return "" end
  local r = v / base
  return r >= 100 and (" (%.0fx)"):format(r) or (" (%.2fx)"):format(r)
end

local function fmt_us(v)
  if v >= 10000 then return commas(v) end
  if v >= 100 then return ("%.0f"):format(v) end
  return ("%.1f"):format(v)
end

local function say(fmt, ...)
  io.stdout:write((fmt):format(...), "\n")
  io.stdout:flush()
end

------------------------------------------------------------------------------
-- machine, versions

local function first_line(s) return trim((s or ""):match("[^\n]*")) end

local function machine()
  local cpuinfo = read_file("/proc/cpuinfo") or ""
  local meminfo = read_file("/proc/meminfo") or ""
  local m = {
    nproc = trim((capture("nproc"))),
    cpu = trim(cpuinfo:match("model name%s*:%s*([^\n]+)") or "unknown"),
    mhz = trim(cpuinfo:match("cpu MHz%s*:%s*([^\n]+)") or ""),
    mem = (tonumber(meminfo:match("MemTotal:%s*(%d+)")) or 0) / 1048576,
    kernel = trim((capture("uname -srm"))),
    os = trim((capture("(. /etc/os-release 2>/dev/null && echo \"$PRETTY_NAME\") || echo unknown"))),
    virt = trim((capture("systemd-detect-virt 2>/dev/null || true"))),
  }
  local core = require("databricks.webhooks.core")
  local cjson = require("cjson")
  local ssl_ok, ssl = pcall(require, "ssl")
  m.versions = {
    { "databricks-webhooks", (require("databricks.webhooks").VERSION) .. " @ "
      .. trim((capture("git rev-parse --short HEAD 2>/dev/null"))) .. (trim((capture(
      "git status --porcelain -- csrc lua 2>/dev/null | head -1"))) ~= "" and " (+ uncommitted changes)" or "") },
    { "Lua", first_line((capture("lua5.4 -v 2>&1"))) },
    { "LuaJIT", have("luajit") and first_line((capture("luajit -v 2>&1"))) or "not installed" },
    { "libcurl", core.curl_version .. " (" .. first_line((capture("curl --version 2>/dev/null"))) .. ")" },
    { "lua-cjson", tostring(cjson._VERSION) },
    { "LuaSocket", tostring(socket._VERSION) },
    { "LuaSec", ssl_ok and tostring(ssl._VERSION) or "not installed" },
    { "nginx", first_line((capture("/usr/sbin/nginx -v 2>&1"))) },
    { "C compiler", first_line((capture("cc --version 2>/dev/null"))) },
    { "valgrind", first_line((capture("valgrind --version 2>/dev/null"))) },
    { "gnuplot", have("gnuplot") and first_line((capture("gnuplot --version 2>/dev/null"))) or "not installed" },
  }
  return m
end

------------------------------------------------------------------------------
-- clients

local B54, BJIT = BUILD_DIR .. "/5.4", BUILD_DIR .. "/luajit"
local JIT_OK = os.getenv("BENCH_LUAJIT") ~= "0" and have("luajit")
  and exists(BJIT .. "/databricks/webhooks/core.so")

local ALL_CLIENTS = {
  { key = "module", label = "module (Lua 5.4)", lua = "lua5.4", impl = "module", build = B54 },
  { key = "module-jit", label = "module (LuaJIT)", lua = "luajit", impl = "module",
    build = BJIT, jit = true },
  { key = "floor", label = "floor (C + libcurl)", bin = OUT .. "/floor" },
  { key = "luasocket", label = "LuaSocket client (Lua 5.4)", lua = "lua5.4", impl = "luasocket",
    build = B54, h1_only = true, databricks_only = true },
  { key = "luasocket-jit", label = "LuaSocket client (LuaJIT)", lua = "luajit", impl = "luasocket",
    build = BJIT, jit = true, h1_only = true, databricks_only = true },
  { key = "curl", label = "curl command per call", bin = OUT .. "/curl_cli", cli = true },
}
local CLIENTS, BY_KEY = {}, {}
for _, c in ipairs(ALL_CLIENTS) do
  if not c.jit or JIT_OK then
    CLIENTS[#CLIENTS + 1] = c
    BY_KEY[c.key] = c
  end
end

-- Client processes run on the last CPU, servers on the first, so neither
-- steals the other's core (BENCH_PIN=0 turns this off).
local NPROC = tonumber(trim((capture("nproc")))) or 1
local PIN = os.getenv("BENCH_PIN") ~= "0" and NPROC >= 2 and have("taskset")
local CLIENT_CPU = NPROC - 1
-- As root, clients and servers also run at a higher priority (nice -10), so
-- unrelated work on the machine disturbs them less.
local ROOT = trim((capture("id -u"))) == "0"
local PIN_PREFIX = (ROOT and "nice -n -10 " or "") .. (PIN and ("taskset -c " .. CLIENT_CPU .. " ") or "")

local function pin_server(pidfile)
  local master = tonumber((read_file(pidfile) or ""):match("%d+"))
  if not master then return end
  local pids = util.child_pids(master)
  pids[#pids + 1] = master
  for _, pid in ipairs(pids) do
    if PIN then capture("taskset -a -p -c 0 " .. pid .. " >/dev/null 2>&1") end
    if ROOT then capture("renice -n -10 -p " .. pid .. " >/dev/null 2>&1") end
  end
end

------------------------------------------------------------------------------
-- one measurement

local UA = workload.user_agent(require("databricks.webhooks.core").curl_version, "lua/5.4")
local LOGDIR = OUT .. "/logs"

local function measure(client, server, op, n, warmup, ids_in, ids_out)
  local args
  if client.bin then
    args = { client.bin, server.spec, op, n, warmup, ids_in or "-", ids_out or "-" }
  else
    args = { client.lua, "bench/runner.lua", client.impl, op, n, warmup, server.url, server.token,
      server.sink, ids_in or "-", ids_out or "-", client.build, UA, server.cafile or "-" }
  end
  local parts = {}
  for i, a in ipairs(args) do parts[i] = q(a) end
  local errlog = ("%s/%s-%s-%s.err"):format(LOGDIR, server.key, client.key, op)
  local out = capture(PIN_PREFIX .. table.concat(parts, " ") .. " 2>" .. q(errlog))
  local r = parse_result(out)
  if not r or r.errors ~= 0 then
    local why = r and (r.errors .. " failed calls") or "no result"
    say("  ! %s / %s / %s: %s; %s", server.key, client.key, op, why,
      first_line(read_file(errlog)) ~= "" and first_line(read_file(errlog)) or "(no stderr)")
    return nil
  end
  -- a figure counts only for the protocol it was meant to measure
  if r.proto and r.proto ~= "-" and tostring(r.proto) ~= server.http then
    say("  ! %s / %s / %s: spoke HTTP/%s, not HTTP/%s; not counted", server.key, client.key, op,
      tostring(r.proto), server.http)
    return nil
  end
  return {
    ops_s = r.n / r.wall_s,
    cpu_us = r.cpu_s / r.n * 1e6,
    rss_kb = r.rss_kb,
  }
end

------------------------------------------------------------------------------
-- the run

local results = {} -- results[server][client][op] = { samples... }
local function record(server, client, op, run, r)
  results[server] = results[server] or {}
  results[server][client] = results[server][client] or {}
  local list = results[server][client][op] or {}
  results[server][client][op] = list
  if r then
    r.run = run
    list[#list + 1] = r
  end
end

-- Median over runs of client/reference CPU per call, from the runs where both
-- were measured (back to back), and how many such pairs there were.
local function paired_ratio(server, client, ref, op)
  local a = results[server] and results[server][client] and results[server][client][op] or {}
  local b = results[server] and results[server][ref] and results[server][ref][op] or {}
  local by_run, ratios = {}, {}
  for _, r in ipairs(b) do by_run[r.run] = r end
  for _, r in ipairs(a) do
    if by_run[r.run] then ratios[#ratios + 1] = r.cpu_us / by_run[r.run].cpu_us end
  end
  return median(ratios), #ratios
end

local function stat(server, client, op)
  local list = results[server] and results[server][client] and results[server][client][op]
  if not list or #list == 0 then return nil end
  local ops, cpu, rss = {}, {}, {}
  for i, r in ipairs(list) do ops[i], cpu[i], rss[i] = r.ops_s, r.cpu_us, r.rss_kb end
  return { ops_s = median(ops), cpu_us = median(cpu), rss_kb = median(rss), runs = #list,
    cpu_min = math.min(table.unpack(cpu)), cpu_max = math.max(table.unpack(cpu)) }
end

local SERVERS = {}
local canned_srv, ws_srv

-- The canned server over each protocol (same nginx, same answers), then,
-- with BENCH_WORKSPACE=1, the local workspace over plain HTTP.
local PROTOCOLS = {
  { key = "h1", label = "HTTP/1.1", http = "1.1" },
  { key = "tls-h1", label = "TLS + HTTP/1.1", http = "1.1", tls = true },
  { key = "tls-h2", label = "TLS + HTTP/2", http = "2", tls = true },
}

local function start_servers()
  capture("mkdir -p " .. q(LOGDIR) .. " " .. q(OUT .. "/ids"))
  canned_srv = canned.start({ prefix = OUT .. "/canned", latency = 0.05 })
  pin_server(canned_srv.prefix .. "/logs/nginx.pid")
  SERVERS = {}
  for _, p in ipairs(PROTOCOLS) do
    local url = canned_srv.urls[p.key]
    SERVERS[#SERVERS + 1] = { key = p.key, label = "canned nginx, " .. p.label, short = p.label,
      url = url, http = p.http, cafile = p.tls and canned_srv.ca_file or nil, token = TOKEN,
      sink = canned_srv.url .. "/__control/sink", spec = ("%s/spec-%s.txt"):format(OUT, p.key),
      counts = COUNTS.canned, list_body = canned_srv.prefix .. "/www/list100.json",
      mlflow_list_body = canned_srv.prefix .. "/www/mlflow-list100.json" }
  end
  if WITH_WORKSPACE then
    ws_srv = workspace.start({ prefix = OUT .. "/workspace", keep = true })
    pin_server(ws_srv.prefix .. "/logs/nginx.pid")
    SERVERS[#SERVERS + 1] = { key = "workspace", label = "local workspace, HTTP/1.1",
      short = "workspace", url = ws_srv.url, http = "1.1", token = ws_srv.token,
      sink = ws_srv.url .. "/__control/sink", spec = OUT .. "/spec-workspace.txt",
      counts = COUNTS.workspace, stateful = true, reset = function() ws_srv:reset() end }
  end
  for _, s in ipairs(SERVERS) do
    workload.write_spec(s.spec, s.url, s.token, UA, s.sink, s.cafile, s.http)
  end
end

local function stop_servers()
  if canned_srv then canned_srv:stop() end
  if ws_srv then ws_srv:stop() end
end

-- One measurement of `client` on `server`: call counts, warm-up and, against
-- the workspace, the ids file its create writes and the other ops read.
local function measure_op(client, server, op, run)
  -- the local workspace is a Databricks one; the LuaSocket client has no MLflow methods
  if workload.api(op) == "mlflow" and (server.stateful or client.databricks_only) then return end
  local ids = server.stateful and ("%s/ids/%s.txt"):format(OUT, client.key) or nil
  local n = client.cli and CLI_CALLS or (server.stateful and op ~= "list"
    and server.counts.create or server.counts[op])
  local warm = client.cli and CLI_WARMUP or WARMUP
  local ids_in = ids and op ~= "create" and op ~= "list" and ids or nil
  local ids_out = ids and op == "create" and ids or nil
  record(server.key, client.key, op, run, measure(client, server, op, n, warm, ids_in, ids_out))
end

-- Operation by operation, every client back to back (in an order that
-- rotates from run to run), so that the module and the clients it is compared
-- with are measured seconds apart: the target checks use these same-run pairs.
-- Clients that speak HTTP/1.1 only skip the HTTP/2 listener.
local function run_matrix()
  for run = 1, RUNS do
    for _, server in ipairs(SERVERS) do
      local t0 = socket.gettime()
      if server.reset then server.reset() end
      for _, op in ipairs(workload.RUN_ORDER) do
        for ci = 0, #CLIENTS - 1 do
          local client = CLIENTS[(ci + run - 1) % #CLIENTS + 1]
          if not (client.h1_only and server.http ~= "1.1") then measure_op(client, server, op, run) end
        end
      end
      say("bench: run %d/%d, %s: %.1f s", run, RUNS, server.label, socket.gettime() - t0)
    end
  end
end

------------------------------------------------------------------------------
-- the other checks

-- Instructions per call, counted by callgrind (user space only: what the
-- kernel does for send/recv/poll is not in it): noise-free, unlike CPU time,
-- so a loaded machine cannot move it. Each figure is the difference between a
-- run of N2 and a run of N1 calls, divided by N2 - N1 (start-up cancels out).
-- For the module it also splits the call by C function (inclusive counts).
-- Counted over plain HTTP/1.1 (the first server): TLS and HTTP/2 framing cost
-- every libcurl client alike, and the CPU tables show them.
local IR_CLIENTS = { "module", "floor", "luasocket" }
local IR_CALLS = { small = { 40, 140 }, list = { 10, 30 } }
-- Each part sums the inclusive counts of the functions listed (none calls
-- another); names that the current csrc/ does not have are skipped.
local IR_PARTS = {
  { { "curl_multi_add_handle", "curl_multi_perform", "curl_multi_poll", "curl_multi_info_read",
    "curl_multi_remove_handle" }, "libcurl: curl_multi_*" },
  { { "dbw_json_encode" }, "request JSON: dbw_json_encode (cjson.encode)" },
  { { "dbw_json_decode_max" }, "response JSON: dbw_json_decode_max (json_decode.c)" },
  { { "fix_webhook" }, "response shaping: fix_webhook (events, id)" },
  { { "dbw_schema_check" }, "validation: dbw_schema_check" },
}

local function callgrind(args, outfile)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = q(a) end
  local text = capture("valgrind --tool=callgrind --callgrind-out-file=" .. q(outfile or "/dev/null")
    .. " " .. table.concat(parts, " ") .. " 2>&1")
  local ir = text:match("I%s+refs:%s+([%d,]+)")
  return ir and tonumber((ir:gsub(",", ""))) or nil, text
end

local function inclusive(outfile)
  local text = capture("callgrind_annotate --inclusive=yes --threshold=100 " .. q(outfile) .. " 2>/dev/null")
  local t = {}
  for count, name in text:gmatch("\n%s*([%d,]+) %([^)]*%)%s+[^\n]-:([%w_]+) %[") do
    local v = tonumber((count:gsub(",", "")))
    if not t[name] or v > t[name] then t[name] = v end
  end
  return t
end

local function run_instructions()
  if os.getenv("BENCH_CALLGRIND") == "0" or not have("valgrind") then return nil end
  local server = SERVERS[1]
  local dir = OUT .. "/callgrind"
  capture("mkdir -p " .. q(dir))
  local out = { per_call = {}, parts = {} }
  for _, op in ipairs(workload.OPS) do
    local n1, n2 = table.unpack(workload.base_op(op) == "list" and IR_CALLS.list or IR_CALLS.small)
    for _, key in ipairs(IR_CLIENTS) do
      local c = BY_KEY[key]
      if c.databricks_only and workload.api(op) == "mlflow" then goto next_client end
      local irs, files = {}, {}
      for i, n in ipairs({ n1, n2 }) do
        local args
        if c.bin then
          args = { c.bin, server.spec, op, n, 5, "-", "-" }
        else
          args = { c.lua, "bench/runner.lua", c.impl, op, n, 5, server.url, server.token, server.sink,
            "-", "-", c.build, UA, "-" }
        end
        files[i] = key == "module" and ("%s/%s-%s-%d.out"):format(dir, key, op, n) or nil
        irs[i] = callgrind(args, files[i])
      end
      if irs[1] and irs[2] then
        out.per_call[key .. "/" .. op] = (irs[2] - irs[1]) / (n2 - n1)
        if files[1] then
          local a, b = inclusive(files[1]), inclusive(files[2])
          local parts = {}
          for i, p in ipairs(IR_PARTS) do
            for _, name in ipairs(p[1]) do
              if a[name] and b[name] then
                parts[i] = (parts[i] or 0) + (b[name] - a[name]) / (n2 - n1)
              end
            end
          end
          out.parts[op] = parts
        end
      else
        say("  ! callgrind %s / %s failed", key, op)
      end
      ::next_client::
    end
  end
  -- the decode check, counted: (N calls - none) / N for each side
  local base = callgrind({ "lua5.4", "bench/decode.lua", B54, "count", "none", 4 })
  local cj = callgrind({ "lua5.4", "bench/decode.lua", B54, "count", "cjson", 4 })
  local mod = callgrind({ "lua5.4", "bench/decode.lua", B54, "count", "module", 4 })
  if base and cj and mod then
    out.decode = { cjson = (cj - base) / 4, module = (mod - base) / 4 }
  end
  return out
end

local function run_decode()
  local out = {}
  for _, v in ipairs({ { "5.4", "lua5.4", B54 }, { "LuaJIT", "luajit", BJIT } }) do
    if v[1] == "5.4" or JIT_OK then
      local text = capture(PIN_PREFIX .. v[2] .. " bench/decode.lua " .. v[3] .. " 2>&1")
      local r = parse_result(text, "decode")
      if not r then say("  ! decode (%s): %s", v[1], first_line(text)) end
      out[v[1]] = r
      -- cjson.decode of the exact 100-webhook page the list calls received
      text = capture(PIN_PREFIX .. v[2] .. " bench/decode.lua " .. v[3] .. " page "
        .. q(SERVERS[1].list_body) .. " 2>&1")
      local pg = parse_result(text, "page")
      if not pg then say("  ! decode of the list page (%s): %s", v[1], first_line(text)) end
      out["page-" .. v[1]] = pg
      text = capture(PIN_PREFIX .. v[2] .. " bench/decode.lua " .. v[3] .. " page "
        .. q(SERVERS[1].mlflow_list_body) .. " 2>&1")
      pg = parse_result(text, "page")
      if not pg then say("  ! decode of the MLflow list page (%s): %s", v[1], first_line(text)) end
      out["mlflow-page-" .. v[1]] = pg
    end
  end
  return out
end

-- bench/receiver.lua: the nginx receiver's worker CPU per delivery (MLflow
-- and Databricks) against a bare handler, in one LuaJIT worker.
local function run_receiver()
  if os.getenv("BENCH_RECEIVER") == "0" then return { skipped = true, text = "disabled (BENCH_RECEIVER=0)" } end
  if not JIT_OK then return { skipped = true, text = "skipped (no LuaJIT build)" } end
  local n = math.max(1000, math.floor(10000 * SCALE))
  local text = capture(PIN_PREFIX .. "lua5.4 bench/receiver.lua " .. q(LUA_DIR) .. " " .. q(BUILD_DIR)
    .. " " .. n .. " " .. math.max(3, RUNS) .. " 2>&1")
  local out = { lines = {}, results = {} }
  for line in text:gmatch("[^\n]+") do
    if line:find("^receiver:") then
      say("%s", line)
      out.lines[#out.lines + 1] = line:gsub("^receiver: ?", "")
    end
    local rest = line:match("^RESULT receiver (.*)$")
    if rest then
      local r = {}
      for k, x in rest:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(x) or x end
      out.results[r.api .. "-" .. r.conn] = r
    end
  end
  if not out.results["mlflow-keepalive"] then out.failed = first_line(text) end
  return out
end

-- bench/cosocket.lua: the module's calls inside nginx (the cosocket
-- transport) against a hand-written cosocket client, in worker CPU and in
-- instructions (callgrind). Informational: no target.
local function run_cosocket()
  if os.getenv("BENCH_COSOCKET") == "0" then return { skipped = true, text = "disabled (BENCH_COSOCKET=0)" } end
  if not JIT_OK then return { skipped = true, text = "skipped (no LuaJIT build)" } end
  local n = math.max(400, math.floor(2000 * SCALE))
  local out = { lines = {} }
  for _, mode in ipairs({ "", "BENCH_COUNT=1 " }) do
    local text = capture(mode .. PIN_PREFIX .. "lua5.4 bench/cosocket.lua " .. q(LUA_DIR) .. " " .. q(BUILD_DIR)
      .. " " .. n .. " " .. math.max(3, RUNS) .. " 2>&1")
    local got = false
    for line in text:gmatch("[^\n]+") do
      if line:find("^cosocket:") then
        say("%s", line)
        out.lines[#out.lines + 1] = line:gsub("^cosocket: ?", "")
        got = true
      end
    end
    if not got then out.failed = first_line(text) end
  end
  return out
end

-- bench/parse.lua under LuaJIT (what nginx runs) and Lua 5.4: CPU per
-- response of the cosocket parser on shapes meant to make it backtrack.
local function run_parse()
  if os.getenv("BENCH_PARSE") == "0" then return { skipped = true } end
  local out = { lines = {}, results = {} }
  for _, v in ipairs({ { "luajit", BJIT }, { "lua5.4", B54 } }) do
    if v[1] == "lua5.4" or JIT_OK then
      local text = capture(PIN_PREFIX .. v[1] .. " bench/parse.lua " .. q(LUA_DIR) .. " " .. q(v[2]) .. " 2>&1")
      local any = false
      for line in text:gmatch("[^\n]+") do
        if line:find("^parse:") then
          say("%s", line)
          out.lines[#out.lines + 1] = line
        end
        local rest = line:match("^RESULT parse (.*)$")
        if rest then
          local r = {}
          for k, x in rest:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(x) or x end
          out.results[#out.results + 1] = r
          any = true
        end
      end
      if not any then
        out.results[#out.results + 1] = { case = "run", lua = v[1], ok = 0, growth = 0, limit = 0 }
        say("  ! parse (%s): %s", v[1], first_line(text))
      end
    end
  end
  return out
end

-- The memory run and valgrind's go over TLS + HTTP/2, the path with the most
-- state per connection (TLS, the HTTP/2 session, decompression).
local function memory_args(calls, checkpoint)
  return "lua5.4 bench/memory.lua " .. q(B54) .. " " .. q(canned_srv.urls["tls-h2"]) .. " " .. q(TOKEN)
    .. " " .. calls .. " " .. checkpoint .. " " .. q(canned_srv.ca_file)
end

local function run_memory()
  local text, rc = capture(PIN_PREFIX .. memory_args(MEMORY_CALLS, MEMORY_CHECKPOINT)
    .. " 2>" .. q(LOGDIR .. "/memory.err"))
  for line in text:gmatch("[^\n]+") do
    if line:find("^memory:") then say("%s", line) end
  end
  local r = parse_result(text, "memory")
  if not r or rc ~= 0 then say("  ! memory run failed: %s", first_line(read_file(LOGDIR .. "/memory.err"))) end
  return r
end

local function run_valgrind()
  if os.getenv("BENCH_VALGRIND") == "0" or not have("valgrind") then return nil end
  local log = LOGDIR .. "/valgrind.log"
  local text = capture("valgrind --leak-check=full --show-leak-kinds=definite,indirect "
    .. "--errors-for-leak-kinds=definite --log-file=" .. q(log) .. " "
    .. memory_args(VALGRIND_CALLS, math.floor(VALGRIND_CALLS / 2)) .. " 2>&1")
  local vg = read_file(log) or ""
  local function bytes(kind)
    local b = vg:match(kind .. ":%s*([%d,]+) bytes")
    return b and tonumber((b:gsub(",", ""))) or nil
  end
  local r = {
    calls = VALGRIND_CALLS,
    definite = bytes("definitely lost") or 0,
    indirect = bytes("indirectly lost") or 0,
    possible = bytes("possibly lost") or 0,
    reachable = bytes("still reachable") or 0,
    errors = tonumber(vg:match("ERROR SUMMARY: ([%d,]+) errors") and
      (vg:match("ERROR SUMMARY: ([%d,]+) errors"):gsub(",", "")) or ""),
    leak_free = vg:find("All heap blocks were freed", 1, true) ~= nil,
    ran = parse_result(text, "memory") ~= nil,
  }
  return r
end

-- api: "databricks" or "mlflow" (the same run with an MLflow client).
local function run_concurrency(api)
  if os.getenv("BENCH_CONCURRENCY") == "0" then return { skipped = true, text = "disabled" } end
  if not canned_srv.urls.slow then
    return { skipped = true, text = "skipped: nginx has no Lua module for the latency listener" }
  end
  local text = capture(PIN_PREFIX .. "lua5.4 bench/concurrency.lua " .. q(B54) .. " "
    .. q(canned_srv.urls.slow) .. " " .. q(canned_srv.ca_file) .. " " .. CONC_N .. " " .. CONC_PARALLEL
    .. " 50 " .. api .. " 2>" .. q(LOGDIR .. "/concurrency-" .. api .. ".err"))
  for line in text:gmatch("[^\n]+") do
    if line:find("^concurrency") then say("%s", line) end
  end
  local r = parse_result(text, "concurrency") or { failed = 1 }
  r.text = text:match("(concurrency[^\n]*)") or "concurrency: no output"
  return r
end

local function run_pace()
  if os.getenv("BENCH_PACE") == "0" then return { skipped = true, text = "disabled" } end
  local text = capture(PIN_PREFIX .. "lua5.4 bench/pace.lua " .. q(B54) .. " " .. q(OUT .. "/pace-workspace")
    .. " " .. PACE_N .. " " .. PACE_PARALLEL .. " " .. PACE_LIMIT .. " 2>" .. q(LOGDIR .. "/pace.err"))
  local lines = {}
  for line in text:gmatch("[^\n]+") do
    if line:find("^pace:") then
      say("%s", line)
      lines[#lines + 1] = line
    end
  end
  local r = parse_result(text, "pace_limited") or { failed = 1 }
  r.adaptive = parse_result(text, "pace_adaptive")
  r.lines = #lines > 0 and lines or { "pace: no output" }
  return r
end

------------------------------------------------------------------------------
-- report

local function op_table(op, lines)
  local head = "| client |"
  local rule = "|---|"
  for _, s in ipairs(SERVERS) do
    head = head .. (" %s ops/s | %s CPU µs/op | %s peak RSS |"):format(s.short, s.short, s.short)
    rule = rule .. "---:|---:|---:|"
  end
  lines[#lines + 1] = head
  lines[#lines + 1] = rule
  for _, c in ipairs(CLIENTS) do
    local row = "| " .. c.label .. " |"
    for _, s in ipairs(SERVERS) do
      local st, fl = stat(s.key, c.key, op), stat(s.key, "floor", op)
      if c.databricks_only and workload.api(op) == "mlflow" then
        row = row .. " (Databricks only) | | |"
      elseif c.h1_only and s.http ~= "1.1" then
        row = row .. " (HTTP/1.1 only) | | |"
      elseif st then
        row = row .. (" %s%s | %s%s | %.1f MiB%s |"):format(
          commas(st.ops_s), fl and fmt_x(st.ops_s, fl.ops_s) or "",
          fmt_us(st.cpu_us), fl and fmt_x(st.cpu_us, fl.cpu_us) or "",
          st.rss_kb / 1024, fl and fmt_x(st.rss_kb, fl.rss_kb) or "")
      else
        row = row .. " failed | | |"
      end
    end
    lines[#lines + 1] = row
  end
end

local OP_TITLE = {
  create = "create", list = "list (one page of 100 webhooks)", update = "update",
  delete = "delete", test = "test",
  ["mlflow-create"] = "MLflow create", ["mlflow-list"] = "MLflow list (one page of 100 webhooks)",
  ["mlflow-update"] = "MLflow update (status given: one request)", ["mlflow-delete"] = "MLflow delete",
  ["mlflow-test"] = "MLflow test",
}

-- The list target's reference, per run: the floor's list call plus
-- cjson.decode of the same body (Lua 5.4), against the module's list call.
local function list_ratio(server, page_us, op)
  local page = page_us
  op = op or "list"
  if not page then return nil, 0 end
  local a = results[server] and results[server].module and results[server].module[op] or {}
  local b = results[server] and results[server].floor and results[server].floor[op] or {}
  local by_run, ratios = {}, {}
  for _, r in ipairs(b) do by_run[r.run] = r end
  for _, r in ipairs(a) do
    if by_run[r.run] then ratios[#ratios + 1] = r.cpu_us / (by_run[r.run].cpu_us + page) end
  end
  return median(ratios), #ratios
end

local SMALL_OPS = { "create", "update", "delete", "test",
  "mlflow-create", "mlflow-update", "mlflow-delete", "mlflow-test" }
-- The list ops, with the decode figure (bench/decode.lua page) of their page.
local LIST_OPS = { { op = "list", page = "page-5.4", label = "" },
  { op = "mlflow-list", page = "mlflow-page-5.4", label = "MLflow " } }

local function check_targets(extra)
  local checks = {}
  local function add(name, what, value, limit, ok, detail)
    checks[#checks + 1] = { name = name, what = what, value = value, limit = limit, ok = ok,
      detail = detail }
  end
  for _, s in ipairs(SERVERS) do
    for _, op in ipairs(SMALL_OPS) do
      local r, n = paired_ratio(s.key, "module", "floor", op)
      add("cpu-vs-floor", ("module CPU/op vs floor, %s, %s"):format(op, s.short),
        r and ("%.2fx (%d pairs)"):format(r, n) or "n/a", "<= 1.3x", r ~= nil and r <= 1.3,
        ("%s/%s %.2fx"):format(op, s.key, r or 0))
    end
    for _, l in ipairs(LIST_OPS) do
      local pg = extra.decode[l.page]
      local r, n = list_ratio(s.key, pg and pg.cjson_us, l.op)
      add("list", ("module %slist of 100 vs floor + cjson.decode of the page, %s"):format(l.label, s.short),
        r and ("%.2fx (%d pairs)"):format(r, n) or "n/a", "<= 1.3x", r ~= nil and r <= 1.3,
        ("%s/%s %.2fx"):format(l.op, s.key, r or 0))
    end
  end
  local d = extra.decode["5.4"]
  add("decode", "module list call on a 1,000-webhook page vs cjson.decode of it (Lua 5.4)",
    d and ("%.2fx"):format(d.ratio) or "n/a", "<= 0.7x", d ~= nil and d.ratio <= 0.7)
  for _, c in ipairs({ { extra.concurrency, "" }, { extra.concurrency_mlflow, "MLflow " } }) do
    local cc = c[1]
    local cwhat = ("%d %sdeletes, 50 ms added latency, TLS + HTTP/2: %d in flight (client:bulk) vs one at "
      .. "a time, on one TCP connection"):format(CONC_N, c[2], CONC_PARALLEL)
    if cc.skipped then
      add("concurrency", cwhat, cc.text, ">= 20x, 1 connection", true, nil)
      checks[#checks].skipped = true
    else
      add("concurrency", cwhat, cc.speedup and ("%.1fx, %s connection(s), HTTP/%s"):format(cc.speedup,
        tostring(cc.connections), tostring(cc.proto)) or "failed", ">= 20x, 1 connection",
        cc.speedup ~= nil and cc.speedup >= 20 and cc.failed == 0 and cc.connections == 1,
        ("%s%s"):format(c[2]:lower(), cc.speedup and ("%.1fx"):format(cc.speedup) or "failed"))
    end
  end
  local pc = extra.pace
  local pwhat = ("%d creates, %d in flight, local workspace limited to %d requests/s, client rate_limit = %d: "
    .. "throughput, share answered 429, none lost or twice"):format(PACE_N, PACE_PARALLEL, PACE_LIMIT,
    PACE_LIMIT)
  local plimit = ">= 0.9x the limit, <= 5% 429, 0 lost, 0 twice"
  if pc.skipped then
    add("pace", pwhat, pc.text, plimit, true, nil)
    checks[#checks].skipped = true
  else
    add("pace", pwhat, pc.ratio and ("%.2fx, %.1f%% 429, %d lost, %d twice"):format(pc.ratio, 100 * pc.share,
      pc.lost, pc.twice) or "failed", plimit, pc.ratio ~= nil and pc.ratio >= 0.9 and pc.share <= 0.05
      and pc.failed == 0 and pc.lost == 0 and pc.twice == 0)
  end
  local pa = extra.parse
  if pa.skipped then
    add("parse", "cosocket parser, pathological heads: CPU growth for 14.6x the bytes", "disabled",
      "<= 2x linear", true)
    checks[#checks].skipped = true
  else
    -- one row per Lua: the shape whose CPU grew most, relative to its limit
    local worst, order = {}, {}
    for _, r in ipairs(pa.results) do
      local w = worst[r.lua]
      if not w then order[#order + 1] = r.lua end
      if not w or (r.limit > 0 and r.growth / r.limit > w.growth / w.limit) or r.ok ~= 1 then
        worst[r.lua] = r
      end
    end
    for _, lua in ipairs(order) do
      local r = worst[lua]
      add("parse", ("cosocket parser and plan on pathological input (%s): CPU growth, smallest to largest "
        .. "size, of the shape that grew most"):format(lua), ("%s %.1fx"):format(r.case, r.growth),
        ("<= %.1fx (2x linear)"):format(r.limit), r.ok == 1, ("%s/%s %.1fx"):format(r.case, lua, r.growth))
    end
  end
  local rc = extra.receiver
  local rwhat = "nginx receiver, MLflow deliveries (signature, freshness, parse, de-duplication) vs a bare "
    .. "handler, one LuaJIT worker, one kept-alive connection: throughput (bare CPU / receiver CPU per request)"
  if rc.skipped then
    add("receiver", rwhat, rc.text, ">= 0.7x", true)
    checks[#checks].skipped = true
  else
    local r = rc.results["mlflow-keepalive"]
    add("receiver", rwhat, r and ("%.2fx (%.1f vs %.1f us)"):format(r.ratio, r.us_per_req, r.bare_us)
      or ("failed: " .. tostring(rc.failed)), ">= 0.7x", r ~= nil and r.ratio >= 0.7,
      r and ("mlflow %.2fx"):format(r.ratio) or "failed")
  end
  local mem = extra.memory
  add("memory", ("RSS growth from call %s to call %s (TLS + HTTP/2)"):format(commas(MEMORY_CHECKPOINT),
    commas(MEMORY_CALLS)), mem and ("%d KiB"):format(mem.growth_kb) or "n/a", "< 1024 KiB",
    mem ~= nil and mem.errors == 0 and mem.growth_kb < 1024)
  local vg = extra.valgrind
  if vg then
    add("valgrind", ("valgrind memcheck, %s calls (TLS + HTTP/2): definitely lost"):format(commas(vg.calls)),
      vg.ran and ("%d bytes, %s errors"):format(vg.definite, tostring(vg.errors)) or "did not run",
      "0 bytes", vg.ran and vg.definite == 0 and vg.errors == 0)
  end
  return checks
end

local function summary_line(checks)
  local missed, order = {}, {}
  for _, c in ipairs(checks) do
    if not c.ok then
      if not missed[c.name] then
        missed[c.name] = {}
        order[#order + 1] = c.name
      end
      if c.detail then
        local t = missed[c.name]
        t[#t + 1] = c.detail
      else
        missed[c.name][1] = c.value
      end
    end
  end
  if #order == 0 then return "bench: all targets met" end
  local parts = {}
  for _, name in ipairs(order) do
    parts[#parts + 1] = name .. " (" .. table.concat(missed[name], ", ") .. ")"
  end
  return "bench: MISSED: " .. table.concat(parts, "; ")
end

local function plot(png)
  if not have("gnuplot") then return false, "gnuplot not installed" end
  local keys = {}
  for _, c in ipairs(CLIENTS) do keys[#keys + 1] = c end
  for _, s in ipairs(SERVERS) do
    local rows = { "# op " .. (function()
      local t = {}
      for _, c in ipairs(keys) do t[#t + 1] = c.key end
      return table.concat(t, " ")
    end)() }
    for _, op in ipairs(workload.OPS) do
      local row = { op }
      for _, c in ipairs(keys) do
        local st = stat(s.key, c.key, op)
        row[#row + 1] = st and ("%.2f"):format(st.cpu_us) or "?"
      end
      rows[#rows + 1] = table.concat(row, " ")
    end
    write_file(("%s/cpu_per_op-%s.dat"):format(OUT, s.key), table.concat(rows, "\n") .. "\n")
  end
  local _, cairo = capture("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1")
  local width = 750 * #SERVERS
  local term = cairo == 0 and ("pngcairo size %d,620 font ',10'"):format(width) or ("png size %d,620"):format(width)
  local g = {
    "set terminal " .. term,
    "set output '" .. png .. "'",
    "set datafile missing '?'",
    "set style data histograms",
    "set style histogram clustered gap 1",
    "set style fill solid 0.85 border -1",
    "set boxwidth 0.9",
    "set logscale y 10",
    "set grid ytics mytics",
    "set ylabel 'client CPU per call, microseconds (log scale)'",
    "set key below horizontal font ',9'",
    ("set multiplot layout 1,%d title 'Client CPU per call (user+sys), median of %d runs'"):format(#SERVERS, RUNS),
  }
  for _, s in ipairs(SERVERS) do
    g[#g + 1] = "set title '" .. s.label .. "'"
    local p = {}
    for i, c in ipairs(keys) do
      p[#p + 1] = ("'%s/cpu_per_op-%s.dat' using %d%s title '%s'"):format(OUT, s.key, i + 1,
        i == 1 and ":xtic(1)" or "", c.label)
    end
    g[#g + 1] = "plot " .. table.concat(p, ", ")
  end
  g[#g + 1] = "unset multiplot"
  write_file(OUT .. "/cpu_per_op.gp", table.concat(g, "\n") .. "\n")
  local out, rc = capture("gnuplot " .. q(OUT .. "/cpu_per_op.gp") .. " 2>&1")
  if rc ~= 0 then return false, first_line(out) end
  return true
end

local function report(mach, extra, checks, summary, plotted)
  local L = {}
  local function add(s) L[#L + 1] = s or "" end
  add("# Benchmark results: databricks-webhooks vs the floor and the alternatives")
  add()
  add(("Generated by `make bench` (bench/run) on %s, in %.0f s. How to read this: bench/README.md."):format(
    os.date("!%Y-%m-%d %H:%M UTC"), socket.gettime() - T_START))
  add()
  add("## Machine")
  add()
  add(("- %s CPUs (`nproc`), %s%s, %.1f GiB RAM%s"):format(mach.nproc, mach.cpu,
    mach.mhz ~= "" and (" @ " .. mach.mhz .. " MHz") or "", mach.mem,
    (mach.virt ~= "" and mach.virt ~= "none") and (", virtualised (" .. mach.virt .. ")") or ""))
  add(("- %s; %s"):format(mach.kernel, mach.os))
  add(("- client processes pinned to CPU %s and servers to CPU 0: %s; both at nice -10: %s"):format(
    CLIENT_CPU, PIN and "yes" or "no", ROOT and "yes" or "no"))
  for _, v in ipairs(mach.versions) do add(("- %s: %s"):format(v[1], v[2])) end
  add()
  add("## Per operation")
  add()
  add(("Median of %d runs; each run is a fresh process per client, operation and protocol, %d "
    .. "untimed warm-up calls, then the timed calls (canned server: %s per operation, list %s%s; "
    .. "curl command: %d). Columns: the canned server over plain HTTP/1.1, TLS + HTTP/1.1 and TLS + "
    .. "HTTP/2 (every client's figure counts only if it really spoke that protocol). In brackets: "
    .. "ratio to the floor on the same protocol. CPU is the client process's user+sys time per call "
    .. "(curl: its children's); peak RSS is the client process's (curl: the largest "
    .. "child's)."):format(RUNS, WARMUP, commas(COUNTS.canned.create), commas(COUNTS.canned.list),
    WITH_WORKSPACE and ("; workspace: %s, list %s"):format(commas(COUNTS.workspace.create),
    commas(COUNTS.workspace.list)) or "", CLI_CALLS))
  for _, op in ipairs(workload.OPS) do
    add()
    add("### " .. OP_TITLE[op])
    add()
    op_table(op, L)
  end
  add()
  add("## Decoding a 1,000-webhook page")
  add()
  for _, v in ipairs({ "5.4", "LuaJIT" }) do
    local d = extra.decode[v]
    if d then
      add(("- Lua %s, in process (%s-byte body): cjson.decode %s µs; module list call %s µs "
        .. "(of which %.1f µs fixed per-call cost); ratio **%.2fx**"):format(v, commas(d.bytes),
        fmt_us(d.cjson_us), fmt_us(d.module_us), d.fixed_us, d.ratio))
    end
  end
  add()
  for _, l in ipairs(LIST_OPS) do
    add(("## A 100-webhook %slist page: the module vs the floor + cjson.decode"):format(l.label))
    add()
    local pg = extra.decode[l.page]
    local jit_pg = extra.decode[l.page:gsub("5%.4$", "LuaJIT")]
    if pg then
      add(("cjson.decode of the %s-byte page the canned server sends: %s µs (Lua 5.4)%s. Per protocol, "
        .. "CPU per call (medians); the ratio is the median of the same-run ratios:"):format(
        commas(pg.bytes), fmt_us(pg.cjson_us), jit_pg and ("; %s µs (LuaJIT)"):format(
        fmt_us(jit_pg.cjson_us)) or ""))
      add()
      add("| protocol | module (Lua 5.4) | floor | floor + cjson.decode | module / (floor + cjson.decode) |")
      add("|---|---:|---:|---:|---:|")
      for _, s in ipairs(SERVERS) do
        local m, f = stat(s.key, "module", l.op), stat(s.key, "floor", l.op)
        local r = list_ratio(s.key, pg.cjson_us, l.op)
        if m and f then
          add(("| %s | %s | %s | %s | %s |"):format(s.short, fmt_us(m.cpu_us), fmt_us(f.cpu_us),
            fmt_us(f.cpu_us + pg.cjson_us), r and ("**%.2fx**"):format(r) or "n/a"))
        end
      end
    else
      add("- cjson.decode of the page was not measured (see the console)")
    end
    add()
  end
  local ir = extra.instructions
  if ir then
    add("## Instructions per call (callgrind, canned server, plain HTTP/1.1)")
    add()
    add("User-space instructions per call, counted by callgrind: immune to machine noise, blind to the "
      .. "kernel (send/recv/poll), so a cross-check of the CPU figures, not a replacement.")
    add()
    add("| operation | module (Lua 5.4) | floor | LuaSocket client (Lua 5.4) | module / floor | module / LuaSocket |")
    add("|---|---:|---:|---:|---:|---:|")
    for _, op in ipairs(workload.OPS) do
      local im, fl = ir.per_call["module/" .. op], ir.per_call["floor/" .. op]
      local ls = ir.per_call["luasocket/" .. op]
      local function k(v) return v and commas(v) or "n/a" end
      add(("| %s | %s | %s | %s | %s | %s |"):format(op, k(im), k(fl), k(ls),
        im and fl and ("%.2fx"):format(im / fl) or "", im and ls and ("%.2fx"):format(im / ls) or ""))
    end
    add()
    add("Where the module's instructions go, per call (inclusive counts of its C functions):")
    add()
    local head, rule = "| operation | total |", "|---|---:|"
    for _, p in ipairs(IR_PARTS) do
      head = head .. " " .. p[2] .. " |"
      rule = rule .. "---:|"
    end
    add(head .. " the rest (Lua, glue) |")
    add(rule .. "---:|")
    for _, op in ipairs(workload.OPS) do
      local total, parts = ir.per_call["module/" .. op], ir.parts[op] or {}
      if total then
        local row, rest = ("| %s | %s |"):format(op, commas(total)), total
        for i in ipairs(IR_PARTS) do
          local v = parts[i]
          row = row .. " " .. (v and ("%s (%.0f%%)"):format(commas(v), v / total * 100) or "n/a") .. " |"
          rest = rest - (v or 0)
        end
        -- encode and decode sit inside no other listed part; libcurl
        -- and validation neither: the rest is what none of them covers
        add(row .. (" %s (%.0f%%) |"):format(commas(rest), rest / total * 100))
      end
    end
    if ir.decode then
      add()
      add(("Decode check, counted: cjson.decode of the 1,000-webhook page %s instructions, the module's list "
        .. "call on it %s: **%.2fx**."):format(commas(ir.decode.cjson), commas(ir.decode.module),
        ir.decode.module / ir.decode.cjson))
    end
    add()
  end
  add("## Memory")
  add()
  local mem = extra.memory
  if mem then
    add(("- %s mixed calls in one process against the canned server over TLS + HTTP/2 (%s "
      .. "connection): RSS %s KiB after %s calls, "
      .. "%s KiB at the end: growth **%d KiB** (Lua heap %s -> %s KiB; peak RSS %s KiB)"):format(
      commas(mem.calls), tostring(mem.connections), commas(mem.rss1_kb), commas(mem.checkpoint),
      commas(mem.rss2_kb), mem.growth_kb,
      commas(mem.heap1_kb), commas(mem.heap2_kb), commas(mem.peak_kb)))
  else
    add("- the memory run failed (bench/out/logs/memory.err)")
  end
  local vg = extra.valgrind
  if vg then
    add(("- valgrind memcheck, %s calls: definitely lost %d bytes, indirectly lost %d, possibly lost %d, "
      .. "still reachable %d; %s errors"):format(commas(vg.calls), vg.definite, vg.indirect, vg.possible,
      vg.reachable, tostring(vg.errors)))
  end
  add()
  add("## Concurrency")
  add()
  add("- " .. extra.concurrency.text)
  add("- " .. extra.concurrency_mlflow.text)
  add()
  add("## Parsing a hostile peer's bytes")
  add()
  add("`bench/parse.lua`: CPU per response of the cosocket transport's parser (in process, on an in-memory "
    .. "socket) on heads shaped to make a parser backtrack, at three sizes; linear parsing grows with the "
    .. "bytes, a quadratic pattern with their square (the old header pattern's column).")
  add()
  if extra.parse.skipped then add("- disabled (BENCH_PARSE=0)") end
  for _, line in ipairs(extra.parse.lines or {}) do add("- " .. line:gsub("^parse: ", "")) end
  add()
  add("## The nginx receiver")
  add()
  add("`bench/receiver.lua`: worker CPU per request of `receiver.handle` (MLflow: `api = \"mlflow\"`, "
    .. "Databricks: `api = \"databricks\", max_age = 300`, both de-duplicating in a `lua_shared_dict`) "
    .. "and of a bare handler that reads the body and answers the same 200, in one nginx worker (LuaJIT); "
    .. "every delivery new and valid. The ratio is the throughput a CPU-bound worker keeps.")
  add()
  if extra.receiver.skipped then add("- " .. extra.receiver.text) end
  for _, line in ipairs(extra.receiver.lines or {}) do add("- " .. line) end
  add()
  add("## The client inside nginx")
  add()
  add("`bench/cosocket.lua`: the module's calls on the cosocket transport in one nginx worker (LuaJIT) "
    .. "against a hand-written cosocket client that does the least a careful one must (cjson in and out, "
    .. "pooled connections, the status line and headers read; what lua-resty-http + cjson would do, which "
    .. "Debian does not package), both to the canned server over plain HTTP/1.1. `module` reuses one "
    .. "client, `module-new` makes one per call. Worker CPU first, then user-space instructions (callgrind).")
  add()
  if extra.cosocket.skipped then add("- " .. extra.cosocket.text) end
  if extra.cosocket.failed then add("- failed: " .. extra.cosocket.failed) end
  for _, line in ipairs(extra.cosocket.lines or {}) do add("- " .. line) end
  add()
  add("## Pace")
  add()
  if extra.pace.skipped then
    add("- pace: " .. extra.pace.text)
  else
    for _, line in ipairs(extra.pace.lines) do add("- " .. line) end
  end
  add()
  add("## Targets")
  add()
  add("| target | measured | limit | met |")
  add("|---|---:|---:|:---:|")
  for _, c in ipairs(checks) do
    add(("| %s | %s | %s | %s |"):format(c.what, c.value, c.limit, c.skipped and "skipped"
      or (c.ok and "yes" or "**no**")))
  end
  add()
  if plotted then
    add("![client CPU per call](cpu_per_op.png)")
    add()
  end
  add("`" .. summary .. "`")
  return table.concat(L, "\n") .. "\n"
end

------------------------------------------------------------------------------

local function main()
  capture("mkdir -p " .. q(OUT))
  local mach = machine()
  say("bench: %s CPUs, %s, %s; %d runs; clients: %s", mach.nproc, mach.cpu, mach.kernel, RUNS,
    (function()
      local t = {}
      for _, c in ipairs(CLIENTS) do t[#t + 1] = c.key end
      return table.concat(t, ", ")
    end)())
  local function phase(label, f)
    local t0 = socket.gettime()
    say("bench: %s", label)
    local r = f()
    say("bench: %s: %.1f s", label, socket.gettime() - t0)
    return r
  end
  start_servers()
  phase("clients x operations x servers", run_matrix)
  local extra = {}
  extra.decode = phase("decode check", run_decode)
  extra.memory = phase(("memory, %s calls"):format(commas(MEMORY_CALLS)), run_memory)
  extra.valgrind = phase(("valgrind, %s calls"):format(commas(VALGRIND_CALLS)), run_valgrind)
  extra.instructions = phase("instructions per call (callgrind)", run_instructions)
  extra.concurrency = phase("concurrency", function() return run_concurrency("databricks") end)
  extra.concurrency_mlflow = phase("concurrency (MLflow)", function() return run_concurrency("mlflow") end)
  extra.pace = phase("pace", run_pace)
  extra.parse = phase("parsing pathological heads", run_parse)
  extra.receiver = phase("the nginx receiver", run_receiver)
  extra.cosocket = phase("the client inside nginx", run_cosocket)
  stop_servers()

  local checks = check_targets(extra)
  local summary = summary_line(checks)
  local plotted, why = plot(OUT .. "/cpu_per_op.png")
  local md = report(mach, extra, checks, summary, plotted)
  write_file(OUT .. "/results.md", md)
  write_file("bench/results.md", md)
  if plotted then
    write_file("bench/cpu_per_op.png", read_file(OUT .. "/cpu_per_op.png"))
  else
    say("bench: no plot (%s)", why)
  end
  -- the report, minus its title and machine block, is the console output too
  io.stdout:write("\n", (md:gsub("^.-\n## Per operation", "## Per operation")
    :gsub("\n!%[client CPU per call%]%(cpu_per_op%.png%)\n", "\n")
    :gsub("\n`bench:[^\n]*`\n$", "\n")), "\n")
  say("results: bench/results.md%s", plotted and ", bench/cpu_per_op.png" or "")
  say("%s", summary)
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  stop_servers()
  say("bench: error: %s", tostring(err))
  say("bench: MISSED: the benchmark did not complete")
end
