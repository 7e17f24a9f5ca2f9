-- Inside a real nginx: the LuaJIT build of the module loaded with
-- lua_package_cpath, the whole API from content_by_lua, access_by_lua,
-- ngx.timer.at and init_worker_by_lua, the non-blocking cosocket transport,
-- the delivery receiver, and examples/openresty/nginx.conf.
--
-- The nginx under test is spec/support/openresty/ (nginx.conf.in + app.lua),
-- started with its own prefix and ephemeral ports next to two local
-- workspaces (plain http, and https with a self-signed certificate that the
-- application nginx trusts). This file only speaks HTTP (LuaSocket), so it runs
-- under any Lua; nginx always uses build/luajit (made here when missing).
local workspace = require("spec.support.workspace")
local server = require("spec.support.openresty.server")
local rawpeer = require("spec.support.rawpeer")
local socket = require("socket")
local cjson = require("cjson")

local SECRET = "whsec-openresty-3c1f"
local OLD_SECRET = "whsec-rotated-away-77"

local srv, srvs, app
local startup_requests -- what the workspace saw while the app started (init_worker)

-- Polls a stored result of the app (timers, init_worker) until it is there.
local function result(key)
  local deadline = socket.gettime() + 5
  while socket.gettime() < deadline do
    local r = app:get("/results?key=" .. key)
    if r.json and not r.json.pending then return r.json end
    socket.sleep(0.02)
  end
  error("no result for " .. key)
end

-- One API call made by the app from its content phase. `client` options are
-- added to the defaults (the http workspace, its token); without them the
-- worker's shared client is used.
local function call(op, args, client)
  local r = app:post("/call", { op = op, args = args or {}, client = client })
  assert(r.status == 200 and r.json, "call failed: " .. tostring(r.status) .. " " .. tostring(r.body)
    .. "\n" .. app:error_log(20))
  return r.json
end

