-- Webhooks as code: export, plan, apply. The work is
-- databricks.webhooks.plan's; the file format and the plan's views are
-- databricks.webhooks.plan_file's. Each takes (ctx, options, format) and
-- returns the exit status.
local exit = require("databricks.webhooks.cli.exit")
local output = require("databricks.webhooks.cli.output")

local fail, usage_error = exit.fail, exit.usage_error
local describe_error = output.describe_error

local PROGRESS_MIN = 10 -- apply reports progress on stderr from this many changes

local C = {}

local function plan_file(ctx)
  ctx:load_module()
  return require("databricks.webhooks.plan_file")
end

-- export on an MLflow server: every webhook, sorted by name.
local function export_mlflow(ctx, o)
  local pf = plan_file(ctx)
  local list = ctx:list_all(ctx:connect(o), {})
  ctx.stdout:write(pf.encode(pf.export(list, nil, "mlflow")))
  if #list > 0 then
    ctx.stderr:write("note: secrets are write-only: set the environment variables the file names",
      " (WEBHOOK_<n>_SECRET) before apply, or remove the references of webhooks without one\n")
  end
  local dups = pf.duplicate_names(list)
  if #dups > 0 then
    ctx.stderr:write("warning: several webhooks have the name ", output.cell(table.concat(dups, ", ")),
      "; plan refuses a file that names one twice: keep one entry each and delete the extra webhooks\n")
  end
  return exit.OK
end

function C.export(ctx, o)
  if ctx.api == "mlflow" then return export_mlflow(ctx, o) end
  local pf = plan_file(ctx)
  local seen, models = {}, {}
  for _, name in ipairs(o.model) do
    if name == "" then usage_error("--model must not be empty") end
    if not seen[name] then seen[name], models[#models + 1] = true, name end
  end
  local client = ctx:connect(o)
  local list = {}
  if #models == 0 then
    list = ctx:list_all(client, {})
  else
    for _, name in ipairs(models) do
      for _, wh in ipairs(ctx:list_all(client, { model_name = name })) do list[#list + 1] = wh end
    end
  end
  ctx.stdout:write(pf.encode(pf.export(list, models)))
  if #list > 0 then
    ctx.stderr:write("note: secrets are write-only: set the environment variables the file names",
      " (WEBHOOK_<n>_...) before apply, or remove the references of webhooks without one\n")
  end
  return exit.OK
end

-- Reads the file and makes the plan; fails like the other commands.
local function make_plan(ctx, o)
  if not o.file then usage_error("give the desired-state file with -f FILE") end
  local pf = plan_file(ctx)
  local doc, err = pf.load(o.file)
  if not doc then fail(exit.USAGE, describe_error(err)) end
  if doc.api ~= nil and doc.api ~= ctx.api then
    usage_error(("%s is a desired state for %s (\"api\": \"%s\"); give --api %s"):format(output.cell(doc.name),
      doc.api == "mlflow" and "an MLflow server" or "a Databricks workspace", doc.api, doc.api))
  end
  local client = ctx:connect(o)
  local p
  p, err = client:plan(doc.webhooks, { model_names = doc.model_names, prune = o.prune,
    rotate_secrets = o.rotate_secrets, file_root = doc.folder, allow_file_outside = o.allow_file_outside })
  if not p then
    if type(err) == "table" and type(err.message) == "string" then err.message = pf.locate(doc, err.message) end
    fail(exit.code_for(err), describe_error(err))
  end
  return pf, client, p
end

function C.plan(ctx, o, format)
  local pf, _, p = make_plan(ctx, o)
  if format == "json" then
    ctx.stdout:write(pf.encode(pf.document(p)))
  else
    ctx.stdout:write(pf.render(p))
  end
  return pf.has_changes(p) and exit.CHANGES or exit.OK
end

local PROGRESS_WORDS = { create = { "creating", "created" }, update = { "updating", "updated" },
  delete = { "deleting", "deleted" } }

local function progress_to(w)
  return function(kind, total, failed)
    local noun = total == 1 and "webhook" or "webhooks"
    if failed == nil then
      w:write("apply: ", PROGRESS_WORDS[kind][1], " ", total, " ", noun, "...\n")
    else
      w:write("apply: ", PROGRESS_WORDS[kind][2], " ", total - failed, " of ", total, " ", noun,
        failed > 0 and (" (" .. failed .. " failed)") or "", "\n")
    end
  end
end

-- Asks on the terminal; anything but "yes" cancels.
local function confirm(ctx, n)
  if ctx:ask(("Apply %d change%s? Only 'yes' is accepted: "):format(n, n == 1 and "" or "s")) ~= "yes" then
    fail(exit.USAGE, "apply cancelled; nothing was changed")
  end
end

-- Names the server holds more than once: said on stderr, exit 1 (apply left them alone).
local function report_conflicts(ctx, p, code)
  for _, c in ipairs(p.conflicts or {}) do
    ctx.stderr:write("error: name ", output.cell(c.name), ": ", #c.ids,
      " webhooks on the server have this name (ids ", output.cell(table.concat(c.ids, ", ")),
      "); nothing was changed for it: delete the extra ones, then apply again\n")
    code = code == exit.OK and exit.API or code
  end
  return code
end

local function results_of(ctx, format, results)
  local code, rows, docs = exit.OK, {}, output.array()
  for i, r in ipairs(results) do
    local ok = r.err == nil
    rows[i] = { r.action, r.id, r.label, ok and "ok" or "error", not ok and describe_error(r.err) or nil }
    docs[i] = { action = r.action, id = r.id, label = r.label, ok = ok,
      error = not ok and output.error_table(r.err) or nil }
    if not ok then
      ctx.stderr:write("error: ", r.action, " ", r.label, ": ", describe_error(r.err), "\n")
      code = exit.worst(code, r.err)
    end
  end
  output.rows_or_json(ctx.stdout, format, { "ACTION", "ID", "TARGET", "RESULT", "ERROR" }, rows, docs)
  return code
end

function C.apply(ctx, o, format)
  if not o.yes and not ctx.sys.is_terminal(0) then
    usage_error("apply asks for confirmation on a terminal; give --yes to apply without asking")
  end
  local parallel = ctx:parallel(o)
  local pf, client, p = make_plan(ctx, o)
  if format ~= "json" then ctx.stdout:write(pf.render(p)) end
  if #p.actions == 0 then
    if format == "json" then output.json(ctx.stdout, output.array()) end
    return report_conflicts(ctx, p, exit.OK)
  end
  if not o.yes then confirm(ctx, #p.actions) end
  if ctx.stdout.flush then ctx.stdout:flush() end
  local results, err = client:apply(p, { parallel = parallel,
    progress = #p.actions >= PROGRESS_MIN and progress_to(ctx.stderr) or nil })
  if not results then fail(exit.code_for(err), describe_error(err)) end
  return report_conflicts(ctx, p, results_of(ctx, format, results))
end

return C
