-- The commands on webhooks, one client call each (bulk: one list, then one
-- `client:bulk`): create, list, update, delete, test, events. Each takes
-- (ctx, options, format, verb) and returns the exit status.
local cjson = require("cjson.safe")
local json_text = require("databricks.webhooks.json_text")
local args = require("databricks.webhooks.cli.args")
local exit = require("databricks.webhooks.cli.exit")
local output = require("databricks.webhooks.cli.output")

local fail, usage_error = exit.fail, exit.usage_error
local cell, describe_error = output.cell, output.describe_error

local C = {}

-- The secret of --secret or --secret-file, or nil.
local function secret_of(ctx, o)
  if o.secret and o.secret_file then usage_error("give --secret or --secret-file, not both") end
  if o.secret_file then return ctx:read_input("secret-file", o.secret_file) end
  return o.secret
end

-- The http_url_spec or job_spec the options describe: (field, table) or nil.
local function target_from(ctx, o)
  if o.secret and o.secret_file then usage_error("give --secret or --secret-file, not both") end
  if o.url and o.job_id then usage_error("give --url or --job-id, not both") end
  if (o.secret or o.secret_file) and not o.url then usage_error("--secret needs --url") end
  if (o.access_token_file or o.workspace_url) and not o.job_id then
    usage_error("--access-token-file and --workspace-url need --job-id")
  end
  if o.url then
    local spec = { url = o.url }
    if o.secret_file then spec.secret = ctx:read_input("secret-file", o.secret_file) end
    if o.secret then spec.secret = o.secret end
    return "http_url_spec", spec
  elseif o.job_id then
    if not o.access_token_file then usage_error("--job-id needs --access-token-file") end
    return "job_spec", {
      job_id = o.job_id,
      access_token = ctx:read_input("access-token-file", o.access_token_file),
      workspace_url = o.workspace_url,
    }
  end
  return nil
end

-- The request body of --json JSON|@FILE (a JSON object), or an empty table.
local function body_of(ctx, o)
  if o.body == nil then return {} end
  local text = o.body
  if text:sub(1, 1) == "@" then text = ctx:read_input("json", text:sub(2), true) end
  local doc, why = cjson.decode(text)
  if type(doc) ~= "table" or (next(doc) ~= nil and doc[1] ~= nil) then
    usage_error("--json must be a JSON object" .. (why and (": " .. cell(why)) or ""))
  end
  return json_text.strip_nulls(doc, cjson.null)
end

-- Adds what the options set to `req` (the --json body); a field set twice is
-- a usage error.
local function merge(req, fields)
  for k, v in pairs(fields) do
    if req[k] ~= nil then usage_error("--json sets " .. k .. " already; give it only once") end
    req[k] = v
  end
  return req
end

-- Calls client[op](client, req); a request the library refuses as misuse
-- (a --json body of the wrong shape) is a usage error, not a crash.
local function call(client, op, req)
  local ok, res, err = pcall(client[op], client, req)
  if not ok then usage_error("--json: " .. cell(tostring(res):gsub("^[^:]*:%d+: ", ""))) end
  if not res then fail(exit.code_for(err), describe_error(err)) end
  return res
end

function C.events(ctx, _, format)
  local events = ctx:events()
  if format == "json" then
    local out = output.array()
    for i, e in ipairs(events) do out[i] = e end
    output.json(ctx.stdout, out)
  else
    ctx.stdout:write(table.concat(events, "\n"), "\n")
  end
  return exit.OK
end

-- create on an MLflow server: name, url and events, flat.
local function create_mlflow(ctx, o, format)
  local req = body_of(ctx, o)
  if #o.event == 0 and not req.events then usage_error("create needs --event") end
  ctx:check_events(o.event)
  ctx:check_status(o.status)
  if type(req.events) == "table" then ctx:check_events(req.events) end
  if not o.name and not req.name then usage_error("create needs --name NAME") end
  if not o.url and not req.url then usage_error("create needs --url URL") end
  merge(req, { name = o.name, url = o.url, events = #o.event > 0 and o.event or nil, status = o.status,
    description = o.description, secret = secret_of(ctx, o) })
  output.webhook(ctx.stdout, format, call(ctx:connect(o), "create", req), ctx.api)
  return exit.OK
end

function C.create(ctx, o, format, verb)
  if ctx.api == "mlflow" then return create_mlflow(ctx, o, format) end
  local req = body_of(ctx, o)
  if #o.event == 0 and not req.events then usage_error((verb or "create") .. " needs --event") end
  ctx:check_events(o.event)
  ctx:check_status(o.status)
  -- a body's own mistakes first: they are what the user wrote
  if type(req.events) == "table" then ctx:check_events(req.events) end
  local field, spec = target_from(ctx, o)
  if not field and not (req.http_url_spec or req.job_spec) then
    usage_error((verb or "create") .. " needs --url URL or --job-id ID"
      .. (o.body and ", or http_url_spec or job_spec in its --json body" or ""))
  end
  merge(req, { events = #o.event > 0 and o.event or nil, model_name = o.model, status = o.status,
    description = o.description })
  if field then merge(req, { [field] = spec }) end
  local wh = call(ctx:connect(o), "create", req)
  output.webhook(ctx.stdout, format, wh)
  return exit.OK
