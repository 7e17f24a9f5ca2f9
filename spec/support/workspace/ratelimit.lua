-- The optional request rate limit (settings `rate_limit`, `rate_limit_burst`):
-- a token bucket over every /api/ request. A request that finds the bucket
-- empty is answered 429 REQUEST_LIMIT_EXCEEDED with a Retry-After, as a
-- workspace over its limit answers. The limit is off (nil) by default.
local config = require("workspace.config")
local reply = require("workspace.reply")

local M = {}

local tokens, last, limited -- bucket content, time of the last refill, 429s answered

function M.reset()
  tokens, last, limited = nil, nil, 0
end
M.reset()

-- The bucket's size: `rate_limit_burst`, else one second's worth of requests.
local function burst(s)
  return s.rate_limit_burst or math.max(1, math.ceil(s.rate_limit))
end

--- Takes one token for this request. Returns nil when the request may go on,
-- else the 429 response (status, body, headers).
function M.take()
  local s = config.settings
  if not s.rate_limit then return nil end
  ngx.update_time()
  local now, cap = ngx.now(), burst(s)
  if tokens == nil then tokens, last = cap, now end
  tokens = math.min(cap, tokens + (now - last) * s.rate_limit)
  last = now
  if tokens >= 1 then
    tokens = tokens - 1
    return nil
  end
  limited = limited + 1
  -- whole seconds, as Databricks sends it, and never 0: the earliest moment a
  -- token is back, rounded up, unless a setting fixes the header
  local wait = s.rate_limit_retry_after or tostring(math.max(1, math.ceil((1 - tokens) / s.rate_limit)))
  return reply.error("REQUEST_LIMIT_EXCEEDED",
    string.format("Too many requests: the limit is %g requests per second.", s.rate_limit),
    { ["Retry-After"] = wait })
end

--- How many requests the limit has answered 429 since the last reset.
function M.limited()
  return limited
end

return M
