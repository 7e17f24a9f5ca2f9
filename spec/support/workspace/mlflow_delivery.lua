-- MLflow deliveries: the envelope, headers and signature, the retries, the
-- per-event webhook cache, and a log of every delivery for the control API.
-- Both /test (synchronous) and fired events (ngx.timer, asynchronous) use it.
-- Connections only go to loopback (delivery.connect_host): any other host fails
-- as a refused connection would, without traffic leaving the machine.
local json = require("workspace.json")
local config = require("workspace.config")
local schema = require("workspace.schema")
local delivery = require("workspace.delivery")
local hmac_sha256 = require("workspace.hmac")
local mstore = require("workspace.mlflow_store")
local mschema = require("workspace.mlflow_schema")

local M = {}

M.MAX_RETRIES = 3
M.RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
M.USER_AGENT = "python-requests/2.32.3"
local MAX_LOG = 500

local log, cache

function M.reset()
  log, cache = {}, {}
end
M.reset()

--- The log of deliveries, oldest first.
function M.log() return log end
function M.clear_log() log = {} end

local function obj(t, keys) return json.ordered(t, keys) end
local NVKV = { "name", "version", "key", "value" }
local NAV = { "name", "alias", "version" }
local NTD = { "name", "tags", "description" }

-- The example() data of each payload type: what /test sends, and what a fired
-- event sends unless the control request gives its own data.
local EXAMPLES = {
  ["registered_model.created"] = function()
    return obj({ name = "example_model", tags = { example_key = "example_value" },
      description = "An example registered model" }, NTD)
  end,
  ["model_version.created"] = function()
    return obj({ name = "example_model", version = "1", source = "models:/123",
      run_id = "abcd1234abcd5678", tags = {}, description = json.null },
      { "name", "version", "source", "run_id", "tags", "description" })
  end,
  ["model_version_tag.set"] = function()
    return obj({ name = "example_model", version = "1", key = "example_key",
      value = "example_value" }, NVKV)
  end,
  ["model_version_tag.deleted"] = function()
    return obj({ name = "example_model", version = "1", key = "example_key" }, NVKV)
  end,
  ["model_version_alias.created"] = function()
    return obj({ name = "example_model", alias = "example_alias", version = "1" }, NAV)
  end,
  ["model_version_alias.deleted"] = function()
    return obj({ name = "example_model", alias = "example_alias" }, NAV)
  end,
  ["prompt.created"] = function()
    return obj({ name = "example_prompt", tags = { example_key = "example_value" },
      description = "An example prompt" }, NTD)
  end,
  ["prompt_version.created"] = function()
    return obj({ name = "example_prompt", version = "1", template = "Hello {{name}}!",
      tags = { example_key = "example_value" }, description = "An example prompt version" },
      { "name", "version", "template", "tags", "description" })
  end,
  ["prompt_tag.set"] = function()
    return obj({ name = "example_prompt", key = "example_key", value = "example_value" },
      { "name", "key", "value" })
  end,
  ["prompt_tag.deleted"] = function()
    return obj({ name = "example_prompt", key = "example_key" }, { "name", "key" })
  end,
  ["prompt_version_tag.set"] = function()
    return obj({ name = "example_prompt", version = "1", key = "example_key",
      value = "example_value" }, NVKV)
  end,
  ["prompt_version_tag.deleted"] = function()
    return obj({ name = "example_prompt", version = "1", key = "example_key" }, NVKV)
  end,
  ["prompt_alias.created"] = function()
    return obj({ name = "example_prompt", alias = "example_alias", version = "1" }, NAV)
  end,
  ["prompt_alias.deleted"] = function()
    return obj({ name = "example_prompt", alias = "example_alias" }, NAV)
  end,
  ["budget_policy.exceeded"] = function()
    return obj({ budget_policy_id = "bp-abc123", budget_unit = "USD",
      budget_amount = json.float(100), current_spend = json.float(105.5), duration_unit = "MONTHS",
      duration_value = 1, target_scope = "WORKSPACE", workspace = "default",
      window_start = 1704067200000 },
      { "budget_policy_id", "budget_unit", "budget_amount", "current_spend", "duration_unit",
        "duration_value", "target_scope", "workspace", "window_start" })
  end,
}

function M.example(event)
  return EXAMPLES[event.entity .. "." .. event.action]()
end

-- datetime.now(timezone.utc).isoformat(): microseconds, dropped when 0.
local function iso_timestamp(now)
  local secs = math.floor(now)
  local micros = math.floor((now - secs) * 1000 + 0.5) * 1000
  if micros >= 1000000 then secs, micros = secs + 1, 0 end
  local base = os.date("!%Y-%m-%dT%H:%M:%S", secs)
  if micros == 0 then return base .. "+00:00" end
  return string.format("%s.%06d+00:00", base, micros)
end
M.iso_timestamp = iso_timestamp

