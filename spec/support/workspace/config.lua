-- Startup configuration (written by spec/support/workspace.lua into
-- <prefix>/conf/workspace.json) and the settings that /__control/settings changes.
local json = require("workspace.json")

local M = {}

--- Startup values; `settings` below is derived from them and reset to them.
M.startup = {
  token = "dapi-local-workspace-token",
  client_id = "local-client",
  client_secret = "local-secret",
  token_ttl = 3600,
  scheme = "http",
  -- the other kinds of credentials it accepts (spec/support/README.md)
  username = "local-user", password = "local-password",
  azure_tenant_id = "local-tenant", azure_client_id = "local-azure-client",
  azure_client_secret = "local-azure-secret",
  oidc_subject_token = "local-oidc-jwt",
  metadata_secret = "local-metadata-secret",
  -- which API family it serves: "databricks" (api.lua) or "mlflow" (mlflow_api.lua)
  api = "databricks",
  -- mlflow family (spec/support/README.md, "The MLflow server"); no auth unless
  -- mlflow_token or mlflow_username/mlflow_password are set
  mlflow_token = nil, mlflow_username = nil, mlflow_password = nil,
  allowed_schemes = "https",  -- MLFLOW_WEBHOOK_ALLOWED_SCHEMES
  allow_private_ips = false,  -- MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS
  delivery_backoff = 1,       -- urllib3 backoff_factor of the delivery retries
  cache_ttl = 60,             -- MLFLOW_WEBHOOK_CACHE_TTL (seconds)
  delivery_timeout = 30,      -- MLFLOW_WEBHOOK_REQUEST_TIMEOUT (seconds per attempt)
  error_extras = true,        -- 3.11 error bodies: error_class and sqlstate
}

--- Mutable settings, see reset().
M.settings = {}

function M.reset()
  local s = M.startup
  M.settings = {
    latency_ms = 0,          -- added to every non-control request
    token_ttl = s.token_ttl, -- lifetime of OAuth tokens issued from now on (seconds)
    oauth_discovery = true,  -- false: the discovery document answers 404
    oauth_token_endpoint = nil, -- a URL the discovery document names instead of its own
    tokens = { [s.token] = true }, -- accepted static (PAT) tokens
    client_id = s.client_id,
    client_secret = s.client_secret,
    known_models = nil,      -- set of model names; nil accepts any model_name
    sink_status = 200,       -- what /__control/sink answers
    sink_body = "OK",
    sink_delay_ms = 0,
    rate_limit = nil,        -- requests per second over /api/ (nil: no limit)
    rate_limit_burst = nil,  -- bucket size (nil: one second's worth)
    rate_limit_retry_after = nil, -- Retry-After sent verbatim (nil: seconds until a request fits)
    sink_statuses = {},      -- statuses the sink answers first, one per request, before sink_status
    delivery_backoff = s.delivery_backoff, -- mlflow: retry backoff factor (seconds)
    cache_ttl = s.cache_ttl, -- mlflow: lifetime of the per-event webhook cache (seconds)
    allowed_schemes = s.allowed_schemes,     -- mlflow: comma-separated URL schemes
    allow_private_ips = s.allow_private_ips, -- mlflow: URLs may name non-public addresses
  }
end

--- Reads the startup file; called once from init_by_lua (in the master, before fork).
function M.load(path)
  local f = io.open(path, "rb")
  if f then
    local text = f:read("*a")
    f:close()
    local conf = assert(json.decode(text), "workspace: bad " .. path)
    for k, v in pairs(conf) do M.startup[k] = v end
  end
  M.reset()
end

M.reset()

return M
