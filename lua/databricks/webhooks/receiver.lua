--- Receiving webhook deliveries inside nginx (lua-nginx-module / OpenResty),
-- from Databricks' Model Registry or from an open-source MLflow server.
--
--     location = /databricks/webhook {
--       content_by_lua_block {
--         require("databricks.webhooks.receiver").handle{
--           secret = os.getenv("WEBHOOK_SECRET"),   -- or { new, old } while rotating, or a function
--           max_body = 1024 * 1024,
--           on_event = function(event, raw) ngx.log(ngx.NOTICE, event.event) end,
--         }
--       }
--     }
--
--     location = /mlflow/webhook {
--       content_by_lua_block {
--         local receiver = require("databricks.webhooks.receiver")
--         local seen = receiver.seen_in(ngx.shared.webhook_seen, 660)  -- > max_age + max_skew
--         receiver.handle{
--           api = "mlflow",
--           secret = os.getenv("MLFLOW_WEBHOOK_SECRET"),
--           is_duplicate = seen.is_duplicate, forget = seen.forget,
--           on_event = function(event) ngx.log(ngx.NOTICE, event.event) end, -- "model_version.created"
--         }
--       }
--     }
--
-- **Which family.** `api = "databricks"` or `api = "mlflow"` says who sends
-- to the location. Without it each request is read by its headers: one with
-- any of `X-MLflow-Signature`, `X-MLflow-Delivery-Id` or `X-MLflow-Timestamp`
-- as MLflow's (401 if it also has `X-Databricks-Signature`), any other as
-- Databricks'. Set `api` when you know the sender; give each family its own
-- secret.
--
-- For each request, in this order:
--
-- * 500: no secret configured: the receiver fails closed (with
--   `allow_unsigned`, only a signed MLflow delivery gets this);
-- * 405: the method is not POST;
-- * 413: the body is larger than `max_body` (checked on Content-Length before
--   reading, and on the bytes read);
-- * Databricks:
--   * 401: no `X-Databricks-Signature` header, more than one, or a signature
--     that does not match the HMAC-SHA256 of the exact body bytes with the
--     secret (compared in constant time by `webhooks.verify_signature`);
--   * 400: the (authentic) body is not a JSON delivery (`webhooks.parse_delivery`);
--   * 400: with `max_age` (seconds): the delivery's `event_timestamp` (ms since
--     the epoch, covered by the signature) is missing, or more than `max_age`
--     seconds in the past or in the future;
-- * MLflow:
--   * 401: more than one of a header; no `X-MLflow-Signature` (a webhook
--     without a secret sends none; accepted only with `allow_unsigned = true`);
--     a missing `X-MLflow-Delivery-Id` or `X-MLflow-Timestamp`, a malformed
--     one, or a signature that does not match
--     (`webhooks.verify_mlflow_signature`, in constant time);
--   * 400: the signed `X-MLflow-Timestamp` (Unix seconds) is more than
--     `max_age` seconds old (default 300) or more than `max_skew` seconds
--     ahead (default 30); the body is not an MLflow envelope
--     `{entity, action, timestamp, data}`;
--   * unsigned, with `allow_unsigned`: 400 for a missing delivery id, or a
--     timestamp missing, malformed or out of those bounds. Anyone who can
--     reach the location can then post events, even with a `secret` set (a
--     signature present is still verified; one left out is not required);
-- * 200: with `is_duplicate(key, event)`: it returned true, so the delivery
--   is acknowledged but not handed to `on_event` again. `key` identifies the
--   delivery itself. Databricks: `webhooks.delivery_key(raw)`, the hex SHA-256
--   of the exact body (a sender's retry repeats the bytes; two events of one
--   webhook in the same millisecond differ in their body). MLflow: the
--   `X-MLflow-Delivery-Id` (covered by the signature; MLflow's retries repeat
--   id, timestamp, signature and body). `event` is the parsed delivery;
-- * 200: `on_event(event, raw)` ran; it may return a status (and a body) to
--   answer instead, and an error it raises becomes a 500 (logged). When it
--   fails (raises or answers 5xx), `forget(key, event)` (if given) is called
--   so that the sender's retry is not a duplicate. (MLflow retries on 429 and
--   500, 502, 503, 504; Databricks on any failure.)
--
-- The body is read with `ngx.req.read_body()`; one that nginx buffered to a
-- temporary file (larger than `client_body_buffer_size`) is read from that file.
-- Keep `client_max_body_size` at least `max_body`, or nginx answers 413 itself.
-- Nothing is parsed before the signature is verified.
--
-- `receiver.seen_in(dict, ttl)` gives both hooks over a `lua_shared_dict`,
-- shared by every worker of the nginx instance. Keep `ttl` above the window a
-- delivery is accepted in (`max_age + max_skew` for MLflow, twice `max_age`
-- for Databricks), so that a replay inside it is still a duplicate. One dict
-- may serve both families: their keys cannot collide (64 hex digits, uuids).
--
-- `receiver.read(opts)` does the same checks without answering: it returns
-- `event, raw` or `nil, status, reason` (a duplicate is `nil, 200, "duplicate
-- delivery"`), for handlers that answer themselves.
--
-- @module databricks.webhooks.receiver

