--- Webhooks as code: compare a desired list of webhooks with what the
-- workspace holds (`client:plan`) and carry the differences out
-- (`client:apply`).
--
-- A webhook's identity is its model (or none: registry-wide) plus its target:
-- the URL, or the job id and workspace URL. On an MLflow client
-- (`api = "mlflow"`) it is the webhook's `name` instead, and names the server
-- holds more than once are reported as `plan.conflicts`, never acted on
-- (databricks.webhooks.plan_mlflow). Secrets (`secret`,
-- `authorization`, `access_token`) are write-only in the API, so a plan never
-- compares them: they are sent on create, and on update only with
-- `rotate_secrets` (or when the whole `http_url_spec` must be sent anyway).
-- A secret is a string or a reference `{env = NAME}` / `{file = PATH}`,
-- resolved by `apply` before anything is sent.
--
-- A desired state is code: its references read variables and files and send
-- them to URLs it names. So a `{file = PATH}` must stay inside `file_root`
-- (the plan file's folder; default the current directory) unless
-- `allow_file_outside` is set. The check is on the path as written (`.` and
-- `..` resolved, symbolic links not followed).
-- @module databricks.webhooks.plan

local core = require("databricks.webhooks.core")

local M = {}

local KINDS = { "create", "update", "delete" } -- the order apply runs them in

-- The write-only fields of each target kind.
local SECRETS = {
  http_url_spec = { "secret", "authorization" },
  job_spec = { "access_token" },
}

local function invalid(message)
  return nil, core.error("INVALID_PARAMETER_VALUE", message)
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = type(v) == "table" and copy(v) or v end
  return out
end

-- ----------------------------------------------------------------------------
-- Secrets and references
-- ----------------------------------------------------------------------------

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

--- Whether v is a reference `{env = NAME}` or `{file = PATH}`.
function M.is_reference(v)
  if type(v) ~= "table" or count_keys(v) ~= 1 then return false end
  local name = v.env or v.file
  return type(name) == "string" and name ~= ""
end

-- Whether a path is absolute, and its components with "." dropped and ".."
-- taken back where it can be (the leading ".." of a relative path stay).
local function components(path)
  local absolute, out = path:sub(1, 1) == "/", {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      if #out > 0 and out[#out] ~= ".." then
        out[#out] = nil
      elseif not absolute then
        out[#out + 1] = ".."
      end
    elseif part ~= "." then
      out[#out + 1] = part
    end
  end
  return absolute, out
end

-- The current directory, when the environment says it (for comparing a
-- relative path with an absolute one); nil otherwise.
local function cwd()
  local pwd = os.getenv("PWD")
  if type(pwd) == "string" and pwd:sub(1, 1) == "/" then return pwd end
  return nil
end

--- Whether `path` (relative paths from the current directory) lies inside
-- the folder `root`, as written: `.` and `..` resolved, links not followed.
-- A comparison that needs the current directory and cannot know it is false.
function M.is_inside(root, path)
  local root_abs, r = components(root)
  local path_abs, p = components(path)
  if root_abs ~= path_abs then
    local here = cwd()
    if not here then return false end
    if root_abs then
      p = select(2, components(here .. "/" .. path))
    else
      r = select(2, components(here .. "/" .. root))
    end
  end
  if #p < #r then return false end
  for i = 1, #r do
    if r[i] ~= p[i] then return false end
  end
  for i = #r + 1, #p do
    if p[i] == ".." then return false end
  end
  return true
end

-- nil when a `{file}` reference may be read under `files` ({ root,
-- allow_outside }), else why not.
local function refused_file(path, files)
  if files.allow_outside or M.is_inside(files.root, path) then return nil end
  return ("file %s is outside %s, the folder file references may read (a desired state is code: "
    .. "allow_file_outside = true, or the CLI's --allow-file-outside, reads it anyway)"):format(path,
    files.root == "." and "the current directory" or files.root)
end

-- The file-reference settings of plan's or apply's options.
local function files_of(opts)
  local root, allow = opts.file_root, opts.allow_file_outside
  if root ~= nil and (type(root) ~= "string" or root == "") then
    error("bad argument #2 to 'plan' (file_root must be a non-empty string)", 3)
  end
  if allow ~= nil and type(allow) ~= "boolean" then
    error("bad argument #2 to 'plan' (allow_file_outside must be a boolean)", 3)
  end
  return { root = root or ".", allow_outside = allow == true }
end

--- The text of a secret: v itself, or what its reference points to.
-- `files` (optional) is `{ root = folder, allow_outside = boolean }`: a file
-- outside `root` is refused unless `allow_outside` (default: the current
-- directory, refused).
-- Returns the string, or nil and why (naming the variable or file, never a value).
function M.resolve_secret(v, files)
  if type(v) == "string" then return v end
  if v.env then
    local s = os.getenv(v.env)
    if s == nil or s == "" then return nil, "environment variable " .. v.env .. " is not set" end
    return s
  end
  local refused = refused_file(v.file, files or { root = "." })
  if refused then return nil, refused end
  local f, err = io.open(v.file, "rb")
  if not f then return nil, "cannot read " .. tostring(err) end
  local data = f:read("*a") or ""
  f:close()
  data = data:gsub("\r?\n$", "")
  if data == "" then return nil, "file " .. v.file .. " is empty" end
  return data
end

-- Calls fn(kind, field, value) for every secret set in a create-shaped table.
local function each_secret(spec, fn)
  for kind, fields in pairs(SECRETS) do
    local target = spec[kind]
    if type(target) == "table" then
      for _, field in ipairs(fields) do
        if target[field] ~= nil then fn(kind, field, target[field]) end
      end
    end
  end
end

-- ----------------------------------------------------------------------------
-- Desired and current webhooks, normalised so they compare field by field
-- ----------------------------------------------------------------------------

-- An event list as given, without repeats.
local function unique(list)
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    if not seen[v] then seen[v], out[#out + 1] = true, v end
  end
  return out
end

-- Without its trailing slashes, by a scan from the end: "/+$" retries every
-- slash of a run, quadratic in a URL the server sent.
local function trim_slash(url)
  url = url or ""
  local to = #url
  while to > 0 and url:byte(to) == 47 do to = to - 1 end
  return url:sub(1, to)
end

-- The comparable view of a webhook (desired spec or listed webhook): absent
-- fields take the API's defaults.
local function normalise(wh)
  local n = {
    model_name = wh.model_name,
    events = unique(wh.events or {}),
    status = wh.status or "ACTIVE",
    description = wh.description or "",
  }
  if type(wh.http_url_spec) == "table" then
    n.kind, n.url = "http", wh.http_url_spec.url
    n.ssl = wh.http_url_spec.enable_ssl_verification ~= false
    n.key = (n.model_name or "") .. "\0url\0" .. n.url
  else
    local job = wh.job_spec or {}
    n.kind, n.job_id, n.workspace_url = "job", tostring(job.job_id), trim_slash(job.workspace_url)
    n.key = (n.model_name or "") .. "\0job\0" .. n.job_id .. "\0" .. n.workspace_url
  end
  return n
end

-- "model fraud, url https://..." / "registry-wide, job 42 on https://...": how
-- a webhook is named in plans and messages (no secrets in it).
local function label(n)
  local who = n.model_name and ("model " .. n.model_name) or "registry-wide"
  if n.kind == "http" then return who .. ", url " .. n.url end
  local where = n.workspace_url ~= "" and (" on " .. n.workspace_url) or ""
  return who .. ", job " .. n.job_id .. where
end
M.label = function(wh) return label(normalise(wh)) end

-- Validates one desired spec as create would, references standing in for
-- strings, and file references against `files`. Returns true or nil, err.
local function validate(spec, i, files)
  local probe, bad = copy(spec), nil
  each_secret(spec, function(kind, field, v)
    if type(v) == "table" then
      if not M.is_reference(v) then
        bad = bad or ("desired[%d]: %s.%s: a reference is {env = NAME} or {file = PATH}"):format(i, kind, field)
      elseif v.file then
        local refused = refused_file(v.file, files)
        if refused then bad = bad or ("desired[%d]: %s.%s: %s"):format(i, kind, field, refused) end
      end
      probe[kind][field] = "reference"
    end
  end)
  if bad then return invalid(bad) end
  local ok, err = core.validate("create", probe)
  if not ok then return invalid(("desired[%d]: %s"):format(i, err.message)) end
  return true
end

-- ----------------------------------------------------------------------------
-- plan
-- ----------------------------------------------------------------------------

local function check_opts(opts, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table expected, got %s)"):format(fname, type(opts)), 3)
  end
  return opts
end

-- The scope: nil for the whole registry, else a set and list of model names.
local function scope_of(opts)
  local names = opts.model_names
  if names == nil then return nil end
  if type(names) ~= "table" or #names == 0 then
    error("bad argument #2 to 'plan' (model_names must be a non-empty array of strings)", 3)
  end
  local set, list = {}, {}
  for _, name in ipairs(names) do
    if type(name) ~= "string" or name == "" then
      error("bad argument #2 to 'plan' (model_names must be a non-empty array of strings)", 3)
    end
    if not set[name] then set[name], list[#list + 1] = true, name end
  end
  return { set = set, list = list }
end

-- Every webhook in scope, in creation order (per model with a scope).
local function fetch(client, scope)
  local out = {}
  local filters = { {} }
  if scope then
    filters = {}
    for i, name in ipairs(scope.list) do filters[i] = { model_name = name } end
  end
  local ok, err = pcall(function()
    for _, filter in ipairs(filters) do
      for wh in client:each(filter) do out[#out + 1] = wh end
    end
  end)
  if not ok then
    if type(err) == "table" then return nil, err end
    error(err, 0)
  end
  return out
end

local function same_set(a, b)
  if #a ~= #b then return false end
  local set = {}
  for _, v in ipairs(a) do set[v] = true end
  for _, v in ipairs(b) do
    if not set[v] then return false end
  end
  return true
end

local function difference(a, b)
  local set, out = {}, {}
  for _, v in ipairs(b) do set[v] = true end
  for _, v in ipairs(a) do
    if not set[v] then out[#out + 1] = v end
  end
  return out
end

-- The secrets a desired spec sets, as { {kind, field}, ... } in a fixed order.
local function secrets_of(spec)
  local out = {}
  for _, kind in ipairs({ "http_url_spec", "job_spec" }) do
    for _, field in ipairs(SECRETS[kind]) do
      if type(spec[kind]) == "table" and spec[kind][field] ~= nil then
        out[#out + 1] = { kind = kind, field = field }
      end
    end
  end
  return out
end

-- The update that turns `cur` (listed) into `want` (desired spec, normalised
-- as `d`): request, changes and notes; an empty `changes` means none.
local function diff(spec, d, cur, rotate)
  local c = normalise(cur)
  local req, changes, notes = { id = cur.id }, {}, {}
  if not same_set(d.events, c.events) then
    req.events = d.events
    changes[#changes + 1] = { field = "events", old = c.events, new = d.events,
      added = difference(d.events, c.events), removed = difference(c.events, d.events) }
  end
  for _, field in ipairs({ "status", "description" }) do
    if d[field] ~= c[field] then
      req[field] = d[field]
      changes[#changes + 1] = { field = field, old = c[field], new = d[field] }
    end
  end
  local secrets = secrets_of(spec)
  if d.kind == "http" then
    local send = d.ssl ~= c.ssl or (rotate and #secrets > 0)
    if d.ssl ~= c.ssl then
      changes[#changes + 1] = { field = "http_url_spec.enable_ssl_verification", old = c.ssl, new = d.ssl }
    end
    if send then
      -- the API replaces http_url_spec whole: what is not sent is dropped
      req.http_url_spec = copy(spec.http_url_spec)
      req.http_url_spec.enable_ssl_verification = d.ssl
    end
  elseif rotate then
    req.job_spec = copy(spec.job_spec)
  end
  for _, s in ipairs(secrets) do
    if rotate then
      changes[#changes + 1] = { field = s.kind .. "." .. s.field, secret = true, note = "sent again (rotate_secrets)" }
    elseif req[s.kind] then
      notes[#notes + 1] = s.field .. ": sent again (" .. s.kind .. " is replaced whole)"
    else
      notes[#notes + 1] = s.field .. ": not compared (write-only)"
    end
  end
  return req, changes, notes
end

-- The create request for a desired spec (references left in place) and its notes.
local function create_action(spec, d, i)
  local notes = {}
  for _, s in ipairs(secrets_of(spec)) do notes[#notes + 1] = s.field .. ": sent (write-only)" end
  return { action = "create", label = label(d), desired_index = i, model_name = d.model_name,
    request = copy(spec), notes = notes }
end

-- A listed webhook a desired one matched: updated when anything differs.
local function keep(plan, by_kind, entry, req, changes)
  if #changes > 0 then
    entry.action, entry.request, entry.changes = "update", req, changes
    table.insert(by_kind.update, entry)
  else
    table.insert(plan.unchanged, entry)
  end
end

-- The listed webhooks no desired one matched (deleted under prune, else
-- left as unmanaged), then the counts and the actions in the order of KINDS.
-- `field` is the family's scope field copied into each entry.
local function finish(plan, by_kind, current, matched, label_of, field)
  for _, wh in ipairs(current) do
    if not matched[wh] then
      local entry = { action = "delete", id = wh.id, label = label_of(wh), [field] = wh[field] }
      table.insert(plan.prune and by_kind.delete or plan.unmanaged, entry)
    end
  end
  plan.counts = { unchanged = #plan.unchanged, unmanaged = #plan.unmanaged,
    conflicts = plan.conflicts and #plan.conflicts or nil }
  for _, kind in ipairs(KINDS) do
    plan.counts[kind] = #by_kind[kind]
    for _, a in ipairs(by_kind[kind]) do plan.actions[#plan.actions + 1] = a end
  end
  return plan
end

--- Compares `desired` (create-shaped tables) with the workspace.
-- @param client a client
-- @tparam table desired the webhooks that should exist
-- @tparam[opt] table opts `model_names` (the scope; default the whole
--   registry), `prune` (delete webhooks in scope that are not desired),
--   `rotate_secrets` (send every secret again), `file_root` (the folder
--   `{file = PATH}` references must stay in; default `"."`),
--   `allow_file_outside` (read files outside it too)
-- @return plan: `actions` (creates, then updates, then deletes), `unchanged`,
--   `unmanaged` (in scope, not desired, kept without prune), `counts`; or nil, err.
--   On an MLflow client (desired specs as its `create` takes them, no
--   `model_names`) also `api = "mlflow"` and `conflicts` ({ name, ids,
--   desired_index } for each desired name several webhooks share: no action
--   is planned for them), counted in `counts.conflicts`
function M.plan(client, desired, opts)
  if type(desired) ~= "table" then
    error("bad argument #1 to 'plan' (table expected, got " .. type(desired) .. ")", 2)
  end
  opts = check_opts(opts, "plan")
  if client.api == "mlflow" then
    local files = files_of(opts)
    local p, err = require("databricks.webhooks.plan_mlflow").plan(M.helpers, client, desired, opts, files)
    return p, err -- not a tail call: its argument errors point at the caller of plan
  end
  local scope = scope_of(opts)
  local files = files_of(opts)
  local wanted, by_key = {}, {}
  for i, spec in ipairs(desired) do
    if type(spec) ~= "table" then
      error(("bad argument #1 to 'plan' (desired[%d]: table expected, got %s)"):format(i, type(spec)), 2)
    end
    local ok, err = validate(spec, i, files)
    if not ok then return nil, err end
    local d = normalise(spec)
    if scope and not (d.model_name and scope.set[d.model_name]) then
      return invalid(("desired[%d] (%s) is outside the plan's scope (model_names)"):format(i, label(d)))
    end
    if by_key[d.key] then
      return invalid(("desired[%d] and desired[%d] have the same identity (%s)"):format(by_key[d.key], i, label(d)))
    end
    by_key[d.key] = i
    wanted[i] = d
  end

  local current, err = fetch(client, scope)
  if not current then return nil, err end
  local found = {} -- identity key -> the oldest listed webhook with it
  for _, wh in ipairs(current) do
    local k = normalise(wh).key
    if not found[k] then found[k] = wh end
  end

  local plan = { actions = {}, unchanged = {}, unmanaged = {}, prune = opts.prune and true or false,
    rotate_secrets = opts.rotate_secrets and true or false, model_names = scope and scope.list or nil,
    file_root = files.root, allow_file_outside = files.allow_outside }
  local by_kind, matched = { create = {}, update = {}, delete = {} }, {}
  for i, d in ipairs(wanted) do
    local cur = found[d.key]
    if not cur then
      table.insert(by_kind.create, create_action(desired[i], d, i))
    else
      matched[cur] = true
      local req, changes, notes = diff(desired[i], d, cur, plan.rotate_secrets)
      keep(plan, by_kind, { id = cur.id, label = label(d), desired_index = i, model_name = d.model_name,
        notes = notes }, req, changes)
    end
  end
  return finish(plan, by_kind, current, matched, M.label, "model_name")
end

-- ----------------------------------------------------------------------------
-- apply
-- ----------------------------------------------------------------------------

-- The request of an action with every reference resolved, or nil, err.
local function resolved(a, files, api)
  if a.action == "delete" then return { id = a.id } end
  local req = copy(a.request)
  if api == "mlflow" then -- the one secret is a top-level field
    if req.secret == nil then return req end
    local s, err = M.resolve_secret(req.secret, files)
    if not s then return invalid(("%s: secret: %s"):format(a.label, err)) end
    req.secret = s
    return req
  end
  local why
  each_secret(req, function(kind, field, v)
    if why then return end
    local s, err = M.resolve_secret(v, files)
    if s then req[kind][field] = s else why = ("%s: %s.%s: %s"):format(a.label, kind, field, err) end
  end)
  if why then return invalid(why) end
  return req
end

--- Carries a plan out: one `client:bulk` per kind of action (creates, then
-- updates, then deletes). A failure does not stop the other actions. A plan
-- made for the other API family, or an action on a name the plan lists as a
-- conflict, gives nil, err before anything is sent.
-- @param client a client
-- @tparam table plan what `plan` returned
-- @tparam[opt] table opts `parallel` (as bulk's), `progress` (called as
--   progress(kind, total) before each kind and progress(kind, total, failed) after)
-- @return one result per action, in plan order: { action, id, label, ok = value
--   | err = error }; or nil, err when a secret reference cannot be resolved
--   (then nothing was sent)
function M.apply(client, plan, opts)
  if type(plan) ~= "table" or type(plan.actions) ~= "table" then
    error("bad argument #1 to 'apply' (a plan expected, got " .. type(plan) .. ")", 2)
  end
  opts = check_opts(opts, "apply")
  -- the plan's own settings: a file reference is checked again before it is read
  local files = { root = type(plan.file_root) == "string" and plan.file_root or ".",
    allow_outside = plan.allow_file_outside == true }
  if opts.progress ~= nil and type(opts.progress) ~= "function" then
    error("bad argument #2 to 'apply' (progress must be a function)", 2)
  end
  local api = client.api == "mlflow" and "mlflow" or "databricks"
  if (plan.api or "databricks") ~= api then
    return invalid(("the plan was made for %s, not for this client's %s server"):format(
      plan.api == "mlflow" and "an MLflow server" or "a Databricks workspace",
      api == "mlflow" and "MLflow" or "Databricks"))
  end
  -- names several server webhooks share: never acted on (the plan has no
  -- action for them; one added by hand is refused)
  local conflicted = {}
  for _, c in ipairs(plan.conflicts or {}) do conflicted[c.name] = c end
  local batches = { create = { reqs = {}, at = {} }, update = { reqs = {}, at = {} }, delete = { reqs = {}, at = {} } }
  for i, a in ipairs(plan.actions) do
    local b = batches[a.action]
    if not b then
      error(("bad argument #1 to 'apply' (action %d: unknown kind %s)"):format(i, tostring(a.action)), 2)
    end
    local c = a.action ~= "delete" and a.name ~= nil and conflicted[a.name]
    if c then
      return invalid(("%s: %d webhooks on the server have the name %s (ids %s); delete the extra ones first")
        :format(a.label, #c.ids, a.name, table.concat(c.ids, ", ")))
    end
    local req, err = resolved(a, files, api)
    if not req then return nil, err end
    b.reqs[#b.reqs + 1], b.at[#b.at + 1] = req, i
  end
  local results = {}
  for _, kind in ipairs(KINDS) do
    local b = batches[kind]
    if #b.reqs > 0 then
      if opts.progress then opts.progress(kind, #b.reqs) end
      local res, err = client:bulk(kind, b.reqs, { parallel = opts.parallel })
      local failed = 0
      for j, i in ipairs(b.at) do
        local a, r = plan.actions[i], res and res[j] or { err = err }
        local id = a.id or (type(r.ok) == "table" and r.ok.id) or nil
        results[i] = { action = kind, id = id, label = a.label, ok = r.ok, err = r.err }
        if r.ok == nil then failed = failed + 1 end
      end
      if opts.progress then opts.progress(kind, #b.reqs, failed) end
    end
  end
  return results
end

-- What databricks.webhooks.plan_mlflow shares with this file (not public).
M.helpers = { KINDS = KINDS, copy = copy, invalid = invalid, is_reference = M.is_reference,
  refused_file = refused_file, same_set = same_set, difference = difference, keep = keep, finish = finish }

return M
