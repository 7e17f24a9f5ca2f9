--- Model registry webhooks: create, get, list, update, delete and test the
-- webhooks of a Databricks workspace's Model Registry or of an open-source
-- MLflow server, and verify their deliveries.
--
-- The C core (`databricks.webhooks.core`) does validation, request building,
-- HTTP (libcurl, one reused connection per client), retries and errors; this
-- file resolves configuration and adds what is easier said in Lua.
-- @module databricks.webhooks

local core = require("databricks.webhooks.core")
local config = require("databricks.webhooks.config")
local EXACT_INT_MAX = require("databricks.webhooks.options").EXACT_INT_MAX

local M = {
  VERSION = "0.1.0",
  EVENTS = core.EVENTS,
  STATUSES = core.STATUSES,
  Error = core.Error,
}

--- The User-Agent, in the official SDKs' format:
-- `databricks-webhooks-lua/<v> lua/<5.x> libcurl/<v> os/<os> auth/<type> [luajit/<v>] [user tokens]`.
local function user_agent(settings)
  local ua = ("databricks-webhooks-lua/%s lua/%s libcurl/%s os/%s auth/%s"):format(
    M.VERSION, _VERSION:match("(%d+%.%d+)") or "5", core.curl_version, core.os, settings.auth_type)
  if type(jit) == "table" and jit.version then
    ua = ua .. " luajit/" .. (jit.version:match("(%d+%.%d+[%.%d]*)") or "2.1")
  end
  if settings.user_agent and settings.user_agent ~= "" then
    ua = ua .. " " .. settings.user_agent
  end
  return ua
end

local methods = core.methods
local unpack = table.unpack or unpack -- luacheck: ignore 143

-- ----------------------------------------------------------------------------
-- Transports
--
-- With no `opts.transport`, outside nginx, a call runs entirely in C: the
-- exchange loop of csrc/call.c over libcurl. A Lua transport -- `opts.transport`,
-- or the cosocket transport (databricks.webhooks.ngx) inside nginx -- runs the
-- very same exchange one step at a time from the Lua loop below
-- (csrc/stepper.h), so the transport may yield: cosockets need that. Validation,
-- request building, OAuth, retries and results are the C core's either way.
-- ----------------------------------------------------------------------------

-- A client's transport record lives in the client itself (core.set_transport):
-- { send = function(req) -> answer, sleep = function(seconds) | nil,
--   cosocket = <the ngx transport> | nil }. A cosocket record is used only in
-- phases that allow cosockets; any other record always.
local get_transport = core.get_transport

-- lua-nginx-module phases where cosockets and ngx.sleep work. Elsewhere
-- (init, init_worker, set, header/body filters, log, balancer) calls go
-- through libcurl and block the worker for their duration.
local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

-- The ngx API table when running inside nginx, else nil.
local function ngx_api()
  local api = rawget(_G, "ngx")
  if type(api) == "table" and type(api.get_phase) == "function" and type(api.socket) == "table"
    and type(api.socket.tcp) == "function" then
    return api
  end
  return nil
end

local function cosockets_now()
  local api = ngx_api()
  return api ~= nil and COSOCKET_PHASES[api.get_phase()] == true
end

local function default_sleep(seconds)
  if cosockets_now() then return ngx.sleep(seconds) end
  return core.sleep(seconds)
end

-- A transport answers one table; the older `nil, kind, message` form is taken too.
local function answer(resp, kind, message)
  if type(resp) == "table" then return resp end
  return { error_kind = kind or "connection",
    message = message ~= nil and tostring(message) or "transport returned no response" }
end

local function wrap_transport(t)
  if type(t) == "function" then
    return { send = function(req) return answer(t(req)) end }
  end
  return {
    send = function(req) return answer(t:request(req)) end,
    sleep = type(t.sleep) == "function" and function(seconds) return t:sleep(seconds) end or nil,
  }
end

-- The transport for this call, or nil for libcurl.
local function transport_for(self)
  local t = get_transport(self)
  if t == nil or (t.cosocket and not cosockets_now()) then return nil end
  return t
end

local function drive(st, send, sleep)
  local resp
  while true do
    local action, a, b = st:step(resp)
    if action == "send" then
      resp = send(a)
    elseif action == "sleep" then
      sleep(a)
      resp = nil
    else
      return a, b
    end
  end
end