end

-- One webhook by id (on Databricks, found by paging list; --model narrows it).
function C.get(ctx, o, format)
  if #o.id ~= 1 then usage_error("get needs exactly one ID") end
  if o.id[1] == "" then usage_error("the ID must not be empty") end
  local client = ctx:connect(o)
  local req = ctx.api == "mlflow" and o.id[1] or { id = o.id[1], model_name = o.model }
  output.webhook(ctx.stdout, format, call(client, "get", req), ctx.api)
  return exit.OK
end

function C.list(ctx, o, format)
  ctx:check_events(o.event)
  local req = {
    model_name = o.model,
    events = #o.event > 0 and o.event or nil,
    max_results = o.max_results and args.positive_integer("max-results", o.max_results),
    page_token = o.page_token,
  }
  if o.max_pages and not o.all then usage_error("--max-pages needs --all") end
  local max_pages = o.max_pages and args.positive_integer("max-pages", o.max_pages)
  local client = ctx:connect(o)
  local list, next_token
  if o.all then
    list = ctx:list_all(client, req, max_pages)
  else
    local page = call(client, "list", req)
    list, next_token = page.webhooks, page.next_page_token
  end
  if format == "json" then
    local out = output.array()
    for i, wh in ipairs(list) do out[i] = output.redact(wh) end
    output.json(ctx.stdout, { webhooks = out, next_page_token = next_token })
  else
    output.webhooks(ctx.stdout, format, list, ctx.api)
    if next_token then
      ctx.stderr:write("more webhooks: repeat with --page-token ", cell(next_token), ", or use --all\n")
    end
  end
  return exit.OK
end

