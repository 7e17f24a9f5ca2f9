-- The contract: the client against the local workspace, over real HTTP on
-- loopback, once per path a call can take (spec/support/paths.lua): libcurl
-- over plain HTTP, over TLS with HTTP/1.1 and with HTTP/2, client:bulk(), and
-- a Lua transport. What only one path has (stats, keep-alive) says so.
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")
local cjson = require("cjson")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
local HAS_INTEGERS = math.type ~= nil

for _, path in ipairs(paths.list) do
describe("client over " .. path.name, function()
  local srv, client

  local function new(opts)
    opts = opts or {}
    if opts.retry_timeout == nil then opts.retry_timeout = 0 end
    return paths.client(path, srv, opts)
  end

  local function http_hook(extra)
    local req = {
      events = { "MODEL_VERSION_CREATED" },
      model_name = "model-a",
      http_url_spec = { url = srv.url .. "/__control/sink" },
    }
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
    srv = workspace.start{ fronts = true }
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

  describe("module", function()
    it("exposes the version, the 12 events in API order and the statuses", function()
      assert.matches("^%d+%.%d+%.%d+$", webhooks.VERSION)
      assert.equals(12, #webhooks.EVENTS)
      assert.equals("MODEL_VERSION_CREATED", webhooks.EVENTS[1])
      assert.equals("TRANSITION_REQUEST_TO_ARCHIVED_CREATED", webhooks.EVENTS[12])
      assert.same({ "ACTIVE", "DISABLED", "TEST_MODE" }, webhooks.STATUSES)
    end)

    it("never shows a credential in tostring(client)", function()
      local s = tostring(client)
      assert.matches("databricks.webhooks.Client", s, 1, true)
      assert.is_nil(s:find(srv.token, 1, true))
    end)
  end)

  describe("create", function()
    it("returns the webhook with the API's fields and integer timestamps", function()
      local wh = assert(client:create(http_hook{ description = "d", status = "TEST_MODE" }))
      assert.matches("^%x+$", wh.id)
      assert.equals("model-a", wh.model_name)
      assert.equals("TEST_MODE", wh.status)
      assert.equals("d", wh.description)
      assert.same({ "MODEL_VERSION_CREATED" }, wh.events)
      assert.equals(srv.url .. "/__control/sink", wh.http_url_spec.url)
      assert.is_nil(wh.http_url_spec.secret)
      assert.is_number(wh.creation_timestamp)
      assert.equals(math.floor(wh.creation_timestamp), wh.creation_timestamp)
      if HAS_INTEGERS then
        assert.equals("integer", math.type(wh.creation_timestamp))
        assert.equals("integer", math.type(wh.last_updated_timestamp))
      end
    end)

    it("sends a JSON body with explicit false, as the SDKs do", function()
      assert(client:create(http_hook{
        http_url_spec = { url = srv.url .. "/__control/sink", secret = "s", enable_ssl_verification = false },
      }))
      local r = last_request()
      assert.equals("POST", r.method)
      assert.equals(BASE .. "create", r.uri)
      local body = cjson.decode(r.body)
      assert.is_false(body.http_url_spec.enable_ssl_verification)
      assert.equals("s", body.http_url_spec.secret)
      assert.same({ "MODEL_VERSION_CREATED" }, body.events)
      assert.equals("application/json", r.headers["content-type"])
      assert.equals("application/json", r.headers["accept"])
      assert.equals("Bearer " .. srv.token, r.headers["authorization"])
      assert.matches("^databricks%-webhooks%-lua/%d+%.%d+%.%d+ lua", r.headers["user-agent"])
      assert.matches(" lua/5%.%d libcurl/[%d.]+ os/%w+ auth/pat", r.headers["user-agent"])
    end)

    it("creates registry-wide and job webhooks", function()
      local wh = assert(client:create{ events = { "REGISTERED_MODEL_CREATED" },
        job_spec = { job_id = "123", access_token = "dapi-job-secret" } })
      assert.is_nil(wh.model_name)
      assert.equals("123", wh.job_spec.job_id)
      assert.is_nil(wh.job_spec.access_token)
    end)

    it("returns the server's error for a URL it refuses", function()
      local wh, err = client:create(http_hook{ http_url_spec = { url = "http://example.com/x" } })
      assert.is_nil(wh)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.equals(400, err.status)
      assert.equals("POST " .. BASE .. "create", err.request)
    end)
  end)

  describe("validation (nothing is sent)", function()
    local cases = {
      { "unknown field", "create", { events = { "MODEL_VERSION_CREATED" }, bogus = 1,
        http_url_spec = { url = "https://x" } } },
      { "unknown nested field", "create", { events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = "https://x", bogus = true } } },
      { "missing events", "create", { http_url_spec = { url = "https://x" } } },
      { "empty events", "create", { events = {}, http_url_spec = { url = "https://x" } } },
      { "events not an array", "create", { events = { a = "MODEL_VERSION_CREATED" },
        http_url_spec = { url = "https://x" } } },
      { "unknown event", "create", { events = { "NOPE" }, http_url_spec = { url = "https://x" } } },
      { "unknown status", "create", { events = { "COMMENT_CREATED" }, status = "ON",
        http_url_spec = { url = "https://x" } } },
      { "wrong type", "create", { events = { "COMMENT_CREATED" }, description = 5,
        http_url_spec = { url = "https://x" } } },
      { "bool as string", "create", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://x", enable_ssl_verification = "false" } } },
      { "both specs", "create", { events = { "COMMENT_CREATED" }, http_url_spec = { url = "https://x" },
        job_spec = { job_id = "1", access_token = "t" } } },
      { "neither spec", "create", { events = { "COMMENT_CREATED" } } },
      { "missing url", "create", { events = { "COMMENT_CREATED" }, http_url_spec = {} } },
      { "job without token", "create", { events = { "COMMENT_CREATED" }, job_spec = { job_id = "1" } } },
      { "registry-wide event with a model", "create", { events = { "REGISTERED_MODEL_CREATED" },
        model_name = "m", http_url_spec = { url = "https://x" } } },
      { "update without id", "update", { description = "x" } },
      { "update with model_name", "update", { id = "1", model_name = "m" } },
      { "update with both specs", "update", { id = "1", http_url_spec = { url = "https://x" },
        job_spec = { job_id = "1", access_token = "t" } } },
      { "update with empty id", "update", { id = "" } },
      { "list with bad max_results", "list", { max_results = 0 } },
      { "list with fractional max_results", "list", { max_results = 1.5 } },
      { "list with unknown event", "list", { events = { "X" } } },
      { "list with unknown field", "list", { page = 2 } },
      { "field name with a NUL after it", "create", { ["events\0x"] = { "COMMENT_CREATED" },
        events = { "COMMENT_CREATED" }, http_url_spec = { url = "https://x" } } },
      { "nested field name with a NUL after it", "create", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://x", ["secret\0"] = "s" } } },
      { "delete without id", "delete", {} },
      { "delete with a fractional numeric id", "delete", { id = 5.5 } },
      { "test with unknown event", "test", { id = "1", event = "X" } },
    }
    for _, case in ipairs(cases) do
      it(case[1], function()
        local before = #api_requests()
        local res, err = client[case[2]](client, case[3])
        assert.is_nil(res)
        assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
        assert.is_nil(err.status)
        assert.equals(webhooks.Error, getmetatable(err))
        assert.is_string(err.message)
        assert.equals(before, #api_requests())
      end)
    end

    it("never echoes a secret in a validation message", function()
      local _, err = client:create{ events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://x", secret = "topsecret-value", bogus = 1 } }
      assert.is_nil(tostring(err):find("topsecret-value", 1, true))
    end)

    it("raises on a non-table request", function()
      assert.has_error(function() client:create("x") end)
      assert.has_error(function() client:update(42) end)
      assert.has_error(function() client:list(true) end)
    end)

    if not path.bulk then -- the bulk stand-in has no self of its own
      it("raises on a wrong self", function()
        assert.has_error(function() client.create({}, http_hook()) end)
        assert.has_error(function() client.list("x") end)
      end)
    end
  end)

  describe("list", function()
    it("always returns an array, even when the server omits the key", function()
      local page = assert(client:list())
      assert.same({}, page.webhooks)
      assert.is_nil(page.next_page_token)
    end)

    it("writes events as a repeated key and escapes every value", function()
      local name = "my model & co/x+y ü?"
      assert(client:create(http_hook{ model_name = name }))
      local page = assert(client:list{ model_name = name, events = { "MODEL_VERSION_CREATED", "COMMENT_CREATED" },
        max_results = 5 })
      assert.equals(1, #page.webhooks)
      assert.equals(name, page.webhooks[1].model_name)
      local r = last_request()
      assert.equals("GET", r.method)
      assert.equals(BASE .. "list?events=MODEL_VERSION_CREATED&events=COMMENT_CREATED&max_results=5"
        .. "&model_name=my%20model%20%26%20co%2Fx%2By%20%C3%BC%3F", r.uri)
      assert.equals("", r.body or "")
    end)

    it("filters by model and events", function()
      assert(client:create(http_hook{ model_name = "a" }))
      assert(client:create(http_hook{ model_name = "b", events = { "COMMENT_CREATED" } }))
      assert.equals(1, #assert(client:list{ model_name = "a" }).webhooks)
      assert.equals(1, #assert(client:list{ events = { "COMMENT_CREATED" } }).webhooks)
      assert.equals(2, #assert(client:list{}).webhooks)
    end)

    it("paginates, and each follows every page", function()
      for i = 1, 25 do assert(client:create(http_hook{ description = "n" .. i })) end
      local p1 = assert(client:list{ max_results = 10 })
      assert.equals(10, #p1.webhooks)
      assert.is_string(p1.next_page_token)
      local p2 = assert(client:list{ max_results = 10, page_token = p1.next_page_token })
      local p3 = assert(client:list{ max_results = 10, page_token = p2.next_page_token })
      assert.equals(5, #p3.webhooks)
      assert.is_nil(p3.next_page_token)
      local seen, n = {}, 0
      local req = { max_results = 7 }
      for wh in client:each(req) do
        assert.is_nil(seen[wh.id]); seen[wh.id] = true; n = n + 1
      end
      assert.equals(25, n)
      assert.same({ max_results = 7 }, req) -- the caller's table is not mutated
    end)

    it("each raises the error object when a page fails", function()
      srv:faults{ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "boom" } }
      local ok, err = pcall(function() for _ in client:each() do end end)
      assert.is_false(ok)
      assert.equals("INTERNAL_ERROR", err.error_code)
      assert.equals(500, err.status)
    end)
  end)

  describe("update", function()
    it("sends only the given fields and returns the webhook", function()
      local wh = assert(client:create(http_hook{ status = "TEST_MODE" }))
      local up = assert(client:update{ id = wh.id, description = "new" })
      assert.equals("new", up.description)
      assert.equals("TEST_MODE", up.status)
      local r = last_request()
      assert.equals("PATCH", r.method)
      assert.same({ id = wh.id, description = "new" }, cjson.decode(r.body))
    end)

    it("replaces events", function()
      local wh = assert(client:create(http_hook()))
      local up = assert(client:update{ id = wh.id, events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" } })
      assert.same({ "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, up.events)
    end)

    it("reports an unknown id", function()
      local up, err = client:update{ id = "ffff", description = "x" }
      assert.is_nil(up)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
      assert.equals(404, err.status)
      assert.equals("RESOURCE_DOES_NOT_EXIST (HTTP 404): " .. err.message, tostring(err))
    end)
  end)

  describe("delete", function()
    it("sends DELETE ?id= with no body, takes a table or an id", function()
      local a = assert(client:create(http_hook()))
      local b = assert(client:create(http_hook()))
      assert.is_true(client:delete{ id = a.id })
      local r = last_request()
      assert.equals("DELETE", r.method)
      assert.equals(BASE .. "delete?id=" .. a.id, r.uri)
      assert.equals("", r.body or "")
      assert.is_true(client:delete(b.id))
      assert.same({}, assert(client:list()).webhooks)
    end)

    it("reports a missing webhook", function()
      local ok, err = client:delete("0123")
      assert.is_nil(ok)
      assert.equals("RESOURCE_DOES_NOT_EXIST", err.error_code)
    end)
  end)

  describe("test", function()
    it("really delivers, signed, and returns the flat result", function()
      local wh = assert(client:create(http_hook{
        http_url_spec = { url = srv.url .. "/__control/sink", secret = "shh", authorization = "Bearer hook-auth" },
      }))
      local res = assert(client:test{ id = wh.id, event = "MODEL_VERSION_CREATED" })
      assert.equals(200, res.status_code)
      assert.is_string(res.body)
      if HAS_INTEGERS then assert.equals("integer", math.type(res.status_code)) end
      local got = srv:sink()
      local d = got[#got]
      local sig = d.headers["x-databricks-signature"]
      assert.is_true(webhooks.verify_signature("shh", d.body, sig))
      assert.equals("Bearer hook-auth", d.headers["authorization"])
      local ev = assert(webhooks.parse_delivery(d.body))
      assert.equals("MODEL_VERSION_CREATED", ev.event)
      assert.equals(wh.id, ev.webhook_id)
      assert.same({ id = wh.id, event = "MODEL_VERSION_CREATED" }, cjson.decode(last_request().body))
    end)

    it("takes a bare id", function()
      local wh = assert(client:create(http_hook()))
      assert.equals(200, assert(client:test(wh.id)).status_code)
    end)
  end)

  describe("request", function()
    it("reaches any endpoint with the same auth", function()
      assert(client:create(http_hook()))
      local out = assert(client:request("GET", BASE .. "list", nil, { model_name = "model-a" }))
      assert.equals(1, #out.webhooks)
      local _, err = client:request("GET", "/api/2.0/nope")
      assert.equals(404, err.status)
    end)

    it("rejects bad methods and paths without sending", function()
      local _, err = client:request("FETCH", "/x")
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      _, err = client:request("GET", "/x\r\nHost: evil")
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.has_error(function() client:request(1) end)
    end)
  end)

  describe("errors", function()
    it("401 with a rejected token", function()
      local c = new{ token = "wrong" }
      local res, err = c:list()
      assert.is_nil(res)
      assert.equals("UNAUTHENTICATED", err.error_code)
      assert.equals(401, err.status)
      assert.equals("GET " .. BASE .. "list", err.request)
      assert.is_nil(tostring(err):find("wrong", 1, true))
      c:close()
    end)

    it("429 with Retry-After, not retried when retry_timeout is 0", function()
      srv:faults{ { kind = "429", retry_after = "7" } }
      local res, err = client:list()
      assert.is_nil(res)
      assert.equals("REQUEST_LIMIT_EXCEEDED", err.error_code)
      assert.equals(429, err.status)
      assert.equals(7, err.retry_after)
    end)

    it("429 is retried after Retry-After within retry_timeout", function()
      local c = new{ retry_timeout = 10 }
      srv:faults{ { kind = "429", retry_after = "1", path = "create" } }
      local wh = assert(c:create(http_hook()))
      assert.is_string(wh.id)
      assert.equals(2, srv:stats().by_path[BASE .. "create"])
      c:close()
    end)

    it("503 is retried, and the last real error comes back when the budget runs out", function()
      local c = new{ retry_timeout = 1 }
      srv:faults{ { kind = "503", count = 50 } }
      local res, err = c:list()
      assert.is_nil(res)
      assert.equals("TEMPORARILY_UNAVAILABLE", err.error_code)
      assert.equals(503, err.status)
      assert.is_true(srv:stats().by_path[BASE .. "list"] >= 2)
      c:close()
    end)

    it("times out", function()
      local c = new{ timeout = 0.3 }
      srv:faults{ { kind = "slow", delay_ms = 1500 } }
      local res, err = c:list()
      assert.is_nil(res)
      assert.equals("TIMEOUT", err.error_code)
      assert.is_nil(err.status)
      c:close()
    end)

    it("times out when the server stalls after the headers", function()
      local c = new{ timeout = 0.3 }
      srv:faults{ { kind = "stall_after_headers", delay_ms = 1500 } }
      local _, err = c:list()
      assert.equals("TIMEOUT", err.error_code)
      c:close()
    end)

    it("reports a dropped connection, and never replays a create", function()
      local c = new{ retry_timeout = 5 }
      srv:faults{ { kind = "drop", path = "create" } }
      local res, err = c:create(http_hook())
      assert.is_nil(res)
      assert.equals("CONNECTION_ERROR", err.error_code)
      assert.equals(1, srv:stats().by_path[BASE .. "create"])
      assert.same({}, assert(c:list()).webhooks)
      c:close()
    end)

    it("retries a list after a dropped connection", function()
      local c = new{ retry_timeout = 5 }
      srv:faults{ { kind = "drop", path = "list" } }
      assert(c:list())
      c:close()
    end)

    it("reports a body that is not JSON", function()
      srv:faults{ { kind = "non_json" } }
      local res, err = client:list()
      assert.is_nil(res)
      assert.equals("BAD_RESPONSE", err.error_code)
      assert.equals(200, err.status)
    end)

    it("reports truncated JSON and the wrong shape", function()
      srv:faults{ { kind = "truncated" }, { kind = "wrong_shape" } }
      local _, e1 = client:list()
      local _, e2 = client:create(http_hook())
      assert.equals("BAD_RESPONSE", e1.error_code)
      assert.equals("BAD_RESPONSE", e2.error_code)
    end)

    it("reports an HTML error page by its title", function()
      srv:faults{ { kind = "html_500" } }
      local _, err = client:list()
      assert.equals(500, err.status)
      assert.equals("INTERNAL_ERROR", err.error_code)
    end)

    it("does not follow a redirect to another host", function()
      srv:faults{ { kind = "redirect", location = "http://127.0.0.2:9/elsewhere" } }
      local _, err = client:list()
      assert.equals(302, err.status)
      assert.equals("BAD_RESPONSE", err.error_code)
    end)

    it("refuses a body over the size limit", function()
      srv:faults{ { kind = "huge", size = 20 * 1024 * 1024 } }
      local _, err = client:list()
      assert.equals("BAD_RESPONSE", err.error_code)
      assert(client:list()) -- and the client still works
    end)

    it("reports an unreachable host", function()
      local c = new{ host = "http://127.0.0.1:9", connect_timeout = 2 }
      local _, err = c:list()
      assert.equals("CONNECTION_ERROR", err.error_code)
      assert.is_nil(err.status)
      c:close()
    end)

    -- A port that was bound a moment ago and closed: connections are refused.
    local function dead_host()
      local s = assert(require("socket").bind("127.0.0.1", 0))
      local _, port = s:getsockname()
      s:close()
      return "http://127.0.0.1:" .. port
    end

    local NUM = "%d+%.%d%d"

    it("a refused connection names its attempts, the time taken and retry_timeout", function()
      local lines = {}
      local c = new{ host = dead_host(), retry_timeout = 1, debug = function(l) lines[#lines + 1] = l end }
      -- list runs on the client, delete as a bulk of one on the bulk path
      for _, call in ipairs({ { "GET", "list", function() return c:list() end },
                              { "DELETE", "delete", function() return c:delete("1234") end } }) do
        lines = {}
        local res, err = call[3]()
        assert.is_nil(res)
        assert.equals("CONNECTION_ERROR", err.error_code)
        assert.is_number(err.attempts)
        assert.truthy(err.attempts >= 2 and err.attempts <= 10, err.attempts)
        assert.equals(err.attempts, math.floor(err.attempts))
        assert.equals(1, err.retry_timeout)
        assert.is_number(err.elapsed)
        assert.truthy(err.elapsed > 0, err.elapsed)
        assert.matches(" %(" .. err.attempts .. " attempts in " .. NUM .. " s; the next retry would start past "
          .. "retry_timeout 1 s%)$", err.message)
        assert.equals("CONNECTION_ERROR: " .. err.message, tostring(err))
        -- each retry is a debug line naming the time used and the budget
        local retries = {}
        for _, l in ipairs(lines) do
          if l:find("retry: ", 1, true) then retries[#retries + 1] = l end
        end
        assert.equals(err.attempts - 1, #retries)
        for i, l in ipairs(retries) do
          assert.matches("^databricks%.webhooks: retry: " .. call[1] .. " " .. BASE:gsub("%-", "%%-") .. call[2]
            .. " failed %(.+%); attempt " .. (i + 1) .. " of at most 10 in " .. NUM .. " s %(" .. NUM
            .. " s elapsed, retry_timeout 1 s%)$", l)
        end
      end
      c:close()
    end)

    it("a refused connection with retry_timeout 0 says it was not retried", function()
      local c = new{ host = dead_host(), retry_timeout = 0 }
      local _, err = c:list()
      assert.equals("CONNECTION_ERROR", err.error_code)
      assert.equals(1, err.attempts)
      assert.equals(0, err.retry_timeout)
      assert.matches(" %(1 attempt in " .. NUM .. " s; retry_timeout 0: no retries%)$", err.message)
      c:close()
    end)

    it("an HTTP error after retries names the attempts; one without retries keeps its message", function()
      local c = new{ retry_timeout = 1 }
      srv:faults{ { kind = "503", count = 50, path = "list" } }
      local _, err = c:list()
      assert.equals(503, err.status)
      assert.truthy(err.attempts >= 2, err.attempts)
      assert.equals(srv:stats().by_path[BASE .. "list"], err.attempts)
      assert.matches(" %(" .. err.attempts .. " attempts in " .. NUM .. " s; the next retry would start past "
        .. "retry_timeout 1 s%)$", err.message)
      srv:control("DELETE", "faults")
      local _, nf = c:delete("no-such-webhook")
      assert.equals(404, nf.status)
      assert.equals(1, nf.attempts)
      assert.is_nil(nf.message:find("attempt", 1, true))
      c:close()
    end)

    it("keeps working after every kind of failure", function()
      srv:faults{ { kind = "drop" }, { kind = "non_json" }, { kind = "503" } }
      client:list(); client:list(); client:list()
      assert(client:create(http_hook()))
    end)
  end)

  describe("connection and lifetime", function()
    if not path.lua then -- LuaSocket opens a connection per request
      it("reuses one connection for many calls (keep-alive)", function()
        local c = new()
        for _ = 1, 10 do assert(c:list()) end
        local wh = assert(c:create(http_hook()))
        assert(c:update{ id = wh.id, description = "x" })
        assert(c:delete(wh.id))
        assert.equals(1, srv:stats().connections)
        assert.equals(1, c:stats().connections)
        c:close()
      end)
    end

    it("close is idempotent and a closed client raises", function()
      local c = new()
      c:close(); c:close()
      assert.is_true(c:is_closed())
      assert.matches("closed", tostring(c))
      local ok, err = pcall(c.list, c)
      assert.is_false(ok)
      assert.matches("databricks.webhooks: client is closed", err, 1, true)
      assert.has_error(function() c:create(http_hook()) end)
    end)

    it("collects many clients without crashing", function()
      for i = 1, 200 do
        local c = new()
        if i % 2 == 0 then assert(c:list()) end
        if i % 3 == 0 then c:close() end
      end
      collectgarbage(); collectgarbage()
    end)

    if _VERSION == "Lua 5.4" then
      it("closes with <close>", function()
        local chunk = assert(load([[
          local new = ...
          local c <close> = new()
          assert(c:list())
          return c
        ]]))
        local c = chunk(new)
        assert.is_true(c:is_closed())
      end)
    end

    it("debug logs one line per attempt without secrets", function()
      local lines = {}
      local c = new{ debug = function(l) lines[#lines + 1] = l end, retry_timeout = 5 }
      srv:faults{ { kind = "429", retry_after = "0" } }
      assert(c:create(http_hook{ http_url_spec = { url = srv.url .. "/__control/sink", secret = "hook-secret" } }))
      assert.equals(3, #lines) -- the attempt, the retry, the attempt
      assert.truthy(lines[1]:find("POST " .. BASE .. "create -> 429", 1, true))
      assert.truthy(lines[2]:find("retry: POST " .. BASE .. "create answered HTTP 429; attempt 2 of at most 10 in ",
        1, true))
      assert.matches("attempt 2", lines[3])
      for _, l in ipairs(lines) do
        assert.is_nil(l:find(srv.token, 1, true))
        assert.is_nil(l:find("hook-secret", 1, true))
      end
      c:close()
    end)

    it("an error raised by the debug callback surfaces and the client survives", function()
      local c = new{ debug = function() error("callback boom") end }
      assert.has_error(function() c:list() end, nil)
      local ok, err = pcall(c.list, c)
      assert.is_false(ok)
      assert.matches("callback boom", tostring(err))
      c:close()
    end)
  end)
end)
end
