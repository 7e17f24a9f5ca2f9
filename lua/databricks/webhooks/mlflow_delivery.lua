--- Verifying an open-source MLflow webhook delivery (MLflow 3.3+).
--
-- MLflow signs `delivery_id .. "." .. timestamp .. "." .. raw_body` with
-- HMAC-SHA256 keyed with the webhook's secret, and sends `"v1,"` followed by
-- the standard base64 (with padding) of the digest in `X-MLflow-Signature`,
-- beside `X-MLflow-Delivery-Id` (a uuid) and `X-MLflow-Timestamp` (Unix
-- seconds). A webhook without a secret sends no signature at all.
--
-- The digest and the comparison are done in C (`core.mlflow_hmac`), in constant
-- time. Re-exported as `webhooks.verify_mlflow_signature` and
-- `webhooks.sign_mlflow`, where their reference entries are.
-- @module databricks.webhooks.mlflow_delivery

local mlflow_hmac = require("databricks.webhooks.core").mlflow_hmac
local EXACT_INT_MAX = require("databricks.webhooks.options").EXACT_INT_MAX

local type, ipairs, tonumber, tostring = type, ipairs, tonumber, tostring
local str_format, math_huge = string.format, math.huge

local M = {}

--- Seconds a delivery may be old when `opts.max_age` is not given: 300,
-- what MLflow's documentation asks receivers to enforce.
M.DEFAULT_MAX_AGE = 300

--- Seconds a delivery may be timestamped in the future when `opts.max_skew`
-- is not given: 30, for a sender's clock a little ahead of ours.
M.DEFAULT_MAX_SKEW = 30

local PREFIX = "v1,"

-- lvl: 1 for an error at the caller of the function that calls bad_arg.
local function bad_arg(n, fname, expected, got, lvl)
  error(str_format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(got)),
    (lvl or 1) + 2)
end

local function finite(v)
  return type(v) == "number" and v == v and v > -math_huge and v < math_huge
end

-- The secrets to try, or nil when there is none usable. Empty strings in an
-- array are skipped: an empty key is one anybody can sign with.
local function secrets_of(secret, fname, lvl)
  if type(secret) == "string" then
    return secret ~= "" and { secret } or nil
  end
  if type(secret) ~= "table" then bad_arg(1, fname, "string or array of strings", secret, lvl + 1) end
  local out = {}
  for i, s in ipairs(secret) do
    if type(s) ~= "string" then
      error(str_format("bad argument #1 to '%s' (secret #%d is a %s, string expected)", fname, i,
        type(s)), lvl + 2)
    end
    if s ~= "" then out[#out + 1] = s end
  end
  return #out > 0 and out or nil
end

-- The timestamp as the header's text and as a number, or nil when it is not
-- decimal digits (a number must be a non-negative integer).
local function timestamp_of(ts)
  if type(ts) == "number" then
    if not finite(ts) or ts < 0 or ts % 1 ~= 0 or ts >= EXACT_INT_MAX then return nil end
    local text = str_format("%.0f", ts)
    return text, ts
  end
  if #ts == 0 or #ts > 15 or ts:find("[^0-9]") then return nil end
  return ts, tonumber(ts)
end

local NO_OPTS, OPT_NAMES = {}, { "max_age", "max_skew", "now" }

local function check_opts(opts, argn, fname, lvl)
  if opts == nil then return NO_OPTS end
  if type(opts) ~= "table" then bad_arg(argn, fname, "table", opts, lvl + 1) end
  for _, name in ipairs(OPT_NAMES) do
    local v = opts[name]
    if v ~= nil and (not finite(v) or (name ~= "now" and v < 0)) then
      error(str_format("bad option '%s' to '%s' (%s expected)", name, fname,
        name == "now" and "seconds since the epoch" or "seconds >= 0"), lvl + 2)
    end
  end
  return opts
end

-- Freshness of a timestamp whose format was checked: true, or false, reason.
-- now: the caller's clock (the receiver's is nginx's cached one), or nil.
local function fresh_ts(ts, opts, now)
  local max_age = opts.max_age or M.DEFAULT_MAX_AGE
  local max_skew = opts.max_skew or M.DEFAULT_MAX_SKEW
  local age = (now or opts.now or os.time()) - ts
  if age > max_age then
    return false, str_format("delivery too old (%.0f s, max_age %g s)", age, max_age)
  end
  if -age > max_skew then
    return false, str_format("delivery timestamped %.0f s in the future (max_skew %g s)", -age, max_skew)
  end
  return true
end

--- Whether an (unsigned) delivery's `X-MLflow-Timestamp` is Unix seconds
-- within `-max_skew <= now - timestamp <= max_age` (the second half of
-- `verify_mlflow_signature`, for receivers that accept unsigned deliveries).
-- @tparam ?string|number timestamp the header's value
-- @tparam[opt] table opts `max_age`, `max_skew`, `now`, as for `verify_mlflow_signature`
-- @treturn boolean `true` when fresh
-- @return[2] `false`
-- @treturn[2] string the reason
function M.fresh(timestamp, opts)
  if timestamp ~= nil and type(timestamp) ~= "string" and type(timestamp) ~= "number" then
    bad_arg(1, "fresh", "string or number", timestamp)
  end
  opts = check_opts(opts, 2, "fresh", 1)
  if timestamp == nil or timestamp == "" then return false, "missing X-MLflow-Timestamp header" end
  local ts_text, ts = timestamp_of(timestamp)
  if not ts_text then return false, "malformed X-MLflow-Timestamp (expected Unix seconds)" end
  return fresh_ts(ts, opts)
end

-- The whole check; the third result tells which half failed ("signature" or
-- "freshness": the receiver answers 401 or 400). verify() drops it. lvl: as
-- for bad_arg, for the caller's caller (verify's caller) when 2.
local function check(lvl, secret, raw_body, delivery_id, timestamp, signature, opts)
  local fname = "verify_mlflow_signature"
  local secrets = secrets_of(secret, fname, lvl + 1)
  if type(raw_body) ~= "string" then bad_arg(2, fname, "string", raw_body, lvl + 1) end
  if delivery_id ~= nil and type(delivery_id) ~= "string" then
    bad_arg(3, fname, "string", delivery_id, lvl + 1)
  end
  if timestamp ~= nil and type(timestamp) ~= "string" and type(timestamp) ~= "number" then
    bad_arg(4, fname, "string or number", timestamp, lvl + 1)
  end
  if signature ~= nil and type(signature) ~= "string" then bad_arg(5, fname, "string", signature, lvl + 1) end
  opts = check_opts(opts, 6, fname, lvl + 1)

  if not secrets then return false, "secret is empty", "signature" end
  return M.check_checked(secrets, raw_body, delivery_id, timestamp, signature, opts)
