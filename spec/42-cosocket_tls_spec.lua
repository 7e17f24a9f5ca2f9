-- The cosocket transport (databricks.webhooks.ngx) inside a real nginx,
-- against the local workspace's HTTPS fronts (a CA-signed certificate, as a
-- real workspace has): every operation of the contract, with the front's log
-- showing the protocol that carried each call. The cosocket transport speaks
-- HTTP/1.1, also to the listener that offers HTTP/2.
local workspace = require("spec.support.workspace")
local server = require("spec.support.openresty.server")
local core = require("databricks.webhooks.core")
local samples = require("spec.support.op_samples")
local socket = require("socket")

local BASE = "/api/2.0/mlflow/registry-webhooks/"

describe("cosocket transport over the TLS fronts", function()
  local ws, app

  setup(function()
    server.build()
    ws = workspace.start{ fronts = true, keepalive_requests = 5 }
    -- the app trusts the fronts' CA (https_workspace.ca_file)
    app = server.start_app({ workspace = ws, https_workspace = ws, secret = "whsec-tls-front" })
  end)

  teardown(function()
    if app then app:stop() end
    if ws then ws:stop() end
  end)

  before_each(function() ws:reset() end)

  local function call(url_key, op, args)
    local r = app:post("/call", { op = op, args = args or {}, client = { host = ws[url_key] } })
    assert(r.status == 200 and r.json, "call failed: " .. tostring(r.status) .. " " .. tostring(r.body)
      .. "\n" .. app:error_log(20))
    return r.json
  end

  local function protocols(port, want)
    local deadline = socket.gettime() + 2
    local out
    repeat
      out = {}
      for _, r in ipairs(ws:front_log()) do
        if r.port == port and r.path:sub(1, #BASE) == BASE then out[#out + 1] = r.protocol end
      end
      if #out >= want then break end
      socket.sleep(0.05)
    until socket.gettime() > deadline
    return out
  end

  for _, front in ipairs{ { "h1_url", "h1_port" }, { "h2_url", "h2_port" } } do
    it("runs every operation against " .. front[1] .. " over HTTP/1.1 with verified TLS", function()
      local hook = { events = { "MODEL_VERSION_CREATED" }, model_name = "tls-front",
        http_url_spec = { url = ws.url .. "/__control/sink", secret = "s" } }
      local created = call(front[1], "create", { hook })
      assert.is_nil(created.err, created.err and created.err.text)
      local id = created.result.id
      assert.equals(32, #id)
      assert.is_number(created.stats.reused) -- a field only the cosocket transport reports
      local page = call(front[1], "list", { { model_name = "tls-front" } })
      assert.equals(1, #page.result.webhooks)
      local updated = call(front[1], "update", { { id = id, description = "changed" } })
      assert.equals("changed", updated.result.description)
      local tested = call(front[1], "test", { id })
      assert.equals(200, tested.result.status_code)
      local raw = call(front[1], "request", { "GET", BASE .. "list", nil, { model_name = "tls-front" } })
      assert.is_nil(raw.err, raw.err and raw.err.text)
      local deleted = call(front[1], "delete", { id })
      assert.is_true(deleted.result)
      -- and every row of the table of operations, so that none is forgotten here
      local n = 6
      for name in pairs(core.OPS) do
        id = call(front[1], "create", { samples.create(ws) }).result.id
        local r = call(front[1], name, { samples[name](ws, id) })
        assert(r.result ~= nil, name .. ": " .. tostring(r.err and r.err.text))
        n = n + 2
      end
      local seen = protocols(ws[front[2]], n)
      assert.equals(n, #seen)
      for _, p in ipairs(seen) do assert.equals("HTTP/1.1", p) end
    end)
  end

  it("refuses a front whose certificate it cannot verify", function()
    local other = workspace.start{ fronts = true } -- another CA, not trusted by the app
    local r = call("h1_url", "list", {}) -- sanity: the trusted one works
    assert.is_nil(r.err)
    local res = app:post("/call", { op = "list", args = {}, client = { host = other.h1_url } })
    other:stop()
    assert.equals("TLS_ERROR", res.json.err.error_code)
  end)
end)
