-- Command-line parsing: which options exist, which command takes which,
-- and "did you mean" for misspelt names.
local exit = require("databricks.webhooks.cli.exit")

local usage_error = exit.usage_error

local M = {}

-- Every option: `value` names the argument (nil for a flag); `multi` options
-- may repeat; `alias` names the option it stands for. The key in the parsed
-- table is the name with '-' turned to '_'.
M.OPTIONS = {
  host = { value = "URL" }, profile = { value = "NAME" },
  timeout = { value = "SECONDS" }, ["retry-timeout"] = { value = "SECONDS" },
  json = {}, output = { value = "json|text" }, format = { value = "FORMAT" }, help = {}, version = {}, debug = {},
  model = { value = "NAME", multi = true }, ["model-name"] = { alias = "model" },
  event = { value = "EVENT", multi = true },
  url = { value = "URL" }, secret = { value = "SECRET" }, ["secret-file"] = { value = "PATH" },
  ["job-id"] = { value = "ID" }, ["access-token-file"] = { value = "PATH" },
  ["workspace-url"] = { value = "URL" },
  status = { value = "STATUS" }, description = { value = "TEXT" },
  id = { value = "ID", multi = true },
  ["max-results"] = { value = "N" }, ["page-token"] = { value = "TOKEN" },
  all = {}, parallel = { value = "N" }, ["max-pages"] = { value = "N" },
  file = { value = "FILE" }, prune = {}, ["rotate-secrets"] = {}, yes = {}, ["allow-file-outside"] = {},
  api = { value = "databricks|mlflow" }, token = { value = "TOKEN" }, name = { value = "NAME" },
}

-- As in the Databricks CLI, `--json JSON|@FILE` is the request body. A
-- `--json` with no value after it (the last argument, or one followed by an
-- option) is the output flag of earlier releases, kept for one release:
-- `o.json` is then true and the caller warns that it is deprecated.
local BODY = { value = "JSON|@FILE" }

-- Short options, and the long option each one is.
local SHORT = { ["-f"] = "file", ["-o"] = "output", ["-h"] = "help" }

local COMMON = { "host", "profile", "timeout", "retry-timeout", "json", "output", "format", "help", "version",
  "debug", "api", "token" }

local TARGET = { "url", "secret", "secret-file", "job-id", "access-token-file", "workspace-url" }

-- The options each command takes besides COMMON.
local ACCEPTS = {
  create = { "event", "model", "status", "description", "name", TARGET },
  list = { "model", "event", "all", "max-results", "page-token", "max-pages" },
  get = { "id", "model" },
  update = { "id", "model", "all", "parallel", "status", "description", "event", "name", TARGET },
  delete = { "id", "model", "all", "event", "parallel", "yes" },
  test = { "id", "event" },
  events = {},
  export = { "model" },
  plan = { "file", "prune", "rotate-secrets", "allow-file-outside" },
  apply = { "file", "prune", "rotate-secrets", "yes", "parallel", "allow-file-outside" },
}

-- The Databricks CLI's verbs, and the command each one is.
M.VERBS = {
  ["create-webhook"] = "create", ["list-webhooks"] = "list", ["update-webhook"] = "update",
  ["delete-webhook"] = "delete", ["test-registry-webhook"] = "test",
}

-- Commands that send a request body, which --json JSON|@FILE gives.
M.TAKES_BODY = { create = true, update = true, test = true }

-- Commands whose positional arguments are webhook ids.
local POSITIONAL_IDS = { get = true, update = true, delete = true, test = true }

-- Commands that take --model more than once.
M.MULTI_MODEL = { export = true }

-- Every command name, in the order help lists them.
M.COMMANDS = { "create", "list", "get", "update", "delete", "test", "events", "export", "plan", "apply",
  "create-webhook", "list-webhooks", "update-webhook", "delete-webhook", "test-registry-webhook" }

local function is_command(word)
  return ACCEPTS[word] ~= nil or M.VERBS[word] ~= nil
end

