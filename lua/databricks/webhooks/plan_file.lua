--- Desired-state files (the JSON that `databricks-webhooks export` writes and
-- `plan` / `apply` read) and the text and JSON views of a plan.
--
-- A file is `{"version": 1, "model_names": [...], "webhooks": [...]}`:
-- `webhooks` holds create-shaped specs; `model_names`, when present, is the
-- plan's scope (otherwise the whole registry). A secret is never written
-- literally: `{"env": NAME}` or `{"file": PATH}` (relative paths are taken from
-- the current directory), resolved at apply time. A file is code: its
-- references read variables and files and send them to URLs it names, so a
-- `{"file"}` outside the file's own folder is refused unless the plan is told
-- `allow_file_outside` (databricks.webhooks.plan).
-- @module databricks.webhooks.plan_file

local cjson = require("cjson.safe")
local core = require("databricks.webhooks.core")
local plan = require("databricks.webhooks.plan")

local M = { VERSION = 1 }

local SECRET_FIELDS = { http_url_spec = { "secret", "authorization" }, job_spec = { "access_token" } }

local function invalid(message)
  return nil, core.error("INVALID_PARAMETER_VALUE", message)
end

-- ----------------------------------------------------------------------------
-- JSON out: two-space indentation, keys in a fixed order
-- ----------------------------------------------------------------------------

local json_text = require("databricks.webhooks.json_text")

local array, quote = json_text.array, json_text.quote

local function list_of(t)
  local out = array()
  for i, v in ipairs(t or {}) do out[i] = v end
  return out
end

--- A value as indented JSON text (with a final newline), keys in a fixed order.
M.encode = json_text.pretty

-- ----------------------------------------------------------------------------
-- Reading a file
-- ----------------------------------------------------------------------------

