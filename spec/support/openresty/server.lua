--- Starts and stops a real nginx (lua-nginx-module, LuaJIT) that loads the
-- module under test from this checkout: lua/ and build/luajit/. Used by
-- spec/40-openresty_spec.lua, which only talks HTTP to it (LuaSocket).
--
--   local server = require("spec.support.openresty.server")
--   server.build()                               -- make -s LUA=luajit (once)
--   local app = server.start_app{ workspace = srv, https_workspace = srvs, secret = "..." }
--   app.url  app.tls_url  app:get("/events")  app:post("/call", { op = "list" })  app:stop()
--   local ex = server.start_conf{ conf = text, env = { NAME = "value" } }  -- any nginx.conf
--
-- Each server gets its own prefix (conf, logs, temp files) under $TMPDIR and an
-- ephemeral port on 127.0.0.1; as root, nginx runs `user root;`.
local socket = require("socket")
local cjson = require("cjson")

local M = {}

local util = require("spec.support.util")
local q = util.q
local run = util.run
local trim = util.trim
local read_file = util.read_file
M.read_file = read_file

local write_file = util.write_file
M.write_file = write_file

local exists = util.exists

--- The repository root (absolute), found from this file's location.
function M.root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/support/openresty/[^/]*$") or "."
  local ok, out = run("cd " .. q(dir) .. " && pwd")
  assert(ok, out)
  return trim(out)
end

--- Builds the LuaJIT C module nginx loads; raises with make's output on failure.
function M.build()
  local root = M.root()
  local ok, out = run("cd " .. q(root) .. " && make -s LUA=luajit")
  assert(ok, "make LUA=luajit failed:\n" .. out)
  assert(exists(root .. "/build/luajit/databricks/webhooks/core.so"), "no build/luajit core.so")
end

local nginx_binary = util.nginx_binary
local load_modules = util.load_modules
M.load_modules = load_modules

local lua_cpath = util.nginx_lua_cpath
M.lua_cpath = lua_cpath

