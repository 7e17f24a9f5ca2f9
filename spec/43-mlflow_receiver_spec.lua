-- The nginx receiver for open-source MLflow deliveries, in a real nginx (the
-- LuaJIT build; spec/support/openresty/mlflow_hook.lua): a signed delivery is
-- handed over once, MLflow's identical retries are duplicates, bad signatures
-- are 401, stale timestamps 400, unsigned deliveries need allow_unsigned, and
-- without `api` the family is read from the headers. Deliveries are made
-- here as MLflow makes them, signed with the openssl command line; this file
-- only speaks HTTP, so it runs under any Lua.
local server = require("spec.support.openresty.server")
local util = require("spec.support.util")
local cjson = require("cjson")
local socket = require("socket")

local NEW, OLD = "whsec-mlflow-new", "whsec-mlflow-old"

local CONF = [[
@LOAD_MODULES@
@USER@
worker_processes 1;
daemon on;
pid @PREFIX@/logs/nginx.pid;
error_log @PREFIX@/logs/error.log notice;
events { worker_connections 256; }
http {
    access_log off;
    @TEMP_PATHS@
    lua_package_path "@ROOT@/lua/?.lua;@SUPPORT@/?.lua;;";
    lua_package_cpath "@ROOT@/build/luajit/?.so;@LUA_CPATH@;;";
    lua_shared_dict mlf_events 1m;
    lua_shared_dict mlf_seen 1m;
    server {
        listen 127.0.0.1:@PORT@;
        client_body_buffer_size 1k;
        location = /mlflow { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ api = "mlflow", dedup = true }) } }
        location = /mlflow-60 { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ api = "mlflow", max_age = 60, max_skew = 0 }) } }
        location = /auto { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ secret = "whsec-mlflow-new", dedup = true }) } }
        location = /databricks { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ api = "databricks", secret = "whsec-mlflow-new" }) } }
        location = /unsigned { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ api = "mlflow", secret = false,
              allow_unsigned = true, dedup = true }) } }
        location = /no-secret { content_by_lua_block {
            require("openresty.mlflow_hook").hook({ api = "mlflow", secret = false }) } }
        location = /events { content_by_lua_block { require("openresty.mlflow_hook").events() } }
    }
}
]]

local app

-- The base64 HMAC-SHA256 of msg with key, by the openssl command line.
local function openssl_b64(key, msg)
  local path = os.tmpname()
  util.write_file(path, msg)
  local ok, out = util.run("openssl dgst -sha256 -hmac " .. util.q(key) .. " -binary < " .. util.q(path)
    .. " | base64")
  os.remove(path)
  assert(ok, out)
  return util.trim(out)
end

local n = 0
local function uuid()
  n = n + 1
  return ("%08x-1111-4222-8333-%012x"):format(os.time() % 0x7fffffff, n)
end

