--- Small shell and file helpers shared by the test and benchmark support code
-- (the local workspace, the OpenResty harness, the canned bench server, specs).
-- Plain Lua 5.1-5.4 / LuaJIT, no dependencies.
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

return M