local function user_agents(requests)
  local out = {}
  for _, r in ipairs(requests) do out[#out + 1] = r.headers["user-agent"] end
  return out
end

local function events()
  return app:get("/events").json.events
end

-- A JSON delivery as Databricks sends it, with `text` padded to `size` bytes.
local function delivery(size, extra)
  local d = { event = "MODEL_VERSION_CREATED", webhook_id = "0123456789abcdef0123456789abcdef",
    event_timestamp = 1700000000000, model_name = "churn", version = "3", text = "" }
  for k, v in pairs(extra or {}) do d[k] = v end
  local body = cjson.encode(d)
  if size and #body < size then
    d.text = string.rep("x", size - #body)
    body = cjson.encode(d)
  end
  return body
end

local function post_hook(path, body, signature, opts)
  opts = opts or {}
  local headers = { ["content-type"] = "application/json" }
  if signature then headers["x-databricks-signature"] = signature end
  return app:request({ method = opts.method or "POST", path = path, body = body,
    headers = headers, chunked = opts.chunked })
end

describe("inside nginx (OpenResty)", function()
  setup(function()
    server.build()
    srv = workspace.start()
    srvs = workspace.start({ https = true })
    app = server.start_app({ workspace = srv, https_workspace = srvs, secret = SECRET,
      old_secret = OLD_SECRET })
    result("init_worker_timer") -- both startup calls are done
    startup_requests = srv:requests()
  end)

  teardown(function()
    if app then app:stop() end
    if srv then srv:stop() end
    if srvs then srvs:stop() end
  end)

  before_each(function()
    srv:reset()
    app:request({ method = "DELETE", path = "/events" })
  end)

  describe("the API from every phase", function()
    it("init_worker_by_lua: runs over libcurl (no cosockets there); a timer started there uses them",
      function()
        local iw = result("init_worker")
        assert.same({ phase = "init_worker", ok = true, count = 0 }, iw)
        local t = result("init_worker_timer")
        assert.equals("timer", t.phase)
        assert.is_true(t.ok)
        assert.equals(1, t.stats.connections) -- opened by the cosocket transport
        assert.equals(1, t.stats.requests) -- responses received, as over libcurl
        local uas = user_agents(startup_requests)
        assert.equals(2, #uas)
        assert.matches(" libcurl/", uas[1])
        assert.matches(" ngx_lua/%d+%.%d+%.%d+ ", uas[2])
        assert.is_nil(uas[2]:find("libcurl", 1, true))
      end)

    it("content_by_lua: create, list, each, update, test, delete and request over cosockets", function()
      local wh = call("create", { { events = { "MODEL_VERSION_CREATED" }, model_name = "phase-model",
        http_url_spec = { url = app.url .. "/hook", secret = SECRET } } })
      assert.equals("content", wh.phase)
      local id = assert(wh.result.id, cjson.encode(wh))
      assert.equals(32, #id)
      assert.same({ "MODEL_VERSION_CREATED" }, wh.result.events)

      local page = call("list", { { model_name = "phase-model" } }).result
      assert.equals(id, page.webhooks[1].id)
      assert.same({ id }, call("each", { { model_name = "phase-model" } }).result)

      local up = call("update", { { id = id, description = "from nginx" } }).result
      assert.equals("from nginx", up.description)

      local res = call("test", { id }).result
      assert.same({ status_code = 200, body = "OK\n" }, res)

      local raw = call("request", { "GET", "/api/2.0/mlflow/registry-webhooks/list", cjson.null,
        { model_name = "phase-model" } }, nil).result
      assert.equals(id, raw.webhooks[1].id)

      assert.is_true(call("delete", { id }).result)
      local gone = call("delete", { { id = id } }).err
      assert.equals("RESOURCE_DOES_NOT_EXIST", gone.error_code)
      assert.equals(404, gone.status)
      assert.equals("DELETE /api/2.0/mlflow/registry-webhooks/delete", gone.request)

      local uas = user_agents(srv:requests())
      assert.is_true(#uas >= 8)
      for _, ua in ipairs(uas) do assert.matches(" ngx_lua/", ua) end
    end)

    it("validates before sending, and raises on misuse, as outside nginx", function()
      local bad = call("create", { { events = { "NOPE" }, http_url_spec = { url = "https://x" } } }).err
      assert.equals("INVALID_PARAMETER_VALUE", bad.error_code)
      assert.is_nil(bad.status)
      assert.matches("bad argument #1 to 'create' %(table expected, got string%)",
        call("create", { "x" }).raised.raised)
      assert.equals(0, #srv:requests())
    end)

    it("access_by_lua", function()
      call("create", { { events = { "COMMENT_CREATED" }, http_url_spec = { url = app.url .. "/hook" } } })
      local r = app:get("/access")
      assert.equals(200, r.status)
      assert.same({ phase = "access", ok = true, count = 1 }, r.json)
      assert.matches(" ngx_lua/", user_agents(srv:requests())[2])
    end)

    it("ngx.timer.at", function()
      call("create", { { events = { "COMMENT_CREATED" }, http_url_spec = { url = app.url .. "/hook" } } })
      local key = app:get("/timer").json.key
      assert.same({ phase = "timer", ok = true, count = 1 }, result(key))
    end)

    it("OAuth M2M: discovery, token and calls all over cosockets", function()
      local r = call("list", { {} }, { token = "__unset", client_id = srv.client_id,
        client_secret = srv.client_secret })
      assert.same({}, r.result.webhooks)
      local reqs = srv:requests()
      assert.equals(3, #reqs)
      assert.equals("/oidc/.well-known/oauth-authorization-server", reqs[1].path)
      assert.equals("/oidc/v1/token", reqs[2].path)
      assert.matches("^Bearer ", reqs[3].headers.authorization)
      for _, ua in ipairs(user_agents(reqs)) do assert.matches(" ngx_lua/", ua) end
    end)

    it("keeps the connection alive between calls (nginx's cosocket pool)", function()
      for _ = 1, 3 do call("list", { {} }) end
      local last = call("list", { {} })
      assert.is_true(last.stats.reused >= 1)
      local reqs = srv:requests()
      assert.equals(4, #reqs)
      for i = 2, 4 do assert.equals(reqs[1].connection, reqs[i].connection) end
    end)
  end)

  describe("the worker is never blocked", function()
    it("serves 20 concurrent slow calls from one worker in about the time of one", function()
      srv:settings({ latency_ms = 1000 })
      local t0 = socket.gettime()
      local r = app:get("/concurrent?n=20")
      local wall = socket.gettime() - t0
      assert.equals(200, r.status)
      assert.same({}, r.json.errors)
      assert.equals(20, r.json.ok)
      assert.is_true(r.json.elapsed >= 0.9, "faster than the workspace's latency: " .. r.json.elapsed)
      assert.is_true(r.json.elapsed < 5, "took " .. r.json.elapsed .. " s")
      assert.is_true(wall < 5)
      assert.equals(20, #srv:requests())
    end)

    it("answers other requests while calls are waiting on the workspace", function()
      srv:settings({ latency_ms = 1000 })
      local busy = assert(socket.connect("127.0.0.1", app.port))
      busy:settimeout(10)
      assert(busy:send("GET /concurrent?n=5 HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
      socket.sleep(0.2) -- the five calls are now waiting
      local t0 = socket.gettime()
      local ping = app:get("/ping")
      local ping_time = socket.gettime() - t0
      assert.equals(200, ping.status)
      assert.is_true(ping_time < 0.5, "ping took " .. ping_time .. " s")
      local answer = busy:receive("*a")
      busy:close()
      local body = cjson.decode(answer:match("\r\n\r\n(.*)$"))
      assert.equals(5, body.ok)
    end)

    it("runs bulk() on light threads, `parallel` at a time", function()
      srv:settings({ latency_ms = 300 })
      local reqs = {}
      for i = 1, 8 do
        reqs[i] = { events = { "MODEL_VERSION_CREATED" }, model_name = "bulk-" .. i,
          http_url_spec = { url = app.url .. "/hook" } }
      end
      local r = call("bulk", { "create", reqs, { parallel = 4 } })
      assert.equals(8, #r.result)
      for i = 1, 8 do assert.equals("bulk-" .. i, r.result[i].ok.model_name) end
      assert.is_true(r.elapsed >= 0.55 and r.elapsed < 1.5, "took " .. r.elapsed .. " s") -- 2 rounds of 0.3 s
    end)

    it("narrows bulk()'s window on 429, as libcurl's driver does: nothing lost or twice, 429s few", function()
      srv:settings({ rate_limit = 20 })
      local reqs = {}
      for i = 1, 60 do -- short: the app reads bodies of up to 8 KiB
        reqs[i] = { events = { "COMMENT_CREATED" }, model_name = "w" .. i, http_url_spec = { url = "https://h/" } }
      end
      local r = call("bulk", { "create", reqs, { parallel = 32 } }, { retry_timeout = 60, debug = true })
      assert(r.result, cjson.encode(r))
      -- the debug lines went to nginx's error log (its stderr)
      local sizes = {}
      for n in app:error_log(2000):gmatch("bulk: [^\n]-at most (%d+) in flight") do sizes[#sizes + 1] = tonumber(n) end
      assert.equals(16, sizes[1])
      local grew = false
      for k = 2, #sizes do if sizes[k] > sizes[k - 1] then grew = true end end
      assert.is_true(grew, table.concat(sizes, " "))
      assert.equals(60, #r.result)
      for i = 1, 60 do assert.equals("w" .. i, r.result[i].ok and r.result[i].ok.model_name) end
      local names = {}
      for _, wh in pairs(srv:webhooks()) do
        assert.is_nil(names[wh.model_name], "created twice: " .. tostring(wh.model_name))
        names[wh.model_name] = true
      end
      -- 32 at once into a limit of 20 a second, unnarrowed, answer 429 again and again
      assert.is_true(srv:stats().rate_limited < 60, "429s: " .. srv:stats().rate_limited)
      srv:settings({ rate_limit = false })
    end)

    it("waits between retries with ngx.sleep (503, then success)", function()
      srv:faults({ { kind = "503", retry_after = 1 } })
      local busy = assert(socket.connect("127.0.0.1", app.port))
      busy:settimeout(10)
      local req = cjson.encode({ op = "list", args = { {} } })
      assert(busy:send("POST /call HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        .. "Content-Type: application/json\r\nContent-Length: " .. #req .. "\r\n\r\n" .. req))
      socket.sleep(0.2) -- now sleeping for Retry-After
      local t0 = socket.gettime()
      assert.equals(200, app:get("/ping").status)
      assert.is_true(socket.gettime() - t0 < 0.5)
      local answer = cjson.decode(busy:receive("*a"):match("\r\n\r\n(.*)$"))
      busy:close()
      assert.same({}, answer.result.webhooks)
      assert.is_true(answer.elapsed >= 0.9)
      assert.equals(2, #srv:requests())
    end)
  end)

  describe("the cosocket transport", function()
    local function fake(model_name, opts)
      local client = { host = app.url, timeout = 2, retry_timeout = 0 }
      for k, v in pairs(opts or {}) do client[k] = v end
      return call("list", { { model_name = model_name } }, client)
    end

    it("reads Content-Length, chunked and close-delimited bodies, and skips 100 Continue", function()
      for _, mode in ipairs({ "plain", "chunked", "close", "interim" }) do
        local r = fake(mode)
        assert.is_table(r.result, mode .. ": " .. cjson.encode(r))
        assert.equals(3, #r.result.webhooks, mode)
        assert.equals(("%032x"):format(3), r.result.webhooks[3].id)
      end
    end)

    it("refuses bodies over the size limit, announced or streamed", function()
      srv:faults({ { kind = "huge", size = 17 * 1024 * 1024 } })
      local announced = call("list", { {} }).err
      assert.equals("BAD_RESPONSE", announced.error_code)
      assert.matches("exceeds", announced.message)
      local streamed = fake("huge").err
      assert.equals("BAD_RESPONSE", streamed.error_code)
    end)

    it("maps failures to TIMEOUT, CONNECTION_ERROR and TLS_ERROR", function()
      srv:faults({ { kind = "slow", delay_ms = 1500 } })
      local slow = call("list", { {} }, { timeout = 0.3, retry_timeout = 0 })
      assert.equals("TIMEOUT", slow.err.error_code)
      assert.is_true(slow.elapsed < 1.2)

      srv:faults({ { kind = "reset_mid_body" } })
      assert.equals("CONNECTION_ERROR", call("list", { {} }, { retry_timeout = 0 }).err.error_code)

      local refused = call("list", { {} }, { host = "http://127.0.0.1:" .. server.free_port(),
        retry_timeout = 0 }).err
      assert.equals("CONNECTION_ERROR", refused.error_code)
      assert.matches("connection refused", refused.message)

      local untrusted = call("list", { {} }, { host = app.tls_url:gsub("127%.0%.0%.1", "localhost"),
        retry_timeout = 0 }).err
      assert.equals("TLS_ERROR", untrusted.error_code)
      assert.matches("lua_ssl_trusted_certificate", untrusted.message)
    end)

    it("a refused connection, retried, names its attempts and retry_timeout", function()
      local refused = call("list", { {} }, { host = "http://127.0.0.1:" .. server.free_port(),
        retry_timeout = 1 }).err
      assert.equals("CONNECTION_ERROR", refused.error_code)
      assert.truthy(refused.attempts >= 2 and refused.attempts <= 10, refused.attempts)
      assert.equals(1, refused.retry_timeout)
      assert.is_number(refused.elapsed)
      assert.matches("connection refused .*%(" .. ("%d"):format(refused.attempts) .. " attempts in %d+%.%d%d s; "
        .. "the next retry would start past retry_timeout 1 s%)$", refused.message)
      assert.equals("CONNECTION_ERROR: " .. refused.message, refused.text)
    end)

    it("verifies TLS with lua_ssl_trusted_certificate, or not with verify_tls = false", function()
      local by_name = srvs.url:gsub("127%.0%.0%.1", "localhost") -- SNI and a host name check
      assert.same({}, call("list", { {} }, { host = by_name, token = srvs.token }).result.webhooks)
      local r = call("list", { {} }, { host = app.tls_url, verify_tls = false })
      assert.equals(3, #r.result.webhooks)
    end)

    it("refuses an https IP literal it cannot verify by name (TLS_ERROR), unless verify_tls = false",
      function()
        srvs:reset()
        -- nginx checks DNS names only: an IP address in the URL would go unchecked
        local r = call("list", { {} }, { host = srvs.url, token = srvs.token, retry_timeout = 0 })
        assert.equals("TLS_ERROR", r.err and r.err.error_code, cjson.encode(r))
        assert.matches("DNS name", r.err.message)
        assert.matches("verify_tls = false", r.err.message)
        assert.is_nil(r.err.message:find(srvs.token, 1, true))
        assert.equals(0, #srvs:requests()) -- refused before connecting
        local v6 = call("list", { {} }, { host = "https://[::1]:" .. srvs.port, token = srvs.token,
          retry_timeout = 0 })
        assert.equals("TLS_ERROR", v6.err and v6.err.error_code, cjson.encode(v6))
        assert.same({}, call("list", { {} }, { host = srvs.url, token = srvs.token,
          verify_tls = false }).result.webhooks)
      end)

    it("refuses ca_file at webhooks.new inside nginx: lua_ssl_trusted_certificate is the way", function()
      local r = call("list", { {} }, { ca_file = "/etc/ssl/certs/ca-certificates.crt" })
      assert.is_nil(r.result)
      assert.equals("INVALID_PARAMETER_VALUE", r.new_err and r.new_err.error_code, cjson.encode(r))
      assert.matches("lua_ssl_trusted_certificate", r.new_err.message)
      assert.equals(0, #srv:requests())
    end)
  end)

  describe("the cosocket transport against a hostile peer", function()
    local peers = {}
    local function peer(scenario)
      local p = rawpeer.start(scenario)
      peers[#peers + 1] = p
      return p
    end
    teardown(function() for _, p in ipairs(peers) do p.stop() end end)

    local function list_from(p, opts)
      local client = { host = p.url, timeout = 2, retry_timeout = 0 }
      for k, v in pairs(opts or {}) do client[k] = v end
      return call("list", { {} }, client)
    end

    -- rawserver steps: `head` sent at once, then every byte of `drip` `every` seconds apart
    local function dripping(head, drip, every)
      local parts = { head }
      for i = 1, #drip do
        parts[#parts + 1] = drip:sub(i, i)
        parts[#parts + 1] = every
      end
      return { { parts = parts, close = true } }
    end

    it("keeps `timeout` as a deadline for the whole exchange, however slowly bytes drip", function()
      local body = ('{"webhooks":[]}'):rep(1) .. (" "):rep(25) -- 40 bytes
      local slow_body = peer({ dripping("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        .. "Content-Length: 40\r\n\r\n", body, 0.5) })
      local r = list_from(slow_body)
      assert.equals("TIMEOUT", r.err and r.err.error_code, cjson.encode(r))
      assert.is_true(r.elapsed >= 1.9 and r.elapsed < 3, "took " .. r.elapsed .. " s")

      local slow_head = peer({ dripping("HTTP/1.1 200 OK\r\n", "X-Slow: " .. ("a"):rep(32) .. "\r\n", 0.25) })
      r = list_from(slow_head)
      assert.equals("TIMEOUT", r.err and r.err.error_code, cjson.encode(r))
      assert.is_true(r.elapsed >= 1.9 and r.elapsed < 3, "took " .. r.elapsed .. " s")

      local chunked = peer({ dripping("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "28\r\n" .. body .. "\r\n0\r\n\r\n", 0.25) })
      r = list_from(chunked)
      assert.equals("TIMEOUT", r.err and r.err.error_code, cjson.encode(r))
      assert.is_true(r.elapsed >= 1.9 and r.elapsed < 3, "took " .. r.elapsed .. " s")
    end)

    -- Waits for the peer to log what it managed to send of its { rep = } part.
    local function sent_by(p)
      local deadline = socket.gettime() + 10
      while socket.gettime() < deadline do
        local s = p.sent()
        if s[1] then return s[1] end
        socket.sleep(0.05)
      end
      error("the peer logged nothing sent")
    end

    local HUGE = 64 * 1024 * 1024
    local OK_TAIL = "\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"webhooks\":[]}"

    it("refuses an endless header line, status line or chunk-size line without buffering it", function()
      local cases = {
        { "header line", { "HTTP/1.1 200 OK\r\nX-Big: ", { rep = "a", bytes = HUGE }, OK_TAIL } },
        { "status line", { "HTTP/1.1 200 ", { rep = "a", bytes = HUGE }, OK_TAIL } },
        { "chunk size line", { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
          { rep = "0", bytes = HUGE }, "\r\n\r\n" } },
      }
      for _, case in ipairs(cases) do
        local what, parts = case[1], case[2]
        local p = peer({ { { parts = parts, close = true } } })
        local r = list_from(p, { timeout = 10 })
        assert.equals("BAD_RESPONSE", r.err and r.err.error_code, what .. ": " .. cjson.encode(r))
        assert.matches(what .. " longer than 16384 bytes", r.err.message)
        assert.is_true(r.elapsed < 2, what .. " took " .. r.elapsed .. " s")
        -- nginx closed the connection long before the line ended
        assert.is_true(sent_by(p) < HUGE / 2, what .. ": the peer sent all of it")
      end
    end)

    it("refuses more than 100 header lines, or a head over 64 KiB", function()
      local many, big = { "HTTP/1.1 200 OK" }, { "HTTP/1.1 200 OK" }
      for i = 1, 101 do many[#many + 1] = "X-H" .. i .. ": 1" end
      for i = 1, 80 do big[#big + 1] = "X-H" .. i .. ": " .. ("b"):rep(1000) end
      local fine = { "HTTP/1.1 200 OK" }
      for i = 1, 90 do fine[#fine + 1] = "X-H" .. i .. ": " .. ("c"):rep(600) end
      local function response(lines)
        return table.concat(lines, "\r\n") .. OK_TAIL
      end
      local p = peer({ { { parts = { response(many) }, close = true } },
        { { parts = { response(big) }, close = true } },
        { { parts = { response(fine) }, close = true } } })
      local r = list_from(p)
      assert.equals("BAD_RESPONSE", r.err and r.err.error_code, cjson.encode(r))
      assert.matches("more than 100 response header lines", r.err.message)
      r = list_from(p)
      assert.equals("BAD_RESPONSE", r.err and r.err.error_code, cjson.encode(r))
      assert.matches("response head larger than 65536 bytes", r.err.message)
      assert.same({}, list_from(p).result.webhooks) -- 90 lines, 55 KiB: within the limits
    end)

    -- Runs of blanks where a pattern would backtrack: inside a header value,
    -- between a name and its colon, around Content-Length digits, in chunk
    -- size lines. A pattern never yields, so no deadline cuts it: the old
    -- header pattern spent over a second of CPU on each of these lines and the
    -- call ended long after its timeout. bench/parse.lua measures the CPU.
    it("parses long runs of blanks in linear time: the right answer, within the call's timeout", function()
      local run = (" "):rep(15000)
      local values = { "HTTP/1.1 200 OK" }
      for i = 1, 4 do values[#values + 1] = "X-Pad-" .. i .. ": a" .. run .. "b" end
      local length = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length:" .. (" "):rep(7000)
        .. ("0"):rep(7000) .. "15" .. (" "):rep(1500) .. "\r\nX-Name" .. (" "):rep(10000) .. ": v"
        .. "\r\nX-Tail: " .. ("a "):rep(7000) .. "\r\n\r\n{\"webhooks\":[]}"
      local chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding:" .. (" "):rep(8000) .. "chunked" .. (" "):rep(8000)
        .. "\r\n\r\n" .. (" "):rep(8000) .. ("0"):rep(8000) .. "f\r\n{\"webhooks\":[]}\r\n"
        .. "0;" .. ("x"):rep(15000) .. "\r\n\r\n"
      local malformed = "HTTP/1.1 200 OK\r\nContent-Length: " .. ("0"):rep(7000) .. (" "):rep(7000) .. "x"
        .. "\r\n\r\n{\"webhooks\":[]}"
      local p = peer({ { { parts = { table.concat(values, "\r\n") .. OK_TAIL }, close = true } },
        { { parts = { length }, close = true } },
        { { parts = { chunked }, close = true } },
        { { parts = { malformed }, close = true } } })
      for _, what in ipairs({ "blanks inside header values", "blanks around Content-Length digits",
        "blanks in chunked framing" }) do
        local r = list_from(p, { timeout = 1 })
        assert.same({}, r.result and r.result.webhooks, what .. ": " .. cjson.encode(r))
        assert.is_true(r.elapsed < 1, what .. ": took " .. r.elapsed .. " s")
      end
      local r = list_from(p, { timeout = 1 })
      assert.equals("CONNECTION_ERROR", r.err and r.err.error_code, cjson.encode(r))
      assert.matches("malformed Content%-Length", r.err.message)
      assert.is_true(r.elapsed < 1, "malformed Content-Length: took " .. r.elapsed .. " s")
    end)

    it("refuses chunked framing larger than the body may be (one-byte chunks, long size lines)", function()
      local chunks = {}
      for i = 1, 9 do chunks[i] = "1;" .. ("e"):rep(8000) .. "\r\n" .. ("{\"webhooks\":[]}"):sub(i, i) .. "\r\n" end
      local p = peer({ { { parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        .. table.concat(chunks) .. "0\r\n\r\n" }, close = true } } })
      local r = list_from(p, { max_response_bytes = 1024 })
      assert.equals("BAD_RESPONSE", r.err and r.err.error_code, cjson.encode(r))
      assert.matches("chunked framing exceeds 65536 bytes", r.err.message)
    end)

    it("refuses bodies over max_response_bytes (8 MiB by default), announced, chunked or streamed",
      function()
        local size = 9 * 1024 * 1024
        local filler = { rep = " ", bytes = size - 15 } -- with the 15 bytes around it: `size`
        local p = peer({
          { { parts = { "HTTP/1.1 200 OK\r\nContent-Length: " .. size .. "\r\n\r\n{\"webhooks\":[]",
            filler, "}" }, close = true } },
          { { parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            .. ("%x"):format(size) .. "\r\n{\"webhooks\":[]", filler, "}\r\n0\r\n\r\n" }, close = true } },
          { { parts = { "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"webhooks\":[]", filler, "}" },
            close = true } },
        })
        for _, framing in ipairs({ "announced", "chunked", "streamed" }) do
          local r = list_from(p, { timeout = 10 })
          assert.equals("BAD_RESPONSE", r.err and r.err.error_code, framing .. ": " .. cjson.encode(r))
          assert.matches("exceeds 8388608", r.err.message)
        end
      end)
  end)

  describe("the receiver", function()
    local function create(spec)
      local r = call("create", { { events = { "MODEL_VERSION_CREATED" }, http_url_spec = spec } })
      return assert(r.result and r.result.id, cjson.encode(r))
    end

    -- Has the workspace deliver a test trigger; returns what the receiver answered.
    local function trigger(spec)
      return call("test", { create(spec) }).result
    end

    it("verifies a real delivery and hands the event over", function()
      local id = create({ url = app.url .. "/hook", secret = SECRET })
      local res = call("test", { { id = id, event = "MODEL_VERSION_TRANSITIONED_STAGE" } }).result
      assert.same({ status_code = 200, body = "OK\n" }, res)
      local got = events()
      assert.equals(1, #got)
      assert.equals("MODEL_VERSION_TRANSITIONED_STAGE", got[1].event)
      assert.equals(id, got[1].webhook_id)
      assert.is_false(got[1].from_file)
    end)

    it("accepts the previous secret while it rotates", function()
      assert.equals(200, trigger({ url = app.url .. "/hook", secret = OLD_SECRET }).status_code)
      assert.equals(1, #events())
    end)

    it("refuses a wrong secret and a missing signature with 401", function()
      local wrong = trigger({ url = app.url .. "/hook", secret = "not-the-secret" })
      assert.equals(401, wrong.status_code)
      assert.matches("signature mismatch", wrong.body)
      local unsigned = trigger({ url = app.url .. "/hook" })
      assert.equals(401, unsigned.status_code)
      assert.matches("missing X%-Databricks%-Signature", unsigned.body)
      assert.same({}, events())
    end)

    it("verifies a body that nginx buffered to a temp file", function()
      local res = trigger({ url = app.url .. "/hook-file", secret = SECRET })
      assert.equals(200, res.status_code)
      local got = events()
      assert.equals(1, #got)
      assert.is_true(got[1].from_file)
      assert.equals("/hook-file", got[1].uri)

      -- larger than client_body_buffer_size (1k): nginx spills it to disk
      local big = delivery(20000)
      assert.equals(200, post_hook("/hook", big, server.sign(SECRET, big)).status)
      got = events()
      assert.equals(2, #got)
      assert.is_true(got[2].from_file)
      assert.equals(#big, got[2].size)
    end)

    it("refuses a tampered body (401) and accepts the genuine one", function()
      call("test", { create({ url = srv.url .. "/__control/sink", secret = SECRET }) })
      local sent = srv:sink()[1]
      local body, sig = sent.body, sent.headers["x-databricks-signature"]
      assert.equals(200, post_hook("/hook", body, sig).status)
      local tampered = body:gsub('"version":"1"', '"version":"2"')
      assert.are_not.equal(body, tampered)
      local r = post_hook("/hook", tampered, sig)
      assert.equals(401, r.status)
      assert.equals(1, #events())
    end)

    it("refuses a missing header (401), a non-JSON body (400), too large a body (413)", function()
      local body = delivery()
      assert.equals(401, post_hook("/hook", body, nil).status)
      assert.equals(401, post_hook("/hook", body, "zz").status)

      local text = "this is not JSON"
      local r = post_hook("/hook", text, server.sign(SECRET, text))
      assert.equals(400, r.status)
      assert.matches("not JSON", r.body)
      local no_event = '{"webhook_id":"x"}'
      assert.equals(400, post_hook("/hook", no_event, server.sign(SECRET, no_event)).status)

      local huge = delivery(70 * 1024) -- max_body is 64 KiB
      assert.equals(413, post_hook("/hook", huge, server.sign(SECRET, huge)).status)
      local chunked = post_hook("/hook", huge, server.sign(SECRET, huge), { chunked = true })
      assert.equals(413, chunked.status) -- no Content-Length: counted after reading
      assert.same({}, events())
    end)

    it("answers 405 to other methods, and lets on_event choose the answer", function()
      local r = app:request({ path = "/hook" })
      assert.equals(405, r.status)
      assert.equals("POST", r.headers.allow)

      local queued = delivery(nil, { model_name = "answer-202" })
      r = post_hook("/hook", queued, server.sign(SECRET, queued))
      assert.equals(202, r.status)
      assert.equals("queued\n", r.body)

      local failing = delivery(nil, { model_name = "raise-please" })
      assert.equals(500, post_hook("/hook", failing, server.sign(SECRET, failing)).status)
      assert.matches("on_event failed on purpose", app:error_log(5))
    end)

    local function now_ms() return math.floor(socket.gettime() * 1000) end

    local function signed_post(path, body)
      return post_hook(path, body, server.sign(SECRET, body))
    end

    it("max_age: refuses a delivery whose signed event_timestamp is too old or in the future (400)",
      function()
        assert.equals(200, trigger({ url = app.url .. "/hook-fresh", secret = SECRET }).status_code)
        assert.equals(1, #events()) -- the workspace's real delivery is fresh

        local old = delivery(nil, { event_timestamp = now_ms() - 301 * 1000 })
        local r = signed_post("/hook-fresh", old)
        assert.equals(400, r.status)
        assert.matches("too old", r.body)
        local ahead = delivery(nil, { event_timestamp = now_ms() + 3600 * 1000 })
        r = signed_post("/hook-fresh", ahead)
        assert.equals(400, r.status)
        assert.matches("in the future", r.body)
        local none = delivery(nil, { event_timestamp = "yesterday" })
        r = signed_post("/hook-fresh", none)
        assert.equals(400, r.status)
        assert.matches("event_timestamp", r.body)
        -- the signature comes first: a stale forgery is a 401, not a 400
        assert.equals(401, post_hook("/hook-fresh", old, string.rep("0", 64)).status)
        assert.equals(1, #events())

        local recent = delivery(nil, { event_timestamp = now_ms() - 290 * 1000 })
        assert.equals(200, signed_post("/hook-fresh", recent).status)
        assert.equals(2, #events())
      end)

    it("is_duplicate: a delivery posted twice is acknowledged twice but handed over once", function()
      local body = delivery(nil, { event_timestamp = now_ms() })
      assert.equals(200, signed_post("/hook-fresh", body).status)
      local again = signed_post("/hook-fresh", body)
      assert.equals(200, again.status)
      assert.matches("duplicate", again.body)
      assert.equals(1, #events())
      -- another webhook, or another moment, is another delivery
      assert.equals(200, signed_post("/hook-fresh", delivery(nil, { event_timestamp = now_ms() + 1,
        webhook_id = "fedcba9876543210fedcba9876543210" })).status)
      assert.equals(2, #events())

      -- a delivery on_event failed (500) is forgotten: the sender's retry is handled again
      local failing = delivery(nil, { model_name = "raise-please", event_timestamp = now_ms() + 2 })
      assert.equals(500, signed_post("/hook-fresh", failing).status)
      assert.equals(500, signed_post("/hook-fresh", failing).status)
      assert.equals(4, #events())
    end)

    it("is_duplicate: two events of one webhook in the same millisecond are two deliveries", function()
      -- a stage transition fires both events at once (keyed on webhook and
      -- timestamp, the second was answered "duplicate" and lost)
      local ts = now_ms()
      local a = delivery(nil, { event = "MODEL_VERSION_TRANSITIONED_STAGE", event_timestamp = ts,
        to_stage = "Production", from_stage = "None" })
      local b = delivery(nil, { event = "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", event_timestamp = ts,
        to_stage = "Production", from_stage = "None" })
      assert.equals("OK\n", signed_post("/hook-fresh", a).body)
      assert.equals("OK\n", signed_post("/hook-fresh", b).body)
      local got = events()
      assert.equals(2, #got)
      assert.same({ "MODEL_VERSION_TRANSITIONED_STAGE", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION" },
        { got[1].event, got[2].event })
      -- and each one's retry is still a duplicate
      assert.matches("duplicate", signed_post("/hook-fresh", b).body)
      assert.matches("duplicate", signed_post("/hook-fresh", a).body)
      assert.equals(2, #events())
    end)

    it("without max_age or is_duplicate: old and repeated deliveries are handed over (off by default)",
      function()
        local body = delivery() -- event_timestamp of 2023
        assert.equals(200, signed_post("/hook", body).status)
        assert.equals(200, signed_post("/hook", body).status)
        assert.equals(2, #events())
      end)
  end)

  describe("examples/openresty/nginx.conf", function()
    local example

    teardown(function() if example then example:stop() end end)

    it("starts as shipped and serves its receiver and admin locations", function()
      local root = server.root()
      local text = assert(server.read_file(root .. "/examples/openresty/nginx.conf"))
      -- on loopback only, and no resolver that exists only with systemd-resolved
      assert.matches("\n%s*listen 127%.0%.0%.1:8080;", text)
      assert.is_nil(text:find("\n%s*listen%s+%d+;"), "listens on every interface")
      assert.is_nil(text:find("\n%s*resolver 127%.0%.0%.53"), "assumes systemd-resolved")
      assert.matches("\n%s*resolver %S+", text)
      -- what a user adapts: modules, paths, port (plus `user root;` when root)
      text = text:gsub("load_module [^\n]*\n", "")
      text = server.load_modules() .. "\n" .. server.user_line() .. "\n" .. text
      text = text:gsub('lua_package_path%s+"[^"]*";',
        ('lua_package_path "%s/lua/?.lua;;";'):format(root))
      text = text:gsub('lua_package_cpath%s+"[^"]*";',
        ('lua_package_cpath "%s/build/luajit/?.so;%s;;";'):format(root, server.lua_cpath()))
      example = server.start_conf({
        conf = function(port)
          return (text:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";"))
        end,
        env = { DATABRICKS_HOST = srv.url, DATABRICKS_TOKEN = srv.token, WEBHOOK_SECRET = SECRET },
      })

      -- an empty list is an empty JSON array
      local empty = example:get("/admin/webhooks?model_name=example-model")
      assert.equals(200, empty.status, empty.body)
      assert.equals('{"webhooks":[]}\n', empty.body)

      local id = call("create", { { events = { "MODEL_VERSION_CREATED" }, model_name = "example-model",
        http_url_spec = { url = example.url .. "/databricks/webhook", secret = SECRET } } }).result.id
      assert.same({ status_code = 200, body = "OK\n" }, call("test", { id }).result)
      assert.matches("databricks webhook: MODEL_VERSION_CREATED model=example%-model", example:error_log(20))

      local listed = example:get("/admin/webhooks?model_name=example-model")
      assert.equals(200, listed.status, listed.body)
      assert.equals(1, #listed.json.webhooks)
      assert.equals(id, listed.json.webhooks[1].id)
      assert.same({ "MODEL_VERSION_CREATED" }, listed.json.webhooks[1].events)
      assert.equals(example.url .. "/databricks/webhook", listed.json.webhooks[1].url)
      assert.is_nil(listed.body:find("\\/"), "escaped '/': " .. listed.body)
      assert.truthy(listed.body:find('"url":"' .. example.url .. '/databricks/webhook"', 1, true))
      assert.matches(" ngx_lua/", srv:requests()[#srv:requests()].headers["user-agent"])

      local bad = example:request({ method = "POST", path = "/databricks/webhook", body = "{}",
        headers = { ["x-databricks-signature"] = string.rep("0", 64) } })
      assert.equals(401, bad.status)
    end)

    it("de-duplicates across its workers on a lua_shared_dict, and keeps same-millisecond events apart",
      function()
        assert.truthy(example, "the example did not start")
        local ts = math.floor(socket.gettime() * 1000)
        local function post(body)
          return example:request({ method = "POST", path = "/databricks/webhook", body = body,
            headers = { ["content-type"] = "application/json",
              ["x-databricks-signature"] = server.sign(SECRET, body) } })
        end
        local a = delivery(nil, { event = "MODEL_VERSION_TRANSITIONED_STAGE", event_timestamp = ts,
          model_name = "dedup-model" })
        local b = delivery(nil, { event = "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", event_timestamp = ts,
          model_name = "dedup-model" })
        local answers = {}
        for i = 1, 8 do -- a new connection each: both workers take some
          local r = post(i % 2 == 1 and a or b)
          assert.equals(200, r.status)
          answers[#answers + 1] = r.body
        end
        local all = table.concat(answers)
        assert.equals(2, select(2, all:gsub("OK\n", "")))
        assert.equals(6, select(2, all:gsub("duplicate delivery\n", "")))
        local log = example:error_log(200)
        local _, handled = log:gsub("databricks webhook: MODEL_VERSION_TRANSITIONED_[%u_]+ model=dedup%-model", "")
        assert.equals(2, handled)
        assert.equals(400, post(delivery(nil, { event_timestamp = ts - 3600 * 1000 })).status) -- max_age
      end)
  end)
end)

describe("the receiver's options", function()
  it("raise on misuse before anything is read (outside nginx too)", function()
    local receiver = require("databricks.webhooks.receiver")
    local S = "s"
    local bad = {
      { { secret = S, max_age = -1 }, "bad option 'max_age' %(seconds > 0 expected%)" },
      { { secret = S, max_age = 0 / 0 }, "bad option 'max_age'" },
      { { secret = S, max_age = "300" }, "bad option 'max_age'" },
      { { secret = S, is_duplicate = true }, "bad option 'is_duplicate' %(function expected, got boolean%)" },
      { { secret = S, forget = {} }, "bad option 'forget' %(function expected, got table%)" },
      { { secret = S, max_body = -5 }, "bad option 'max_body'" },
    }
    for _, case in ipairs(bad) do
      for _, fn in ipairs({ "read", "handle" }) do
        local ok, err = pcall(receiver[fn], case[1])
        assert.is_false(ok)
        assert.matches(case[2], err)
      end
    end
  end)

  it("seen_in: add() records and answers in one step; its failure raises (a 500 in handle)", function()
    local receiver = require("databricks.webhooks.receiver")
    -- a stand-in with lua_shared_dict's add/delete contract
    local dict = { store = {}, full = false }
    function dict:add(k, v, ttl)
      assert.equals(600, ttl)
      if self.full then return false, "no memory" end
      if self.store[k] ~= nil then return false, "exists" end
      self.store[k] = v
      return true
    end
    function dict:delete(k) self.store[k] = nil end
    local seen = receiver.seen_in(dict, 600)
    local key = require("databricks.webhooks").delivery_key("{}")
    assert.equals(("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"), key)
    assert.is_false(seen.is_duplicate(key))
    assert.is_true(seen.is_duplicate(key))
    seen.forget(key)
    assert.is_false(seen.is_duplicate(key))
    dict.full = true
    local ok, err = pcall(seen.is_duplicate, "other")
    assert.is_false(ok)
    assert.equals("shared dict: no memory", err)

    assert.error_matches(function() receiver.seen_in(nil, 600) end, "bad argument #1 to 'seen_in'")
    assert.error_matches(function() receiver.seen_in(dict, 0) end, "bad argument #2 to 'seen_in'")
    assert.error_matches(function() receiver.seen_in(dict, "600") end, "bad argument #2 to 'seen_in'")
  end)
end)

describe("bench/cosocket.lua (the benchmark's machinery, small counts; nothing timed is asserted)", function()
  it("makes every operation's calls inside nginx, module and floor, and prints its RESULT lines", function()
    local util = require("spec.support.util")
    server.build()
    local ok, out = util.run("cd " .. util.q(server.root())
      .. " && BENCH_PIN=0 lua5.4 bench/cosocket.lua lua build 40 1")
    assert(ok, out)
    for _, op in ipairs({ "create", "delete", "mlflow-create", "mlflow-delete" }) do
      for _, impl in ipairs({ "floor", "module", "module-new" }) do
        assert.matches("RESULT cosocket op=" .. op:gsub("%-", "%%-") .. " impl=" .. impl:gsub("%-", "%%-")
          .. " us_per_call=[%d.]+ floor_us=[%d.]+ ratio=[%d.]+", out)
      end
    end
  end)
end)
