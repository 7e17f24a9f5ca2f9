-- examples/receiver.lua (the demo's plain LuaSocket receiver) run as its own
-- process on loopback, against peers that send too much or too slowly: it
-- answers or closes promptly, within its byte limits and its deadline.
local webhooks = require("databricks.webhooks")
local socket = require("socket")
local util = require("spec.support.util")

local SECRET = "whsec-example-receiver-5d1"
local DEADLINE = 1.5 -- seconds a connection may take to deliver its request

describe("examples/receiver.lua", function()
  local dir, port, pid

  setup(function()
    assert(util.run("make -s LUA=5.4"))
    local ok, out = util.run("mktemp -d \"${TMPDIR:-/tmp}/dbw-receiver.XXXXXX\"")
    assert(ok, out)
    dir = util.trim(out)
    assert(os.execute(("sh -c 'echo $$ > %s/pid; exec lua5.4 examples/receiver.lua %s/port %s %s"
      .. " > %s/out 2>&1' &"):format(dir, dir, SECRET, DEADLINE, dir)))
    for _ = 1, 250 do
      local text = util.read_file(dir .. "/port")
      if text and text:match("%d+\n") then port = tonumber(text:match("%d+")) break end
      socket.sleep(0.02)
    end
    assert(port, "the receiver did not start")
    pid = tonumber(util.read_file(dir .. "/pid"):match("%d+"))
  end)

  teardown(function()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  local function connect()
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(5)
    return c
  end

  -- The status of the answer on c, or nil and why there is none.
  local function status_of(c)
    local line, err = c:receive("*l")
    if not line then return nil, err end
    return tonumber(line:match("^HTTP/1%.1 (%d%d%d)"))
  end

  local function post(body, headers)
    local c = connect()
    local head = { "POST /hook HTTP/1.1", "Host: 127.0.0.1", "Content-Length: " .. #body }
    for _, h in ipairs(headers or {}) do head[#head + 1] = h end
    assert(c:send(table.concat(head, "\r\n") .. "\r\n\r\n" .. body))
    local status = status_of(c)
    c:close()
    return status
  end

  it("accepts a signed delivery and refuses a wrong signature", function()
    local body = '{"event":"MODEL_VERSION_CREATED","webhook_id":"a1","event_timestamp":1700000000000}'
    assert.equals(200, post(body, { "X-Databricks-Signature: " .. webhooks.sign(SECRET, body) }))
    assert.equals(401, post(body, { "X-Databricks-Signature: " .. string.rep("0", 64) }))
  end)

  -- MLflow's signature computed apart, by openssl: "v1," .. base64(HMAC-SHA256(secret, id.ts.body)).
  local function mlflow_signature(id, ts, body)
    util.write_file(dir .. "/signed", id .. "." .. ts .. "." .. body)
    local ok, out = util.run(("openssl dgst -sha256 -hmac %s -binary < %s/signed | base64"):format(SECRET, dir))
    assert(ok, out)
    return "v1," .. util.trim(out)
  end

  it("accepts a signed, fresh MLflow delivery; refuses a wrong signature, a stale one, none", function()
    local body = '{"entity": "model_version", "action": "created", "timestamp": "2026-12-07T14:00:00+00:00", '
      .. '"data": {"name": "m", "version": "1"}}'
    local id, ts = "2f7c5a8e-1d8b-4f54-9b8c-0a6f4c1e9d21", tostring(os.time())
    local function mlflow(sig, stamp)
      return { "X-MLflow-Delivery-Id: " .. id, "X-MLflow-Timestamp: " .. (stamp or ts),
        sig and ("X-MLflow-Signature: " .. sig) or nil }
    end
    assert.equals(200, post(body, mlflow(mlflow_signature(id, ts, body))))
    assert.equals(401, post(body .. " ", mlflow(mlflow_signature(id, ts, body))))
    local old = tostring(os.time() - 3600)
    assert.equals(401, post(body, mlflow(mlflow_signature(id, old, body), old)))
    assert.equals(401, post(body, mlflow(nil)))
    local out
    for _ = 1, 100 do
      out = util.read_file(dir .. "/out") or ""
      if select(2, out:gsub("rejected MLflow delivery", "")) >= 3 then break end
      socket.sleep(0.02)
    end
    assert.truthy(out:find("receiver: verified MLflow model_version.created, delivery " .. id, 1, true), out)
  end)

  it("refuses an oversized Content-Length at once, without reading the body", function()
    local c = connect()
    local t0 = socket.gettime()
    assert(c:send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n{"))
    assert.equals(413, status_of(c))
    assert.is_true(socket.gettime() - t0 < 0.5, "took " .. (socket.gettime() - t0) .. " s")
    c:close()
  end)

  it("refuses an endless header line, or too many headers, with 431, and stops reading", function()
    local c = connect()
    c:settimeout(DEADLINE * 3)
    local t0 = socket.gettime()
    assert(c:send("POST /hook HTTP/1.1\r\nX-Endless: "))
    local piece, sent, total = string.rep("a", 65536), 0, 64 * 1024 * 1024
    while sent < total do
      if not c:send(piece) then break end
      sent = sent + #piece
    end
    local took = socket.gettime() - t0
    assert.is_true(sent < total, "the receiver read all " .. total .. " bytes")
    assert.is_true(took < DEADLINE, "took " .. took .. " s")
    c:close()
    local out
    for _ = 1, 100 do -- the receiver flushes its line once the connection is closed
      out = util.read_file(dir .. "/out") or ""
      if out:find("(431)", 1, true) then break end
      socket.sleep(0.02)
    end
    assert.matches("refused request %(431%): header line longer than 8192 bytes", out)

    local many = {}
    for i = 1, 65 do many[i] = "X-H" .. i .. ": 1" end
    assert.equals(431, post("{}", many))
  end)

  it("answers 408 and closes a connection whose request is not in by the deadline", function()
    -- a request head that never ends, sent one byte every 0.1 s
    local c = connect()
    local t0 = socket.gettime()
    local drip = "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " .. string.rep("a", 100)
    for i = 1, #drip do
      if not c:send(drip:sub(i, i)) then break end
      if socket.gettime() - t0 > DEADLINE + 0.5 then break end
      socket.sleep(0.1)
    end
    c:settimeout(2)
    local status = status_of(c)
    local took = socket.gettime() - t0
    c:close()
    assert.equals(408, status)
    assert.is_true(took >= DEADLINE - 0.1 and took < DEADLINE + 1, "took " .. took .. " s")

    -- a body shorter than its Content-Length: the same
    c = connect()
    t0 = socket.gettime()
    assert(c:send("POST /hook HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"))
    assert.equals(408, status_of(c))
    took = socket.gettime() - t0
    assert.is_true(took >= DEADLINE - 0.1 and took < DEADLINE + 1, "took " .. took .. " s")
    c:close()

    -- and it goes on serving
    local body = '{"event":"MODEL_VERSION_CREATED","webhook_id":"a2","event_timestamp":1700000000000}'
    assert.equals(200, post(body, { "X-Databricks-Signature: " .. webhooks.sign(SECRET, body) }))
  end)

  -- The old header pattern spent seconds of CPU on these lines (quadratic in a
  -- run of blanks), answering long after the deadline; split by finds, the
  -- delivery is answered at once, its headers read right.
  it("reads header lines full of blanks in linear time, within the deadline", function()
    local body = '{"event":"MODEL_VERSION_CREATED","webhook_id":"a3","event_timestamp":1700000000000}'
    local headers = { "X-Databricks-Signature:" .. string.rep(" ", 4000) .. webhooks.sign(SECRET, body)
      .. string.rep(" ", 4000) }
    for i = 1, 60 do headers[#headers + 1] = "X-Pad-" .. i .. ": a" .. string.rep(" ", 8000) .. "b" end
    local t0 = socket.gettime()
    assert.equals(200, post(body, headers))
    local took = socket.gettime() - t0
    assert.is_true(took < DEADLINE, "took " .. took .. " s")
    assert.equals(400, post(body, { "X-Databricks-Signature" .. string.rep(" ", 8000) .. ": x" }))
  end)

  it("says what is wrong with its arguments in one line, no stack trace (exit 2)", function()
    for _, args in ipairs({ "", " " .. dir .. "/p", " " .. dir .. "/p s 0", " /no/such/dir/p s" }) do
      local ok, out = util.run("lua5.4 examples/receiver.lua" .. args .. " 2>&1; echo rc=$?")
      assert(ok, out)
      assert.matches("^receiver%.lua: [^\n]+\nrc=2\n?$", out)
    end
  end)
end)