local webhooks = require("databricks.webhooks")
local mlflow_delivery = require("databricks.webhooks.mlflow_delivery")

local ngx = ngx
local type, tostring, tonumber, pcall, ipairs = type, tostring, tonumber, pcall, ipairs
local str_format = string.format
local io_open = io.open

local M = {}

--- Bodies larger than this are refused when `max_body` is not given (a
-- delivery is well under 10 kB).
M.DEFAULT_MAX_BODY = 1024 * 1024

local SIGNATURE_HEADER = "x-databricks-signature"
-- open-source MLflow's three headers, and their spelling in reasons
local MLFLOW_HEADERS = {
  { "x-mlflow-signature", "X-MLflow-Signature" },
  { "x-mlflow-delivery-id", "X-MLflow-Delivery-Id" },
  { "x-mlflow-timestamp", "X-MLflow-Timestamp" },
}
local APIS = { mlflow = true, databricks = true }
local HOOKS = { "on_event", "is_duplicate", "forget" }

local REASON = {
  [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [405] = "Method Not Allowed",
  [413] = "Payload Too Large", [500] = "Internal Server Error",
}

-- The secrets to try: a string, an array of strings (rotation), or a function
-- returning either (looked up per request, e.g. from a shared dict).
local function secrets_of(opts)
  local s = opts.secret
  if type(s) == "function" then s = s() end
  if type(s) == "string" then
    if s == "" then return nil end
    return { s }
  end
  if type(s) == "table" and #s > 0 then
    for _, v in ipairs(s) do
      if type(v) ~= "string" or v == "" then return nil end
    end
    return s
  end
  return nil
end

-- The raw body, from memory or from nginx's temporary file. Returns body, or
-- nil, status, reason.
local function read_body(max)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body == nil then
    local path = ngx.req.get_body_file()
    if path == nil then return "" end
    local f, err = io_open(path, "rb")
    if not f then
      ngx.log(ngx.ERR, "databricks.webhooks.receiver: cannot open the buffered body: ", err)
      return nil, 500, "cannot read the request body"
    end
    local size = f:seek("end")
    if size and size > max then
      f:close()
      return nil, 413, "body larger than " .. max .. " bytes"
    end
    f:seek("set")
    body = f:read("*a") or ""
    f:close()
  end
  if #body > max then return nil, 413, "body larger than " .. max .. " bytes" end
  return body
end

-- Raises on options of the wrong type (level: the caller of read/handle).
local function check_opts(opts, fname, level)
  if type(opts) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. type(opts) .. ")", level)
  end
  local max = opts.max_body
  if max ~= nil and (type(max) ~= "number" or max < 0) then
    error("bad option 'max_body' (number >= 0 expected)", level)
  end
  local age = opts.max_age
  if age ~= nil and (type(age) ~= "number" or age ~= age or age <= 0 or age == math.huge) then
    error("bad option 'max_age' (seconds > 0 expected)", level)
  end
  local skew = opts.max_skew
  if skew ~= nil and (type(skew) ~= "number" or skew ~= skew or skew < 0 or skew == math.huge) then
    error("bad option 'max_skew' (seconds >= 0 expected)", level)
  end
  if opts.api ~= nil and not APIS[opts.api] then
    error("bad option 'api' (\"mlflow\" or \"databricks\" expected, got " .. tostring(opts.api) .. ")", level)
  end
  if opts.allow_unsigned ~= nil and type(opts.allow_unsigned) ~= "boolean" then
    error("bad option 'allow_unsigned' (boolean expected, got " .. type(opts.allow_unsigned) .. ")", level)
  end
  for _, name in ipairs(HOOKS) do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error(("bad option '%s' (function expected, got %s)"):format(name, type(opts[name])), level)
    end
  end
