-- Hostile peers (issue 12): credentials only to their own origin, bounded
-- responses, waits that Retry-After cannot shorten, numbers checked before
-- anything is sent. Each peer is a small server on loopback (spec/support/stub.lua).
local webhooks = require("databricks.webhooks")
local stub = require("spec.support.stub")
local ws_support = require("spec.support.workspace")

local BASE = "/api/2.0/mlflow/registry-webhooks/"

-- The endpoint may name the workspace's own port as PORT.
local function discovery_doc(endpoint)
  return ([[return function(req, n)
    if req.target:find("well-known", 1, true) then
      return response(200, (('{"token_endpoint":"%s"}'):gsub("PORT", PORT)))
    end
    return response(200, '{"access_token":"tok","expires_in":3600}')
  end]]):format(endpoint)
end

describe("oauth token endpoint", function()
  local collector, stubs
  before_each(function()
    stubs = {}
    collector = stub.start([[return function(req, n)
      return response(200, '{"access_token":"stolen","expires_in":3600}')
    end]])
    stubs[#stubs + 1] = collector
  end)
  after_each(function() for _, s in ipairs(stubs) do s:stop() end end)

  local function workspace(endpoint)
    local ws = stub.start(discovery_doc(endpoint))
    stubs[#stubs + 1] = ws
    return ws
  end

  local function client(ws, extra)
    local opts = { host = ws.url, client_id = "cid", client_secret = "s3cr3t-value", retry_timeout = 0 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(webhooks.new(opts))
  end

  local function refused(ws, url)
    local c = client(ws)
    local res, err = c:list()
    c:close()
    assert.is_nil(res)
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.truthy(err.message:find(url, 1, true), err.message)
    assert.is_nil(err.message:find("s3cr3t", 1, true))
    assert.same({}, collector:requests())
    return err
  end

  it("refuses an endpoint on another port", function()
    refused(workspace(collector.url .. "/collect"), collector.url .. "/collect")
  end)

  it("refuses an endpoint on another host name for the same port", function()
    local ws = workspace("http://localhost:PORT/oidc/v1/token")
    refused(ws, "http://localhost:" .. ws.port .. "/oidc/v1/token")
  end)

  it("refuses an http:// endpoint next to an https:// workspace", function()
    local ws = ws_support.start{ https = true }
    stubs[#stubs + 1] = ws
    ws:settings{ oauth_token_endpoint = collector.url .. "/oidc/v1/token" }
    local c = assert(webhooks.new{ host = ws.url, ca_file = ws.ca_file, client_id = ws.client_id,
      client_secret = ws.client_secret, retry_timeout = 0 })
    local res, err = c:list()
    c:close()
    assert.is_nil(res)
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.truthy(err.message:find(collector.url .. "/oidc/v1/token", 1, true), err.message)
    assert.same({}, collector:requests())
  end)

  it("accepts the workspace's own origin spelt differently, sends to the host as configured, and logs it",
    function()
    local ws = workspace("HTTP://127.0.0.1:PORT/oidc/v1/token")
    local lines = {}
    local c = client(ws, { debug = function(l) lines[#lines + 1] = l end })
    assert(c:list())
    c:close()
    assert.equals("POST /oidc/v1/token", ws:requests()[2])
    -- the origin as the workspace's host spells it, the path as the document does
    assert.truthy(lines[2]:find("POST " .. ws.url .. "/oidc/v1/token", 1, true), lines[2])
    assert.truthy(lines[1]:find(ws.url .. "/oidc/.well-known/oauth-authorization-server", 1, true), lines[1])
  end)

  it("does not guess /oidc/v1/token when discovery fails", function()
    local ws = stub.start([[return function(req, n) return response(404, '{"error_code":"NOT_FOUND"}') end]])
    stubs[#stubs + 1] = ws
    local c = client(ws)
    local res, err = c:list()
    c:close()
    assert.is_nil(res)
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.truthy(err.message:find(ws.url .. "/oidc/.well-known/oauth-authorization-server", 1, true))
    assert.same({ "GET /oidc/.well-known/oauth-authorization-server" }, ws:requests())
  end)
end)

describe("response limits", function()
  local s
  after_each(function() if s then s:stop() end s = nil end)

  local function heap_kb()
    collectgarbage()
    collectgarbage()
    return collectgarbage("count")
  end

  it("refuses a body past max_response_bytes (default 8 MiB) with BAD_RESPONSE", function()
    s = stub.start([[
      local body = '{"webhooks":[' .. string.rep('{},', 5592405) .. '{}]}'
      return function(req, n) return response(200, body) end]])
    local c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0 })
    local before = heap_kb()
    local res, err = c:list()
    assert.is_nil(res)
    assert.equals("BAD_RESPONSE", err.error_code)
    assert.truthy(heap_kb() - before < 20 * 1024)
    c:close()
  end)

  it("refuses more than max_response_values values (default 1,000,000) and frees them", function()
    -- 7.5 MiB of empty objects: within the byte cap, 2.6 million values.
    s = stub.start([[
      local body = '{"webhooks":[' .. string.rep('{},', 2600000) .. '{}]}'
      return function(req, n) return response(200, body) end]])
    local c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0 })
    local before = heap_kb()
    local res, err = c:list()
    assert.is_nil(res)
    assert.equals("BAD_RESPONSE", err.error_code)
    assert.truthy(err.message:find("more than 1000000 JSON values", 1, true), err.message)
    assert.truthy(heap_kb() - before < 20 * 1024)
    c:close()
  end)

  it("takes both caps as options", function()
    s = stub.start([[return function(req, n)
      return response(200, '{"webhooks":[{"id":"1"},{"id":"2"},{"id":"3"}]}')
    end]])
    local c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0, max_response_values = 5 })
    local res, err = c:list()
    assert.is_nil(res)
    assert.equals("BAD_RESPONSE", err.error_code)
    c:close()
    c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0, max_response_bytes = 20 })
    res, err = c:list()
    assert.is_nil(res)
    assert.equals("BAD_RESPONSE", err.error_code)
    c:close()
    c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0, max_response_values = 12,
      max_response_bytes = 100 })
    assert.equals(3, #assert(c:list()).webhooks)
    c:close()
  end)

  it("validates both options as positive integers", function()
    for _, bad in ipairs({ 0, -1, 1.5, 0 / 0, math.huge, 2 ^ 60, "10" }) do
      for _, name in ipairs({ "max_response_bytes", "max_response_values" }) do
        local c, err = webhooks.new{ host = "https://x.test", token = "dapi-x", [name] = bad }
        assert.is_nil(c)
        assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
        assert.truthy(err.message:find(name, 1, true))
      end
    end
  end)