-- Whether the `--json` at argv[i] has a value after it: an argument that is
-- neither an option ("-" alone is not one) nor a command name (no body is:
-- `--json list` is the old output flag before the command).
function M.value_follows(argv, i)
  local nxt = argv[i + 1]
  return nxt ~= nil and (nxt:sub(1, 1) ~= "-" or nxt == "-") and not is_command(nxt) and nxt ~= "help"
end

-- " (did you mean 'X'?)" for the candidate nearest to `word`, when near
-- enough to be a typo.
M.did_you_mean = require("databricks.webhooks.suggest").did_you_mean

local function option_names()
  local names = {}
  for name in pairs(M.OPTIONS) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- Refuses an unknown command, suggesting the nearest.
function M.check_command(command)
  if not is_command(command) then
    usage_error("unknown command '" .. command .. "'" .. M.did_you_mean(command, M.COMMANDS))
  end
end

-- The command word: the first word that names a command (else the first
-- word), skipping the values of options.
local function find_command(argv)
  local first
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      first = first or argv[i + 1]
      break
    elseif a:sub(1, 1) ~= "-" or a == "-" then
      if is_command(a) or a == "help" then return a end
      first = first or a
    elseif a == "--json" then
      if M.value_follows(argv, i) then i = i + 1 end
    elseif (SHORT[a] and M.OPTIONS[SHORT[a]].value)
      or (not a:find("=", 1, true) and M.OPTIONS[a:sub(3)] and M.OPTIONS[a:sub(3)].value) then
      i = i + 1
    end
    i = i + 1
  end
  return first
end

