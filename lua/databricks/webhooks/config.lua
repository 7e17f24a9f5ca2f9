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

local type, pairs, ipairs, next = type, pairs, ipairs, next
local tostring, tonumber, error = tostring, tonumber, error
local io_open, os_getenv = io.open, os.getenv
local table_concat, table_sort = table.concat, table.sort
local math_floor, math_huge = math.floor, math.huge

local M = {}

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

-- The section name the SDKs reserve for settings such as `default_profile`.
local SETTINGS_SECTION = "__settings__"

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
  { key = "http_timeout_seconds", option = "timeout" },
  { key = "retry_timeout_seconds", option = "retry_timeout" },
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
}

local AUTH_TYPES = { ["pat"] = true, ["oauth-m2m"] = true }

-- ----------------------------------------------------------------------------
-- Small helpers
-- ----------------------------------------------------------------------------

-- Linear in #s: the pattern "%s+$" retries every blank of a run, so it takes
-- seconds on a long run of blanks inside a value.
local function trim(s)
  local from = s:find("%S")
  if not from then return "" end
  local to = #s
  while s:find("^%s", to) do to = to - 1 end
  return s:sub(from, to)
end

-- CR and LF would split an HTTP header, NUL would truncate it in C. The value
-- itself is never echoed: it may be a secret.
local function has_control_chars(s)
  return s:find("[\r\n]") ~= nil or s:find("\0", 1, true) ~= nil
end

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
    return nil, "unsupported value '" .. s .. "' (this client supports \"pat\" and \"oauth-m2m\")"
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

