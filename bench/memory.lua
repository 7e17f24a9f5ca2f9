--- Memory over a long run: TOTAL mixed calls (create, list of a 100-webhook
-- page, update, delete, test in turn) on one client against the canned
-- server, in one process. Prints RSS after CHECKPOINT calls and at the end,
-- each after a full collection, so the figures compare what stays allocated
-- (C heap and Lua heap) rather than where the collector's cycle happens to
-- be. Every 1,000 calls it also makes one invalid call (refused before
-- anything is sent) so error objects are part of the run.
--
--   lua5.4 bench/memory.lua BUILD URL TOKEN TOTAL CHECKPOINT [CAFILE]
--
-- CAFILE: the CA of an https URL (bench.lua runs this over TLS + HTTP/2).
--
-- Also run under valgrind memcheck with a small TOTAL: it closes the client
-- and the Lua state before exiting, so anything still allocated is a leak.
local build, url, token, total, checkpoint, cafile = ...
total, checkpoint = tonumber(total), tonumber(checkpoint)
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local webhooks = require("databricks.webhooks")
local workload = require("workload")

local MIX = { "create", "list", "update", "delete", "test" }
local ID = "0123456789abcdef0123456789abcdef"
local sink = url .. "/__control/sink"

local status_kb = require("spec.support.util").proc_status_kb

local function settle()
  collectgarbage()
  collectgarbage()
  return status_kb("VmRSS"), collectgarbage("count")
end

local client = assert(webhooks.new({ host = url, token = token, ca_file = cafile }))
local errors, refused = 0, 0
local rss1, heap1
for i = 1, total do
  local op = MIX[(i - 1) % #MIX + 1]
  local res, err = client[op](client, workload.request(op, ID, sink))
  if res == nil then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("memory: ", op, ": ", tostring(err), "\n") end
  end
  if i % 1000 == 0 then
    local bad, berr = client:create({ events = {}, http_url_spec = { url = sink } })
    if bad == nil and berr.error_code == "INVALID_PARAMETER_VALUE" then refused = refused + 1 end
  end
  if i == checkpoint then
    rss1, heap1 = settle()
    print(("memory: RSS after %d calls: %d KiB (Lua heap %.0f KiB)"):format(i, rss1, heap1))
  end
end
local rss2, heap2 = settle()
print(("memory: RSS after %d calls: %d KiB (Lua heap %.0f KiB)"):format(total, rss2, heap2))
rss1, heap1 = rss1 or rss2, heap1 or heap2
local stats = client:stats()
print(("RESULT memory calls=%d checkpoint=%d rss1_kb=%d rss2_kb=%d growth_kb=%d heap1_kb=%.0f "
  .. "heap2_kb=%.0f peak_kb=%d errors=%d refused=%d proto=%s connections=%d"):format(total, checkpoint,
  rss1, rss2, rss2 - rss1, heap1, heap2, status_kb("VmHWM"), errors, refused,
  tostring(stats.http_version), stats.connections))
client:close()
client = nil -- luacheck: ignore 311
collectgarbage()
os.exit(errors == 0 and 0 or 1, true)
