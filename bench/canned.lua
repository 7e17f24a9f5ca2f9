--- The canned server (bench/canned-nginx.conf.in): generates its answers and
-- starts/stops an nginx that serves them on 127.0.0.1, over plain HTTP/1.1,
-- TLS + HTTP/1.1 and TLS + HTTP/2 (a CA and a server certificate made at start
-- with openssl; clients trust srv.ca_file), plus a TLS + HTTP/2 listener that
-- answers deletes (both families') after added latency (srv.urls.slow; nil
-- without nginx's Lua module). Databricks routes and the open-source MLflow
-- ones (/api/2.0/mlflow/webhooks...) on every listener.
--
--   local canned = require("bench.canned")
--   local srv = canned.start{ prefix = "bench/out/canned" }
--   srv.urls.h1, srv.urls["tls-h1"], srv.urls["tls-h2"], srv.urls.slow, srv.ca_file
--   canned.page(1000, srv.url)   -- the exact body of list?max_results=1000
--   canned.mlflow_page(100, srv.url) -- the MLflow list page (www/mlflow-list100.json)
--   srv:stop()
local socket = require("socket")

local M = {}

local util = require("spec.support.util")
local q = util.q

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local read_file = util.read_file
local write_file = util.write_file

--- One webhook as the API renders it (secrets never come back), field order
-- as Databricks sends it. `i` varies id, timestamps and description.
function M.webhook(i, base_url, updated)
  local t = 1700000000000 + i * 1000
  return ('{"id":"%032x","creation_timestamp":%d,"last_updated_timestamp":%d,'
    .. '"description":"benchmark webhook%s","events":["MODEL_VERSION_CREATED",'
    .. '"TRANSITION_REQUEST_CREATED"],"model_name":"bench-model","status":"ACTIVE",'
    .. '"http_url_spec":{"url":"%s/__control/sink","enable_ssl_verification":true}}'):format(
      0x5eed0000 + i, t, updated and t + 500 or t, updated and " (updated)" or "", base_url)
end

--- A list page of n webhooks with a next_page_token, as list answers.
function M.page(n, base_url)
  local parts = {}
  for i = 1, n do parts[i] = M.webhook(i, base_url) end
  return '{"webhooks":[' .. table.concat(parts, ",") .. '],"next_page_token":"'
    .. ("c2VxOj%05dOmJlbmNo"):format(n) .. '"}'
end

--- One webhook as an open-source MLflow server renders it (no secret; events
-- as {entity, action} objects; a uuid4 id), field order as MLflow sends it.
function M.mlflow_webhook(i, base_url, updated)
  local t = 1700000000000 + i * 1000
  return ('{"webhook_id":"%08x-5eed-4000-8000-%012x","name":"bench-hook","description":'
    .. '"benchmark webhook%s","url":"%s/__control/sink","events":[{"entity":"MODEL_VERSION",'
    .. '"action":"CREATED"},{"entity":"MODEL_VERSION_TAG","action":"SET"}],"status":"ACTIVE",'
    .. '"creation_timestamp":%d,"last_updated_timestamp":%d}'):format(0x5eed0000 + i, i,
      updated and " (updated)" or "", base_url, t, updated and t + 500 or t)
end

--- An MLflow list page of n webhooks with a next_page_token.
function M.mlflow_page(n, base_url)
  local parts = {}
  for i = 1, n do parts[i] = M.mlflow_webhook(i, base_url) end
  return '{"webhooks":[' .. table.concat(parts, ",") .. '],"next_page_token":"'
    .. ("eyJvZmZzZXQiOiAx%05dfQ=="):format(n) .. '"}'
end

local free_port = util.free_port

local function ca_and_cert(dir) return util.make_ca_and_cert(dir, "bench canned CA") end

-- The latency listener: every delete is answered after `latency` seconds,
-- without holding the worker (ngx.sleep yields).
local function slow_server(port, latency)
  return ([[
    server {
        listen 127.0.0.1:%d ssl http2;
        location = /api/2.0/mlflow/registry-webhooks/delete {
            content_by_lua_block {
                ngx.sleep(%.3f)
                ngx.header["Content-Type"] = "application/json"
                ngx.print("{}")
            }
        }
        location ~ ^/api/2\.0/mlflow/webhooks/[^/]+$ {
            content_by_lua_block {
                ngx.sleep(%.3f)
                ngx.header["Content-Type"] = "application/json"
                ngx.print("{}")
            }
        }
        location / {
            return 404 '{"error_code":"ENDPOINT_NOT_FOUND","message":"No API found"}';
        }
    }]]):format(port, latency, latency)
end

local function is_root()
  local p = io.popen("id -u")
  local out = p:read("*a")
  p:close()
  return out:match("^%s*0%s*$") ~= nil
end

local function healthy(port)
  local c = socket.connect("127.0.0.1", port)
  if not c then return false end
  c:settimeout(1)
  c:send("GET /__health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
  local line = c:receive("*l")
  c:close()
  return line ~= nil and line:find(" 200 ", 1, true) ~= nil
end

local Server = {}
Server.__index = Server

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  local pid = tonumber((read_file(self.prefix .. "/logs/nginx.pid") or ""):match("%d+"))
  if not pid then return end
  sh("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 250 do
    if not sh("kill -0 " .. pid .. " 2>/dev/null") then return end
    socket.sleep(0.02)
  end
  sh("kill -KILL " .. pid .. " 2>/dev/null")
end

--- Starts nginx. opts.prefix (required): directory for conf, logs, docroot;
-- opts.template: the .conf.in (default bench/canned-nginx.conf.in next to this file);
-- opts.latency: seconds the slow listener waits before answering (default 0.05).
function M.start(opts)
  local prefix = assert(opts.prefix, "canned.start: prefix is required")
  assert(sh("mkdir -p " .. q(prefix .. "/conf") .. " " .. q(prefix .. "/logs") .. " "
    .. q(prefix .. "/tmp") .. " " .. q(prefix .. "/www")))
  local p = io.popen("cd " .. q(prefix) .. " && pwd")
  prefix = p:read("*l")
  p:close()
  local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."
  local template = assert(read_file(opts.template or (here .. "/canned-nginx.conf.in")))
  local srv = setmetatable({ prefix = prefix }, Server)
  local cert, key
  srv.ca_file, cert, key = ca_and_cert(prefix .. "/conf")
  local modules = util.load_modules()
  for _ = 1, 5 do
    srv.port = opts.port or free_port()
    srv.url = "http://127.0.0.1:" .. srv.port
    local tls_h1, tls_h2, slow = free_port(), free_port(), free_port()
    srv.urls = { h1 = srv.url, ["tls-h1"] = "https://127.0.0.1:" .. tls_h1,
      ["tls-h2"] = "https://127.0.0.1:" .. tls_h2, slow = modules ~= "" and ("https://127.0.0.1:" .. slow) or nil }
    write_file(prefix .. "/www/list100.json", M.page(100, srv.url))
    write_file(prefix .. "/www/list1000.json", M.page(1000, srv.url))
    write_file(prefix .. "/www/mlflow-list100.json", M.mlflow_page(100, srv.url))
    local conf = template:gsub("@([%u%d_]+)@", {
      LOAD_MODULES = modules,
      USER = is_root() and "user root;" or "",
      PREFIX = prefix,
      PORT = tostring(srv.port),
      TLS_H1_PORT = tostring(tls_h1),
      TLS_H2_PORT = tostring(tls_h2),
      CERT = cert,
      KEY = key,
      SLOW_SERVER = modules ~= "" and slow_server(slow, opts.latency or 0.05) or "",
      DOCROOT = prefix .. "/www",
      WEBHOOK = M.webhook(1, srv.url),
      WEBHOOK_UPDATED = M.webhook(1, srv.url, true),
      MLFLOW_WEBHOOK = M.mlflow_webhook(1, srv.url),
      MLFLOW_WEBHOOK_UPDATED = M.mlflow_webhook(1, srv.url, true),
    })
    write_file(prefix .. "/conf/nginx.conf", conf)
    local nginx = os.getenv("BENCH_NGINX") or "/usr/sbin/nginx"
    local log = prefix .. "/logs/start.log"
    if sh(q(nginx) .. " -p " .. q(prefix .. "/") .. " -c " .. q(prefix .. "/conf/nginx.conf")
        .. " -e " .. q(prefix .. "/logs/error.log") .. " >" .. q(log) .. " 2>&1") then
      for _ = 1, 250 do
        if healthy(srv.port) then return srv end
        socket.sleep(0.02)
      end
      srv:stop()
      error("canned: nginx did not answer on " .. srv.url)
    end
    local out = read_file(log) or ""
    if opts.port or not out:find("Address already in use", 1, true) then
      error("canned: nginx did not start:\n" .. out)
    end
  end
  error("canned: no free port")
end

return M
