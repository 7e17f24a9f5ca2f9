-- What every command needs from the outside world: the process's streams
-- and environment (`sys`, replaceable for in-process use), the module, a
-- client, input checks, secrets from files, and talking to the person at the
-- terminal (confirmation, progress).
local exit = require("databricks.webhooks.cli.exit")
local args = require("databricks.webhooks.cli.args")
local output = require("databricks.webhooks.cli.output")

local fail, usage_error, PROG = exit.fail, exit.usage_error, exit.PROG
local cell, describe_error = output.cell, output.describe_error
local unpack = table.unpack or unpack -- luacheck: ignore 143
local trim = require("databricks.webhooks.host").trim -- linear, unlike gsub("%s+$", "")

-- Seconds of retrying (refused connections, 429, 503) before giving up: a
-- person waits at a terminal, so less than the library's 300.
local DEFAULT_RETRY_TIMEOUT = 30
local DEFAULT_PARALLEL = 8
local MAX_PARALLEL = 64 -- client:bulk's limit

local Context = {}
Context.__index = Context

local M = {}

local function is_terminal(fd)
  local ok = os.execute("test -t " .. fd)
  return ok == true or ok == 0
end

-- The real process: io's streams, os.getenv, isatty through test(1).
function M.process()
  return { stdout = io.stdout, stderr = io.stderr, stdin = io.stdin, getenv = os.getenv,
    is_terminal = is_terminal }
end

-- A context over `sys`: { stdout, stderr, stdin, getenv, is_terminal(fd),
-- checkout = { root, lua, core, exists } when run from a checkout }.
function M.new(sys)
  return setmetatable({ sys = sys, stdout = sys.stdout, stderr = sys.stderr }, Context)
end

function Context:load_module()
  if self.webhooks then return self.webhooks end
  -- in a checkout, its own build or nothing: a rock installed elsewhere on
  -- the machine must not stand in for it
  local co = self.sys.checkout
  if co and not co.exists(co.core) then
    fail(exit.USAGE, ("no C module built for %s in this checkout: run `make LUA=%s` in %s")
      :format(co.lua == "luajit" and "LuaJIT" or "Lua " .. co.lua, co.lua, co.root))
  end
  local ok, mod = pcall(require, "databricks.webhooks")
  if not ok then
    local why = self.sys.load_error and self.sys.load_error(mod) or tostring(mod):match("^[^\n]*")
    fail(exit.USAGE, "cannot load the databricks.webhooks module: " .. why)
  end
  self.webhooks = mod
  return mod
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- The event names and statuses of the API the command line speaks to.
function Context:events()
  local mod = self:load_module()
  return self.api == "mlflow" and mod.MLFLOW_EVENTS or mod.EVENTS
end

function Context:statuses()
  local mod = self:load_module()
  return self.api == "mlflow" and mod.MLFLOW_STATUSES or mod.STATUSES
end

-- Refuses unknown event names. An MLflow name ("entity.action", or a --json
-- body's {"entity", "action"}) may be given in either case; it is turned into
-- the lowercase name in `list` (the form the library prints).
function Context:check_events(list)
  local events = self:events()
  local valid = set_of(events)
  local mlflow = self.api == "mlflow"
  for i, e in ipairs(list) do
    if mlflow and type(e) == "table" and type(e.entity) == "string" and type(e.action) == "string" then
      e = e.entity .. "." .. e.action -- a --json body's {"entity", "action"}
    end
    if mlflow and type(e) == "string" and valid[e:lower()] then
      list[i] = e:lower()
    elseif not valid[e] then
      local hint = (mlflow and " (see '" .. PROG .. " events --api mlflow')") or (" (see '" .. PROG .. " events')")
      usage_error("unknown event '" .. cell(e) .. "'" .. args.did_you_mean(tostring(e), events) .. hint)
    end
  end
end

function Context:check_status(s)
  if s == nil then return end
  local statuses = self:statuses()
  if not set_of(statuses)[s] then
    usage_error("--status must be one of " .. table.concat(statuses, ", ") .. ", got '" .. cell(s) .. "'"
      .. args.did_you_mean(s, statuses))
  end
end

function Context.parallel(_, o)
  return o.parallel and args.positive_integer("parallel", o.parallel, MAX_PARALLEL) or DEFAULT_PARALLEL
end

-- The contents of PATH ('-': stdin, at most once), one trailing newline dropped.
function Context:read_input(option, path, keep_newline)
  local data
  if path == "-" then
    if self.stdin_taken then
      usage_error("--" .. option .. " - and --" .. self.stdin_taken .. " - cannot both read stdin")
    end
    self.stdin_taken = option
    data = self.sys.stdin:read("*a")
  else
    local f, err = io.open(path, "rb")
    if not f then usage_error("--" .. option .. ": " .. tostring(err)) end
    data = f:read("*a")
    f:close()
  end
  if not keep_newline then data = (data or ""):gsub("\r?\n$", "") end
  if data == "" then usage_error("--" .. option .. ": " .. (path == "-" and "stdin" or path) .. " is empty") end
  return data
end

-- The library's debug hook: with --debug every line (already redacted by the
-- library), else only the retry lines, one stderr line per retry.
function Context:debug_hook(all)
  local err = self.stderr
  return function(line)
    if all then
      err:write(cell(line), "\n")
    else
      local what = line:match("^databricks%.webhooks: retry: (.*)$")
      if what then err:write(PROG, ": ", cell(what), "\n") end
    end
  end
