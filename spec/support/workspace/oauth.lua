-- OAuth machine-to-machine, as a workspace serves it (reference §5): the
-- discovery document and the client-credentials token endpoint. Errors here use
-- the OAuth shape {"error","error_description"}, not the API's.
local json = require("workspace.json")
local config = require("workspace.config")

local M = {}

local issued = {} -- access token → expiry (ngx.now() seconds)

--- Forgets every issued token (settings {"revoke_tokens": true}).
function M.revoke_all()
  issued = {}
end

--- "valid", "expired" or nil for a bearer token.
function M.check(token)
  local exp = issued[token]
  if not exp then return nil end
  ngx.update_time()
  if ngx.now() >= exp then return "expired" end
  return "valid"
end

local function base_url()
  local host = ngx.var.http_host or (ngx.var.server_addr .. ":" .. ngx.var.server_port)
  return ngx.var.scheme .. "://" .. host
end

local function oauth_error(status, err, description)
  return status, json.encode({ error = err, error_description = description })
end

local AZURE_DATABRICKS = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

-- A new access token that the API accepts for token_ttl seconds.
local function issue(prefix)
  local ttl = config.settings.token_ttl
  local token = string.format("ws%s-%08x%08x%08x%08x", prefix, math.random(0, 0xffffffff),
    math.random(0, 0xffffffff), math.random(0, 0xffffffff), math.random(0, 0xffffffff))
  ngx.update_time()
  issued[token] = ngx.now() + ttl
  return token, ttl
end

local function issue_answer(prefix)
  local token, ttl = issue(prefix)
  return 200, json.encode(json.ordered({
    access_token = token, token_type = "Bearer", expires_in = math.ceil(ttl), scope = "all-apis",
  }, { "access_token", "scope", "token_type", "expires_in" })), { ["Cache-Control"] = "no-store" }
end

local TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
local JWT = "urn:ietf:params:oauth:token-type:jwt"

-- Workload identity federation (RFC 8693): the subject token must be the
-- configured identity token, client_id the federated service principal.
local function token_exchange(form)
  if form.subject_token_type ~= JWT then
    return oauth_error(400, "invalid_request", "subject_token_type must be " .. JWT .. ".")
  end
  if form.client_id ~= config.settings.client_id then
    return oauth_error(401, "invalid_client", "Client authentication failed.")
  end
  if form.subject_token ~= config.startup.oidc_subject_token then
    return oauth_error(400, "invalid_grant", "The subject token is invalid or has expired.")
  end
  return issue_answer("oidc")
end

--- GET /oidc/.well-known/oauth-authorization-server
function M.discovery(req)
  if not config.settings.oauth_discovery or req.method ~= "GET" then
    return 404, json.encode({ error_code = "ENDPOINT_NOT_FOUND",
      message = "No API found for '" .. req.method .. " " .. req.path .. "'" })
  end
  local base = base_url()
  return 200, json.encode({
    issuer = base .. "/oidc",
    authorization_endpoint = base .. "/oidc/v1/authorize",
    token_endpoint = config.settings.oauth_token_endpoint or base .. "/oidc/v1/token",
  })
end

-- Form decoding with "+" as space, as application/x-www-form-urlencoded says.
local function form_unescape(s)
  return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h)
    return string.char(tonumber(h, 16))
  end))
end

local function parse_form(body)
  local out = {}
  for pair in body:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[form_unescape(k)] = form_unescape(v)
  end
  return out
end

-- GO and JS URL-encode the id and secret before base64 (the x/oauth2 convention),
-- PY does not: a pair matches when it does either way.
local function credentials_match(id, secret)
  local s = config.settings
  local function eq(a, b) return a == s.client_id and b == s.client_secret end
  return eq(id, secret) or eq(form_unescape(id), form_unescape(secret))
end

