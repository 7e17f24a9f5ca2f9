-- Specs for the local workspace itself (spec/support/workspace*): the stand-in
-- for the Databricks registry-webhooks API that the other specs, the demo and
-- the benchmarks run against. Everything goes over real HTTP on 127.0.0.1.

package.path = "./?.lua;" .. package.path

local ws = require("spec.support.workspace")
local cjson = require("cjson")
local socket = require("socket")

local API = "/api/2.0/mlflow/registry-webhooks/"
local TOKEN = "dapi-test-token"
local SECRET = "TOPSECRET-hmac-key"
local AUTHZ = "Bearer TOPSECRET-receiver-token"
local ACCESS = "TOPSECRET-job-access-token"

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, byte = "", x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local function hmac_sha256_hex(key, data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  local p = assert(io.popen("openssl dgst -sha256 -r -hmac '" .. key .. "' " .. path))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return out:match("^(%x+)")
end

-- One request/response on an already connected raw socket (keep-alive aware).
local function exchange(sock, text)
  assert(sock:send(text))
  local status_line, err = sock:receive("*l")
  if not status_line then return nil, err end
  local headers = {}
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    headers[k:lower()] = v
  end
  local body = ""
  local len = tonumber(headers["content-length"])
  if len and len > 0 then body = assert(sock:receive(len)) end
  return tonumber(status_line:match(" (%d%d%d)")), headers, body
end

local function connect(port)
  local sock = socket.tcp()
  sock:settimeout(5)
  assert(sock:connect("127.0.0.1", port))
  return sock
end

local function get_request(path, token, extra)
  return "GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
    .. token .. "\r\n" .. (extra or "") .. "\r\n"
end

describe("local workspace", function()
  local srv, tls -- tls: a second workspace serving https, whose sink receives deliveries

  setup(function()
    tls = ws.start({ https = true })
    srv = ws.start({ token = TOKEN, trusted_ca = tls.ca_file })
  end)

  teardown(function()
    if srv then srv:stop() end
    if tls then tls:stop() end
  end)

  before_each(function()
    srv:reset()
    tls:reset()
  end)

  local function call(method, op, body, opts)
    opts = opts or {}
    return srv:http({ method = method, path = API .. op, body = body, token = opts.token,
      headers = opts.headers })
  end

  local function sink_url(name)
    return srv.url .. "/__control/sink" .. (name and ("/" .. name) or "")
  end

  local function http_body(extra)
    local b = { events = { "MODEL_VERSION_CREATED" }, model_name = "m1",
      http_url_spec = { url = sink_url(), secret = SECRET, authorization = AUTHZ } }
    for k, v in pairs(extra or {}) do b[k] = v end
    return b
  end

  local function create(body)
    local res = call("POST", "create", body or http_body())
    assert.are.equal(200, res.status, res.body)
    return res.json.webhook, res
  end

  local function assert_error(res, status, code, fragment)
    assert.are.equal(status, res.status, res.body)
    assert.are.equal("application/json", res.headers["content-type"])
    assert.are.equal(code, res.json.error_code, res.body)
    assert.are.equal("string", type(res.json.message))
    if fragment then
      assert.truthy(res.json.message:find(fragment, 1, true), res.json.message)
    end
  end

  local function assert_no_secrets(text)
    assert.is_nil(text:find("TOPSECRET", 1, true), "secret leaked: " .. text)
    assert.is_nil(text:find('"secret"', 1, true))
    assert.is_nil(text:find('"authorization"', 1, true))
    assert.is_nil(text:find('"access_token"', 1, true))
  end

  describe("helper", function()
    it("starts on a free port and tells how to reach it", function()
      assert.truthy(srv.url:match("^http://127%.0%.0%.1:%d+$"))
      assert.are.equal("http://127.0.0.1:" .. srv.port, srv.url)
      assert.are.equal(TOKEN, srv.token)
      assert.are.same({ ok = true }, srv:control("GET", "/__control/health"))
      assert.are.same({ ok = true }, srv:control("GET", "health"))
      assert.truthy(tls.url:match("^https://127%.0%.0%.1:%d+$"))
      assert.truthy(tls.ca_file)
    end)

    it("raises on a control error", function()
      assert.has_error(function() srv:control("GET", "nope") end)
      assert.has_error(function() srv:control("POST", "faults", { faults = { { kind = "x" } } }) end)
    end)

    it("stops idempotently and removes its temporary prefix", function()
      local other = ws.start()
      local prefix = other.prefix
      assert.truthy(io.open(prefix .. "/conf/nginx.conf"))
      other:stop()
      other:stop()
      assert.is_nil(io.open(prefix .. "/conf/nginx.conf"))
      assert.is_nil(socket.connect("127.0.0.1", other.port))
    end)
  end)

  describe("auth", function()
    it("rejects a missing Authorization header", function()
      assert_error(call("GET", "list", nil, { token = false }), 401, "UNAUTHENTICATED")
    end)

    it("rejects a wrong token and a non-Bearer scheme", function()
      assert_error(call("GET", "list", nil, { token = "dapi-wrong" }), 401, "UNAUTHENTICATED",
        "Invalid access token")
      assert_error(call("GET", "list", nil, { headers = { Authorization = "Basic " .. b64("a:b") } }),
        401, "UNAUTHENTICATED")
    end)

    it("accepts the configured token, with any case of 'Bearer'", function()
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(200, call("GET", "list", nil,
        { headers = { Authorization = "bearer " .. TOKEN } }).status)
    end)

    it("lets settings replace the accepted tokens", function()
      srv:settings({ tokens = { "dapi-other" } })
      assert.are.equal(401, call("GET", "list").status)
      assert.are.equal(200, call("GET", "list", nil, { token = "dapi-other" }).status)
    end)

    it("checks auth before routing", function()
      assert.are.equal(401, call("GET", "nope", nil, { token = false }).status)
    end)
  end)

  describe("routing", function()
    it("answers an unknown endpoint with 404 ENDPOINT_NOT_FOUND", function()
      assert_error(call("GET", "nope"), 404, "ENDPOINT_NOT_FOUND",
        "GET /mlflow/registry-webhooks/nope")
      assert_error(srv:http({ path = "/api/2.1/jobs/list" }), 404, "ENDPOINT_NOT_FOUND")
      assert_error(srv:http({ path = "/elsewhere", token = false }), 404, "ENDPOINT_NOT_FOUND")
    end)

    it("answers a wrong method like an unknown endpoint", function()
      assert_error(call("GET", "create"), 404, "ENDPOINT_NOT_FOUND")
      assert_error(call("POST", "list", {}), 404, "ENDPOINT_NOT_FOUND")
      assert_error(call("POST", "update", { id = "x" }), 404, "ENDPOINT_NOT_FOUND")
    end)
  end)

  describe("create", function()
    it("stores an http webhook and returns it without secrets", function()
      local wh, res = create(http_body({ description = "d", status = "TEST_MODE" }))
      assert.truthy(wh.id:match("^" .. ("%x"):rep(32) .. "$"))
      assert.are.equal(wh.id:lower(), wh.id)
      assert.are.same({ "MODEL_VERSION_CREATED" }, wh.events)
      assert.are.equal("m1", wh.model_name)
      assert.are.equal("d", wh.description)
      assert.are.equal("TEST_MODE", wh.status)
      assert.are.same({ url = sink_url(), enable_ssl_verification = true }, wh.http_url_spec)
      assert.is_nil(wh.job_spec)
      assert.are.equal(wh.creation_timestamp, wh.last_updated_timestamp)
      assert.truthy(math.abs(wh.creation_timestamp - socket.gettime() * 1000) < 60000)
      -- integers on the wire, never 1.7e+12
      assert.truthy(res.body:match('"creation_timestamp":%d+,'), res.body)
      assert.truthy(res.body:match('"last_updated_timestamp":%d+,'), res.body)
      assert.truthy(res.body:find('"url":"' .. sink_url() .. '"', 1, true), res.body)
      assert_no_secrets(res.body)
    end)

    it("defaults status to ACTIVE and keeps enable_ssl_verification=false", function()
      local wh = create({ events = { "COMMENT_CREATED" }, http_url_spec = {
        url = "https://hooks.example.com/x", enable_ssl_verification = false } })
      assert.are.equal("ACTIVE", wh.status)
      assert.is_false(wh.http_url_spec.enable_ssl_verification)
    end)

    it("omits model_name and description when absent (registry-wide)", function()
      local _, res = create({ events = { "REGISTERED_MODEL_CREATED" },
        http_url_spec = { url = "https://example.com/h" } })
      assert.is_nil(res.body:find("model_name", 1, true))
      assert.is_nil(res.body:find("description", 1, true))
      assert.is_nil(res.body:find("null", 1, true))
    end)

    it("stores a job webhook without returning its access token", function()
      local wh, res = create({ events = { "MODEL_VERSION_CREATED", "COMMENT_CREATED" },
        model_name = "m1", job_spec = { job_id = "123", access_token = ACCESS,
          workspace_url = "https://other.cloud.databricks.com" } })
      assert.are.same({ job_id = "123", workspace_url = "https://other.cloud.databricks.com" },
        wh.job_spec)
      assert_no_secrets(res.body)
      local _, res2 = create({ events = { "COMMENT_CREATED" },
        job_spec = { job_id = "9", access_token = ACCESS } })
      assert.are.same({ job_id = "9" }, res2.json.webhook.job_spec)
    end)

    it("drops duplicate events and treats JSON null as absent", function()
      local wh = create(http_body({ events = { "COMMENT_CREATED", "COMMENT_CREATED",
        "MODEL_VERSION_CREATED" }, description = cjson.null }))
      assert.are.same({ "COMMENT_CREATED", "MODEL_VERSION_CREATED" }, wh.events)
      assert.is_nil(wh.description)
    end)

    it("accepts http only to loopback hosts", function()
      for _, url in ipairs({ "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:8/x",
        "HTTPS://example.com/x?a=b" }) do
        create({ events = { "COMMENT_CREATED" }, http_url_spec = { url = url } })
      end
    end)

    local INVALID = {
      { "missing events", { http_url_spec = { url = "https://e.com" } }, "'events'" },
      { "empty events", { events = {}, http_url_spec = { url = "https://e.com" } }, "events" },
      { "events not an array", { events = "COMMENT_CREATED", http_url_spec = { url = "https://e.com" } } },
      { "unknown event", { events = { "MODEL_DELETED" }, http_url_spec = { url = "https://e.com" } },
        "MODEL_DELETED" },
      { "event not a string", { events = { 1 }, http_url_spec = { url = "https://e.com" } } },
      { "events as an object", { events = { a = "COMMENT_CREATED" },
        http_url_spec = { url = "https://e.com" } } },
      { "bad status", http_body({ status = "PAUSED" }), "PAUSED" },
      { "status not a string", http_body({ status = true }) },
      { "neither spec", { events = { "COMMENT_CREATED" } }, "Exactly one" },
      { "both specs", http_body({ job_spec = { job_id = "1", access_token = ACCESS } }),
        "Exactly one" },
      { "http_url_spec without url", { events = { "COMMENT_CREATED" },
        http_url_spec = { secret = SECRET } }, "http_url_spec.url" },
      { "empty url", { events = { "COMMENT_CREATED" }, http_url_spec = { url = "" } } },
      { "http to a public host", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "http://example.com/x", secret = SECRET } }, "https" },
      { "not a URL", { events = { "COMMENT_CREATED" }, http_url_spec = { url = "example.com" } } },
      { "ftp URL", { events = { "COMMENT_CREATED" }, http_url_spec = { url = "ftp://e.com/x" } } },
      { "http_url_spec not an object", { events = { "COMMENT_CREATED" },
        http_url_spec = { "https://e.com" } } },
      { "secret not a string", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://e.com", secret = 12 } }, "http_url_spec.secret" },
      { "enable_ssl_verification not a boolean", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://e.com", enable_ssl_verification = "false" } } },
      { "unknown field in http_url_spec", { events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://e.com", string = SECRET } }, "http_url_spec.string" },
      { "job_spec without job_id", { events = { "COMMENT_CREATED" },
        job_spec = { access_token = ACCESS } }, "job_spec.job_id" },
      { "numeric job_id", { events = { "COMMENT_CREATED" },
        job_spec = { job_id = 1, access_token = ACCESS } }, "job_spec.job_id" },
      { "job_spec without access_token", { events = { "COMMENT_CREATED" },
        job_spec = { job_id = "1" } }, "job_spec.access_token" },
      { "http workspace_url", { events = { "COMMENT_CREATED" },
        job_spec = { job_id = "1", access_token = ACCESS, workspace_url = "http://e.com" } } },
      { "REGISTERED_MODEL_CREATED with a model", http_body({ events = { "REGISTERED_MODEL_CREATED" } }),
        "REGISTERED_MODEL_CREATED" },
      { "unknown top-level field", http_body({ id = "x" }), "'id'" },
      { "model_name not a string", http_body({ model_name = 5 }), "model_name" },
      { "description not a string", http_body({ description = {} }), "description" },
    }
    for _, case in ipairs(INVALID) do
      it("rejects " .. case[1] .. " with 400 INVALID_PARAMETER_VALUE", function()
        local res = call("POST", "create", case[2])
        assert_error(res, 400, "INVALID_PARAMETER_VALUE", case[3])
        assert_no_secrets(res.body)
        assert.are.same({}, srv:webhooks())
      end)
    end

    it("rejects malformed JSON and a non-object body with 400 BAD_REQUEST", function()
      assert_error(call("POST", "create", '{"events": ['), 400, "BAD_REQUEST")
      assert_error(call("POST", "create", '["COMMENT_CREATED"]'), 400, "BAD_REQUEST")
      assert_error(call("POST", "create", "null"), 400, "BAD_REQUEST")
    end)

    it("treats an empty body as {}", function()
      assert_error(call("POST", "create", ""), 400, "INVALID_PARAMETER_VALUE", "events")
    end)

    it("checks model names when known_models is set", function()
      srv:settings({ known_models = { "m1" } })
      create()
      assert_error(call("POST", "create", http_body({ model_name = "m2" })), 404,
        "RESOURCE_DOES_NOT_EXIST", "m2")
    end)
  end)

  describe("list", function()
    local function list(query)
      local res = call("GET", "list" .. (query and ("?" .. query) or ""))
      assert.are.equal(200, res.status, res.body)
      return res.json, res
    end

    it("omits the webhooks key when there are none", function()
      local page, res = list()
      assert.are.equal("{}", res.body)
      assert.is_nil(page.webhooks)
      assert.is_nil(page.next_page_token)
    end)

    it("lists in creation order without secrets", function()
      local a = create()
      local b = create({ events = { "COMMENT_CREATED" }, job_spec = { job_id = "1", access_token = ACCESS } })
      local page, res = list()
      assert.are.equal(2, #page.webhooks)
      assert.are.equal(a.id, page.webhooks[1].id)
      assert.are.equal(b.id, page.webhooks[2].id)
      assert.are.same(a, page.webhooks[1])
      assert.is_nil(page.next_page_token)
      assert_no_secrets(res.body)
    end)

    it("filters by model_name and by any of the events", function()
      local a = create(http_body({ model_name = "a", events = { "COMMENT_CREATED" } }))
      local b = create(http_body({ model_name = "b", events = { "MODEL_VERSION_CREATED", "COMMENT_CREATED" } }))
      local c = create(http_body({ model_name = "a", events = { "MODEL_VERSION_TAG_SET" } }))
      local r = create({ events = { "REGISTERED_MODEL_CREATED" }, http_url_spec = { url = sink_url() } })
      local function ids(page)
        local out = {}
        for _, w in ipairs(page.webhooks or {}) do out[#out + 1] = w.id end
        return out
      end
      assert.are.same({ a.id, c.id }, ids(list("model_name=a")))
      assert.are.same({}, ids(list("model_name=zzz")))
      assert.are.same({ a.id, b.id }, ids(list("events=COMMENT_CREATED")))
      assert.are.same({ b.id, c.id }, ids(list("events=MODEL_VERSION_TAG_SET&events=MODEL_VERSION_CREATED")))
      assert.are.same({ a.id }, ids(list("model_name=a&events=COMMENT_CREATED")))
      assert.are.same({ r.id }, ids(list("events=REGISTERED_MODEL_CREATED")))
    end)

    it("rejects bad filters and max_results", function()
      assert_error(call("GET", "list?events=COMMENT_CREATED%2CMODEL_VERSION_CREATED"), 400,
        "INVALID_PARAMETER_VALUE")
      assert_error(call("GET", "list?events=NOPE"), 400, "INVALID_PARAMETER_VALUE", "NOPE")
      for _, v in ipairs({ "0", "-1", "1001", "abc", "1.5", "" }) do
        assert_error(call("GET", "list?max_results=" .. v), 400, "INVALID_PARAMETER_VALUE",
          "max_results")
      end
      assert.are.equal(200, call("GET", "list?max_results=1000").status)
    end)

    it("pages with opaque tokens that must be URL-encoded", function()
      local ids = {}
      for i = 1, 5 do ids[i] = create().id end
      local seen, token, pages = {}, nil, 0
      repeat
        local page = list("max_results=2&model_name=m1" .. (token and ("&page_token=" .. urlencode(token)) or ""))
        pages = pages + 1
        for _, w in ipairs(page.webhooks) do seen[#seen + 1] = w.id end
        token = page.next_page_token
        if token then assert.truthy(token:find("[+/]"), token) end
      until not token
      assert.are.equal(3, pages)
      assert.are.same(ids, seen)
      -- exactly max_results remaining: no token on the last full page
      local p1 = list("max_results=5")
      assert.are.equal(5, #p1.webhooks)
      assert.is_nil(p1.next_page_token)
    end)

    it("rejects a page token that is garbage, not encoded, or for other filters", function()
      for _ = 1, 3 do create() end
      local token = list("max_results=1").next_page_token
      assert_error(call("GET", "list?max_results=1&page_token=" .. token), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("GET", "list?page_token=abc"), 400, "INVALID_PARAMETER_VALUE", "page_token")
      assert_error(call("GET", "list?model_name=x&page_token=" .. urlencode(token)), 400,
        "INVALID_PARAMETER_VALUE")
      -- max_results may change between pages
      assert.are.equal(2, #list("max_results=5&page_token=" .. urlencode(token)).webhooks)
    end)

    it("neither skips nor repeats when webhooks are deleted between pages", function()
      local ids = {}
      for i = 1, 4 do ids[i] = create().id end
      local p1 = list("max_results=2")
      assert.are.equal(200, call("DELETE", "delete?id=" .. ids[2]).status)
      local p2 = list("max_results=2&page_token=" .. urlencode(p1.next_page_token))
      assert.are.same({ ids[3], ids[4] }, { p2.webhooks[1].id, p2.webhooks[2].id })
      assert.is_nil(p2.next_page_token)
    end)

    it("accepts the legacy form with a JSON body", function()
      create(http_body({ model_name = "a" }))
      create(http_body({ model_name = "b" }))
      local res = call("GET", "list", { model_name = "b", max_results = 10 })
      assert.are.equal(200, res.status, res.body)
      assert.are.equal(1, #res.json.webhooks)
      assert.are.equal("b", res.json.webhooks[1].model_name)
    end)
  end)

  describe("update", function()
    it("replaces the given fields and bumps last_updated_timestamp", function()
      local wh = create(http_body({ description = "old" }))
      local res = call("PATCH", "update", { id = wh.id, description = "new",
        events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, status = "DISABLED" })
      assert.are.equal(200, res.status, res.body)
      local up = res.json.webhook
      assert.are.equal("new", up.description)
      assert.are.same({ "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, up.events)
      assert.are.equal("DISABLED", up.status)
      assert.are.equal(wh.creation_timestamp, up.creation_timestamp)
      assert.truthy(up.last_updated_timestamp > wh.last_updated_timestamp)
      assert.are.equal("m1", up.model_name)
      assert.are.same(wh.http_url_spec, up.http_url_spec)
      assert_no_secrets(res.body)
      -- the secret survives a partial update
      assert.are.equal(SECRET, srv:webhooks()[1].http_url_spec.secret)
    end)

    it("updates only the description when only that is given", function()
      local wh = create()
      local up = call("PATCH", "update", { id = wh.id, description = "x" }).json.webhook
      wh.description, wh.last_updated_timestamp = "x", up.last_updated_timestamp
      assert.are.same(wh, up)
      local cleared = call("PATCH", "update", { id = wh.id, description = "" }).json.webhook
      assert.is_nil(cleared.description)
    end)

    it("replaces http_url_spec whole, secret included", function()
      local wh = create()
      local res = call("PATCH", "update", { id = wh.id, http_url_spec = { url = "https://e.com/new" } })
      assert.are.equal(200, res.status, res.body)
      local stored = srv:webhooks()[1].http_url_spec
      assert.are.equal("https://e.com/new", stored.url)
      assert.is_nil(stored.secret)
      assert.is_nil(stored.authorization)
      assert.is_true(stored.enable_ssl_verification)
    end)

    it("switching spec kind drops the other spec", function()
      local wh = create()
      local up = call("PATCH", "update", { id = wh.id,
        job_spec = { job_id = "7", access_token = ACCESS } }).json.webhook
      assert.is_nil(up.http_url_spec)
      assert.are.same({ job_id = "7" }, up.job_spec)
      up = call("PATCH", "update", { id = wh.id, http_url_spec = { url = sink_url() } }).json.webhook
      assert.is_nil(up.job_spec)
      assert.is_nil(srv:webhooks()[1].job_spec)
    end)

    it("validates like create", function()
      local wh = create()
      assert_error(call("PATCH", "update", { description = "x" }), 400, "INVALID_PARAMETER_VALUE", "'id'")
      assert_error(call("PATCH", "update", { id = wh.id, model_name = "other" }), 400,
        "INVALID_PARAMETER_VALUE", "model_name")
      assert_error(call("PATCH", "update", { id = wh.id, http_url_spec = { url = sink_url() },
        job_spec = { job_id = "1", access_token = ACCESS } }), 400, "INVALID_PARAMETER_VALUE", "Exactly one")
      assert_error(call("PATCH", "update", { id = wh.id, events = {} }), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("PATCH", "update", { id = wh.id, events = { "REGISTERED_MODEL_CREATED" } }), 400,
        "INVALID_PARAMETER_VALUE", "REGISTERED_MODEL_CREATED")
      assert_error(call("PATCH", "update", { id = wh.id, status = "OFF" }), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("PATCH", "update", { id = wh.id, colour = "red" }), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("PATCH", "update", { id = wh.id, http_url_spec = { secret = SECRET } }), 400,
        "INVALID_PARAMETER_VALUE")
      assert_error(call("PATCH", "update", "{"), 400, "BAD_REQUEST")
      assert_error(call("PATCH", "update", ""), 400, "INVALID_PARAMETER_VALUE", "'id'")
      assert.are.same(wh.last_updated_timestamp, srv:webhooks()[1].last_updated_timestamp)
    end)

    it("answers 404 for an unknown id", function()
      assert_error(call("PATCH", "update", { id = "0123", description = "x" }), 404,
        "RESOURCE_DOES_NOT_EXIST", "Registry webhook with ID '0123' does not exist.")
    end)
  end)

  describe("delete", function()
    it("deletes by query string and answers {}", function()
      local wh = create()
      local res = call("DELETE", "delete?id=" .. wh.id)
      assert.are.equal(200, res.status)
      assert.are.equal("{}", res.body)
      assert.are.same({}, srv:webhooks())
      assert_error(call("DELETE", "delete?id=" .. wh.id), 404, "RESOURCE_DOES_NOT_EXIST", wh.id)
    end)

    it("also accepts the id in a JSON body", function()
      local wh = create()
      assert.are.equal(200, call("DELETE", "delete", { id = wh.id }).status)
      assert.are.same({}, srv:webhooks())
    end)

    it("requires an id", function()
      assert_error(call("DELETE", "delete"), 400, "INVALID_PARAMETER_VALUE", "'id'")
      assert_error(call("DELETE", "delete?id="), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("DELETE", "delete", { id = 5 }), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("DELETE", "delete?id=a&id=b"), 400, "INVALID_PARAMETER_VALUE")
    end)
  end)

  describe("test", function()
    it("delivers a signed payload and relays the receiver's answer", function()
      local wh = create(http_body({ events = { "MODEL_VERSION_TRANSITIONED_STAGE" } }))
      local res = call("POST", "test", { id = wh.id })
      assert.are.equal(200, res.status, res.body)
      assert.are.equal('{"status_code":200,"body":"OK"}', res.body)
      local got = srv:sink()
      assert.are.equal(1, #got)
      local d = got[1]
      assert.are.equal("POST", d.method)
      assert.are.equal("/__control/sink", d.uri)
      assert.are.equal("application/json", d.headers["content-type"])
      assert.are.equal(AUTHZ, d.headers.authorization)
      assert.are.equal(hmac_sha256_hex(SECRET, d.body), d.headers["x-databricks-signature"])
      assert.truthy(d.headers["x-databricks-signature"]:match("^" .. ("%x"):rep(64) .. "$"))
      local p = cjson.decode(d.body)
      assert.are.equal("MODEL_VERSION_TRANSITIONED_STAGE", p.event)
      assert.are.equal(wh.id, p.webhook_id)
      assert.are.equal("m1", p.model_name)
      assert.are.equal("1", p.version)
      assert.are.equal("Production", p.to_stage)
      assert.are.equal("None", p.from_stage)
      assert.are.equal("string", type(p.text))
      assert.truthy(d.body:match('"event_timestamp":%d+,'), d.body)
    end)

    it("uses the requested event and sends no signature or auth when unset", function()
      local wh = create({ events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = sink_url("plain"), authorization = "" } })
      assert.are.equal(200, call("POST", "test", { id = wh.id, event = "REGISTERED_MODEL_CREATED" }).status)
      local d = srv:sink()[1]
      assert.are.equal("/__control/sink/plain", d.uri)
      assert.is_nil(d.headers["x-databricks-signature"])
      assert.is_nil(d.headers.authorization)
      local p = cjson.decode(d.body)
      assert.are.equal("REGISTERED_MODEL_CREATED", p.event)
      assert.are.equal("some-model", p.model_name)
      assert.is_nil(p.version)
    end)

    it("relays an error answer of the receiver", function()
      srv:settings({ sink_status = 500, sink_body = "receiver broke" })
      local wh = create()
      local res = call("POST", "test", { id = wh.id })
      assert.are.same({ status_code = 500, body = "receiver broke" }, res.json)
    end)

    it("delivers over https, verifying the receiver's certificate", function()
      local url = tls.url:gsub("127%.0%.0%.1", "localhost") .. "/__control/sink"
      local wh = create({ events = { "COMMENT_CREATED" }, http_url_spec = { url = url, secret = SECRET } })
      local res = call("POST", "test", { id = wh.id })
      assert.are.same({ status_code = 200, body = "OK" }, res.json)
      local d = tls:sink()[1]
      assert.are.equal(hmac_sha256_hex(SECRET, d.body), d.headers["x-databricks-signature"])
      assert.are.equal("COMMENT_CREATED", cjson.decode(d.body).event)
    end)

    it("fails TLS verification of an untrusted receiver unless disabled", function()
      local other = ws.start({ https = true })
      local url = other.url .. "/__control/sink"
      local ok, err = pcall(function()
        local strict = create({ events = { "COMMENT_CREATED" }, http_url_spec = { url = url } })
        assert_error(call("POST", "test", { id = strict.id }), 400, "INVALID_PARAMETER_VALUE", "TLS")
        local lax = create({ events = { "COMMENT_CREATED" },
          http_url_spec = { url = url, enable_ssl_verification = false } })
        assert.are.same({ status_code = 200, body = "OK" }, call("POST", "test", { id = lax.id }).json)
        assert.are.equal(1, #other:sink())
      end)
      other:stop()
      assert(ok, err)
    end)

    it("answers 400 when the receiver is unreachable, and never leaves loopback", function()
      local s = socket.bind("127.0.0.1", 0)
      local _, port = s:getsockname()
      s:close()
      local down = create({ events = { "COMMENT_CREATED" },
        http_url_spec = { url = "http://127.0.0.1:" .. port .. "/x" } })
      assert_error(call("POST", "test", { id = down.id }), 400, "INVALID_PARAMETER_VALUE", "connect")
      local public = create({ events = { "COMMENT_CREATED" },
        http_url_spec = { url = "https://hooks.example.com/x", secret = SECRET } })
      local res = call("POST", "test", { id = public.id })
      assert_error(res, 400, "INVALID_PARAMETER_VALUE", "resolve")
      assert_no_secrets(res.body)
    end)

    it("answers a job webhook with a run id, without network", function()
      local wh = create({ events = { "COMMENT_CREATED" }, job_spec = { job_id = "1", access_token = ACCESS } })
      local res = call("POST", "test", { id = wh.id })
      assert.are.same({ status_code = 200, body = '{"run_id":1}' }, res.json)
      assert.are.same({ status_code = 200, body = '{"run_id":2}' }, call("POST", "test", { id = wh.id }).json)
    end)

    it("validates its request", function()
      local wh = create()
      assert_error(call("POST", "test", { id = wh.id, event = "NOPE" }), 400, "INVALID_PARAMETER_VALUE", "NOPE")
      assert_error(call("POST", "test", {}), 400, "INVALID_PARAMETER_VALUE", "'id'")
      assert_error(call("POST", "test", { id = wh.id, extra = 1 }), 400, "INVALID_PARAMETER_VALUE")
      assert_error(call("POST", "test", { id = "abc" }), 404, "RESOURCE_DOES_NOT_EXIST", "'abc'")
      call("PATCH", "update", { id = wh.id, status = "DISABLED" })
      assert_error(call("POST", "test", { id = wh.id }), 400, "INVALID_PARAMETER_VALUE", "disabled")
      assert.are.same({}, srv:sink())
    end)
  end)

  describe("OAuth M2M", function()
    local function token_request(body, headers)
      headers = headers or {}
      headers["Content-Type"] = headers["Content-Type"] or "application/x-www-form-urlencoded"
      return srv:http({ method = "POST", path = "/oidc/v1/token", token = false, headers = headers,
        body = body or "grant_type=client_credentials&scope=all-apis" })
    end

    local function basic(id, secret)
      return { Authorization = "Basic " .. b64(id .. ":" .. secret) }
    end

    it("serves the discovery document from the request's host", function()
      local res = srv:http({ path = "/oidc/.well-known/oauth-authorization-server", token = false,
        headers = { Host = "workspace.test:1234" } })
      assert.are.equal(200, res.status)
      assert.are.equal("http://workspace.test:1234/oidc/v1/token", res.json.token_endpoint)
      assert.are.equal("http://workspace.test:1234/oidc/v1/authorize", res.json.authorization_endpoint)
      srv:settings({ oauth_discovery = false })
      assert.are.equal(404, srv:http({ path = "/oidc/.well-known/oauth-authorization-server",
        token = false }).status)
    end)

    it("issues a token for valid client credentials that the API accepts", function()
      local res = token_request(nil, basic(srv.client_id, srv.client_secret))
      assert.are.equal(200, res.status, res.body)
      assert.are.equal("Bearer", res.json.token_type)
      assert.are.equal(3600, res.json.expires_in)
      assert.truthy(res.body:match('"expires_in":3600'))
      local tok = res.json.access_token
      assert.are.equal(200, call("GET", "list", nil, { token = tok }).status)
    end)

    it("accepts URL-encoded credentials and credentials in the form", function()
      srv:settings({ client_id = "id:+/ x", client_secret = "s&e=c r%t" })
      assert.are.equal(200, token_request(nil, basic(urlencode("id:+/ x"), urlencode("s&e=c r%t"))).status)
      srv:settings({ client_id = "id+/ x" }) -- raw: a ':' could not be told apart
      assert.are.equal(200, token_request(nil, basic("id+/ x", "s&e=c r%t")).status)
      assert.are.equal(200, token_request("grant_type=client_credentials&scope=all-apis&client_id="
        .. urlencode("id+/ x") .. "&client_secret=" .. urlencode("s&e=c r%t")).status)
    end)

    it("rejects bad credentials and bad requests the OAuth way", function()
      local res = token_request(nil, basic(srv.client_id, "wrong"))
      assert.are.equal(401, res.status)
      assert.are.equal("invalid_client", res.json.error)
      assert.are.equal("string", type(res.json.error_description))
      assert.are.equal(401, token_request().status)
      res = token_request("grant_type=password", basic(srv.client_id, srv.client_secret))
      assert.are.equal(400, res.status)
      assert.are.equal("unsupported_grant_type", res.json.error)
      res = token_request("grant_type=client_credentials&scope=sql", basic(srv.client_id, srv.client_secret))
      assert.are.equal("invalid_scope", res.json.error)
    end)

    it("expires tokens after token_ttl and can revoke them", function()
      srv:settings({ token_ttl = 0.2 })
      local res = token_request(nil, basic(srv.client_id, srv.client_secret))
      assert.are.equal(1, res.json.expires_in)
      local tok = res.json.access_token
      assert.are.equal(200, call("GET", "list", nil, { token = tok }).status)
      socket.sleep(0.3)
      assert_error(call("GET", "list", nil, { token = tok }), 401, "UNAUTHENTICATED", "expired")
      srv:settings({ token_ttl = 60 })
      tok = token_request(nil, basic(srv.client_id, srv.client_secret)).json.access_token
      srv:settings({ revoke_tokens = true })
      assert.are.equal(401, call("GET", "list", nil, { token = tok }).status)
    end)
  end)

  describe("rate limit", function()
    it("answers 429 with Retry-After beyond the limit, and refills over time", function()
      srv:settings({ rate_limit = 5 })
      local statuses = {}
      for i = 1, 8 do
        local res = call("GET", "list")
        statuses[i] = res.status
        if i > 5 then
          assert_error(res, 429, "REQUEST_LIMIT_EXCEEDED", "5 requests per second")
          assert.are.equal("1", res.headers["retry-after"])
        end
      end
      assert.are.same({ 200, 200, 200, 200, 200, 429, 429, 429 }, statuses)
      assert.are.equal(3, srv:stats().rate_limited)
      assert.are.equal(429, srv:requests()[8].status)
      socket.sleep(0.45) -- two requests' worth
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(429, call("GET", "list").status)
    end)

    it("counts only API requests, takes a burst size and a fixed Retry-After", function()
      srv:settings({ rate_limit = 1, rate_limit_burst = 2, rate_limit_retry_after = "7" })
      for _ = 1, 5 do srv:control("GET", "stats") end
      local discovery = "/oidc/.well-known/oauth-authorization-server"
      for _ = 1, 3 do assert.are.equal(200, srv:http({ method = "GET", path = discovery }).status) end
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(200, call("POST", "create", http_body()).status)
      local res = call("GET", "list")
      assert.are.equal(429, res.status)
      assert.are.equal("7", res.headers["retry-after"])
      local s = srv:control("GET", "settings")
      assert.are.equal(1, s.rate_limit)
      assert.are.equal(2, s.rate_limit_burst)
    end)

    it("is off by default, after reset and with false; validates its settings", function()
      for _ = 1, 30 do assert.are.equal(200, call("GET", "list").status) end
      assert.are.equal(false, srv:control("GET", "settings").rate_limit)
      srv:settings({ rate_limit = 1, rate_limit_burst = 1 })
      call("GET", "list")
      assert.are.equal(429, call("GET", "list").status)
      srv:settings({ rate_limit = false })
      assert.are.equal(200, call("GET", "list").status)
      srv:settings({ rate_limit = 1, rate_limit_burst = 1 })
      call("GET", "list")
      srv:reset()
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(0, srv:stats().rate_limited)
      assert.has_error(function() srv:settings({ rate_limit = -1 }) end)
      assert.has_error(function() srv:settings({ rate_limit = "fast" }) end)
      assert.has_error(function() srv:settings({ rate_limit_burst = 0.5 }) end)
    end)
  end)

  describe("control", function()
    it("records requests exactly as received", function()
      local sock = connect(srv.port)
      exchange(sock, "GET " .. API .. "list?events=COMMENT_CREATED&events=MODEL_VERSION_CREATED&model_name=a%20b"
        .. " HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " .. TOKEN .. "\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n")
      sock:close()
      call("POST", "create", '{"events":["COMMENT_CREATED"]}')
      local recs = srv:requests()
      assert.are.equal(2, #recs)
      local r = recs[1]
      assert.are.equal("GET", r.method)
      assert.are.equal(API .. "list?events=COMMENT_CREATED&events=MODEL_VERSION_CREATED&model_name=a%20b", r.uri)
      assert.are.equal(API .. "list", r.path)
      assert.are.equal("events=COMMENT_CREATED&events=MODEL_VERSION_CREATED&model_name=a%20b", r.query)
      assert.are.equal("Bearer " .. TOKEN, r.headers.authorization)
      assert.are.same({ "1", "2" }, r.headers["x-dup"])
      assert.are.equal("", r.body)
      assert.are.equal(200, r.status)
      assert.are.equal('{"events":["COMMENT_CREATED"]}', recs[2].body)
      assert.are.equal("application/json", recs[2].headers["content-type"])
      assert.are.equal(400, recs[2].status)
    end)

    it("keeps the last 200 requests", function()
      local sock = connect(srv.port)
      for i = 1, 205 do
        exchange(sock, get_request(API .. "list?max_results=" .. i, TOKEN))
      end
      sock:close()
      local recs = srv:requests()
      assert.are.equal(200, #recs)
      assert.are.equal("max_results=6", recs[1].query)
      assert.are.equal("max_results=205", recs[200].query)
    end)

    it("counts connections, requests and paths (keep-alive shows as one connection)", function()
      local sock = connect(srv.port)
      for _ = 1, 3 do
        local status = exchange(sock, get_request(API .. "list", TOKEN))
        assert.are.equal(200, status)
      end
      sock:close()
      call("GET", "list")
      call("POST", "create", http_body())
      local st = srv:stats()
      assert.are.equal(3, st.connections)
      assert.are.equal(5, st.requests)
      assert.are.equal(4, st.by_path[API .. "list"])
      assert.are.equal(1, st.by_path[API .. "create"])
      srv:reset()
      assert.are.same({ connections = 0, requests = 0, by_path = {}, rate_limited = 0 }, srv:stats())
    end)

    it("shows stored webhooks with their secrets", function()
      create()
      create({ events = { "COMMENT_CREATED" }, job_spec = { job_id = "1", access_token = ACCESS } })
      local all = srv:webhooks()
      assert.are.equal(2, #all)
      assert.are.equal(SECRET, all[1].http_url_spec.secret)
      assert.are.equal(AUTHZ, all[1].http_url_spec.authorization)
      assert.are.equal(ACCESS, all[2].job_spec.access_token)
    end)

    it("resets webhooks, records, faults and settings", function()
      create()
      srv:faults({ { kind = "503", count = 5 } })
      srv:settings({ latency_ms = 5, tokens = { "x" } })
      srv:reset()
      assert.are.same({}, srv:webhooks())
      assert.are.same({}, srv:requests())
      assert.are.same({}, srv:control("GET", "faults"))
      local s = srv:control("GET", "settings")
      assert.are.equal(0, s.latency_ms)
      assert.are.same({ TOKEN }, s.tokens)
    end)

    it("validates settings and changes nothing on error", function()
      assert.has_error(function() srv:settings({ latency_ms = -1 }) end)
      assert.has_error(function() srv:settings({ tokens = "x" }) end)
      assert.has_error(function() srv:settings({ nope = 1 }) end)
      assert.has_error(function() srv:settings({ token_ttl = 5, oauth_discovery = "no" }) end)
      assert.are.equal(3600, srv:control("GET", "settings").token_ttl)
    end)

    it("adds latency to API requests", function()
      srv:settings({ latency_ms = 150 })
      local t = socket.gettime()
      call("GET", "list")
      assert.truthy(socket.gettime() - t >= 0.14)
    end)
  end)

  describe("faults", function()
    local function fault(f)
      srv:faults({ f })
    end

    it("status: any status, error code, message and Retry-After", function()
      fault({ kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "boom",
        retry_after = "Wed, 21 Oct 2015 07:28:00 GMT" })
      local res = call("GET", "list")
      assert_error(res, 500, "INTERNAL_ERROR", "boom")
      assert.are.equal("Wed, 21 Oct 2015 07:28:00 GMT", res.headers["retry-after"])
      fault({ kind = "status", status = 409 })
      assert_error(call("GET", "list"), 409, "RESOURCE_CONFLICT")
      fault({ kind = "status", status = 400, body = '{"error_code":400,"message":"legacy"}' })
      res = call("GET", "list")
      assert.are.equal(400, res.json.error_code)
    end)

    it("429 and 503 shortcuts", function()
      fault({ kind = "429" })
      local res = call("GET", "list")
      assert_error(res, 429, "REQUEST_LIMIT_EXCEEDED")
      assert.are.equal("1", res.headers["retry-after"])
      fault({ kind = 429, retry_after = 7 })
      assert.are.equal("7", call("GET", "list").headers["retry-after"])
      fault({ kind = "503" })
      res = call("GET", "list")
      assert_error(res, 503, "TEMPORARILY_UNAVAILABLE")
      assert.is_nil(res.headers["retry-after"])
      assert.are.equal(200, call("GET", "list").status)
    end)

    it("applies before auth, and only to matching paths and methods, count times", function()
      fault({ kind = "503", path = "create", count = 2 })
      fault({ kind = "429", method = "DELETE" })
      assert.are.equal(200, call("GET", "list").status)
      assert.are.equal(503, call("POST", "create", http_body(), { token = false }).status)
      assert.are.equal(503, call("POST", "create", http_body()).status)
      assert.are.equal(200, call("POST", "create", http_body()).status)
      assert.are.equal(429, call("DELETE", "delete?id=x").status)
      assert.are.equal(404, call("DELETE", "delete?id=x").status)
      local recs = srv:requests()
      assert.are.equal("503", recs[2].fault)
      assert.is_nil(recs[1].fault)
    end)

    it("path-less faults spare /oidc, a path reaches it", function()
      fault({ kind = "503" })
      local res = srv:http({ method = "POST", path = "/oidc/v1/token", token = false,
        headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
          Authorization = "Basic " .. b64(srv.client_id .. ":" .. srv.client_secret) },
        body = "grant_type=client_credentials&scope=all-apis" })
      assert.are.equal(200, res.status)
      assert.are.equal(503, call("GET", "list").status)
      fault({ kind = "html_500", path = "/oidc/v1/token" })
      assert.are.equal(500, srv:http({ method = "POST", path = "/oidc/v1/token", token = false }).status)
    end)

    it("slow: delays, then answers normally", function()
      fault({ kind = "slow", delay_ms = 150 })
      local t = socket.gettime()
      assert.are.equal(200, call("GET", "list").status)
      assert.truthy(socket.gettime() - t >= 0.14)
    end)

    it("drop: closes the connection without a response", function()
      fault({ kind = "drop" })
      local sock = connect(srv.port)
      local status, err = exchange(sock, get_request(API .. "list", TOKEN))
      sock:close()
      assert.is_nil(status)
      assert.are.equal("closed", err)
    end)

    it("reset_mid_body: promises more body than it sends, then closes", function()
      fault({ kind = "reset_mid_body" })
      local sock = connect(srv.port)
      assert(sock:send(get_request(API .. "list", TOKEN)))
      local data, err, partial = sock:receive("*a")
      sock:close()
      data = data or partial
      assert.is_nil(err)
      local head, body = data:match("^(.-)\r\n\r\n(.*)$")
      assert.truthy(head:match("^HTTP/1.1 200"))
      local len = tonumber(head:lower():match("content%-length: (%d+)"))
      assert.truthy(#body > 0 and #body < len)
    end)

    it("stall_after_headers: headers first, the body after the delay", function()
      fault({ kind = "stall_after_headers", delay_ms = 400 })
      local sock = connect(srv.port)
      local t = socket.gettime()
      assert(sock:send(get_request(API .. "list", TOKEN)))
      local line = sock:receive("*l")
      local t_headers = socket.gettime() - t
      repeat local l = sock:receive("*l") until l == ""
      local body = sock:receive(2)
      local t_body = socket.gettime() - t
      sock:close()
      assert.truthy(line:match("^HTTP/1.1 200"))
      assert.truthy(t_headers < 0.3, t_headers)
      assert.truthy(t_body >= 0.39, t_body)
      assert.are.equal("{}", body)
    end)

    it("non_json, html_500, truncated, wrong_shape, empty", function()
      fault({ kind = "non_json" })
      local res = call("GET", "list")
      assert.are.equal(200, res.status)
      assert.truthy(res.headers["content-type"]:match("^text/html"))
      assert.is_nil(res.json)
      fault({ kind = "html_500" })
      res = call("GET", "list")
      assert.are.equal(500, res.status)
      assert.truthy(res.body:find("<pre>", 1, true))
      fault({ kind = "truncated" })
      res = call("GET", "list")
      assert.are.equal(200, res.status)
      assert.are.equal(tonumber(res.headers["content-length"]), #res.body)
      assert.truthy(res.body:match('^{"webhooks":%['))
      assert.is_nil(res.json)
      fault({ kind = "wrong_shape" })
      assert.are.same({ 1, 2 }, call("GET", "list").json)
      fault({ kind = "wrong_shape", body = '{"webhook":"x"}' })
      assert.are.same({ webhook = "x" }, call("POST", "create", http_body()).json)
      fault({ kind = "empty" })
      res = call("DELETE", "delete?id=x")
      assert.are.equal(200, res.status)
      assert.are.equal("", res.body)
      assert.are.equal("0", res.headers["content-length"])
    end)

    it("huge: streams a large, valid JSON body (50 MB by default)", function()
      fault({ kind = "huge", size = 1048576 })
      local res = call("GET", "list")
      assert.are.equal(200, res.status)
      assert.are.equal(1048576, #res.body)
      assert.are.same({}, res.json.webhooks)
      fault({ kind = "huge" })
      local sock = connect(srv.port)
      assert(sock:send(get_request(API .. "list", TOKEN)))
      local len
      repeat
        local l = sock:receive("*l")
        len = len or tonumber(l:lower():match("^content%-length: (%d+)"))
      until l == ""
      sock:close()
      assert.are.equal(50 * 1024 * 1024, len)
    end)

    it("redirect: 302 to a login page", function()
      fault({ kind = "redirect", location = "https://login.example.com/?next=x" })
      local sock = connect(srv.port)
      local status, headers = exchange(sock, get_request(API .. "list", TOKEN))
      sock:close()
      assert.are.equal(302, status)
      assert.are.equal("https://login.example.com/?next=x", headers.location)
    end)

    it("lists and clears pending faults", function()
      srv:faults({ { kind = "drop", path = "update", count = 3 }, { kind = "empty" } })
      local pending = srv:control("GET", "faults")
      assert.are.equal(2, #pending)
      assert.are.equal(3, pending[1].count)
      srv:control("DELETE", "faults")
      assert.are.same({}, srv:control("GET", "faults"))
    end)
  end)
end)
