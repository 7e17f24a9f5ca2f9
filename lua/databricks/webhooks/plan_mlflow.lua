-- Webhooks as code on an open-source MLflow server: the `plan` of
-- databricks.webhooks.plan for a client with `api = "mlflow"` (apply is
-- shared). A webhook is identified by its `name`. The server does not keep
-- names unique, so a plan never guesses between webhooks that share one: a
-- desired name held by several webhooks is a conflict, reported in
-- `plan.conflicts` and left alone (no action is planned for it). Compared:
-- url, events (as a set, lowercase "entity.action"), description, status.
-- The secret is write-only (never listed back): sent on create, and on
-- update only with `rotate_secrets`. Every update sends `status`, since the
-- server's PATCH without one makes the webhook ACTIVE.
local core = require("databricks.webhooks.core")

local M = {}

-- Lowercase "entity.action" of an event as a request may give it: the string
-- in either case, or { entity =, action = } in either case.
local function event_name(e)
  if type(e) == "string" then return e:lower() end
  if type(e) == "table" and type(e.entity) == "string" and type(e.action) == "string" then
    return e.entity:lower() .. "." .. e.action:lower()
  end
  return tostring(e)
end

local function events_of(list)
  local seen, out = {}, {}
  for _, e in ipairs(list or {}) do
    local n = event_name(e)
    if not seen[n] then seen[n], out[#out + 1] = true, n end
  end
  return out
end

-- The comparable view of a desired spec or a listed webhook.
local function normalise(wh)
  return { name = wh.name, url = wh.url or "", events = events_of(wh.events), status = wh.status or "ACTIVE",
    description = wh.description or "" }
end

local function label(n)
  return "name " .. tostring(n.name) .. ", url " .. tostring(n.url)
end
M.label = function(wh) return label(normalise(wh)) end

-- Validates desired[i] as create would, a reference standing in for the secret.
local function validate(h, spec, i, files)
  local probe = h.copy(spec)
  local v = spec.secret
  if type(v) == "table" then
    if not h.is_reference(v) then
      return h.invalid(("desired[%d]: secret: a reference is {env = NAME} or {file = PATH}"):format(i))
    end
    if v.file then
      local refused = h.refused_file(v.file, files)
      if refused then return h.invalid(("desired[%d]: secret: %s"):format(i, refused)) end
    end
    probe.secret = "reference"
  end
  local ok, err = core.validate("create", probe, "mlflow")
  if not ok then return h.invalid(("desired[%d]: %s"):format(i, err.message)) end
  return true
end

-- Every webhook on the server, in list order.
local function fetch(client)
  local out = {}
  local ok, err = pcall(function()
    for wh in client:each({}) do out[#out + 1] = wh end
  end)
  if not ok then
    if type(err) == "table" then return nil, err end
    error(err, 0)
  end
  return out
end

-- The update that turns `cur` into desired `spec` (normalised as `d`).
local function diff(h, spec, d, cur, rotate)
  local c = normalise(cur)
  local req, changes, notes = { id = cur.id, status = d.status }, {}, {}
  if d.url ~= c.url then
    req.url = d.url
    changes[#changes + 1] = { field = "url", old = c.url, new = d.url }
  end
  if not h.same_set(d.events, c.events) then
    req.events = d.events
    changes[#changes + 1] = { field = "events", old = c.events, new = d.events,
      added = h.difference(d.events, c.events), removed = h.difference(c.events, d.events) }
  end
  if d.status ~= c.status then
    changes[#changes + 1] = { field = "status", old = c.status, new = d.status }
  end
  if d.description ~= c.description then
    if d.description == "" then
      -- the server reads an empty value as "not given": it cannot be cleared
      notes[#notes + 1] = "description: kept (an MLflow server cannot clear a description)"
    else
      req.description = d.description
      changes[#changes + 1] = { field = "description", old = c.description, new = d.description }
    end
  end
  if spec.secret ~= nil then
    if rotate then
      req.secret = spec.secret
      changes[#changes + 1] = { field = "secret", secret = true, note = "sent again (rotate_secrets)" }
    else
      notes[#notes + 1] = "secret: not compared (write-only)"
    end
  end
  return req, changes, notes
end

local function create_action(h, spec, d, i)
  local notes = {}
  if spec.secret ~= nil then notes[1] = "secret: sent (write-only)" end
  return { action = "create", label = label(d), name = d.name, desired_index = i, request = h.copy(spec),
    notes = notes }
end

-- See databricks.webhooks.plan's `plan`; `h` holds its shared helpers.
function M.plan(h, client, desired, opts, files)
  if opts.model_names ~= nil then
    return h.invalid("model_names: an MLflow server's webhooks belong to no model (leave the scope out)")
  end
  local wanted, by_name = {}, {}
  for i, spec in ipairs(desired) do
    if type(spec) ~= "table" then
      error(("bad argument #1 to 'plan' (desired[%d]: table expected, got %s)"):format(i, type(spec)), 3)
    end
    local ok, err = validate(h, spec, i, files)
    if not ok then return nil, err end
    local d = normalise(spec)
    if by_name[d.name] then
      return h.invalid(("desired[%d] and desired[%d] have the same name (%s); a name identifies a webhook"):format(
        by_name[d.name], i, d.name))
    end
    by_name[d.name] = i
    wanted[i] = d
  end

  local current, err = fetch(client)
  if not current then return nil, err end
  local found = {} -- name -> the listed webhooks with it
  for _, wh in ipairs(current) do
    local k = wh.name or ""
    found[k] = found[k] or {}
    table.insert(found[k], wh)
  end

  local plan = { api = "mlflow", actions = {}, unchanged = {}, unmanaged = {}, conflicts = {},
    prune = opts.prune and true or false, rotate_secrets = opts.rotate_secrets and true or false,
    file_root = files.root, allow_file_outside = files.allow_outside }
  local by_kind, matched = { create = {}, update = {}, delete = {} }, {}
  for i, d in ipairs(wanted) do
    local group = found[d.name]
    if not group then
      table.insert(by_kind.create, create_action(h, desired[i], d, i))
    elseif #group > 1 then
      local ids = {}
      for k, wh in ipairs(group) do ids[k], matched[wh] = wh.id, true end
      table.insert(plan.conflicts, { name = d.name, ids = ids, desired_index = i, label = label(d) })
    else
      local cur = group[1]
      matched[cur] = true
      local req, changes, notes = diff(h, desired[i], d, cur, plan.rotate_secrets)
      h.keep(plan, by_kind, { id = cur.id, label = label(d), name = d.name, desired_index = i, notes = notes },
        req, changes)
    end
  end
  return h.finish(plan, by_kind, current, matched, M.label, "name")
end

return M