end

local function valid_timestamp(ts)
  return type(ts) == "number" and ts == ts and ts > -math.huge and ts < math.huge
end

-- max_age: the signed event_timestamp (ms) must be within max_age seconds of
-- now, either way. Returns true, or nil, status, reason.
local function fresh(event, max_age)
  local ts = event.event_timestamp
  if not valid_timestamp(ts) then return nil, 400, "delivery has no numeric event_timestamp" end
  local age = ngx.now() - ts / 1000
  if age > max_age then
    return nil, 400, str_format("delivery too old (%.0f s, max_age %g s)", age, max_age)
  end
  if -age > max_age then
    return nil, 400, str_format("delivery timestamped %.0f s in the future (max_age %g s)", -age, max_age)
  end
  return true
end

-- is_duplicate: true, or false, or nil, status, reason.
local function duplicate(key, event, hook)
  local ok, seen = pcall(hook, key, event)
  if not ok then
    ngx.log(ngx.ERR, "databricks.webhooks.receiver: is_duplicate failed: ", tostring(seen))
    return nil, 500, "cannot check for duplicates"
  end
  return seen == true
end

-- Which family sent the request: opts.api, or else its headers. Returns
-- "mlflow" or "databricks", or nil, status, reason.
local function family_of(opts, headers)
  if opts.api then return opts.api end
  local mlflow = false
  for _, h in ipairs(MLFLOW_HEADERS) do
    if headers[h[1]] ~= nil then mlflow = true end
  end
  if not mlflow then return "databricks" end
  if headers[SIGNATURE_HEADER] ~= nil then
    return nil, 401, "both X-Databricks-Signature and X-MLflow-* headers (set the receiver's api option)"
  end
  return "mlflow"
end

-- Open-source MLflow: the signature over id.timestamp.body with the secrets,
-- or none when allow_unsigned; the timestamp's freshness in both cases; the
-- delivery id is the key. Returns event, body, key, or nil, status, reason.
local function mlflow_read(opts, headers, secrets, max)
  for _, h in ipairs(MLFLOW_HEADERS) do
    if type(headers[h[1]]) == "table" then return nil, 401, "more than one " .. h[2] .. " header" end
  end
  local signature, id, ts = headers[MLFLOW_HEADERS[1][1]], headers[MLFLOW_HEADERS[2][1]],
    headers[MLFLOW_HEADERS[3][1]]
  local fresh_opts = opts -- its max_age and max_skew (check_opts checked them)
  if signature == nil or signature == "" then
    if not opts.allow_unsigned then
      return nil, 401, "missing X-MLflow-Signature header (unsigned deliveries are refused)"
    end
    if id == nil or id == "" then return nil, 400, "missing X-MLflow-Delivery-Id header" end
    local young, why = mlflow_delivery.fresh(ts, fresh_opts)
    if not young then return nil, 400, why end
  elseif not secrets then
    ngx.log(ngx.ERR, "databricks.webhooks.receiver: a signed MLflow delivery, but no secret configured")
    return nil, 500, "receiver has no secret"
  end

  local body, status, reason = read_body(max)
  if not body then return nil, status, reason end
  if signature ~= nil and signature ~= "" then
    local ok, why, half = mlflow_delivery.check_checked(secrets, body, id, ts, signature, fresh_opts,
      ngx.time())
    if not ok then return nil, half == "freshness" and 400 or 401, why end
  end

  local event, err = webhooks.parse_delivery(body)
  if not event then return nil, 400, err and err.message or "not a delivery" end
  if type(event.entity) ~= "string" then return nil, 400, "not an MLflow delivery (no entity and action)" end
  return event, body, id
