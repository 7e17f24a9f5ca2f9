-- The fault matrix: every operation against every way a server or the network
-- can fail it, over real HTTP to the local workspace. Each cell must give a
-- structured error with the documented error_code (below), never a crash, and
-- leave the client usable: the same client then makes the same call again,
-- successfully. Timeouts are small and retries off (retry_timeout = 0), so
-- what is asserted is the first answer.
--
-- Expected error per fault (the same for create, list, update, delete, test):
--
--   fault                                     error_code        status
--   connection refused                        CONNECTION_ERROR  nil
--   reset before the status line (drop)       CONNECTION_ERROR  nil
--   reset mid-body                            CONNECTION_ERROR  nil
--   stall past the timeout                    TIMEOUT           nil
--   500 with an HTML page                     INTERNAL_ERROR    500  (message: the page's <title>)
--   200 with truncated JSON                   BAD_RESPONSE      200
--   200 with the wrong JSON shape ([1,2])     BAD_RESPONSE      200
--   a 50 MB body                              BAD_RESPONSE      nil  (refused at the 16 MB limit)
--   a redirect to another host                BAD_RESPONSE      302  (never followed)
--
-- Also asserted: err.request names the call; tostring(err) is one line and
-- never shows the token; a non-GET call whose connection dropped was sent
-- once, never replayed; the redirect target never sees a request, so never an
-- Authorization header.
--
-- The matrix runs once per network a client meets: plain HTTP, and the
-- workspace's HTTPS fronts with HTTP/1.1 and with HTTP/2 (where a dropped
-- request is a reset stream rather than a closed connection).
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")
local socket = require("socket")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
local OPS = { "create", "list", "update", "delete", "test" }
local METHOD = { create = "POST", list = "GET", update = "PATCH", delete = "DELETE", test = "POST" }
-- valgrind and the sanitizers slow the client down: give them room
local SLOW = (os.getenv("DBW_VALGRIND") or "") ~= "" or (os.getenv("DBW_ASAN") or "") ~= ""
local TIMEOUT = SLOW and 3 or 0.3

local FRONTS = {
  { name = "plain HTTP", url = "url" },
  { name = "TLS + HTTP/1.1", url = "h1_url", tls = true },
  { name = "TLS + HTTP/2", url = "h2_url", tls = true },
}

