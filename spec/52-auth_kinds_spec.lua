-- Every non-interactive auth kind against loopback stand-ins: the workspace,
-- an Entra ID token endpoint, a metadata service, the databricks CLI.
require("spec.helper")
local stub = require("spec.support.stub")
local webhooks = require("databricks.webhooks")
local config = require("databricks.webhooks.config")


-- A workspace that accepts one Authorization header and serves discovery and
-- a token exchange that checks the subject token.
local WORKSPACE = [[
return function(req)
  if req.target:find("oauth-authorization-server", 1, true) then
    return response(200, '{"token_endpoint":"http://' .. req.headers["host"] .. '/oidc/v1/token"}')
  end
  if req.target == "/oidc/v1/token" then
    if req.body:find("subject_token=good-jwt", 1, true) and req.body:find("token-exchange", 1, true) then
      return response(200, '{"access_token":"exchanged","token_type":"Bearer","expires_in":3600}')
    end
    return response(401, '{"error":"invalid_grant","error_description":"bad subject token"}')
  end
  if req.headers["authorization"] == EXPECTED then
    return response(200, '{"webhooks":[]}')
  end
  return response(401, '{"error_code":"UNAUTHENTICATED","message":"bad credentials"}')
end
]]

local function workspace(expected)
  return stub.start((WORKSPACE:gsub("EXPECTED", ("%q"):format(expected))))
end

local function no_env() return nil end

local function list_with(opts)
  local c = assert(webhooks.new(opts))
  local res, err = c:list()
  return res, err, c
end

describe("auth kinds: the SDKs' default-chain order", function()
  it("is the Python SDK's DefaultCredentials order, restricted to the kinds supported", function()
      assert.same({ "pat", "basic", "metadata-service", "oauth-m2m", "env-oidc", "file-oidc", "github-oidc",
        "azure-client-secret", "databricks-cli" }, config.AUTH_ORDER)
  end)
  local every = { host = "https://h", token = "t", username = "u", password = "p", metadata_service_url = "http://m",
    client_id = "i", client_secret = "s", oidc_token_filepath = "/f", azure_client_id = "a",
    azure_client_secret = "b", azure_tenant_id = "c" }
  local order = { { "token", "pat" }, { "username", "basic" }, { "metadata_service_url", "metadata-service" },
    { "client_secret", "oauth-m2m" }, { "oidc_token_filepath", "file-oidc" },
    { "azure_client_id", "azure-client-secret" } }
  for i, step in ipairs(order) do
    it("picks " .. step[2] .. " when the kinds before it are not configured", function()
      local opts = {}
      for k, v in pairs(every) do opts[k] = v end
      for j = 1, i - 1 do opts[order[j][1]] = nil end
      if i > 1 then opts.token = nil end
      if step[2] ~= "oauth-m2m" then opts.client_id, opts.client_secret = nil, nil end
      local s = assert(config.resolve(opts, no_env))
      assert.equal(step[2], s.auth_type)
    end)
  end
  it("takes env-oidc from DATABRICKS_OIDC_TOKEN", function()
    local s = assert(config.resolve({ host = "https://h" }, { DATABRICKS_OIDC_TOKEN = "jwt" }))
    assert.equal("env-oidc", s.auth_type)
  end)
  it("normalises scopes as the SDK does (split, de-duplicated, sorted)", function()
    local s = assert(config.resolve({ host = "https://h", token = "t", scopes = "sql, all-apis sql" }, no_env))
    assert.equal("all-apis sql", s.scopes)
  end)
end)