end

local function databricks_read(opts, headers, secrets, max)
  if not secrets then
    ngx.log(ngx.ERR, "databricks.webhooks.receiver: no secret configured; refusing deliveries")
    return nil, 500, "receiver has no secret"
  end
  local signature = headers[SIGNATURE_HEADER]
  if signature == nil then return nil, 401, "missing X-Databricks-Signature header" end
  if type(signature) ~= "string" then return nil, 401, "more than one X-Databricks-Signature header" end

  local body, status, reason = read_body(max)
  if not body then return nil, status, reason end

  local ok, why = false, "signature mismatch"
  for _, secret in ipairs(secrets) do
    ok, why = webhooks.verify_signature(secret, body, signature)
    if ok then break end
  end
  if not ok then return nil, 401, why end

  local event, err = webhooks.parse_delivery(body)
  if not event then return nil, 400, err and err.message or "not a delivery" end
  if opts.max_age then
    local young, fstatus, freason = fresh(event, opts.max_age)
    if not young then return nil, fstatus, freason end
  end
  return event, body, webhooks.delivery_key(body)
end

local function authenticated(opts)
  local max = opts.max_body or M.DEFAULT_MAX_BODY
  local secrets = secrets_of(opts)
  -- fails closed before anything is read, unless unsigned MLflow deliveries
  -- may be accepted (a signed one is still refused with a 500 then)
  if not secrets and not (opts.allow_unsigned and opts.api ~= "databricks") then
    ngx.log(ngx.ERR, "databricks.webhooks.receiver: no secret configured; refusing deliveries")
    return nil, 500, "receiver has no secret"
  end
  if ngx.req.get_method() ~= "POST" then return nil, 405, "POST expected" end

  local headers = ngx.req.get_headers()
  -- nginx itself refuses a request with two Content-Length headers
  local declared = tonumber(headers["content-length"])
  if declared and declared > max then return nil, 413, "body larger than " .. max .. " bytes" end
  local family, fstatus, freason = family_of(opts, headers)
  if not family then return nil, fstatus, freason end
  local read = family == "mlflow" and mlflow_read or databricks_read
  local event, body, key = read(opts, headers, secrets, max)
  if not event then return nil, body, key end

  if opts.is_duplicate then
    local seen, dstatus, dreason = duplicate(key, event, opts.is_duplicate)
    if seen == nil then return nil, dstatus, dreason end
    if seen then return nil, 200, "duplicate delivery" end
  end
  return event, body, key
end

--- Reads and authenticates the current request's delivery without answering.
-- @tparam table opts `secret`, `api`, `max_body`, `max_age`, `max_skew`,
--   `allow_unsigned`, `is_duplicate`, as for `handle`
-- @return the parsed event, the raw body and the delivery's key
--   (`webhooks.delivery_key`), or nil, an HTTP status and a reason
function M.read(opts)
  check_opts(opts, "read", 3)
  return authenticated(opts)
end

