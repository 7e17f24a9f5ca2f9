-- In-memory webhook store. nginx runs one worker, so this module's tables are
-- the whole workspace state.
--
-- Webhooks are kept in creation order with an increasing `seq`. A page token
-- remembers the last seq returned (not an offset), so deleting webhooks between
-- two pages neither skips nor repeats any.
local json = require("workspace.json")

local M = {}

local list      -- array of webhooks by seq; deleted ones are marked and compacted later
local by_id     -- id → webhook
local next_seq
local dead

function M.reset()
  list, by_id, next_seq, dead = {}, {}, 1, 0
end
M.reset()

--- Unix time in integer milliseconds.
function M.now_ms()
  ngx.update_time()
  return math.floor(ngx.now() * 1000)
end

local function new_id()
  while true do
    local id = string.format("%08x%08x%08x%08x", math.random(0, 0xffffffff),
      math.random(0, 0xffffffff), math.random(0, 0xffffffff), math.random(0, 0xffffffff))
    if not by_id[id] then return id end
  end
end

--- Stores a validated create request and returns the new webhook.
function M.insert(req)
  local now = M.now_ms()
  local wh = {
    id = new_id(), seq = next_seq, creation_timestamp = now, last_updated_timestamp = now,
    model_name = req.model_name, description = req.description, status = req.status,
    events = req.events, http_url_spec = req.http_url_spec, job_spec = req.job_spec,
  }
  next_seq = next_seq + 1
  list[#list + 1] = wh
  by_id[wh.id] = wh
  return wh
end

function M.get(id)
  return by_id[id]
end

--- Marks a webhook changed: bumps last_updated_timestamp (strictly) and drops its cached view.
function M.touch(wh)
  wh.last_updated_timestamp = math.max(M.now_ms(), wh.last_updated_timestamp + 1)
  wh.view = nil
end

function M.remove(id)
  local wh = by_id[id]
  if not wh then return false end
  by_id[id] = nil
  wh.deleted = true
  dead = dead + 1
  if dead > 64 and dead * 2 > #list then
    local live = {}
    for _, w in ipairs(list) do
      if not w.deleted then live[#live + 1] = w end
    end
    list, dead = live, 0
  end
  return true
end

-- First index in `list` whose seq is greater than `seq` (binary search).
local function first_after(seq)
  local lo, hi = 1, #list + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if list[mid].seq > seq then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function matches(wh, filter)
  if filter.model_name and wh.model_name ~= filter.model_name then return false end
  if filter.events then
    for _, e in ipairs(wh.events) do
      if filter.events[e] then return true end
    end
    return false
  end
  return true
end

--- Up to `limit` matching webhooks after seq `after`, and whether more remain.
function M.page(filter, after, limit)
  local out = {}
  for i = first_after(after), #list do
    local wh = list[i]
    if not wh.deleted and matches(wh, filter) then
      if #out == limit then return out, true end
      out[#out + 1] = wh
    end
  end
  return out, false
end

--- Every live webhook in creation order.
function M.all()
  local out = {}
  for _, wh in ipairs(list) do
    if not wh.deleted then out[#out + 1] = wh end
  end
  return out
end

local WEBHOOK_KEYS = { "id", "creation_timestamp", "last_updated_timestamp", "description",
  "events", "model_name", "status", "http_url_spec", "job_spec" }
local HTTP_KEYS = { "url", "secret", "authorization", "enable_ssl_verification" }
local JOB_KEYS = { "job_id", "access_token", "workspace_url" }

local function copy(t, keys, skip)
  local out = {}
  for _, k in ipairs(keys) do
    if not (skip and skip[k]) then out[k] = t[k] end
  end
  return json.ordered(out, keys)
end

local SECRETS = { secret = true, authorization = true, access_token = true }

--- A webhook as a table; `with_secrets` only for the control API.
function M.render(wh, with_secrets)
  local skip = not with_secrets and SECRETS or nil
  local out = copy(wh, WEBHOOK_KEYS, { http_url_spec = true, job_spec = true })
  if out.description == "" then out.description = nil end
  if wh.http_url_spec then out.http_url_spec = copy(wh.http_url_spec, HTTP_KEYS, skip) end
  if wh.job_spec then out.job_spec = copy(wh.job_spec, JOB_KEYS, skip) end
  return out
end

--- The public JSON text of a webhook (never with secrets), cached until the next change.
function M.view(wh)
  if not wh.view then wh.view = json.encode(M.render(wh, false)) end
  return wh.view
end

return M
