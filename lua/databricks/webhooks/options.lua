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

--- Defaults applied when no source gives a value (seconds). 60 s and 300 s
-- are the SDKs' `http_timeout_seconds` and `retry_timeout_seconds` defaults;
-- 30 s is the Go SDK's dial timeout.
M.DEFAULTS = {
  timeout = 60,
  connect_timeout = 30,
  retry_timeout = 300,
  verify_tls = true,
  debug = false,
  allow_insecure_http = false,
}

-- Environment variables, in the order of the Python SDK's attribute list (it
-- is also the order of the "Env:" part of diagnostic messages).
M.ENV_VARS = {
  { option = "host", env = "DATABRICKS_HOST" },
  { option = "workspace_id", env = "DATABRICKS_WORKSPACE_ID" },
  { option = "token", env = "DATABRICKS_TOKEN" },
  { option = "client_id", env = "DATABRICKS_CLIENT_ID" },
  { option = "client_secret", env = "DATABRICKS_CLIENT_SECRET" },
  { option = "profile", env = "DATABRICKS_CONFIG_PROFILE" },
  { option = "config_file", env = "DATABRICKS_CONFIG_FILE" },
  { option = "auth_type", env = "DATABRICKS_AUTH_TYPE" },
  { option = "token_audience", env = "DATABRICKS_TOKEN_AUDIENCE" },
  { option = "oidc_token_env", env = "DATABRICKS_OIDC_TOKEN_ENV" },
  { option = "oidc_token_filepath", env = "DATABRICKS_OIDC_TOKEN_FILEPATH" },
  { option = "oidc_token_filepath", env = "DATABRICKS_OIDC_TOKEN_FILE" }, -- the SDK's alias
  { option = "username", env = "DATABRICKS_USERNAME" },
  { option = "password", env = "DATABRICKS_PASSWORD" },
  { option = "azure_client_secret", env = "ARM_CLIENT_SECRET" },
  { option = "azure_client_id", env = "ARM_CLIENT_ID" },
  { option = "azure_tenant_id", env = "ARM_TENANT_ID" },
  { option = "databricks_cli_path", env = "DATABRICKS_CLI_PATH" },
  { option = "metadata_service_url", env = "DATABRICKS_METADATA_SERVICE_URL" },
  { option = "rate_limit", env = "DATABRICKS_RATE_LIMIT" },
}

-- Keys read from a config-file profile, and the option each one fills. The
-- names are the SDK attribute names, so a file written for the CLI or the
-- SDKs works unchanged. Other keys (`account_id`, `cluster_id`,
-- `jobs-api-version`, ...) are ignored, as the Go SDK ignores keys it has no
-- attribute for. `skip_verify` is deliberately not honoured: a file shared with other
-- tools should not silently turn off TLS verification here (use the
-- `verify_tls` option). There are no environment variables for the two
-- timeouts in any SDK; the file and `opts` are the only sources.
M.FILE_KEYS = {
  { key = "host", option = "host" },
  { key = "workspace_id", option = "workspace_id" },
  { key = "token", option = "token" },
  { key = "client_id", option = "client_id" },
  { key = "client_secret", option = "client_secret" },
  { key = "auth_type", option = "auth_type" },
  { key = "token_audience", option = "token_audience" },
  { key = "oidc_token_env", option = "oidc_token_env" },
  { key = "oidc_token_filepath", option = "oidc_token_filepath" },
  { key = "username", option = "username" },
  { key = "password", option = "password" },
  { key = "azure_client_secret", option = "azure_client_secret" },
  { key = "azure_client_id", option = "azure_client_id" },
  { key = "azure_tenant_id", option = "azure_tenant_id" },
  { key = "databricks_cli_path", option = "databricks_cli_path" },
  { key = "metadata_service_url", option = "metadata_service_url" },
  { key = "scopes", option = "scopes" },
  { key = "http_timeout_seconds", option = "timeout" },
  { key = "retry_timeout_seconds", option = "retry_timeout" },
  { key = "rate_limit", option = "rate_limit" },
}

-- Attributes shown in the "Config:" part of diagnostic messages, in the
-- Python SDK's attribute order. Sensitive ones are shown as `***`.
M.DESCRIBED = {
  { name = "host" },
  { name = "workspace_id" },
  { name = "token", sensitive = true },
  { name = "client_id" },
  { name = "client_secret", sensitive = true },
  { name = "profile" },
  { name = "config_file" },
  { name = "auth_type" },
  { name = "username" },
  { name = "password", sensitive = true },
  { name = "azure_client_secret", sensitive = true },
  { name = "azure_client_id" },
  { name = "azure_tenant_id" },
  { name = "metadata_service_url", sensitive = true },
  { name = "oidc_token_filepath" },
}

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

-- Every option, in the order they are checked (so the first error reported
-- does not depend on `pairs` order).
local OPTIONS = {
  { "api", check_api },
  { "host", check_nonempty_string },
  { "deployment_name", check_deployment_name },
  { "token", check_nonempty_string },
  { "client_id", check_nonempty_string },
  { "client_secret", check_nonempty_string },
  { "auth_type", check_auth_type },
  { "username", check_nonempty_string },
  { "password", check_nonempty_string },
  { "azure_client_id", check_nonempty_string },
  { "azure_client_secret", check_nonempty_string },
  { "azure_tenant_id", check_nonempty_string },
  { "azure_login_host", check_nonempty_string },
  { "metadata_service_url", check_nonempty_string },
  { "oidc_token_env", check_nonempty_string },
  { "oidc_token_filepath", check_nonempty_string },
  { "token_audience", check_nonempty_string },
  { "databricks_cli_path", check_nonempty_string },
  { "scopes", check_scopes },
  { "profile", check_nonempty_string },
  { "config_file", check_nonempty_string },
  { "timeout", check_positive },
  { "connect_timeout", check_positive },
  { "retry_timeout", check_non_negative },
  { "rate_limit", check_rate },
  { "verify_tls", check_boolean },
  { "ca_file", check_nonempty_string },
  { "proxy", check_proxy },
  { "user_agent", check_user_agent },
  { "debug", check_debug },
  { "allow_insecure_http", check_boolean },
  { "workspace_id", check_workspace_id },
  { "transport", check_transport },
  { "max_response_bytes", check_count },
  { "max_response_values", check_count },
}

local CHECKERS = {}

--- Every option with its checker, in the order they are checked: `{ name, check }`.
M.LIST = OPTIONS
--- The set of accepted option names: `KNOWN[name] == true`.
M.KNOWN = {}
for _, o in ipairs(OPTIONS) do
  M.KNOWN[o[1]] = true
  CHECKERS[o[1]] = o[2]
end

-- The settings of the connection itself, the same for every API family.
local CONNECTION = { "timeout", "connect_timeout", "retry_timeout", "rate_limit", "verify_tls", "ca_file",
  "proxy", "user_agent", "debug", "allow_insecure_http", "transport", "max_response_bytes",
  "max_response_values" }

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
