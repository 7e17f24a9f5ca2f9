-- The fast path (csrc/wire.c): HTTP/1.1 framed by the module over a
-- connection libcurl opened. Odd framings come from a scripted LuaSocket
-- server in another process (spec/support/rawserver.lua); the faults the
-- local workspace can inject are in 70-faults_spec.lua, which runs over the
-- same path.
local webhooks = require("databricks.webhooks")
local socket = require("socket")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
local TOKEN = "dapi-wire-spec-token"
local SLOW = (os.getenv("DBW_VALGRIND") or "") ~= "" or (os.getenv("DBW_ASAN") or "") ~= ""

local function json_response(body, extra)
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" .. (extra or "") ..
    "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

local EMPTY_LIST = json_response('{"webhooks":[]}')
local WEBHOOK = '{"webhook":{"id":"wh-1","events":["MODEL_VERSION_CREATED"],"status":"ACTIVE",' ..
  '"http_url_spec":{"url":"https://example.com/hook"}}}'

local function serialize(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local out = {}
  for k, x in pairs(v) do
    out[#out + 1] = "[" .. serialize(k) .. "]=" .. serialize(x)
  end
  return "{" .. table.concat(out, ",") .. "}"
end

-- Starts the scripted server; returns { url, log = function() -> lines, stop }.
local function serve(scenario)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local sc = dir .. "/scenario.lua"
  local f = assert(io.open(sc, "w"))
  f:write("return ", serialize(scenario), "\n")
  f:close()
  local portfile, logfile = dir .. "/port", dir .. "/log"
  assert(os.execute(("lua5.4 spec/support/rawserver.lua %s %s %s >/dev/null 2>&1 &"):format(sc, portfile, logfile)))
  local port
  for _ = 1, 200 do
    local p = io.open(portfile)
    if p then port = p:read("*a"); p:close(); break end
    socket.sleep(0.02)
  end
  assert(port, "the raw server did not start")
  local s = { url = "http://127.0.0.1:" .. port }
  function s.log()
    local lines = {}
    for l in io.lines(logfile) do lines[#lines + 1] = l end
    return lines
  end
  function s.requests() -- the request lines: "<conn> <method> <target> <len>"
    local out = {}
    for _, l in ipairs(s.log()) do
      if l:match("^%d+ ") then out[#out + 1] = l end
    end
    return out
  end
  function s.stop()
    os.execute("rm -rf " .. dir)
  end
  return s
end

local function client_for(s, opts)
  local o = { host = s.url, token = TOKEN, timeout = SLOW and 3 or 1, retry_timeout = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(webhooks.new(o))
end

describe("fast path (wire.c)", function()
  it("is on without a proxy, off with one", function()
    local c = assert(webhooks.new{ host = "http://127.0.0.1:9", token = TOKEN })
    assert.is_true(c:stats().fast_path)
    c:close()
    c = assert(webhooks.new{ host = "http://127.0.0.1:9", token = TOKEN, proxy = "http://127.0.0.1:9" })
    assert.is_false(c:stats().fast_path)
    c:close()
  end)

  it("sends a well-formed request and keeps the connection alive", function()
    local s = serve{ { { parts = { EMPTY_LIST } }, { parts = { json_response(WEBHOOK) } },
      { parts = { json_response("{}") } } } }
    local c = client_for(s)
    assert(c:list())
    assert(c:create{ events = { "MODEL_VERSION_CREATED" }, http_url_spec = { url = "https://example.com/hook" } })
    assert(c:delete("wh-1"))
    local st = c:stats()
    assert.equals(1, st.connections)
    assert.equals(3, st.fast_path_requests)
    c:close()
    socket.sleep(0.05)
    local log = table.concat(s.log(), "\n")
    assert.matches("1 GET " .. BASE:gsub("%-", "%%-") .. "list", log)
    assert.matches("  Host: 127.0.0.1:%d+", log)
    assert.matches("  User%-Agent: databricks%-webhooks%-lua/", log)
    assert.matches("  Authorization: Bearer " .. TOKEN:gsub("%-", "%%-"), log)
    assert.matches("1 POST " .. BASE:gsub("%-", "%%-") .. "create %d+", log)
    assert.matches("  Content%-Type: application/json", log)
    assert.matches('  body: {.*"MODEL_VERSION_CREATED"', log)
    assert.is_nil(log:find("Expect:", 1, true))
    s.stop()
  end)

  it("reads chunked bodies split anywhere, with chunk extensions and trailers", function()
    local body = WEBHOOK
    local head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    local a, b = body:sub(1, 10), body:sub(11)
    local chunked = head .. ("%x\r\n%s\r\n"):format(#a, a) .. ("%X;ext=1\r\n%s\r\n"):format(#b, b) ..
      "0\r\nX-Trailer: yes\r\n\r\n"
    local parts = {}
    for i = 1, #chunked, 7 do -- 7-byte pieces, some with a pause between
      parts[#parts + 1] = chunked:sub(i, i + 6)
      if i % 35 == 1 then parts[#parts + 1] = 0.005 end
    end
    local s = serve{ { { parts = parts }, { parts = { chunked } } } }
    local c = client_for(s)
    local res = assert(c:request("GET", "/api/2.0/x"))
    assert.equals("wh-1", res.webhook.id)
    res = assert(c:request("GET", "/api/2.0/x"))
    assert.equals("https://example.com/hook", res.webhook.http_url_spec.url)
    assert.equals(1, c:stats().connections)
    c:close()
    s.stop()
  end)

  it("skips 1xx responses", function()
    local s = serve{ { { parts = { "HTTP/1.1 100 Continue\r\n\r\n", 0.01,
      "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n" .. EMPTY_LIST } },
      { parts = { EMPTY_LIST } } } }
    local c = client_for(s)
    assert.same({}, assert(c:list()).webhooks)
    assert(c:list())
    assert.equals(1, c:stats().connections)
    c:close()
    s.stop()
  end)

  it("opens a new connection after Connection: close, HTTP/1.0, or a body ended by close", function()
    local s = serve{
      { { parts = { json_response('{"webhooks":[]}', "Connection: close\r\n") }, close = true } },
      { { parts = { "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n" ..
        '{"webhooks":[]}' }, close = true } },
      { { parts = { 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"webhooks"', 0.01, ":[]}" },
        close = true } },
      { { parts = { EMPTY_LIST } } },
    }
    local c = client_for(s)
    for _ = 1, 4 do assert.same({}, assert(c:list()).webhooks) end
    assert.equals(4, c:stats().connections)
    c:close()
    s.stop()
  end)

  it("re-sends a GET once when a kept-alive connection closes before any answer", function()
    local s = serve{ { { parts = { EMPTY_LIST } }, { close = true } }, { { parts = { EMPTY_LIST } } } }
    local c = client_for(s)
    assert(c:list())
    assert(c:list())
    assert.equals(2, c:stats().connections)
    c:close()
    socket.sleep(0.05)
    assert.equals(3, #s.requests())
    s.stop()
  end)

  it("never re-sends a POST, PATCH or DELETE on a stale connection: CONNECTION_ERROR, sent once", function()
    for _, call in ipairs{
      { "POST", function(c) return c:create{ events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = "https://example.com/hook" } } end },
      { "PATCH", function(c) return c:update{ id = "wh-1", description = "x" } end },
      { "DELETE", function(c) return c:delete("wh-1") end },
    } do
      local s = serve{ { { parts = { EMPTY_LIST } }, { close = true } }, { { parts = { EMPTY_LIST } } } }
      local c = client_for(s)
      assert(c:list())
      local res, err = call[2](c)
      assert.is_nil(res)
      assert.equals("CONNECTION_ERROR", err.error_code)
      assert(c:list()) -- and the client goes on, on a new connection
      c:close()
      socket.sleep(0.05)
      local reqs = s.requests()
      assert.equals(3, #reqs)
      assert.matches("^1 " .. call[1], reqs[2])
      assert.matches("^2 GET", reqs[3])
      s.stop()
    end
  end)

  it("reports truncated and reset bodies as CONNECTION_ERROR, and goes on", function()
    local s = serve{
      { { parts = { "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"webhooks\"" }, close = true } },
      { { parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"web" }, close = true } },
      { { parts = { "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"webhooks\"", 0.02 }, reset = true } },
      { { parts = { "HTTP/1.1 200 OK\r\nContent-Le" }, close = true } },
      { { parts = { EMPTY_LIST } } },
    }
    local c = client_for(s)
    for i = 1, 4 do
      local res, err = c:list()
      assert.is_nil(res, "case " .. i)
      assert.equals("CONNECTION_ERROR", err.error_code, "case " .. i)
    end
    assert(c:list())
    c:close()
    s.stop()
  end)

  it("refuses malformed framing and oversized chunks", function()
    local s = serve{
      { { parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" }, close = true } },
      { { parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n" }, close = true } },
      { { parts = { "SSH-2.0-OpenSSH\r\n" }, close = true } },
      { { parts = { EMPTY_LIST } } },
    }
    local c = client_for(s)
    local _, err = c:list()
    assert.equals("CONNECTION_ERROR", err.error_code)
    _, err = c:list()
    assert.equals("BAD_RESPONSE", err.error_code) -- over the 16 MB limit, refused before reading it
    _, err = c:list()
    assert.equals("CONNECTION_ERROR", err.error_code)
    assert(c:list())
    c:close()
    s.stop()
  end)

  it("times out on a stalled body and passes Retry-After and X-Request-Id through", function()
    local s = serve{
      { { parts = { "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nX-Request-Id: req-42\r\n" ..
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" } },
        { parts = { "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", 1 }, close = true } },
    }
    local c = client_for(s, { timeout = 0.3 })
    local _, err = c:list()
    assert.equals("REQUEST_LIMIT_EXCEEDED", err.error_code)
    assert.equals(429, err.status)
    assert.equals(7, err.retry_after)
    assert.equals("req-42", err.request_id)
    local t0 = socket.gettime()
    _, err = c:list()
    assert.equals("TIMEOUT", err.error_code)
    assert.is_true(socket.gettime() - t0 < 1)
    c:close()
    s.stop()
  end)
end)
