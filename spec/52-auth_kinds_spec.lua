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
end)