end

-- check() on arguments already known good (secrets: a non-empty array of
-- non-empty strings; opts: a table), for the receiver, which checked them
-- once for the request: no copies, no second pass over them. now: as for
-- fresh_ts.
function M.check_checked(secrets, raw_body, delivery_id, timestamp, signature, opts, now)
  if signature == nil or signature == "" then
    return false, "missing X-MLflow-Signature header", "signature"
  end
  if delivery_id == nil or delivery_id == "" then
    return false, "missing X-MLflow-Delivery-Id header", "signature"
  end
  if timestamp == nil or timestamp == "" then return false, "missing X-MLflow-Timestamp header", "signature" end
  local ts_text, ts = timestamp_of(timestamp)
  if not ts_text then
    return false, "malformed X-MLflow-Timestamp (expected Unix seconds)", "signature"
  end
  if signature:sub(1, #PREFIX) ~= PREFIX then
    return false, "malformed signature (expected v1,<base64>)", "signature"
  end

  local given = signature:sub(#PREFIX + 1)
  local ok = false
  -- every secret is tried, whichever matches, so the time does not tell which
  for _, s in ipairs(secrets) do
    if mlflow_hmac(s, delivery_id, ts_text, raw_body, given) then ok = true end
  end
  if not ok then return false, "signature mismatch", "signature" end
  local young, why = fresh_ts(ts, opts, now)
  if not young then return false, why, "freshness" end
  return true
end

-- webhooks.verify_mlflow_signature (documented in webhooks.lua)
function M.verify(secret, raw_body, delivery_id, timestamp, signature, opts)
  local ok, why = check(1, secret, raw_body, delivery_id, timestamp, signature, opts)
  return ok, why
end

-- webhooks.sign_mlflow (documented in webhooks.lua)
function M.sign(secret, delivery_id, timestamp, raw_body)
  local fname = "sign_mlflow"
  if type(secret) ~= "string" then bad_arg(1, fname, "string", secret) end
  if type(delivery_id) ~= "string" then bad_arg(2, fname, "string", delivery_id) end
  if type(timestamp) ~= "string" and type(timestamp) ~= "number" then
    bad_arg(3, fname, "string or number", timestamp)
  end
  if type(raw_body) ~= "string" then bad_arg(4, fname, "string", raw_body) end
  local ts_text = timestamp_of(timestamp)
  if not ts_text then
    error("bad argument #3 to 'sign_mlflow' (Unix seconds expected, got " .. tostring(timestamp) .. ")", 2)
  end
  return PREFIX .. mlflow_hmac(secret, delivery_id, ts_text, raw_body)
end

return M
