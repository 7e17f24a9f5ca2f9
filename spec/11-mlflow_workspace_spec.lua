-- Specs for the local workspace's OSS MLflow family (ws.start{ api = "mlflow" }):
-- the stand-in for an MLflow 3.3+ webhooks server, its quirks included. Plain
-- HTTP over LuaSocket (srv:http) and curl for TLS; deliveries go to the
-- stand-in's own sink on 127.0.0.1.

package.path = "./?.lua;" .. package.path

local ws = require("spec.support.workspace")
local cjson = require("cjson")
local socket = require("socket")

local B = "/api/2.0/mlflow/webhooks"
local AJAX = "/ajax-api/2.0/mlflow/webhooks"
local SECRET = "s3cret-key"
local MV_CREATED = { entity = "MODEL_VERSION", action = "CREATED" }

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function tmpfile(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

-- base64(HMAC-SHA256(key, data)), computed by openssl, not by the server's code.
local function hmac_b64(key, data)
  local path = tmpfile(data)
  local out = sh("openssl dgst -sha256 -binary -hmac '" .. key .. "' " .. path .. " | openssl base64 -A")
  os.remove(path)
  return out
end

local function b64(s)
  local path = tmpfile(s)
  local out = sh("openssl base64 -A -in " .. path)
  os.remove(path)
  return out
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function wait_for(fn, seconds)
  local deadline = socket.gettime() + (seconds or 5)
  while socket.gettime() < deadline do
    local v = fn()
    if v then return v end
    socket.sleep(0.02)
  end
  return fn()
end

local function assert_error(res, status, code, fragment)
  assert.are.equal(status, res.status, res.body)
  assert.are.equal("application/json", res.headers["content-type"])
  assert.are.equal(code, res.json.error_code, res.body)
  if fragment then
    assert.truthy(res.json.message:find(fragment, 1, true), res.json.message)
  end
end

local function assert_html500(res)
  assert.are.equal(500, res.status, res.body)
  assert.truthy(res.headers["content-type"]:find("text/html", 1, true))
  assert.truthy(res.body:find("<title>500 Internal Server Error</title>", 1, true))
  assert.is_nil(res.json)
end

describe("local MLflow server", function()
  local srv, strict -- srv: http + private IPs allowed, no backoff; strict: all defaults

  setup(function()
    srv = ws.start({ api = "mlflow", allowed_schemes = "http,https", allow_private_ips = true,
      delivery_backoff = 0 })
    strict = ws.start({ api = "mlflow" })
  end)

  teardown(function()
    if srv then srv:stop() end
    if strict then strict:stop() end
  end)

  before_each(function()
    srv:reset()
    strict:reset()
  end)

  local function call(method, path, body, headers, s)
    return (s or srv):http({ method = method, path = path, body = body, headers = headers })
  end

  local function sink_url(name)
    return srv.url .. "/__control/sink/" .. (name or "hook")
  end

  local function hook(extra)
    local b = { name = "hook-1", url = sink_url(), events = { MV_CREATED } }
    for k, v in pairs(extra or {}) do b[k] = v end
    return b
  end

  local function create(body, s)
    local res = call("POST", B, body or hook(), nil, s)
    assert.are.equal(200, res.status, res.body)
    return res.json.webhook, res
  end

  local function sink() return srv:sink() end

  describe("routes", function()
    it("serves the webhook object W under /api/ and /ajax-api/", function()
      local wh, res = create(hook({ description = "d", secret = SECRET,
        events = { { entity = "REGISTERED_MODEL", action = "CREATED" }, MV_CREATED,
          { entity = "MODEL_VERSION_TAG", action = "SET" } } }))
      assert.are.equal("application/json", res.headers["content-type"])
      assert.truthy(wh.webhook_id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$"))
      assert.are.equal(36, #wh.webhook_id)
      assert.is_nil(wh.id)
      assert.are.equal("hook-1", wh.name)
      assert.are.equal("d", wh.description)
      assert.are.equal(sink_url(), wh.url)
      assert.are.equal("ACTIVE", wh.status)
      assert.is_nil(res.body:find("secret", 1, true))
      assert.are.equal(math.floor(wh.creation_timestamp), wh.creation_timestamp)
      assert.truthy(wh.creation_timestamp > 1.6e12)
      assert.are.equal(wh.creation_timestamp, wh.last_updated_timestamp)
      assert.truthy(res.body:find('"creation_timestamp":%d+,'))
      -- sorted as the SQL store returns them
      assert.are.same({ MV_CREATED, { entity = "MODEL_VERSION_TAG", action = "SET" },
        { entity = "REGISTERED_MODEL", action = "CREATED" } }, wh.events)

      local got = call("GET", AJAX .. "/" .. wh.webhook_id)
      assert.are.equal(200, got.status)
      assert.are.same(wh, got.json.webhook)
      assert.are.same({ webhooks = { wh } }, call("GET", AJAX).json)
    end)

    it("omits an empty description and takes enum numbers", function()
      local wh, res = create(hook({ description = "", events = { { entity = 2, action = 1 } } }))
      assert.is_nil(res.body:find("description", 1, true))
      assert.are.same({ MV_CREATED }, wh.events)
    end)

    it("ignores unknown JSON fields", function()
      local wh = create(hook({ colour = "blue", model_name = "m" }))
      assert.is_nil(wh.colour)
      assert.is_nil(wh.model_name)
    end)

    it("answers an unknown path 404 and a wrong method 405 with Flask's HTML", function()
      for _, p in ipairs({ "/api/2.0/mlflow/registry-webhooks/list", "/api/2.0/mlflow/webhooks/a/b",
        "/x" }) do
        local res = call("GET", p)
        assert.are.equal(404, res.status, p)
        assert.truthy(res.headers["content-type"]:find("text/html", 1, true))
      end
      local res = call("PUT", B, {})
      assert.are.equal(405, res.status)
      assert.truthy(res.body:find("Method Not Allowed", 1, true))
      assert.are.equal(405, call("GET", B .. "/abc/test").status)
    end)

    it("needs Content-Type: application/json on POST and PATCH, even for /test", function()
      local wh = create()
      local none = { ["Content-Type"] = false }
      assert_error(call("POST", B, cjson.encode(hook()), none), 400, "INVALID_PARAMETER_VALUE",
        "Bad Request. Content-Type header is missing.")
      assert_error(call("PATCH", B .. "/" .. wh.webhook_id, '{"name":"n"}', none), 400,
        "INVALID_PARAMETER_VALUE", "Content-Type header is missing.")
      assert_error(call("POST", B .. "/" .. wh.webhook_id .. "/test", nil, none), 400,
        "INVALID_PARAMETER_VALUE", "Content-Type header is missing.")
      assert_error(call("POST", B, cjson.encode(hook()), { ["Content-Type"] = "text/plain" }), 400,
        "INVALID_PARAMETER_VALUE", "Content-Type must be one of ['application/json']")
      local ok = call("POST", B, cjson.encode(hook()),
        { ["Content-Type"] = "application/json; charset=utf-8" })
      assert.are.equal(200, ok.status, ok.body)
      local empty = call("POST", B .. "/" .. wh.webhook_id .. "/test", "",
        { ["Content-Type"] = "application/json" })
      assert.are.equal(200, empty.status, empty.body)
    end)

    it("sends 3.11's error_class and sqlstate in error bodies", function()
      local res = call("GET", B .. "/nope")
      assert.are.equal("RESOURCE_DOES_NOT_EXIST", res.json.error_class)
      assert.are.equal("KAM00", res.json.sqlstate)
      assert.truthy(res.body:find('^{"error_code":"RESOURCE_DOES_NOT_EXIST","message":'))
    end)
  end)

  describe("list", function()
    it("answers {} when empty", function()
      local res = call("GET", B)
      assert.are.equal(200, res.status)
      assert.are.equal("{}", res.body)
    end)

    it("pages newest first with base64 {\"offset\": N} tokens", function()
      local a = create(hook({ name = "a" }))
      local b = create(hook({ name = "b" }))
      local c = create(hook({ name = "c" }))
      local p1 = call("GET", B .. "?max_results=2").json
      assert.are.same({ c.webhook_id, b.webhook_id },
        { p1.webhooks[1].webhook_id, p1.webhooks[2].webhook_id })
      assert.are.equal(b64('{"offset": 2}'), p1.next_page_token)
      assert.are.equal("eyJvZmZzZXQiOiAyfQ==", p1.next_page_token)
      local p2 = call("GET", B .. "?max_results=2&page_token=" .. urlencode(p1.next_page_token))
      assert.are.equal(200, p2.status, p2.body)
      assert.are.equal(1, #p2.json.webhooks)
      assert.are.equal(a.webhook_id, p2.json.webhooks[1].webhook_id)
      assert.is_nil(p2.json.next_page_token)
      local past = call("GET", B .. "?page_token=" .. urlencode(b64('{"offset": 9}')))
      assert.are.equal("{}", past.body)
    end)

    it("takes max_results 0 as 100 and 1..1000, else 400", function()
      create()
      assert.are.equal(1, #call("GET", B .. "?max_results=0").json.webhooks)
      assert.are.equal(1, #call("GET", B .. "?max_results=1000").json.webhooks)
      for _, v in ipairs({ "1001", "-1" }) do
        assert_error(call("GET", B .. "?max_results=" .. v), 400, "INVALID_PARAMETER_VALUE",
          "max_results must be between 1 and 1000.")
      end
      assert_error(call("GET", B .. "?max_results=abc"), 400, "INVALID_PARAMETER_VALUE",
        "Invalid value \"abc\" for parameter 'max_results'")
    end)

    it("rejects a bad page_token", function()
      assert_error(call("GET", B .. "?page_token=%21%21%21"), 400, "INVALID_PARAMETER_VALUE",
        "Invalid page token, could not base64-decode")
      assert_error(call("GET", B .. "?page_token=" .. urlencode(b64("nope"))), 400,
        "INVALID_PARAMETER_VALUE", "Invalid page token")
    end)
  end)

  describe("validation", function()
    local INVALID = "INVALID_PARAMETER_VALUE"

    it("needs name, url and events", function()
      for _, k in ipairs({ "name", "url", "events" }) do
        local body = hook()
        body[k] = nil
        assert_error(call("POST", B, body), 400, INVALID,
          "Missing value for required parameter '" .. k .. "'.")
      end
      assert_error(call("POST", B, hook({ events = cjson.empty_array or {} })), 400, INVALID,
        "Webhook events must be a non-empty list of WebhookEvent objects: [].")
    end)

    it("checks names: 1-63 of [A-Za-z0-9._-], alphanumeric at both ends", function()
      for _, name in ipairs({ "", "-a", "a-", "a b", "a/b", string.rep("a", 64) }) do
        assert_error(call("POST", B, hook({ name = name })), 400, INVALID,
          "Webhook name '" .. name .. "' is invalid. It must start and end with a letter or digit")
      end
      for _, name in ipairs({ "a", "a.b_c-d", string.rep("z", 63), "hook-1" }) do
        create(hook({ name = name })) -- names need not be unique
      end
    end)

    it("checks URLs: blank, host, scheme, non-public address, DNS", function()
      assert_error(call("POST", B, hook({ url = "  " })), 400, INVALID,
        "Webhook URL cannot be empty or just whitespace")
      assert_error(call("POST", B, hook({ url = "http://" })), 400, INVALID,
        "Webhook URL must include a hostname")
      assert_error(call("POST", B, hook({ url = "ftp://x.example.com/" })), 400, INVALID,
        "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http, https.")
      assert_error(call("POST", B, hook({ url = "http://x.example.com/" }), nil, strict), 400,
        INVALID, "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.")
      assert_error(call("POST", B, hook({ url = "https://localhost/h" }), nil, strict), 400,
        INVALID, "Webhook URL must not resolve to a non-public IP address. 'localhost' resolves to"
        .. " 127.0.0.1.")
      for _, host in ipairs({ "127.0.0.2", "10.1.2.3", "192.168.0.1", "172.16.0.1", "[::1]" }) do
        assert_error(call("POST", B, hook({ url = "https://" .. host .. "/" }), nil, strict), 400,
          INVALID, "non-public IP address")
      end
      assert_error(call("POST", B, hook({ url = "https://nowhere.invalid/" }), nil, strict), 400,
        INVALID, "Cannot resolve webhook URL hostname")
      create(hook({ url = "https://hooks.example.com/x" }), strict)
    end)

    it("rejects wrong JSON types with the server's hint", function()
      assert_error(call("POST", B, hook({ secret = 123 })), 400, INVALID,
        "Invalid value 123 for parameter 'secret' supplied. Hint: Value was of type 'int'.")
      assert_error(call("POST", B, hook({ name = true })), 400, INVALID,
        "Invalid value True for parameter 'name' supplied")
    end)

    it("answers a repeated pair with the raw sqlite IntegrityError", function()
      assert_error(call("POST", B, hook({ events = { MV_CREATED, MV_CREATED } })), 400,
        "BAD_REQUEST", "(sqlite3.IntegrityError) UNIQUE constraint failed: webhook_events")
      assert.are.equal("{}", call("GET", B).body)
    end)

    it("answers an invalid pair with the valid actions", function()
      assert_error(call("POST", B, hook({ events = { { entity = "REGISTERED_MODEL", action = "DELETED" } } })),
        400, INVALID, "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']")
      assert_error(call("POST", B, hook({ events = { { entity = "PROMPT_TAG", action = "UPDATED" } } })),
        400, INVALID, "Valid actions are: ['set', 'deleted']")
    end)

    it("answers broken events with a 500 HTML page, not JSON", function()
      for _, events in ipairs({
        { { entity = "model_version", action = "created" } },
        { { entity = "MODEL_VERSION", action = "FROBBED" } },
        { "model_version.created" },
        "model_version.created",
        { cjson.decode("{}") },
        { { entity = "MODEL_VERSION" } },
        { { entity = "ENTITY_UNSPECIFIED", action = "CREATED" } },
        { { entity = "MODEL_VERSION", action = "ACTION_UNSPECIFIED" } },
        { { entity = 0, action = 1 } },
      }) do
        assert_html500(call("POST", B, hook({ events = events })))
      end
    end)
  end)

  describe("update", function()
    local function patch(id, body)
      return call("PATCH", B .. "/" .. id, body)
    end

    it("replaces the given fields and the event set", function()
      local wh = create(hook({ secret = SECRET }))
      local res = patch(wh.webhook_id, { name = "renamed", description = "new", url = sink_url("b"),
        events = { { entity = "PROMPT", action = "CREATED" } }, status = "DISABLED" })
      assert.are.equal(200, res.status, res.body)
      local w = res.json.webhook
      assert.are.equal("renamed", w.name)
      assert.are.equal("new", w.description)
      assert.are.equal(sink_url("b"), w.url)
      assert.are.same({ { entity = "PROMPT", action = "CREATED" } }, w.events)
      assert.are.equal("DISABLED", w.status)
      assert.are.equal(wh.creation_timestamp, w.creation_timestamp)
      assert.truthy(w.last_updated_timestamp > wh.last_updated_timestamp)
    end)

    it("sets ACTIVE when status is not sent (a PATCH of the description re-enables)", function()
      local wh = create(hook({ status = "DISABLED" }))
      assert.are.equal("DISABLED", wh.status)
      local w = patch(wh.webhook_id, { description = "only this" }).json.webhook
      assert.are.equal("ACTIVE", w.status)
      assert.are.equal("only this", w.description)
    end)

    it("takes \"\" and [] as not given", function()
      local wh = create(hook({ description = "keep", secret = SECRET }))
      local w = patch(wh.webhook_id, { name = "", description = "", url = "", secret = "",
        events = cjson.empty_array or {}, status = "ACTIVE" }).json.webhook
      assert.are.equal("hook-1", w.name)
      assert.are.equal("keep", w.description)
      assert.are.equal(sink_url(), w.url)
      assert.are.same(wh.events, w.events)
      assert.are.equal(SECRET, srv:webhooks()[1].secret)
    end)

    it("an unknown status: create says events are empty, update only sets ACTIVE", function()
      assert_error(call("POST", B, hook({ status = "PAUSED" })), 400, "INVALID_PARAMETER_VALUE",
        "Webhook events must be a non-empty list of WebhookEvent objects: [].")
      local wh = create(hook({ status = "DISABLED" }))
      local res = patch(wh.webhook_id, { status = "PAUSED", name = "other", description = "x" })
      assert.are.equal(200, res.status, res.body)
      assert.are.equal("ACTIVE", res.json.webhook.status)
      assert.are.equal("hook-1", res.json.webhook.name)
      assert.is_nil(res.json.webhook.description)
    end)

    it("validates like create", function()
      local wh = create()
      assert_error(patch(wh.webhook_id, { name = "-x" }), 400, "INVALID_PARAMETER_VALUE", "is invalid")
      assert_error(patch(wh.webhook_id, { events = { MV_CREATED, MV_CREATED } }), 400, "BAD_REQUEST",
        "IntegrityError")
      assert_html500(patch(wh.webhook_id, { events = { { entity = "model_version", action = "created" } } }))
      assert_error(patch("nope", { name = "x" }), 404, "RESOURCE_DOES_NOT_EXIST",
        "Webhook with ID nope not found.")
    end)
  end)

  describe("delete", function()
    it("soft-deletes: {} then 404 for every call on the id", function()
      local wh = create()
      local id = wh.webhook_id
      local res = call("DELETE", B .. "/" .. id)
      assert.are.equal(200, res.status)
      assert.are.equal("{}", res.body)
      local msg = "Webhook with ID " .. id .. " not found."
      assert_error(call("GET", B .. "/" .. id), 404, "RESOURCE_DOES_NOT_EXIST", msg)
      assert_error(call("PATCH", B .. "/" .. id, { name = "x" }), 404, "RESOURCE_DOES_NOT_EXIST", msg)
      assert_error(call("DELETE", B .. "/" .. id), 404, "RESOURCE_DOES_NOT_EXIST", msg)
      assert_error(call("POST", B .. "/" .. id .. "/test", {}), 404, "RESOURCE_DOES_NOT_EXIST", msg)
      assert.are.equal("{}", call("GET", B).body)
      local kept = srv:webhooks()
      assert.are.equal(1, #kept)
      assert.is_true(kept[1].deleted)
    end)
  end)

  describe("auth", function()
    it("accepts anything by default", function()
      assert.is_nil(srv.token)
      local res = srv:http({ method = "GET", path = B, headers = { Authorization = "Bearer junk" } })
      assert.are.equal(200, res.status)
    end)

    it("with token: Bearer required, else 401 UNAUTHENTICATED JSON", function()
      local s = ws.start({ api = "mlflow", token = "mlf-token", error_extras = false })
      finally(function() s:stop() end)
      assert.are.equal("mlf-token", s.token)
      assert.are.equal(200, s:http({ method = "GET", path = B }).status)
      assert_error(s:http({ method = "GET", path = B, token = false }), 401, "UNAUTHENTICATED",
        "You are not authenticated.")
      assert_error(s:http({ method = "GET", path = AJAX, token = "wrong" }), 401, "UNAUTHENTICATED")
      local res = s:http({ method = "GET", path = B .. "/nope" })
      assert.is_nil(res.json.sqlstate) -- error_extras = false: the pre-3.11 body
      assert.is_nil(res.json.error_class)
    end)

    it("with username/password: Basic required, with WWW-Authenticate", function()
      local s = ws.start({ api = "mlflow", username = "admin", password = "pw" })
      finally(function() s:stop() end)
      local good = "Basic " .. b64("admin:pw")
      assert.are.equal(200, s:http({ method = "GET", path = B, headers = { Authorization = good } }).status)
      local bad = s:http({ method = "GET", path = B, headers = { Authorization = "Basic " .. b64("admin:no") } })
      assert_error(bad, 401, "UNAUTHENTICATED")
      assert.are.equal('Basic realm="mlflow"', bad.headers["www-authenticate"])
      assert_error(s:http({ method = "GET", path = B }), 401, "UNAUTHENTICATED")
    end)
  end)

  -- Checks one delivery as received by the sink: headers, signature, envelope.
  local function check_delivery(rec, event, secret)
    local h = rec.headers
    assert.are.equal("POST", rec.method)
    assert.are.equal("application/json", h["content-type"])
    assert.truthy(h["x-mlflow-delivery-id"]:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
    assert.truthy(h["x-mlflow-timestamp"]:match("^%d+$"))
    assert.truthy(math.abs(tonumber(h["x-mlflow-timestamp"]) - os.time()) < 60)
    assert.truthy(h["user-agent"]:find("^python%-requests/"))
    if secret then
      local msg = h["x-mlflow-delivery-id"] .. "." .. h["x-mlflow-timestamp"] .. "." .. rec.body
      assert.are.equal("v1," .. hmac_b64(secret, msg), h["x-mlflow-signature"])
    else
      assert.is_nil(h["x-mlflow-signature"])
    end
    -- json.dumps: ", " and ": " separators, ASCII only
    assert.truthy(rec.body:find('^{"entity": "' .. event.entity .. '", "action": "' .. event.action
      .. '", "timestamp": "', 1))
    assert.is_nil(rec.body:find('":"', 1, true))
    assert.is_nil(rec.body:find("[\128-\255]"))
    local p = cjson.decode(rec.body)
    assert.truthy(p.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%d%+00:00$")
      or p.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+00:00$"), p.timestamp)
    return p
  end

  describe("test", function()
    local function test(id, body)
      return call("POST", B .. "/" .. id .. "/test", body or {})
    end

    it("sends the first stored event's example data, signed, and reports the answer", function()
      local wh = create(hook({ secret = SECRET, events = { { entity = "REGISTERED_MODEL", action = "CREATED" },
        { entity = "MODEL_VERSION_ALIAS", action = "CREATED" } } }))
      local res = test(wh.webhook_id)
      assert.are.equal(200, res.status, res.body)
      assert.are.equal('{"result":{"success":true,"response_status":200,"response_body":"OK"}}', res.body)
      local got = sink()
      assert.are.equal(1, #got)
      -- sorted storage: model_version_alias comes before registered_model
      local p = check_delivery(got[1], { entity = "model_version_alias", action = "created" }, SECRET)
      assert.are.same({ name = "example_model", alias = "example_alias", version = "1" }, p.data)
      assert.truthy(got[1].body:find('"data": {"name": "example_model", "alias": "example_alias", "version": "1"}}$'))
    end)

    it("takes any valid pair, even unsubscribed, and calls a DISABLED webhook", function()
      local wh = create(hook({ status = "DISABLED" }))
      local res = test(wh.webhook_id, { event = { entity = "BUDGET_POLICY", action = "EXCEEDED" } })
      assert.are.equal(200, res.status, res.body)
      assert.is_true(res.json.result.success)
      local rec = sink()[1]
      local p = check_delivery(rec, { entity = "budget_policy", action = "exceeded" })
      assert.are.equal("bp-abc123", p.data.budget_policy_id)
      assert.truthy(rec.body:find('"budget_amount": 100.0, "current_spend": 105.5,', 1, true))
      assert.truthy(rec.body:find('"window_start": 1704067200000}', 1, true))
    end)

    it("sends each event's example data", function()
      local wh = create()
      local cases = {
        { "MODEL_VERSION", "CREATED", { name = "example_model", version = "1", source = "models:/123" } },
        { "MODEL_VERSION_TAG", "DELETED", { name = "example_model", version = "1", key = "example_key" } },
        { "PROMPT_VERSION", "CREATED", { template = "Hello {{name}}!", version = "1" } },
        { "PROMPT_ALIAS", "DELETED", { name = "example_prompt", alias = "example_alias" } },
      }
      for i, c in ipairs(cases) do
        local res = test(wh.webhook_id, { event = { entity = c[1], action = c[2] } })
        assert.are.equal(200, res.status, res.body)
        local p = cjson.decode(sink()[i].body)
        assert.are.equal(c[1]:lower(), p.entity)
        for k, v in pairs(c[3]) do assert.are.equal(v, p.data[k], k) end
      end
      assert.is_nil(cjson.decode(sink()[4].body).data.version)
      assert.truthy(sink()[1].body:find('"run_id": "abcd1234abcd5678", "tags": {}, "description": null}}', 1, true))
    end)

    it("signs with the current secret at once and takes enum numbers", function()
      local wh = create(hook({ secret = SECRET }))
      call("PATCH", B .. "/" .. wh.webhook_id, { secret = "rotated", status = 1 })
      local res = test(wh.webhook_id, { event = { entity = 9, action = 3 } })
      assert.is_true(res.json.result.success, res.body)
      check_delivery(sink()[1], { entity = "prompt_alias", action = "deleted" }, "rotated")
      local w = create(hook({ status = 2 }))
      assert.are.equal("DISABLED", w.status)
    end)

    it("rejects a bad event like create does", function()
      local wh = create()
      assert.are.equal(400, test(wh.webhook_id, { event = { entity = "PROMPT", action = "DELETED" } }).status)
      assert_html500(test(wh.webhook_id, { event = { entity = "prompt", action = "created" } }))
    end)

    it("success means status < 400; the body is the receiver's", function()
      local wh = create()
      srv:settings({ sink_status = 404, sink_body = "nope" })
      local res = test(wh.webhook_id)
      assert.are.same({ result = { success = false, response_status = 404, response_body = "nope" } }, res.json)
    end)

    it("retries 503 synchronously with identical copies", function()
      local wh = create(hook({ secret = SECRET }))
      srv:settings({ sink_statuses = { 503, 502, 429 } })
      local res = test(wh.webhook_id)
      assert.are.equal(200, res.json.result.response_status, res.body)
      local got = sink()
      assert.are.equal(4, #got)
      for i = 2, 4 do
        assert.are.equal(got[1].body, got[i].body)
        for _, k in ipairs({ "x-mlflow-delivery-id", "x-mlflow-timestamp", "x-mlflow-signature" }) do
          assert.are.equal(got[1].headers[k], got[i].headers[k])
        end
      end
      srv:settings({ sink_statuses = { 503, 503, 503, 503, 503 } })
      local gave_up = test(wh.webhook_id)
      assert.are.same({ success = false, response_status = 503, response_body = "OK" }, gave_up.json.result)
      assert.are.equal(8, #sink())
    end)

    it("reports a transport failure as success=false with HTTP 200", function()
      local port = require("spec.support.util").free_port()
      local wh = create(hook({ url = "http://127.0.0.1:" .. port .. "/hook" }))
      local res = test(wh.webhook_id)
      assert.are.equal(200, res.status, res.body)
      assert.is_false(res.json.result.success)
      assert.is_nil(res.json.result.response_status)
      assert.truthy(res.json.result.error_message:find("^Failed to test webhook: ConnectionError%("))
      local log = srv:control("GET", "mlflow/deliveries")
      assert.are.equal(4, #log[#log].attempts) -- retried too
    end)

    it("checks the address again before every send (settings allow_private_ips)", function()
      local wh = create()
      srv:settings({ allow_private_ips = false })
      local res = test(wh.webhook_id)
      assert.are.equal(200, res.status, res.body)
      assert.are.same({ success = false, error_message = "Failed to test webhook: MlflowException(\"Webhook URL"
        .. " must not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1.\")" },
        res.json.result)
      srv:control("POST", "mlflow/event", { entity = "model_version", action = "created" })
      local log = wait_for(function()
        local l = srv:control("GET", "mlflow/deliveries")
        return l[2] and l[2].done and l
      end)
      assert.is_true(log[2].blocked)
      assert.are.equal(0, #sink())
      assert_error(call("POST", B, hook()), 400, "INVALID_PARAMETER_VALUE", "non-public IP address")
      srv:settings({ allowed_schemes = "https" })
      assert_error(call("POST", B, hook()), 400, "INVALID_PARAMETER_VALUE",
        "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.")
    end)

    it("delivers over https to a trusted certificate", function()
      local s = ws.start({ api = "mlflow", https = true, allowed_schemes = "https",
        allow_private_ips = true, delivery_backoff = 0 })
      finally(function() s:stop() end)
      local w = create(hook({ url = s.url .. "/__control/sink/tls" }), s)
      local res = s:http({ method = "POST", path = B .. "/" .. w.webhook_id .. "/test", body = {} })
      assert.is_true(res.json.result.success, res.body)
      assert.are.equal("/__control/sink/tls", s:sink()[1].path)
    end)
  end)

  describe("events", function()
    local function fire(entity, action, data)
      return srv:control("POST", "mlflow/event", { entity = entity, action = action, data = data })
    end

    it("delivers asynchronously to ACTIVE subscribed webhooks, signed when a secret is set", function()
      local signed = create(hook({ name = "signed", secret = SECRET, url = sink_url("signed") }))
      local plain = create(hook({ name = "plain", url = sink_url("plain") }))
      create(hook({ name = "off", status = "DISABLED", url = sink_url("off") }))
      create(hook({ name = "other", url = sink_url("other"),
        events = { { entity = "PROMPT", action = "CREATED" } } }))
      local out = fire("MODEL_VERSION", "CREATED")
      assert.are.equal(2, #out.delivery_ids)
      local got = wait_for(function() local s = sink(); return #s >= 2 and s end)
      assert.are.equal(2, #got)
      local by_path = {}
      for _, rec in ipairs(got) do by_path[rec.path] = rec end
      check_delivery(by_path["/__control/sink/signed"], { entity = "model_version", action = "created" }, SECRET)
      check_delivery(by_path["/__control/sink/plain"], { entity = "model_version", action = "created" })
      local ids = {}
      for _, id in ipairs(out.delivery_ids) do ids[id] = true end
      assert.is_true(ids[by_path["/__control/sink/signed"].headers["x-mlflow-delivery-id"]])
      local wids = {}
      for _, id in ipairs(out.webhook_ids) do wids[id] = true end
      assert.is_true(wids[signed.webhook_id] and wids[plain.webhook_id])
      socket.sleep(0.1)
      assert.are.equal(2, #sink())
    end)

    it("sends the given data in Python's json.dumps style", function()
      create()
      fire("model_version", "created", { name = "m\195\169", version = "7" })
      local rec = wait_for(function() return sink()[1] end)
      assert.truthy(rec.body:find('"data": {"name": "m\\u00e9", "version": "7"}}', 1, true), rec.body)
    end)

    it("retries 429/5xx with identical copies and logs the delivery", function()
      create(hook({ secret = SECRET }))
      srv:settings({ sink_statuses = { 500, 504 } })
      local out = fire("MODEL_VERSION", "CREATED")
      local got = wait_for(function() local s = sink(); return #s >= 3 and s end)
      assert.are.equal(3, #got)
      for i = 2, 3 do
        assert.are.equal(got[1].body, got[i].body)
        assert.are.same(got[1].headers, got[i].headers)
      end
      local log = wait_for(function()
        local l = srv:control("GET", "mlflow/deliveries")
        return l[1] and l[1].done and l
      end)
      assert.are.equal(out.delivery_ids[1], log[1].delivery_id)
      assert.are.same({ { status = 500 }, { status = 504 }, { status = 200 } }, log[1].attempts)
      assert.is_true(log[1].success)
      assert.are.equal("event", log[1].kind)
      srv:control("DELETE", "mlflow/deliveries")
      assert.are.same({}, srv:control("GET", "mlflow/deliveries"))
    end)

    it("caches the webhook list per event for cache_ttl seconds", function()
      local wh = create(hook({ secret = SECRET }))
      fire("MODEL_VERSION", "CREATED") -- fills the cache (default 60 s)
      wait_for(function() return sink()[1] end)
      call("PATCH", B .. "/" .. wh.webhook_id, { status = "DISABLED", secret = "rotated" })
      fire("MODEL_VERSION", "CREATED")
      local got = wait_for(function() local s = sink(); return #s >= 2 and s end)
      assert.are.equal(2, #got) -- the disabled webhook still got it, with the old secret
      check_delivery(got[2], { entity = "model_version", action = "created" }, SECRET)

      srv:settings({ cache_ttl = 1 })
      socket.sleep(1.2)
      assert.are.equal(0, #fire("MODEL_VERSION", "CREATED").delivery_ids)
      call("PATCH", B .. "/" .. wh.webhook_id, { status = "ACTIVE" })
      assert.are.equal(0, #fire("MODEL_VERSION", "CREATED").delivery_ids) -- still cached
      socket.sleep(1.2)
      assert.are.equal(1, #fire("MODEL_VERSION", "CREATED").delivery_ids)
      got = wait_for(function() local s = sink(); return #s >= 3 and s end)
      check_delivery(got[3], { entity = "model_version", action = "created" }, "rotated")
    end)

    it("rejects an invalid pair in the control request", function()
      local res = srv:http({ method = "POST", path = "/__control/mlflow/event",
        body = { entity = "registered_model", action = "deleted" } })
      assert.are.equal(400, res.status)
    end)
  end)

  describe("shared machinery", function()
    it("records requests and applies faults, latency and the rate limit", function()
      srv:faults({ { kind = "503", path = "/webhooks" } })
      assert_error(call("GET", B), 503, "TEMPORARILY_UNAVAILABLE")
      srv:faults({ { kind = "html_500" } })
      assert.are.equal(500, call("GET", AJAX).status)
      assert.are.equal(200, call("GET", AJAX).status)
      local reqs = srv:requests()
      assert.are.equal(3, #reqs)
      assert.are.equal("503", reqs[1].fault)
      assert.are.equal(AJAX, reqs[3].path)
      assert.are.equal(3, srv:stats().requests)

      srv:settings({ rate_limit = 1, rate_limit_burst = 1 })
      assert.are.equal(200, call("GET", B).status)
      local limited = call("GET", B)
      assert_error(limited, 429, "REQUEST_LIMIT_EXCEEDED")
      assert.truthy(limited.headers["retry-after"])
      srv:settings({ rate_limit = false, latency_ms = 1 })
      assert.are.equal(200, call("GET", B).status)
    end)

    it("serves HTTP/2 and HTTP/1.1 fronts over TLS", function()
      local s = ws.start({ api = "mlflow", fronts = true })
      finally(function() s:stop() end)
      local out = sh("curl -s --http2 --cacert " .. s.ca_file .. " -w '\\n%{http_version}' "
        .. s.h2_url .. B)
      assert.are.equal("{}\n2", out)
      out = sh("curl -s --cacert " .. s.ca_file .. " -w '\\n%{http_version}' " .. s.h1_url .. AJAX)
      assert.are.equal("{}\n1.1", out)
    end)

    it("workspace-ctl starts it with --api mlflow", function()
      local dir = os.tmpname()
      os.remove(dir)
      finally(function() sh("spec/support/workspace-ctl stop " .. dir .. " 2>&1; rm -rf " .. dir) end)
      local url = sh("spec/support/workspace-ctl start " .. dir .. " --api mlflow --allowed-schemes http"
        .. " --allow-private-ips --delivery-backoff 0 --cache-ttl 5 2>/dev/null"):gsub("%s+$", "")
      assert.truthy(url:match("^http://127%.0%.0%.1:%d+$"), url)
      local body = sh("curl -s -H 'Content-Type: application/json' -d '{\"name\":\"x\",\"url\":\"http://127.0.0.1:9/\","
        .. "\"events\":[{\"entity\":\"PROMPT\",\"action\":\"CREATED\"}]}' " .. url .. B)
      assert.truthy(body:find('"webhook_id"', 1, true), body)
      local settings = cjson.decode(sh("curl -s " .. url .. "/__control/settings"))
      assert.are.equal(0, settings.delivery_backoff)
      assert.are.equal(5, settings.cache_ttl)
    end)
  end)
end)
