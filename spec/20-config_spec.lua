-- Specs for databricks.webhooks.config: opts -> environment -> .databrickscfg.
--
-- The environment is always a fake table passed to resolve(), so the real
-- environment (a developer's DATABRICKS_TOKEN, ~/.databrickscfg) never leaks
-- in. Config files are temporary files from os.tmpname().

package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path

local config = require("databricks.webhooks.config")

-- Secrets used throughout; no error message may ever contain one of them.
local TOKEN = "dapiOPTSsecret0000"
local SECRET = "doseOPTSsecret1111"
local ENV_TOKEN = "dapiENVsecret2222"
local ENV_SECRET = "doseENVsecret3333"
local FILE_TOKEN = "dapiFILE#secret;4444"
local FILE_SECRET = "doseFILEsecret5555"
local SECRETS = { TOKEN, SECRET, ENV_TOKEN, ENV_SECRET, FILE_TOKEN, FILE_SECRET, "dapiNOISE" }

local function assert_no_secret(text)
  for _, s in ipairs(SECRETS) do
    assert.is_nil(text:find(s, 1, true), "secret leaked into: " .. text)
  end
  -- Fragments too, in case a value was cut at a "#" or ";".
  assert.is_nil(text:find("OPTSsecret", 1, true))
  assert.is_nil(text:find("ENVsecret", 1, true))
  assert.is_nil(text:find("FILEsecret", 1, true))
  assert.is_nil(text:find("FILE#", 1, true))
end

-- resolve() with a hermetic environment; every error and every debug string
-- is checked for secrets, whatever the test is about.
local function resolve(opts, env)
  local settings, err = config.resolve(opts, env or {})
  if err then
    assert.is_table(err)
    assert.is_string(err.error_code)
    assert.is_string(err.message)
    assert_no_secret(err.message)
  else
    assert.is_table(settings)
    assert_no_secret(settings.debug_string)
  end
  return settings, err
end

local tmpfiles = {}

local function write_file(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  tmpfiles[#tmpfiles + 1] = path
  return path
end

local function missing_path()
  local path = os.tmpname()
  os.remove(path)
  return path
end

after_each(function()
  for i = #tmpfiles, 1, -1 do
    os.remove(tmpfiles[i])
    tmpfiles[i] = nil
  end
end)

describe("config.resolve: the opts argument", function()
  -- Stands in for webhooks.new: resolve must be called directly from it.
  local function new(opts)
    local settings, err = config.resolve(opts, {})
    return settings, err
  end

  it("accepts nil (and then needs a host)", function()
    local s, err = resolve(nil)
    assert.is_nil(s)
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
  end)

  for _, bad in ipairs({ "x", 42, true, function() end }) do
    it("raises for a " .. type(bad) .. ", pointing at the caller of new()", function()
      local ok, msg = pcall(function()
        local _ = new(bad)
      end)
      assert.is_false(ok)
      assert.is_string(msg)
      assert.matches("bad argument #1 to 'new' %(table expected, got " .. type(bad) .. "%)", msg)
      -- Level 3: the position is this spec file, not config.lua.
      assert.matches("^[^:]*20%-config_spec%.lua:%d+: ", msg)
    end)
  end

  it("raises for a getenv that is neither function nor table", function()
    assert.has_error(function() config.resolve({}, "env") end,
      "bad argument #2 to 'resolve' (function or table expected, got string)")
  end)

  it("accepts getenv as a function", function()
    local seen = {}
    local s = assert(config.resolve({}, function(name)
      seen[name] = true
      if name == "DATABRICKS_HOST" then return "h.example.com" end
      if name == "DATABRICKS_TOKEN" then return ENV_TOKEN end
      return nil
    end))
    assert.equal("https://h.example.com", s.host)
    assert.equal(ENV_TOKEN, s.token)
    assert.is_true(seen.DATABRICKS_CONFIG_PROFILE)
  end)

  it("rejects an unknown option, naming it but not its value", function()
    local _, err = resolve({ host = "h", token = TOKEN, tokn = "dapiNOISE" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("tokn: unknown option", err.message)
  end)

  it("reports the first unknown option in sorted order", function()
    local _, err = resolve({ zz = 1, aa = 2, [1] = 3 })
    assert.equal("[1]: unknown option", err.message)
    _, err = resolve({ zz = 1, aa = 2 })
    assert.equal("aa: unknown option", err.message)
  end)

  it("exposes KNOWN_OPTIONS as a set", function()
    local expected = {
      "host", "deployment_name", "token", "client_id", "client_secret", "auth_type", "profile",
      "config_file", "timeout", "connect_timeout", "retry_timeout", "verify_tls", "ca_file",
      "proxy", "user_agent", "debug", "allow_insecure_http", "workspace_id", "transport",
      "max_response_bytes", "max_response_values", "username", "password", "azure_client_id",
      "azure_client_secret", "azure_tenant_id", "azure_login_host", "metadata_service_url", "oidc_token_env",
      "oidc_token_filepath", "token_audience", "databricks_cli_path", "scopes", "rate_limit", "api",
    }
    local n = 0
    for k, v in pairs(config.KNOWN_OPTIONS) do
      n = n + 1
      assert.is_string(k)
      assert.is_true(v)
    end
    assert.equal(#expected, n)
    for _, name in ipairs(expected) do
      assert.is_true(config.KNOWN_OPTIONS[name], name)
    end
  end)
end)

describe("config.resolve: option types and values", function()
  local base = { host = "h.example.com", token = TOKEN }
  local function with(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end

  local cases = {
    { "host", 1, "host: string expected, got number" },
    { "deployment_name", {}, "deployment_name: string expected, got table" },
    { "token", 123, "token: string expected, got number" },
    { "client_id", true, "client_id: string expected, got boolean" },
    { "client_secret", 5, "client_secret: string expected, got number" },
    { "auth_type", 1, "auth_type: string expected, got number" },
    { "auth_type", "external-browser", "auth_type: unsupported value 'external-browser'" },
    { "auth_type", "azure-cli", "auth_type: unsupported value 'azure-cli'" },
    { "profile", 1, "profile: string expected, got number" },
    { "config_file", false, "config_file: string expected, got boolean" },
    { "timeout", "60", "timeout: number expected, got string" },
    { "timeout", 0, "timeout: must be a finite number greater than 0" },
    { "timeout", -1, "timeout: must be a finite number greater than 0" },
    { "timeout", 0 / 0, "timeout: must be a finite number greater than 0" },
    { "timeout", math.huge, "timeout: must be a finite number greater than 0" },
    { "connect_timeout", 0, "connect_timeout: must be a finite number greater than 0" },
    { "connect_timeout", "1", "connect_timeout: number expected, got string" },
    { "retry_timeout", -0.5, "retry_timeout: must be a finite number >= 0" },
    { "retry_timeout", "5", "retry_timeout: number expected, got string" },
    { "verify_tls", "false", "verify_tls: boolean expected, got string" },
    { "verify_tls", 0, "verify_tls: boolean expected, got number" },
    { "ca_file", 1, "ca_file: string expected, got number" },
    { "proxy", 1, "proxy: string expected, got number" },
    { "user_agent", 1, "user_agent: string expected, got number" },
    { "user_agent", "my(app)/1.0", "user_agent: must be space-separated" },
    { "user_agent", "app/1.0/extra", "user_agent: must be space-separated" },
    { "user_agent", " app/1.0", "user_agent: must be space-separated" },
    { "user_agent", "app/1.0 ", "user_agent: must be space-separated" },
    { "user_agent", "app/", "user_agent: must be space-separated" },
    { "user_agent", "app\t1", "user_agent: must be space-separated" },
    { "debug", "yes", "debug: boolean or function expected, got string" },
    { "allow_insecure_http", 1, "allow_insecure_http: boolean expected, got number" },
    { "workspace_id", 1.5, "workspace_id: must be a non-negative integer or a non-empty string" },
    { "workspace_id", -1, "workspace_id: must be a non-negative integer or a non-empty string" },
    { "workspace_id", true, "workspace_id: string or integer expected, got boolean" },
    { "transport", "curl", "transport: function or table expected, got string" },
    { "transport", {}, "transport: table must have a 'request' function" },
    { "transport", { request = "x" }, "transport: table must have a 'request' function" },
  }
  for _, c in ipairs(cases) do
    local name, value, expected = c[1], c[2], c[3]
    it(name .. " = " .. tostring(value) .. " is rejected", function()
      local s, err = resolve(with({ [name] = value }))
      assert.is_nil(s)
      assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
      assert.equal(1, err.message:find(expected, 1, true), err.message)
    end)
  end

  for _, name in ipairs({ "host", "token", "client_id", "client_secret", "profile",
                          "config_file", "ca_file" }) do
    it(name .. " = '' is rejected", function()
      local _, err = resolve(with({ [name] = "  " }))
      assert.equal(name .. ": must not be empty", err.message)
    end)
  end

  local string_options = { "host", "deployment_name", "token", "client_id", "client_secret",
    "auth_type", "profile", "config_file", "ca_file", "proxy", "user_agent", "workspace_id" }
  for _, name in ipairs(string_options) do
    for ctl_name, ctl in pairs({ CR = "\r", LF = "\n", NUL = "\0" }) do
      it(name .. " containing " .. ctl_name .. " is rejected", function()
        local value = "dapiNOISE" .. ctl .. "X-Injected: 1"
        local _, err = resolve(with({ [name] = value }))
        assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
        assert.equal(name .. ": must not contain control characters", err.message)
      end)
    end
  end

  it("accepts good user_agent values", function()
    for _, ua in ipairs({ "app/1.0", "app", "my-app/1.2.3-rc.1+build.5 other_thing/2 x",
                          "a  b/1" }) do
      local s, err = resolve(with({ user_agent = ua }))
      assert.is_nil(err, ua)
      assert.equal(ua, s.user_agent)
    end
  end)

  it("fills defaults", function()
    local s = assert(resolve(base))
    assert.equal("https://h.example.com", s.host)
    assert.equal("pat", s.auth_type)
    assert.equal(TOKEN, s.token)
    assert.equal(60, s.timeout)
    assert.equal(30, s.connect_timeout)
    assert.equal(300, s.retry_timeout)
    assert.is_true(s.verify_tls)
    assert.is_false(s.debug)
    assert.is_false(s.allow_insecure_http)
    assert.is_nil(s.ca_file)
    assert.is_nil(s.proxy)
    assert.is_nil(s.user_agent)
    assert.is_nil(s.workspace_id)
    assert.is_nil(s.transport)
    assert.is_nil(s.profile)
    assert.is_nil(s.config_file)
    assert.is_nil(s.client_id)
    assert.is_nil(s.client_secret)
  end)

  it("keeps given values and passes functions through", function()
    local debug_fn = function() end
    local transport = { request = function() end }
    local s = assert(resolve(with({
      timeout = 2.5, connect_timeout = 0.25, retry_timeout = 0, verify_tls = false,
      ca_file = "/etc/ca.pem", proxy = "", user_agent = "app/1", debug = debug_fn,
      allow_insecure_http = true, workspace_id = 1234567890123456, transport = transport,
    })))
    assert.equal(2.5, s.timeout)
    assert.equal(0.25, s.connect_timeout)
    assert.equal(0, s.retry_timeout)
    assert.is_false(s.verify_tls)
    assert.equal("/etc/ca.pem", s.ca_file)
    assert.equal("", s.proxy)
    assert.equal("app/1", s.user_agent)
    assert.equal(debug_fn, s.debug)
    assert.is_true(s.allow_insecure_http)
    assert.equal("1234567890123456", s.workspace_id)
    assert.equal(transport, s.transport)

    local fn = function() end
    s = assert(resolve(with({ transport = fn, debug = true, workspace_id = "42" })))
    assert.equal(fn, s.transport)
    assert.is_true(s.debug)
    assert.equal("42", s.workspace_id)
  end)
end)

describe("config.resolve: precedence", function()
  it("takes everything from opts when given", function()
    local s = assert(resolve({ host = "opts.example.com", token = TOKEN },
      { DATABRICKS_HOST = "env.example.com", DATABRICKS_TOKEN = ENV_TOKEN }))
    assert.equal("https://opts.example.com", s.host)
    assert.equal(TOKEN, s.token)
  end)

  it("lets the environment fill what opts leave unset", function()
    local s = assert(resolve({ host = "opts.example.com" },
      { DATABRICKS_HOST = "env.example.com", DATABRICKS_TOKEN = ENV_TOKEN }))
    assert.equal("https://opts.example.com", s.host)
    assert.equal(ENV_TOKEN, s.token)
    assert.equal("Config: host=https://opts.example.com, token=***, auth_type=pat. Env: DATABRICKS_TOKEN",
      s.debug_string)
  end)

  it("reads every documented variable", function()
    local s = assert(resolve(nil, {
      DATABRICKS_HOST = "env.example.com", DATABRICKS_CLIENT_ID = "cid",
      DATABRICKS_CLIENT_SECRET = ENV_SECRET, DATABRICKS_AUTH_TYPE = "oauth-m2m",
      DATABRICKS_TOKEN = ENV_TOKEN, DATABRICKS_WORKSPACE_ID = "77",
    }))
    assert.equal("oauth-m2m", s.auth_type)
    assert.equal("cid", s.client_id)
    assert.equal(ENV_SECRET, s.client_secret)
    assert.is_nil(s.token) -- only the chosen method's credentials are passed on
    assert.equal("77", s.workspace_id)
  end)

  it("ignores empty environment values", function()
    local s = assert(resolve({ token = TOKEN },
      { DATABRICKS_HOST = "env.example.com", DATABRICKS_TOKEN = "", DATABRICKS_AUTH_TYPE = "" }))
    assert.equal(TOKEN, s.token)
    assert.equal("pat", s.auth_type)
  end)

  it("validates environment values and names the variable", function()
    local _, err = resolve(nil, { DATABRICKS_HOST = "h", DATABRICKS_TOKEN = ENV_TOKEN .. "\r\nX: y" })
    assert.equal("token (from DATABRICKS_TOKEN): must not contain control characters", err.message)
    _, err = resolve(nil, { DATABRICKS_HOST = "h", DATABRICKS_TOKEN = ENV_TOKEN, DATABRICKS_AUTH_TYPE = "azure-cli" })
    assert.matches("^auth_type %(from DATABRICKS_AUTH_TYPE%): unsupported value 'azure%-cli'", err.message)
    _, err = resolve(nil, { DATABRICKS_HOST = "ftp://h", DATABRICKS_TOKEN = ENV_TOKEN })
    assert.equal("host (from DATABRICKS_HOST): unsupported scheme 'ftp://' (use https://)", err.message)
  end)

  it("lets the file fill what opts and the environment leave unset", function()
    local path = write_file(table.concat({
      "[p]",
      "host = file.example.com",
      "token = " .. FILE_TOKEN,
      "http_timeout_seconds = 12",
      "retry_timeout_seconds = 0",
      "workspace_id = 99",
    }, "\n"))
    local s = assert(resolve({ profile = "p", config_file = path, timeout = 5 },
      { DATABRICKS_HOST = "FILE.example.com" })) -- the same host: see "a named profile for another host"
    assert.equal("https://FILE.example.com", s.host)
    assert.equal(FILE_TOKEN, s.token)
    assert.equal(5, s.timeout)          -- opts beat http_timeout_seconds
    assert.equal(0, s.retry_timeout)    -- from retry_timeout_seconds
    assert.equal(30, s.connect_timeout) -- default
    assert.equal("99", s.workspace_id)
    assert.equal("p", s.profile)
    assert.equal(path, s.config_file)
    assert.equal("pat", s.auth_type)
  end)

  it("maps http_timeout_seconds to timeout and validates it", function()
    local path = write_file("[p]\nhost = h\ntoken = t\nhttp_timeout_seconds = 7.5\n")
    local s = assert(resolve({ profile = "p", config_file = path }))
    assert.equal(7.5, s.timeout)
    path = write_file("[p]\nhost = h\ntoken = t\nhttp_timeout_seconds = soon\n")
    local _, err = resolve({ profile = "p", config_file = path })
    assert.equal(path .. " p profile: http_timeout_seconds: must be a number (seconds)", err.message)
    path = write_file("[p]\nhost = h\ntoken = t\nretry_timeout_seconds = -3\n")
    _, err = resolve({ profile = "p", config_file = path })
    assert.equal(path .. " p profile: retry_timeout_seconds: must be a finite number >= 0 (seconds)",
      err.message)
  end)

  it("ignores keys it does not use, and skip_verify", function()
    local path = write_file("[p]\nhost = h\ntoken = t\naccount_id = 1\njobs-api-version = 2.1\nskip_verify = true\n")
    local s = assert(resolve({ profile = "p", config_file = path }))
    assert.is_true(s.verify_tls)
  end)

  it("rejects an auth_type from the file that this client cannot do", function()
    local path = write_file("[u2m]\nhost = h\nauth_type = external-browser\n")
    local _, err = resolve({ profile = "u2m", config_file = path })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal(path .. " u2m profile: auth_type: unsupported value 'external-browser'"
      .. " (this client supports pat, basic, metadata-service, oauth-m2m, env-oidc, file-oidc, github-oidc,"
      .. " azure-client-secret, databricks-cli)", err.message)
  end)

  it("rejects control characters in file values without echoing them", function()
    local path = write_file("[p]\nhost = h\ntoken = " .. FILE_TOKEN .. "\rX\n")
    local _, err = resolve({ profile = "p", config_file = path })
    assert.equal(path .. " p profile: token: must not contain control characters", err.message)
  end)

  it("takes the file path from DATABRICKS_CONFIG_FILE and the profile from DATABRICKS_CONFIG_PROFILE", function()
    local path = write_file("[envp]\nhost = file.example.com\ntoken = " .. FILE_TOKEN .. "\n")
    local s = assert(resolve(nil, { DATABRICKS_CONFIG_FILE = path, DATABRICKS_CONFIG_PROFILE = "envp" }))
    assert.equal("https://file.example.com", s.host)
    assert.equal("envp", s.profile)
    assert.equal(path, s.config_file)
    assert.equal("Config: host=https://file.example.com, token=***, profile=envp, config_file=" .. path
      .. ", auth_type=pat. Env: DATABRICKS_CONFIG_PROFILE, DATABRICKS_CONFIG_FILE", s.debug_string)
  end)

  it("prefers opts.config_file and opts.profile over the environment", function()
    local a = write_file("[x]\nhost = a.example.com\ntoken = t\n[y]\nhost = y.example.com\ntoken = t\n")
    local b = write_file("[x]\nhost = b.example.com\ntoken = t\n")
    local s = assert(resolve({ config_file = a, profile = "y" },
      { DATABRICKS_CONFIG_FILE = b, DATABRICKS_CONFIG_PROFILE = "x" }))
    assert.equal("https://y.example.com", s.host)
    assert.equal(a, s.config_file)
  end)

  it("expands ~ in the file path, and defaults to $HOME/.databrickscfg", function()
    local path = write_file("[DEFAULT]\nhost = home.example.com\ntoken = t\n")
    local dir, name = path:match("^(.*)[/\\]([^/\\]+)$")
    local s = assert(resolve({ config_file = "~/" .. name }, { HOME = dir }))
    assert.equal("https://home.example.com", s.host)
    assert.equal(dir .. "/" .. name, s.config_file)

    -- The default path is under HOME; this HOME has no .databrickscfg.
    local _, err = resolve({ profile = "p" }, { HOME = dir .. "/no-such-dir" })
    assert.equal("resolve: cannot load the p profile: " .. dir .. "/no-such-dir/.databrickscfg does not exist",
      err.message)
    -- Without HOME there is no default file.
    _, err = resolve(nil, {})
    assert.equal("default auth: cannot configure default credentials: no host configured"
      .. " (set DATABRICKS_HOST, the host option, or a profile with a host in ~/.databrickscfg)", err.message)
    _, err = resolve({ profile = "p" }, {})
    assert.equal("resolve: cannot load the p profile: cannot expand ~ in ~/.databrickscfg (HOME is not set)",
      err.message)
  end)
end)

describe("config.resolve: when the file is read", function()
  local path
  before_each(function()
    path = write_file(table.concat({
      "[DEFAULT]",
      "host = default.example.com",
      "token = " .. FILE_TOKEN,
      "[other]",
      "host = other.example.com",
      "token = " .. FILE_TOKEN,
    }, "\n"))
  end)

  it("skips the file when a host is already set and no profile is named", function()
    local _, err = resolve(nil, { DATABRICKS_HOST = "x", DATABRICKS_CONFIG_FILE = path })
    assert.equal("UNAUTHENTICATED", err.error_code)
    -- The Go SDK's TestConfig_HostEnv message shape.
    assert.equal("default auth: cannot configure default credentials, please check "
      .. "https://docs.databricks.com/en/dev-tools/auth.html#databricks-client-unified-authentication"
      .. " to configure credentials for your preferred authentication method."
      .. " Config: host=https://x. Env: DATABRICKS_HOST", err.message)
  end)

  for _, cred in ipairs({ "token", "client_id", "client_secret" }) do
    it("skips the file when " .. cred .. " is already set and no profile is named", function()
      local _, err = resolve({ [cred] = "cred-x", config_file = path })
      assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("no host configured", err.message)
    end)
  end

  it("does not even open the file when it is skipped", function()
    -- A directory cannot be read; no error proves it was not touched.
    local s = assert(resolve({ host = "h", token = TOKEN, config_file = "." }))
    assert.is_nil(s.config_file)
    assert.is_nil(s.profile)
  end)

  it("reads the file when a profile is named even though host and token are set", function()
    local s = assert(resolve({ host = "OTHER.example.com:443/", token = TOKEN, profile = "other",
      config_file = path }))
    assert.equal("https://OTHER.example.com", s.host)
    assert.equal(TOKEN, s.token)
    assert.equal("other", s.profile)
    assert.equal(path, s.config_file)
  end)

  it("reads the file when only non-credential settings are set", function()
    local s = assert(resolve({ timeout = 3, auth_type = "pat", config_file = path }))
    assert.equal("https://default.example.com", s.host)
    assert.equal("DEFAULT", s.profile)
  end)
end)

describe("config.resolve: a named profile for another host", function()
  local path
  before_each(function()
    path = write_file("[other]\nhost = other.example.com\ntoken = " .. FILE_TOKEN .. "\n")
  end)

  it("is an error naming both hosts (host from opts)", function()
    local s, err = resolve({ host = "https://evil.example.com", profile = "other", config_file = path })
    assert.is_nil(s)
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("resolve: host mismatch: host is https://evil.example.com but the other profile of " .. path
      .. " is for https://other.example.com", err.message)
  end)

  it("is an error naming both hosts (host from DATABRICKS_HOST)", function()
    local s, err = resolve(nil, { DATABRICKS_HOST = "evil.example.com", DATABRICKS_CONFIG_PROFILE = "other",
      DATABRICKS_CONFIG_FILE = path })
    assert.is_nil(s)
    assert.matches("host %(from DATABRICKS_HOST%) is https://evil%.example%.com but .* https://other%.example%.com",
      err.message)
  end)

  it("sends no token: the client is never made", function()
    package.path = "./lua/?.lua;" .. package.path
    local webhooks = require("databricks.webhooks")
    local c, err = webhooks.new{ host = "http://127.0.0.1:9", profile = "other", config_file = path }
    assert.is_nil(c)
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert_no_secret(tostring(err))
  end)

  it("is not an error when no profile is named (the file is not read)", function()
    assert(resolve({ host = "https://evil.example.com", token = TOKEN, config_file = path }))
  end)
end)

describe("config.resolve: a config file others can read", function()
  local function chmod(path, mode) assert(os.execute("chmod " .. mode .. " " .. path)) end

  it("is warned about once, through the debug hook", function()
    local path = write_file("[p]\nhost = h.example.com\ntoken = " .. FILE_TOKEN .. "\n")
    chmod(path, "644")
    local lines = {}
    local function debug(l) lines[#lines + 1] = l end
    assert(resolve({ profile = "p", config_file = path, debug = debug }))
    assert(resolve({ profile = "p", config_file = path, debug = debug }))
    assert.equal(1, #lines)
    assert.equal("databricks.webhooks: warning: " .. path .. " is readable by group and others (mode 644);"
      .. " it holds credentials: chmod 600 it", lines[1])
    assert_no_secret(lines[1])
  end)

  it("is not warned about when only its owner can read it", function()
    local path = write_file("[p]\nhost = h.example.com\ntoken = t\n")
    chmod(path, "600")
    local lines = {}
    assert(resolve({ profile = "p", config_file = path, debug = function(l) lines[#lines + 1] = l end }))
    assert.same({}, lines)
  end)

  it("goes to stderr when there is no debug hook", function()
    local path = write_file("[p]\nhost = h.example.com\ntoken = t\n")
    chmod(path, "640")
    local out = os.tmpname()
    local script = ("package.path = './lua/?.lua;' .. package.path; package.cpath = %q .. package.cpath;"
      .. " assert(require('databricks.webhooks.config').resolve({ profile = 'p', config_file = %q }))")
      :format(package.cpath:match("^[^;]*;"), path)
    local lua = (type(jit) == "table") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
    assert(os.execute(lua .. " -e " .. ("%q"):format(script) .. " 2>" .. out))
    local f = assert(io.open(out))
    local text = f:read("*a")
    f:close()
    os.remove(out)
    assert.equal("databricks.webhooks: warning: " .. path .. " is readable by group (mode 640);"
      .. " it holds credentials: chmod 600 it\n", text)
  end)
end)

describe("config.resolve: profile choice", function()
  it("uses DEFAULT as the fallback", function()
    local path = write_file("[DEFAULT]\nhost = d.example.com\ntoken = " .. FILE_TOKEN .. "\n[x]\nhost = x\n")
    local s = assert(resolve({ config_file = path }))
    assert.equal("https://d.example.com", s.host)
    assert.equal("DEFAULT", s.profile)
  end)

  it("treats keys before any section as DEFAULT", function()
    local path = write_file("host = top.example.com\ntoken = t\n[x]\nhost = x\n")
    local s = assert(resolve({ config_file = path }))
    assert.equal("https://top.example.com", s.host)
  end)

  it("uses [__settings__] default_profile before DEFAULT", function()
    local path = write_file(table.concat({
      "[__settings__]",
      "default_profile =  dev.ws ",
      "[DEFAULT]",
      "host = d.example.com",
      "token = t",
      "[dev.ws]",
      "host = dev.example.com",
      "token = " .. FILE_TOKEN,
    }, "\n"))
    local s = assert(resolve({ config_file = path }))
    assert.equal("https://dev.example.com", s.host)
    assert.equal("dev.ws", s.profile)
  end)

  it("lets a named profile beat default_profile", function()
    local path = write_file("[__settings__]\ndefault_profile = a\n[a]\nhost = a\ntoken = t\n[b]\nhost = b\ntoken = t\n")
    local s = assert(resolve({ config_file = path, profile = "b" }))
    assert.equal("https://b", s.host)
  end)

  it("fails when default_profile names a profile that does not exist", function()
    local path = write_file("[__settings__]\ndefault_profile = gone\n[DEFAULT]\nhost = d\ntoken = t\n")
    local _, err = resolve({ config_file = path })
    assert.equal("resolve: " .. path .. " has no gone profile configured (its profiles: DEFAULT)", err.message)
  end)

  it("does not treat a missing DEFAULT as an error", function()
    local path = write_file("[x]\nhost = x.example.com\ntoken = t\n")
    local _, err = resolve({ config_file = path })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    -- The file was read (and is named) but no profile was used.
    assert.equal("default auth: cannot configure default credentials: no host configured"
      .. " (set DATABRICKS_HOST, the host option, or a profile with a host in " .. path .. ")."
      .. " Config: config_file=" .. path, err.message)
  end)

  it("fails for a named profile that does not exist", function()
    local path = write_file("[DEFAULT]\nhost = d\ntoken = t\n")
    local _, err = resolve({ config_file = path, profile = "nope" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("resolve: " .. path .. " has no nope profile configured (its profiles: DEFAULT)", err.message)
  end)

  it("treats a named profile with no keys as missing", function()
    local path = write_file("[empty]\n# nothing\n[DEFAULT]\nhost = d\ntoken = t\n")
    local _, err = resolve({ config_file = path, profile = "empty" })
    assert.equal("resolve: " .. path .. " has no empty profile configured (its profiles: DEFAULT)", err.message)
  end)

  it("does not accept __settings__ as a profile", function()
    local path = write_file("[__settings__]\nhost = h\ntoken = t\n")
    local _, err = resolve({ config_file = path, profile = "__settings__" })
    assert.equal("resolve: " .. path .. " has no __settings__ profile configured (it has no profiles)", err.message)
  end)

  it("does not merge DEFAULT keys into the named profile", function()
    local path = write_file("[DEFAULT]\ntoken = " .. FILE_TOKEN .. "\n[p]\nhost = p.example.com\n")
    local _, err = resolve({ config_file = path, profile = "p" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.matches("Config: host=https://p%.example%.com, profile=p, config_file=", err.message)
  end)

  it("accepts dots and spaces in profile names", function()
    local path = write_file("[pat.with.dot]\nhost = dot\ntoken = t\n[with space]\nhost = space\ntoken = t\n")
    assert.equal("https://dot", assert(resolve({ config_file = path, profile = "pat.with.dot" })).host)
    assert.equal("https://space", assert(resolve({ config_file = path, profile = "with space" })).host)
  end)

  it("does not fail on a missing file when no profile is named", function()
    local gone = missing_path()
    local _, err = resolve({ config_file = gone })
    assert.equal("default auth: cannot configure default credentials: no host configured"
      .. " (set DATABRICKS_HOST, the host option, or a profile with a host in " .. gone .. ")", err.message)
  end)

  it("fails on a missing file when a profile is named, naming both", function()
    local path = missing_path()
    local _, err = resolve({ config_file = path, profile = "prod" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("resolve: cannot load the prod profile: " .. path .. " does not exist", err.message)
  end)

  it("fails on a file that exists but cannot be read, naming it", function()
    local _, err = resolve({ config_file = "." })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("^resolve: cannot read config file %.: ", err.message)
  end)

  it("fails on a malformed file with the line number, not the line", function()
    local path = write_file("[p]\nhost = h\n" .. FILE_TOKEN .. "\n")
    local _, err = resolve({ config_file = path, profile = "p" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("resolve: cannot parse config file " .. path
      .. ": line 3: expected 'key = value', 'key: value' or '[section]'", err.message)
  end)
end)

describe("config.parse_file", function()
  it("reads sections, both delimiters, and lower-cases keys", function()
    local t = assert(config.parse_file("[a]\nHost = h1\nTOKEN: t1\n[b]\nhost=h2\n"))
    assert.same({ a = { host = "h1", token = "t1" }, b = { host = "h2" } }, t)
  end)

  it("splits at the first '=' or ':'", function()
    local t = assert(config.parse_file("[a]\nhost = https://h:8443/x\nother: a=b\n"))
    assert.equal("https://h:8443/x", t.a.host)
    assert.equal("a=b", t.a.other)
  end)

  it("ignores blank lines and full-line comments", function()
    local t = assert(config.parse_file("# c\n; c\n\n   \n[a]\n  # indented comment\nk = v\n"))
    assert.same({ a = { k = "v" } }, t)
  end)

  it("keeps '#' and ';' inside values and cuts inline comments after whitespace", function()
    local t = assert(config.parse_file(table.concat({
      "[a]",
      "token = abc#def;ghi",
      "host = h # a comment",
      "other = v\t; a comment",
      "hash = #starts-with-hash",
    }, "\n")))
    assert.equal("abc#def;ghi", t.a.token)
    assert.equal("h", t.a.host)
    assert.equal("v", t.a.other)
    assert.equal("#starts-with-hash", t.a.hash)
  end)

  it("allows a comment after a section header", function()
    local t = assert(config.parse_file("[a] # the a profile\nk = v\n"))
    assert.same({ a = { k = "v" } }, t)
  end)

  it("lets later duplicate keys win and merges repeated sections", function()
    local t = assert(config.parse_file("[a]\nk = 1\nK = 2\n[b]\nx = 1\n[a]\nj = 3\n"))
    assert.same({ a = { k = "2", j = "3" }, b = { x = "1" } }, t)
  end)

  it("puts keys before any section in DEFAULT", function()
    local t = assert(config.parse_file("k = top\n[DEFAULT]\nj = d\n"))
    assert.same({ DEFAULT = { k = "top", j = "d" } }, t)
  end)

  it("keeps section names verbatim, dots and spaces included", function()
    local t = assert(config.parse_file("[pat.with.dot]\nk = 1\n[with space]\nk = 2\n[Case]\nk = 3\n"))
    assert.equal("1", t["pat.with.dot"].k)
    assert.equal("2", t["with space"].k)
    assert.equal("3", t.Case.k)
    assert.is_nil(t.case)
  end)

  it("accepts CRLF line ends and a UTF-8 byte order mark", function()
    local t = assert(config.parse_file("\239\187\191[a]\r\nk = v\r\n\r\nj: w\r\n"))
    assert.same({ a = { k = "v", j = "w" } }, t)
  end)

  it("unwraps values in matching quotes", function()
    local t = assert(config.parse_file("[a]\nd = \"x y\"\ns = 'z'\nm = \"a\"b\"\nh = \"q\n"))
    assert.equal("x y", t.a.d)
    assert.equal("z", t.a.s)
    assert.equal("\"a\"b\"", t.a.m)
    assert.equal("\"q", t.a.h)
  end)

  it("keeps empty values and empty sections", function()
    local t = assert(config.parse_file("[a]\nk =\n[b]\n"))
    assert.same({ a = { k = "" }, b = {} }, t)
  end)

  it("reports syntax errors by line number only", function()
    local cases = {
      { "[a]\nk = v\n" .. FILE_TOKEN .. "\n", "line 3: expected 'key = value', 'key: value' or '[section]'" },
      { "[a\nk = v\n", "line 1: unclosed section header" },
      { "k = v\n[]\n", "line 2: empty section name" },
      { "[a]\n = " .. FILE_SECRET .. "\n", "line 2: missing key name" },
    }
    for _, c in ipairs(cases) do
      local t, msg = config.parse_file(c[1])
      assert.is_nil(t)
      assert.equal(c[2], msg)
      assert_no_secret(msg)
    end
  end)

  it("raises on a non-string argument", function()
    assert.has_error(function() config.parse_file(nil) end,
      "bad argument #1 to 'parse_file' (string expected, got nil)")
  end)
end)

describe("config.normalize_host", function()
  local good = {
    { "x", "https://x" },
    { "  dbc-1.cloud.databricks.com  ", "https://dbc-1.cloud.databricks.com" },
    { "https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/", "https://dbc-XXXXXXXX-YYYY.cloud.databricks.com" },
    { "https://h///", "https://h" },
    { "https://h:443", "https://h" },
    { "h:443/", "https://h" },
    { "https://h:8443/", "https://h:8443" },
    { "http://localhost:443", "http://localhost:443" },
    { "HTTPS://h", "https://h" },
    { "https://h/some/path/", "https://h/some/path" },
    { "https://adb-1.2.azuredatabricks.net/?o=123#", "https://adb-1.2.azuredatabricks.net" },
    { "http://127.0.0.1:8080/", "http://127.0.0.1:8080" },
    { "http://[::1]:8080", "http://[::1]:8080" },
    { "https://[::1]:443/", "https://[::1]" },
  }
  for _, c in ipairs(good) do
    it(string.format("%q -> %s", c[1], c[2]), function()
      assert.equal(c[2], (config.normalize_host(c[1])))
    end)
  end

  it("returns the workspace id found in ?o= or ?workspace_id=", function()
    local h, ws = config.normalize_host("https://adb-1.2.azuredatabricks.net/?o=1234567#folder")
    assert.equal("https://adb-1.2.azuredatabricks.net", h)
    assert.equal("1234567", ws)
    h, ws = config.normalize_host("h/?workspace_id=9&x=1")
    assert.equal("https://h", h)
    assert.equal("9", ws)
    assert.is_nil(select(2, config.normalize_host("https://h")))
  end)

  local bad = {
    { "", "must not be empty" },
    { "   ", "must not be empty" },
    { "ftp://h", "unsupported scheme 'ftp://' (use https://)" },
    { "file:///etc/passwd", "unsupported scheme 'file://' (use https://)" },
    { "https://", "has no host name" },
    { "https:///path", "has no host name" },
    { "https://:443", "has no host name" },
    { "https://user:" .. SECRET .. "@h", "must not contain user information (use token or client_id/client_secret)" },
    { "https://h:0", "has an invalid port" },
    { "https://h:70000", "has an invalid port" },
    { "https://h:abc", "has an invalid port" },
    { "https://h h", "has an invalid host name" },
    { "https://[zz]", "has an invalid IPv6 address" },
    { "https://h/a b", "has an invalid path" },
    { "://h", "is not a valid URL" },
    { "h\r\nX: 1", "must not contain control characters" },
  }
  for _, c in ipairs(bad) do
    it(string.format("rejects %q", c[1]), function()
      local h, why = config.normalize_host(c[1])
      assert.is_nil(h)
      assert.equal(c[2], why)
      assert_no_secret(why)
    end)
  end

  it("is applied to the resolved host, whatever its source", function()
    local s = assert(resolve(nil, { DATABRICKS_HOST = "env.example.com:443/", DATABRICKS_TOKEN = ENV_TOKEN }))
    assert.equal("https://env.example.com", s.host)
    local _, err = resolve({ host = "https://user:" .. SECRET .. "@h", token = TOKEN })
    assert.equal("host: must not contain user information (use token or client_id/client_secret)", err.message)
  end)

  it("moves ?o= into workspace_id unless workspace_id is set", function()
    local s = assert(resolve({ host = "https://h/?o=55", token = TOKEN }))
    assert.equal("https://h", s.host)
    assert.equal("55", s.workspace_id)
    s = assert(resolve({ host = "https://h/?o=55", token = TOKEN, workspace_id = 7 }))
    assert.equal("7", s.workspace_id)
  end)
end)

describe("config.resolve: http", function()
  it("refuses http:// to a non-loopback host", function()
    local _, err = resolve({ host = "http://h.example.com", token = TOKEN })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("host: http:// sends the credentials in clear text; use https:// or set allow_insecure_http = true",
      err.message)
    _, err = resolve(nil, { DATABRICKS_HOST = "http://h.example.com", DATABRICKS_TOKEN = ENV_TOKEN })
    assert.matches("^host %(from DATABRICKS_HOST%): http:// ", err.message)
  end)

  it("allows http:// with allow_insecure_http = true", function()
    local s = assert(resolve({ host = "http://h.example.com/", token = TOKEN, allow_insecure_http = true }))
    assert.equal("http://h.example.com", s.host)
  end)

  for _, host in ipairs({ "http://localhost:8080", "http://LOCALHOST", "http://127.0.0.1:1",
                          "http://127.255.3.4", "http://[::1]:9" }) do
    it("allows loopback " .. host, function()
      assert(resolve({ host = host, token = TOKEN }))
    end)
  end

  for _, host in ipairs({ "http://128.0.0.1", "http://127.0.0.256", "http://127.0.0.1.example.com",
                          "http://localhost.example.com", "http://[::2]" }) do
    it("refuses non-loopback " .. host, function()
      local _, err = resolve({ host = host, token = TOKEN })
      assert.matches("allow_insecure_http", err.message)
    end)
  end

  it("exposes is_loopback", function()
    assert.is_true(config.is_loopback("localhost"))
    assert.is_true(config.is_loopback("127.0.0.1"))
    assert.is_true(config.is_loopback("[::1]"))
    assert.is_false(config.is_loopback("10.0.0.1"))
    assert.is_false(config.is_loopback("0127.0.0.1"))
    assert.is_false(config.is_loopback(nil))
  end)
end)

describe("config.resolve: deployment_name", function()
  it("becomes an AWS workspace host", function()
    local s = assert(resolve({ deployment_name = "dbc-abcd0123-a1bc", token = TOKEN }))
    assert.equal("https://dbc-abcd0123-a1bc.cloud.databricks.com", s.host)
  end)

  it("counts as a host: DATABRICKS_HOST does not override it and the file is skipped", function()
    local s = assert(resolve({ deployment_name = "dbc-1", token = TOKEN, config_file = "." },
      { DATABRICKS_HOST = "other" }))
    assert.equal("https://dbc-1.cloud.databricks.com", s.host)
  end)

  it("may be given with the same host", function()
    local s = assert(resolve({ deployment_name = "dbc-1", host = "dbc-1.cloud.databricks.com/",
      token = TOKEN }))
    assert.equal("https://dbc-1.cloud.databricks.com", s.host)
  end)

  it("compares with host case-insensitively", function()
    assert(resolve({ deployment_name = "DBC-1", host = "https://dbc-1.Cloud.Databricks.com", token = TOKEN }))
  end)

  it("conflicts with a different host", function()
    local _, err = resolve({ deployment_name = "dbc-1", host = "dbc-2.cloud.databricks.com", token = TOKEN })
    assert.equal("deployment_name: conflicts with host (give only one of them)", err.message)
  end)

  for _, bad in ipairs({ "dbc-1.cloud.databricks.com", "https://dbc-1", "-dbc", "dbc-", "d b",
                         string.rep("a", 64) }) do
    it("rejects " .. bad, function()
      local _, err = resolve({ deployment_name = bad, token = TOKEN })
      assert.matches("^deployment_name: must be a deployment name", err.message)
    end)
  end
end)

describe("config.resolve: authentication", function()
  it("chooses pat for a token", function()
    local s = assert(resolve({ host = "h", token = TOKEN }))
    assert.equal("pat", s.auth_type)
    assert.equal(TOKEN, s.token)
  end)

  it("chooses oauth-m2m for client_id and client_secret", function()
    local s = assert(resolve({ host = "h", client_id = "cid", client_secret = SECRET }))
    assert.equal("oauth-m2m", s.auth_type)
    assert.equal("cid", s.client_id)
    assert.equal(SECRET, s.client_secret)
    assert.is_nil(s.token)
    assert.equal("Config: host=https://h, client_id=cid, client_secret=***, auth_type=oauth-m2m",
      s.debug_string)
  end)

  it("refuses a token together with client credentials without auth_type", function()
    local _, err = resolve({ host = "h", token = TOKEN, client_id = "cid" },
      { DATABRICKS_CLIENT_SECRET = ENV_SECRET })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("validate: more than one authorization method configured: oauth and pat."
      .. " Config: host=https://h, token=***, client_id=cid, client_secret=***."
      .. " Env: DATABRICKS_CLIENT_SECRET", err.message)
  end)

  it("refuses a token with only a client_id (as the SDKs do)", function()
    local _, err = resolve({ host = "h", token = TOKEN, client_id = "cid" })
    assert.matches("^validate: more than one authorization method configured: oauth and pat%.", err.message)
  end)

  it("lets auth_type choose, and passes on only that method's credentials", function()
    local s = assert(resolve({ host = "h", token = TOKEN, client_id = "cid", client_secret = SECRET,
      auth_type = "pat" }))
    assert.equal("pat", s.auth_type)
    assert.equal(TOKEN, s.token)
    assert.is_nil(s.client_id)
    assert.is_nil(s.client_secret)
    s = assert(resolve({ host = "h", token = TOKEN, client_id = "cid", client_secret = SECRET,
      auth_type = "oauth-m2m" }))
    assert.equal("oauth-m2m", s.auth_type)
    assert.is_nil(s.token)
    assert.equal(SECRET, s.client_secret)
  end)

  it("takes auth_type from DATABRICKS_AUTH_TYPE", function()
    local s = assert(resolve({ host = "h", token = TOKEN, client_id = "cid", client_secret = SECRET },
      { DATABRICKS_AUTH_TYPE = "oauth-m2m" }))
    assert.equal("oauth-m2m", s.auth_type)
  end)

  it("fails when auth_type names a method without its credentials", function()
    local _, err = resolve({ host = "h", client_id = "cid", client_secret = SECRET, auth_type = "pat" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.equal("default auth: auth_type is pat but no token is configured."
      .. " Config: host=https://h, client_id=cid, client_secret=***, auth_type=pat", err.message)
    _, err = resolve({ host = "h", token = TOKEN, auth_type = "oauth-m2m" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.equal("default auth: oauth-m2m needs both client_id and client_secret, but client_id is not"
      .. " configured. Config: host=https://h, token=***, auth_type=oauth-m2m", err.message)
  end)

  it("fails with only one of client_id and client_secret", function()
    local _, err = resolve({ host = "h", client_id = "cid" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.equal("default auth: oauth-m2m needs both client_id and client_secret, but client_secret is not"
      .. " configured. Config: host=https://h, client_id=cid", err.message)
    _, err = resolve({ host = "h" }, { DATABRICKS_CLIENT_SECRET = ENV_SECRET })
    assert.equal("default auth: oauth-m2m needs both client_id and client_secret, but client_id is not"
      .. " configured. Config: host=https://h, client_secret=***. Env: DATABRICKS_CLIENT_SECRET", err.message)
  end)

  it("fails without a host", function()
    local _, err = resolve({ token = TOKEN }, { DATABRICKS_CLIENT_ID = "" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    local how = " (set DATABRICKS_HOST, the host option, or a profile with a host in ~/.databrickscfg, which is"
      .. " read only when no credentials are given or a profile is named)."
    assert.equal("default auth: cannot configure default credentials: no host configured" .. how
      .. " Config: token=***", err.message)
    _, err = resolve(nil, { DATABRICKS_TOKEN = ENV_TOKEN })
    assert.equal("default auth: cannot configure default credentials: no host configured" .. how
      .. " Config: token=***. Env: DATABRICKS_TOKEN", err.message)
  end)

  it("fails without credentials", function()
    local _, err = resolve({ host = "https://x/" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.matches("^default auth: cannot configure default credentials, please check https://", err.message)
    assert.matches("%. Config: host=https://x$", err.message)
  end)
end)

describe("config.resolve: secrets", function()
  -- Every failure path with secrets present; resolve() checks each message.
  it("never appear in any error message", function()
    local good = write_file("[p]\nhost = h\ntoken = " .. FILE_TOKEN .. "\nclient_secret = " .. FILE_SECRET .. "\n")
    local scenarios = {
      { { host = "h", token = TOKEN, client_id = "c", client_secret = SECRET } },
      { { token = TOKEN, client_secret = SECRET } },
      { { host = "h", client_secret = SECRET } },
      { { host = "h", token = TOKEN, auth_type = "oauth-m2m" } },
      { { host = "h", client_secret = SECRET, auth_type = "pat" } },
      { { host = "h", token = TOKEN .. "\n" } },
      { { host = "h", client_secret = SECRET .. "\0" } },
      { { host = "h", token = TOKEN, tokenx = TOKEN } },
      { { host = "http://h", token = TOKEN } },
      { { host = "https://u:" .. SECRET .. "@h", token = TOKEN } },
      { { host = "https://h", token = TOKEN, timeout = -1 } },
      { nil, { DATABRICKS_HOST = "h", DATABRICKS_TOKEN = ENV_TOKEN, DATABRICKS_CLIENT_SECRET = ENV_SECRET } },
      { nil, { DATABRICKS_TOKEN = ENV_TOKEN, DATABRICKS_CLIENT_ID = "c", DATABRICKS_CLIENT_SECRET = ENV_SECRET } },
      { nil, { DATABRICKS_HOST = "h", DATABRICKS_TOKEN = ENV_TOKEN .. "\r" } },
      { { profile = "p", config_file = good, client_id = "c" } },
      { { profile = "p", config_file = good, auth_type = "oauth-m2m" } },
      { { profile = "q", config_file = good } },
      { { profile = "p", config_file = write_file("[p]\ntoken = " .. FILE_TOKEN .. "\n") } },
      { { profile = "p", config_file = write_file("[p]\nhost = h\n" .. FILE_TOKEN .. "\n") } },
      { { profile = "p", config_file = write_file("[p]\nhost = h\ntoken = " .. FILE_TOKEN .. "\0\n") } },
      { { profile = "p", config_file = write_file("[p]\nhost = h\ntoken = " .. FILE_TOKEN
        .. "\nhttp_timeout_seconds = " .. FILE_SECRET .. "\n") } },
    }
    for i, sc in ipairs(scenarios) do
      local s, err = resolve(sc[1], sc[2])
      assert.is_nil(s, "scenario " .. i .. " should fail")
      assert.is_table(err, "scenario " .. i)
    end
  end)

  it("are masked in debug_string", function()
    local s = assert(resolve({ host = "h", token = TOKEN, client_id = "c", client_secret = SECRET,
      auth_type = "pat" }))
    assert.equal("Config: host=https://h, token=***, client_id=c, client_secret=***, auth_type=pat",
      s.debug_string)
  end)
end)

describe("config messages say how to fix what is wrong", function()
  it("lists the profiles that exist when the named one does not", function()
    local path = write_file("[prod]\nhost = p\ntoken = t\n[dev]\nhost = d\ntoken = t\n[__settings__]\nx = y\n")
    local _, err = resolve({ config_file = path, profile = "prdo" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equal("resolve: " .. path .. " has no prdo profile configured"
      .. " (did you mean 'prod'?; its profiles: dev, prod)", err.message)
  end)

  it("says how to set a host, naming the config file it looked at", function()
    local _, err = resolve(nil, { HOME = "/nonexistent-home" })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("no host configured %(set DATABRICKS_HOST, the host option, or a profile with a host in"
      .. " /nonexistent%-home/%.databrickscfg%)", err.message)
  end)

  it("passes on that https:// was assumed for a host without a scheme", function()
    assert.is_true(assert(resolve({ host = "127.0.0.1:8080", token = "t" })).host_assumed_https)
    assert.is_false(assert(resolve({ host = "http://127.0.0.1:8080", token = "t" })).host_assumed_https)
  end)

  describe("against a plain-HTTP workspace", function()
    local webhooks = require("databricks.webhooks")
    local srv
    setup(function() srv = require("spec.support.workspace").start{} end)
    teardown(function() srv:stop() end)

    it("a TLS error says https:// was assumed and to write http://, keeping TLS_ERROR", function()
      local c = assert(webhooks.new{ host = "127.0.0.1:" .. srv.port, token = srv.token, retry_timeout = 0 })
      local _, err = c:list()
      assert.equal("TLS_ERROR", err.error_code)
      assert.matches("https:// was assumed; write http:// for a plain%-HTTP server", err.message)
      assert.matches("https:// was assumed", tostring(err))
      c:close()
    end)

    it("says nothing of it when https:// was written", function()
      local c = assert(webhooks.new{ host = "https://127.0.0.1:" .. srv.port, token = srv.token, retry_timeout = 0 })
      local _, err = c:list()
      assert.equal("TLS_ERROR", err.error_code)
      assert.is_nil(err.message:find("assumed", 1, true))
      c:close()
    end)
  end)
end)


describe("workspace_id takes what the SDKs take", function()
  it("accepts any non-empty string, as the Python SDK's Config does", function()
    for _, id in ipairs({ "abc", "ws-1234-abcd", "01234567-89ab-cdef-0123-456789abcdef", "42" }) do
      assert.equal(id, assert(resolve({ host = "h", token = "t", workspace_id = id })).workspace_id)
    end
    assert.equal("abc", assert(resolve({ host = "h", token = "t" }, { DATABRICKS_WORKSPACE_ID = "abc" })).workspace_id)
  end)
  it("still refuses an empty one", function()
    local _, err = resolve({ host = "h", token = "t", workspace_id = " " })
    assert.equal("INVALID_PARAMETER_VALUE", err.error_code)
  end)
end)
