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

local type, pairs, ipairs = type, pairs, ipairs
local tostring, error = tostring, error
local os_getenv = os.getenv
local table_concat, table_sort = table.concat, table.sort
local math_floor = math.floor

local host_url = require("databricks.webhooks.host")
local profile_file = require("databricks.webhooks.profile")

local M = {}

--- Normalise a workspace host the way the SDKs do (see `databricks.webhooks.host`).
M.normalize_host = host_url.normalize
--- Whether a host name is a loopback address (see `databricks.webhooks.host`).
M.is_loopback = host_url.is_loopback
--- Parse the text of a `.databrickscfg` file (see `databricks.webhooks.profile`).
M.parse_file = profile_file.parse

local options = require("databricks.webhooks.options")
local auth_kinds = require("databricks.webhooks.auth_kinds")

local ENV_VARS, FILE_KEYS, DESCRIBED = options.ENV_VARS, options.FILE_KEYS, options.DESCRIBED
local OPTIONS, from_text = options.LIST, options.from_text
local any_auth_configured, choose_auth = options.any_auth_configured, auth_kinds.choose

--- Defaults applied when no source gives a value (see `databricks.webhooks.options`).
M.DEFAULTS = options.DEFAULTS
--- The set of accepted option names: `KNOWN_OPTIONS[name] == true`.
M.KNOWN_OPTIONS = options.KNOWN
--- The auth kinds this client supports, in the SDKs' default-chain order.
M.AUTH_ORDER = auth_kinds.ORDER

local function fail(code, message)
  return nil, { error_code = code, message = message }
end

local function invalid(message)
  return fail("INVALID_PARAMETER_VALUE", message)
end

-- The documentation link every SDK puts in its "no credentials" message.
local AUTH_DOC_URL =
  "https://docs.databricks.com/en/dev-tools/auth.html#databricks-client-unified-authentication"

-- Suffix of the generated host for `deployment_name` (AWS workspaces). No SDK
-- has this shorthand; it is this library's own extension.
local DEPLOYMENT_DOMAIN = ".cloud.databricks.com"

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

-- The attribute that names each kind's credential, in the order looked at.
local CREDENTIAL_ATTRS = { "token", "client_id", "username", "metadata_service_url", "azure_client_id",
  "oidc_token_filepath", "oidc_token", "databricks_cli_path" }

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

-- How to set a host, naming the config file that was (or would be) read.
local function no_host_hint(config_file, skipped, getenv)
  local given = config_file or "~/.databrickscfg"
  local path = profile_file.expand_home(given, getenv) or given
  return " (set DATABRICKS_HOST, the host option, or a profile with a host in " .. path
    .. (skipped and ", which is read only when no credentials are given or a profile is named)" or ")")
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
-- @tparam[opt] boolean no_debug_string true: no `debug_string` in the settings
-- @treturn[1] table settings: `host`, `auth_type`, `token`, `client_id`,
--   `client_secret` (only the credentials of the chosen `auth_type`),
--   `timeout`, `connect_timeout`, `retry_timeout`, `verify_tls`, `ca_file`,
--   `proxy`, `user_agent`, `debug`, `allow_insecure_http`, `workspace_id`
--   (a string), `transport`, `profile` (the profile read, or nil),
--   `config_file` (the path read, or nil) and `debug_string` (the SDK-style
--   "Config: ... Env: ..." description, secrets masked; left out when
--   `no_debug_string` is true: webhooks.new never reads it)
-- @treturn[2] nil
-- @treturn[2] table `{ error_code = "INVALID_PARAMETER_VALUE" | "UNAUTHENTICATED", message = ... }`
function M.resolve(opts, getenv, no_debug_string)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'new' (table expected, got " .. type(opts) .. ")", 3)
  end
  getenv = normalize_getenv(getenv)
  opts = opts or {}
  if opts.api == "mlflow" then
    return require("databricks.webhooks.config_mlflow").resolve(opts, getenv)
  end

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
  local vals_config_given = vals.config_file
  local file_skipped = not (named ~= nil or not any_auth_configured(vals))
  if not file_skipped then
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
  local host_is_http, host_assumed_https = false, false
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
    host_assumed_https = parts.assumed_https
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
    return invalid(with_debug("default auth: cannot configure default credentials: no host configured"
      .. no_host_hint(vals.config_file or vals_config_given, file_skipped, getenv), describe(vals, source)))
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

  -- Where the credential came from, for the message of a 401/403: the
  -- first credential attribute of the chosen kind that has a source.
  local credential_source
  for _, name in ipairs(CREDENTIAL_ATTRS) do
    local from = creds[name] ~= nil and source[name]
    if from then
      credential_source = name .. " from " .. (from == "opts" and ("the " .. name .. " option")
        or from == "file" and file_label or from)
      break
    end
  end
  local settings = {
    api = "databricks",
    host = vals.host,
    host_assumed_https = host_assumed_https,
    auth_type = auth_type,
    credential_source = credential_source,
    scopes = vals.scopes,
    workspace_id = vals.workspace_id,
    profile = profile_used,
    config_file = file_read,
  }
  -- Only the chosen kind's credentials go on (auth_kinds gives no others),
  -- so nothing downstream can send another kind's by mistake.
  for k, v in pairs(creds) do settings[k] = v end
  if not no_debug_string then settings.debug_string = describe(vals, source) end
  return options.connection_settings(vals, settings)
end

return M