-- A delivery as MLflow sends it: json.dumps' separators, an ISO timestamp.
local function envelope(entity, action, data)
  local parts = {}
  for k, v in pairs(data) do parts[#parts + 1] = ('"%s": %s'):format(k, cjson.encode(v)) end
  table.sort(parts)
  return ('{"entity": "%s", "action": "%s", "timestamp": "2026-12-07T02:14:38.066678+00:00", '
    .. '"data": {%s}}'):format(entity, action, table.concat(parts, ", "))
end

-- The headers MLflow sends for body; opts: id, ts, secret (false: unsigned).
local function mlflow_headers(body, opts)
  opts = opts or {}
  local id, ts = opts.id or uuid(), tostring(opts.ts or os.time())
  local h = { ["content-type"] = "application/json", ["user-agent"] = "python-requests/2.32.3",
    ["x-mlflow-delivery-id"] = id, ["x-mlflow-timestamp"] = ts }
  if opts.secret ~= false then
    h["x-mlflow-signature"] = "v1," .. openssl_b64(opts.secret or NEW, id .. "." .. ts .. "." .. body)
  end
  return h
end

local function post(path, body, headers)
  return app:request({ method = "POST", path = path, body = body, headers = headers })
end

local function events()
  return app:get("/events").json
end

describe("the receiver, for open-source MLflow deliveries (inside nginx)", function()
  setup(function()
    server.build()
    local root = server.root()
    app = server.start_conf({
      conf = function(port, prefix)
        return util.fill(CONF, { LOAD_MODULES = server.load_modules(), USER = server.user_line(),
          TEMP_PATHS = server.temp_paths(prefix), PREFIX = prefix, ROOT = root, SUPPORT = root .. "/spec/support",
          LUA_CPATH = server.lua_cpath(),
          PORT = tostring(port) }, "43-mlflow_receiver")
      end,
    })
  end)

  teardown(function() if app then app:stop() end end)

  before_each(function() app:request({ method = "DELETE", path = "/events" }) end)

  it("verifies a signed delivery and hands it over once; MLflow's identical retry is a duplicate", function()
    local body = envelope("model_version", "created", { name = "churn", version = "1",
      source = "models:/123", tags = {} })
    local h = mlflow_headers(body)
    local r = post("/mlflow", body, h)
    assert.equals(200, r.status, r.body .. app:error_log(10))
    assert.equals("OK\n", r.body)
    -- a retry repeats id, timestamp, signature and body
    local again = post("/mlflow", body, h)
    assert.equals(200, again.status)
    assert.equals("duplicate delivery\n", again.body)
    local got = events()
    assert.equals(1, got.n)
    assert.equals("model_version.created", got.events[1].event)
    assert.equals("model_version", got.events[1].entity)
    assert.equals("created", got.events[1].action)
    assert.equals("churn", got.events[1].name)
    assert.equals(h["x-mlflow-delivery-id"], got.events[1].id)
    -- another delivery of the same event (a new id) is handed over too
    assert.equals("OK\n", post("/mlflow", body, mlflow_headers(body)).body)
    assert.equals(2, events().n)
  end)

  it("accepts either secret while rotating; refuses a wrong one, a tampered body or id with 401", function()
    local body = envelope("prompt_alias", "created", { name = "p", alias = "prod", version = "2" })
    assert.equals(200, post("/mlflow", body, mlflow_headers(body, { secret = OLD })).status)
    local wrong = post("/mlflow", body, mlflow_headers(body, { secret = "not-the-secret" }))
    assert.equals(401, wrong.status)
    assert.equals("signature mismatch\n", wrong.body)
    local h = mlflow_headers(body)
    assert.equals(401, post("/mlflow", body .. " ", h).status)
    local h2 = {}
    for k, v in pairs(h) do h2[k] = v end
    h2["x-mlflow-delivery-id"] = uuid()
    assert.equals(401, post("/mlflow", body, h2).status)
    h2 = {}
    for k, v in pairs(h) do h2[k] = v end
    h2["x-mlflow-signature"] = "v1,AAAA"
    assert.equals(401, post("/mlflow", body, h2).status)
    assert.equals(1, events().n)
    assert.matches("refused delivery %(401%): signature mismatch", app:error_log(20))
    assert.is_nil(app:error_log(200):find("whsec", 1, true), "a secret in the log")
  end)

  it("refuses a stale or future timestamp (400), after the signature", function()
    local body = envelope("registered_model", "created", { name = "m", tags = {}, description = "" })
    local old = post("/mlflow", body, mlflow_headers(body, { ts = os.time() - 400 }))
    assert.equals(400, old.status)
    assert.matches("^delivery too old %(%d+ s, max_age 300 s%)", old.body)
    local ahead = post("/mlflow", body, mlflow_headers(body, { ts = os.time() + 120 }))
    assert.equals(400, ahead.status)
    assert.matches("^delivery timestamped %d+ s in the future %(max_skew 30 s%)", ahead.body)
    -- the receiver's own bounds
    assert.equals(400, post("/mlflow-60", body, mlflow_headers(body, { ts = os.time() - 90 })).status)
    assert.equals(200, post("/mlflow-60", body, mlflow_headers(body, { ts = os.time() - 5 })).status)
    -- a forged stale delivery is a signature failure, not a freshness one
    local forged = post("/mlflow", body, mlflow_headers(body, { ts = os.time() - 400, secret = "x" }))
    assert.equals(401, forged.status)
    assert.equals(1, events().n)
  end)

  it("refuses missing, repeated and malformed headers with 401, and a non-envelope body with 400", function()
    local body = envelope("model_version_tag", "set", { name = "m", version = "1", key = "k", value = "v" })
    local function without(name)
      local h = mlflow_headers(body)
      h[name] = nil
      return post("/mlflow", body, h)
    end
    local r = without("x-mlflow-signature")
    assert.equals(401, r.status)
    assert.matches("missing X%-MLflow%-Signature header %(unsigned deliveries are refused%)", r.body)
    assert.matches("missing X%-MLflow%-Delivery%-Id", without("x-mlflow-delivery-id").body)
    assert.matches("missing X%-MLflow%-Timestamp", without("x-mlflow-timestamp").body)
    local h = mlflow_headers(body)
    h["x-mlflow-timestamp"] = h["x-mlflow-timestamp"] .. ".0"
    local bad_ts = post("/mlflow", body, h)
    assert.equals(401, bad_ts.status)
    assert.matches("malformed X%-MLflow%-Timestamp", bad_ts.body)
    -- a header sent twice (raw HTTP: the helper sends each once)
    local twice = mlflow_headers(body)
    local c = assert(socket.connect("127.0.0.1", app.port))
    c:settimeout(5)
    local lines = { "POST /mlflow HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
      "Content-Length: " .. #body, "X-MLflow-Signature: " .. twice["x-mlflow-signature"] }
    for k, v in pairs(twice) do lines[#lines + 1] = k .. ": " .. v end
    assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body))
    local answer = c:receive("*a")
    c:close()
    assert.matches("^HTTP/1.1 401", answer)
    assert.matches("more than one X%-MLflow%-Signature header", answer)

    local flat = '{"event": "MODEL_VERSION_CREATED", "webhook_id": "w", "event_timestamp": 1}'
    local not_env = post("/mlflow", flat, mlflow_headers(flat))
    assert.equals(400, not_env.status)
    assert.matches("not an MLflow delivery", not_env.body)
    assert.equals(400, post("/mlflow", "not json", mlflow_headers("not json")).status)
    assert.equals(405, app:request({ method = "GET", path = "/mlflow" }).status)
    assert.equals(0, events().n)
  end)

  it("an on_event failure (5xx) forgets the id, so that MLflow's retry is handled", function()
    local body = envelope("model_version", "created", { name = "fail-once", version = "1" })
    local h = mlflow_headers(body)
    local first = post("/mlflow", body, h)
    assert.equals(503, first.status)
    local retry = post("/mlflow", body, h)
    assert.equals(200, retry.status)
    assert.equals("OK\n", retry.body)
    assert.equals(2, events().n)
    assert.equals("duplicate delivery\n", post("/mlflow", body, h).body)
  end)

  it("without `api`, reads the family from the headers", function()
    local body = envelope("model_version_alias", "deleted", { name = "m", alias = "champion" })
    local r = post("/auto", body, mlflow_headers(body))
    assert.equals(200, r.status, r.body)
    local flat = '{"event": "MODEL_VERSION_CREATED", "webhook_id": "w", "event_timestamp": 1,'
      .. ' "model_name": "m", "version": "1"}'
    local d = post("/auto", flat, { ["content-type"] = "application/json",
      ["x-databricks-signature"] = server.sign(NEW, flat) })
    assert.equals(200, d.status, d.body)
    local got = events()
    assert.equals(2, got.n)
    assert.equals("model_version_alias.deleted", got.events[1].event)
    assert.equals("MODEL_VERSION_CREATED", got.events[2].event)
    assert.equals("w", got.events[2].webhook_id)

    -- both families' headers: refused, whichever signature is right
    local both = mlflow_headers(body)
    both["x-databricks-signature"] = server.sign(NEW, body)
    local amb = post("/auto", body, both)
    assert.equals(401, amb.status)
    assert.matches("both X%-Databricks%-Signature and X%-MLflow%-%* headers", amb.body)
    -- no header of either: Databricks' answer, as before
    assert.matches("missing X%-Databricks%-Signature", post("/auto", flat, {}).body)
    -- api = "databricks" reads MLflow's headers as nothing
    local only = post("/databricks", body, mlflow_headers(body))
    assert.equals(401, only.status)
    assert.matches("missing X%-Databricks%-Signature", only.body)
    assert.equals(2, events().n)
  end)

  it("unsigned deliveries only with allow_unsigned; then the timestamp still has to be fresh", function()
    local body = envelope("prompt", "created", { name = "p", tags = {}, description = "d" })
    local h = mlflow_headers(body, { secret = false })
    assert.equals(200, post("/unsigned", body, h).status)
    assert.equals("duplicate delivery\n", post("/unsigned", body, h).body)
    local stale = post("/unsigned", body, mlflow_headers(body, { secret = false, ts = os.time() - 400 }))
    assert.equals(400, stale.status)
    assert.matches("too old", stale.body)
    local no_id = mlflow_headers(body, { secret = false })
    no_id["x-mlflow-delivery-id"] = nil
    assert.equals(400, post("/unsigned", body, no_id).status)
    -- a signed delivery cannot be verified without a secret: the receiver's fault
    assert.equals(500, post("/unsigned", body, mlflow_headers(body)).status)
    -- without a secret and without allow_unsigned: closed
    assert.equals(500, post("/no-secret", body, h).status)
    assert.equals(1, events().n)
  end)
end)

describe("examples/openresty/nginx.conf's /mlflow/webhook", function()
  local example

  teardown(function() if example then example:stop() end end)

  it("starts as shipped (paths and port changed) and receives MLflow deliveries once", function()
    server.build()
    local root = server.root()
    local text = assert(server.read_file(root .. "/examples/openresty/nginx.conf"))
    text = text:gsub("load_module [^\n]*\n", "")
    text = server.load_modules() .. "\n" .. server.user_line() .. "\n" .. text
    text = text:gsub('lua_package_path%s+"[^"]*";', ('lua_package_path "%s/lua/?.lua;;";'):format(root))
    text = text:gsub('lua_package_cpath%s+"[^"]*";',
      ('lua_package_cpath "%s/build/luajit/?.so;%s;;";'):format(root, server.lua_cpath()))
    example = server.start_conf({
      conf = function(port)
        return (text:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";"))
      end,
      env = { MLFLOW_WEBHOOK_SECRET = NEW },
    })
    local body = envelope("model_version", "created", { name = "example-model", version = "4" })
    local h = mlflow_headers(body)
    local function send(hdrs)
      return example:request({ method = "POST", path = "/mlflow/webhook", body = body, headers = hdrs })
    end
    local ok = send(h)
    assert.equals(200, ok.status, ok.body)
    assert.equals("duplicate delivery\n", send(h).body)
    assert.matches("mlflow webhook: model_version.created name=example%-model version=4",
      example:error_log(20))
    assert.equals(401, send(mlflow_headers(body, { secret = OLD })).status)
    assert.equals(401, send(mlflow_headers(body, { secret = false })).status)
    assert.equals(400, send(mlflow_headers(body, { ts = os.time() - 301 - 5 })).status)
  end)
end)

