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
  if form.grant_type ~= "client_credentials" then
    return oauth_error(400, "unsupported_grant_type",
      "Only grant_type=client_credentials is supported.")
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

  local ttl = config.settings.token_ttl
  local token = string.format("wsoauth-%08x%08x%08x%08x", math.random(0, 0xffffffff),
    math.random(0, 0xffffffff), math.random(0, 0xffffffff), math.random(0, 0xffffffff))
  ngx.update_time()
  issued[token] = ngx.now() + ttl
  return 200, json.encode(json.ordered({
    access_token = token, token_type = "Bearer", expires_in = math.ceil(ttl), scope = "all-apis",
  }, { "access_token", "scope", "token_type", "expires_in" })), { ["Cache-Control"] = "no-store" }
end

return M
