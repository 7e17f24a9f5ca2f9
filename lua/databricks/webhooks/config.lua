--- Client settings: `opts`, then the environment, then one `.databrickscfg` profile.
--
-- This module turns the table a user hands to `webhooks.new(opts)` into the
-- resolved settings the client runs with. It is pure Lua (5.1 to 5.4 and
-- LuaJIT), keeps no state, and does no I/O except reading the config file.
--
-- Resolution follows the official SDKs' "unified authentication" (Python
-- `databricks/sdk/config.py` `Config.__init__`, Go `config/config.go`):
--
-- 1. `opts` are validated (unknown names, types, values, control characters);
-- 2. environment variables fill only what is still unset (empty values are
--    ignored);
-- 3. one profile of the config file fills only what is still unset; the file
--    is not read at all when no profile was named and a host or a credential
--    is already set;
-- 4. the host is normalised, then the authentication method is chosen and
--    checked.
--
-- Every failure is returned as `nil, { error_code = ..., message = ... }`;
-- the caller attaches the shared error metatable. Messages never contain a
-- token or a client secret (they are masked as three asterisks, as the SDKs do), nor a
-- line of the config file (any line may hold a secret).
--
-- @module databricks.webhooks.config

local type, pairs, ipairs, select = type, pairs, ipairs, select
local tostring, tonumber, error = tostring, tonumber, error
local os_getenv = os.getenv
local table_concat, table_sort = table.concat, table.sort
local math_floor, math_huge = math.floor, math.huge

local host_url = require("databricks.webhooks.host")
local profile_file = require("databricks.webhooks.profile")

local M = {}

--- Normalise a workspace host the way the SDKs do (see `databricks.webhooks.host`).
M.normalize_host = host_url.normalize
--- Whether a host name is a loopback address (see `databricks.webhooks.host`).
M.is_loopback = host_url.is_loopback
--- Parse the text of a `.databrickscfg` file (see `databricks.webhooks.profile`).
M.parse_file = profile_file.parse

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

-- The documentation link every SDK puts in its "no credentials" message.
local AUTH_DOC_URL =
  "https://docs.databricks.com/en/dev-tools/auth.html#databricks-client-unified-authentication"

-- Suffix of the generated host for `deployment_name` (AWS workspaces). No SDK
-- has this shorthand; it is this library's own extension.
local DEPLOYMENT_DOMAIN = ".cloud.databricks.com"