-- Lua 5.1 alone cannot yield across pcall (cosockets run on LuaJIT, where it
-- can): there an abandoned Stepper is ended by its __gc instead.
local can_protect = type(jit) == "table" or _VERSION ~= "Lua 5.1"

local function ended(st, ok, a, b)
  if ok then return a, b end
  st:abort() -- a token refresh it had out is not waited for by later calls
  error(a, 0)
end

-- Runs one call through a Lua transport: the loop the C core runs for libcurl,
-- written in Lua so that `send` and `sleep` may yield. Whatever the transport or
-- `sleep` raises ends the call's Stepper before it propagates. `send` may be
-- given instead of the transport's own (the bulk driver's, which watches the
-- answers).
local function run_lua(self, t, send, op, ...)
  local st, err = self:_begin(op, ...)
  if not st then return nil, err end
  local sleep = t.sleep or default_sleep
  send = send or t.send
  if not can_protect then return drive(st, send, sleep) end
  return ended(st, pcall(drive, st, send, sleep))
end

-- What each operation accepts as its argument, per family, derived from the C
-- core's operation rows (core.FAMILIES), checked here so that misuse raises the
-- same message on both paths.
local FAMILIES = core.FAMILIES
local ARG_TYPES, BULK_OPS, BULK_NAMES = {}, {}, {}
for api, fam in pairs(FAMILIES) do
  ARG_TYPES[api], BULK_OPS[api] = {}, {}
  local names = {}
  for name, op in pairs(fam.ops) do
    ARG_TYPES[api][name] = { table = true, ["nil"] = op.optional_request or nil,
      string = op.id_positional or nil, number = op.id_positional or nil }
    BULK_OPS[api][name] = op.bulk or nil
    if op.bulk then names[#names + 1] = ("%q"):format(name) end
  end
  table.sort(names)
  BULK_NAMES[api] = table.concat(names, ", ")
end

local function check_arg(types, op, v, level)
  if not types[type(v)] then
    error(("bad argument #1 to '%s' (%s expected, got %s)"):format(op,
      types.string and "table or id" or "table", v == nil and "no value" or type(v)), level + 1)
  end
end

-- client:bulk() over a Lua transport: the Lua driver, with the result shape
-- and the window of the libcurl one (csrc/driver.c). Inside nginx up to
-- `parallel` light threads run the calls, one per request; a 429 to an API
-- request halves how many may run (once per round trip), successes grow it
-- back by one per window's worth. Elsewhere the calls run one after another.
local BULK_PARALLEL, BULK_MAX_PARALLEL = core.BULK_PARALLEL, core.BULK_MAX_PARALLEL

local function new_window(self, max)
  local win = { size = max, cut_at = -math.huge }
  local function resized(before, what)
    local now = math.floor(win.size)
    if now ~= before then
      core.debug(self, ("databricks.webhooks: bulk: %sat most %d in flight now"):format(what, now))
    end
  end
  -- send(req) through t, watching the answers to API requests
  function win.watch(t)
    return function(req)
      local started = ngx.now()
      local resp = t.send(req)
      local status = req.kind == "api" and type(resp) == "table" and resp.status
      if type(status) == "number" then
        local before = math.floor(win.size)
        if status >= 200 and status < 300 then
          win.size = math.min(max, win.size + 1 / win.size)
          resized(before, "")
        elseif status == 429 and started >= win.cut_at then
          win.size = math.max(1, win.size / 2)
          ngx.update_time()
          win.cut_at = ngx.now()
          resized(before, "answered 429; ")
        end
      end
      return resp
    end
  end
  return win
end

local function bulk_lua(self, t, op, reqs, opts)
  local api = self.api
  if not BULK_OPS[api][op] then
    error("bad argument #1 to 'bulk' (one of " .. BULK_NAMES[api] .. " expected)", 3)
  end
  if type(reqs) ~= "table" then error("bad argument #2 to 'bulk' (table expected, got " .. type(reqs) .. ")", 3) end
  local parallel = BULK_PARALLEL
  if opts ~= nil then
    if type(opts) ~= "table" then error("bad argument #3 to 'bulk' (table expected, got " .. type(opts) .. ")", 3) end
    if opts.parallel ~= nil then parallel = opts.parallel end
  end
  if type(parallel) ~= "number" or parallel < 1 or parallel > BULK_MAX_PARALLEL or parallel % 1 ~= 0 then
    error(("bad argument #3 to 'bulk' (parallel must be 1..%d)"):format(BULK_MAX_PARALLEL), 3)
  end
  local n, types = #reqs, ARG_TYPES[api][op]
  for i = 1, n do
    if not types[type(reqs[i])] then
      error(("bad request #%d to 'bulk' (table expected, got %s)"):format(i, type(reqs[i])), 3)
    end
  end
  local results = {}
  local function one(i, send)
    local ok, err = run_lua(self, t, send, op, reqs[i])
    if ok ~= nil then results[i] = { ok = ok } else results[i] = { err = err } end
    return i
  end
  if not (cosockets_now() and parallel > 1 and n > 1) then
    for i = 1, n do one(i) end
    return results
  end
  local win = new_window(self, math.min(parallel, n))
  local send = win.watch(t)
  local running, count, next_i = {}, 0, 1 -- running[i] = the thread of request i
  while next_i <= n or count > 0 do
    while next_i <= n and count < math.floor(win.size) do
      running[next_i] = ngx.thread.spawn(one, next_i, send)
      next_i, count = next_i + 1, count + 1
    end
    local list = {}
    for _, th in pairs(running) do list[#list + 1] = th end
    local ok, i = ngx.thread.wait(unpack(list))
    if not ok then
      -- one call raised: the bulk raises, and the others stop here rather
      -- than go on sending in the background
      for _, th in pairs(running) do ngx.thread.kill(th) end
      error(i, 0)
    end
    running[i], count = nil, count - 1
  end
  return results
end

-- The methods, defined once from the operation rows: each runs in C over
-- libcurl, or through the client's Lua transport when it has one.
local is_closed = methods.is_closed
local c_method = {}
for name in pairs(core.OP_NAMES) do c_method[name] = methods[name] end

-- `level` as error() would take it in the caller.
local function closed_check(self, level)
  if is_closed(self) then error("databricks.webhooks: client is closed", level + 1) end
end

-- Runs one operation of the client's family (`get` and `update` below add to
-- it); `level` points error() at the user's call from here.
local function call_op(self, op, req, level)
  -- anything but a client: the C method raises its own "bad argument"
  local fam = type(self) == "userdata" and getmetatable(self) == "locked" and ARG_TYPES[self.api]
  if not fam then return c_method[op](self, req) end
  local types = fam[op]
  if types == nil then
    error(("databricks.webhooks: '%s' is not an operation of the %s API"):format(op, self.api), level)
  end
  check_arg(types, op, req, level)
  local t = transport_for(self)
  if t == nil then return c_method[op](self, req) end
  closed_check(self, level)
  return run_lua(self, t, nil, op, req)
end

for name in pairs(core.OP_NAMES) do
  methods[name] = function(self, req)
    local a, b = call_op(self, name, req, 3) -- not a tail call: the level counts this frame
    if b ~= nil then return a, b end
    return a
  end
end

local c_request = methods.request
function methods.request(self, method, path, body, query)
  local t = transport_for(self)
  if t == nil then return c_request(self, method, path, body, query) end
  if type(method) ~= "string" or type(path) ~= "string" then
    error(("bad argument #%d to 'request' (string expected, got %s)"):format(
      type(method) ~= "string" and 1 or 2, type(type(method) ~= "string" and method or path)), 2)
  end
  closed_check(self, 2)
  return run_lua(self, t, nil, "request", method, path, body, query)
end

local c_bulk = methods.bulk
local function plain_bulk(self, op, reqs, opts)
  local t = transport_for(self)
  if t == nil then return c_bulk(self, op, reqs, opts) end
  closed_check(self, 3)
  return bulk_lua(self, t, op, reqs, opts)
end

local bulk_keeping_status -- below: MLflow updates without a status
function methods.bulk(self, op, reqs, opts)
  if op == "update" and type(reqs) == "table" and self.api == "mlflow" then
    return bulk_keeping_status(self, reqs, opts)
  end
  return plain_bulk(self, op, reqs, opts)
end

local c_stats = methods.stats
function methods.stats(self)
  local s = c_stats(self)
  local t = get_transport(self)
  if t and t.cosocket then -- what the cosocket transport adds
    s.connections = s.connections + t.cosocket.connections
    s.reused = t.cosocket.reused
  end
  return s
end

--- Make a client.
--
-- Every option is optional. What `opts` leaves unset comes from the
-- environment (`DATABRICKS_HOST`, `DATABRICKS_TOKEN`, `DATABRICKS_CLIENT_ID`,
-- `DATABRICKS_CLIENT_SECRET`, `DATABRICKS_AUTH_TYPE`, `DATABRICKS_CONFIG_PROFILE`,
-- `DATABRICKS_CONFIG_FILE`, `DATABRICKS_WORKSPACE_ID`), then from one profile of
-- `~/.databrickscfg`: the named `profile`, else `[__settings__] default_profile`,
-- else `[DEFAULT]`. As in the official SDKs, the file is not read when no
-- profile is named and a host or a credential is already set. An unknown
-- option or a bad value is an `INVALID_PARAMETER_VALUE` error, and so is a
-- missing host or missing credentials.
-- With `api = "mlflow"` the client manages the webhooks of an open-source
-- MLflow tracking server (3.3 and later) instead: its settings come from
-- `opts` and the MLflow client's environment (`MLFLOW_TRACKING_URI`,
-- `MLFLOW_TRACKING_TOKEN`, `MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`,
-- `MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH`), no config
-- file is read, credentials may be absent, and the Databricks-only options are
-- refused (docs/mlflow.md).
-- @tparam[opt] table opts the options below
-- @tparam[opt="databricks"] string opts.api `"databricks"` (registry webhooks of a
--   Databricks workspace) or `"mlflow"` (an open-source MLflow server)
-- @tparam[opt] string opts.host the workspace URL, `https://dbc-abcd0123-a1bc.cloud.databricks.com`
--   (`https://` is added to a bare host name)
-- @tparam[opt] string opts.deployment_name shorthand for the host: `"dbc-abcd0123-a1bc"`
--   stands for `https://dbc-abcd0123-a1bc.cloud.databricks.com`
-- @tparam[opt] string opts.token a personal access token (sent as `Authorization: Bearer`)
-- @tparam[opt] string opts.client_id OAuth machine-to-machine client id (with `client_secret`)
-- @tparam[opt] string opts.client_secret OAuth machine-to-machine client secret
-- @tparam[opt] string opts.auth_type which kind of credentials to use: `"pat"`, `"basic"`,
--   `"metadata-service"`, `"oauth-m2m"`, `"env-oidc"`, `"file-oidc"`, `"github-oidc"`,
--   `"azure-client-secret"`, `"databricks-cli"` (docs/auth.md); needed when several are set
-- @tparam[opt] string opts.username basic auth user (with `password`)
-- @tparam[opt] string opts.password basic auth password
-- @tparam[opt] string opts.metadata_service_url a local metadata service that hands out tokens
-- @tparam[opt] string opts.oidc_token_env the variable holding the identity token (env-oidc;
--   default `DATABRICKS_OIDC_TOKEN`)
-- @tparam[opt] string opts.oidc_token_filepath a file holding the identity token (file-oidc)
-- @tparam[opt] string opts.token_audience the audience of a GitHub Actions identity token
-- @tparam[opt] string opts.azure_client_id Azure service principal (azure-client-secret)
-- @tparam[opt] string opts.azure_client_secret its secret
-- @tparam[opt] string opts.azure_tenant_id its tenant
-- @tparam[opt="https://login.microsoftonline.com/"] string opts.azure_login_host where Entra ID
--   tokens are asked for
-- @tparam[opt] string opts.databricks_cli_path the `databricks` executable (databricks-cli)
-- @tparam[opt="all-apis"] string opts.scopes OAuth scopes, separated by commas or blanks
-- @tparam[opt] string opts.profile the `~/.databrickscfg` profile to read
-- @tparam[opt] string opts.config_file another file to read profiles from
-- @tparam[opt] string|number opts.workspace_id sent as `X-Databricks-Workspace-Id`
-- @tparam[opt=60] number opts.timeout seconds one HTTP exchange may take (fractions allowed)
-- @tparam[opt=30] number opts.connect_timeout seconds for the connect phase
-- @tparam[opt=300] number opts.retry_timeout budget in seconds for retries of 429 and 503
--   (and of failures before anything was sent), from the start of the call; `0` disables
--   retries; 10 attempts at most whatever the budget (their waits add up to 23-46 s)
-- @tparam[opt] number opts.rate_limit the most API requests per second this client sends
--   (`DATABRICKS_RATE_LIMIT`, profile key `rate_limit`; default: no limit), shared by single
--   calls and `bulk`
-- @tparam[opt=true] boolean opts.verify_tls verify the server certificate and host name
-- @tparam[opt] string opts.ca_file a PEM bundle for a private CA (default: the system's);
--   inside nginx, `lua_ssl_trusted_certificate` is used instead
-- @tparam[opt] string opts.proxy proxy URL (default: `HTTPS_PROXY` / `https_proxy`,
--   honouring `NO_PROXY`); `""` uses no proxy at all
-- @tparam[opt=false] boolean opts.allow_insecure_http permit `http://` to a host that is not
--   loopback (loopback `http://` is always allowed)
-- @tparam[opt] string opts.user_agent extra `name/version` tokens appended to the User-Agent
-- @tparam[opt=false] boolean|function opts.debug `true` (lines on stderr) or
--   `function(line)`: one line per attempt and one per retry (with the time used and
--   `retry_timeout`), secrets redacted
-- @tparam[opt=8388608] number opts.max_response_bytes the most bytes one answer may have
--   (after decompression); past it the call fails with `BAD_RESPONSE`
-- @tparam[opt=1000000] number opts.max_response_values the most JSON values one answer may
--   decode to; past it the call fails with `BAD_RESPONSE`
-- @tparam[opt] function|table opts.transport a custom transport: `function(req)`, or a
--   table with `request(self, req)` and optionally `sleep(self, seconds)` (see the README,
--   "Custom transports")
-- @return the client, or nil and an error object (see `Error`)
-- @usage local client = assert(webhooks.new{ host = "https://dbc-abcd0123-a1bc.cloud.databricks.com",
--                                      token = os.getenv("DATABRICKS_TOKEN") })
function M.new(opts)
  local settings, err = config.resolve(opts, nil, true)
  if not settings then
    return nil, core.error(err.error_code, err.message)
  end
  settings.user_agent = user_agent(settings)
  local transport = settings.transport
  settings.transport = nil
  local cosocket = transport == nil and ngx_api() ~= nil and not settings.proxy
  if cosocket and settings.ca_file ~= nil then
    -- the cosocket transport cannot honour it: nginx alone picks the trust store
    return nil, core.error("INVALID_PARAMETER_VALUE", "ca_file has no effect inside nginx: "
      .. "name the CA file with nginx's lua_ssl_trusted_certificate directive instead")
  end
  if settings.auth_type == "databricks-cli" then
    if ngx_api() ~= nil then
      return nil, core.error("INVALID_PARAMETER_VALUE", "databricks-cli: runs the databricks executable, which"
        .. " nginx workers must not do; inside nginx use pat, oauth-m2m or another kind that needs no process")
    end
    settings.token_source = require("databricks.webhooks.auth_databricks_cli").new(settings)
  end
  local client, cerr = core.new(settings)
  if not client then return nil, cerr end
  if transport ~= nil then
    core.set_transport(client, wrap_transport(transport))
  elseif cosocket then
    -- Inside nginx: cosockets whenever the phase allows them (decided per
    -- call), libcurl otherwise. The cosocket transport has no proxy support,
    -- so a client with a proxy stays on libcurl.
    local t = require("databricks.webhooks.ngx").new({ verify_tls = settings.verify_tls,
      max_body = settings.max_response_bytes })
    core.set_transport(client, { send = function(req) return t:request(req) end,
      sleep = function(seconds) return ngx.sleep(seconds) end, cosocket = t })
  end
  return client
end

-- Iterates over every webhook matching `req`, following every page; raises the
-- error object when a page fails. (Its LDoc entry is at the end of this file.)
-- A server decides the tokens: a token it sent before (a cycle of any length)
-- or more than `max_pages` pages ends the walk with BAD_RESPONSE.
M.MAX_PAGES = 10000

-- Long tokens are remembered by digest, so that the memory a walk holds
-- stays small whatever a server sends.
local function token_key(token)
  if #token <= 64 then return token end
  return core.sign("databricks.webhooks page token", token)
end

-- A walk over the pages of `list`: returns `next_page()`, which gives the
-- next page, false at the end, or nil and the error object. Bounded by
-- `max_pages` and by page tokens the server repeats.
local function page_walk(self, req, max_pages)
  local query = {}
  for k, v in pairs(req or {}) do query[k] = v end  -- never mutate the caller's table
  -- the page each token was first given on (0: the caller's own)
  local seen = {}
  if type(query.page_token) == "string" then seen[token_key(query.page_token)] = 0 end
  local done, pages = false, 0
  return function()
    if done then return false end
    if pages >= max_pages then
      return nil, core.error("BAD_RESPONSE", ("list: more than %d pages; stopping (raise each's max_pages"
        .. " if the registry is that large)"):format(max_pages))
    end
    local p, err = self:list(query)
    if not p then return nil, err end
    pages = pages + 1
    local token = p.next_page_token
    if token == nil then
      done = true
    else
      local key = token_key(token)
      local first = seen[key]
      if first then
        -- a server handing back a token it gave before would loop forever
        return nil, core.error("BAD_RESPONSE", ("list: page %d repeated the page token %s; a cycle of %d "
          .. "page%s; stopping"):format(pages, first == 0 and "the walk started with"
          or ("of page " .. first), pages - first, pages - first == 1 and "" or "s"))
      end
      seen[key] = pages
    end
    query.page_token = token
    return p
  end
end

function methods:each(req, opts)
  if req ~= nil and type(req) ~= "table" then
    error("bad argument #1 to 'each' (table expected, got " .. type(req) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'each' (table expected, got " .. type(opts) .. ")", 2)
  end
  local max_pages = opts and opts.max_pages
  if max_pages == nil then
    max_pages = M.MAX_PAGES
  elseif type(max_pages) ~= "number" or max_pages < 1 or max_pages % 1 ~= 0 or max_pages == math.huge then
    error("bad argument #2 to 'each' (max_pages must be a positive integer)", 2)
  end
  local next_page = page_walk(self, req, max_pages)
  local page, i = nil, 0
  return function()
    while true do
      if page and i < #page.webhooks then
        i = i + 1
        return page.webhooks[i]
      end
      local p, err = next_page()
      if p == false then return nil end
      if not p then error(err, 0) end
      page, i = p, 0
    end
  end
end

local function invalid(message)
  return nil, core.error("INVALID_PARAMETER_VALUE", message)
end

-- An id as the API writes it: a string, or an integer's digits.
local function id_text(id)
  if type(id) == "number" then
    if id < 0 or id % 1 ~= 0 or id > EXACT_INT_MAX then return nil end
    return ("%.0f"):format(id)
  end
  if type(id) == "string" and id ~= "" then return id end
  return nil
end

-- Read one webhook (LDoc entry at the end of this file). An MLflow server has
-- a get endpoint; Databricks has none, so there the pages of `list` (narrowed
-- by `model_name`) are read until the id turns up.
function methods:get(req)
  if self.api ~= "databricks" then
    local a, b = call_op(self, "get", req, 3)
    if b ~= nil then return a, b end
    return a
  end
  local t = type(req)
  if t ~= "table" and t ~= "string" and t ~= "number" then
    error(("bad argument #1 to 'get' (table or id expected, got %s)"):format(req == nil and "no value" or t), 2)
  end
  closed_check(self, 2)
  if t ~= "table" then req = { id = req } end
  for k in pairs(req) do
    if k ~= "id" and k ~= "model_name" then
      return invalid(("get: unknown field '%s'"):format(tostring(k)))
    end
  end
  local id = id_text(req.id)
  if id == nil then
    return invalid("get: id: " .. (req.id == nil and "is required" or "must be a non-empty string or an integer"))
  end
  if req.model_name ~= nil and (type(req.model_name) ~= "string" or req.model_name == "") then
    return invalid("get: model_name: must be a non-empty string")
  end
  local next_page = page_walk(self, { model_name = req.model_name }, M.MAX_PAGES)
  while true do
    local p, err = next_page()
    if p == false then break end
    if not p then return nil, err end
    for _, wh in ipairs(p.webhooks) do
      if wh.id == id then return wh end
    end
  end
  return nil, core.error("RESOURCE_DOES_NOT_EXIST", ("get: no webhook has id %s%s"):format(id,
    req.model_name and (" among those of model " .. req.model_name) or ""))
end

-- An MLflow server's PATCH without `status` makes the webhook ACTIVE (its
-- unset enum reads as ACTIVE): an update that names no status sends the one
-- the webhook has now, read just before (two requests, not atomic).
local function with_current_status(self, req)
  local ok, err = core.validate("update", req, "mlflow")
  if not ok then return nil, err end
  local cur, gerr = self:get(req.id)
  if not cur then return nil, gerr end
  local copy = {}
  for k, v in pairs(req) do copy[k] = v end
  copy.status = cur.status
  return copy
end

function methods:update(req)
  if self.api == "mlflow" and type(req) == "table" and req.status == nil and not is_closed(self) then
    local full, err = with_current_status(self, req)
    if not full then return nil, err end
    req = full
  end
  local a, b = call_op(self, "update", req, 3)
  if b ~= nil then return a, b end
  return a
end

-- client:bulk("update", ...) on an MLflow client: the same rule, with the
-- current statuses read by one bulk of `get` first.
function bulk_keeping_status(self, reqs, opts)
  local ids, at, out = {}, {}, {}
  for i, req in ipairs(reqs) do
    out[i] = req
    if type(req) == "table" and req.status == nil and core.validate("update", req, "mlflow") then
      ids[#ids + 1] = req.id
      at[#ids] = i
    end
  end
  local failed = {}
  if #ids > 0 then
    local got = plain_bulk(self, "get", ids, opts)
    for k, r in ipairs(got) do
      local i = at[k]
      if r.ok then
        local copy = {}
        for key, v in pairs(reqs[i]) do copy[key] = v end
        copy.status = r.ok.status
        out[i] = copy
      else
        failed[i] = r.err
      end
    end
  end
  local results = plain_bulk(self, "update", out, opts)
  for i, e in pairs(failed) do results[i] = { err = e } end
  return results
end

-- Compare a desired list of webhooks with the workspace: see
-- `databricks.webhooks.plan` (LDoc entry at the end of this file).
function methods:plan(desired, opts)
  return require("databricks.webhooks.plan").plan(self, desired, opts)
end

-- Carry out a plan made by `client:plan`, through `client:bulk` (LDoc entry at the end).
function methods:apply(plan, opts)
  return require("databricks.webhooks.plan").apply(self, plan, opts)
end

M.MLFLOW_EVENTS = FAMILIES.mlflow.events
M.MLFLOW_STATUSES = FAMILIES.mlflow.statuses
M.verify_signature = core.verify_signature
M.delivery_key = core.delivery_key
M.parse_delivery = core.parse_delivery
M.sign = core.sign

-- Open-source MLflow deliveries (LDoc entries at the end of this file).
local mlflow_delivery = require("databricks.webhooks.mlflow_delivery")
M.verify_mlflow_signature = mlflow_delivery.verify
M.sign_mlflow = mlflow_delivery.sign

-- Reference documentation of what is defined above without an LDoc comment of
-- its own (the methods are installed on the C class, not declared here).

--- Client methods written in Lua
-- @section client_lua

--- Iterate over every webhook matching `req`, following every page
-- (on top of `client:list`).
-- Raises the error object when a page fails; `pcall` gets it intact. A page
-- token the server already sent (a cycle of any length), or a page past
-- `max_pages`, raises `BAD_RESPONSE` naming the pages.
-- @function client:each
-- @tparam[opt] table req `model_name`, `events`, `max_results`, `page_token`
-- @tparam[opt] table opts `max_pages`: the most pages fetched (default `webhooks.MAX_PAGES`, 10,000)
-- @return an iterator of webhooks
-- @usage
-- for wh in client:each{ model_name = "churn-model" } do print(wh.id, wh.status) end

--- Read one webhook by its id.
-- An MLflow server has a get endpoint. Databricks has none: there the pages
-- of `list` (narrowed by `model_name` when given) are read until the id turns
-- up. Not found: `nil, err` with `err.error_code == "RESOURCE_DOES_NOT_EXIST"`.
-- @function client:get
-- @tparam table|string|number req `{ id = ..., model_name = ? }` (`model_name`
-- on Databricks only), or the id itself
-- @treturn table the webhook
-- @return[2] nil
-- @treturn[2] Error the error
-- @usage local wh = assert(client:get(id))

--- Compare a desired list of webhooks (the tables `create` takes; secrets may be
-- `{ env = NAME }` or `{ file = PATH }` references) with what the workspace
-- holds (implemented in Lua, `databricks.webhooks.plan`; README, "Webhooks as
-- code"). Nothing is sent but `list` calls.
-- @function client:plan
-- @tparam table desired array of webhook specifications
-- @tparam[opt] table opts `model_names` (the scope; default the whole
-- registry), `prune` (delete what is not desired), `rotate_secrets`
-- @treturn table the plan: `actions` (ordered `create` / `update` / `delete`,
-- with `id` and, for updates, the field `changes`), `unchanged`, `counts`
-- @return[2] nil
-- @treturn[2] Error the error (`INVALID_PARAMETER_VALUE` for a bad or
-- duplicated specification)

--- Carry out a plan made by `client:plan` through `client:bulk`; one failure
-- never stops the other actions.
-- @function client:apply
-- @tparam table plan what `client:plan` returned
-- @tparam[opt] table opts `parallel` (for `bulk`), `progress`
-- (`function(kind, n[, failed])`, called before and after each kind)
-- @treturn table one result per action: `{ action, id, ok | err }`

--- Constants
-- @section constants_lua

--- The rock's version, `"MAJOR.MINOR.PATCH"`.
-- @field VERSION

--- The most pages `client:each` fetches unless its `max_pages` says otherwise: 10,000.
-- @field MAX_PAGES

--- The events an open-source MLflow webhook can subscribe to, as lowercase
-- `"entity.action"` names (the server's valid pairs): `registered_model.created`,
-- `model_version.created`, `model_version_tag.set`, `model_version_tag.deleted`,
-- `model_version_alias.created`, `model_version_alias.deleted`, `prompt.created`,
-- `prompt_version.created`, `prompt_tag.set`, `prompt_tag.deleted`,
-- `prompt_version_tag.set`, `prompt_version_tag.deleted`, `prompt_alias.created`,
-- `prompt_alias.deleted`, `budget_policy.exceeded`.
-- @field MLFLOW_EVENTS

--- The statuses of an open-source MLflow webhook: `{ "ACTIVE", "DISABLED" }`.
-- @field MLFLOW_STATUSES

--- Open-source MLflow deliveries
-- @section mlflow_delivery

--- Verify an open-source MLflow delivery: its `X-MLflow-Signature`, then its freshness.
--
-- MLflow sends `"v1,"` and the standard base64 (with padding) of
-- HMAC-SHA256, keyed with the webhook's secret, over
-- `delivery_id .. "." .. timestamp .. "." .. raw_body`. The digest is computed
-- and compared in C, in constant time; with several secrets every one is
-- tried. Only then is the timestamp checked:
-- `-max_skew <= now - timestamp <= max_age`. MLflow repeats a delivery
-- byte for byte when it retries (same id, timestamp and signature), so
-- de-duplicate accepted deliveries by their id (the nginx receiver does).
--
-- An empty secret (or an array without a non-empty one), or a missing or
-- empty header value, gives `false` and a reason; arguments of the wrong
-- type raise. A reason never contains a secret.
-- @function verify_mlflow_signature
-- @tparam string|{string,...} secret the webhook's secret, or several while
-- rotating (any one matching passes)
-- @tparam string raw_body the request body, byte for byte
-- @tparam ?string delivery_id the `X-MLflow-Delivery-Id` header
-- @tparam ?string|number timestamp the `X-MLflow-Timestamp` header: Unix
-- seconds, decimal digits only
-- @tparam ?string signature the `X-MLflow-Signature` header
-- @tparam[opt] table opts `max_age` (seconds, default 300), `max_skew`
-- (seconds a timestamp may be ahead of now, default 30), `now` (Unix seconds,
-- default `os.time()`; for tests)
-- @treturn boolean `true` when the signature matches and the delivery is fresh
-- @return[2] `false`
-- @treturn[2] string the reason
-- @usage
-- local h = ngx.req.get_headers()
-- local ok, why = webhooks.verify_mlflow_signature({ new_secret, old_secret }, body,
--   h["x-mlflow-delivery-id"], h["x-mlflow-timestamp"], h["x-mlflow-signature"])
-- if not ok then return reply(401, why) end
-- local event = webhooks.parse_delivery(body) -- event.entity, event.action, event.data

--- The `X-MLflow-Signature` MLflow sends for a delivery, as
-- `verify_mlflow_signature` expects it. For tests and relays.
-- @function sign_mlflow
-- @tparam string secret the webhook's secret
-- @tparam string delivery_id the delivery's id
-- @tparam string|number timestamp Unix seconds
-- @tparam string raw_body the body to sign
-- @treturn string `"v1,"` and 44 base64 characters

return M
