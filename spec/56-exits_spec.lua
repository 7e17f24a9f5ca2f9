-- Every way out of a call leaves the client as it was. A Lua error from each
-- callback the library calls (debug, a Lua transport, the token source, apply's
-- progress), and close() / `<close>` from inside one, at each point the
-- callback runs (before a send, with request bodies half sent, after the
-- response headers, during a token refresh), for single calls and bulk, over
-- plain HTTP, TLS + HTTP/1.1 and TLS + HTTP/2; then the five operations run on
-- the same client. Under `make asan` and valgrind (the CI runs this file under
-- both) a transfer left on the multi handle, or request memory freed while
-- libcurl still reads it, is a reported error, not a lucky pass.
local webhooks = require("databricks.webhooks")
local core = require("databricks.webhooks.core")
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")
local socket = require("socket")

local PROTOCOLS = {
  { name = "plain HTTP", url = "url" },
  { name = "TLS + HTTP/1.1", url = "h1_url", tls = true },
  { name = "TLS + HTTP/2", url = "h2_url", tls = true },
}

local HAS_CLOSE_VAR = _VERSION == "Lua 5.4"

local sink -- the workspace's own delivery sink, so that `test` reaches a receiver

local function create_req(i, size)
  return { events = { "MODEL_VERSION_CREATED" }, description = size and ("d"):rep(size) or ("exit " .. i),
    http_url_spec = { url = sink .. "?exit=" .. i } }
end

-- What a callback does when its trigger fires.
local ACTIONS = {
  raise = function() error("raised by the callback", 0) end,
  close = function(client) client:close() end,
}
if HAS_CLOSE_VAR then
  -- `local _ <close> = client` compiled at run time: the syntax is 5.4's alone
  ACTIONS.close_var = assert(load("local client = ...; local _ <close> = client"))
end

