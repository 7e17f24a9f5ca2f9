--- One measurement in a process of its own: WARMUP untimed calls of one
-- operation, then N timed ones, by one of the Lua clients; prints a RESULT
-- line (the same format as floor.c and curl_cli.c).
--
--   lua5.4|luajit bench/runner.lua CLIENT OP N WARMUP URL TOKEN SINK IDS_IN|- IDS_OUT|- BUILD UA CAFILE|-
--
-- CAFILE: the CA an https URL's certificate chains to. The RESULT line's
-- proto is the HTTP version the last call used ("1.1", "2"): the module's
-- client:stats().http_version; the LuaSocket client speaks HTTP/1.1 only.
-- CLIENT: "module" (databricks.webhooks, core from BUILD; an `api = "mlflow"`
-- client for the "mlflow-*" ops) or "luasocket" (bench/luasocket_client.lua,
-- Databricks ops only). Call i uses line i of IDS_IN (cycling) as the
-- webhook id; a create run writes the ids it got to IDS_OUT.
--
-- CPU is os.clock(): C's clock(), which glibc reads from
-- CLOCK_PROCESS_CPUTIME_ID, the user+sys time of this process (the same sum
-- getrusage(RUSAGE_SELF) reports, at nanosecond resolution); the user/sys
-- split comes from /proc/self/stat (10 ms ticks, informational). Peak RSS is
-- VmHWM from /proc/self/status (what ru_maxrss reports). The wall clock is
-- LuaSocket's gettime (socket.core only, for the module client).
local client_kind, op, n, warmup, url, token, sink, ids_in, ids_out, build, ua, cafile = ...
if cafile == "-" then cafile = nil end
n, warmup = tonumber(n), tonumber(warmup)
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local gettime = require("socket.core").gettime
local workload = require("workload")

local proc_status = require("spec.support.util").proc_status_kb

local function proc_times()
  local f = assert(io.open("/proc/self/stat"))
  local text = f:read("*a")
  f:close()
  local rest = text:match("%) (.*)$") -- fields after the command name
  local fields = {}
  for v in rest:gmatch("%S+") do fields[#fields + 1] = v end
  -- utime, stime are fields 14, 15 of the line, i.e. 12, 13 after "pid (comm)"
  return tonumber(fields[12]) / 100, tonumber(fields[13]) / 100
end

local function read_ids(path)
  local ids = {}
  if path == "-" then return ids end
  for line in io.lines(path) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  return ids
end

local client, err
if client_kind == "module" then
  client, err = require("databricks.webhooks").new({ host = url, token = token, ca_file = cafile,
    api = workload.api(op) == "mlflow" and "mlflow" or nil })
elseif client_kind == "luasocket" then
  client, err = require("luasocket_client").new({ host = url, token = token, user_agent = ua,
    cafile = cafile })
else
  error("unknown client " .. tostring(client_kind))
end
assert(client, tostring(err))

local ids = read_ids(ids_in)
local nids = #ids
local fixed_id = "0123456789abcdef0123456789abcdef"
local got = {}
local method = client[workload.METHOD[op]]
local errors = 0
local total = n + warmup
local c0, w0, u0, s0

for i = 1, total do
  if i == warmup + 1 then
    collectgarbage()
    u0, s0 = proc_times()
    w0, c0 = gettime(), os.clock()
  end
  local id = nids > 0 and ids[(i - 1) % nids + 1] or fixed_id
  local res, e = method(client, workload.request(op, id, sink))
  if res == nil then
    errors = errors + 1
    if errors <= 3 then io.stderr:write(("runner %s %s: %s\n"):format(client_kind, op, tostring(e and
      (e.error_code or "") .. " " .. tostring(e.message or e) or "nil"))) end
  elseif op == "create" then
    got[i] = res.id
  end
end

local cpu, wall = os.clock() - c0, gettime() - w0
local u1, s1 = proc_times()
local proto = "1.1"
if client_kind == "module" then
  proto = (client:stats().http_version or "?"):match("^HTTP/(.*)$") or "?"
end
print(("RESULT client=%s op=%s n=%d wall_s=%.6f cpu_s=%.6f user_s=%.2f sys_s=%.2f rss_kb=%d errors=%d "
  .. "proto=%s"):format(client_kind, op, n, wall, cpu, u1 - u0, s1 - s0, proc_status("VmHWM"), errors, proto))

if ids_out ~= "-" then
  local f = assert(io.open(ids_out, "w"))
  for i = 1, total do f:write(got[i] or "", "\n") end
  f:close()
end
client:close()
os.exit(errors == 0 and 0 or 1)