-- Environment variables, in the order of the Python SDK's attribute list (it
-- is also the order of the "Env:" part of diagnostic messages).
local ENV_VARS = {
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
local FILE_KEYS = {
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
local DESCRIBED = {
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

-- The kinds this client supports, in the order of the SDKs' default chain
-- (Python credentials_provider.py DefaultCredentials._auth_providers).
local AUTH_ORDER = { "pat", "basic", "metadata-service", "oauth-m2m", "env-oidc", "file-oidc", "github-oidc",
  "azure-client-secret", "databricks-cli" }
M.AUTH_ORDER = AUTH_ORDER
local AUTH_TYPES = {}
for _, name in ipairs(AUTH_ORDER) do AUTH_TYPES[name] = true end

-- ----------------------------------------------------------------------------
-- Small helpers
-- ----------------------------------------------------------------------------

local trim = host_url.trim

local has_control_chars = host_url.has_control_chars

local function is_finite_number(v)
  -- v ~= v only for NaN; a timeout of math.huge would overflow in C.
  return type(v) == "number" and v == v and v ~= math_huge and v ~= -math_huge
end

local function fail(code, message)
  return nil, { error_code = code, message = message }
end

local function invalid(message)
  return fail("INVALID_PARAMETER_VALUE", message)
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
  if not is_finite_number(v) or v < 1 or v ~= math_floor(v) or v > 2 ^ 53 then
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

-- Workspace IDs are decimal numbers. Numbers are kept as strings so that
-- 16-digit IDs survive Lua 5.1's doubles and are sent verbatim in headers.
local function check_workspace_id(v)
  if type(v) == "number" then
    if not is_finite_number(v) or v < 0 or v ~= math_floor(v) or v >= 2 ^ 53 then
      return nil, "must be a non-negative integer or a string of digits"
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
  if not s:find("^%d+$") then
    return nil, "must be a non-negative integer or a string of digits"
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

-- Every option, in the order they are checked (so the first error reported
-- does not depend on `pairs` order).
local OPTIONS = {
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

--- The set of accepted option names: `KNOWN_OPTIONS[name] == true`.
M.KNOWN_OPTIONS = {}
for _, o in ipairs(OPTIONS) do
  M.KNOWN_OPTIONS[o[1]] = true
  CHECKERS[o[1]] = o[2]
end

-- Values read from the environment or the file are strings; these turn them
-- into the option's type before the option's own checker runs.
local function from_text(option, text)
  if option == "timeout" or option == "retry_timeout" or option == "connect_timeout"
    or option == "rate_limit" then
    local n = tonumber(trim(text))
    if n == nil then return nil, "must be a number" .. (option == "rate_limit" and "" or " (seconds)") end
    return CHECKERS[option](n)
  end
  return CHECKERS[option](text)
end

-- ----------------------------------------------------------------------------
-- Resolution
-- ----------------------------------------------------------------------------

-- Builds "Config: a=1, token=***. Env: DATABRICKS_HOST" (Go
-- `attributes.DebugString`, Python `Config.debug_string`). Unlike the SDKs
-- the profile and file actually read are listed even when not named, and
-- only the environment variables whose value is in effect are named (so
-- DATABRICKS_CONFIG_FILE is not named when the file was skipped).
local function describe(vals, source)
  local parts, buf, used_env = {}, {}, {}
  for _, attr in ipairs(DESCRIBED) do
    local v = vals[attr.name]
    if v ~= nil then
      parts[#parts + 1] = attr.name .. "=" .. (attr.sensitive and "***" or tostring(v))
    end
  end
  if #parts > 0 then
    buf[#buf + 1] = "Config: " .. table_concat(parts, ", ")
  end
  for _, e in ipairs(ENV_VARS) do
    if source[e.option] == e.env and vals[e.option] ~= nil then
      used_env[#used_env + 1] = e.env
    end
  end
  if #used_env > 0 then
    buf[#buf + 1] = "Env: " .. table_concat(used_env, ", ")
  end
  return table_concat(buf, ". ")
end

-- Python `Config.wrap_debug_info`.
local function with_debug(message, debug_string)
  if debug_string == "" then return message end
  return (message:gsub("%.$", "")) .. ". " .. debug_string
end

-- Config files hold tokens: one readable by group or others is worth a
-- warning, once per file and process (as the Databricks CLI warns). It goes
-- to the debug hook when there is one, to stderr otherwise. The mode comes
-- from stat(2) in the C core; without the core there is no check.
local warned = {}
local function warn_if_readable(path, debug)
  if warned[path] then return end
  local ok, core = pcall(require, "databricks.webhooks.core")
  local mode = ok and type(core) == "table" and core.file_mode and core.file_mode(path)
  if type(mode) ~= "number" then return end
  local group_read = math_floor(mode / 32) % 2 == 1
  local other_read = math_floor(mode / 4) % 2 == 1
  if not group_read and not other_read then return end
  warned[path] = true
  local line = ("databricks.webhooks: warning: %s is readable by %s (mode %03o); it holds credentials:"
    .. " chmod 600 it"):format(path, group_read and other_read and "group and others"
    or group_read and "group" or "others", mode % 512)
  if type(debug) == "function" then
    debug(line)
  else
    io.stderr:write(line, "\n")
  end
end

-- Python `_known_file_config_loader` and Go `configFileLoader`: "skip
-- loading configuration file if there's any auth configured directly", so a
-- token meant for one workspace is never paired with another workspace's host
-- (go#304).
local AUTH_KEYS = { "host", "token", "client_id", "client_secret", "username", "password", "azure_client_id",
  "azure_client_secret", "azure_tenant_id", "metadata_service_url", "oidc_token_filepath", "oidc_token_env" }
local function any_auth_configured(vals)
  for _, k in ipairs(AUTH_KEYS) do
    if vals[k] ~= nil then return true end
  end
  return false
end

-- Reads the config file and picks the profile. Returns the path read (false
-- when there was no file), the profile name and its keys (nil: nothing to
-- take, e.g. no DEFAULT), or nil and the message.
local function read_profile(named, config_file, getenv)
  local given = config_file or "~/.databrickscfg"
  local path = profile_file.expand_home(given, getenv)
  if path == nil then
    -- No home directory: there is no default file to read.
    if named then
      return nil, "resolve: cannot load the " .. named .. " profile: cannot expand ~ in "
        .. given .. " (HOME is not set)"
    end
    return false
  end
  local text, why, missing = profile_file.read(path)
  if missing then
    -- The SDKs ignore a missing file even then, and fail later with "no
    -- credentials"; naming the file is the more useful error here.
    if named then
      return nil, "resolve: cannot load the " .. named .. " profile: " .. path .. " does not exist"
    end
    return false
  end
  if text == nil then
    return nil, "resolve: cannot read config file " .. path .. ": " .. why
  end
  local sections, perr = profile_file.parse(text)
  if not sections then
    return nil, "resolve: cannot parse config file " .. path .. ": " .. perr
  end
  local profile, section = profile_file.choose(sections, named)
  if profile == nil then
    return nil, "resolve: " .. path .. " " .. section
  end
  return path, profile, section
end

-- The credentials each kind needs, in the SDKs' default-chain order (Python
-- credentials_provider.py DefaultCredentials). Each returns its credentials
-- when configured, or nil and (when forced by auth_type) what is missing.
local KINDS = {
  pat = function(v)
    if v.token then return { token = v.token } end
    return nil, "auth_type is pat but no token is configured"
  end,
  basic = function(v)
    if v.username and v.password then return { username = v.username, password = v.password } end
    return nil, "basic needs both username and password"
  end,
  ["metadata-service"] = function(v)
    if v.metadata_service_url then return { metadata_service_url = v.metadata_service_url } end
    return nil, "metadata-service needs metadata_service_url (DATABRICKS_METADATA_SERVICE_URL)"
  end,
  ["oauth-m2m"] = function(v)
    if v.client_id and v.client_secret then return { client_id = v.client_id, client_secret = v.client_secret } end
    return nil, "oauth-m2m needs both client_id and client_secret, but "
      .. (v.client_id == nil and "client_id" or "client_secret") .. " is not configured"
  end,
  -- Python env_oidc: DATABRICKS_OIDC_TOKEN, or the variable oidc_token_env names.
  ["env-oidc"] = function(v, getenv)
    local name = v.oidc_token_env or "DATABRICKS_OIDC_TOKEN"
    local t = getenv(name)
    if type(t) == "string" and t ~= "" then
      return { oidc_token = t, client_id = v.client_id }
    end
    return nil, "env-oidc needs an identity token in " .. name
  end,
  ["file-oidc"] = function(v)
    if v.oidc_token_filepath then return { oidc_token_filepath = v.oidc_token_filepath, client_id = v.client_id } end
    return nil, "file-oidc needs oidc_token_filepath (DATABRICKS_OIDC_TOKEN_FILEPATH)"
  end,
  -- Python github_oidc (["host", "client_id"]) with GitHubOIDCTokenSupplier's variables.
  ["github-oidc"] = function(v, getenv)
    local url, tok = getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if v.client_id and url and url ~= "" and tok and tok ~= "" then
      return { client_id = v.client_id, id_token_request_url = url, id_token_request_token = tok,
        token_audience = v.token_audience }
    end
    return nil, "github-oidc needs client_id and GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL and"
      .. " ACTIONS_ID_TOKEN_REQUEST_TOKEN"
  end,
  -- Python azure_service_principal (["azure_client_id", "azure_client_secret"]); the
  -- tenant is required here (no lookup through the workspace's /aad/auth).
  ["azure-client-secret"] = function(v)
    if v.azure_client_id and v.azure_client_secret and v.azure_tenant_id then
      return { azure_client_id = v.azure_client_id, azure_client_secret = v.azure_client_secret,
        azure_tenant_id = v.azure_tenant_id, azure_login_host = v.azure_login_host }
    end
    return nil, "azure-client-secret needs azure_client_id, azure_client_secret and azure_tenant_id"
      .. " (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID)"
  end,
  -- Only when asked for: the default chain does not run a process here.
  ["databricks-cli"] = function(v)
    return { databricks_cli_path = v.databricks_cli_path or "databricks" }
  end,
}

-- auth_type forces one kind; else the first configured one in the SDKs'
-- order. Returns the kind and its credentials, or nil and why.
local function choose_auth(vals, getenv)
  if vals.auth_type then
    local creds, why = KINDS[vals.auth_type](vals, getenv)
    if creds then return vals.auth_type, nil, creds end
    return nil, why
  end
  for _, name in ipairs(AUTH_ORDER) do
    if name ~= "databricks-cli" then
      local creds = KINDS[name](vals, getenv)
      if creds then return name, nil, creds end
    end
  end
  if vals.client_id or vals.client_secret then
    return nil, select(2, KINDS["oauth-m2m"](vals))
  end
  return nil
end

local function normalize_getenv(getenv)
  if getenv == nil then
    return os_getenv
  end
  if type(getenv) == "function" then
    return getenv
  end
  if type(getenv) == "table" then
    -- Convenience for tests: a plain table of variables.
    return function(name) return getenv[name] end
  end
  error("bad argument #2 to 'resolve' (function or table expected, got " .. type(getenv) .. ")", 3)
end

--- Resolve client settings from `opts`, the environment and the config file.
--
-- `opts` that is neither nil nor a table raises
-- `"bad argument #1 to 'new' (table expected, got <type>)"` at level 3, so
-- that the position is the caller of `webhooks.new`: the front must call
-- `resolve` directly from `new` (not as a tail call, which would drop the
-- frame).
--
-- @tparam[opt] table opts the options of `webhooks.new` (see KNOWN_OPTIONS)
-- @tparam[opt] function|table getenv `function(name) -> string|nil`, default
--   `os.getenv`; a table of variables is accepted too
-- @treturn[1] table settings: `host`, `auth_type`, `token`, `client_id`,
--   `client_secret` (only the credentials of the chosen `auth_type`),
--   `timeout`, `connect_timeout`, `retry_timeout`, `verify_tls`, `ca_file`,
--   `proxy`, `user_agent`, `debug`, `allow_insecure_http`, `workspace_id`
--   (a string), `transport`, `profile` (the profile read, or nil),
--   `config_file` (the path read, or nil) and `debug_string` (the SDK-style
--   "Config: ... Env: ..." description, secrets masked)
-- @treturn[2] nil
-- @treturn[2] table `{ error_code = "INVALID_PARAMETER_VALUE" | "UNAUTHENTICATED", message = ... }`
function M.resolve(opts, getenv)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'new' (table expected, got " .. type(opts) .. ")", 3)
  end
  getenv = normalize_getenv(getenv)
  opts = opts or {}

  local vals = {}    -- option name -> value
  local source = {}  -- option name -> "opts" | env var name | "file"
  local file_label   -- "<path> <profile> profile", for messages

  local function label(name)
    local from = source[name]
    if from == nil or from == "opts" then return name end
    if from == "file" then return name .. " (from " .. file_label .. ")" end
    return name .. " (from " .. from .. ")"
  end

  -- 1. opts: unknown names first, reported in a stable order.
  local unknown = {}
  for k in pairs(opts) do
    if not M.KNOWN_OPTIONS[k] then
      unknown[#unknown + 1] = (type(k) == "string") and k or ("[" .. tostring(k) .. "]")
    end
  end
  if #unknown > 0 then
    table_sort(unknown)
    return invalid(unknown[1] .. ": unknown option")
  end
  for _, o in ipairs(OPTIONS) do
    local name, check = o[1], o[2]
    local v = opts[name]
    if v ~= nil then
      local ok, why = check(v)
      if ok == nil then
        return invalid(name .. ": " .. why)
      end
      vals[name], source[name] = ok, "opts"
    end
  end

  -- deployment_name is only a way of writing host; both given must agree.
  if vals.deployment_name then
    local derived = "https://" .. vals.deployment_name .. DEPLOYMENT_DOMAIN
    if vals.host then
      -- Host names are case-insensitive; an invalid host is reported below.
      local a = M.normalize_host(vals.host)
      if a and a:lower() ~= derived:lower() then
        return invalid("deployment_name: conflicts with host (give only one of them)")
      end
    else
      vals.host, source.host = derived, "opts"
    end
    vals.deployment_name = nil
  end

  -- 2. The environment fills what is still unset; empty values are ignored
  -- (Python `_load_from_env`, Go `environmentVariableLoader`).
  for _, e in ipairs(ENV_VARS) do
    if vals[e.option] == nil then
      local v = getenv(e.env)
      if type(v) == "string" and v ~= "" then
        local ok, why = from_text(e.option, v)
        if ok == nil then
          return invalid(e.option .. " (from " .. e.env .. "): " .. why)
        end
        vals[e.option], source[e.option] = ok, e.env
      end
    end
  end

  -- 3. One profile of the config file. Python `_known_file_config_loader`
  -- and Go `configFileLoader`: "skip loading configuration file if there's
  -- any auth configured directly", so a token meant for one workspace is
  -- never paired with another workspace's host (go#304).
  local profile_used, file_read
  local named = vals.profile
  if named ~= nil or not any_auth_configured(vals) then
    local path, profile, section = read_profile(named, vals.config_file, getenv)
    if path == nil then return invalid(profile) end
    file_read = path or nil
    -- A profile's credentials belong to its own host: a named profile whose
    -- host differs from the one given is refused (the Databricks CLI's
    -- "host mismatch"), so its token never goes to another workspace.
    if named and section and vals.host and section.host and section.host ~= "" then
      local given_host = M.normalize_host(vals.host)
      local file_host = M.normalize_host(section.host)
      if given_host and file_host and given_host:lower() ~= file_host:lower() then
        return invalid("resolve: host mismatch: " .. label("host") .. " is " .. given_host .. " but the "
          .. profile .. " profile of " .. path .. " is for " .. file_host)
      end
    end
    -- A missing DEFAULT is not an error: nothing is taken from the file.
    if section then
      warn_if_readable(path, vals.debug)
      profile_used = profile
      file_label = path .. " " .. profile .. " profile"
      for _, fk in ipairs(FILE_KEYS) do
        local v = section[fk.key]
        if vals[fk.option] == nil and v ~= nil and v ~= "" then
          local ok, why2 = from_text(fk.option, v)
          if ok == nil then
            -- Go: "<path> <profile> profile: <error>".
            return invalid(file_label .. ": " .. fk.key .. ": " .. why2)
          end
          vals[fk.option], source[fk.option] = ok, "file"
        end
      end
    end
  end
  vals.profile = profile_used
  vals.config_file = file_read

  -- 4. Host (Python `_fix_host_if_needed` runs after all the loaders).
  local host_is_http = false
  if vals.host then
    local parts, why = host_url.parse(vals.host)
    if not parts then
      return invalid(label("host") .. ": " .. why)
    end
    vals.host = parts.scheme .. "://" .. parts.hostname .. parts.port .. parts.path
    if vals.workspace_id == nil and parts.workspace_id then
      vals.workspace_id = parts.workspace_id
    end
    host_is_http = parts.scheme == "http" and not M.is_loopback(parts.hostname)
  end
  if host_is_http and not vals.allow_insecure_http then
    return invalid(label("host") .. ": http:// sends the credentials in clear text;"
      .. " use https:// or set allow_insecure_http = true")
  end

  -- 5. Authentication. Checked in the Python SDK's order: `_validate` (two
  -- methods) before `init_auth` (host, credentials).
  local has_pat = vals.token ~= nil
  local has_oauth = vals.client_id ~= nil or vals.client_secret ~= nil
  if vals.auth_type == nil and has_pat and has_oauth then
    -- Go `attributes.Validate`: method names sorted, joined with " and ".
    return invalid(with_debug("validate: more than one authorization method configured: oauth and pat",
      describe(vals, source)))
  end
  if vals.host == nil then
    return invalid(with_debug("default auth: cannot configure default credentials: no host configured",
      describe(vals, source)))
  end

  local auth_type, missing_why, creds = choose_auth(vals, getenv)
  if auth_type == nil and missing_why == nil then
    missing_why = "cannot configure default credentials, please check " .. AUTH_DOC_URL
      .. " to configure credentials for your preferred authentication method"
  end
  if missing_why then
    return fail("UNAUTHENTICATED", with_debug("default auth: " .. missing_why, describe(vals, source)))
  end
  vals.auth_type = auth_type

  local defaults = M.DEFAULTS
  local function pick(name)
    local v = vals[name]
    if v == nil then return defaults[name] end
    return v
  end
  local settings = {
    host = vals.host,
    auth_type = auth_type,
    -- Only the chosen method's credentials go on, so nothing downstream can
    -- send the other kind by mistake.
    token = creds.token,
    client_id = creds.client_id,
    client_secret = creds.client_secret,
    username = creds.username,
    password = creds.password,
    metadata_service_url = creds.metadata_service_url,
    oidc_token = creds.oidc_token,
    oidc_token_filepath = creds.oidc_token_filepath,
    id_token_request_url = creds.id_token_request_url,
    id_token_request_token = creds.id_token_request_token,
    token_audience = creds.token_audience,
    azure_client_id = creds.azure_client_id,
    azure_client_secret = creds.azure_client_secret,
    azure_tenant_id = creds.azure_tenant_id,
    azure_login_host = creds.azure_login_host,
    databricks_cli_path = creds.databricks_cli_path,
    scopes = vals.scopes,
    timeout = pick("timeout"),
    connect_timeout = pick("connect_timeout"),
    retry_timeout = pick("retry_timeout"),
    rate_limit = vals.rate_limit,
    verify_tls = pick("verify_tls"),
    ca_file = vals.ca_file,
    proxy = vals.proxy,
    user_agent = vals.user_agent,
    debug = pick("debug"),
    allow_insecure_http = pick("allow_insecure_http"),
    workspace_id = vals.workspace_id,
    transport = vals.transport,
    max_response_bytes = vals.max_response_bytes,
    max_response_values = vals.max_response_values,
    profile = profile_used,
    config_file = file_read,
  }
  settings.debug_string = describe(vals, source)
  return settings
end

return M
