--- Starts and stops the local workspace: nginx running spec/support/workspace/*.lua,
-- a stand-in for the Databricks registry-webhooks API on 127.0.0.1.
--
--   local ws = require("spec.support.workspace")
--   local srv = assert(ws.start{ token = "dapi-test" })
--   srv.url  srv.port  srv.token  srv.prefix  srv.control_url
--   srv:control("POST", "/__control/faults", { faults = { { kind = "503" } } })
--   srv:requests()  srv:stats()  srv:reset()  srv:stop()
--
-- Works on Lua 5.1-5.4 and LuaJIT with LuaSocket and lua-cjson. The control API
-- is documented in spec/support/README.md.
local socket = require("socket")
local http = require("socket.http")
local cjson = require("cjson")

local M = {}

M.DEFAULT_TOKEN = "dapi-local-workspace-token"
M.DEFAULT_CLIENT_ID = "local-client"
M.DEFAULT_CLIENT_SECRET = "local-secret"
-- The other credentials it accepts (workspace/config.lua startup): basic
-- auth, an Entra ID stand-in at <url>/<tenant>/oauth2/token, the identity
-- token its token exchange accepts, and the metadata service at
-- <url>/metadata-service/<secret>.
M.USERNAME, M.PASSWORD = "local-user", "local-password"
M.AZURE_TENANT_ID, M.AZURE_CLIENT_ID, M.AZURE_CLIENT_SECRET = "local-tenant", "local-azure-client",
  "local-azure-secret"
M.OIDC_SUBJECT_TOKEN = "local-oidc-jwt"
M.METADATA_PATH = "/metadata-service/local-metadata-secret"

local util = require("spec.support.util")
local q = util.q
local run = util.run
local trim = util.trim
local read_file = util.read_file
local write_file = util.write_file

local function abspath(dir)
  local ok, out = run("cd " .. q(dir) .. " && pwd")
  assert(ok, "workspace: no such directory: " .. dir)
  return trim(out)
end

-- Absolute path of the directory holding this file (spec/support).
local function support_dir()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  return abspath(src:match("^(.*)/[^/]*$") or ".")
end

local nginx_binary = util.nginx_binary
local load_modules = util.load_modules

local lua_cpath = util.nginx_lua_cpath

local function is_root()
  local ok, out = run("id -u")
  return ok and trim(out) == "0"
end

local free_port = util.free_port

local function tail(path, n) return util.tail(path, n or 20) end

local function fill(template, vars) return util.fill(template, vars, "workspace") end

local function self_signed_cert(prefix)
  local cert, key = prefix .. "/conf/cert.pem", prefix .. "/conf/key.pem"
  local ok, out = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    .. " -nodes -days 7 -subj /CN=localhost"
    .. " -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1'"
    .. " -keyout " .. q(key) .. " -out " .. q(cert))
  assert(ok, "workspace: openssl could not make a certificate: " .. out)
  return cert, key
end

local function ca_and_server_cert(prefix)
  return util.make_ca_and_cert(prefix .. "/conf", "databricks-webhooks local CA")
end

-- The HTTPS fronts: one listener that negotiates HTTP/2 and one that speaks
-- HTTP/1.1 only, both serving the same workspace (the same Lua state), with
-- small keep-alive limits so that clients meet server-side closes of reused
-- connections, and an access log of the protocol each request really used.
local function fronts_conf(prefix, h2_port, h1_port, cert, key, keepalive)
  local block = [[
    server {
        listen 127.0.0.1:%d ssl%s;
        ssl_certificate %s;
        ssl_certificate_key %s;
        keepalive_requests %d;
        keepalive_timeout %s;
        access_log %s/logs/front.log front;
        location / {
            content_by_lua_block { require("workspace.app").handle() }
        }
    }
]]
  local function one(port, h2)
    return block:format(port, h2 and " http2" or "", cert, key, keepalive.requests,
      keepalive.timeout, prefix)
  end
  return one(h2_port, true) .. one(h1_port, false)
end

local running, stop_nginx = util.nginx_running, util.nginx_stop

local Server = {}
Server.__index = Server

--- Calls the control API: `path` is "/__control/x" or just "x". Returns the
-- decoded JSON; raises on a transport error or a non-2xx answer.
function Server:control(method, path, body)
  if path:sub(1, 1) ~= "/" then path = "/__control/" .. path end
  local res = self:http({ method = method, path = path, body = body, token = false })
  if not res.status then
    error(string.format("workspace control %s %s: %s", method, path, res.error), 2)
  end
  if res.status < 200 or res.status > 299 then
    error(string.format("workspace control %s %s: HTTP %d %s", method, path, res.status,
      res.body), 2)
  end
  if res.json == nil then
    error(string.format("workspace control %s %s: not JSON: %s", method, path, res.body), 2)
  end
  return res.json
end

--- One plain HTTP exchange with the workspace (for specs), over the control
-- port. opts: method, path (may include a query), body (string, or a table sent
-- as JSON), headers (["Content-Type"] = false sends none), token (default
-- srv.token; false sends no Authorization).
-- Returns { status, headers (lower-case names), body, json (decoded or nil) },
-- or { error = message } on a transport error.
function Server:http(opts)
  local body = opts.body
  if type(body) == "table" then body = cjson.encode(body) end
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  local token = opts.token == nil and self.token or opts.token
  if token and headers.authorization == nil then
    headers.authorization = "Bearer " .. token
  end
  if body then
    headers["content-length"] = tostring(#body)
    if headers["content-type"] == nil then headers["content-type"] = "application/json" end
  end
  if headers["content-type"] == false then headers["content-type"] = nil end -- none at all
  return util.http_exchange(self.control_url .. opts.path, opts.method, headers, body)
end

function Server:requests() return self:control("GET", "requests") end

--- The fronts' access log: { { port, protocol, method, path, status, gzip }, ... }
-- (gzip: true when nginx compressed the answer).
function Server:front_log()
  local out = {}
  for line in (read_file(self.prefix .. "/logs/front.log") or ""):gmatch("[^\n]+") do
    local port, proto, method, path, status, ratio =
      line:match("^(%d+) (%S+) (%S+) (%S+) (%d+) (%S+)")
    if port then
      out[#out + 1] = { port = tonumber(port), protocol = proto, method = method, path = path,
        status = tonumber(status), gzip = ratio ~= "-" }
    end
  end
  return out
end
function Server:stats() return self:control("GET", "stats") end
function Server:reset()
  -- nginx appends (O_APPEND) to the fronts' log: emptying the file restarts it
  if self.h2_port then write_file(self.prefix .. "/logs/front.log", "") end
  return self:control("POST", "reset")
end
function Server:webhooks() return self:control("GET", "webhooks") end
function Server:sink() return self:control("GET", "sink") end
function Server:settings(s) return self:control("POST", "settings", s) end
function Server:faults(list) return self:control("POST", "faults", { faults = list }) end

--- Stops nginx and removes the prefix when start() made it (unless the environment
-- has WORKSPACE_KEEP_PREFIX=1, for reading the logs). Idempotent.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  stop_nginx(self.prefix)
  local keep_logs = os.getenv("WORKSPACE_KEEP_PREFIX")
  if self.owned_prefix and (keep_logs or "") == "" then run("rm -rf " .. q(self.prefix)) end
end

Server.__gc = function(self) if not self.keep then self:stop() end end

local function ready(url, deadline)
  while socket.gettime() < deadline do
    local body, code = http.request(url .. "/__control/health")
    if body and code == 200 then return true end
    socket.sleep(0.02)
  end
  return false
end

-- Writes the configuration into `prefix`, starts nginx and waits until it answers.
local function launch(opts, prefix, owned)
  assert(run("mkdir -p " .. q(prefix .. "/conf") .. " " .. q(prefix .. "/logs") .. " "
    .. q(prefix .. "/tmp")), "workspace: cannot create directories in " .. prefix)
  local support = support_dir()
  local template = assert(read_file(support .. "/workspace/nginx.conf.in"))
  local https = opts.https and true or false
  local cert, key = opts.cert, opts.key
  if https and not cert then cert, key = self_signed_cert(prefix) end
  local front_ca, front_cert, front_key
  if opts.fronts then front_ca, front_cert, front_key = ca_and_server_cert(prefix) end

  -- what the workspace trusts when it delivers test triggers over https
  local trust = {}
  if cert then trust[#trust + 1] = read_file(cert) end
  local extra = opts.trusted_ca
  if type(extra) == "string" then extra = { extra } end
  for _, path in ipairs(extra or {}) do trust[#trust + 1] = assert(read_file(path)) end
  local trust_file = prefix .. "/conf/trusted.pem"
  if #trust > 0 then write_file(trust_file, table.concat(trust, "\n")) end

  local mlflow = opts.api == "mlflow"
  assert(opts.api == nil or mlflow or opts.api == "databricks",
    "workspace: api must be \"databricks\" or \"mlflow\"")
  local srv = {
    api = mlflow and "mlflow" or "databricks",
    -- the mlflow family asks for no credential unless one is configured
    token = (mlflow and opts.token) or (not mlflow and (opts.token or M.DEFAULT_TOKEN)) or nil,
    username = mlflow and opts.username or nil, password = mlflow and opts.password or nil,
    client_id = opts.client_id or M.DEFAULT_CLIENT_ID,
    client_secret = opts.client_secret or M.DEFAULT_CLIENT_SECRET,
    prefix = prefix, owned_prefix = owned, https = https, keep = opts.keep,
    ca_file = https and cert or front_ca,
  }
  local conf_file = prefix .. "/conf/nginx.conf"
  local attempts = (opts.port and (not https or opts.control_port)) and 1 or 5
  local started, out
  for _ = 1, attempts do
    srv.port = opts.port or free_port()
    srv.control_port = https and (opts.control_port or free_port()) or srv.port
    local listen = "listen 127.0.0.1:" .. srv.port .. (https and " ssl;" or ";")
    if https then listen = listen .. "\n        listen 127.0.0.1:" .. srv.control_port .. ";" end
    local fronts = ""
    if opts.fronts then
      srv.h2_port, srv.h1_port = free_port(), free_port()
      fronts = fronts_conf(prefix, srv.h2_port, srv.h1_port, front_cert, front_key, {
        requests = opts.keepalive_requests or 25, timeout = opts.keepalive_timeout or "2s" })
    end
    write_file(conf_file, fill(template, {
      LOAD_MODULES = load_modules(),
      USER = is_root() and "user root;" or "",
      PREFIX = prefix,
      LUA_DIR = support,
      LUA_CPATH = lua_cpath(),
      LISTEN = listen,
      SSL_CERT = https and ("ssl_certificate " .. cert .. ";\n        ssl_certificate_key "
        .. key .. ";") or "",
      FRONTS = fronts,
      SSL_TRUST = #trust > 0 and ("lua_ssl_trusted_certificate " .. trust_file .. ";") or "",
    }))
    local startup = {
      token = srv.token or M.DEFAULT_TOKEN, client_id = srv.client_id,
      client_secret = srv.client_secret, token_ttl = opts.token_ttl or 3600,
    }
    if mlflow then
      startup.api = "mlflow"
      startup.mlflow_token, startup.mlflow_username = opts.token, opts.username
      startup.mlflow_password = opts.password
      startup.allowed_schemes = opts.allowed_schemes
      startup.allow_private_ips = opts.allow_private_ips
      startup.delivery_backoff = opts.delivery_backoff
      startup.cache_ttl = opts.cache_ttl
      startup.delivery_timeout = opts.delivery_timeout
      startup.error_extras = opts.error_extras
    end
    write_file(prefix .. "/conf/workspace.json", cjson.encode(startup))
    started, out = run(q(nginx_binary()) .. " -p " .. q(prefix .. "/") .. " -c " .. q(conf_file)
      .. " -e " .. q(prefix .. "/logs/error.log"))
    if started or not out:find("Address already in use", 1, true) then break end
  end
  local function fail(msg)
    error("workspace: " .. msg .. "\n" .. (out or "") .. "\n--- error.log ---\n"
      .. tail(prefix .. "/logs/error.log"), 0)
  end
  if not started then fail("nginx did not start") end

  local scheme = https and "https" or "http"
  srv.url = scheme .. "://127.0.0.1:" .. srv.port
  srv.control_url = "http://127.0.0.1:" .. srv.control_port
  if opts.fronts then
    srv.h2_url = "https://localhost:" .. srv.h2_port
    srv.h1_url = "https://localhost:" .. srv.h1_port
  end
  if not ready(srv.control_url, socket.gettime() + (opts.timeout or 10)) then
    fail("not ready at " .. srv.control_url)
  end
  return srv
end

--- Starts a workspace. opts (all optional):
--   token           accepted PAT (default "dapi-local-workspace-token")
--   client_id, client_secret   OAuth M2M client (default local-client / local-secret)
--   token_ttl       lifetime of issued OAuth tokens in seconds (default 3600)
--   https           serve TLS with a fresh self-signed certificate (srv.ca_file);
--                   the control API then listens on a second, plain port
--   cert, key       use this certificate and key instead
--   trusted_ca      extra PEM file(s) the workspace trusts when it delivers over https
--   fronts          also serve the workspace over HTTPS, as a real one is: a CA
--                   made at start (srv.ca_file) and two listeners with its
--                   certificate, srv.h2_url (negotiates HTTP/2) and srv.h1_url
--                   (HTTP/1.1 only), with small keep-alive limits
--                   (keepalive_requests, default 25; keepalive_timeout, default
--                   "2s"); logs/front.log records each request's protocol
--                   (srv:front_log())
--   api             "databricks" (default) or "mlflow": an OSS MLflow 3.3+ webhooks
--                   server instead (spec/support/README.md, "The MLflow server"),
--                   with these options of its own (all optional):
--     token           Bearer token it then requires (default: no auth at all)
--     username, password   Basic credentials it then requires
--     allowed_schemes "http,https" (default "https"; MLFLOW_WEBHOOK_ALLOWED_SCHEMES)
--     allow_private_ips   true lets webhooks point at loopback/private addresses
--     delivery_backoff    retry backoff factor in seconds (default 1; 0: no sleeps)
--     cache_ttl       seconds the per-event webhook list is cached (default 60)
--     delivery_timeout    seconds per delivery attempt (default 30)
--     error_extras    false: error bodies without 3.11's error_class/sqlstate
--   port, control_port   fixed ports (default: free ephemeral ports)
--   prefix          directory for conf/logs/tmp (default: a new temp dir, removed by stop)
--   keep            do not stop the server when the handle is garbage-collected
--   timeout         seconds to wait for readiness (default 10)
-- Returns the server handle, or raises with the tail of nginx's error.log.
function M.start(opts)
  opts = opts or {}
  local owned = not opts.prefix
  local prefix
  if owned then
    local ok, out = run("mktemp -d \"${TMPDIR:-/tmp}/workspace.XXXXXX\"")
    assert(ok, "workspace: mktemp failed: " .. out)
    prefix = trim(out)
  else
    assert(run("mkdir -p " .. q(opts.prefix)), "workspace: cannot create " .. opts.prefix)
    prefix = abspath(opts.prefix)
    if running(prefix) then
      error("workspace: a workspace is already running in " .. prefix, 2)
    end
  end

  local ok, srv = pcall(launch, opts, prefix, owned)
  if not ok then
    stop_nginx(prefix)
    if owned then run("rm -rf " .. q(prefix)) end
    error(srv, 2)
  end
  setmetatable(srv, Server)
  if not opts.keep and newproxy then
    -- Lua 5.1 / LuaJIT run no __gc on tables: a userdata sentinel stops the server
    srv.gc_sentinel = newproxy(true)
    getmetatable(srv.gc_sentinel).__gc = function() srv:stop() end
  end
  return srv
end

--- Stops a workspace started in `prefix` (e.g. by workspace-ctl); true if one ran.
function M.stop_dir(prefix)
  return stop_nginx(prefix)
end

return M
