-- In-memory store of the MLflow family's webhooks (one nginx worker: these
-- tables are the whole state). Deletes are soft, as in the server's SQL
-- store: a deleted webhook stays in `list`, invisible to the API.
local json = require("workspace.json")
local store = require("workspace.store")

local M = {}

local list, by_id, next_seq, last_ms

function M.reset()
  list, by_id, next_seq, last_ms = {}, {}, 1, 0
end
M.reset()

-- Strictly increasing milliseconds, so "newest first" has no ties.
local function stamp()
  last_ms = math.max(store.now_ms(), last_ms + 1)
  return last_ms
end

local function uuid4()
  local function hex(n) return string.format("%0" .. n .. "x", math.random(0, 16 ^ n - 1)) end
  return string.format("%s-%s-4%s-%x%s-%s%s", hex(8), hex(4), hex(3), math.random(8, 11), hex(3),
    hex(6), hex(6))
end
M.uuid4 = uuid4

local function event_less(a, b)
  if a.entity ~= b.entity then return a.entity < b.entity end
  return a.action < b.action
end

-- The events as the SQL store keeps them: sorted, and a pair given twice
-- violates the events table's primary key (the raw sqlite error reaches the client).
local function stored_events(id, events)
  local out, seen = {}, {}
  for i, e in ipairs(events) do
    local key = e.entity .. "." .. e.action
    if seen[key] then
      error({ code = "BAD_REQUEST", message = string.format(
        "(sqlite3.IntegrityError) UNIQUE constraint failed: webhook_events.webhook_id, "
        .. "webhook_events.entity, webhook_events.action\n"
        .. "[SQL: INSERT INTO webhook_events (webhook_id, entity, action) VALUES (?, ?, ?)]\n"
        .. "[parameters: ('%s', '%s', '%s')]\n"
        .. "(Background on this error at: https://sqlalche.me/e/20/gkpj)", id, e.entity, e.action) }, 0)
    end
    seen[key] = true
    out[i] = { entity = e.entity, action = e.action }
  end
  table.sort(out, event_less)
  return out
end

--- Stores a validated create request; raises the IntegrityError on a repeated pair.
function M.insert(r)
  local id
  repeat id = uuid4() until not by_id[id]
  local events = stored_events(id, r.events)
  local now = stamp()
  local wh = { webhook_id = id, seq = next_seq, name = r.name, description = r.description,
    url = r.url, events = events, secret = r.secret, status = r.status,
    creation_timestamp = now, last_updated_timestamp = now }
  next_seq = next_seq + 1
  list[#list + 1] = wh
  by_id[id] = wh
  return wh
end

--- A live webhook, or nil (unknown or deleted).
function M.get(id)
  local wh = by_id[id]
  if wh and not wh.deleted then return wh end
  return nil
end

--- Applies a validated update (mlflow_schema.update); raises as insert does.
function M.update(wh, r)
  if not r.only_status then
    local events = r.events and stored_events(wh.webhook_id, r.events)
    for _, k in ipairs({ "name", "description", "url", "secret" }) do
      if r[k] then wh[k] = r[k] end
    end
    if events then wh.events = events end
  end
  wh.status = r.status
  wh.last_updated_timestamp = stamp()
  return wh
end

function M.delete(wh)
  wh.deleted = true
  wh.last_updated_timestamp = stamp()
end

--- Live webhooks, newest first.
function M.live()
  local out = {}
  for i = #list, 1, -1 do
    if not list[i].deleted then out[#out + 1] = list[i] end
  end
  return out
end

--- Every webhook in creation order, deleted ones too (the control API).
function M.all()
  return list
end

local W_KEYS = { "webhook_id", "name", "description", "url", "events", "status",
  "creation_timestamp", "last_updated_timestamp" }
local EVENT_KEYS = { "entity", "action" }

--- The webhook object W as a table (with the secret and deleted flag for the control API).
function M.render(wh, with_secret)
  local events = json.array()
  for i, e in ipairs(wh.events) do
    events[i] = json.ordered({ entity = e.entity:upper(), action = e.action:upper() }, EVENT_KEYS)
  end
  local out = {}
  for _, k in ipairs(W_KEYS) do out[k] = wh[k] end
  out.events = events
  if out.description == "" then out.description = nil end
  if with_secret then out.secret, out.deleted = wh.secret, wh.deleted or false end
  return json.ordered(out, W_KEYS)
end

return M