end)

describe("retries", function()
  local s
  after_each(function() if s then s:stop() end s = nil end)

  for _, value in ipairs({ "0", "Thu, 01 Jan 1970 00:00:00 GMT" }) do
    it("never come sooner than the backoff floor (Retry-After: " .. value .. ")", function()
      s = stub.start(([[return function(req, n)
        return response(429, '{"error_code":"REQUEST_LIMIT_EXCEEDED"}', { "Retry-After: %s" })
      end]]):format(value))
      local c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 3 })
      local res, err = c:list()
      c:close()
      assert.is_nil(res)
      assert.equals(429, err.status)
      local n = #s:requests()
      assert.truthy(n >= 3 and n <= 8, n .. " requests")
    end)
  end

  it("stop after 10 attempts whatever the budget, each wait at least the backoff floor", function()
    -- A Lua transport with its own sleep: the policy is the C core's on
    -- every path, and the waits are recorded instead of slept.
    local sends, waits = 0, {}
    local t = {
      request = function(_, _)
        sends = sends + 1
        return { status = 503, headers = { ["retry-after"] = "0" }, body = "{}" }
      end,
      sleep = function(_, seconds) waits[#waits + 1] = seconds end,
    }
    local c = assert(webhooks.new{ host = "https://x.test", token = "dapi-x", retry_timeout = 3600,
      transport = t })
    local res, err = c:list()
    c:close()
    assert.is_nil(res)
    assert.equals(503, err.status)
    assert.equals(10, sends)
    assert.equals(9, #waits)
    local floor = 0.125
    for i, w in ipairs(waits) do
      assert.truthy(w >= floor, ("wait %d: %g < %g"):format(i, w, floor))
      floor = math.min(floor * 2, 5)
    end
  end)
end)

describe("numbers", function()
  local s, c
  setup(function()
    s = stub.start([[return function(req, n) return response(200, '{}') end]])
    c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0 })
  end)
  teardown(function() c:close() s:stop() end)

  local function sent() return s:requests() end

  it("refuse out-of-range, NaN and infinite query values before sending", function()
    local before = #sent()
    local huge = math.maxinteger or 2 ^ 63
    for _, v in ipairs({ huge, 2 ^ 31, 0, -1, 0 / 0, math.huge, -math.huge, 1.5 }) do
      local res, err = c:list{ max_results = v }
      assert.is_nil(res)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    end
    for _, v in ipairs({ 0 / 0, math.huge, -math.huge }) do
      local res, err = c:request("GET", "/x", nil, { a = v })
      assert.is_nil(res)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    end
    assert.equals(before, #sent())
  end)

  it("send integer query values exactly", function()
    assert(c:list{ max_results = 2147483647 })
    assert(c:request("GET", "/x", nil, { a = math.mininteger or -2 ^ 53 }))
    local log = sent()
    assert.equals("GET " .. BASE .. "list?max_results=2147483647", log[#log - 1])
    assert.equals("GET /x?a=" .. (math.mininteger and "-9223372036854775808" or "-9007199254740992"), log[#log])
  end)

  it("accept numeric webhook ids and send them as strings", function()
    assert(c:delete(124323))
    assert(c:delete{ id = 124323 })
    local log = sent()
    assert.equals("DELETE " .. BASE .. "delete?id=124323", log[#log])
    assert.equals("DELETE " .. BASE .. "delete?id=124323", log[#log - 1])
    local req = { id = 124323, description = "d" }
    c:update(req)
    log = sent()
    assert.equals('  body: {"id":"124323","description":"d"}', (log[#log]:gsub('"description":"d","id":"124323"',
      '"id":"124323","description":"d"')))
    assert.equals(124323, req.id) -- the caller's table is untouched
    c:test(124323)
    log = sent()
    assert.equals('  body: {"id":"124323"}', log[#log])
    local results = c:bulk("delete", { 7, "8" })
    assert.is_true(results[1].ok)
    assert.is_true(results[2].ok)
  end)

  it("refuse fractional or huge numeric ids", function()
    local before = #sent()
    for _, v in ipairs({ 1.5, 2 ^ 60, -1, 0 / 0, math.huge }) do
      local res, err = c:delete(v)
      assert.is_nil(res)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      res, err = c:test{ id = v }
      assert.is_nil(res)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    end
    assert.equals(before, #sent())
  end)
end)

-- Paging (issue 20): a server decides the page tokens; each must end on any
-- token it already sent, and after a bounded number of pages. The stub gives
-- up after 60 pages (a last page without a token) so that a client that never
-- stops is seen to fail, not to hang.
describe("paging", function()
  local s, c
  after_each(function()
    if c then c:close() end
    if s then s:stop() end
    s, c = nil, nil
  end)

  local function server(tokens)
    s = stub.start(([[local tokens = %s
      return function(req, n)
        local token = n < 60 and tokens(n) or nil
        return response(200, '{"webhooks":[{"id":"' .. n .. '"}]'
          .. (token and (',"next_page_token":"' .. token .. '"') or "") .. '}')
      end]]):format(tokens))
    c = assert(webhooks.new{ host = s.url, token = "dapi-x", retry_timeout = 0 })
  end

  local function walk(req, opts)
    local ids = {}
    local ok, err = pcall(function()
      for wh in c:each(req, opts) do ids[#ids + 1] = wh.id end
    end)
    return ok, err, ids
  end

  it("ends on a token seen before, however long the cycle (A, B, A, B)", function()
    server([[function(n) return n % 2 == 1 and "A" or "B" end]])
    local ok, err, ids = walk()
    assert.is_false(ok)
    assert.equals("BAD_RESPONSE", err.error_code, tostring(err))
    assert.equals("list: page 3 repeated the page token of page 1; a cycle of 2 pages; stopping", err.message)
    assert.same({ "1", "2" }, ids)
    assert.equals(3, #s:requests())
    assert.truthy(s:requests()[3]:find("page_token=B", 1, true))
  end)

  it("ends on the token it started with, and on a long cycle of long tokens", function()
    server([[function(n) return "A" end]])
    local ok, err = walk({ page_token = "A" })
    assert.is_false(ok)
    assert.equals("list: page 1 repeated the page token the walk started with; a cycle of 1 page; stopping",
      err.message)
    s:stop(); c:close()
    server([[function(n) return ("%03d"):format(n % 7) .. ("t"):rep(3000) end]])
    ok, err = walk()
    assert.is_false(ok)
    assert.equals("list: page 8 repeated the page token of page 1; a cycle of 7 pages; stopping", err.message)
    assert.is_nil(err.message:find("ttt", 1, true))
  end)

  it("fetches at most max_pages pages (default webhooks.MAX_PAGES, 10,000)", function()
    assert.equals(10000, webhooks.MAX_PAGES)
    server([[function(n) return "t" .. n end]])
    local ok, err, ids = walk({ max_results = 1 }, { max_pages = 5 })
    assert.is_false(ok)
    assert.equals("BAD_RESPONSE", err.error_code)
    assert.matches("more than 5 pages", err.message)
    assert.equals(5, #ids)
    assert.equals(5, #s:requests())
    -- a walk that ends within the cap is whole
    s:stop(); c:close()
    server([[function(n) return n < 3 and ("t" .. n) or nil end]])
    ok, err, ids = walk(nil, { max_pages = 3 })
    assert.is_true(ok, tostring(err))
    assert.same({ "1", "2", "3" }, ids)
  end)

  it("raises on a bad max_pages", function()
    server([[function(n) return nil end]])
    for _, bad in ipairs({ 0, -1, 1.5, 0 / 0, math.huge, "10" }) do
      assert.has_error(function() c:each(nil, { max_pages = bad }) end,
        "bad argument #2 to 'each' (max_pages must be a positive integer)")
    end
    assert.has_error(function() c:each(nil, 5) end, "bad argument #2 to 'each' (table expected, got number)")
  end)
end)
