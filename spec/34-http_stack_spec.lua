-- The HTTP stack on the network a real workspace presents: an HTTPS front
-- with a CA-signed certificate, one listener that negotiates HTTP/2 and one
-- that speaks HTTP/1.1 only, small keep-alive limits, gzip. Every call made
-- outside nginx goes through libcurl's own HTTP; these specs show which
-- protocol each path really used (the front's access log) and that server-side
-- closes never lose or duplicate a request.
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")
local util = require("spec.support.util")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
-- valgrind and the sanitizers slow the client down: fewer requests are in
-- flight when a GOAWAY comes, so none may need sending again
local SLOW = (os.getenv("DBW_VALGRIND") or "") ~= "" or (os.getenv("DBW_ASAN") or "") ~= ""

local hook, hooks = util.hook, util.hooks

local function path_named(name)
  for _, p in ipairs(paths.list) do
    if p.name == name then return p end
  end
  error("no path " .. name)
end

local H2 = path_named("libcurl, TLS + HTTP/2")
local H1 = path_named("libcurl, TLS + HTTP/1.1")

-- The front log's entries for one port and API path suffix. nginx writes an
-- HTTP/2 stream's line after the client may already hold the answer, so this
-- waits (up to 2 s) until at least `want` lines are there.
local function logged(srv, port, suffix, want)
  local socket = require("socket")
  local deadline = socket.gettime() + 2
  while true do
    local out = {}
    for _, r in ipairs(srv:front_log()) do
      if r.port == port and (suffix == "" or r.path:sub(-#suffix) == suffix) then out[#out + 1] = r end
    end
    if #out >= (want or 1) or socket.gettime() > deadline then return out end
    socket.sleep(0.02)
  end
end

local function count_by_model(srv)
  local n = {}
  for _, wh in ipairs(srv:webhooks()) do n[wh.model_name] = (n[wh.model_name] or 0) + 1 end
  return n
end

describe("HTTP stack", function()
  describe("on fronts with roomy keep-alive", function()
    local srv
    setup(function() srv = workspace.start{ fronts = true, keepalive_requests = 10000 } end)
    teardown(function() srv:stop() end)
    before_each(function() srv:reset() end)

    for _, case in ipairs{ { H2, "h2_port", "HTTP/2.0", "HTTP/2" }, { H1, "h1_port", "HTTP/1.1", "HTTP/1.1" } } do
      local path, port_key, logged_as, reported = case[1], case[2], case[3], case[4]
      it(path.name .. " really speaks " .. reported, function()
        local c = paths.client(path, srv)
        assert(c:list())
        local entries = logged(srv, srv[port_key], "/list")
        assert.equals(1, #entries)
        assert.equals(logged_as, entries[1].protocol)
        assert.equals(reported, c:stats().http_version)
        c:close()
      end)
    end

    it("plain HTTP stays available and speaks HTTP/1.1", function()
      local c = paths.client(path_named("libcurl, plain HTTP"), srv)
      assert(c:list())
      assert.equals("HTTP/1.1", c:stats().http_version)
      c:close()
    end)

    it("bulk multiplexes 200 requests over one HTTP/2 connection", function()
      local c = paths.client(H2, srv)
      local created = c:bulk("create", hooks("mx", 200), { parallel = 32 })
      local ids = {}
      for i, r in ipairs(created) do ids[i] = assert(r.ok, r.err and tostring(r.err)).id end
      local deleted = c:bulk("delete", ids, { parallel = 32 })
      for _, r in ipairs(deleted) do assert.is_true(r.ok) end
      assert.equals(1, c:stats().connections)
      assert.equals(400, c:stats().requests)
      assert.equals(400, #logged(srv, srv.h2_port, "", 400))
      c:close()
    end)

    it("single calls and bulk share the client's connection", function()
      local c = paths.client(H2, srv)
      assert(c:list())
      c:bulk("create", hooks("share", 8), { parallel = 8 })
      assert(c:list())
      assert.equals(1, c:stats().connections)
      c:close()
    end)

    it("asks for compressed answers and decodes them", function()
      local c = paths.client(H2, srv)
      c:bulk("create", hooks("gz", 30), { parallel = 8 })
      local page = assert(c:list{ max_results = 100 })
      assert.equals(30, #page.webhooks)
      local entries = logged(srv, srv.h2_port, "/list")
      assert.is_true(entries[#entries].gzip)
      c:close()
    end)
  end)

  describe("on fronts that close connections often", function()
    local srv
    setup(function()
      srv = workspace.start{ fronts = true, keepalive_requests = 8, keepalive_timeout = "1s" }
    end)
    teardown(function() srv:stop() end)
    before_each(function() srv:reset() end)

    it("HTTP/2: streams refused after GOAWAY are sent again, each create exactly once", function()
      local c = paths.client(H2, srv)
      -- (libcurl sends one request at most 5 times: 4 in flight against 8
      -- per connection keeps every stream well below that)
      local res = c:bulk("create", hooks("goaway", 60), { parallel = 4 })
      -- On a loaded machine a stream can still meet libcurl's limit; it then
      -- fails as a connection error and is not sent again by us: never twice.
      local failed = 0
      for _, r in ipairs(res) do
        if not r.ok then
          failed = failed + 1
          assert.equals("CONNECTION_ERROR", r.err.error_code, tostring(r.err))
        end
      end
      assert.is_true(failed <= 2, failed .. " creates failed")
      local n = count_by_model(srv)
      for i = 1, 60 do
        local got = n["goaway" .. i] or 0
        if res[i].ok then assert.equals(1, got) else assert.is_true(got <= 1, "goaway" .. i .. " twice") end
      end
      -- every create the front logged is a webhook: nothing processed twice
      local total = 0
      for _, v in pairs(n) do total = total + v end
      assert.equals(total, #logged(srv, srv.h2_port, BASE .. "create", total))
      assert.is_true(c:stats().connections >= 8)
      if not SLOW then assert.is_true(c:stats().resends > 0) end
      c:close()
    end)

    for _, path in ipairs{ H1, H2 } do
      it(path.name .. ": single calls survive keep-alive limits and idle closes", function()
        local c = paths.client(path, srv)
        for i = 1, 12 do assert(c:create(hook("ka" .. i))) end
        os.execute("sleep 1.3") -- past keepalive_timeout: the server closed the idle connection
        assert.equals(12, #assert(c:list()).webhooks)
        local n = count_by_model(srv)
        for i = 1, 12 do assert.equals(1, n["ka" .. i]) end
        assert.is_true(c:stats().connections >= 2)
        c:close()
      end)
    end
  end)
end)