--- One delivery, fixed once: every retry sends exactly these bytes.
local function prepare(wh, event, data, kind)
  ngx.update_time()
  local now = ngx.now()
  local body = json.encode_python(obj({ entity = event.entity, action = event.action,
    timestamp = iso_timestamp(now), data = data }, { "entity", "action", "timestamp", "data" }))
  local id, ts = mstore.uuid4(), tostring(math.floor(now))
  local headers = obj({ ["Content-Type"] = "application/json", ["X-MLflow-Delivery-Id"] = id,
    ["X-MLflow-Timestamp"] = ts, ["User-Agent"] = M.USER_AGENT,
    ["Accept-Encoding"] = "gzip, deflate", Accept = "*/*" },
    { "Content-Type", "X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature" })
  if wh.secret and wh.secret ~= "" then
    headers["X-MLflow-Signature"] = "v1," .. ngx.encode_base64(
      hmac_sha256(wh.secret, id .. "." .. ts .. "." .. body, true))
  end
  local entry = { delivery_id = id, webhook_id = wh.webhook_id, url = wh.url, kind = kind,
    entity = event.entity, action = event.action, headers = headers, body = body,
    attempts = json.array(), done = false }
  log[#log + 1] = entry
  if #log > MAX_LOG then table.remove(log, 1) end
  return entry
end

-- One attempt: status, body, headers or nil, error.
local function attempt(entry)
  local scheme, host, port, path = schema.parse_url(entry.url)
  local addr = scheme and delivery.connect_host(host)
  if not addr then return nil, "could not connect: connection refused" end
  local lines = {}
  for _, k in ipairs({ "X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature",
    "User-Agent", "Accept-Encoding", "Accept" }) do
    if entry.headers[k] then lines[#lines + 1] = k .. ": " .. entry.headers[k] end
  end
  return delivery.send({ scheme = scheme, host = host, addr = addr,
    port = port or (scheme == "https" and 443 or 80), path = path, body = entry.body,
    header_lines = lines, verify = true,
    timeout_ms = (tonumber(config.startup.delivery_timeout) or 30) * 1000 })
end

-- urllib3's Retry(backoff_factor=f): no sleep before the first retry, then
-- f*2, f*4 (capped at 60 s); a Retry-After on 429/503 wins.
local function backoff(retry, headers, status)
  local ra = headers and tonumber(headers["retry-after"])
  if ra and (status == 429 or status == 503) then return ra end
  local f = config.settings.delivery_backoff
  if retry <= 1 or f <= 0 then return 0 end
  return math.min(60, f * 2 ^ (retry - 1))
end

--- Sends with retries; fills entry.attempts and the outcome. Returns status,
-- body or nil, error (after the last attempt).
function M.run(entry)
  -- the non-public check runs again before every send, outside the retries
  local blocked = mschema.blocked(entry.url)
  if blocked then
    entry.attempts[1] = { error = blocked }
    entry.done, entry.success, entry.blocked, entry.error = true, false, true, blocked
    return nil, blocked, true
  end
  local status, body, headers
  for retry = 0, M.MAX_RETRIES do
    if retry > 0 then
      local wait = backoff(retry, headers, status)
      if wait > 0 then ngx.sleep(wait) end
    end
    status, body, headers = attempt(entry)
    entry.attempts[#entry.attempts + 1] = status and { status = status } or { error = body }
    if status and not M.RETRY_STATUS[status] then break end
  end
  entry.done = true
  entry.status = status
  entry.success = status ~= nil and status < 400
  if not status then entry.error = body end
  return status, body
end

--- /test: a synchronous delivery to `wh` (any status) → the result object.
function M.test(wh, event)
  local entry = prepare(wh, event, M.example(event), "test")
  local status, body, blocked = M.run(entry)
  if blocked then
    return obj({ success = false, error_message = string.format(
      'Failed to test webhook: MlflowException("%s")', body) }, { "success", "error_message" })
  end
  if not status then
    local scheme, host, port, path = schema.parse_url(wh.url)
    port = port or (scheme == "https" and 443 or 80)
    local pool = scheme == "https" and "HTTPSConnectionPool" or "HTTPConnectionPool"
    return obj({ success = false, error_message = string.format(
      "Failed to test webhook: ConnectionError(MaxRetryError(\"%s(host='%s', port=%d): Max retries"
      .. " exceeded with url: %s (Caused by NewConnectionError('Failed to establish a new"
      .. " connection: %s'))\"))", pool, host or "", port, path or "/", body) },
      { "success", "error_message" })
  end
  return obj({ success = status < 400, response_status = status, response_body = body },
    { "success", "response_status", "response_body" })
end

-- The ACTIVE webhooks subscribed to an event, as the server caches them: a
-- snapshot (url, secret, status) kept for cache_ttl seconds.
local function subscribers(event)
  local key = event.entity .. "." .. event.action
  ngx.update_time()
  local now, ttl = ngx.now(), config.settings.cache_ttl
  local hit = cache[key]
  if hit and ttl > 0 and now - hit.at < ttl then return hit.hooks end
  local hooks = {}
  for i = #mstore.all(), 1, -1 do
    local wh = mstore.all()[i]
    if not wh.deleted and wh.status == "ACTIVE" then
      for _, e in ipairs(wh.events) do
        if e.entity == event.entity and e.action == event.action then
          hooks[#hooks + 1] = { webhook_id = wh.webhook_id, url = wh.url, secret = wh.secret }
          break
        end
      end
    end
  end
  cache[key] = { at = now, hooks = hooks }
  return hooks
end

--- A real event: one asynchronous delivery per subscribed ACTIVE webhook.
-- Returns the delivery entries (not yet sent).
function M.fire(event, data)
  local entries = {}
  for _, wh in ipairs(subscribers(event)) do
    local entry = prepare(wh, event, data or M.example(event), "event")
    entries[#entries + 1] = entry
    local ok, err = ngx.timer.at(0, function(premature)
      if premature then return end
      M.run(entry)
    end)
    if not ok then entry.done, entry.error = true, "could not schedule: " .. tostring(err) end
  end
  return entries
end

return M