-- The ids a command acts on, in order, without duplicates.
local function unique(list)
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    if v == "" then usage_error("--id must not be empty") end
    if not seen[v] then seen[v], out[#out + 1] = true, v end
  end
  return out
end

-- Nothing matched --model M --all: said on stderr, with its own exit status
-- (with --json, stdout still gets the empty array).
local function no_match(ctx, o, format, with_events)
  if format == "json" then output.json(ctx.stdout, output.array()) end
  local events = with_events and #o.event > 0 and (" listening to " .. table.concat(o.event, ", ")) or ""
  fail(exit.NO_MATCH, "no webhook matched: model '" .. cell(o.model) .. "' has no webhooks" .. cell(events)
    .. "; nothing was changed")
end

-- Bulk mode: --all (with --model) or several ids. Returns the ids to act on.
local function bulk_targets(ctx, client, o, format, with_events)
  if not o.all then return unique(o.id) end
  if not o.model then
    usage_error("--all needs --model NAME (it never acts on every webhook of the workspace)")
  end
  local filter = { model_name = o.model }
  if with_events and #o.event > 0 then filter.events = o.event end
  local ids = {}
  for _, wh in ipairs(ctx:list_all(client, filter)) do ids[#ids + 1] = wh.id end
  if #ids == 0 then no_match(ctx, o, format, with_events) end
  return unique(ids)
end

-- Prints bulk results, one per id, and returns the exit status: 0 when all
-- succeeded, else 3 if any failed to reach the workspace, else 1.
local function report(ctx, format, ids, results, with_webhook)
  local code, rows, docs = exit.OK, {}, output.array()
  for i, id in ipairs(ids) do
    local r = results[i] or { err = { error_code = "UNKNOWN", message = "no result" } }
    if r.err == nil and r.ok ~= nil and r.ok ~= false then
      rows[i] = { id, "ok" }
      docs[i] = { id = id, ok = true,
        webhook = with_webhook and type(r.ok) == "table" and output.redact(r.ok) or nil }
    else
      rows[i] = { id, "error", output.raw_error(r.err) }
      docs[i] = { id = id, ok = false, error = output.error_table(r.err) }
      ctx.stderr:write("error: ", cell(id), ": ", describe_error(r.err), "\n")
      code = exit.worst(code, r.err)
    end
  end
  output.rows_or_json(ctx.stdout, format, { "ID", "RESULT", "ERROR" }, rows, docs)
  return code
end

local function check_ids(o, command)
  if o.all and #o.id > 0 then usage_error("give ids or --all, not both") end
  if not o.all and #o.id == 0 then usage_error(command .. " needs an ID (or --model NAME --all)") end
end

-- The changes of update: what the options and the --json body set.
local function changes_of(ctx, o)
  local body = body_of(ctx, o)
  if body.id ~= nil then
    if #o.id > 0 and tostring(body.id) ~= o.id[1] then usage_error("--json has another id than " .. cell(o.id[1])) end
    if #o.id == 0 then o.id[1] = tostring(body.id) end
    body.id = nil
  end
  local changes = merge(body, { status = o.status, description = o.description,
    events = #o.event > 0 and o.event or nil })
  if ctx.api == "mlflow" then
    -- without --status the library sends the webhook's current one (the
    -- server's PATCH would otherwise make it ACTIVE)
    return merge(changes, { name = o.name, url = o.url, secret = secret_of(ctx, o) })
  end
  local field, spec = target_from(ctx, o)
  if field then merge(changes, { [field] = spec }) end
  return changes
end

function C.update(ctx, o, format, verb)
  local changes = changes_of(ctx, o)
  check_ids(o, verb or "update")
  if verb and #o.id > 1 then usage_error(verb .. " takes one ID") end
  if o.all and #o.event > 0 then
    usage_error("update --all cannot change events (--event); update webhooks one by one")
  end
  ctx:check_events(o.event)
  ctx:check_status(o.status)
  local parallel = ctx:parallel(o)
  if next(changes) == nil then
    usage_error(ctx.api == "mlflow" and "nothing to change: give --status, --description, --event, --url,"
      .. " --name or --secret-file" or "nothing to change: give --status, --description, --event, --url or --job-id")
  end
  local client = ctx:connect(o)
  if not o.all and #o.id == 1 then
    changes.id = o.id[1]
    output.webhook(ctx.stdout, format, call(client, "update", changes), ctx.api)
    return exit.OK
  end
  local ids = bulk_targets(ctx, client, o, format, false)
  local requests = {}
  for i, id in ipairs(ids) do
    local req = { id = id }
    for k, v in pairs(changes) do req[k] = v end
    requests[i] = req
  end
  return report(ctx, format, ids, ctx:bulk(client, "update", requests, parallel), true)
end

function C.delete(ctx, o, format, verb)
  check_ids(o, verb or "delete")
  if not o.all and #o.event > 0 then usage_error("--event filters only with --all") end
  ctx:check_events(o.event)
  local parallel = ctx:parallel(o)
  -- As the Databricks CLI: a single delete is not confirmed; --all is, on a
  -- terminal, and without one (a script, CI) it needs --yes, as apply does.
  if o.all and not o.yes and not ctx.sys.is_terminal(0) then
    usage_error("delete --all asks for confirmation on a terminal; give --yes to delete without asking")
  end
  local client = ctx:connect(o)
  local ids = bulk_targets(ctx, client, o, format, true)
  if o.all and not o.yes then
    local n = #ids
    local answer = ctx:ask(("Delete %d webhook%s of model '%s'? [y/N]: "):format(n, n == 1 and "" or "s",
      cell(o.model))):lower()
    if answer ~= "y" and answer ~= "yes" then
      fail(exit.USAGE, "delete cancelled; nothing was deleted")
    end
  end
  if not o.all and #ids == 1 then
    -- One target: its error is the command's error, on stderr only.
    local done, err = client:delete(ids[1])
    if not done then fail(exit.code_for(err), cell(ids[1]) .. ": " .. describe_error(err)) end
    return report(ctx, format, ids, { { ok = true } }, false)
  end
  local requests = {}
  for i, id in ipairs(ids) do requests[i] = { id = id } end
  return report(ctx, format, ids, ctx:bulk(client, "delete", requests, parallel), false)
end

-- The id and event of test: an ID argument, --event, and the --json body's
-- "id" and "event" (as test-registry-webhook sends them); each given once.
local function test_request(ctx, o, verb)
  local body = body_of(ctx, o)
  for k in pairs(body) do
    if k ~= "id" and k ~= "event" then
      usage_error("--json: " .. (verb or "test") .. " takes only id and event, not " .. cell(k))
    end
  end
  if body.id ~= nil then
    if type(body.id) ~= "string" and type(body.id) ~= "number" then usage_error("--json: id must be a string") end
    if #o.id > 0 and tostring(body.id) ~= o.id[1] then usage_error("--json has another id than " .. cell(o.id[1])) end
    if #o.id == 0 then o.id[1] = tostring(body.id) end
  end
  if body.event ~= nil then
    if type(body.event) ~= "string" then usage_error("--json: event must be a string") end
    if #o.event > 0 and o.event[1] ~= body.event then usage_error("--json sets event already; give it only once") end
    if #o.event == 0 then o.event[1] = body.event end
  end
  if #o.id ~= 1 then usage_error((verb or "test") .. " needs exactly one ID") end
  if #o.event > 1 then usage_error("test takes at most one --event") end
  ctx:check_events(o.event)
  return { id = o.id[1], event = o.event[1] }
end

function C.test(ctx, o, format, verb)
  local res = call(ctx:connect(o), "test", test_request(ctx, o, verb))
  if ctx.api == "mlflow" then
    -- what the receiver answered; success = false is still an answer (exit 0)
    local doc = { success = res.success, response_status = res.response_status, response_body = res.response_body,
      error_message = res.error_message }
    output.rows_or_json(ctx.stdout, format, { "SUCCESS", "RESPONSE_STATUS", "RESPONSE_BODY", "ERROR_MESSAGE" },
      { { tostring(res.success), res.response_status, res.response_body, res.error_message } }, doc)
    return exit.OK
  end
  if format == "json" then
    output.json(ctx.stdout, { status_code = res.status_code, body = res.body })
  else
    output.rows(ctx.stdout, format, { "STATUS_CODE", "BODY" }, { { res.status_code, res.body } })
  end
  return exit.OK
end

return C