describe("every way out of a call", function()
  local srv

  setup(function()
    srv = assert(workspace.start{ fronts = true })
    sink = srv.url .. "/__control/sink"
  end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  local function options(proto, extra)
    local o = { host = srv[proto.url], retry_timeout = 5, timeout = 10, ca_file = proto.tls and srv.ca_file or nil }
    for k, v in pairs(extra or {}) do o[k] = v end
    if o.client_id == nil and o.token == nil and o.token_source == nil then o.token = srv.token end
    return o
  end

  -- The five operations on the same client; each must answer as usual.
  local function five_operations(client)
    local started = socket.gettime()
    local wh = assert(client:create(create_req("after")))
    local page = assert(client:list{})
    assert.is_table(page.webhooks)
    assert(client:update{ id = wh.id, description = "updated after" })
    assert.equals(200, assert(client:test(wh.id)).status_code)
    assert.is_true(assert(client:delete(wh.id)))
    -- a refresh left outstanding made the next call wait up to ~91 s
    assert.is_true(socket.gettime() - started < 30, "the calls after the exit waited")
  end

  -- After an exit: the client is closed (close / <close>) or works as before.
  local function check_after(client, action)
    collectgarbage()
    collectgarbage()
    if action == "raise" then
      assert.is_false(client:is_closed())
      five_operations(client)
      client:close()
    else
      assert.is_true(client:is_closed())
      local ok, err = pcall(client.list, client, {})
      assert.is_false(ok)
      assert.matches("client is closed", tostring(err))
    end
  end

  -- Runs `call` on a client whose debug callback does `action` on the line
  -- that `trigger(line)` picks; returns what pcall returned.
  local function with_debug(opts, trigger, action, call)
    local client
    local armed = true
    opts.debug = function(line)
      if armed and trigger(line) then
        armed = false
        ACTIONS[action](client)
      end
    end
    client = assert(webhooks.new(opts))
    local r = table.pack and table.pack(pcall(call, client)) or { pcall(call, client) }
    assert.is_false(armed, "the trigger never fired")
    return client, r
  end

  local function outcome_ok(action, r)
    if action == "raise" then
      assert.is_false(r[1])
      assert.matches("raised by the callback", tostring(r[2]))
    else
      -- closed inside its own call: the call runs to its end, the client is closed after it
      assert.is_true(r[1], tostring(r[2]))
    end
  end

  -- The points where the debug callback runs, with what the call is doing then.
  local POINTS = {
    { name = "after the response headers", trigger = function(l) return l:find(" %-> %d") end },
    { name = "before the next send (a retry)", faults = { { kind = "503" } },
      trigger = function(l) return l:find("retry:", 1, true) end },
    { name = "during a token refresh", oauth = true,
      trigger = function(l) return l:find("/oidc/", 1, true) end },
  }

  for _, proto in ipairs(PROTOCOLS) do
    describe(proto.name, function()
      for _, point in ipairs(POINTS) do
        for action in pairs(ACTIONS) do
          local label = ("debug callback: %s %s"):format(action, point.name)
          local function opts()
            local extra = point.oauth and { client_id = srv.client_id, client_secret = srv.client_secret } or {}
            return options(proto, extra)
          end

          it(label .. ", single call", function()
            if point.faults then srv:faults(point.faults) end
            local client, r = with_debug(opts(), point.trigger, action, function(c)
              return c:create(create_req(1))
            end)
            outcome_ok(action, r)
            check_after(client, action)
          end)

          it(label .. ", bulk", function()
            if point.faults then srv:faults(point.faults) end
            local reqs = {}
            for i = 1, 6 do reqs[i] = create_req(i) end
            local client, r = with_debug(opts(), point.trigger, action, function(c)
              return c:bulk("create", reqs, { parallel = 3 })
            end)
            outcome_ok(action, r)
            check_after(client, action)
          end)
        end
      end

      for action in pairs(ACTIONS) do
        it(("debug callback: %s with request bodies half sent (bulk)"):format(action), function()
          -- one small create answers while three of 3 MiB are still going out
          local reqs = { create_req(1) }
          for i = 2, 4 do reqs[i] = create_req(i, 3 * 1024 * 1024) end
          local client, r = with_debug(options(proto), function(l) return l:find(" %-> %d") end, action,
            function(c) return c:bulk("create", reqs, { parallel = 4 }) end)
          outcome_ok(action, r)
          check_after(client, action)
        end)

        it(("token source: %s inside it, single call and bulk"):format(action), function()
          -- the databricks-cli kind's way in: a Lua function the C core calls for a token
          local client
          local armed = true
          client = assert(core.new{
            host = srv[proto.url], user_agent = "exits-spec", auth_type = "databricks-cli",
            ca_file = proto.tls and srv.ca_file or nil, retry_timeout = 5, timeout = 10,
            token_source = function()
              if armed then
                armed = false
                ACTIONS[action](client)
              end
              return { access_token = srv.token, token_type = "Bearer", expiry = os.time() + 3600 }
            end,
          })
          local ok, res, err = pcall(client.list, client, {})
          assert.is_true(ok) -- the token source runs protected: a raise is an UNAUTHENTICATED answer
          if action == "raise" then
            assert.is_nil(res)
            assert.equals("UNAUTHENTICATED", err.error_code)
            armed = true
            local ok2, results = pcall(client.bulk, client, "delete", { "a", "b" })
            assert.is_true(ok2)
            assert.equals("UNAUTHENTICATED", results[1].err.error_code)
          end
          check_after(client, action)
        end)
      end

      it("apply's progress callback raises: apply raises, the client stays usable", function()
        local client = assert(webhooks.new(options(proto)))
        local plan = assert(client:plan({ create_req("p1"), create_req("p2") }))
        local ok, err = pcall(client.apply, client, plan, { progress = function() error("progress raised", 0) end })
        assert.is_false(ok)
        assert.matches("progress raised", tostring(err))
        check_after(client, "raise")
      end)
    end)
  end

  describe("a Lua transport (LuaSocket, plain HTTP)", function()
    local POINTS_T = {
      { name = "before the send", when = "before" },
      { name = "after the response", when = "after" },
      { name = "during a token refresh", when = "before", oauth = true, match = "/oidc/" },
    }
    for _, point in ipairs(POINTS_T) do
      for action in pairs(ACTIONS) do
        for _, driver in ipairs({ "single call", "bulk" }) do
          it(("transport: %s %s, %s"):format(action, point.name, driver), function()
            local inner = paths.luasocket_transport()
            local client
            local armed = true
            local function fire(req)
              if armed and (point.match == nil or req.url:find(point.match, 1, true)) then
                armed = false
                ACTIONS[action](client)
              end
            end
            local extra = point.oauth and { client_id = srv.client_id, client_secret = srv.client_secret } or {}
            extra.transport = function(req)
              if point.when == "before" then fire(req) end
              local resp = inner(req)
              if point.when == "after" then fire(req) end
              return resp
            end
            client = assert(webhooks.new(options({ url = "url" }, extra)))
            local ok, err
            if driver == "bulk" then
              ok, err = pcall(client.bulk, client, "create", { create_req(1), create_req(2) })
            else
              ok, err = pcall(client.create, client, create_req(1))
            end
            assert.is_false(armed)
            if action == "raise" then
              assert.is_false(ok)
              assert.matches("raised by the callback", tostring(err))
            end
            check_after(client, action == "raise" and "raise" or "close")
          end)
        end
      end
    end
  end)
end)
