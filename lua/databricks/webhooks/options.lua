--- The options of `webhooks.new`: their environment variables and profile
-- keys (the SDKs' names), their defaults, and the check of each value. Pure
-- data and pure functions; `databricks.webhooks.config` resolves with them.
--
-- @module databricks.webhooks.options

local type, ipairs, tonumber = type, ipairs, tonumber
local table_concat, table_sort = table.concat, table.sort
local math_floor, math_huge = math.floor, math.huge

local host_url = require("databricks.webhooks.host")
local auth_kinds = require("databricks.webhooks.auth_kinds")
local AUTH_ORDER, AUTH_TYPES = auth_kinds.ORDER, auth_kinds.SUPPORTED

local M = {}

--- 2^53: every integer up to it is exact in a double (Lua 5.1's and LuaJIT's
-- only numbers), the bound of ids, counts and timestamps on the Lua side.
M.EXACT_INT_MAX = 2 ^ 53
local EXACT_INT_MAX = M.EXACT_INT_MAX

-- ----------------------------------------------------------------------------
-- Small helpers
-- ----------------------------------------------------------------------------

local trim = host_url.trim

local has_control_chars = host_url.has_control_chars

local function is_finite_number(v)
  -- v ~= v only for NaN; a timeout of math.huge would overflow in C.
  return type(v) == "number" and v == v and v ~= math_huge and v ~= -math_huge
end


-- ----------------------------------------------------------------------------
-- Value checkers. Each takes a value and returns the value to keep, or nil
-- and the reason (without the option name, which the caller prefixes).
-- ----------------------------------------------------------------------------

local function check_string(v, allow_empty)
  if type(v) ~= "string" then
    return nil, "string expected, got " .. type(v)
  end
  if has_control_chars(v) then
    return nil, "must not contain control characters"
  end
  if not allow_empty and trim(v) == "" then
    return nil, "must not be empty"
  end
  return v
end

local function check_positive(v)
  if type(v) ~= "number" then
    return nil, "number expected, got " .. type(v)
  end
  if not is_finite_number(v) or v <= 0 then
    return nil, "must be a finite number greater than 0 (seconds)"
  end
  return v
end

local function check_rate(v)
  if type(v) ~= "number" then
    return nil, "number expected, got " .. type(v)
  end
  if not is_finite_number(v) or v <= 0 then
    return nil, "must be a finite number greater than 0 (requests per second)"
  end
  return v
end

local function check_non_negative(v)
  if type(v) ~= "number" then
    return nil, "number expected, got " .. type(v)
  end
  if not is_finite_number(v) or v < 0 then
    return nil, "must be a finite number >= 0 (seconds)"
  end
  return v
end

-- Byte and value caps: whole numbers from 1 up to 2^53 (exact in every Lua).
local function check_count(v)
  if type(v) ~= "number" then
    return nil, "number expected, got " .. type(v)
  end
  if not is_finite_number(v) or v < 1 or v ~= math_floor(v) or v > EXACT_INT_MAX then
    return nil, "must be a positive integer"
  end
  return v
end

local function check_boolean(v)
  if type(v) ~= "boolean" then
    return nil, "boolean expected, got " .. type(v)
  end
  return v
end

local function check_auth_type(v)
  local s, why = check_string(v)
  if not s then return nil, why end
  if not AUTH_TYPES[s] then
    -- auth_type is not a secret, and naming the rejected value helps with
    -- profiles written by `databricks auth login` (auth_type = databricks-cli).
    return nil, "unsupported value '" .. s .. "' (this client supports " .. table_concat(AUTH_ORDER, ", ") .. ")"
  end
  return s
end

-- Any non-empty string, as the SDKs take it (Python config.py `workspace_id:
-- str = ConfigAttribute(env="DATABRICKS_WORKSPACE_ID")`, no format check), or
-- an integer. Numbers are kept as strings so that 16-digit IDs survive Lua
-- 5.1's doubles and are sent verbatim in headers.
local function check_workspace_id(v)
  if type(v) == "number" then
    if not is_finite_number(v) or v < 0 or v ~= math_floor(v) or v >= EXACT_INT_MAX then
      return nil, "must be a non-negative integer or a non-empty string"
    end
    return string.format("%.0f", v)
  end
  local s, why = check_string(v)
  if not s then
    if type(v) ~= "string" then
      return nil, "string or integer expected, got " .. type(v)
    end
    return nil, why
  end
  return s
end

-- One or more space-separated product tokens, each `name` or `name/version`,
-- over the characters the SDKs allow in User-Agent keys and values
-- (`^[0-9A-Za-z_.+-]+$`, Go `useragent/patterns.go`, Python `alphanum_pattern`).
local UA_CHARS = "[0-9A-Za-z_.+%-]+"
local function check_user_agent(v)
  local s, why = check_string(v)
  if not s then return nil, why end
  local bad = s:find("^ ") or s:find(" $")
  if not bad then
    for token in s:gmatch("[^ ]+") do
      if not (token:find("^" .. UA_CHARS .. "$") or token:find("^" .. UA_CHARS .. "/" .. UA_CHARS .. "$")) then
        bad = true
        break
      end
    end
  end
  if bad then
    return nil, "must be space-separated 'name' or 'name/version' tokens of [0-9A-Za-z_.+-]"
  end
  return s
end

-- A single DNS label such as `dbc-abcd0123-a1bc`.
local function check_deployment_name(v)
  local s, why = check_string(v)
  if not s then return nil, why end
  if #s > 63 or not s:find("^[0-9A-Za-z][0-9A-Za-z%-]*$") or s:find("%-$") then
    return nil, "must be a deployment name such as 'dbc-abcd0123-a1bc' (use host for a full URL)"
  end
  return s
end

local function check_debug(v)
  if type(v) ~= "boolean" and type(v) ~= "function" then
    return nil, "boolean or function expected, got " .. type(v)
  end
  return v
end

-- Passed through untouched; the front decides how to call it.
local function check_transport(v)
  if type(v) == "function" then return v end
  if type(v) == "table" then
    if type(v.request) ~= "function" then
      return nil, "table must have a 'request' function"
    end
    return v
  end
  return nil, "function or table expected, got " .. type(v)
end

local function check_nonempty_string(v) return check_string(v, false) end
-- An empty proxy string keeps libcurl's meaning: "use no proxy at all".
local function check_proxy(v) return check_string(v, true) end

-- Python config.py _parse_scopes: split on commas and blanks, de-duplicated,
-- sorted; sent space-separated. A table of strings is accepted too.
local function check_scopes(v)
  local list = {}
  if type(v) == "table" then
    for _, x in ipairs(v) do
      if type(x) ~= "string" then return nil, "must be a string or a list of strings" end
      list[#list + 1] = x
    end
  elseif type(v) == "string" then
    for x in v:gmatch("[^, ]+") do list[#list + 1] = x end
  else
    return nil, "must be a string or a list of strings"
  end
  local seen, out = {}, {}
  for _, x in ipairs(list) do
    if x ~= "" and not seen[x] then
      if x:find("[%c%s]") then return nil, "must not contain control characters" end
      seen[x] = true
      out[#out + 1] = x
    end
  end
  if #out == 0 then return nil, "must name at least one scope" end
  table_sort(out)
  return table_concat(out, " ")
end

local function check_api(v)
  if v ~= "databricks" and v ~= "mlflow" then
    return nil, "must be \"databricks\" (the default) or \"mlflow\" (an open-source MLflow server)"
  end
  return v
end

-- ----------------------------------------------------------------------------
-- Every setting of webhooks.new, once. A row: the option's name, its checker,
-- then
--   default     applied when no source gives a value;
--   env         the environment variable(s) read for it, first wins;
--   file        its `.databrickscfg` key (the SDK attribute name, so a file
--               written for the CLI or the SDKs works unchanged);
--   shown       named in the "Config:" part of diagnostics ("masked": as ***);
--   auth        the auth kind it is a credential of (the SDKs' `auth=`): set
--               directly, it keeps the config file from being read;
--   connection  a setting of the connection itself, the same for both API
--               families (copied by connection_settings);
--   mlflow      taken by an open-source MLflow client too;
--   doc         one line for the reference table (docs/settings.md).
-- Rows are in the order the Python SDK's `Config` attributes give the
-- "Config:" and "Env:" parts of diagnostics, and are checked in that order
-- (so the first error reported does not depend on `pairs` order). 60 s and
-- 300 s are the SDKs' `http_timeout_seconds` and `retry_timeout_seconds`
-- defaults, 30 s the Go SDK's dial timeout. No SDK has environment variables
-- for the timeouts. Profile keys without a row (`account_id`, `cluster_id`,
-- ...) are ignored, as the Go SDK ignores keys it has no attribute for;
-- `skip_verify` is deliberately not honoured: a file shared with other tools
-- should not silently turn off TLS verification here (use `verify_tls`).
-- ----------------------------------------------------------------------------
M.SETTINGS = {
  { "api", check_api, mlflow = true,
    doc = "\"databricks\" (the default) or \"mlflow\" (an open-source MLflow 3.3+ server)" },
  { "host", check_nonempty_string, env = "DATABRICKS_HOST", file = "host", shown = true, mlflow = true,
    doc = "the workspace URL; https:// is added when no scheme is given" },
  { "deployment_name", check_deployment_name,
    doc = "dbc-abcd0123-a1bc stands for https://dbc-abcd0123-a1bc.cloud.databricks.com" },
  { "workspace_id", check_workspace_id, env = "DATABRICKS_WORKSPACE_ID", file = "workspace_id", shown = true,
    doc = "sent as X-Databricks-Workspace-Id (a string or an integer)" },
  { "token", check_nonempty_string, env = "DATABRICKS_TOKEN", file = "token", shown = "masked", auth = "pat",
    mlflow = true, doc = "a personal access token, sent as a Bearer token" },
  { "client_id", check_nonempty_string, env = "DATABRICKS_CLIENT_ID", file = "client_id", shown = true,
    auth = "oauth-m2m", doc = "the service principal's OAuth client id (also of the OIDC kinds)" },
  { "client_secret", check_nonempty_string, env = "DATABRICKS_CLIENT_SECRET", file = "client_secret",
    shown = "masked", auth = "oauth-m2m", doc = "the service principal's OAuth client secret" },
  { "profile", check_nonempty_string, env = "DATABRICKS_CONFIG_PROFILE", shown = true,
    doc = "the .databrickscfg profile to read" },
  { "config_file", check_nonempty_string, env = "DATABRICKS_CONFIG_FILE", shown = true,
    doc = "the config file (default ~/.databrickscfg)" },
  { "auth_type", check_auth_type, env = "DATABRICKS_AUTH_TYPE", file = "auth_type", shown = true,
    doc = "forces one auth kind (docs/auth.md)" },
  { "token_audience", check_nonempty_string, env = "DATABRICKS_TOKEN_AUDIENCE", file = "token_audience",
    doc = "github-oidc: the audience of the identity token asked for" },
  { "oidc_token_env", check_nonempty_string, env = "DATABRICKS_OIDC_TOKEN_ENV", file = "oidc_token_env",
    auth = "env-oidc", doc = "env-oidc: the variable holding the identity token (default DATABRICKS_OIDC_TOKEN)" },
  { "oidc_token_filepath", check_nonempty_string, file = "oidc_token_filepath", shown = true, auth = "file-oidc",
    env = { "DATABRICKS_OIDC_TOKEN_FILEPATH", "DATABRICKS_OIDC_TOKEN_FILE" }, -- the SDK's alias second
    doc = "file-oidc: the file holding the identity token" },
  { "username", check_nonempty_string, env = "DATABRICKS_USERNAME", file = "username", shown = true,
    auth = "basic", mlflow = true, doc = "basic: the user name" },
  { "password", check_nonempty_string, env = "DATABRICKS_PASSWORD", file = "password", shown = "masked",
    auth = "basic", mlflow = true, doc = "basic: the password" },
  { "azure_client_secret", check_nonempty_string, env = "ARM_CLIENT_SECRET", file = "azure_client_secret",
    shown = "masked", auth = "azure-client-secret", doc = "azure-client-secret: the Entra ID application's secret" },
  { "azure_client_id", check_nonempty_string, env = "ARM_CLIENT_ID", file = "azure_client_id", shown = true,
    auth = "azure-client-secret", doc = "azure-client-secret: the Entra ID application (client) id" },
  { "azure_tenant_id", check_nonempty_string, env = "ARM_TENANT_ID", file = "azure_tenant_id", shown = true,
    auth = "azure-client-secret", doc = "azure-client-secret: the Entra ID tenant" },
  { "azure_login_host", check_nonempty_string,
    doc = "azure-client-secret: the Entra ID login host (default login.microsoftonline.com)" },
  { "databricks_cli_path", check_nonempty_string, env = "DATABRICKS_CLI_PATH", file = "databricks_cli_path",
    doc = "databricks-cli: the databricks executable (default: databricks on PATH)" },
  { "metadata_service_url", check_nonempty_string, env = "DATABRICKS_METADATA_SERVICE_URL",
    file = "metadata_service_url", shown = "masked", auth = "metadata-service",
    doc = "metadata-service: the URL tokens are fetched from" },
  { "rate_limit", check_rate, env = "DATABRICKS_RATE_LIMIT", file = "rate_limit", connection = true,
    doc = "the most API requests per second the client sends (default: no limit)" },
  { "scopes", check_scopes, file = "scopes",
    doc = "OAuth scopes, comma- or space-separated or a list (default all-apis)" },
  { "timeout", check_positive, default = 60, file = "http_timeout_seconds", connection = true,
    doc = "seconds for one HTTP exchange (fractions allowed)" },
  { "connect_timeout", check_positive, default = 30, connection = true,
    doc = "seconds for the connect phase" },
  { "retry_timeout", check_non_negative, default = 300, file = "retry_timeout_seconds", connection = true,
    doc = "seconds of budget for retries from the start of a call (0: none; 10 attempts at most)" },
  { "verify_tls", check_boolean, default = true, connection = true,
    doc = "verify the server's certificate and host name" },
  { "ca_file", check_nonempty_string, connection = true, doc = "a PEM bundle for a private CA" },
  { "proxy", check_proxy, connection = true,
    doc = "a proxy URL (default: HTTPS_PROXY / https_proxy, NO_PROXY; \"\": none)" },
  { "user_agent", check_user_agent, connection = true,
    doc = "extra name/version tokens appended to the User-Agent" },
  { "debug", check_debug, default = false, connection = true,
    doc = "true (stderr) or function(line): one line per attempt and retry, secrets redacted" },
  { "allow_insecure_http", check_boolean, default = false, connection = true,
    doc = "permit http:// to a host that is not loopback" },
  { "transport", check_transport, connection = true,
    doc = "function(req) or { request = function } sending each request instead of libcurl" },
  { "max_response_bytes", check_count, connection = true,
    doc = "the longest response body accepted (default 8 MiB)" },
  { "max_response_values", check_count, connection = true,
    doc = "the most JSON values one response may decode to (default 1,000,000)" },
}

local CHECKERS = {}
--- Every option with its checker, in the order they are checked: `{ name, check }`.
M.LIST = M.SETTINGS
--- The set of accepted option names: `KNOWN[name] == true`.
M.KNOWN = {}
--- Defaults applied when no source gives a value.
M.DEFAULTS = {}
--- Environment variables, in diagnostics' order: `{ option, env }`.
M.ENV_VARS = {}
--- Config-file keys: `{ key, option }`.
M.FILE_KEYS = {}
--- What diagnostics name: `{ name, sensitive }`.
M.DESCRIBED = {}
-- The settings of the connection itself.
local CONNECTION = {}
-- The credentials (and the host) whose being set keeps the config file from
-- being read (Python `_known_file_config_loader`: "skip loading configuration
-- file if there's any auth configured directly"; Go configFileLoader, go#304).
local SKIPS_FILE = { "host" }
--- The options an open-source MLflow client takes: `MLFLOW[name] == true`.
M.MLFLOW = {}
for _, row in ipairs(M.SETTINGS) do
  local name = row[1]
  M.KNOWN[name], CHECKERS[name] = true, row[2]
  if row.default ~= nil then M.DEFAULTS[name] = row.default end
  local env = type(row.env) == "string" and { row.env } or row.env or {}
  for _, var in ipairs(env) do M.ENV_VARS[#M.ENV_VARS + 1] = { option = name, env = var } end
  if row.file then M.FILE_KEYS[#M.FILE_KEYS + 1] = { key = row.file, option = name } end
  if row.shown then M.DESCRIBED[#M.DESCRIBED + 1] = { name = name, sensitive = row.shown == "masked" } end
  if row.connection then CONNECTION[#CONNECTION + 1] = name end
  if row.auth then SKIPS_FILE[#SKIPS_FILE + 1] = name end
  if row.mlflow or row.connection then M.MLFLOW[name] = true end
end

--- Whether a credential (or the host) is set: then the config file is not read.
function M.any_auth_configured(vals)
  for _, k in ipairs(SKIPS_FILE) do
    if vals[k] ~= nil then return true end
  end
  return false
end

--- Copies the connection settings (timeouts, TLS, proxy, limits, debug,
-- transport) from the resolved values `vals` into `settings`, defaults
-- (`DEFAULTS`) filling what is unset; returns `settings`.
function M.connection_settings(vals, settings)
  for _, name in ipairs(CONNECTION) do
    local v = vals[name]
    if v == nil then v = M.DEFAULTS[name] end
    settings[name] = v
  end
  return settings
end

--- A value read from the environment or the file (a string) turned into the
-- option's type and checked: the value, or nil and why.
function M.from_text(option, text)
  if option == "timeout" or option == "retry_timeout" or option == "connect_timeout"
    or option == "rate_limit" then
    local n = tonumber(trim(text))
    if n == nil then return nil, "must be a number" .. (option == "rate_limit" and "" or " (seconds)") end
    return CHECKERS[option](n)
  end
  return CHECKERS[option](text)
end


return M
