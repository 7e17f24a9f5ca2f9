--- Which kind of credentials a client uses: the kinds this client supports in
-- the order of the SDKs' default chain, what each needs, and the choice.
--
-- @module databricks.webhooks.auth_kinds

local type, ipairs, select = type, ipairs, select

local M = {}

-- The kinds this client supports, in the order of the SDKs' default chain
-- (Python credentials_provider.py DefaultCredentials._auth_providers).
local AUTH_ORDER = { "pat", "basic", "metadata-service", "oauth-m2m", "env-oidc", "file-oidc", "github-oidc",
  "azure-client-secret", "databricks-cli" }
--- The supported kinds, in order.
M.ORDER = AUTH_ORDER
--- The set of supported kinds: `SUPPORTED[name] == true`.
M.SUPPORTED = {}
for _, name in ipairs(AUTH_ORDER) do M.SUPPORTED[name] = true end

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

--- auth_type forces one kind; else the first configured one in the SDKs'
-- order. Returns the kind, nil and its credentials, or nil and why.
function M.choose(vals, getenv)
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


return M