-- The hooks of one (dict, ttl), made once: seen_in is called in a location's
-- block, i.e. per request, and LuaJIT does not compile making closures.
local seen_hooks = setmetatable({}, { __mode = "k" })
local function new_seen_hooks(dict, ttl)
  return {
    is_duplicate = function(key)
      local ok, err = dict:add(key, true, ttl)
      if ok then return false end
      if err == "exists" then return true end
      -- e.g. "no memory": answered 500, so the sender retries
      error("shared dict: " .. tostring(err), 0)
    end,
    forget = function(key) dict:delete(key) end,
  }
end

--- The de-duplication hooks over a `lua_shared_dict`, which every worker of
-- the nginx instance shares: `is_duplicate` records a key and tells whether
-- it was there already, in one atomic `add`; `forget` deletes it.
-- @param dict a shared dict, e.g. `ngx.shared.webhook_seen`
-- @tparam number ttl seconds a key is kept: longer than a delivery is accepted
--   (twice `max_age` for Databricks, `max_age + max_skew` for MLflow)
-- @treturn table `{ is_duplicate = function(key), forget = function(key) }`, the
--   same table for the same dict and ttl (so calling it per request costs a lookup)
function M.seen_in(dict, ttl)
  if type(dict) ~= "table" and type(dict) ~= "userdata" then
    error("bad argument #1 to 'seen_in' (shared dict expected, got " .. type(dict) .. ")", 2)
  end
  if type(ttl) ~= "number" or ttl ~= ttl or ttl <= 0 or ttl == math.huge then
    error("bad argument #2 to 'seen_in' (seconds > 0 expected)", 2)
  end
  local by_ttl = seen_hooks[dict]
  if not by_ttl then
    by_ttl = {}
    seen_hooks[dict] = by_ttl
  end
  local hooks = by_ttl[ttl]
  if not hooks then
    hooks = new_seen_hooks(dict, ttl)
    by_ttl[ttl] = hooks
  end
  return hooks
end

local function respond(status, text)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain"
  ngx.header["Cache-Control"] = "no-store"
  if status == 405 then ngx.header["Allow"] = "POST" end
  ngx.print(text, "\n")
  return status
end

--- Handles the current request as a webhook delivery and answers it (content
-- phase). Returns the status sent and the event (or the reason of a refusal).
-- @tparam table opts `secret` (a string, an array of strings, or a function
--   returning either), `api` (`"databricks"` or `"mlflow"`; default: by the
--   request's headers), `max_body` (bytes, default 1 MiB), `on_event`
--   (`function(event, raw)`, may return a status and a body), `max_age`
--   (seconds; Databricks: off by default, MLflow: 300), `max_skew` (MLflow:
--   seconds a timestamp may be ahead, default 30), `allow_unsigned` (MLflow:
--   accept deliveries without a signature, from a webhook that has no secret;
--   default false), `is_duplicate` (`function(key, event)`, true when already
--   seen), `forget` (`function(key, event)`); see `seen_in`
function M.handle(opts)
  check_opts(opts, "handle", 3)
  local event, raw_or_status, reason_or_key = authenticated(opts)
  if not event then
    if raw_or_status == 401 or raw_or_status == 400 then
      ngx.log(ngx.WARN, "databricks.webhooks.receiver: refused delivery (", raw_or_status, "): ",
        reason_or_key)
    end
    return respond(raw_or_status, reason_or_key), reason_or_key
  end
  local status, text = 200, REASON[200]
  if opts.on_event then
    local ok, s, t = pcall(opts.on_event, event, raw_or_status)
    if not ok then
      ngx.log(ngx.ERR, "databricks.webhooks.receiver: on_event failed: ", tostring(s))
      status, text = 500, REASON[500]
    elseif type(s) == "number" then
      status = s
      text = t ~= nil and tostring(t) or (REASON[s] or "")
    end
  end
  -- the sender retries a failed delivery: it must not be taken for a duplicate
  if status >= 500 and opts.is_duplicate and opts.forget then
    local ok, err = pcall(opts.forget, reason_or_key, event)
    if not ok then ngx.log(ngx.ERR, "databricks.webhooks.receiver: forget failed: ", tostring(err)) end
  end
  return respond(status, text), event
end

return M