for _, front in ipairs(FRONTS) do
describe("fault matrix over " .. front.name, function()
  local srv, other, client

  local function new_client(host, opts)
    local o = { host = host or srv[front.url], token = srv.token, timeout = TIMEOUT, retry_timeout = 0,
      ca_file = (host == nil and front.tls) and srv.ca_file or nil }
    for k, v in pairs(opts or {}) do o[k] = v end
    return assert(webhooks.new(o))
  end

  -- A webhook made behind the client's back (the control port answers /api/ too).
  local function fixture(server)
    server = server or srv
    local res = server:http{ method = "POST", path = BASE .. "create", body = {
      events = { "MODEL_VERSION_CREATED" }, model_name = "faults",
      http_url_spec = { url = server.url .. "/__control/sink" } } }
    assert(res.status == 200, res.body)
    return res.json.webhook.id
  end

  local function call(c, op, id)
    if op == "create" then
      return c:create{ events = { "MODEL_VERSION_CREATED" }, model_name = "faults",
        http_url_spec = { url = srv.url .. "/__control/sink" } }
    elseif op == "list" then
      return c:list{ max_results = 5 }
    elseif op == "update" then
      return c:update{ id = id, description = "updated" }
    elseif op == "delete" then
      return c:delete(id)
    end
    return c:test(id)
  end

  local function check_ok(op, res, err)
    assert(res ~= nil, op .. " failed after the fault: " .. tostring(err))
    if op == "list" then assert.is_table(res.webhooks)
    elseif op == "delete" then assert.is_true(res)
    elseif op == "test" then assert.equals(200, res.status_code)
    else assert.is_string(res.id) end
  end

  local function check_error(op, res, err, code, status)
    assert(res == nil, op .. " succeeded through the fault")
    assert.equals(webhooks.Error, getmetatable(err))
    assert.equals(code, err.error_code, op .. ": " .. tostring(err))
    assert.equals(status, err.status, op .. ": " .. tostring(err))
    assert.equals(METHOD[op] .. " " .. BASE .. op, err.request)
    assert.is_string(err.message)
    local line = tostring(err)
    assert.is_nil(line:find("[\r\n]"), "tostring(err) is not one line")
    assert.is_nil(line:find(srv.token, 1, true), "the token shows in the error")
  end

  -- How many requests for `op` the workspace answered with a fault.
  local function faulted(server, op)
    local n = 0
    for _, r in ipairs(server:requests()) do
      if r.path == BASE .. op and r.fault then n = n + 1 end
    end
    return n
  end

  setup(function()
    srv = workspace.start{ fronts = true, keepalive_requests = 1000 }
    other = workspace.start() -- the redirect target
  end)

  teardown(function()
    if client then client:close() end
    srv:stop()
    other:stop()
  end)

  before_each(function()
    srv:reset()
    other:reset()
    if client then client:close() end
    client = new_client()
  end)

  -- (refused connections are the same on every front: plain HTTP only)
  if not front.tls then
  it("connection refused: CONNECTION_ERROR, then the same client works once a server listens", function()
    local probe = assert(socket.bind("127.0.0.1", 0))
    local _, port = probe:getsockname()
    probe:close() -- nothing listens there now
    local c = new_client("http://127.0.0.1:" .. port)
    for _, op in ipairs(OPS) do
      local res, err = call(c, op, "0123456789abcdef0123456789abcdef")
      check_error(op, res, err, "CONNECTION_ERROR", nil)
    end
    local late = workspace.start{ port = tonumber(port), token = srv.token }
    local ok, why = pcall(function()
      for _, op in ipairs(OPS) do
        local id = fixture(late)
        local res, err = call(c, op, id)
        if op == "create" then
          -- its webhook points at srv's sink; it is created all the same
          assert(res, tostring(err))
        else
          check_ok(op, res, err)
        end
      end
    end)
    c:close()
    late:stop()
    assert(ok, why)
  end)
  end

  local MATRIX = {
    { name = "reset before the status line", fault = { kind = "drop", count = 10 },
      code = "CONNECTION_ERROR" },
    { name = "reset mid-body", fault = { kind = "reset_mid_body" }, code = "CONNECTION_ERROR" },
    { name = "stall past the timeout",
      fault = { kind = "stall_after_headers", delay_ms = math.floor(TIMEOUT * 1000) + 1500 },
      code = "TIMEOUT" },
    { name = "500 with an HTML page", fault = { kind = "html_500" }, code = "INTERNAL_ERROR", status = 500,
      message = "500 Internal Server Error" },
    { name = "200 with truncated JSON", fault = { kind = "truncated" }, code = "BAD_RESPONSE", status = 200 },
    { name = "200 with the wrong JSON shape", fault = { kind = "wrong_shape" }, code = "BAD_RESPONSE",
      status = 200 },
    -- 16 MB must arrive before the size limit trips: seconds under valgrind,
    -- so this row's client has a roomier timeout
    { name = "a 50 MB body", fault = { kind = "huge" }, code = "BAD_RESPONSE", timeout = 30 },
    { name = "a redirect to another host", fault = { kind = "redirect" }, code = "BAD_RESPONSE",
      status = 302, redirect = true },
  }

  for _, row in ipairs(MATRIX) do
    it(row.name .. ": " .. row.code .. " for every operation, and the client goes on", function()
      local c = row.timeout and new_client(nil, { timeout = row.timeout }) or client
      for _, op in ipairs(OPS) do
        assert(c:list{ max_results = 1 }) -- a kept-alive connection for the fault to hit
        local id = fixture()
        local fault = {}
        for k, v in pairs(row.fault) do fault[k] = v end
        fault.path = op
        if row.redirect then fault.location = other.url .. BASE .. op end
        srv:faults{ fault }
        local t0 = socket.gettime()
        local res, err = call(c, op, id)
        local took = socket.gettime() - t0
        srv:control("DELETE", "faults") -- what the call did not use up
        check_error(op, res, err, row.code, row.status)
        if row.message then assert.matches(row.message, err.message, 1, true) end
        if row.code == "TIMEOUT" then
          assert(took < TIMEOUT + 1, op .. " blocked " .. took .. " s past a " .. TIMEOUT .. " s timeout")
        end
        if row.fault.kind == "drop" and op ~= "list" then
          -- the request may have reached the server: libcurl must not re-send it
          assert.equals(1, faulted(srv, op), op .. " was replayed after the connection dropped")
        end
        -- the same client, the same call, a fresh webhook: it works
        check_ok(op, call(c, op, fixture()))
      end
      if c ~= client then c:close() end
      if row.redirect then
        local reqs = other:requests()
        for _, r in ipairs(reqs) do
          assert.is_nil(r.headers.authorization, "Authorization reached the redirect target")
        end
        assert.equals(0, #reqs, "the redirect was followed")
      end
    end)
  end

  it("never follows 301, 303, 307 or 308 either, nor sends the token along", function()
    for _, status in ipairs({ 301, 303, 307, 308 }) do
      srv:faults{ { kind = "redirect", status = status, location = other.url .. BASE .. "create" } }
      local res, err = call(client, "create")
      check_error("create", res, err, "BAD_RESPONSE", status)
    end
    assert.equals(0, #other:requests())
    check_ok("create", call(client, "create"))
  end)

  it("an error message with line breaks (or a Location with them) still prints as one line", function()
    srv:faults{ { kind = "status", status = 400, error_code = "INVALID_PARAMETER_VALUE",
      message = "first line\nsecond line\r\n\27[31mred", path = "create" } }
    local res, err = call(client, "create")
    check_error("create", res, err, "INVALID_PARAMETER_VALUE", 400)
    assert.equals("first line\nsecond line\r\n\27[31mred", err.message) -- kept as the server sent it
    assert.equals("INVALID_PARAMETER_VALUE (HTTP 400): first line second line   [31mred", tostring(err))
  end)

  it("a delete that drops is answered once, and its webhook is still there to delete", function()
    local id = fixture()
    assert(client:list{ max_results = 1 })
    srv:faults{ { kind = "drop", path = "delete" } }
    local ok, err = client:delete(id)
    assert.is_nil(ok)
    assert.equals("CONNECTION_ERROR", err.error_code)
    assert.equals(1, faulted(srv, "delete"))
    assert.is_true(client:delete(id))
  end)
end)
end
