-- The whole cycle: create -> list -> update -> test -> delete.
-- Configuration comes from the environment like the official SDKs
-- (DATABRICKS_HOST, DATABRICKS_TOKEN, or ~/.databrickscfg); RECEIVER_URL and
-- WEBHOOK_SECRET say where deliveries go. `make demo` sets all of them up.
local webhooks = require("databricks.webhooks")

local receiver = assert(os.getenv("RECEIVER_URL"), "set RECEIVER_URL")
local secret = os.getenv("WEBHOOK_SECRET") or "demo-secret"

local function check(value, err)
  if value == nil then
    io.stderr:write("error: ", tostring(err), "\n")
    os.exit(1)
  end
  return value
end

-- WORKSPACE_CA_FILE is for the local workspace only (its certificate comes
-- from a CA made when it starts); a real workspace needs no ca_file.
local client = check(webhooks.new{ ca_file = os.getenv("WORKSPACE_CA_FILE") })
print("client: " .. tostring(client))

local wh = check(client:create{
  model_name = "churn-model",
  events = { "MODEL_VERSION_CREATED", "MODEL_VERSION_TRANSITIONED_STAGE" },
  description = "notify the release channel",
  status = "TEST_MODE",
  http_url_spec = { url = receiver, secret = secret },
})
print(("1. created  %s  model=%s status=%s events=%s"):format(
  wh.id, wh.model_name, wh.status, table.concat(wh.events, ",")))

local page = check(client:list{ model_name = "churn-model" })
print(("2. listed   %d webhook(s) for churn-model"):format(#page.webhooks))

local updated = check(client:update{ id = wh.id, status = "ACTIVE", description = "now active" })
print(("3. updated  %s  status=%s description=%q"):format(updated.id, updated.status, updated.description))

local result = check(client:test{ id = wh.id, event = "MODEL_VERSION_CREATED" })
print(("4. tested   receiver answered HTTP %d: %s"):format(result.status_code, result.body))

check(client:delete(wh.id))
print(("5. deleted  %s; %d webhook(s) left"):format(wh.id, #check(client:list()).webhooks))

client:close()
if result.status_code ~= 200 then os.exit(1) end