describe("auth kinds end to end", function()
  it("basic sends Basic base64(username:password)", function()
    local ws = workspace("Basic dXNlcjpzM2NyZXQ=")
    finally(function() ws:stop() end)
    assert(list_with({ host = ws.url, username = "user", password = "s3cret" }))
  end)

  it("metadata-service takes the token the metadata service hands out", function()
    local ms = stub.start([[return function(req)
      if req.headers["x-databricks-metadata-version"] == "1" and req.headers["x-databricks-host"] then
        return response(200, '{"access_token":"md-token","token_type":"Bearer","expires_on":'
          .. (os.time() + 3600) .. '}')
      end
      return response(400, '{"error":"bad"}')
    end]])
    local ws = workspace("Bearer md-token")
    finally(function() ws:stop(); ms:stop() end)
    assert(list_with({ host = ws.url, metadata_service_url = ms.url .. "/secret-path" }))
  end)

  it("azure-client-secret: the secret goes to Entra ID only, its token to the workspace only", function()
    local entra = stub.start([[return function(req)
      if req.target == "/tenant-1/oauth2/token" and req.body:find("client_secret=az-secret", 1, true)
        and req.body:find("resource=2ff814a6-3304-4ab8-85cb-cd0e6f879c1d", 1, true) then
        return response(200, '{"access_token":"aad-token","token_type":"Bearer","expires_in":"3599"}')
      end
      return response(401, '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret"}')
    end]])
    local ws = workspace("Bearer aad-token")
    finally(function() ws:stop(); entra:stop() end)
    assert(list_with({ host = ws.url, azure_client_id = "app", azure_client_secret = "az-secret",
      azure_tenant_id = "tenant-1", azure_login_host = entra.url .. "/" }))
    for _, line in ipairs(ws:requests()) do assert.is_nil(line:find("az-secret", 1, true)) end
    local _, err = list_with({ host = ws.url, azure_client_id = "app", azure_client_secret = "wrong-secret",
      azure_tenant_id = "tenant-1", azure_login_host = entra.url })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.matches("invalid_client", err.message)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
  end)

  it("azure-client-secret: an unreachable login host is a connection error", function()
    local ws = workspace("Bearer x")
    finally(function() ws:stop() end)
    local _, err = list_with({ host = ws.url, azure_client_id = "app", azure_client_secret = "az-secret",
      azure_tenant_id = "t", azure_login_host = "http://127.0.0.1:1/", retry_timeout = 0 })
    assert.equal("CONNECTION_ERROR", err.error_code)
    assert.is_nil(err.message:find("az-secret", 1, true))
  end)

  it("file-oidc exchanges the identity token of the file at the workspace's token endpoint", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w")); f:write("good-jwt\n"); f:close()
    local ws = workspace("Bearer exchanged")
    finally(function() ws:stop(); os.remove(path) end)
    assert(list_with({ host = ws.url, oidc_token_filepath = path, client_id = "sp" }))
    f = assert(io.open(path, "w")); f:write("bad-jwt"); f:close()
    local _, err = list_with({ host = ws.url, oidc_token_filepath = path, client_id = "sp" })
    assert.equal("UNAUTHENTICATED", err.error_code)
    assert.matches("invalid_grant", err.message)
    assert.is_nil(tostring(err):find("bad-jwt", 1, true))
  end)

  it("databricks-cli uses what `databricks auth token --host` prints", function()
    local ws = workspace("Bearer cli-token")
    finally(function() ws:stop() end)
    assert(list_with({ host = ws.url, auth_type = "databricks-cli",
      databricks_cli_path = "spec/support/bin/databricks" }))
  end)

  -- The stand-in with some variables set, as its own executable (the variables
  -- of this process cannot be changed from Lua).
  local function cli_with(vars)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("#!/bin/sh\n")
    for k, v in pairs(vars) do f:write(k, "='", v, "'\n", "export ", k, "\n") end
    f:write('exec "', os.getenv("PWD") or ".", '/spec/support/bin/databricks" "$@"\n')
    f:close()
    assert(os.execute("chmod +x " .. path))
    return path
  end

  it("databricks-cli reads the token from stdout alone: a warning on stderr is no failure", function()
    local ws = workspace("Bearer cli-token-warned")
    local cli = cli_with({ FAKE_CLI_TOKEN = "cli-token-warned",
      FAKE_CLI_WARN = "Warning: a new version of the Databricks CLI is available" })
    finally(function() ws:stop(); os.remove(cli) end)
    local res, err = list_with({ host = ws.url, auth_type = "databricks-cli", databricks_cli_path = cli })
    assert.is_nil(err and tostring(err):find("cli-token-warned", 1, true), tostring(err))
    assert.same({}, res and res.webhooks, tostring(err))
  end)

  it("databricks-cli never echoes stdout in an error, only stderr, without long words", function()
    local ws = workspace("Bearer never")
    local broken = cli_with({ FAKE_CLI_TOKEN = "cli-token-in-a-broken-line", FAKE_CLI_BROKEN = "1",
      FAKE_CLI_WARN = "Error: cannot refresh: token dapi0123456789abcdef0123456789abcdef expired" })
    local quiet = cli_with({ FAKE_CLI_TOKEN = "cli-token-in-a-broken-line", FAKE_CLI_BROKEN = "1" })
    finally(function() ws:stop(); os.remove(broken); os.remove(quiet) end)
    local _, err = list_with({ host = ws.url, auth_type = "databricks-cli", databricks_cli_path = broken })
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.matches("Error: cannot refresh: token <redacted> expired", err.message, 1, true)
    assert.is_nil(tostring(err):find("cli-token-in-a-broken-line", 1, true), tostring(err))
    assert.is_nil(tostring(err):find("dapi0123", 1, true), tostring(err))
    _, err = list_with({ host = ws.url, auth_type = "databricks-cli", databricks_cli_path = quiet })
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.matches("printed no token it could read", err.message, 1, true)
    assert.is_nil(tostring(err):find("cli-token-in-a-broken-line", 1, true), tostring(err))
  end)
end)

