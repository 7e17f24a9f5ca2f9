-- The control API under /__control/ (no auth), used by specs, the demo and the
-- benchmarks to inspect and steer the workspace. See spec/support/README.md.
local json = require("workspace.json")
local config = require("workspace.config")
local store = require("workspace.store")
local recorder = require("workspace.recorder")
local faults = require("workspace.faults")
local oauth = require("workspace.oauth")
local api = require("workspace.api")
local ratelimit = require("workspace.ratelimit")
local mschema = require("workspace.mlflow_schema")
local mstore = require("workspace.mlflow_store")
local mdelivery = require("workspace.mlflow_delivery")

local M = {}

local function ok(v)
  return 200, type(v) == "string" and v or json.encode(v)
end

local function bad(status, message)
  return status, json.encode({ error = message })
end

local function body_object()
  local text = recorder.body()
  if text:match("^%s*$") then return {} end
  local v = json.decode(text)
  if type(v) ~= "table" or not json.is_object_text(text) then
    return nil, "the body must be a JSON object"
  end
  return v
end

local function keys_of(set)
  local out = json.array()
  for k in pairs(set or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local unpack_list = table.unpack or unpack -- luacheck: ignore 143

local function settings_view()
  local s = config.settings
  return {
    latency_ms = s.latency_ms, token_ttl = s.token_ttl, oauth_discovery = s.oauth_discovery,
    tokens = keys_of(s.tokens), client_id = s.client_id, client_secret = s.client_secret,
    known_models = s.known_models and keys_of(s.known_models) or false,
    sink_status = s.sink_status, sink_body = s.sink_body, sink_delay_ms = s.sink_delay_ms,
    rate_limit = s.rate_limit or false, rate_limit_burst = s.rate_limit_burst or false,
    rate_limit_retry_after = s.rate_limit_retry_after or false,
    sink_statuses = json.array({ unpack_list(s.sink_statuses) }),
    delivery_backoff = s.delivery_backoff, cache_ttl = s.cache_ttl,
    allowed_schemes = s.allowed_schemes, allow_private_ips = s.allow_private_ips,
  }
end

local function string_set(v)
  if type(v) ~= "table" then return nil end
  local set = {}
  for _, x in pairs(v) do
    if type(x) ~= "string" then return nil end
    set[x] = true
  end
  return set
end

-- name → function(value) returning nil on success or an error message.
local SETTERS = {
  latency_ms = function(v, s)
    if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
    s.latency_ms = v
  end,
  token_ttl = function(v, s)
    if type(v) ~= "number" or v <= 0 then return "must be a number > 0" end
    s.token_ttl = v
  end,
  oauth_discovery = function(v, s)
    if type(v) ~= "boolean" then return "must be a boolean" end
    s.oauth_discovery = v
  end,
  oauth_token_endpoint = function(v, s)
    if type(v) ~= "string" then return "must be a string" end
    s.oauth_token_endpoint = v ~= "" and v or nil
  end,
  tokens = function(v, s)
    s.tokens = string_set(v)
    if not s.tokens then return "must be an array of strings" end
  end,
  client_id = function(v, s)
    if type(v) ~= "string" then return "must be a string" end
    s.client_id = v
  end,
  client_secret = function(v, s)
    if type(v) ~= "string" then return "must be a string" end
    s.client_secret = v
  end,
  known_models = function(v, s)
    if v == false or v == json.null then s.known_models = nil; return end
    s.known_models = string_set(v)
    if not s.known_models then return "must be an array of strings or false" end
  end,
  sink_status = function(v, s)
    if type(v) ~= "number" or v < 100 or v > 599 then return "must be an HTTP status" end
    s.sink_status = v
  end,
  sink_body = function(v, s)
    if type(v) ~= "string" then return "must be a string" end
    s.sink_body = v
  end,
  sink_delay_ms = function(v, s)
    if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
    s.sink_delay_ms = v
  end,
  rate_limit = function(v, s)
    if v == false or v == json.null or v == 0 then s.rate_limit = nil; return end
    if type(v) ~= "number" or v < 0 or v ~= v or v == math.huge then
      return "must be a number of requests per second > 0, or false"
    end
    s.rate_limit = v
  end,
  rate_limit_burst = function(v, s)
    if v == false or v == json.null then s.rate_limit_burst = nil; return end
    if type(v) ~= "number" or v < 1 or v ~= math.floor(v) or v == math.huge then
      return "must be an integer >= 1, or false"
    end
    s.rate_limit_burst = v
  end,
  rate_limit_retry_after = function(v, s)
    if v == false or v == json.null then s.rate_limit_retry_after = nil; return end
    if type(v) ~= "string" and type(v) ~= "number" then return "must be a string or number, or false" end
    s.rate_limit_retry_after = tostring(v)
  end,
  sink_statuses = function(v, s)
    if type(v) ~= "table" then return "must be an array of HTTP statuses" end
    local list = {}
    for i, x in ipairs(v) do
      if type(x) ~= "number" or x < 100 or x > 599 then return "must be an array of HTTP statuses" end
      list[i] = x
    end
    s.sink_statuses = list
  end,
  delivery_backoff = function(v, s)
    if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
    s.delivery_backoff = v
  end,
  cache_ttl = function(v, s)
    if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
    s.cache_ttl = v
  end,
  allowed_schemes = function(v, s)
    if type(v) ~= "string" or not v:find("%a") then return "must be a comma-separated list of schemes" end
    s.allowed_schemes = v
  end,
  allow_private_ips = function(v, s)
    if type(v) ~= "boolean" then return "must be a boolean" end
    s.allow_private_ips = v
  end,
  revoke_tokens = function(v)
    if v == true then oauth.revoke_all() end
  end,
}

local function settings(method)
  if method == "GET" then return ok(settings_view()) end
  if method ~= "POST" then return bad(405, "use GET or POST") end
  local body, err = body_object()
  if not body then return bad(400, err) end
  for k in pairs(body) do
    if not SETTERS[k] then return bad(400, "unknown setting '" .. tostring(k) .. "'") end
  end
  -- validate everything on a copy first, so a bad value changes nothing
  local copy = {}
  for k, v in pairs(config.settings) do copy[k] = v end
  for k, v in pairs(body) do
    if k ~= "revoke_tokens" then
      local e = SETTERS[k](v, copy)
      if e then return bad(400, "setting '" .. k .. "' " .. e) end
    end
  end
  config.settings = copy
  if body.rate_limit ~= nil or body.rate_limit_burst ~= nil then ratelimit.reset() end
  if body.revoke_tokens ~= nil then SETTERS.revoke_tokens(body.revoke_tokens) end
  return ok(settings_view())
end

local function fault_queue(method)
  if method == "GET" then return ok(faults.pending()) end
  if method == "DELETE" then faults.reset(); return ok({ ok = true }) end
  if method ~= "POST" then return bad(405, "use GET, POST or DELETE") end
  local body, err = body_object()
  if not body then return bad(400, err) end
  local n, ferr = faults.add(body.faults)
  if not n then return bad(400, ferr) end
  return ok({ queued = n, pending = #faults.pending() })
end

-- The delivery sink: records what it receives and answers as the settings say.
local function sink(method, rest)
  if rest == "sink" and method == "GET" then return ok(json.array(recorder.sink())) end
  local rec = recorder.capture()
  recorder.sink_add(rec)
  local s = config.settings
  if s.sink_delay_ms > 0 then ngx.sleep(s.sink_delay_ms / 1000) end
  local status = table.remove(s.sink_statuses, 1) or s.sink_status
  return status, s.sink_body, { ["Content-Type"] = "text/plain" }
end

local function webhooks()
  local out = json.array()
  if config.startup.api == "mlflow" then
    for i, wh in ipairs(mstore.all()) do out[i] = mstore.render(wh, true) end
  else
    for i, wh in ipairs(store.all()) do out[i] = store.render(wh, true) end
  end
  return ok(out)
end

-- POST mlflow/event {entity, action, data?}: a real registry event, delivered
-- asynchronously to the subscribed ACTIVE webhooks (through the cache).
local function mlflow_event(method)
  if method ~= "POST" then return bad(405, "use POST") end
  local body, err = body_object()
  if not body then return bad(400, err) end
  local event = mschema.control_event(body.entity, body.action)
  if not event then return bad(400, "'entity' and 'action' must name a valid event pair") end
  local data = body.data
  if data == json.null then data = nil end
  if data ~= nil and (type(data) ~= "table" or data == json.null) then
    return bad(400, "'data' must be an object")
  end
  local ids, hooks = json.array(), json.array()
  for i, e in ipairs(mdelivery.fire(event, data)) do ids[i], hooks[i] = e.delivery_id, e.webhook_id end
  return ok({ delivery_ids = ids, webhook_ids = hooks })
end

local function mlflow_deliveries(method)
  if method == "DELETE" then mdelivery.clear_log(); return ok({ ok = true }) end
  if method ~= "GET" then return bad(405, "use GET or DELETE") end
  return ok(json.array(mdelivery.log()))
end

local function reset()
  store.reset()
  recorder.reset()
  faults.reset()
  ratelimit.reset()
  config.reset()
  api.reset()
  mstore.reset()
  mdelivery.reset()
  return ok({ ok = true })
end

local GET_ONLY = {
  health = function() return ok({ ok = true }) end,
  stats = function()
    local st = recorder.stats()
    st.rate_limited = ratelimit.limited()
    return ok(st)
  end,
  requests = function() return ok(json.array(recorder.requests())) end,
  webhooks = webhooks,
}

--- Handles /__control/<rest>.
function M.handle(rest)
  local method = ngx.req.get_method()
  if rest == "sink" or rest:sub(1, 5) == "sink/" then
    if rest == "sink" and method == "DELETE" then
      recorder.reset_sink()
      return ok({ ok = true })
    end
    return sink(method, rest)
  end
  if GET_ONLY[rest] then
    if method ~= "GET" then return bad(405, "use GET") end
    return GET_ONLY[rest]()
  end
  if rest == "reset" then
    if method ~= "POST" then return bad(405, "use POST") end
    return reset()
  end
  if rest == "settings" then return settings(method) end
  if rest == "faults" then return fault_queue(method) end
  if rest == "mlflow/event" then return mlflow_event(method) end
  if rest == "mlflow/deliveries" then return mlflow_deliveries(method) end
  return bad(404, "unknown control endpoint /__control/" .. rest)
end

return M
