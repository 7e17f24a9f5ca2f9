--- databricks-webhooks, the command-line tool, as a module: `main(argv, sys)`
-- runs one command line and returns the exit status; bin/databricks-webhooks
-- only finds the modules and calls it. `sys` (optional) replaces the process:
-- `{ stdout, stderr, stdin, getenv, is_terminal = function(fd) }`, so that
-- the tool runs in-process too.
local args = require("databricks.webhooks.cli.args")
local context = require("databricks.webhooks.cli.context")
local exit = require("databricks.webhooks.cli.exit")
local help = require("databricks.webhooks.cli.help")
local webhook_commands = require("databricks.webhooks.cli.commands.webhooks")
local state_commands = require("databricks.webhooks.cli.commands.state")
local local_workspace = require("databricks.webhooks.cli.local_workspace")

local unpack = table.unpack or unpack

local M = {}

M.EXIT = exit

--- The real process as `main`'s `sys`: io's streams, os.getenv, test(1) for terminals.
-- @function process
M.process = context.process

local COMMANDS = {
  create = webhook_commands.create, list = webhook_commands.list, get = webhook_commands.get,
  update = webhook_commands.update,
  delete = webhook_commands.delete, test = webhook_commands.test, events = webhook_commands.events,
  export = state_commands.export, plan = state_commands.plan, apply = state_commands.apply,
}

-- The main help up to its options: what no arguments print (on stderr).
local function short_usage()
  return help.main:match("^(.-\n)Options of every command:") .. "Run '" .. exit.PROG
    .. " --help' for the options and exit statuses.\n"
end

-- Said once per run when `--json` is the output flag (see args.lua).
M.JSON_FLAG_DEPRECATED = "warning: --json as the output flag is deprecated and goes in the next release:"
  .. " use -o json (--output json); --json JSON|@FILE is the request body\n"

local function format_of(ctx, o)
  local cell = require("databricks.webhooks.cli.output").cell
  local format = o.format
  if format ~= nil and format ~= "table" and format ~= "tsv" and format ~= "json" then
    exit.usage_error("--format must be table, tsv or json, got '" .. cell(format) .. "'")
  end
  if o.output ~= nil and o.output ~= "json" and o.output ~= "text" then
    exit.usage_error("-o/--output must be json or text, got '" .. cell(o.output) .. "'")
  end
  if o.json and o.output == "text" then exit.usage_error("--json contradicts --output text") end
  local json = o.output == "json" or o.json
  if json then
    if format and format ~= "json" then
      exit.usage_error((o.output and "--output json" or "--json") .. " contradicts --format " .. format)
    end
    format = "json"
  elseif o.output == "text" and format == "json" then
    exit.usage_error("--output text contradicts --format json")
  end
  return format or (ctx.sys.is_terminal(1) and "table" or "tsv")
end

local function run(ctx, argv)
  -- its own options, passed through to the script that serves it
  if argv[1] == "local-workspace" then return local_workspace.run(ctx, { select(2, unpack(argv)) }) end
  local command, o, verb = args.parse(argv)
  exit.command = verb
  if o.help then
    ctx.stdout:write(help[verb or "main"])
    return exit.OK
  end
  if o.version then
    -- the Lua too: a rock installed for two Luas runs with the last one's
    ctx.stdout:write(exit.PROG, " ", ctx:load_module().VERSION, " (",
      type(jit) == "table" and jit.version or _VERSION, ")\n")
    return exit.OK
  end
  if command == nil then
    ctx.stderr:write("error: no command given\n\n", short_usage())
    return exit.USAGE
  end
  args.check_accepted(command, o, verb)
  ctx.api = args.api_of(o, ctx.sys.getenv)
  args.check_api(ctx.api, command, o, verb)
  if o.json then ctx.stderr:write(M.JSON_FLAG_DEPRECATED) end
  if not args.MULTI_MODEL[command] then o.model = o.model[1] end
  return COMMANDS[command](ctx, o, format_of(ctx, o), verb ~= command and verb or nil)
end

--- Runs one command line, as `databricks-webhooks` does.
-- @tparam {string,...} argv the arguments, without the program name
-- @tparam[opt] table sys replaces the process: `stdout`, `stderr` (with `write`),
--   `stdin` (with `read`), `getenv(name)`, `is_terminal(fd)` (0, 1 or 2)
--   and `checkout` (set by the launcher when run from a checkout)
-- @treturn integer the exit status: 0 success, 1 API error, 2 usage or
--   configuration error, 3 network error, 4 changes pending (plan), 5 no
--   webhook matched, 70 internal error
function M.main(argv, sys)
  sys = sys or context.process()
  local ctx = context.new(sys)
  exit.command = nil
  local ok, result = xpcall(function() return run(ctx, argv or {}) end, function(e)
    if getmetatable(e) == exit.Failure then return e end
    return { exit = exit.INTERNAL, message = "internal error: " .. tostring(e) .. "\n" .. debug.traceback() }
  end)
  if ctx.stdout.flush then ctx.stdout:flush() end
  if ok then return result end
  ctx.stderr:write("error: ", result.message, "\n")
  return result.exit
end

return M