-- End to end against the local workspace, which issues tokens that live 2 s
-- (refreshed after 1 s): every kind gets a token, uses it, gets a new one
-- after expiry, fails cleanly on a wrong secret or an unreachable token
-- endpoint, and never shows its secret.
local wsmod = require("spec.support.workspace")
local socket = require("socket")
local cjson = require("cjson")

local TTL = 2

local function count_path(srv, path)
  local n = 0
  for _, r in ipairs(srv:requests()) do
    if r.path == path then n = n + 1 end
  end
  return n
end

-- Every request the workspace saw that is not an API request must carry no
-- Bearer token it issued; API requests carry none of the secrets.
local function assert_tokens_stay_home(srv, secrets)
  for _, r in ipairs(srv:requests()) do
    local raw = cjson.encode(r)
    for _, s in ipairs(secrets) do
      if r.path:sub(1, 5) == "/api/" then assert.is_nil(raw:find(s, 1, true), s .. " sent with " .. r.path) end
    end
    if r.path:sub(1, 5) ~= "/api/" then
      local auth = r.headers.authorization
      assert.is_falsy(type(auth) == "string" and auth:find("Bearer ws", 1, true), "token sent to " .. r.path)
    end
  end
end

local function no_secret_in(secrets, ...)
  for _, text in ipairs({ ... }) do
    for _, s in ipairs(secrets) do assert.is_nil(tostring(text):find(s, 1, true), "secret in: " .. tostring(text)) end
  end
end

-- The kinds configured by options; token_path is where it gets its token.
local function kinds(srv)
  local m2m_wrong = { host = srv.url, client_id = srv.client_id, client_secret = "wrong-secret" }
  return {
    { name = "basic", static = true, secrets = { wsmod.PASSWORD },
      opts = { host = srv.url, username = wsmod.USERNAME, password = wsmod.PASSWORD },
      wrong = { host = srv.url, username = wsmod.USERNAME, password = "wrong-password" } },
    { name = "metadata-service", token_path = wsmod.METADATA_PATH, secrets = { "local-metadata-secret" },
      opts = { host = srv.url, metadata_service_url = srv.url .. wsmod.METADATA_PATH },
      wrong = { host = srv.url, metadata_service_url = srv.url .. "/metadata-service/wrong-secret" },
      unreachable = { host = srv.url, metadata_service_url = "http://127.0.0.1:1/metadata-service/x" } },
    { name = "oauth-m2m", token_path = "/oidc/v1/token", secrets = { srv.client_secret },
      opts = { host = srv.url, client_id = srv.client_id, client_secret = srv.client_secret },
      wrong = m2m_wrong, drop_token = true },
    { name = "azure-client-secret", token_path = "/" .. wsmod.AZURE_TENANT_ID .. "/oauth2/token",
      secrets = { wsmod.AZURE_CLIENT_SECRET },
      opts = { host = srv.url, azure_client_id = wsmod.AZURE_CLIENT_ID, azure_tenant_id = wsmod.AZURE_TENANT_ID,
        azure_client_secret = wsmod.AZURE_CLIENT_SECRET, azure_login_host = srv.url },
      wrong = { host = srv.url, azure_client_id = wsmod.AZURE_CLIENT_ID, azure_tenant_id = wsmod.AZURE_TENANT_ID,
        azure_client_secret = "wrong-secret", azure_login_host = srv.url },
      unreachable = { host = srv.url, azure_client_id = wsmod.AZURE_CLIENT_ID,
        azure_tenant_id = wsmod.AZURE_TENANT_ID, azure_client_secret = wsmod.AZURE_CLIENT_SECRET,
        azure_login_host = "http://127.0.0.1:1/" } },
  }
