--- Client settings for an open-source MLflow tracking server (`api = "mlflow"`):
-- `opts`, then the MLflow client's environment. No `.databrickscfg` is read,
-- and a server without authentication is allowed (no credentials at all).
--
-- Environment, as the MLflow Python client reads it: `MLFLOW_TRACKING_URI`
-- (the host: an http or https URL), `MLFLOW_TRACKING_TOKEN` (Bearer),
-- `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (Basic, which wins
-- over a token when both are set), `MLFLOW_TRACKING_INSECURE_TLS`,
-- `MLFLOW_TRACKING_SERVER_CERT_PATH`. Credentials given as options win over
-- the environment's as a whole, so an option token is never paired with an
-- environment password.
--
-- @module databricks.webhooks.config_mlflow

local type, ipairs, pairs = type, ipairs, pairs
local table_sort = table.sort

local host_url = require("databricks.webhooks.host")
local options = require("databricks.webhooks.options")

local M = {}

-- The options an MLflow client takes (the rest are Databricks settings).
local TAKES = options.MLFLOW
M.OPTIONS = TAKES

local function invalid(message)
  return nil, { error_code = "INVALID_PARAMETER_VALUE", message = message }
end

-- MLflow's boolean variables: true/false or 1/0, any case.
local function env_bool(name, text)
  local t = host_url.trim(text):lower()
  if t == "true" or t == "1" then return true end
  if t == "false" or t == "0" then return false end
  return nil, name .. ": must be true or false, got '" .. text .. "'"
end

--- Resolve the settings of an MLflow client (see `databricks.webhooks.config.resolve`
-- for the shape of the result; `auth_type` is `"basic"`, `"pat"` or `"none"`).
-- @tparam table opts the options of `webhooks.new`, `api == "mlflow"`
-- @tparam function getenv `function(name) -> string|nil`
-- @return settings, or nil and `{ error_code, message }`
function M.resolve(opts, getenv)
  local vals, source = {}, {}
  local unknown = {}
  for k in pairs(opts) do
    if not TAKES[k] then unknown[#unknown + 1] = type(k) == "string" and k or ("[" .. tostring(k) .. "]") end
  end
  if #unknown > 0 then
    table_sort(unknown)
    local name = unknown[1]
    if options.KNOWN[name] then
      return invalid(name .. ": not an option of api = \"mlflow\" (a Databricks setting;"
        .. " an MLflow client reads no .databrickscfg)")
    end
    return invalid(name .. ": unknown option")
  end
  for _, o in ipairs(options.LIST) do
    local name, check = o[1], o[2]
    if TAKES[name] and opts[name] ~= nil then
      local ok, why = check(opts[name])
      if ok == nil then return invalid(name .. ": " .. why) end
      vals[name], source[name] = ok, "the " .. name .. " option"
    end
  end

  local function env(name)
    local v = getenv(name)
    if type(v) == "string" and v ~= "" then return v end
    return nil
  end

  -- The host: MLFLOW_TRACKING_URI may also be a file path, "file:", "sqlite:" or
  -- "databricks" (the MLflow client's other stores), none of which has webhooks.
  if vals.host == nil then
    local uri = env("MLFLOW_TRACKING_URI")
    if uri then
      if not host_url.trim(uri):lower():find("^https?://") then
        return invalid("host (from MLFLOW_TRACKING_URI): must be an http:// or https:// URL of a tracking"
          .. " server; '" .. (uri:match("^[%w+.%-]+:") or uri:sub(1, 40)) .. "...' is not one (webhooks"
          .. " live on a tracking server)")
      end
      vals.host, source.host = uri, "MLFLOW_TRACKING_URI"
    end
  end
  if vals.host == nil then
    return invalid("no host: set MLFLOW_TRACKING_URI or the host option to the tracking server's URL")
  end
  local label = source.host == "MLFLOW_TRACKING_URI" and "host (from MLFLOW_TRACKING_URI)" or "host"
  local parts, why = host_url.parse(vals.host)
  if not parts then return invalid(label .. ": " .. why) end
  vals.host = parts.scheme .. "://" .. parts.hostname .. parts.port .. parts.path
  if parts.scheme == "http" and not host_url.is_loopback(parts.hostname) and not vals.allow_insecure_http then
    return invalid(label .. ": http:// sends the credentials in clear text; use https:// or set"
      .. " allow_insecure_http = true")
  end

  -- Credentials: the options' as a whole, else the environment's.
  local creds = {}
  if vals.token or vals.username or vals.password then
    creds.token, creds.username, creds.password = vals.token, vals.username, vals.password
  else
    creds.token = env("MLFLOW_TRACKING_TOKEN")
    creds.username = env("MLFLOW_TRACKING_USERNAME")
    creds.password = env("MLFLOW_TRACKING_PASSWORD")
    source.token, source.username = "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME"
  end
  if (creds.username == nil) ~= (creds.password == nil) then
    return invalid(("basic auth needs both username and password, but %s is not set"):format(
      creds.username == nil and "username (MLFLOW_TRACKING_USERNAME)" or "password (MLFLOW_TRACKING_PASSWORD)"))
  end
  local auth_type, credential_source = "none", nil
  if creds.username then
    auth_type, creds.token = "basic", nil
    credential_source = "username from " .. source.username
  elseif creds.token then
    auth_type = "pat"
    credential_source = "token from " .. source.token
  end

  -- TLS: an option wins; MLflow refuses both variables together.
  local insecure, cert = env("MLFLOW_TRACKING_INSECURE_TLS"), env("MLFLOW_TRACKING_SERVER_CERT_PATH")
  if vals.verify_tls == nil and insecure then
    local b, why2 = env_bool("MLFLOW_TRACKING_INSECURE_TLS", insecure)
    if b == nil then return invalid(why2) end
    vals.verify_tls = not b
    if b and cert and vals.ca_file == nil then
      return invalid("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set;"
        .. " set only one (as the MLflow client requires)")
    end
  end
  if vals.ca_file == nil and cert then vals.ca_file = cert end

  return options.connection_settings(vals, {
    api = "mlflow",
    host = vals.host,
    host_assumed_https = parts.assumed_https,
    auth_type = auth_type,
    credential_source = credential_source,
    token = creds.token,
    username = creds.username,
    password = creds.password,
    debug_string = "Config: host=" .. vals.host .. ", auth_type=" .. auth_type,
  })
end

return M
