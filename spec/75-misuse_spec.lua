-- Misuse: whatever a program does with the module, the answer is a Lua error
-- (or nil, err), never a crash. Wrong `self`, calls after close, errors
-- thrown from the debug callback and from a custom transport, clients
-- collected while an error unwinds, a coroutine per client, close() from
-- inside a callback, odd values in the error object, and inputs that once
-- made the module hang.
local webhooks = require("databricks.webhooks")
local config = require("databricks.webhooks.config")
local workspace = require("spec.support.workspace")
local socket = require("socket")

local METHODS = { "create", "list", "update", "delete", "test", "request", "bulk", "stats", "each",
  "close", "is_closed" }
local REQ = {
  create = { events = { "MODEL_VERSION_CREATED" }, http_url_spec = { url = "https://hooks.example/x" } },
  list = { max_results = 1 }, update = { id = "abc", description = "d" }, delete = "abc", test = "abc",
}
local LIST_BODY = '{"webhooks":[{"id":"abc","events":["MODEL_VERSION_CREATED"],"status":"ACTIVE"}]}'

describe("misuse", function()
  local srv

  local function new(opts)
    opts = opts or {}
    local o = { host = srv.url, token = srv.token, retry_timeout = 0, timeout = 5 }
    for k, v in pairs(opts) do o[k] = v end
    return assert(webhooks.new(o))
  end

  -- A transport that answers every request with `body` (or what `fn` returns).
  local function canned(fn)
    return function(req)
      if fn then return fn(req) end
      return { status = 200, headers = { ["content-type"] = "application/json" }, body = LIST_BODY }
    end
  end

  local function raises(pattern, f, ...)
    local ok, err = pcall(f, ...)
    assert(not ok, "did not raise")
    if pattern then assert.matches(pattern, tostring(err)) end
    return err
  end

  setup(function() srv = workspace.start() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  describe("wrong self", function()
    local client
    before_each(function() client = new() end)
    after_each(function() client:close() end)

    for _, name in ipairs(METHODS) do
      it("client." .. name .. " with a table, a file, an Error, a string, a number or nil as self", function()
        local m = client[name]
        assert.is_function(m)
        if name == "each" then -- checks self when the iterator runs
          local each = m
          m = function(...) return each(...)() end
        end
        local err_obj = webhooks.Error and setmetatable({ error_code = "X", message = "y" }, webhooks.Error)
        for _, bad in ipairs({ {}, io.stdout, err_obj, "client", 42, false }) do
          raises(nil, m, bad, REQ[name])
        end
        raises(nil, m, nil, REQ[name])
        raises(nil, m)
        -- and the real client is unharmed
        assert.is_false(client:is_closed())
        assert(client:list{ max_results = 1 })
      end)
    end

    it("the Error metatable's __tostring with something that is not an error", function()
      local mt = webhooks.Error
      for _, v in ipairs({ 1, "x", true, io.stdout }) do raises(nil, mt.__tostring, v) end
      raises(nil, mt.__tostring)
    end)

    it("a Stepper's step with the wrong self, twice after done, or with a non-table answer", function()
      local ex = assert(client:_begin("list", { max_results = 1 }))
      raises(nil, ex.step, {})
      raises(nil, ex.step, client)
      local action = ex:step()
      assert.equals("send", action)
      raises("table expected", ex.step, ex, "not an answer")
      raises(nil, client._begin, client, "nope", {})
      raises(nil, client._begin, {}, "list", {})
    end)
  end)

  describe("after close", function()
    it("every method raises 'client is closed', close stays idempotent", function()
      local client = new()
      local it = client:each()
      client:close()
      client:close()
      assert.is_true(client:is_closed())
      assert.matches("closed", tostring(client))
      for _, name in ipairs({ "create", "list", "update", "delete", "test" }) do
        raises("client is closed", client[name], client, REQ[name])
      end
      raises("client is closed", client.request, client, "GET", "/api/2.0/x")
      raises("client is closed", client.bulk, client, "delete", { "a" })
      raises("client is closed", client.stats, client)
      raises("client is closed", client._begin, client, "list", {})
      raises("client is closed", it)
      raises("client is closed", function() for _ in client:each() do end end)
    end)

    it("a Lua-transport client too, and an exchange begun before the close", function()
      local client = new{ transport = canned() }
      local ex = assert(client:_begin("list", {}))
      client:close()
      raises("client is closed", client.list, client, {})
      raises("client is closed", client.request, client, "GET", "/api/2.0/x")
      raises("closed", ex.step, ex)
    end)

    it("a client closed by its own transport in the middle of a call", function()
      local client
      client = new{ transport = canned(function()
        client:close()
        return { status = 200, headers = {}, body = LIST_BODY }
      end) }
      raises("closed", client.list, client, {})
      assert.is_true(client:is_closed())
    end)
  end)

  describe("the debug callback", function()
    it("raising: the call raises that error, the client stays usable", function()
      local fail = true
      local client = new{ debug = function() if fail then error("boom in debug") end end }
      raises("boom in debug", client.list, client, {})
      raises("boom in debug", client.create, client, REQ.create)
      fail = false
      assert(client:list{})
      client:close()
    end)

    it("raising a table, nil or a number: propagated as is", function()
      local value
      local client = new{ debug = function() error(value, 0) end }
      for _, v in ipairs({ { code = 1 }, 42, "s" }) do
        value = v
        local ok, err = pcall(client.list, client, {})
        assert.is_false(ok)
        assert.equals(v, err)
      end
      value = nil
      assert.is_false((pcall(client.list, client, {})))
      client:close()
    end)

    it("calling the client again from inside: 'client is busy'", function()
      local client
      client = new{ debug = function() client:list{} end }
      raises("busy", client.list, client, {})
      client:close()
    end)

    it("close() from inside: the call runs to its end, then the client is closed", function()
      local client
      client = new{ debug = function() client:close() end }
      assert.is_table(client:list{})
      assert.is_true(client:is_closed())
      raises("client is closed", client.list, client, {})
      client:close() -- idempotent
    end)

    it("yielding from inside (across the C call): an error, not a crash", function()
      local yield = true
      local client = new{ debug = function() if yield then coroutine.yield("nope") end end }
      local co = coroutine.create(function() return client:list{} end)
      local ok, err = coroutine.resume(co)
      assert.is_false(ok)
      assert.matches("yield", tostring(err))
      yield = false
      assert(client:list{ max_results = 1 })
      client:close()
    end)

    it("in a bulk call: raises, and the client stays usable", function()
      local fail = true
      local client = new{ debug = function() if fail then error("bulk debug") end end }
      local ok = pcall(client.bulk, client, "delete", { "a", "b", "c" })
      assert.is_false(ok)
      fail = false
      local res = client:bulk("delete", { "a" })
      assert.equals("RESOURCE_DOES_NOT_EXIST", res[1].err.error_code)
      client:close()
    end)
  end)

  describe("a custom transport", function()
    it("that raises: the call raises, the next call works", function()
      local fail = true
      local client = new{ transport = canned(function()
        if fail then error("x") end
        return { status = 200, headers = {}, body = LIST_BODY }
      end) }
      for _, op in ipairs({ "create", "list", "update", "delete", "test" }) do
        raises("x", client[op], client, REQ[op])
      end
      raises("x", client.request, client, "GET", "/api/2.0/x")
      fail = false
      local page = assert(client:list{})
      assert.equals("abc", page.webhooks[1].id)
      client:close()
    end)

    it("that answers nonsense: structured errors", function()
      local answers = {
        function() return nil end,
        function() return 42 end,
        function() return "200 OK" end,
        function() return {} end,
        function() return { status = "200", body = LIST_BODY } end,
        function() return { status = -1 } end,
        function() return { status = 200, body = 42 } end,
        function() return { status = 200, body = "[1,2]" } end,
        function() return { status = 200, headers = "x", body = LIST_BODY .. "junk" } end,
        function() return { status = 200.5, headers = { ["retry-after"] = {} }, body = "{}" } end,
        function() return { status = 503, headers = { ["retry-after"] = "soon" }, body = "<html>" } end,
        function() return { error_kind = "bogus" } end,
        function() return { error_kind = {}, message = {} } end,
        function() return nil, "timeout", "slow" end,
      }
      local pick
      local client = new{ transport = function(req) return answers[pick](req) end }
      for i = 1, #answers do
        pick = i
        local res, err = client:list{}
        if res == nil then
          assert.equals(webhooks.Error, getmetatable(err), "answer " .. i)
          assert.is_string(err.error_code)
        else
          assert.is_table(res.webhooks, "answer " .. i)
        end
      end
      client:close()
    end)

    -- The transport lives in the client's own user value (environment on
    -- 5.1/LuaJIT), so the cycle client -> transport -> client is collectable.
    it("that closes over its own client: collected with it", function()
      local weak = setmetatable({}, { __mode = "v" })
      do
        local client
        client = new{ transport = function() return { status = 200, body = client and LIST_BODY } end }
        weak[1] = client
        assert(client:list{})
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
    end)
  end)

  describe("garbage collection while an error unwinds", function()
    it("clients dropped inside their failing call are collected cleanly", function()
      local weak = setmetatable({}, { __mode = "v" })
      for i = 1, 20 do
        local ok = pcall(function()
          local c = new{ debug = function()
            collectgarbage() -- the running client is still referenced: never collected mid-call
            error("unwind " .. i)
          end }
          weak[i] = c
          c:list{}
        end)
        assert.is_false(ok)
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak))
    end)

    it("an exchange and its client abandoned mid-call, in a dead coroutine", function()
      local weak = setmetatable({}, { __mode = "v" })
      for _ = 1, 10 do
        local co = coroutine.create(function()
          local c = new{ transport = function(req) return coroutine.yield(req) end }
          weak[#weak + 1] = c
          return c:list{}
        end)
        assert.is_true((coroutine.resume(co))) -- now suspended inside the transport
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak))
    end)

    it("errors raised while a client is being collected do not escape", function()
      for _ = 1, 50 do
        local c = new()
        assert(c:list{ max_results = 1 })
        c = nil -- luacheck: ignore
        collectgarbage("step", 1000)
      end
      collectgarbage()
    end)
  end)

  describe("coroutines", function()
    it("one client per coroutine, calls interleaved over libcurl", function()
      local done = 0
      local cos = {}
      for i = 1, 4 do
        cos[i] = coroutine.create(function()
          local c = new()
          for k = 1, 5 do
            local wh = assert(c:create{ events = { "MODEL_VERSION_CREATED" }, model_name = "co-" .. i,
              http_url_spec = { url = "https://hooks.example/" .. k } })
            coroutine.yield(wh.id)
            assert(c:delete(wh.id))
          end
          c:close()
          done = done + 1
        end)
      end
      local alive = true
      while alive do
        alive = false
        for _, co in ipairs(cos) do
          if coroutine.status(co) == "suspended" then
            local ok, err = coroutine.resume(co)
            assert(ok, err)
            alive = true
          end
        end
      end
      assert.equals(4, done)
      assert.equals(0, #srv:webhooks())
    end)

    it("one client per coroutine over a yielding transport, answered out of order", function()
      local cos, results = {}, {}
      for i = 1, 3 do
        cos[i] = coroutine.create(function()
          local c = new{ transport = function(req) return coroutine.yield(req) end }
          results[i] = assert(c:list{ model_name = "m" .. i })
          c:close()
        end)
      end
      local pending = {}
      for i = 1, 3 do
        local ok, req = coroutine.resume(cos[i])
        assert(ok, req)
        pending[i] = req
      end
      for i = 3, 1, -1 do
        assert.matches("model_name=m" .. i, pending[i].url, 1, true)
        local ok, err = coroutine.resume(cos[i], { status = 200, headers = {},
          body = '{"webhooks":[{"id":"' .. i .. '","events":[]}]}' })
        assert(ok, err)
      end
      for i = 1, 3 do assert.equals(tostring(i), results[i].webhooks[1].id) end
    end)
  end)

  describe("the error object", function()
    it("prints one line whatever its fields hold", function()
      local E = webhooks.Error
      local cases = {
        { error_code = "X", message = "a\nb\r\nc", status = 404 },
        { error_code = "X", message = "m", status = 1e300 },
        { error_code = "X", message = "m", status = -1e300 },
        { error_code = "X", message = "m", status = 0 / 0 },
        { error_code = "X", message = "m", status = 2 ^ 63 },
        { error_code = "X", message = "m", status = 404.5 },
        { error_code = {}, message = {}, status = "500" },
        { error_code = "A\0B", message = "\0\1\127" },
        {},
      }
      for i, c in ipairs(cases) do
        local s = tostring(setmetatable(c, E))
        assert.is_string(s)
        assert.is_nil(s:find("[%c]"), "case " .. i .. " is not one printable line: " .. s)
      end
    end)
  end)

  describe("inputs that once hung", function()
    it("a path with a DEL byte fails at once instead of being retried for the whole budget", function()
      local client = new{ retry_timeout = 30 }
      local t0 = socket.gettime()
      local res, err = client:request("GET", "/api/2.0/x\127y")
      assert.is_nil(res)
      -- INVALID_PARAMETER_VALUE once client:request refuses DEL itself; until
      -- then libcurl refuses the URL and the error is not retried
      assert.is_truthy(err.error_code == "INVALID_PARAMETER_VALUE" or err.error_code == "CONNECTION_ERROR")
      assert.is_true(socket.gettime() - t0 < 1, "retried a request that can never be sent")
      client:close()
    end)

    it("a config file with long runs of blanks, slashes or '=' parses in linear time", function()
      local n = 200000
      local texts = {
        "token = " .. string.rep(" ", n) .. "x\n",
        "[" .. string.rep("a", n) .. "\n",
        "host = https://h/" .. string.rep("/", n) .. "x\ntoken = t\n",
        "host = https://h/?" .. string.rep("a", n) .. "\ntoken = t\n",
        "host = https://h" .. string.rep(" ", n) .. "x\n",
      }
      for i, text in ipairs(texts) do
        local t0 = os.clock()
        local sections = config.parse_file(text)
        if sections and sections.DEFAULT and sections.DEFAULT.host then
          config.normalize_host(sections.DEFAULT.host)
        end
        assert.is_true(os.clock() - t0 < 1, "input " .. i .. " took " .. (os.clock() - t0) .. " s")
      end
    end)

    it("an event or status name with a NUL byte inside is refused before anything is sent", function()
      local client = new()
      local cases = {
        { "list", { events = { "COMMENT_CREATED\0x" } } },
        { "create", { events = { "COMMENT_CREATED\0" }, http_url_spec = { url = "https://hooks.example/x" } } },
        { "update", { id = "abc", status = "ACTIVE\0DISABLED" } },
        { "test", { id = "abc", event = "MODEL_VERSION_CREATED\0" } },
      }
      for _, c in ipairs(cases) do
        local res, err = client[c[1]](client, c[2])
        assert.is_nil(res)
        assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
        assert.is_nil(err.status)
        assert.matches("NUL", err.message)
      end
      assert.equals(0, #srv:requests())
      client:close()
    end)

    it("a host with a control byte is refused when the client is made", function()
      for _, h in ipairs({ "https://h/a\1b", "https://h\27x", "https://h/\127" }) do
        local c, err = webhooks.new{ host = h, token = "t" }
        assert.is_nil(c)
        assert.matches("control characters", err.message)
      end
    end)
  end)

  describe("messages that say how to fix it", function()
    local c
    before_each(function() c = new() end)
    after_each(function() c:close() end)

    it("names the method and the argument of a non-table request", function()
      -- delete and test take a bare id too, and say so
      for _, case in ipairs{ { "create", "x", "string", "table" }, { "update", nil, "no value", "table" },
        { "delete", true, "boolean", "table or id" }, { "delete", nil, "no value", "table or id" },
        { "test", false, "boolean", "table or id" } } do
        local ok, err = pcall(c[case[1]], c, case[2])
        assert.is_false(ok)
        assert.equals(("bad argument #1 to '%s' (%s expected, got %s)"):format(case[1], case[4], case[3]),
          tostring(err))
      end
    end)

    it("suggests the field meant by a typo", function()
      local _, err = c:create{ event = { "MODEL_VERSION_CREATED" }, http_url_spec = { url = "https://x" } }
      assert.matches("unknown field 'event' (did you mean 'events'?)", err.message, 1, true)
      _, err = c:create{ events = { "COMMENT_CREATED" }, http_url_spec = { url = "https://x", secrt = "s" } }
      assert.matches("(did you mean 'http_url_spec.secret'?)", err.message, 1, true)
      _, err = c:list{ bogus = 1 }
      assert.is_nil(err.message:find("did you mean", 1, true))
    end)

    it("lists the valid names of an enum, and suggests the nearest", function()
      local _, err = c:create{ events = { "MODEL_VERSION_CREATD" }, http_url_spec = { url = "https://x" } }
      assert.matches("(did you mean 'MODEL_VERSION_CREATED'?)", err.message, 1, true)
      for _, name in ipairs(webhooks.EVENTS) do assert.truthy(err.message:find(name, 1, true)) end
      _, err = c:update{ id = "1", status = "actve" }
      assert.matches("(did you mean 'ACTIVE'?); one of ACTIVE, DISABLED, TEST_MODE", err.message, 1, true)
    end)
  end)
end)