end

local function with(opts, extra)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("auth kinds against the local workspace", function()
  local srv = wsmod.start{ token_ttl = TTL }
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  for _, k in ipairs(kinds(srv)) do
    describe(k.name, function()
      it("lists webhooks, refreshes its token after expiry, never shows its secret", function()
        local lines = {}
        local c = assert(webhooks.new(with(k.opts, { debug = function(l) lines[#lines + 1] = l end })))
        assert(c:list())
        if not k.static then
          assert.equal(1, count_path(srv, k.token_path))
          assert(c:list())
          assert.equal(1, count_path(srv, k.token_path)) -- still valid: not asked again
          socket.sleep(TTL / 2 + 0.1)
          assert(c:list())
          assert.equal(2, count_path(srv, k.token_path))
        end
        assert_tokens_stay_home(srv, k.secrets)
        no_secret_in(k.secrets, tostring(c), table.concat(lines, "\n"))
        c:close()
      end)

      it("fails with UNAUTHENTICATED on a wrong secret, naming no secret", function()
        local lines = {}
        local c = assert(webhooks.new(with(k.wrong, { debug = function(l) lines[#lines + 1] = l end })))
        local res, err = c:list()
        assert.is_nil(res)
        assert.equal("UNAUTHENTICATED", err.error_code)
        no_secret_in(k.secrets, tostring(err), err.message, table.concat(lines, "\n"), tostring(c))
        no_secret_in({ "wrong-secret", "wrong-password" }, tostring(err), table.concat(lines, "\n"))
      end)

      if k.unreachable or k.drop_token then
        it("fails with CONNECTION_ERROR when its token endpoint is unreachable", function()
          local opts = k.unreachable or k.opts
          if k.drop_token then srv:faults{ { kind = "drop", path = "token" } } end
          local c = assert(webhooks.new(with(opts, { retry_timeout = 0 })))
          local _, err = c:list()
          assert.equal("CONNECTION_ERROR", err.error_code)
          no_secret_in(k.secrets, tostring(err))
          assert.equal(0, count_path(srv, "/api/2.0/mlflow/registry-webhooks/list"))
        end)
      end
    end)
  end

  it("client:bulk with an expired token asks the token endpoint once (single flight)", function()
    local c = assert(webhooks.new{ host = srv.url, client_id = srv.client_id, client_secret = srv.client_secret })
    assert(c:list())
    socket.sleep(TTL / 2 + 0.1)
    srv:reset()
    local reqs = {}
    for i = 1, 20 do
      reqs[i] = { events = { "MODEL_VERSION_CREATED" }, http_url_spec = { url = "https://example.com/h" .. i } }
    end
    local res = c:bulk("create", reqs, { parallel = 8 })
    for i = 1, 20 do assert.is_table(res[i].ok, tostring(res[i].err)) end
    assert.equal(1, count_path(srv, "/oidc/v1/token"))
    c:close()
  end)
end)

-- Kinds that read the process environment (env-oidc, github-oidc) or PATH
-- (databricks-cli) run in a child Lua with that environment: it lists,
-- waits past expiry, lists again, and prints what happened as JSON.
local INTERP = (type(jit) == "table") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local CHILD = [[
require("spec.helper")
local webhooks = require("databricks.webhooks")
local cjson = require("cjson")
local lines = {}
local out = { lines = lines }
local c, err = webhooks.new{ debug = function(l) lines[#lines + 1] = l end, retry_timeout = 0 }
if c then
  out.first, err = c:list()
  out.first = out.first ~= nil
  if out.first then
    require("socket").sleep(tonumber(os.getenv("CHILD_WAIT")))
    out.second, err = c:list()
    out.second = out.second ~= nil
  end
  out.client = tostring(c)
end
if err then out.err, out.code = tostring(err), err.error_code end
io.write(cjson.encode(out))
]]

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run_child(env)
  local script = os.tmpname()
  local f = assert(io.open(script, "w")); f:write(CHILD); f:close()
  local parts = { "env -i", "HOME=/nonexistent", "PATH=" .. sh_quote(env.PATH or os.getenv("PATH")) }
  -- Under `make asan` the child keeps the sanitizers' settings (reports go to
  -- their files, not into the JSON it prints), without leak checking: LSan's
  -- tracer can crash in a short-lived process whose libcurl resolver thread is
  -- still ending, and these children run code the in-process specs leak-check.
  for _, name in ipairs({ "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" }) do
    local v = os.getenv(name)
    if v and v ~= "" then
      if name == "ASAN_OPTIONS" then v = v .. ":detect_leaks=0" end
      parts[#parts + 1] = name .. "=" .. sh_quote(v)
    end
  end
  for k, v in pairs(env) do
    if k ~= "PATH" then parts[#parts + 1] = k .. "=" .. sh_quote(v) end
  end
  local p = assert(io.popen(table.concat(parts, " ") .. " " .. INTERP .. " " .. script .. " 2>&1"))
  local text = p:read("*a")
  p:close()
  os.remove(script)
  local ok, res = pcall(cjson.decode, text)
  assert(ok, text)
  return res
end

local function gather(res) return (res.err or "") .. (res.client or "") .. table.concat(res.lines, "\n") end

describe("auth kinds from the environment, against the local workspace", function()
  local srv = wsmod.start{ token_ttl = TTL }
  local wait = tostring(TTL / 2 + 0.1)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it("env-oidc: DATABRICKS_OIDC_TOKEN exchanged at the workspace, refreshed after expiry", function()
    local res = run_child{ DATABRICKS_HOST = srv.url, DATABRICKS_CLIENT_ID = srv.client_id,
      DATABRICKS_OIDC_TOKEN = wsmod.OIDC_SUBJECT_TOKEN, CHILD_WAIT = wait }
    assert.is_true(res.first, res.err)
    assert.is_true(res.second, res.err)
    assert.equal(2, count_path(srv, "/oidc/v1/token"))
    local body = srv:requests()[2].body
    assert.matches("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant%-type%%3Atoken%-exchange", body)
    assert.matches("subject_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken%-type%%3Ajwt", body)
    assert.truthy(body:find("client_id=" .. srv.client_id, 1, true))
    assert_tokens_stay_home(srv, { wsmod.OIDC_SUBJECT_TOKEN })
    no_secret_in({ wsmod.OIDC_SUBJECT_TOKEN }, gather(res))
  end)

  it("a rejected token's error says where it came from: the variable, the option, the profile", function()
    local res = run_child{ DATABRICKS_HOST = srv.url, DATABRICKS_TOKEN = "wrong-token-env", CHILD_WAIT = "0" }
    assert.equal("UNAUTHENTICATED", res.code)
    assert.matches("(pat credentials: token from DATABRICKS_TOKEN)", res.err, 1, true)
    no_secret_in({ "wrong-token-env" }, gather(res))

    local c = assert(webhooks.new{ host = srv.url, token = "wrong-token-opt", retry_timeout = 0 })
    local _, err = c:list()
    assert.equal(401, err.status)
    assert.matches("(pat credentials: token from the token option)", err.message, 1, true)
    c:close()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w")); f:write("[ci]\nhost = ", srv.url, "\ntoken = wrong-token-file\n"); f:close()
    os.execute("chmod 600 " .. path)
    c = assert(webhooks.new{ profile = "ci", config_file = path, retry_timeout = 0 })
    _, err = c:list()
    assert.matches("(pat credentials: token from " .. path .. " ci profile)", err.message, 1, true)
    no_secret_in({ "wrong-token-opt", "wrong-token-file" }, tostring(err))
    c:close()
  end)

  it("env-oidc: a subject token the workspace refuses is UNAUTHENTICATED, not shown", function()
    local res = run_child{ DATABRICKS_HOST = srv.url, DATABRICKS_CLIENT_ID = srv.client_id,
      DATABRICKS_OIDC_TOKEN = "forged-jwt", CHILD_WAIT = "0" }
    assert.equal("UNAUTHENTICATED", res.code)
    assert.matches("invalid_grant", res.err)
    no_secret_in({ "forged-jwt" }, gather(res))
  end)

  it("file-oidc: the file's token exchanged, the file read again at each refresh", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w")); f:write(wsmod.OIDC_SUBJECT_TOKEN, "\n"); f:close()
    finally(function() os.remove(path) end)
    local c = assert(webhooks.new{ host = srv.url, client_id = srv.client_id, oidc_token_filepath = path })
    assert(c:list())
    f = assert(io.open(path, "w")); f:write("rotated-jwt"); f:close()
    socket.sleep(TTL / 2 + 0.1)
    local _, err = c:list()
    assert.equal("UNAUTHENTICATED", err.error_code)
    no_secret_in({ "rotated-jwt", wsmod.OIDC_SUBJECT_TOKEN }, tostring(err), tostring(c))
    assert.equal(2, count_path(srv, "/oidc/v1/token"))
  end)

  it("github-oidc: the ID token from GitHub's endpoint, its request token sent there only", function()
    local gh = stub.start(([[return function(req)
      if req.headers["authorization"] == "Bearer gh-request-token" and req.target:find("audience=", 1, true) then
        return response(200, '{"count":1,"value":"%s"}')
      end
      return response(401, '{"message":"Bad credentials"}')
    end]]):format(wsmod.OIDC_SUBJECT_TOKEN))
    finally(function() gh:stop() end)
    local env = { DATABRICKS_HOST = srv.url, DATABRICKS_CLIENT_ID = srv.client_id,
      ACTIONS_ID_TOKEN_REQUEST_URL = gh.url .. "/token?api-version=2.0",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN = "gh-request-token", CHILD_WAIT = wait }
    local res = run_child(env)
    assert.is_true(res.first, res.err)
    assert.is_true(res.second, res.err)
    assert.equal(2, count_path(srv, "/oidc/v1/token"))
    assert.equal(2, #gh:requests())
    for _, r in ipairs(srv:requests()) do
      assert.is_nil(cjson.encode(r):find("gh-request-token", 1, true))
    end
    no_secret_in({ "gh-request-token", wsmod.OIDC_SUBJECT_TOKEN }, gather(res))
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, env.CHILD_WAIT = "wrong-request-token", "0"
    res = run_child(env)
    assert.equal("UNAUTHENTICATED", res.code)
    no_secret_in({ "wrong-request-token" }, gather(res))
    env.ACTIONS_ID_TOKEN_REQUEST_URL = "http://127.0.0.1:1/token"
    res = run_child(env)
    assert.equal("CONNECTION_ERROR", res.code)
  end)

  it("databricks-cli: the `databricks` first on PATH, run again after expiry", function()
    local log = os.tmpname()
    finally(function() os.remove(log) end)
    srv:settings{ tokens = { "cli-token-1" } }
    local env = { PATH = "spec/support/bin:" .. os.getenv("PATH"), DATABRICKS_HOST = srv.url,
      DATABRICKS_AUTH_TYPE = "databricks-cli", FAKE_CLI_TOKEN = "cli-token-1", FAKE_CLI_LOG = log,
      FAKE_CLI_TTL = "3", CHILD_WAIT = "2.1" }
    local res = run_child(env)
    assert.is_true(res.first, res.err)
    assert.is_true(res.second, res.err)
    local runs = 0
    for line in io.lines(log) do
      runs = runs + 1
      assert.equal("auth token --host " .. srv.url, line)
    end
    assert.equal(2, runs)
    no_secret_in({ "cli-token-1" }, gather(res))
    env.FAKE_CLI_FAIL, env.CHILD_WAIT = "cannot find profile", "0"
    res = run_child(env)
    assert.equal("UNAUTHENTICATED", res.code)
    assert.matches("cannot find profile", res.err)
  end)
end)
