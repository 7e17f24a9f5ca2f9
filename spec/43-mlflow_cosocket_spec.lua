-- An MLflow client inside a real nginx: the cosocket transport runs every
-- operation against the local MLflow server (plain HTTP and its TLS front),
-- and client:bulk runs light threads there too.
local workspace = require("spec.support.workspace")
local server = require("spec.support.openresty.server")

describe("MLflow client on the cosocket transport", function()
  local ws, db, app

  setup(function()
    server.build()
    ws = workspace.start{ api = "mlflow", fronts = true, allowed_schemes = "http,https",
      allow_private_ips = true, delivery_backoff = 0 }
    db = workspace.start() -- the app's own Databricks client, made at worker start
    -- the app trusts the MLflow server's TLS front
    app = server.start_app({ workspace = db, https_workspace = ws, secret = "whsec-mlflow" })
  end)

  teardown(function()
    if app then app:stop() end
    if ws then ws:stop() end
    if db then db:stop() end
  end)

  before_each(function() ws:reset() end)

  local function call(host, op, args)
    local r = app:post("/call", { op = op, args = args or {},
      client = { host = host, api = "mlflow", token = "__unset" } })
    assert(r.status == 200 and r.json, "call failed: " .. tostring(r.status) .. " " .. tostring(r.body)
      .. "\n" .. app:error_log(20))
    assert(r.json.raised == nil, r.json.raised and r.json.raised.text)
    return r.json
  end

  for _, key in ipairs{ "url", "h1_url" } do
    it("runs every operation over " .. key, function()
      local host = ws[key]
      local created = call(host, "create", { { name = "nginx-hook", url = ws.url .. "/__control/sink",
        events = { "model_version.created", "prompt.created" }, status = "DISABLED" } })
      assert.is_nil(created.err, created.err and created.err.text)
      local id = created.result.id
      assert.equals(id, created.result.webhook_id)
      assert.is_number(created.stats.reused) -- the cosocket transport carried it
      assert.equals(id, call(host, "get", { id }).result.id)
      assert.equals(1, #call(host, "list", {}).result.webhooks)
      local updated = call(host, "update", { { id = id, description = "changed" } })
      assert.equals("changed", updated.result.description)
      assert.equals("DISABLED", updated.result.status)
      local tested = call(host, "test", { id })
      assert.is_true(tested.result.success)
      local bulk = call(host, "bulk", { "update", { { id = id, name = "renamed" } } })
      assert.equals("renamed", bulk.result[1].ok.name)
      assert.equals("DISABLED", bulk.result[1].ok.status)
      assert.is_true(call(host, "delete", { id }).result)
      local gone = call(host, "get", { id })
      assert.equals("RESOURCE_DOES_NOT_EXIST", gone.err.error_code)
    end)
  end
end)