-- Every option, in the order they are checked (so the first error reported
-- does not depend on `pairs` order).
local OPTIONS = {
  { "host", check_nonempty_string },
  { "deployment_name", check_deployment_name },
  { "token", check_nonempty_string },
  { "client_id", check_nonempty_string },
  { "client_secret", check_nonempty_string },
  { "auth_type", check_auth_type },
  { "profile", check_nonempty_string },
  { "config_file", check_nonempty_string },
  { "timeout", check_positive },
  { "connect_timeout", check_positive },
  { "retry_timeout", check_non_negative },
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
  if option == "timeout" or option == "retry_timeout" or option == "connect_timeout" then
    local n = tonumber(trim(text))
    if n == nil then return nil, "must be a number (seconds)" end
    return CHECKERS[option](n)
  end
  return CHECKERS[option](text)
end

-- ----------------------------------------------------------------------------
-- Host normalisation
-- ----------------------------------------------------------------------------

-- Splits and checks a host URL. Returns a table { scheme, hostname, port,
-- path, workspace_id } or nil and a reason.
local function parse_host(s)
  if type(s) ~= "string" then
    return nil, "string expected, got " .. type(s)
  end
  if has_control_chars(s) then
    return nil, "must not contain control characters"
  end
  s = trim(s)
  -- Inside the URL, any control byte (a tab, ESC, DEL...): libcurl refuses it.
  if s:find("%c") then
    return nil, "must not contain control characters"
  end
  if s == "" then
    return nil, "must not be empty"
  end
  -- Python SDK `_fix_host_if_needed`: a value without "://" gets "https://".
  if not s:find("://", 1, true) then
    s = "https://" .. s
  end
  local scheme, rest = s:match("^([A-Za-z][0-9A-Za-z+.%-]*)://(.*)$")
  if not scheme then
    return nil, "is not a valid URL"
  end
  scheme = scheme:lower()
  if scheme ~= "https" and scheme ~= "http" then
    return nil, "unsupported scheme '" .. scheme .. "://' (use https://)"
  end
  -- A workspace URL copied from the browser often ends in "?o=<id>#...".
  -- Like the Go SDK (`fixHostIfNeeded`), drop the query and fragment and keep
  -- `o` / `workspace_id` as the workspace ID; the request paths are appended
  -- to the host, so a query left in it would corrupt every URL.
  local query
  local cut = rest:find("#", 1, true)
  if cut then rest = rest:sub(1, cut - 1) end
  cut = rest:find("?", 1, true)
  if cut then
    query = rest:sub(cut + 1)
    rest = rest:sub(1, cut - 1)
  end
  local authority, path = rest:match("^([^/]*)(.*)$")
  if authority:find("@", 1, true) then
    -- Not echoed: the user-info part is probably a password.
    return nil, "must not contain user information (use token or client_id/client_secret)"
  end
  local hostname, port
  if authority:sub(1, 1) == "[" then
    hostname, port = authority:match("^(%[[0-9A-Fa-f:.]+%])(.*)$")
    if not hostname then
      return nil, "has an invalid IPv6 address"
    end
  else
    hostname, port = authority:match("^([^:]*)(.*)$")
    if hostname == "" then
      return nil, "has no host name"
    end
    if not hostname:find("^[0-9A-Za-z_.%-]+$") then
      return nil, "has an invalid host name"
    end
  end
  if port ~= "" then
    local digits = port:match("^:(%d+)$")
    local number = digits and tonumber(digits)
    if not number or number < 1 or number > 65535 then
      return nil, "has an invalid port"
    end
    -- Python SDK: an explicit default port is dropped, so
    -- "https://x:443" and "https://x" are the same workspace.
    if scheme == "https" and number == 443 then
      port = ""
    else
      port = ":" .. tostring(number)
    end
  end
  -- Python SDK: trailing slashes go, any other path is kept (a workspace
  -- behind a path-routing proxy needs it). Go would drop the path.
  local last = #path
  while path:byte(last) == 47 do last = last - 1 end -- "/"; not "/+$", quadratic in the run
  path = path:sub(1, last)
  if path:find("%s") then
    return nil, "has an invalid path"
  end
  local workspace_id
  if query then
    -- What gmatch("([^&=]+)=([^&]*)") finds, pair by pair: that pattern is
    -- quadratic in a long run without '='.
    for pair in query:gmatch("[^&]+") do
      local from = pair:find("[^=]")
      local eq = from and pair:find("=", from, true)
      if eq then
        local k, v = pair:sub(from, eq - 1), pair:sub(eq + 1)
        if (k == "o" or k == "workspace_id") and v:find("^%d+$") then
          workspace_id = v
        end
      end
    end
  end
  return {
    scheme = scheme,
    hostname = hostname,
    port = port,
    path = path,
    workspace_id = workspace_id,
  }
end

--- Normalise a workspace host the way the SDKs do.
--
-- Trims whitespace, adds `https://` when there is no `://`, drops trailing
-- `/`s, an explicit `:443` on https, and any `?query`/`#fragment`; keeps any
-- other path. Rejects schemes other than http and https, empty hosts, and
-- user information. Does not apply the http policy (see `resolve`).
-- @tparam string s the host as given
-- @treturn[1] string the normalised URL, e.g. `https://dbc-x.cloud.databricks.com`
-- @treturn[1] string|nil the workspace ID found in `?o=` or `?workspace_id=`
-- @treturn[2] nil
-- @treturn[2] string the reason (no option name prefixed)
function M.normalize_host(s)
  local parts, why = parse_host(s)
  if not parts then return nil, why end
  return parts.scheme .. "://" .. parts.hostname .. parts.port .. parts.path, parts.workspace_id
end

--- Whether a host name (as in a URL, IPv6 in brackets) is a loopback address:
-- `localhost`, `127.0.0.0/8`, or `[::1]`.
-- @tparam string hostname
-- @treturn boolean
function M.is_loopback(hostname)
  if type(hostname) ~= "string" then return false end
  local h = hostname:lower()
  if h == "localhost" or h == "[::1]" then return true end
  local a, b, c, d = h:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, octet in ipairs({ a, b, c, d }) do
    if #octet > 3 or tonumber(octet) > 255 then return false end
  end
  return tonumber(a) == 127
end

-- ----------------------------------------------------------------------------
-- Config file
-- ----------------------------------------------------------------------------

-- Go `hasSurroundedQuote` (gopkg.in/ini.v1): the value is wrapped in one kind
-- of quote that appears nowhere else in it.
local function unquote(v)
  local n = #v
  if n >= 2 then
    local q = v:sub(1, 1)
    if (q == '"' or q == "'") and v:sub(n, n) == q and not v:sub(2, n - 1):find(q, 1, true) then
      return v:sub(2, n - 1)
    end
  end
  return v
end

--- Parse the text of a `.databrickscfg` file.
--
-- The format is the INI dialect the SDKs read (Go: gopkg.in/ini.v1 with
-- `SpaceBeforeInlineComment`; Python: configparser):
--
-- * `[name]` starts a section; the name is everything up to the last `]`,
--   kept verbatim (dots and spaces allowed); repeated sections are merged;
-- * `key = value` or `key: value` (the first `=` or `:` splits); keys are
--   trimmed and lower-cased (configparser), values trimmed;
-- * blank lines and lines starting with `#` or `;` are ignored;
-- * an inline comment starts only at a `#` or `;` preceded by whitespace, so
--   `token = abc#def` keeps its `#` ("Passwords may contain '#'", go#594);
-- * a value wrapped in matching `"` or `'` is unwrapped (Go);
-- * lines before the first section belong to `DEFAULT`; later duplicate keys
--   win; a UTF-8 byte order mark and CRLF line ends are accepted.
--
-- Continuation lines and `"""` multi-line values are not supported. Sections
-- with no keys are present as empty tables.
-- @tparam string text
-- @treturn[1] table `{ [section] = { [key] = value } }`
-- @treturn[2] nil
-- @treturn[2] string `"line N: <what is wrong>"`; never the line's content,
--   which may hold a secret
function M.parse_file(text)
  if type(text) ~= "string" then
    error("bad argument #1 to 'parse_file' (string expected, got " .. type(text) .. ")", 2)
  end
  if text:sub(1, 3) == "\239\187\191" then
    text = text:sub(4)
  end
  local sections = {}
  local current = "DEFAULT"
  local lineno = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local line = trim(raw)
    local first = line:sub(1, 1)
    -- Blank lines and full-line comments carry nothing.
    local ignored = line == "" or first == "#" or first == ";"
    if first == "[" then
      -- Go reads the name up to the last "]" and ignores what follows it.
      local close = line:reverse():find("]", 1, true) -- the last "]" (".*()%]" is quadratic)
      if close then close = #line - close + 1 end
      if not close then
        return nil, "line " .. lineno .. ": unclosed section header"
      end
      local name = line:sub(2, close - 1)
      if name == "" then
        return nil, "line " .. lineno .. ": empty section name"
      end
      current = name
      sections[name] = sections[name] or {}
    elseif not ignored then
      local at = line:find("[=:]")
      if not at then
        return nil, "line " .. lineno .. ": expected 'key = value', 'key: value' or '[section]'"
      end
      local key = trim(line:sub(1, at - 1)):lower()
      if key == "" then
        return nil, "line " .. lineno .. ": missing key name"
      end
      local value = trim(line:sub(at + 1))
      local comment = value:find("%s[#;]")
      if comment then
        value = trim(value:sub(1, comment - 1))
      end
      local section = sections[current]
      if not section then
        section = {}
        sections[current] = section
      end
      section[key] = unquote(value)
    end
  end
  return sections
end

-- `~` and `~/...` become the home directory (Go `KnownConfigLoader`, Python
-- `expanduser`). `~user` is left alone. Returns nil when HOME is unknown.
local function expand_home(path, getenv)
  if path == "~" or path:find("^~[/\\]") then
    local home = getenv("HOME")
    if home == nil or home == "" then
      home = getenv("USERPROFILE") -- Windows, as Go's os.UserHomeDir
    end
    if home == nil or home == "" then
      return nil
    end
    return home .. path:sub(2)
  end
  return path
end

local ENOENT = 2 -- the same value on Linux, the BSDs, macOS and Windows

-- Returns text, or nil and a reason, or nil, nil, true when the file does not
-- exist. A directory opens fine on POSIX and fails on read, hence both checks.
local function read_file(path)
  local f, msg, code = io_open(path, "rb")
  if not f then
    if code == ENOENT or (code == nil and tostring(msg):find("No such file", 1, true)) then
      return nil, nil, true
    end
    -- io.open says "<path>: <reason>"; the caller names the path itself.
    msg = tostring(msg)
    if msg:sub(1, #path + 2) == path .. ": " then
      msg = msg:sub(#path + 3)
    end
    return nil, msg
  end
  local text, rmsg = f:read("*a")
  f:close()
  if not text then
    return nil, tostring(rmsg)
  end
  return text
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
  local skip = named == nil
    and (vals.host ~= nil or vals.token ~= nil or vals.client_id ~= nil or vals.client_secret ~= nil)
  if not skip then
    local given = vals.config_file or "~/.databrickscfg"
    local path = expand_home(given, getenv)
    local text, why, missing
    if path == nil then
      -- No home directory: there is no default file to read.
      if named then
        return invalid("resolve: cannot load the " .. named .. " profile: cannot expand ~ in "
          .. given .. " (HOME is not set)")
      end
      missing = true
    else
      text, why, missing = read_file(path)
    end
    if missing then
      -- The SDKs ignore a missing file even then, and fail later with "no
      -- credentials"; naming the file is the more useful error here.
      if named then
        return invalid("resolve: cannot load the " .. named .. " profile: " .. path .. " does not exist")
      end
    elseif text == nil then
      return invalid("resolve: cannot read config file " .. path .. ": " .. why)
    else
      local sections, perr = M.parse_file(text)
      if not sections then
        return invalid("resolve: cannot parse config file " .. path .. ": " .. perr)
      end
      file_read = path
      -- Profile choice (Python `_known_file_config_loader`, Go
      -- `resolveProfile`): the named profile, else
      -- `[__settings__] default_profile`, else DEFAULT as a fallback.
      local profile, fallback = named, false
      if not profile then
        local st = sections[SETTINGS_SECTION]
        local dp = st and st.default_profile and trim(st.default_profile) or ""
        if dp ~= "" then
          profile = dp
        else
          profile, fallback = "DEFAULT", true
        end
      end
      -- `__settings__` is reserved, not a profile. A section with no keys
      -- counts as absent (Go: `len(profileValues.Keys()) == 0`). DEFAULT's
      -- keys are never merged into another profile (Python reads
      -- `_sections`: "In Go SDK, we skip merging the profile with DEFAULT").
      local section = profile ~= SETTINGS_SECTION and sections[profile] or nil
      local absent = section == nil or next(section) == nil
      if absent and not fallback then
        return invalid("resolve: " .. path .. " has no " .. profile .. " profile configured")
      end
      -- A profile's credentials belong to its own host: a named profile whose
      -- host differs from the one given is refused (the Databricks CLI's
      -- "host mismatch"), so its token never goes to another workspace.
      if named and not absent and vals.host and section.host and section.host ~= "" then
        local given_host = M.normalize_host(vals.host)
        local file_host = M.normalize_host(section.host)
        if given_host and file_host and given_host:lower() ~= file_host:lower() then
          return invalid("resolve: host mismatch: " .. label("host") .. " is " .. given_host .. " but the "
            .. profile .. " profile of " .. path .. " is for " .. file_host)
        end
      end
      if not absent then
        warn_if_readable(path, vals.debug)
      end
      -- A missing DEFAULT is not an error: nothing is taken from the file.
      if not absent then
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
  end
  vals.profile = profile_used
  vals.config_file = file_read

  -- 4. Host (Python `_fix_host_if_needed` runs after all the loaders).
  local host_is_http = false
  if vals.host then
    local parts, why = parse_host(vals.host)
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
  local auth_type = vals.auth_type

  if auth_type == nil and has_pat and has_oauth then
    -- Go `attributes.Validate`: method names sorted, joined with " and ".
    return invalid(with_debug("validate: more than one authorization method configured: oauth and pat",
      describe(vals, source)))
  end
  if vals.host == nil then
    return invalid(with_debug("default auth: cannot configure default credentials: no host configured",
      describe(vals, source)))
  end

  local missing_why
  if auth_type == nil then
    if has_pat then
      auth_type = "pat"
    elseif has_oauth then
      auth_type = "oauth-m2m"
    end
  end
  if auth_type == "pat" then
    if not has_pat then
      missing_why = "auth_type is pat but no token is configured"
    end
  elseif auth_type == "oauth-m2m" then
    if vals.client_id == nil or vals.client_secret == nil then
      missing_why = "oauth-m2m needs both client_id and client_secret, but "
        .. (vals.client_id == nil and "client_id" or "client_secret") .. " is not configured"
    end
  else
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
    token = auth_type == "pat" and vals.token or nil,
    client_id = auth_type == "oauth-m2m" and vals.client_id or nil,
    client_secret = auth_type == "oauth-m2m" and vals.client_secret or nil,
    timeout = pick("timeout"),
    connect_timeout = pick("connect_timeout"),
    retry_timeout = pick("retry_timeout"),
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
