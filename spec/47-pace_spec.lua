-- The client's pace: the rate_limit option (a token bucket in csrc/pace.c,
-- asked by the exchange before every API send, whoever drives it), the
-- pause a 429's Retry-After asks of the whole client, and client:bulk()'s
-- window of requests in flight (halved by a 429, grown by successes).
-- Against the local workspace's own rate limit (spec/support/README.md).
-- Timing is asserted only loosely: counts carry the proof.
local webhooks = require("databricks.webhooks")
local config = require("databricks.webhooks.config")
local workspace = require("spec.support.workspace")
local socket = require("socket")
local paths = require("spec.support.paths")

describe("pace", function()
  local srv

  local function new(opts)
    opts.host = opts.host or srv.url
    opts.token = opts.token or srv.token
    return assert(webhooks.new(opts))
  end

  local function hook(i)
    return { events = { "MODEL_VERSION_CREATED" }, model_name = "pace-model",
      http_url_spec = { url = srv.url .. "/__control/sink?n=" .. i } }
  end

  -- n calls of list; returns the seconds they took and how many failed
  local function lists(c, n)
    local t0, failed = socket.gettime(), 0
    for _ = 1, n do
      local ok, err = c:list({})
      if not ok then
        failed = failed + 1
        assert.equals(429, err.status)
      end
    end
    return socket.gettime() - t0, failed
  end

  -- every sink URL 1..n stored exactly once
  local function assert_created_once(n)
    local seen = {}
    for _, wh in ipairs(srv:webhooks()) do
      local i = tonumber(wh.http_url_spec.url:match("n=(%d+)$"))
      assert.is_nil(seen[i], "created twice: " .. tostring(i))
      seen[i] = true
    end
    for i = 1, n do assert.is_true(seen[i], "lost: " .. i) end
    assert.equals(n, #srv:webhooks())
  end

  setup(function() srv = workspace.start() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  describe("single calls", function()
    it("at rate_limit = 20 take about a second for 21 calls, and see no 429", function()
      srv:settings({ rate_limit = 20, rate_limit_burst = 2 })
      local c = new({ rate_limit = 20, retry_timeout = 0 })
      local elapsed, failed = lists(c, 21)
      assert.equals(0, failed)
      assert.equals(0, srv:stats().rate_limited)
      assert.is_true(elapsed >= 0.9 and elapsed < 5, "took " .. elapsed)
      c:close()
    end)

    it("without it, run into the workspace's limit", function()
      srv:settings({ rate_limit = 20, rate_limit_burst = 2 })
      local c = new({ retry_timeout = 0 })
      local _, failed = lists(c, 21)
      assert.is_true(failed > 0)
      assert.is_true(srv:stats().rate_limited > 0)
      c:close()
    end)

    it("wait for a Retry-After another call was told, as the whole client's pause", function()
      srv:settings({ rate_limit = 1, rate_limit_burst = 1 })
      local c = new({ retry_timeout = 10 })
      assert(c:list({}))
      local t0 = socket.gettime()
      assert(c:list({})) -- 429, Retry-After: 1, then the retry
      assert(c:list({})) -- waits for the same pause: its first try is not refused
      assert.is_true(socket.gettime() - t0 >= 0.9)
      assert.is_true(srv:stats().rate_limited <= 2, "429s: " .. srv:stats().rate_limited)
      c:close()
    end)

    it("are paced over a Lua transport too (the Stepper asks the same bucket)", function()
      srv:settings({ rate_limit = 10, rate_limit_burst = 2 })
      local c = new({ rate_limit = 10, retry_timeout = 0, transport = paths.luasocket_transport() })
      local elapsed, failed = lists(c, 6)
      assert.equals(0, failed)
      assert.equals(0, srv:stats().rate_limited)
      assert.is_true(elapsed >= 0.45, "took " .. elapsed)
      c:close()
    end)
  end)

  describe("bulk", function()
    it("with rate_limit under the workspace's limit: nothing lost or twice, 429s few", function()
      srv:settings({ rate_limit = 40 })
      local c = new({ rate_limit = 40, retry_timeout = 60 })
      local reqs = {}
      for i = 1, 80 do reqs[i] = hook(i) end
      local res = c:bulk("create", reqs, { parallel = 32 })
      for i = 1, 80 do assert.is_nil(res[i].err, i) end
      assert_created_once(80)
      assert.is_true(srv:stats().rate_limited <= 4, "429s: " .. srv:stats().rate_limited)
      c:close()
    end)

    it("without it, narrows its window on 429 and widens it again after successes", function()
      srv:settings({ rate_limit = 20 })
      local lines = {}
      local c = new({ retry_timeout = 60, debug = function(l) lines[#lines + 1] = l end })
      local reqs = {}
      for i = 1, 60 do reqs[i] = hook(i) end
      local res = c:bulk("create", reqs, { parallel = 32 })
      for i = 1, 60 do assert.is_nil(res[i].err, i) end
      assert_created_once(60)
      local sizes = {}
      for _, l in ipairs(lines) do
        local n = l:match("bulk: .-at most (%d+) in flight")
        if n then sizes[#sizes + 1] = tonumber(n) end
      end
      assert.equals(16, sizes[1])
      local grew = false
      for k = 2, #sizes do
        assert.is_true(sizes[k] >= 1 and sizes[k] <= 32)
        if sizes[k] > sizes[k - 1] then grew = true end
      end
      assert.is_true(grew, table.concat(sizes, " "))
      -- the pause after a 429 keeps the others from running into the limit
      -- again and again (without the client's own rate_limit, some do)
      assert.is_true(srv:stats().rate_limited < 60, "429s: " .. srv:stats().rate_limited)
      assert.is_true(c:stats().connections <= 33)
      c:close()
    end)
  end)

  describe("rate_limit option", function()
    local function resolve(opts, env)
      opts.host = opts.host or "https://x.cloud.databricks.com"
      opts.token = opts.token or "dapi-t"
      return config.resolve(opts, env or {})
    end

    it("comes from opts, then DATABRICKS_RATE_LIMIT", function()
      assert.equals(2.5, resolve({ rate_limit = 2.5 }, { DATABRICKS_RATE_LIMIT = "20" }).rate_limit)
      assert.equals(20, resolve({}, { DATABRICKS_RATE_LIMIT = " 20 " }).rate_limit)
      assert.is_nil(resolve({}).rate_limit)
      local _, err = resolve({}, { DATABRICKS_RATE_LIMIT = "fast" })
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("rate_limit (from DATABRICKS_RATE_LIMIT)", err.message, 1, true)
      _, err = resolve({}, { DATABRICKS_RATE_LIMIT = "0" })
      assert.matches("greater than 0", err.message, 1, true)
    end)

    it("comes from a profile's rate_limit key, and paces that client", function()
      srv:settings({ rate_limit = 10, rate_limit_burst = 2 })
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("[paced]\nhost = ", srv.url, "\ntoken = ", srv.token, "\nrate_limit = 10\n")
      f:close()
      local c = assert(webhooks.new({ profile = "paced", config_file = path, retry_timeout = 0 }))
      local elapsed, failed = lists(c, 6)
      assert.equals(0, failed)
      assert.is_true(elapsed >= 0.45, "took " .. elapsed)
      c:close()
      f = assert(io.open(path, "w"))
      f:write("[bad]\nhost = ", srv.url, "\ntoken = t\nrate_limit = -3\n")
      f:close()
      local _, err = webhooks.new({ profile = "bad", config_file = path })
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("rate_limit", err.message, 1, true)
      os.remove(path)
    end)

    it("refuses 0, negative, NaN, infinite and non-numbers", function()
      for _, v in ipairs({ 0, -1, 0 / 0, math.huge, "20", true, {} }) do
        local c, err = webhooks.new({ host = "https://x.cloud.databricks.com", token = "t", rate_limit = v })
        assert.is_nil(c)
        assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
        assert.matches("^rate_limit: ", err.message)
      end
    end)
  end)
end)
