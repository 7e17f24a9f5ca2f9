-- A Lua transport (opts.transport) outside nginx: the step-by-step Stepper of
-- csrc/stepper.c driven by the Lua loop of databricks.webhooks, the same loop
-- the cosocket transport runs on inside nginx (spec/40-openresty_spec.lua).
-- The transports here speak HTTP with LuaSocket to the local workspace.
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
local BASE_PAT = BASE:gsub("%p", "%%%0") -- for string patterns

local luasocket_transport = paths.luasocket_transport

local function hook(name)
  return { events = { "MODEL_VERSION_CREATED" }, model_name = name,
    http_url_spec = { url = "https://hooks.example.com/" .. name, secret = "s" } }
end

describe("a Lua transport", function()
  local srv

  local function new(opts)
    opts.host = opts.host or srv.url
    if opts.token == nil and opts.client_id == nil then opts.token = srv.token end
    return assert(webhooks.new(opts))
  end

  setup(function() srv = workspace.start() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it("runs every operation with the libcurl path's results", function()
    local seen = {}
    local c = new({ transport = luasocket_transport(seen) })
    local plain = new({})
    local wh = assert(c:create(hook("lt-a")))
    assert.equals(32, #wh.id)
    assert.same(plain:list({ model_name = "lt-a" }), c:list({ model_name = "lt-a" }))
    local ids = {}
    for w in c:each({ model_name = "lt-a" }) do ids[#ids + 1] = w.id end
    assert.same({ wh.id }, ids)
    assert.equals("changed", c:update({ id = wh.id, description = "changed" }).description)
    local raw = assert(c:request("GET", BASE .. "list", nil, { model_name = "lt-a" }))
    assert.equals(wh.id, raw.webhooks[1].id)
    assert.is_true(c:delete(wh.id))
    local _, err = c:delete({ id = wh.id })
    assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
    assert.equals(404, err.status)
    assert.equals("DELETE " .. BASE .. "delete", err.request)
    assert.equals(getmetatable(err), webhooks.Error)
    assert.equals(7, #seen)
    c:close()
    plain:close()
  end)

  it("hands the transport a complete request table", function()
    local seen = {}
    local c = new({ transport = luasocket_transport(seen), timeout = 7, connect_timeout = 3 })
    assert(c:create(hook("lt-b")))
    local req = seen[1]
    assert.equals("POST", req.method)
    assert.equals(srv.url .. BASE .. "create", req.url)
    assert.equals(BASE .. "create", req.path)
    assert.matches('"model_name":"lt%-b"', req.body)
    assert.equals("Bearer " .. srv.token, req.headers.Authorization)
    assert.equals("application/json", req.headers["Content-Type"])
    assert.equals("application/json", req.headers.Accept)
    assert.matches("^databricks%-webhooks%-lua/", req.headers["User-Agent"])
    assert.is_nil(req.headers.Expect)
    assert.equals(7, req.timeout)
    assert.equals(3, req.connect_timeout)
    assert.equals(8 * 1024 * 1024, req.max_body)
    c:close()
  end)

  it("validates before calling the transport", function()
    local calls = 0
    local c = new({ transport = function() calls = calls + 1 end })
    local wh, err = c:create({ events = { "NOPE" }, http_url_spec = { url = "https://x" } })
    assert.is_nil(wh)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.has_error(function() c:create("x") end, "bad argument #1 to 'create' (table expected, got string)")
    assert.has_error(function() c:request(1, "/x") end)
    assert.equals(0, calls)
    c:close()
    assert.has_error(function() c:list() end, "databricks.webhooks: client is closed")
  end)

  it("maps transport failures to the error codes, accepting nil, kind, message too", function()
    local answers = {
      { { error_kind = "timeout", message = "too slow" }, "TIMEOUT", "too slow" },
      { { error_kind = "tls", message = "bad certificate" }, "TLS_ERROR", "bad certificate" },
      { { error_kind = "too_large" }, "BAD_RESPONSE", "size limit" },
      { { error_kind = "connection" }, "CONNECTION_ERROR", "connection failed" },
      { { status = 0 }, "CONNECTION_ERROR", "no valid HTTP status" },
      { {}, "CONNECTION_ERROR", "no valid HTTP status" },
    }
    for _, a in ipairs(answers) do
      local c = new({ retry_timeout = 0, transport = function() return a[1] end })
      local _, err = c:test("abc")
      assert.equals(a[2], err.error_code)
      assert.matches(a[3], err.message, 1, true)
      assert.equals("POST " .. BASE .. "test", err.request)
      c:close()
    end
    local c = new({ retry_timeout = 0, transport = function() return nil, "timeout", "late" end })
    local _, err = c:list()
    assert.equals("TIMEOUT", err.error_code)
    assert.equals(1, err.attempts)
    assert.matches("^late %(1 attempt in %d+%.%d%d s; a timeout is not retried; retry_timeout 0 s%)$", err.message)
    c:close()
    c = new({ retry_timeout = 0, transport = function() end })
    _, err = c:list()
    assert.equals("CONNECTION_ERROR", err.error_code)
    assert.matches("no response", err.message)
    c:close()
  end)

  it("retries 'connect' failures within the budget, never 'local' ones", function()
    local function counting(kind)
      local t = { calls = 0, sleep = function() end }
      function t.request(self)
        self.calls = self.calls + 1
        return { error_kind = kind, message = kind .. " failure" }
      end
      return t
    end
    local connect, loc = counting("connect"), counting("local")
    local c1 = new({ retry_timeout = 1, transport = connect })
    local c2 = new({ retry_timeout = 1, transport = loc })
    local _, e1 = c1:list()
    local _, e2 = c2:list() -- a read: "connection" would be retried
    assert.equals("CONNECTION_ERROR", e1.error_code)
    assert.equals("CONNECTION_ERROR", e2.error_code)
    assert.matches("^local failure %(1 attempt in %d+%.%d%d s; refused before sending, so not retried; "
      .. "retry_timeout 1 s%)$", e2.message)
    assert.is_true(connect.calls > 1)
    assert.equals(connect.calls, e1.attempts)
    assert.matches("^connect failure %(" .. connect.calls .. " attempts in ", e1.message)
    assert.equals(1, loc.calls)
    c1:close()
    c2:close()
  end)

  it("retries through the transport and sleeps with its sleep()", function()
    local slept = {}
    local send = luasocket_transport()
    local t = { request = function(_, req) return send(req) end,
      sleep = function(_, s) slept[#slept + 1] = s end }
    local c = new({ transport = t })
    srv:faults({ { kind = "429", retry_after = 2 }, { kind = "503" } })
    local page = assert(c:list())
    assert.same({}, page.webhooks)
    assert.equals(2, #slept)
    assert.equals(2, slept[1]) -- Retry-After, not slept for real
    assert.is_true(slept[2] > 0 and slept[2] < 1)
    assert.equals(3, #srv:requests())
    c:close()
  end)

  it("gets and refreshes OAuth tokens through the transport", function()
    local seen = {}
    local c = new({ client_id = srv.client_id, client_secret = srv.client_secret,
      transport = luasocket_transport(seen) })
    assert(c:list())
    assert.equals(3, #seen)
    assert.equals(srv.url .. "/oidc/v1/token", seen[2].url)
    assert.matches("^Basic ", seen[2].headers.Authorization)
    assert.equals("grant_type=client_credentials&scope=all-apis", seen[2].body)
    srv:settings({ revoke_tokens = true })
    assert(c:list()) -- 401, new token, again
    assert.equals(6, #seen)
    c:close()
  end)

  it("keeps calls of coroutines sharing one client apart while they wait", function()
    local send = luasocket_transport()
    local t = {
      request = function(_, req)
        coroutine.yield() -- the other coroutine runs now, on the same client
        return send(req)
      end,
      sleep = function() coroutine.yield() end,
    }
    local c = new({ transport = t, client_id = srv.client_id, client_secret = srv.client_secret })
    srv:faults({ { kind = "503", path = "create" } })
    local results = {}
    local cos = {
      coroutine.create(function() results.a = { c:create(hook("co-a")) } end),
      coroutine.create(function() results.b = { c:list({ model_name = "co-b" }) } end),
      coroutine.create(function() results.c = { c:update({ id = "0123", description = "co-c" }) } end),
    }
    local alive = true
    while alive do
      alive = false
      for _, co in ipairs(cos) do
        if coroutine.status(co) ~= "dead" then
          assert(coroutine.resume(co))
          alive = true
        end
      end
    end
    assert(results.a[1], tostring(results.a[2]))
    assert.equals("co-a", results.a[1].model_name)
    assert(results.b[1], tostring(results.b[2]))
    assert.same({}, results.b[1].webhooks)
    assert.equals("RESOURCE_DOES_NOT_EXIST", results.c[2].error_code)
    local creates, lists = 0, 0
    for _, r in ipairs(srv:requests()) do
      if r.path == BASE .. "create" then
        creates = creates + 1
        assert.matches('"model_name":"co%-a"', r.body) -- the retry too: its own copy
      elseif r.path == BASE .. "list" then
        lists = lists + 1
        assert.equals("model_name=co-b", r.query)
      end
    end
    assert.equals(2, creates)
    assert.equals(1, lists)
    c:close()
  end)

  it("sends debug lines for each attempt", function()
    local lines = {}
    local c = new({ transport = luasocket_transport(), debug = function(l) lines[#lines + 1] = l end })
    srv:faults({ { kind = "503" } })
    assert(c:list())
    assert.equals(3, #lines)
    assert.matches("GET " .. BASE_PAT .. "list %-> 503, .* attempt 1", lines[1])
    assert.matches("retry: GET " .. BASE_PAT .. "list answered HTTP 503; attempt 2 of at most 10 in", lines[2])
    assert.matches("GET " .. BASE_PAT .. "list %-> 200, .* attempt 2", lines[3])
    c:close()
  end)

  it("runs bulk() through the transport", function()
    local seen = {}
    local c = new({ transport = luasocket_transport(seen) })
    local res = c:bulk("create", { hook("bk-1"), { events = { "NOPE" } }, hook("bk-3") })
    assert.equals(3, #res)
    assert.equals("bk-1", res[1].ok.model_name)
    assert.equals("INVALID_PARAMETER_VALUE", res[2].err.error_code)
    assert.equals("bk-3", res[3].ok.model_name)
    assert.equals(2, #seen)
    local del = c:bulk("delete", { res[1].ok.id, { id = res[3].ok.id } })
    assert.is_true(del[1].ok)
    assert.is_true(del[2].ok)
    assert.has_error(function() c:bulk("list", {}) end)
    c:close()
  end)

  describe("the Stepper (client:_begin / st:step)", function()
    it("steps: send, then done with the method's result; a finished one raises", function()
      local c = new({})
      local ex = assert(c:_begin("list", { model_name = "m" }))
      assert.matches("^databricks%.webhooks%.Stepper %(GET " .. BASE_PAT .. "list, running%)", tostring(ex))
      local action, req = ex:step()
      assert.equals("send", action)
      assert.equals(srv.url .. BASE .. "list?model_name=m", req.url)
      local resp = luasocket_transport()(req)
      local done, page, err = ex:step(resp)
      assert.equals("done", done)
      assert.same({ webhooks = {} }, page)
      assert.is_nil(err)
      assert.has_error(function() ex:step() end, "databricks.webhooks: exchange is finished")
      c:close()
    end)

    it("answers sleep between retries, then sends again", function()
      local c = new({})
      local ex = assert(c:_begin("test", "abc"))
      local _, req = ex:step()
      local action, secs = ex:step({ status = 503, headers = { ["retry-after"] = "3" }, body = "" })
      assert.equals("sleep", action)
      assert.equals(3, secs)
      local again, req2 = ex:step()
      assert.equals("send", again)
      assert.same(req, req2)
      local done, res, err = ex:step({ status = 404, headers = { ["x-request-id"] = "rq-1" },
        body = '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone"}' })
      assert.equals("done", done)
      assert.is_nil(res)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
      assert.equals("rq-1", err.request_id)
      c:close()
    end)

    it("returns nil, err for invalid requests, raises on misuse and on a closed client", function()
      local c = new({})
      local ex, err = c:_begin("create", { events = {} })
      assert.is_nil(ex)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      ex, err = c:_begin("request", "GET", "no-slash")
      assert.is_nil(ex)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.has_error(function() c:_begin("nope", {}) end)
      assert.has_error(function() c:_begin("update", 42) end)
      ex = assert(c:_begin("request", "POST", "/api/2.0/x", { a = 1 }, { q = "v" }))
      local _, req = ex:step()
      assert.equals(srv.url .. "/api/2.0/x?q=v", req.url)
      assert.equals('{"a":1}', req.body)
      assert.has_error(function() ex:step("not a table") end)
      c:close()
      assert.has_error(function() ex:step() end, "databricks.webhooks: client is closed")
      assert.has_error(function() c:_begin("list", {}) end, "databricks.webhooks: client is closed")
    end)

    it("keeps its client alive, and frees everything when collected", function()
      local ex = assert(new({}):_begin("update", { id = "x", description = "y" }))
      collectgarbage()
      collectgarbage()
      local _, req = ex:step() -- the client was only referenced by the Stepper
      local done, res = ex:step({ status = 200, headers = {}, body = "{}" })
      assert.equals("done", done)
      assert.same({ id = "x", events = nil }, res) -- an empty answer still gives the id
      assert.equals("PATCH", req.method)
      for _ = 1, 200 do assert(new({}):_begin("list", {})) end
      ex = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
    end)
  end)
end)
