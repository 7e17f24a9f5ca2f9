-- Entry points called from nginx.conf: init (master), init_worker, and handle()
-- (content phase of every request). Order for a non-control request:
-- record → fault → rate limit (/api/ only) → latency → auth (/api/ only) → endpoint.
-- With api = "mlflow" the endpoints are mlflow_api.lua's (also under /ajax-api/),
-- and nothing else but the control API is served.
local config = require("workspace.config")
local recorder = require("workspace.recorder")
local faults = require("workspace.faults")
local reply = require("workspace.reply")
local oauth = require("workspace.oauth")
local api = require("workspace.api")
local control = require("workspace.control")
local ratelimit = require("workspace.ratelimit")
local mlflow_api = require("workspace.mlflow_api")

local M = {}

function M.init()
  config.load(ngx.config.prefix() .. "conf/workspace.json")
end

function M.init_worker()
  math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end

--- Sends a complete response with a Content-Length (so keep-alive works).
-- `stall_ms`: send the headers, flush, wait, then the body.
local function send(status, body, headers, stall_ms)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.header["Content-Length"] = #body
  if stall_ms then
    ngx.send_headers()
    ngx.flush(true)
    ngx.sleep(stall_ms / 1000)
  end
  ngx.print(body)
end

local NO_CREDENTIAL = "Credential was not sent or was of an unsupported type for this API."

local function authenticate()
  local header = ngx.var.http_authorization
  local scheme, token = (header or ""):match("^(%S+)%s+(%S+)%s*$")
  if scheme and scheme:lower() == "basic" then
    if oauth.basic_ok(token) then return nil end
    return reply.error("UNAUTHENTICATED", "Invalid username or password.")
  end
  if not scheme or scheme:lower() ~= "bearer" then
    return reply.error("UNAUTHENTICATED", NO_CREDENTIAL)
  end
  if config.settings.tokens[token] then return nil end
  local state = oauth.check(token)
  if state == "valid" then return nil end
  if state == "expired" then return reply.error("UNAUTHENTICATED", "Access token has expired.") end
  return reply.error("UNAUTHENTICATED", "Invalid access token.")
end

local function route(req)
  local path = req.path
  if config.startup.api == "mlflow" then
    if not mlflow_api.owns(path) then return mlflow_api.not_found() end
    local status, body, headers = mlflow_api.authenticate(req)
    if status then return status, body, headers end
    return mlflow_api.handle(req)
  end
  if path:sub(1, 5) == "/api/" then
    local status, body, headers = authenticate()
    if status then return status, body, headers end
    return api.handle(req)
  elseif path == "/oidc/.well-known/oauth-authorization-server" then
    return oauth.discovery(req)
  elseif path == "/oidc/v1/token" then
    return oauth.token(req)
  elseif path:match("^/[^/]+/oauth2/token$") then
    return oauth.entra_token(req, path:match("^/([^/]+)/"))
  elseif path:match("^/metadata%-service/[^/]+$") then
    return oauth.metadata(req, path:match("([^/]+)$"))
  end
  return reply.error("ENDPOINT_NOT_FOUND",
    string.format("No API found for '%s %s'", req.method, path))
end

function M.handle()
  local path = ngx.var.uri
  if path:sub(1, 11) == "/__control/" then
    return send(control.handle(path:sub(12)))
  end

  local req = recorder.capture()
  recorder.record(req)
  local fault = faults.take(req)
  if fault then
    req.fault = fault.kind
    if not faults.DELAYS[fault.kind] then return faults.run(fault, req, send) end
    if fault.kind == "slow" then ngx.sleep((tonumber(fault.delay_ms) or 1000) / 1000) end
  end
  if mlflow_api.owns(req.path) then
    local status, body, headers = ratelimit.take()
    if status then
      req.status, req.rate_limited = status, true
      return send(status, body, headers)
    end
  end
  local latency = config.settings.latency_ms
  if latency > 0 then ngx.sleep(latency / 1000) end

  local status, body, headers = route(req)
  req.status = status
  local stall = fault and fault.kind == "stall_after_headers"
    and (tonumber(fault.delay_ms) or 2000) or nil
  return send(status, body, headers, stall)
end

return M
