--- Concurrency: N deletes with added latency over TLS + HTTP/2, one at a time
-- vs PARALLEL in flight (client:bulk, multiplexed on one connection).
-- Target: the bulk call at least 20x faster, and the whole run on one TCP
-- connection (client:stats().connections == 1).
--
--   lua5.4 bench/concurrency.lua BUILD URL CAFILE [N=500] [PARALLEL=32] [LATENCY_MS=50] [API=databricks]
--
-- API "mlflow" makes the same run with an open-source MLflow client (DELETE
-- /api/2.0/mlflow/webhooks/{id}, answered as late on the same listener).
-- URL is the canned server's latency listener (bench/canned.lua: TLS + HTTP/2,
-- every delete answered after LATENCY_MS; the figure is only printed here).
-- One client makes both runs: N deletes one at a time, then N more in one
-- client:bulk("delete", ..., { parallel = PARALLEL }) call, each timed by wall
-- clock; every result must be { ok = true }.
local build, url, cafile, n, parallel, latency, api = ...
api = api or "databricks"
n, parallel, latency = tonumber(n) or 500, tonumber(parallel) or 32, tonumber(latency) or 50
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = (build or "build/5.4") .. "/?.so;" .. package.cpath

local socket = require("socket")
local webhooks = require("databricks.webhooks")

local function id(i) return ("%032x"):format(i) end

local ok, err = pcall(function()
  local client = assert(webhooks.new({ host = url, token = "dapi-bench-token", ca_file = cafile,
    api = api }))

  local t0 = socket.gettime()
  for i = 1, n do assert(client:delete(api == "mlflow" and id(i) or { id = id(i) })) end
  local seq = socket.gettime() - t0

  local reqs = {}
  for i = 1, n do reqs[i] = { id = id(n + i) } end
  t0 = socket.gettime()
  local results = client:bulk("delete", reqs, { parallel = parallel })
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
  local stats = client:stats()
  local speedup = seq / par
  print(("concurrency%s: delete %d one at a time %.2f s, %d in flight %.2f s: %.1fx faster "
    .. "(target >= 20x); %d TCP connection(s), %s, %d requests%s"):format(
    api == "mlflow" and " (MLflow)" or "", n, seq, parallel, par,
    speedup, stats.connections, tostring(stats.http_version), stats.requests,
    failed > 0 and (", %d failed"):format(failed) or ""))
  print(("RESULT concurrency api=%s n=%d parallel=%d latency_ms=%d seq_s=%.3f bulk_s=%.3f speedup=%.2f "
    .. "failed=%d connections=%d proto=%s"):format(api, n, parallel, latency, seq, par, speedup, failed,
    stats.connections, (tostring(stats.http_version):gsub("^HTTP/", ""))))
  client:close()
end)
if not ok then
  print("concurrency: failed: " .. tostring(err))
  print("RESULT concurrency failed=1")
  os.exit(1)
end