--- POST /oidc/v1/token
function M.token(req)
  if req.method ~= "POST" then
    return oauth_error(405, "invalid_request", "The token endpoint only accepts POST.")
  end
  local ctype = (ngx.var.content_type or ""):lower()
  if not ctype:find("application/x-www-form-urlencoded", 1, true) then
    return oauth_error(400, "invalid_request",
      "The request must be application/x-www-form-urlencoded.")
  end
  local form = parse_form(req.body)
  if form.grant_type == TOKEN_EXCHANGE then return token_exchange(form) end
  if form.grant_type ~= "client_credentials" then
    return oauth_error(400, "unsupported_grant_type",
      "Only grant_type=client_credentials and " .. TOKEN_EXCHANGE .. " are supported.")
  end
  if form.scope and not (" " .. form.scope .. " "):find(" all-apis ", 1, true) then
    return oauth_error(400, "invalid_scope", "The requested scope is invalid.")
  end

  local id, secret
  local auth = ngx.var.http_authorization
  if auth then
    local b64 = auth:match("^[Bb][Aa][Ss][Ii][Cc]%s+(%S+)%s*$")
    local decoded = b64 and ngx.decode_base64(b64)
    if decoded then id, secret = decoded:match("^([^:]*):(.*)$") end
  elseif form.client_id then
    id, secret = form.client_id, form.client_secret or ""
  end
  if not id or not credentials_match(id, secret) then
    return oauth_error(401, "invalid_client", "Client authentication failed.")
  end

  return issue_answer("wsoauth")
end

--- POST /<tenant>/oauth2/token: a Microsoft Entra ID (v1) stand-in, so that the
-- login host can point here. client_credentials for the AzureDatabricks
-- resource, the id and secret in the form; expires_in is a string, as v1 sends it.
function M.entra_token(req, tenant)
  if req.method ~= "POST" then
    return oauth_error(405, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
  end
  local st, form = config.startup, parse_form(req.body)
  if tenant ~= st.azure_tenant_id then
    return oauth_error(400, "invalid_request", "AADSTS90002: Tenant '" .. tenant .. "' not found.")
  end
  if form.grant_type ~= "client_credentials" then
    return oauth_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
  end
  if form.resource ~= AZURE_DATABRICKS then
    return oauth_error(400, "invalid_resource", "AADSTS500011: The resource principal was not found.")
  end
  if form.client_id ~= st.azure_client_id or form.client_secret ~= st.azure_client_secret then
    return oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
  end
  local token, ttl = issue("aad")
  return 200, json.encode(json.ordered({ token_type = "Bearer", expires_in = tostring(math.ceil(ttl)),
    resource = AZURE_DATABRICKS, access_token = token },
    { "token_type", "expires_in", "resource", "access_token" }))
end

--- GET /metadata-service/<secret>: the SDKs' metadata-service protocol
-- (X-Databricks-Metadata-Version: 1, X-Databricks-Host naming this workspace;
-- {access_token, token_type, expires_on} with expires_on in epoch seconds).
function M.metadata(req, secret)
  local h = ngx.req.get_headers()
  if req.method ~= "GET" or secret ~= config.startup.metadata_secret then
    return 404, json.encode({ error = "not_found" })
  end
  if h["x-databricks-metadata-version"] ~= "1" then
    return 400, json.encode({ error = "unsupported metadata version" })
  end
  if (h["x-databricks-host"] or ""):gsub("/$", "") ~= base_url() then
    return 404, json.encode({ error = "unknown host " .. tostring(h["x-databricks-host"]) })
  end
  local token, ttl = issue("metadata")
  return 200, json.encode(json.ordered({ access_token = token, token_type = "Bearer",
    expires_on = math.floor(ngx.time() + ttl) }, { "access_token", "token_type", "expires_on" }))
end

--- 1 when a Basic credential is the configured username and password.
function M.basic_ok(b64)
  local decoded = ngx.decode_base64(b64)
  return decoded ~= nil and decoded == config.startup.username .. ":" .. config.startup.password
end

return M