end

-- Reads the profiles of the config file: { name = { key = value } }, or nil.
function Context:profiles()
  local getenv = self.sys.getenv
  local path = getenv("DATABRICKS_CONFIG_FILE")
  if path == nil or path == "" then path = "~/.databrickscfg" end
  if path:find("^~/") then
    local home = getenv("HOME")
    if home == nil or home == "" then return nil end
    path = home .. path:sub(2)
  end
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return require("databricks.webhooks.config").parse_file(text or ""), path
end

local CREDENTIAL_VARS = { "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET" }

-- The Databricks CLI's rule, for the CLI only: --host with no profile named
-- and no credentials in the environment uses the profile whose host matches.
-- Returns the profile name and file, or nil (then the library decides).
function Context:profile_for_host(host)
  local getenv = self.sys.getenv
  local named = getenv("DATABRICKS_CONFIG_PROFILE")
  if named ~= nil and named ~= "" then return nil end
  for _, var in ipairs(CREDENTIAL_VARS) do
    local v = getenv(var)
    if v ~= nil and v ~= "" then return nil end
  end
  local config = require("databricks.webhooks.config")
  local want = config.normalize_host(host)
  local profiles, path = self:profiles()
  if not want or not profiles then return nil end
  local found = {}
  for name, section in pairs(profiles) do
    local have = type(section.host) == "string" and config.normalize_host(section.host)
    if have and have:lower() == want:lower() then found[#found + 1] = name end
  end
  table.sort(found)
  if #found > 1 then
    fail(exit.USAGE, "several profiles of " .. cell(path) .. " have host " .. cell(want) .. ": "
      .. cell(table.concat(found, ", ")) .. "; name one with --profile")
  end
  return found[1], found[1] and path
end

-- An MLflow client: --host, else MLFLOW_TRACKING_URI; --token, else the
-- MLFLOW_TRACKING_* credentials (the library reads the environment).
function Context:connect_mlflow(o)
  local mod = self:load_module()
  local client, err = mod.new({
    api = "mlflow",
    host = o.host,
    token = o.token,
    timeout = o.timeout and args.seconds("timeout", o.timeout),
    retry_timeout = o.retry_timeout and args.seconds("retry-timeout", o.retry_timeout) or DEFAULT_RETRY_TIMEOUT,
    user_agent = "databricks-webhooks-cli/" .. mod.VERSION,
    debug = self:debug_hook(o.debug),
  })
  if not client then fail(exit.USAGE, describe_error(err)) end
  return client
end

function Context:connect(o)
  if self.api == "mlflow" then return self:connect_mlflow(o) end
  local mod = self:load_module()
  local profile, config_file = o.profile, nil
  if o.host and not profile then profile, config_file = self:profile_for_host(o.host) end
  -- the same as the library's own reading, but through sys (in-process runs)
  local env_file = self.sys.getenv("DATABRICKS_CONFIG_FILE")
  if not config_file and env_file ~= nil and env_file ~= "" then config_file = env_file end
  local client, err = mod.new({
    host = o.host,
    profile = profile,
    config_file = config_file,
    timeout = o.timeout and args.seconds("timeout", o.timeout),
    retry_timeout = o.retry_timeout and args.seconds("retry-timeout", o.retry_timeout) or DEFAULT_RETRY_TIMEOUT,
    user_agent = "databricks-webhooks-cli/" .. mod.VERSION,
    debug = self:debug_hook(o.debug),
  })
  -- no host, no credentials, no such profile, a bad option: configuration
  if not client then fail(exit.USAGE, describe_error(err)) end
  return client
end

-- Every webhook of `filter` (a list request), following every page: at most
-- `max_pages` (default the module's MAX_PAGES), and never a page token twice.
function Context.list_all(_, client, filter, max_pages)
  local out = {}
  local ok, err = pcall(function()
    for wh in client:each(filter, { max_pages = max_pages }) do out[#out + 1] = wh end
  end)
  if not ok then fail(exit.code_for(err), describe_error(err)) end
  return out
end

local DOING = { update = "updating", delete = "deleting" }

-- Runs `op` on every request through client:bulk; returns { { ok =, err = }, ... }
-- in order. On a terminal (stderr), work of more than `parallel` requests goes
-- in rounds, with a progress line after each.
function Context:bulk(client, op, requests, parallel)
  if #requests == 0 then return {} end
  local show = #requests > parallel and self.sys.is_terminal(2)
  local round = show and parallel * 2 or #requests
  local results = {}
  for first = 1, #requests, round do
    local part = { unpack(requests, first, math.min(first + round - 1, #requests)) }
    local got, err = client:bulk(op, part, { parallel = parallel })
    if not got then fail(exit.code_for(err), describe_error(err)) end
    for i, r in ipairs(got) do results[first + i - 1] = r end
    if show then
      self.stderr:write(PROG, ": ", DOING[op] or op, " webhooks: ", #results, " of ", #requests, " done\n")
    end
  end
  return results
end

-- Asks on the terminal (stderr, answered on stdin); the answer, trimmed, or "".
function Context:ask(prompt)
  self.stderr:write(prompt)
  if self.stderr.flush then self.stderr:flush() end
  return trim(self.sys.stdin:read("*l") or "")
end

return M