--- The temp-path lines of an http block, every one under prefix/tmp (nginx
-- would otherwise write where it was built to, which a test may not).
function M.temp_paths(prefix)
  local out = {}
  for _, kind in ipairs({ "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }) do
    out[#out + 1] = ("%s_temp_path %s/tmp/%s;"):format(kind, prefix, kind == "client_body" and "body" or kind)
  end
  return table.concat(out, "\n    ")
end

function M.user_line()
  local ok, out = run("id -u")
  return (ok and trim(out) == "0") and "user root;" or ""
end

M.free_port = util.free_port

local function tail(path, n) return util.tail(path, n or 30) end

local function fill(template, vars) return util.fill(template, vars, "openresty") end

--- A self-signed certificate for 127.0.0.1 / localhost in dir; returns cert, key.
function M.self_signed_cert(dir, cn)
  local cert, key = dir .. "/" .. cn .. ".pem", dir .. "/" .. cn .. ".key"
  local ok, out = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    .. " -nodes -days 7 -subj /CN=" .. cn
    .. " -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1'"
    .. " -keyout " .. q(key) .. " -out " .. q(cert))
  assert(ok, "openssl could not make a certificate: " .. out)
  return cert, key
end

--- HMAC-SHA256 (lowercase hex) of data with key, by the openssl command line:
-- the spec signs test bodies without loading the C module into busted's Lua.
function M.sign(key, data, tmpdir)
  local path = (tmpdir or os.getenv("TMPDIR") or "/tmp") .. "/dbw-sign-" .. M.free_port()
  write_file(path, data)
  local ok, out = run("openssl dgst -sha256 -hmac " .. q(key) .. " -r " .. q(path))
  os.remove(path)
  assert(ok, out)
  return assert(out:match("^(%x+)"), out):lower()
end

local Server = {}
Server.__index = Server

--- One HTTP exchange with the server. opts: method, path, body (string, or a
-- table sent as JSON), headers, chunked (send the body without a length).
-- Returns { status, headers, body, json }, or { error = message }.
function Server:request(opts)
  local body = opts.body
  if type(body) == "table" then body = cjson.encode(body) end
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  if body and not opts.chunked then headers["content-length"] = tostring(#body) end
  if body and opts.chunked then headers["transfer-encoding"] = "chunked" end
  return util.http_exchange((opts.base or self.url) .. opts.path, opts.method, headers, body)
end

function Server:get(path) return self:request({ path = path }) end

function Server:post(path, body, headers)
  return self:request({ method = "POST", path = path, body = body, headers = headers })
end

--- Stops nginx and removes the prefix (kept with DBW_KEEP_PREFIX=1). Idempotent.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  util.nginx_stop(self.prefix)
  if os.getenv("DBW_KEEP_PREFIX") ~= "1" then run("rm -rf " .. q(self.prefix)) end
end

function Server:error_log(n)
  return tail(self.prefix .. "/logs/error.log", n)
end

local function ready(port, deadline)
  while socket.gettime() < deadline do
    local c = socket.tcp()
    c:settimeout(0.2)
    local ok = c:connect("127.0.0.1", port)
    c:close()
    if ok then return true end
    socket.sleep(0.02)
  end
  return false
end

local function new_prefix()
  local ok, out = run("mktemp -d \"${TMPDIR:-/tmp}/dbw-openresty.XXXXXX\"")
  assert(ok, "mktemp failed: " .. out)
  local prefix = trim(out)
  assert(run("mkdir -p " .. q(prefix .. "/conf") .. " " .. q(prefix .. "/logs") .. " "
    .. q(prefix .. "/tmp")))
  return prefix
end

--- Starts nginx on a complete configuration. opts:
--   conf     the nginx.conf text, or a function(port, prefix) returning it
--   prefix   a directory made by the caller (default: a new temp dir)
--   env      environment variables for nginx (pass them on with `env NAME;`)
--   port     what `conf` listens on (default: a free port, given to conf())
-- Returns the server handle (url, port, prefix), or raises with error.log's tail.
function M.start_conf(opts)
  local prefix = opts.prefix or new_prefix()
  local envs = {}
  for k, v in pairs(opts.env or {}) do envs[#envs + 1] = k .. "=" .. q(v) end
  local conf_file = prefix .. "/conf/nginx.conf"
  local port, started, out
  for _ = 1, opts.port and 1 or 5 do
    port = opts.port or M.free_port()
    local conf = opts.conf
    if type(conf) == "function" then conf = conf(port, prefix) end
    write_file(conf_file, conf)
    started, out = run((#envs > 0 and ("env " .. table.concat(envs, " ") .. " ") or "")
      .. q(nginx_binary()) .. " -p " .. q(prefix .. "/") .. " -c " .. q(conf_file)
      .. " -e " .. q(prefix .. "/logs/error.log"))
    if started or not out:find("Address already in use", 1, true) then break end
  end
  local srv = setmetatable({ prefix = prefix, port = port, url = "http://127.0.0.1:" .. port }, Server)
  if not started or not ready(port, socket.gettime() + 10) then
    local log = tail(prefix .. "/logs/error.log")
    srv:stop()
    error("openresty: nginx did not start\n" .. (out or "") .. "\n--- error.log ---\n" .. log, 2)
  end
  return srv
end

local function lua_literal(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

--- Starts the application nginx (spec/support/openresty/nginx.conf.in + app.lua).
-- opts: workspace (a plain-http spec.support.workspace server), https_workspace
-- (an https one; its certificate is trusted), secret, old_secret.
function M.start_app(opts)
  local root = M.root()
  local prefix = new_prefix()
  local cert, key = M.self_signed_cert(prefix .. "/conf", "dbw-app")
  local settings = {
    ws_url = opts.workspace.url, ws_token = opts.workspace.token,
    ws_client_id = opts.workspace.client_id, ws_client_secret = opts.workspace.client_secret,
    secret = opts.secret, old_secret = opts.old_secret,
  }
  local lines = { "return {" }
  for k, v in pairs(settings) do lines[#lines + 1] = ("  %s = %s,"):format(k, lua_literal(v)) end
  lines[#lines + 1] = "}"
  write_file(prefix .. "/conf/settings.lua", table.concat(lines, "\n") .. "\n")
  local template = assert(read_file(root .. "/spec/support/openresty/nginx.conf.in"))
  local tls_port = M.free_port()
  local srv = M.start_conf({
    prefix = prefix,
    conf = function(port)
      return fill(template, {
        LOAD_MODULES = load_modules(), USER = M.user_line(), PREFIX = prefix, ROOT = root,
        SUPPORT = root .. "/spec/support", LUA_CPATH = lua_cpath(),
        PORT = tostring(port), TLS_PORT = tostring(tls_port), CERT = cert, KEY = key,
        TRUSTED = opts.https_workspace and opts.https_workspace.ca_file or cert,
      })
    end,
  })
  srv.tls_port = tls_port
  srv.tls_url = "https://127.0.0.1:" .. tls_port
  return srv
end

return M
