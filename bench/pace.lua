--- Pace: N creates in one client:bulk call with PARALLEL in flight against the
-- local workspace limited to LIMIT requests per second (its default burst: one
-- second's worth; 429 + Retry-After beyond it), twice:
--   limited   the client's rate_limit = LIMIT (the point of the option);
--   adaptive  no rate_limit: only bulk's window (halved on 429, widened after
--             successes) and the pause a Retry-After asks for.
-- Targets (the first run): throughput >= 0.9 x LIMIT, at most 5% of the
-- requests answered 429, and the webhooks listed afterwards are exactly the N
-- created (none lost, none twice). The second run is reported only.
--
--   lua5.4 bench/pace.lua BUILD PREFIX [N=500] [PARALLEL=32] [LIMIT=50]
local build, prefix, n, parallel, limit = ...
n, parallel, limit = tonumber(n) or 500, tonumber(parallel) or 32, tonumber(limit) or 50
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = (build or "build/5.4") .. "/?.so;" .. package.cpath

local socket = require("socket")
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")

local CREATE = "/api/2.0/mlflow/registry-webhooks/create"

local function hook(srv, i)
  return { events = { "MODEL_VERSION_CREATED", "TRANSITION_REQUEST_CREATED" }, model_name = "pace-model",
    description = "pace " .. i, http_url_spec = { url = srv.url .. "/__control/sink?n=" .. i, secret = "s" } }
end

-- Lists every webhook through the client (paced too) and counts the URLs 1..n.
local function audit(client)
  local seen, lost, twice = {}, 0, 0
  for wh in client:each({ model_name = "pace-model", max_results = 100 }) do
    local i = tonumber(wh.http_url_spec.url:match("n=(%d+)$"))
    if seen[i] then twice = twice + 1 end
    seen[i] = true
  end
  for i = 1, n do if not seen[i] then lost = lost + 1 end end
  return lost, twice
end

local function run(srv, name, rate_limit)
  srv:reset()
  srv:settings({ rate_limit = limit })
  local client = assert(webhooks.new({ host = srv.url, token = srv.token, rate_limit = rate_limit }))
  local reqs = {}
  for i = 1, n do reqs[i] = hook(srv, i) end
  local t0 = socket.gettime()
  local results = client:bulk("create", reqs, { parallel = parallel })
  local elapsed = socket.gettime() - t0
  local failed = 0
  for i = 1, n do
    if not (results[i] and results[i].ok) then failed = failed + 1 end
  end
  local stats = srv:stats()
  local sent, limited = stats.by_path[CREATE] or 0, stats.rate_limited
  local lost, twice = audit(client)
  client:close()
  local r = { name = name, elapsed = elapsed, rate = n / elapsed, sent = sent, limited = limited,
    share = sent > 0 and limited / sent or 0, failed = failed, lost = lost, twice = twice }
  print(("pace: %s: %d creates, %d in flight, workspace limit %d/s: %.2f s, %.1f creates/s (%.2fx the "
    .. "limit), %d requests, %d answered 429 (%.1f%%), %d failed, %d lost, %d twice"):format(
    name, n, parallel, limit, elapsed, r.rate, r.rate / limit, sent, limited, 100 * r.share, failed,
    lost, twice))
  print(("RESULT pace_%s n=%d parallel=%d limit=%d elapsed_s=%.3f rate=%.2f ratio=%.3f sent=%d "
    .. "limited=%d share=%.4f failed=%d lost=%d twice=%d"):format(name, n, parallel, limit, elapsed,
    r.rate, r.rate / limit, sent, limited, r.share, failed, lost, twice))
  return r
end

local srv
local ok, err = pcall(function()
  srv = workspace.start({ prefix = prefix })
  run(srv, "limited", limit)
  run(srv, "adaptive", nil)
end)
if srv then srv:stop() end
if not ok then
  print("pace: failed: " .. tostring(err))
  print("RESULT pace_limited failed=1")
  os.exit(1)
end
