--- Small shell and file helpers shared by the test and benchmark support code
-- (the local workspace, the OpenResty harness, the canned bench server, specs).
-- Plain Lua 5.1-5.4 / LuaJIT; http_exchange and nginx_stop need LuaSocket (and lua-cjson).
local M = {}

--- Quotes s for a POSIX shell.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Runs a shell command; returns ok, its combined stdout and stderr.
function M.run(cmd)
  local p = assert(io.popen("( " .. cmd .. " ) 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

function M.trim(s)
  return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

--- The whole file, or nil when it cannot be read.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("*a")
  f:close()
  return data
end

function M.write_file(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
end

function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The nginx to run: $WORKSPACE_NGINX, else Debian's, else the one on PATH.
function M.nginx_binary()
  local env = os.getenv("WORKSPACE_NGINX")
  if env and env ~= "" then return env end
  if M.exists("/usr/sbin/nginx") then return "/usr/sbin/nginx" end
  local ok, out = M.run("command -v nginx")
  return ok and M.trim(out) or "nginx"
end

--- load_module lines for Debian's dynamic lua module; WORKSPACE_NGINX_MODULES
-- names another directory, or "" for an nginx with it built in (OpenResty).
function M.load_modules()
  local dir = os.getenv("WORKSPACE_NGINX_MODULES")
  if dir == nil then
    dir = "/usr/lib/nginx/modules"
    if not M.exists(dir .. "/ngx_http_lua_module.so") then dir = "" end
  end
  if dir == "" then return "" end
  local lines = {}
  if M.exists(dir .. "/ndk_http_module.so") then
    lines[#lines + 1] = "load_module " .. dir .. "/ndk_http_module.so;"
  end
  lines[#lines + 1] = "load_module " .. dir .. "/ngx_http_lua_module.so;"
  return table.concat(lines, "\n")
end

--- A CA and a server certificate it signed for localhost and 127.0.0.1, made
-- with the openssl command in dir: what a real workspace's chain looks like
-- to a client, which trusts the CA only. Returns the CA's, the certificate's
-- and the key's paths; raises (naming dir/openssl.log) when openssl fails.
function M.make_ca_and_cert(dir, ca_name)
  local ca, ca_key = dir .. "/ca.pem", dir .. "/ca-key.pem"
  local cert, key, csr, ext = dir .. "/server.pem", dir .. "/server-key.pem", dir .. "/server.csr",
    dir .. "/server.ext"
  M.write_file(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    .. "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  local ok = M.run("{ openssl req -x509 " .. ec .. " -days 7 -subj " .. M.q("/CN=" .. ca_name)
    .. " -keyout " .. M.q(ca_key) .. " -out " .. M.q(ca) .. " && openssl req " .. ec
    .. " -subj /CN=localhost -keyout " .. M.q(key) .. " -out " .. M.q(csr) .. " && openssl x509 -req -in "
    .. M.q(csr) .. " -CA " .. M.q(ca) .. " -CAkey " .. M.q(ca_key) .. " -CAcreateserial -days 7 -extfile "
    .. M.q(ext) .. " -out " .. M.q(cert) .. "; } >" .. M.q(dir .. "/openssl.log") .. " 2>&1")
  assert(ok, "openssl could not make the CA and certificate (see " .. dir .. "/openssl.log)")
  return ca, cert, key
end

--- A port on 127.0.0.1 that was free a moment ago (LuaSocket).
function M.free_port()
  local s = assert(require("socket").bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

--- The last n lines of a file (for error messages about a server that failed).
function M.tail(path, n)
  local data = M.read_file(path)
  if not data then return "(no " .. path .. ")" end
  local lines = {}
  for line in data:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return table.concat(lines, "\n", math.max(1, #lines - (n or 20) + 1))
end

--- Replaces each @NAME@ of template with vars.NAME; `who` names the caller in errors.
function M.fill(template, vars, who)
  return (template:gsub("@([%u_]+)@", function(name)
    return assert(vars[name], (who or "template") .. ": no value for @" .. name .. "@")
  end))
end

--- The lua_package_cpath for nginx's Lua (LuaJIT): where lua-cjson's cjson.so
-- is on multiarch Debian, after $WORKSPACE_LUA_CPATH when set.
function M.nginx_lua_cpath()
  local parts = {}
  local env = os.getenv("WORKSPACE_LUA_CPATH")
  if env and env ~= "" then parts[#parts + 1] = env end
  local _, out = M.run("ls -d /usr/lib/*/lua/5.1 /usr/local/lib/lua/5.1 2>/dev/null")
  for dir in out:gmatch("[^\n]+") do parts[#parts + 1] = dir .. "/?.so" end
  return table.concat(parts, ";")
end

--- A "Key: N kB" field of /proc/self/status (VmRSS, VmHWM), in KiB, or nil.
function M.proc_status_kb(key)
  local text = M.read_file("/proc/self/status")
  return text and tonumber(text:match(key .. ":%s*(%d+)"))
end

--- The pids whose parent is `pid` (from /proc; a process that exits while
--- this reads is skipped), in no particular order.
function M.child_pids(pid)
  local kids = {}
  local _, out = M.run("ls /proc 2>/dev/null")
  for entry in out:gmatch("%d+") do
    local stat = M.read_file("/proc/" .. entry .. "/stat")
    local ppid = stat and stat:match("^%d+ %b() %S+ (%d+)")
    if ppid and tonumber(ppid) == tonumber(pid) then kids[#kids + 1] = tonumber(entry) end
  end
  return kids
end

-- A zombie counts as dead: nginx daemonizes, so its parent is PID 1, and in some
-- containers PID 1 reaps only now and then.
local function pid_alive(pid)
  if not pid then return false end
  local stat = M.read_file("/proc/" .. pid .. "/stat")
  if stat then return not stat:match("^%d+ %b() Z") end
  if M.exists("/proc/self/stat") then return false end
  return M.run("kill -0 " .. pid .. " 2>/dev/null")
end

local function read_pid(prefix)
  local text = M.read_file(prefix .. "/logs/nginx.pid")
  return text and tonumber(text:match("%d+"))
end

-- Guards against a stale pid file whose pid now belongs to another process.
local function is_our_nginx(pid, prefix)
  local cmdline = M.read_file("/proc/" .. pid .. "/cmdline")
  if not cmdline then return true end -- no /proc: trust the pid file
  return cmdline:find("nginx", 1, true) ~= nil and cmdline:find(prefix, 1, true) ~= nil
end

--- The pid of the nginx running with `prefix` (its pid file in prefix/logs), or nil.
function M.nginx_running(prefix)
  local pid = read_pid(prefix)
  if pid_alive(pid) and is_our_nginx(pid, prefix) then return pid end
  return nil
end

--- Stops the nginx running with `prefix` and waits for it to exit (TERM, then
-- KILL after 5 s). Returns false when none was running.
function M.nginx_stop(prefix)
  local pid = M.nginx_running(prefix)
  if not pid then return false end
  M.run("kill -TERM " .. pid)
  for _ = 1, 250 do
    if not pid_alive(pid) then return true end
    require("socket").sleep(0.02)
  end
  M.run("kill -KILL " .. pid)
  return true
end

--- One HTTP exchange over LuaSocket: body (a string or nil) sent with the
-- given headers. Returns { status, headers, body, json } (json: the body
-- decoded, when it is a JSON object or array), or { error = message }.
function M.http_exchange(url, method, headers, body)
  local http, ltn12, cjson = require("socket.http"), require("ltn12"), require("cjson")
  local chunks = {}
  local ok, status, resp_headers = http.request({
    url = url,
    method = method or "GET",
    headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  })
  if not ok then return { error = tostring(status) } end
  local text = table.concat(chunks)
  local decoded_ok, decoded = pcall(cjson.decode, text)
  return { status = status, headers = resp_headers, body = text,
    json = decoded_ok and type(decoded) == "table" and decoded or nil }
end

--- A create request for model `name`, its URL named after it too.
function M.hook(name)
  return { events = { "MODEL_VERSION_CREATED" }, model_name = name,
    http_url_spec = { url = "https://hooks.example.com/" .. name } }
end

--- n create requests, models prefix1 .. prefixN.
function M.hooks(prefix, n)
  local out = {}
  for i = 1, n do out[i] = M.hook(prefix .. i) end
  return out
end

return M
