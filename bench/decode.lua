--- Decoding a 1,000-webhook list page: the module's cost vs cjson.decode alone.
--
--   lua5.4 bench/decode.lua BUILD [ROUNDS] [ITERS]
--   lua5.4 bench/decode.lua BUILD count cjson|module|none N
--   lua5.4 bench/decode.lua BUILD page FILE
--
-- The second form only runs N calls of one side, for bench.lua to count
-- instructions under callgrind (a cross-check that machine noise cannot move).
-- The third times cjson.decode of FILE alone (the 100-webhook page the canned
-- server sends): what a Lua client must add to the floor's list call, for the
-- list target (module list call <= 1.3x floor + cjson.decode).
--
-- The body is canned.page(1000), byte for byte what the canned server sends for
-- list?max_results=1000 (354 KB). Two things are timed in the same process,
-- interleaved, ROUNDS times ITERS iterations each, CPU by os.clock():
--
--  cjson   cjson.decode(body): what the LuaSocket client does with the body,
--          and the least any Lua client must do to hand back Lua tables;
--  module  client:list{ max_results = 1000 } on a client whose transport is a
--          Lua function returning { status = 200, body = body }: the module's
--          whole list path without the network, i.e. validation, URL building,
--          decode (csrc/json_decode.c: nulls dropped, integral numbers made
--          integers on 5.3+) and the list shaping.
--
-- The fixed part of a module call (validation, the transport callback, error
-- free plumbing) is measured with a tiny page ("empty") and shown apart; it
-- stays inside the module figure. Each round times a cjson batch and a module
-- batch back to back; the ratio is the median of the per-round ratios (which
-- cancels slow drifts of the machine), the times are medians too. Each batch
-- starts from a full collection, and the garbage a batch makes is collected
-- inside it, so both sides pay their own GC.
local build, rounds, iters, count_n = ...
local count_side, page_file
if rounds == "count" then count_side, rounds = iters, nil end
if rounds == "page" then page_file, rounds, iters = iters, nil, nil end
rounds, iters = tonumber(rounds) or 31, tonumber(iters) or 12
package.path = "./bench/?.lua;" .. (os.getenv("BENCH_LUA_DIR") or "./lua") .. "/?.lua;./?.lua;"
  .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local cjson = require("cjson")

local function batch(f, n)
  collectgarbage()
  collectgarbage()
  local t0 = os.clock()
  for _ = 1, n do f() end
  return (os.clock() - t0) / n * 1e6
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

if page_file then
  local f = assert(io.open(page_file, "rb"))
  local text = f:read("*a")
  f:close()
  local samples = {}
  for r = 1, 31 do samples[r] = batch(function() return cjson.decode(text) end, 60) end
  print(("RESULT page bytes=%d cjson_us=%.2f"):format(#text, median(samples)))
  return
end

local webhooks = require("databricks.webhooks")
local canned = require("canned")

local BASE = "http://127.0.0.1:9"
local body = canned.page(1000, BASE)
local empty = '{"webhooks":[]}'

local function client_for(text)
  local answer = { status = 200, headers = {}, body = text }
  return assert(webhooks.new({
    host = BASE, token = "dapi-decode-bench",
    transport = function() return answer end,
  }))
end

local big, small = client_for(body), client_for(empty)
local req = { max_results = 1000 }

-- sanity: both paths see the same 1,000 webhooks (in a block: a decoded page
-- kept alive would make every collection during the measurement dearer)
do
  local page = assert(big:list(req))
  assert(#page.webhooks == 1000 and #cjson.decode(body).webhooks == 1000)
end

local cases = {
  cjson = function() return cjson.decode(body) end,
  module = function() return big:list(req) end,
  empty = function() return small:list(req) end,
}
if count_side then
  local f = cases[count_side] or function() end
  for _ = 1, tonumber(count_n) do f() end
  print("RESULT count side=" .. count_side .. " n=" .. count_n)
  return
end

local samples = { cjson = {}, module = {}, empty = {}, ratio = {} }
for r = 1, rounds do
  -- alternate which side goes first
  local order = r % 2 == 1 and { "cjson", "module", "empty" } or { "module", "cjson", "empty" }
  for _, name in ipairs(order) do
    local s = samples[name]
    s[#s + 1] = batch(cases[name], name == "empty" and iters * 50 or iters)
  end
  samples.ratio[r] = samples.module[r] / samples.cjson[r]
end

local c, m, e = median(samples.cjson), median(samples.module), median(samples.empty)
print(("RESULT decode bytes=%d cjson_us=%.1f module_us=%.1f fixed_us=%.2f ratio=%.3f"):format(
  #body, c, m, e, median(samples.ratio)))