describe("bench/receiver.lua (the benchmark's machinery, small counts; nothing timed is asserted)", function()
  it("measures the bare, MLflow and Databricks locations and prints its RESULT lines", function()
    server.build()
    local root = server.root()
    local ok, out = util.run("cd " .. util.q(root) .. " && BENCH_PIN=0 lua5.4 bench/receiver.lua lua build 200 1")
    assert(ok, out)
    for _, api in ipairs({ "mlflow", "databricks" }) do
      for _, conn in ipairs({ "keepalive", "fresh" }) do
        assert.matches("RESULT receiver api=" .. api .. " conn=" .. conn .. " us_per_req=[%d.]+ bare_us=[%d.]+"
          .. " ratio=[%d.]+ rps=%d+", out)
      end
    end
  end)
end)

describe("the receiver's MLflow options", function()
  it("raise on misuse before anything is read (outside nginx too)", function()
    local receiver = require("databricks.webhooks.receiver")
    local bad = {
      { { secret = "s", api = "MLflow" }, "bad option 'api' %(\"mlflow\" or \"databricks\" expected, got MLflow%)" },
      { { secret = "s", api = 1 }, "bad option 'api'" },
      { { secret = "s", max_skew = -1 }, "bad option 'max_skew' %(seconds >= 0 expected%)" },
      { { secret = "s", max_skew = 0 / 0 }, "bad option 'max_skew'" },
      { { secret = "s", allow_unsigned = "yes" }, "bad option 'allow_unsigned' %(boolean expected, got string%)" },
    }
    for _, case in ipairs(bad) do
      for _, fn in ipairs({ "read", "handle" }) do
        local ok, err = pcall(receiver[fn], case[1])
        assert.is_false(ok)
        assert.matches(case[2], err)
      end
    end
  end)
end)

describe("receiver.seen_in", function()
  it("gives the same hooks for the same dict and ttl, made once (it is called per request)", function()
    local receiver = require("databricks.webhooks.receiver")
    local added = {}
    local dict = { add = function(_, key, _, ttl)
      if added[key] then return false, "exists" end
      added[key] = ttl
      return true
    end }
    local a, b = receiver.seen_in(dict, 660), receiver.seen_in(dict, 660)
    assert.equals(a, b)
    assert.are_not.equal(a, receiver.seen_in(dict, 60))
    assert.are_not.equal(a, receiver.seen_in({ add = dict.add }, 660))
    assert.is_false(a.is_duplicate("k"))
    assert.is_true(b.is_duplicate("k"))
    assert.equals(660, added.k)
  end)
end)