local function is_array(v)
  return type(v) == "table" and (next(v) == nil or (v[1] ~= nil and next(v, #v) == nil))
end

-- Refuses literal secrets in webhooks[i]; references pass (plan checks their shape).
local function check_secrets(spec, where)
  if type(spec.secret) == "string" then -- an MLflow webhook's
    return invalid(("%s.secret: a secret is never written in the file; use "
      .. '{"env": "NAME"} or {"file": "PATH"}'):format(where))
  end
  for kind, fields in pairs(SECRET_FIELDS) do
    if type(spec[kind]) == "table" then
      for _, field in ipairs(fields) do
        if type(spec[kind][field]) == "string" then
          return invalid(("%s.%s.%s: a secret is never written in the file; use "
            .. '{"env": "NAME"} or {"file": "PATH"}'):format(where, kind, field))
        end
      end
    end
  end
  return true
end

-- Where things are in the text, for FILE:LINE messages: the line of an
-- offset, and the offset where each element of the top-level "webhooks"
-- array starts. One pass, no pattern that can backtrack; the text is valid
-- JSON by then (cjson said so), so strings and nesting are all it tracks.
local function line_of(text, offset)
  local line, at = 1, 1
  while true do
    local nl = text:find("\n", at, true)
    if not nl or nl >= offset then return line end
    line, at = line + 1, nl + 1
  end
end

local function webhook_offsets(text)
  local starts, depth, i, n = {}, 0, 1, #text
  local key, in_webhooks, expect_value = nil, false, false
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' then
      local j = i + 1
      while true do -- to the closing quote, past escapes
        local q = text:find('["\\]', j)
        if not q then return starts end
        if text:sub(q, q) == "\\" then j = q + 2 else j = q; break end
      end
      if depth == 1 and not expect_value then key = text:sub(i + 1, j - 1) end
      if in_webhooks and depth == 2 and expect_value then starts[#starts + 1] = i end
      expect_value = false
      i = j + 1
    elseif c == "{" or c == "[" then
      if in_webhooks and depth == 2 and expect_value then starts[#starts + 1] = i end
      if depth == 1 and c == "[" and key == "webhooks" then in_webhooks = true end
      depth, expect_value = depth + 1, c == "["
      i = i + 1
    elseif c == "}" or c == "]" then
      depth = depth - 1
      if depth == 1 then in_webhooks = false end
      expect_value = false
      i = i + 1
    elseif c == ":" then
      expect_value = true
      i = i + 1
    elseif c == "," then
      expect_value = in_webhooks and depth == 2
      i = i + 1
    elseif c:find("%s") then
      i = i + 1
    else -- a number, true, false or null
      if in_webhooks and depth == 2 and expect_value then starts[#starts + 1] = i end
      expect_value = false
      i = (text:find("[%s,%]}]", i) or n + 1)
    end
  end
  return starts
end

-- "FILE:LINE: webhooks[i]" for the i-th webhook (just "FILE: webhooks[i]" if
-- it cannot be found).
local function webhook_where(name, text, starts, i)
  if starts[i] then return ("%s:%d: webhooks[%d]"):format(name, line_of(text, starts[i]), i) end
  return ("%s: webhooks[%d]"):format(name, i)
end

--- Parses the text of a desired-state file.
-- @tparam string text the JSON
-- @tparam[opt] string name the file's name, for messages
-- @return { webhooks = {...}, model_names = {...} | nil }, or nil, err
function M.parse(text, name)
  name = name or "desired state"
  local doc, why = cjson.decode(text)
  if doc == nil then
    -- cjson counts characters from 1: "... at character N"
    local at = tonumber(tostring(why):match("at character (%d+)"))
    if at then
      local line = line_of(text, at)
      local bol = 1
      if line > 1 then
        local k = 0
        for _ = 2, line do k = text:find("\n", k + 1, true) end
        bol = k + 1
      end
      return invalid(("%s:%d:%d: not valid JSON (%s)"):format(name, line, at - bol + 1,
        tostring(why):gsub(" at character %d+", "")))
    end
    return invalid(name .. ": not valid JSON (" .. tostring(why) .. ")")
  end
  if type(doc) ~= "table" or (doc[1] ~= nil) then return invalid(name .. ": must be a JSON object") end
  json_text.strip_nulls(doc, cjson.null)
  for k in pairs(doc) do
    if k ~= "version" and k ~= "api" and k ~= "model_names" and k ~= "webhooks" then
      return invalid(("%s: unknown key %s (expected version, api, model_names, webhooks)"):format(
        name, quote(tostring(k))))
    end
  end
  if doc.api ~= nil and doc.api ~= "databricks" and doc.api ~= "mlflow" then
    return invalid(name .. ': api must be "databricks" or "mlflow"')
  end
  if doc.version ~= nil and doc.version ~= M.VERSION then
    return invalid(("%s: version must be %d"):format(name, M.VERSION))
  end
  if not is_array(doc.webhooks) then return invalid(name .. ": webhooks must be an array") end
  local names = doc.model_names
  if names ~= nil then
    if not is_array(names) or #names == 0 then
      return invalid(name .. ": model_names must be a non-empty array of model names")
    end
    for _, m in ipairs(names) do
      if type(m) ~= "string" or m == "" then
        return invalid(name .. ": model_names must be a non-empty array of model names")
      end
    end
  end
  local starts = webhook_offsets(text)
  for i, spec in ipairs(doc.webhooks) do
    local where = webhook_where(name, text, starts, i)
    if type(spec) ~= "table" or spec[1] ~= nil then return invalid(where .. " must be an object") end
    local ok, err = check_secrets(spec, where)
    if not ok then return nil, err end
  end
  local lines = {}
  for i, at in ipairs(starts) do lines[i] = line_of(text, at) end
  return { webhooks = doc.webhooks, model_names = names, api = doc.api, name = name, lines = lines }
end

--- A message of `plan` about desired[i] in the words of the file:
-- "desired[2]: events: ..." becomes "FILE:LINE: webhooks[2]: events: ...",
-- and a desired[i] further on "webhooks[i] (line L)".
-- @tparam table doc what `parse` or `load` returned
-- @tparam string message
function M.locate(doc, message)
  local first = true
  return (message:gsub("()desired%[(%d+)%]", function(pos, i)
    local line = doc.lines and doc.lines[tonumber(i)]
    local at_start = first and pos == 1
    first = false
    if at_start then
      return line and ("%s:%d: webhooks[%s]"):format(doc.name, line, i) or ("%s: webhooks[%s]"):format(doc.name, i)
    end
    return line and ("webhooks[%s] (line %d)"):format(i, line) or ("webhooks[%s]"):format(i)
  end))
end

-- The folder of a path as written ("." when it names none).
local function folder_of(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir == nil then return "." end
  if dir == "" then return "/" end
  return dir
end

--- Reads and parses a desired-state file ("-" reads stdin). The result's
-- `folder` is the file's folder (the current directory for stdin): the
-- `file_root` to give `client:plan`.
function M.load(path)
  local f, err = io.stdin, nil
  if path ~= "-" then f, err = io.open(path, "rb") end
  if not f then return invalid("cannot read " .. tostring(err)) end
  local text = f:read("*a") or ""
  if f ~= io.stdin then f:close() end
  local doc, perr = M.parse(text, path == "-" and "stdin" or path)
  if not doc then return nil, perr end
  doc.folder = path == "-" and "." or folder_of(path)
  return doc
end

-- ----------------------------------------------------------------------------
-- export
-- ----------------------------------------------------------------------------

--- The desired-state document of listed webhooks, secrets as references to
-- environment variables the user fills in (WEBHOOK_<n>_SECRET,
-- WEBHOOK_<n>_ACCESS_TOKEN).
-- @tparam table webhooks as `list` returns them
-- @tparam[opt] table model_names the scope they were listed with
-- @tparam[opt] string api `"mlflow"` for an MLflow server's webhooks (the
--   file then says `"api": "mlflow"`; each secret is WEBHOOK_<n>_SECRET)
function M.export(webhooks, model_names, api)
  if api == "mlflow" then return M.export_mlflow(webhooks) end
  local out = array()
  for i, wh in ipairs(webhooks) do
    local spec = { model_name = wh.model_name, events = array({}), status = wh.status }
    for j, e in ipairs(wh.events or {}) do spec.events[j] = e end
    if wh.description and wh.description ~= "" then spec.description = wh.description end
    if type(wh.http_url_spec) == "table" then
      spec.http_url_spec = { url = wh.http_url_spec.url, secret = { env = ("WEBHOOK_%d_SECRET"):format(i) } }
      if wh.http_url_spec.enable_ssl_verification == false then
        spec.http_url_spec.enable_ssl_verification = false
      end
    elseif type(wh.job_spec) == "table" then
      spec.job_spec = { job_id = wh.job_spec.job_id, workspace_url = wh.job_spec.workspace_url,
        access_token = { env = ("WEBHOOK_%d_ACCESS_TOKEN"):format(i) } }
    end
    out[i] = spec
  end
  local names = model_names and #model_names > 0 and list_of(model_names) or nil
  return { version = M.VERSION, model_names = names, webhooks = out }
end

-- An MLflow server's webhooks, sorted by name (then age) so that the file
-- and its WEBHOOK_<n>_SECRET numbers do not move when a webhook is added.
function M.export_mlflow(webhooks)
  local sorted = {}
  for i, wh in ipairs(webhooks) do sorted[i] = wh end
  table.sort(sorted, function(a, b)
    if a.name ~= b.name then return tostring(a.name) < tostring(b.name) end
    local ta, tb = tonumber(a.creation_timestamp) or 0, tonumber(b.creation_timestamp) or 0
    if ta ~= tb then return ta < tb end
    return tostring(a.id) < tostring(b.id)
  end)
  local out = array()
  for i, wh in ipairs(sorted) do
    local spec = { name = wh.name, url = wh.url, events = list_of(wh.events), status = wh.status,
      secret = { env = ("WEBHOOK_%d_SECRET"):format(i) } }
    if wh.description and wh.description ~= "" then spec.description = wh.description end
    out[i] = spec
  end
  return { version = M.VERSION, api = "mlflow", webhooks = out }
end

--- Names held by more than one webhook, sorted (a file naming one twice is refused by plan).
function M.duplicate_names(webhooks)
  local count, out = {}, {}
  for _, wh in ipairs(webhooks) do
    if wh.name then count[wh.name] = (count[wh.name] or 0) + 1 end
  end
  for name, n in pairs(count) do
    if n > 1 then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

-- ----------------------------------------------------------------------------
-- Views of a plan
-- ----------------------------------------------------------------------------

-- A value in a plan's text: free text quoted, names and lists as they are.
local function show(v, field)
  if type(v) == "table" then return "[" .. table.concat(v, ", ") .. "]" end
  if field == "description" then return quote(v) end
  return tostring(v)
end

local function short(field)
  return (field:gsub("^http_url_spec%.", ""):gsub("^job_spec%.", ""))
end

local function target_lines(spec, lines)
  local http = spec.http_url_spec
  if http and http.enable_ssl_verification == false then
    lines[#lines + 1] = "    enable_ssl_verification: false"
  end
end

local function action_lines(a, lines)
  if a.action == "create" then
    local spec = a.request
    lines[#lines + 1] = "+ create  " .. a.label
    lines[#lines + 1] = "    events: " .. show(a.name and M.event_names(spec.events) or spec.events)
    lines[#lines + 1] = "    status: " .. (spec.status or "ACTIVE")
    if spec.description and spec.description ~= "" then
      lines[#lines + 1] = "    description: " .. quote(spec.description)
    end
    target_lines(spec, lines)
  elseif a.action == "update" then
    lines[#lines + 1] = "~ update  " .. a.label .. " (id " .. a.id .. ")"
    for _, c in ipairs(a.changes) do
      if c.secret then
        lines[#lines + 1] = "    " .. short(c.field) .. ": " .. c.note
      else
        lines[#lines + 1] = "    " .. short(c.field) .. ": " .. show(c.old, c.field) .. " -> " .. show(c.new, c.field)
      end
    end
  else
    lines[#lines + 1] = "- delete  " .. a.label .. " (id " .. a.id .. ")"
  end
  for _, note in ipairs(a.notes or {}) do lines[#lines + 1] = "    " .. note end
end

--- Whether the plan changes anything (or is kept from it by conflicts).
function M.has_changes(p)
  return #p.actions > 0 or (p.conflicts ~= nil and #p.conflicts > 0)
end

-- The lowercase "entity.action" names of an MLflow request's events.
function M.event_names(events)
  local out = {}
  for i, e in ipairs(events or {}) do
    out[i] = type(e) == "table" and (tostring(e.entity):lower() .. "." .. tostring(e.action):lower())
      or tostring(e):lower()
  end
  return out
end

--- The plan as text for a person: `+ create`, `~ update` with old -> new
-- values, `- delete`, then a summary line. Never contains a secret.
function M.render(p)
  local lines = {}
  for _, a in ipairs(p.actions) do action_lines(a, lines) end
  if #p.unmanaged > 0 then
    lines[#lines + 1] = "Kept, not in the desired state (--prune deletes them):"
    for _, u in ipairs(p.unmanaged) do lines[#lines + 1] = "    " .. u.label .. " (id " .. u.id .. ")" end
  end
  for _, c in ipairs(p.conflicts or {}) do
    lines[#lines + 1] = ("! conflict  name %s: %d webhooks on the server have this name (ids %s);"
      .. " left alone: delete the extra ones, then plan again"):format(c.name, #c.ids, table.concat(c.ids, ", "))
  end
  local secrets = 0
  for _, u in ipairs(p.unchanged) do
    if #u.notes > 0 then secrets = secrets + 1 end
  end
  if secrets > 0 then
    lines[#lines + 1] = ("Secrets of %d unchanged webhook%s not compared (write-only; "
      .. "--rotate-secrets sends them)."):format(secrets, secrets == 1 and "" or "s")
  end
  local c = p.counts
  if (c.conflicts or 0) > 0 then
    lines[#lines + 1] = ("Plan: %d to create, %d to update, %d to delete, %d unchanged, %d in conflict."):format(
      c.create, c.update, c.delete, c.unchanged, c.conflicts)
  elseif #p.actions == 0 then
    lines[#lines + 1] = ("No changes: %d webhook%s as desired."):format(c.unchanged, c.unchanged == 1 and "" or "s")
  else
    lines[#lines + 1] = ("Plan: %d to create, %d to update, %d to delete, %d unchanged."):format(
      c.create, c.update, c.delete, c.unchanged)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- A create-shaped spec without its secrets.
local function redacted(spec)
  local out = {}
  for k, v in pairs(spec) do out[k] = v end
  out.secret = nil -- an MLflow webhook's
  if type(spec.events) == "table" then out.events = list_of(spec.events) end
  for kind, fields in pairs(SECRET_FIELDS) do
    if type(spec[kind]) == "table" then
      local t = {}
      for k, v in pairs(spec[kind]) do t[k] = v end
      for _, f in ipairs(fields) do t[f] = nil end
      out[kind] = t
    end
  end
  return out
end

--- The plan as a JSON-ready table (for `plan --json`), without secrets.
function M.document(p)
  local actions = array()
  for i, a in ipairs(p.actions) do
    local d = { action = a.action, id = a.id, label = a.label, name = a.name, model_name = a.model_name,
      notes = list_of(a.notes) }
    if a.action == "create" then d.webhook = redacted(a.request) end
    if a.changes then
      d.changes = array()
      for j, c in ipairs(a.changes) do
        d.changes[j] = { field = c.field, old = type(c.old) == "table" and list_of(c.old) or c.old,
          new = type(c.new) == "table" and list_of(c.new) or c.new, note = c.note,
          added = c.added and list_of(c.added), removed = c.removed and list_of(c.removed) }
      end
    end
    actions[i] = d
  end
  local unmanaged = array()
  for i, u in ipairs(p.unmanaged) do unmanaged[i] = { id = u.id, label = u.label } end
  local doc = { changes = #p.actions > 0, counts = p.counts, prune = p.prune, rotate_secrets = p.rotate_secrets,
    model_names = p.model_names and list_of(p.model_names), actions = actions, unmanaged = unmanaged }
  if p.conflicts then
    doc.api, doc.conflicts = p.api, array()
    for i, c in ipairs(p.conflicts) do doc.conflicts[i] = { name = c.name, ids = list_of(c.ids) } end
  end
  return doc
end

M.array = array
M.label = plan.label -- a Databricks webhook's

return M
