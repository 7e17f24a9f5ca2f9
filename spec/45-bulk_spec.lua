-- client:bulk(): many calls of one operation side by side (libcurl multi).
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")
local socket = require("socket")

describe("bulk", function()
  local srv, client

  local function hook(i)
    return { events = { "MODEL_VERSION_CREATED" }, model_name = "bulk-model",
      http_url_spec = { url = srv.url .. "/__control/sink?n=" .. i } }
  end

  setup(function()
    srv = workspace.start()
    client = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 0 })
  end)
  teardown(function() client:close(); srv:stop() end)
  before_each(function() srv:reset() end)

  it("creates many, in input order, answering invalid ones without sending them", function()
    local reqs = {}
    for i = 1, 20 do reqs[i] = hook(i) end
    reqs[7] = { events = { "NOPE" }, http_url_spec = { url = "https://x" } }
    local res = client:bulk("create", reqs, { parallel = 4 })
    assert.equals(20, #res)
    for i, r in ipairs(res) do
      if i == 7 then
        assert.is_nil(r.ok)
        assert.equals("INVALID_PARAMETER_VALUE", r.err.error_code)
      else
        assert.is_nil(r.err)
        assert.equals(srv.url .. "/__control/sink?n=" .. i, r.ok.http_url_spec.url)
      end
    end
    assert.equals(19, srv:stats().by_path["/api/2.0/mlflow/registry-webhooks/create"])
    assert.is_true(srv:stats().connections <= 5)
  end)

  it("keeps going when some fail, and is faster than one at a time", function()
    local ids = {}
    for i = 1, 24 do ids[i] = assert(client:create(hook(i))).id end
    srv:settings{ latency_ms = 100 }
    srv:faults{ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "x",
      path = "delete", count = 3 } }
    local t0 = socket.gettime()
    local res = client:bulk("delete", ids, { parallel = 8 })
    local elapsed = socket.gettime() - t0
    local ok, failed = 0, 0
    for _, r in ipairs(res) do
      if r.ok then ok = ok + 1 else failed = failed + 1; assert.equals(500, r.err.status) end
    end
    assert.equals(21, ok)
    assert.equals(3, failed)
    assert.is_true(elapsed < 24 * 0.1 / 2, "took " .. elapsed) -- sequential would take 2.4 s
  end)

  it("over http:// starts the first batch at once, a connection each (nothing waits for HTTP/2)", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 0 })
    srv:settings{ latency_ms = 300 }
    local reqs = {}
    for i = 1, 4 do reqs[i] = hook(i) end
    for _, r in ipairs(c:bulk("create", reqs, { parallel = 4 })) do assert.is_nil(r.err) end
    -- waiting for the first answer (PIPEWAIT) would send the others over its connection, one by one
    assert.equals(4, c:stats().connections)
    assert.equals(4, srv:stats().connections)
    c:close()
  end)

  it("retries 429 per request", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 5 })
    local ids = {}
    for i = 1, 4 do ids[i] = assert(c:create(hook(i))).id end
    srv:faults{ { kind = "429", retry_after = "0", path = "update", count = 2 } }
    local reqs = {}
    for i, id in ipairs(ids) do reqs[i] = { id = id, status = "DISABLED" } end
    for _, r in ipairs(c:bulk("update", reqs)) do assert.equals("DISABLED", r.ok.status) end
    c:close()
  end)

  it("raises on misuse", function()
    assert.has_error(function() client:bulk("list", {}) end)
    assert.has_error(function() client:bulk("delete", "x") end)
    assert.has_error(function() client:bulk("delete", { true }) end)
    assert.has_error(function() client:bulk("delete", {}, { parallel = 0 }) end)
    assert.same({}, client:bulk("delete", {}))
  end)
end)
