-- The contract of an MLflow client (api = "mlflow") against the local MLflow
-- server, over real HTTP on loopback, once per path a call can take
-- (spec/support/paths.lua): libcurl over plain HTTP, TLS + HTTP/1.1 and
-- HTTP/2, client:bulk(), and a Lua transport.
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")
local cjson = require("cjson")

local BASE = "/api/2.0/mlflow/webhooks"

for _, path in ipairs(paths.list) do
describe("MLflow client over " .. path.name, function()
  local srv, client

  local function new(opts)
    opts = opts or {}
    opts.api = "mlflow"
    if opts.retry_timeout == nil then opts.retry_timeout = 0 end
    return paths.client(path, srv, opts)
  end

  local function hook(extra)
    local req = { name = "hook-a", url = srv.url .. "/__control/sink", events = { "model_version.created" } }
    for k, v in pairs(extra or {}) do req[k] = v end
    return req
  end

  local function api_requests()
    local out = {}
    for _, r in ipairs(srv:requests()) do
      if r.path:sub(1, #BASE) == BASE then out[#out + 1] = r end
    end
    return out
  end

  local function last_request()
    local all = api_requests()
    return all[#all]
  end

  setup(function()
    srv = workspace.start{ api = "mlflow", fronts = true, allowed_schemes = "http,https",
      allow_private_ips = true, delivery_backoff = 0 }
  end)

  teardown(function()
    if client then client:close() end
    srv:stop()
  end)

  before_each(function()
    srv:reset()
    if client then client:close() end
    client = new()
  end)

  it("says which API it speaks", function()
    assert.equals("mlflow", client.api)
    assert.equals(15, #webhooks.MLFLOW_EVENTS)
    assert.same({ "ACTIVE", "DISABLED" }, webhooks.MLFLOW_STATUSES)
  end)

  describe("create", function()
    it("sends events as UPPERCASE objects, once each, and returns lowercase names, webhook_id and id", function()
      local wh, err = client:create(hook{ events = { "model_version.created", "MODEL_VERSION.CREATED",
        { entity = "prompt_alias", action = "DELETED" } }, description = "d", secret = "s3cret" })
      assert.is_nil(err)
      assert.is_string(wh.webhook_id)
      assert.equals(wh.webhook_id, wh.id)
      assert.same({ "model_version.created", "prompt_alias.deleted" }, wh.events)
      assert.equals("ACTIVE", wh.status)
      assert.equals("d", wh.description)
      assert.is_nil(wh.secret)
      assert.equals("number", type(wh.creation_timestamp))
      if math.type then assert.equals("integer", math.type(wh.creation_timestamp)) end
      local r = last_request()
      assert.equals("POST", r.method)
      assert.equals(BASE, r.path)
      assert.matches("^application/json", r.headers["content-type"])
      local body = cjson.decode(r.body)
      assert.same({ { entity = "MODEL_VERSION", action = "CREATED" }, { entity = "PROMPT_ALIAS", action = "DELETED" } },
        body.events)
    end)

    it("returns the server's 400 for a URL scheme it does not allow", function()
      srv:settings{ allowed_schemes = "https" }
      local wh, err = client:create(hook())
      assert.is_nil(wh)
      assert.equals(400, err.status)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("scheme", err.message)
    end)
  end)

  describe("validation (nothing is sent)", function()
    local cases = {
      { "an invalid pair", "create", function() return hook{ events = { "registered_model.deleted" } } end,
        "not a valid event" },
      { "updated, valid for no entity", "create", function() return hook{ events = { "model_version.updated" } } end,
        "not a valid event" },
      { "an event table with another field", "create",
        function() return hook{ events = { { entity = "MODEL_VERSION", action = "CREATED", x = 1 } } } end,
        "entity and action" },
      { "empty events", "create", function() return hook{ events = {} } end, "must not be empty" },
      { "a name with a blank", "create", function() return hook{ name = "my hook" } end, "name" },
      { "a name ending in '-'", "create", function() return hook{ name = "hook-" } end, "name" },
      { "a name of 64 characters", "create", function() return hook{ name = ("a"):rep(64) } end, "name" },
      { "a URL without a scheme", "create", function() return hook{ url = "hooks.example.com/x" } end, "url" },
      { "a URL without a host", "create", function() return hook{ url = "https:///x" } end, "url" },
      { "TEST_MODE", "create", function() return hook{ status = "TEST_MODE" } end, "not a valid status" },
      { "model_name", "create", function() return hook{ model_name = "m" } end, "unknown field 'model_name'" },
      { "http_url_spec", "create", function() return hook{ http_url_spec = { url = "https://x" } } end,
        "unknown field 'http_url_spec'" },
      { "max_results 0", "list", function() return { max_results = 0 } end, "1 to 1000" },
      { "max_results 1001", "list", function() return { max_results = 1001 } end, "1 to 1000" },
      { "events = {} on update", "update", function() return { id = "x", events = {}, status = "ACTIVE" } end,
        "must not be empty" },
      { "a test event that is no pair", "test", function() return { id = "x", event = "model_version" } end,
        "not a valid event" },
      { "get with model_name", "get", function() return { id = "x", model_name = "m" } end,
        "unknown field 'model_name'" },
    }
    for _, case in ipairs(cases) do
      it(case[1], function()
        local before = #api_requests()
        local out, err = client[case[2]](client, case[3]())
        assert.is_nil(out)
        assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
        assert.is_nil(err.status)
        assert.matches(case[4], err.message, 1, true)
        assert.equals(before, #api_requests())
      end)
    end

    it("never echoes a secret", function()
      local _, err = client:create(hook{ secret = { "hunter2-secret" } })
      assert.is_nil(tostring(err):find("hunter2", 1, true))
    end)
  end)

  describe("get, list and each", function()
    it("get reads one webhook; an unknown id is RESOURCE_DOES_NOT_EXIST", function()
      local wh = assert(client:create(hook()))
      local got = assert(client:get(wh.id))
      assert.equals(wh.id, got.id)
      assert.equals("hook-a", got.name)
      got = assert(client:get{ id = wh.id })
      assert.equals(wh.id, got.webhook_id)
      local none, err = client:get("00000000-0000-4000-8000-000000000000")
      assert.is_nil(none)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
      assert.equals(404, err.status)
    end)

    it("list reads {} as no webhooks", function()
      local page = assert(client:list())
      assert.same({}, page.webhooks)
      assert.is_nil(page.next_page_token)
    end)

    it("each follows every page", function()
      for i = 1, 5 do assert(client:create(hook{ name = "h" .. i })) end
      local names = {}
      for wh in client:each{ max_results = 2 } do names[#names + 1] = wh.name end
      table.sort(names)
      assert.same({ "h1", "h2", "h3", "h4", "h5" }, names)
      local page = assert(client:list{ max_results = 2 })
      assert.equals(2, #page.webhooks)
      assert.is_string(page.next_page_token)
      local r = last_request()
      assert.equals("max_results=2", r.query)
    end)
  end)

  describe("update", function()
    it("without status keeps the status (read first), as the server would otherwise re-enable", function()
      local wh = assert(client:create(hook{ status = "DISABLED" }))
      local up = assert(client:update{ id = wh.id, description = "new" })
      assert.equals("DISABLED", up.status)
      assert.equals("new", up.description)
      local reqs = api_requests()
      assert.equals("GET", reqs[#reqs - 1].method)
      local patch = reqs[#reqs]
      assert.equals("PATCH", patch.method)
      assert.equals(BASE .. "/" .. wh.id, patch.path)
      assert.equals("DISABLED", cjson.decode(patch.body).status)
      assert.is_nil(cjson.decode(patch.body).id)
    end)

    it("with status sends just what is given; events replace the set", function()
      local wh = assert(client:create(hook()))
      local up = assert(client:update{ id = wh.id, status = "DISABLED", events = { "prompt.created" } })
      assert.equals("DISABLED", up.status)
      assert.same({ "prompt.created" }, up.events)
      assert.equals("PATCH", last_request().method)
    end)

    it("reports an unknown id", function()
      local up, err = client:update{ id = "nope", status = "ACTIVE" }
      assert.is_nil(up)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
    end)
  end)

  describe("delete and test", function()
    it("delete takes a bare id; a deleted webhook is gone", function()
      local wh = assert(client:create(hook()))
      assert.is_true(client:delete(wh.id))
      local r = last_request()
      assert.equals("DELETE", r.method)
      assert.equals(BASE .. "/" .. wh.id, r.path)
      local _, err = client:get(wh.id)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
      local ok, derr = client:delete(wh.id)
      assert.is_nil(ok)
      assert.equals(404, derr.status)
    end)

    it("test sends {} with a Content-Type and returns the result", function()
      local wh = assert(client:create(hook{ secret = "s" }))
      local res = assert(client:test(wh.id))
      assert.is_true(res.success)
      assert.equals(200, res.response_status)
      local r = last_request()
      assert.equals(BASE .. "/" .. wh.id .. "/test", r.path)
      assert.equals("{}", r.body)
      assert.matches("^application/json", r.headers["content-type"])
      res = assert(client:test{ id = wh.id, event = "prompt_alias.deleted" })
      assert.is_true(res.success)
      assert.same({ entity = "PROMPT_ALIAS", action = "DELETED" }, cjson.decode(last_request().body).event)
    end)

    it("test of a receiver that fails is a result, not an error", function()
      local wh = assert(client:create(hook{ url = "http://127.0.0.1:1/closed" }))
      local res = assert(client:test(wh.id))
      assert.is_false(res.success)
      assert.is_string(res.error_message)
    end)
  end)

  describe("errors", function()
    it("a 500 HTML page is an error with its title", function()
      srv:faults{ { kind = "status", status = 500, path = BASE } }
      local _, err = client:list()
      assert.equals(500, err.status)
    end)

    it("never replays a create after a dropped connection, but retries a get", function()
      local c = new{ retry_timeout = 5 }
      srv:faults{ { kind = "drop", path = BASE, method = "POST" } }
      local res, err = c:create(hook())
      assert.is_nil(res)
      assert.equals("CONNECTION_ERROR", err.error_code)
      assert.same({}, assert(c:list()).webhooks)
      local wh = assert(c:create(hook()))
      srv:faults{ { kind = "drop", path = wh.id, method = "GET" } }
      assert.equals(wh.id, assert(c:get(wh.id)).id)
      c:close()
    end)

    it("says what a debug line says, never the secret or the token", function()
      local lines = {}
      local c = new{ debug = function(line) lines[#lines + 1] = line end }
      local wh = assert(c:create(hook{ secret = "debug-secret-x" }))
      assert(c:get(wh.id))
      assert.is_true(#lines >= 2)
      for _, line in ipairs(lines) do assert.is_nil(line:find("debug-secret-x", 1, true)) end
      assert.matches("GET " .. BASE .. "/" .. wh.id, table.concat(lines, "\n"), 1, true)
      c:close()
    end)

    it("503 is retried within retry_timeout", function()
      local c = new{ retry_timeout = 30 }
      srv:faults{ { kind = "503", path = BASE, count = 1 } }
      local page = assert(c:list())
      assert.same({}, page.webhooks)
      c:close()
    end)
  end)
end)
end

describe("MLflow client credentials", function()
  it("sends a Bearer token, Basic credentials, or nothing", function()
    local srv = workspace.start{ api = "mlflow", token = "mlflow-token" }
    local c = assert(webhooks.new{ api = "mlflow", host = srv.url, token = "mlflow-token" })
    assert(c:list())
    local none = assert(webhooks.new{ api = "mlflow", host = srv.url })
    local _, err = none:list()
    assert.equals(401, err.status)
    assert.equals("UNAUTHENTICATED", err.error_code)
    c:close(); none:close(); srv:stop()
    srv = workspace.start{ api = "mlflow", username = "u", password = "p" }
    c = assert(webhooks.new{ api = "mlflow", host = srv.url, username = "u", password = "p" })
    assert(c:list())
    local bad = assert(webhooks.new{ api = "mlflow", host = srv.url, username = "u", password = "wrong" })
    _, err = bad:list()
    assert.equals(401, err.status)
    assert.is_nil(tostring(err):find("wrong", 1, true))
    c:close(); bad:close(); srv:stop()
  end)
end)

describe("client:get on Databricks", function()
  local srv, c
  setup(function() srv = workspace.start() end)
  teardown(function() c:close(); srv:stop() end)

  it("pages through list, narrowed by model_name, and stops at the first match", function()
    c = assert(webhooks.new{ host = srv.url, token = srv.token })
    local ids = {}
    for i = 1, 3 do
      local wh = assert(c:create{ model_name = "m" .. i, events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = "https://hooks.example/x" } })
      ids[i] = wh.id
    end
    assert.equals(ids[2], assert(c:get(ids[2])).id)
    assert.equals(ids[3], assert(c:get{ id = ids[3], model_name = "m3" }).id)
    local _, err = c:get{ id = ids[1], model_name = "m2" }
    assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
    _, err = c:get("no-such-id")
    assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
    _, err = c:get{ id = ids[1], name = "x" }
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.has_error(function() c:get(true) end)
  end)
end)
