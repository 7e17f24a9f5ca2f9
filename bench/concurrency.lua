--- Concurrency: deleting N webhooks with PARALLEL calls in flight (the bulk
-- API, libcurl multi) vs one at a time, against the local workspace answering
-- every API call after LATENCY_MS. Target: bulk at least 6x faster.
--
--   lua5.4 bench/concurrency.lua BUILD [N=500] [PARALLEL=8] [LATENCY_MS=50]
--
-- The bulk API is looked for as client:bulk(op, requests, opts) or
-- webhooks.bulk(client, op, requests, opts), called as
--   client:bulk("delete", { { id = ... }, ... }, { parallel = 8 })
-- and expected to return one { ok = result } or { err = error } per request,
-- in input order. Without it this prints "concurrency: skipped (no bulk API)".
--
-- Starts a workspace of its own (so the latency setting touches nothing
-- else), creates 2N webhooks at no latency, sets the latency, then deletes N
-- one at a time and the other N in one bulk call, timing both by wall clock.
local build, n, parallel, latency = ...
n, parallel, latency = tonumber(n) or 500, tonumber(parallel) or 8, tonumber(latency) or 50
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = (build or "build/5.4") .. "/?.so;" .. package.cpath

local webhooks = require("databricks.webhooks")

-- The API exists without any server: probe a client that never connects.
local probe = webhooks.new({ host = "http://127.0.0.1:9", token = "probe", retry_timeout = 0 })
local bulk
if probe and type(probe.bulk) == "function" then
  bulk = function(client, op, reqs, opts) return client:bulk(op, reqs, opts) end
elseif type(webhooks.bulk) == "function" then
  bulk = function(client, op, reqs, opts) return webhooks.bulk(client, op, reqs, opts) end
end
if probe then probe:close() end
if not bulk then
  print("concurrency: skipped (no bulk API)")
  print("RESULT concurrency skipped=1")
  os.exit(0)
end

local socket = require("socket")
local workload = require("workload")
local ws = require("spec.support.workspace")

local srv = ws.start({})
local ok, err = pcall(function()
  local client = assert(webhooks.new({ host = srv.url, token = srv.token }))
  local sink = srv.url .. "/__control/sink"
  local ids = {}
  for i = 1, 2 * n do
    ids[i] = assert(client:create(workload.request("create", nil, sink))).id
  end
  srv:settings({ latency_ms = latency })

  local t0 = socket.gettime()
  for i = 1, n do assert(client:delete({ id = ids[i] })) end
  local seq = socket.gettime() - t0

  local reqs = {}
  for i = 1, n do reqs[i] = { id = ids[n + i] } end
  t0 = socket.gettime()
  local results = bulk(client, "delete", reqs, { parallel = parallel })
  local par = socket.gettime() - t0

  local failed = 0
  for i = 1, n do
    local r = results[i]
    if type(r) ~= "table" or r.ok ~= true or r.err ~= nil then
      failed = failed + 1
      if failed <= 3 then io.stderr:write(("concurrency: result %d: %s\n"):format(i,
        type(r) == "table" and tostring(r.err) or tostring(r))) end
    end
  end
  local left = #srv:webhooks()
  local speedup = seq / par
  print(("concurrency: delete %d one at a time %.2f s, %d in flight %.2f s: %.1fx faster "
    .. "(target >= 6x)%s"):format(n, seq, parallel, par, speedup,
    (failed > 0 or left > 0) and (", %d failed, %d left"):format(failed, left) or ""))
  print(("RESULT concurrency n=%d parallel=%d latency_ms=%d seq_s=%.3f bulk_s=%.3f speedup=%.2f "
    .. "failed=%d left=%d"):format(n, parallel, latency, seq, par, speedup, failed, left))
  client:close()
end)
srv:stop()
if not ok then
  print("concurrency: failed: " .. tostring(err))
  print("RESULT concurrency failed=1")
  os.exit(1)
end