local function add_value(o, key, spec, value)
  if spec.multi then
    local list = o[key]
    if key == "event" then
      for part in (value .. ","):gmatch("([^,]*),") do list[#list + 1] = part end
    else
      list[#list + 1] = value
    end
  elseif o[key] ~= nil then
    usage_error("option --" .. key:gsub("_", "-") .. " given twice")
  else
    o[key] = value
  end
end

-- Reads the option argv[i] into o; returns the index of the next argument.
local function read_option(argv, i, o)
  local a = argv[i]
  local short, attached = a:match("^(%-%a)=?(.+)$") -- -ojson, -o=json as pflag reads them
  if SHORT[a] then
    a = "--" .. SHORT[a]
  elseif short and SHORT[short] and M.OPTIONS[SHORT[short]].value then
    a = "--" .. SHORT[short] .. "=" .. attached
  end
  if a:sub(1, 2) ~= "--" then
    usage_error("unknown option " .. a .. M.did_you_mean(a:sub(2), option_names(), "--"))
  end
  local name, value = a:match("^%-%-([^=]*)=(.*)$")
  name = name or a:sub(3)
  local spec = M.OPTIONS[name]
  if not spec then usage_error("unknown option --" .. name .. M.did_you_mean(name, option_names(), "--")) end
  if spec.alias then name, spec = spec.alias, M.OPTIONS[spec.alias] end
  local key = name:gsub("%-", "_")
  if name == "json" and (value ~= nil or M.value_follows(argv, i)) then spec, key = BODY, "body" end
  if not spec.value then
    if value ~= nil then usage_error("option --" .. name .. " takes no value") end
    o[key] = true
    return i + 1
  end
  if value == nil then
    i = i + 1
    value = argv[i]
    -- `--model --all` is a mistake far more often than a model name
    if value == nil or value:sub(1, 2) == "--" then
      usage_error("option --" .. name .. " needs a value (" .. spec.value .. ")")
    end
  end
  add_value(o, key, spec, value)
  return i + 1
end

-- Parses argv into (command, options, verb). Options may come before or
-- after the command; `--name=value` and `--name value` both work; `--` ends
-- options. A Databricks CLI verb comes back as its command, the verb third.
function M.parse(argv)
  local o = { event = {}, id = {}, model = {} }
  local verb = find_command(argv)
  local words, i, options_done = {}, 1, false
  while i <= #argv do
    local a = argv[i]
    if options_done or a == "-" or a:sub(1, 1) ~= "-" then
      words[#words + 1] = a
      i = i + 1
    elseif a == "--" then
      options_done, i = true, i + 1
    else
      i = read_option(argv, i, o)
    end
  end
  for k, w in ipairs(words) do
    if w == verb then table.remove(words, k) break end
  end
  if verb == "help" then -- `help [COMMAND]`
    verb, o.help = table.remove(words, 1), true
  end
  if verb ~= nil then M.check_command(verb) end
  local command = M.VERBS[verb] or verb
  if words[1] and not POSITIONAL_IDS[command] then usage_error("unexpected argument '" .. words[1] .. "'") end
  for _, w in ipairs(words) do o.id[#o.id + 1] = w end
  return command, o, verb
end

local function option_set(list, set)
  set = set or {}
  for _, v in ipairs(list) do
    if type(v) == "table" then option_set(v, set) else set[v] = true end
  end
  return set
end

-- Refuses options the command does not take.
function M.check_accepted(command, o, verb)
  local ok = option_set(COMMON, option_set(ACCEPTS[command]))
  local shown = verb or command
  for name, spec in pairs(M.OPTIONS) do
    local v = not spec.alias and o[(name:gsub("%-", "_"))]
    local given = v and not (type(v) == "table" and #v == 0)
    if given and not ok[name] then
      usage_error(shown .. " does not take --" .. name)
    end
  end
  if not M.MULTI_MODEL[command] and #o.model > 1 then usage_error("option --model given twice") end
  if o.body ~= nil and not M.TAKES_BODY[command] then
    usage_error(shown .. " takes no request body (--json JSON|@FILE); for JSON output give -o json")
  end
end

-- The API families, and the options only one of them takes.
M.APIS = { "databricks", "mlflow" }
local ONLY = {
  databricks = { "profile", "model", "job-id", "access-token-file", "workspace-url" },
  mlflow = { "name", "token" },
}

-- The API a command line speaks to: --api, else DATABRICKS_WEBHOOKS_API,
-- else Databricks. Never guessed from which credentials are set.
function M.api_of(o, getenv)
  local api, from = o.api, "--api"
  if api == nil then
    local env = getenv("DATABRICKS_WEBHOOKS_API")
    if env ~= nil and env ~= "" then api, from = env, "DATABRICKS_WEBHOOKS_API" end
  end
  if api == nil then return "databricks" end
  if api ~= "databricks" and api ~= "mlflow" then
    usage_error(from .. " must be databricks or mlflow, got '" .. api:gsub("[%c]", "?") .. "'"
      .. M.did_you_mean(api, M.APIS))
  end
  return api
end

-- Refuses the options, verbs and modes the command's API family does not have.
function M.check_api(api, command, o, verb)
  local other = api == "mlflow" and "databricks" or "mlflow"
  local why = api == "mlflow" and " is a Databricks option; an MLflow server has no such thing"
    or " is for an MLflow server (give --api mlflow)"
  for _, name in ipairs(ONLY[other]) do
    local v = o[(name:gsub("%-", "_"))]
    if v ~= nil and not (type(v) == "table" and #v == 0) then
      usage_error("--" .. name .. why .. (name == "token" and "; a Databricks token comes from DATABRICKS_TOKEN"
        .. " or the profile" or ""))
    end
  end
  if api ~= "mlflow" then return end
  if verb and M.VERBS[verb] then
    usage_error(verb .. " is a Databricks CLI verb; with --api mlflow use " .. command)
  end
  if o.all and (command == "update" or command == "delete") then
    usage_error(command .. " --all acts on the webhooks of a Databricks model; an MLflow server has no"
      .. " models: give the webhook ids")
  end
  if command == "list" and #o.event > 0 then
    usage_error("list --event filters on a Databricks workspace only; an MLflow server's list has no filters")
  end
end

function M.positive_integer(name, s, max)
  local n = s:find("^%d+$") and tonumber(s)
  if not n or n < 1 or (max and n > max) then
    usage_error("--" .. name .. " must be " .. (max and ("an integer from 1 to " .. max)
      or "a positive integer") .. ", got '" .. s .. "'")
  end
  return n
end

function M.seconds(name, s)
  local n = tonumber(s)
  if not n or n ~= n or n < 0 or n == math.huge then
    usage_error("--" .. name .. " must be a number of seconds, got '" .. s .. "'")
  end
  return n
end

return M
