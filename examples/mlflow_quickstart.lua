-- The whole cycle on an open-source MLflow server (3.3+):
-- create -> list -> test -> (a real event) -> update -> delete.
-- Configuration comes from the environment like the MLflow client's
-- (MLFLOW_TRACKING_URI, and MLFLOW_TRACKING_TOKEN or _USERNAME/_PASSWORD when
-- the server wants them); RECEIVER_URL and WEBHOOK_SECRET say where deliveries
-- go. `make demo` sets all of them up against the local MLflow stand-in.
--
-- DEMO_CONTROL_URL is the stand-in's control API (a real server has none):
-- when set, step 4 makes the server fire a real model_version.created event
-- and waits until its delivery log shows the receiver's answer.
local webhooks = require("databricks.webhooks")

local receiver = assert(os.getenv("RECEIVER_URL"), "set RECEIVER_URL")
local secret = os.getenv("WEBHOOK_SECRET") or "demo-secret"
local control = os.getenv("DEMO_CONTROL_URL")

local function check(value, err)
  if value == nil then
    io.stderr:write("error: ", tostring(err), "\n")
    os.exit(1)
  end
  return value
end

local client = check(webhooks.new{ api = "mlflow" })
print("client: " .. tostring(client))

local wh = check(client:create{
  name = "churn-model-releases",
  url = receiver,
  events = { "model_version.created", "model_version_alias.created" },
  description = "notify the release channel",
  secret = secret,
})
print(("1. created  %s  name=%s status=%s events=%s"):format(
  wh.id, wh.name, wh.status, table.concat(wh.events, ",")))

local page = check(client:list{ max_results = 100 })
print(("2. listed   %d webhook(s)"):format(#page.webhooks))

local result = check(client:test{ id = wh.id, event = "model_version.created" })
print(("3. tested   success=%s, receiver answered HTTP %s"):format(tostring(result.success),
  tostring(result.response_status or result.error_message)))

local fired_ok = true
if control then
  -- The stand-in's control API, over plain LuaSocket: not part of the module.
  local http, ltn12, cjson = require("socket.http"), require("ltn12"), require("cjson")
  local function call(method, path, body)
    local out = {}
    local _, status = http.request{ url = control .. path, method = method,
      headers = body and { ["Content-Type"] = "application/json", ["Content-Length"] = #body } or nil,
      source = body and ltn12.source.string(body) or nil, sink = ltn12.sink.table(out) }
    return status, cjson.decode(table.concat(out) ~= "" and table.concat(out) or "null")
  end
  local status, fired = call("POST", "/__control/mlflow/event",
    cjson.encode({ entity = "model_version", action = "created" }))
  fired = status == 200 and fired or {}
  local id = (fired.delivery_ids or {})[1]
  print(("4. fired    model_version.created on the server: %d delivery(ies)"):format(#(fired.delivery_ids or {})))
  local seen
  for _ = 1, 100 do -- the server delivers asynchronously
    local _, log = call("GET", "/__control/mlflow/deliveries")
    for _, d in ipairs(type(log) == "table" and log or {}) do
      if d.delivery_id == id and d.done then seen = d end
    end
    if seen then break end
    require("socket").sleep(0.05)
  end
  fired_ok = seen ~= nil and seen.success == true
  print(("   delivered %s: receiver answered HTTP %s"):format(tostring(id),
    seen and ("%.0f"):format(seen.status or 0) or "nothing (timed out)"))
end

local updated = check(client:update{ id = wh.id, status = "DISABLED", description = "paused" })
print(("5. updated  %s  status=%s description=%q"):format(updated.id, updated.status, updated.description))

check(client:delete(wh.id))
print(("6. deleted  %s; %d webhook(s) left"):format(wh.id, #check(client:list{}).webhooks))

client:close()
if not (result.success and fired_ok) then os.exit(1) end
