-- `databricks-webhooks local-workspace start|status|stop DIR [OPTIONS]`: the
-- local workspace (a stand-in Databricks workspace on 127.0.0.1, nginx + Lua)
-- for testing one's own automation. It runs the workspace-ctl script that
-- ships with the module, passing the arguments through unchanged.
local exit = require("databricks.webhooks.cli.exit")

local M = {}

M.NAME = exit.PROG .. " local-workspace"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local CTL = "/spec/support/workspace-ctl"

-- The checkout's script, or the copy `make install` put beside the installed
-- modules (databricks/webhooks/local-workspace/, a folder no require reaches).
function M.script(sys)
  local co = sys.checkout
  if co then return co.root .. CTL end
  for template in package.path:gmatch("[^;]+") do
    local mod = template:gsub("%?", "databricks/webhooks")
    if mod:sub(-4) == ".lua" and exists(mod) then
      local ctl = mod:sub(1, -5) .. "/local-workspace" .. CTL
      if exists(ctl) then return ctl end
    end
  end
  return nil
end

-- os.execute's status on every Lua: 5.1 and LuaJIT without 5.2 compatibility
-- return the wait status, 5.2+ true/nil, "exit", code.
local function status_of(a, how, code)
  if type(a) == "number" then return a >= 256 and math.floor(a / 256) or a end
  if how == "exit" then return code end
  return exit.INTERNAL
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a") or ""
  f:close()
  return s
end

function M.run(ctx, argv)
  local script = M.script(ctx.sys)
  if not script then
    exit.fail(exit.USAGE, "the local workspace is not installed with this module"
      .. " (make install and the rock install it; a checkout has spec/support/workspace-ctl)")
  end
  local words = { "WORKSPACE_CTL_NAME=" .. sh_quote(M.NAME), "bash", sh_quote(script) }
  for _, a in ipairs(argv) do words[#words + 1] = sh_quote(a) end
  -- through files, not a pipe: the nginx it starts as a daemon would hold a
  -- pipe open, and the caller's sys may not be the process's own streams
  local out, err = os.tmpname(), os.tmpname()
  local code = status_of(os.execute(table.concat(words, " ") .. " </dev/null >" .. sh_quote(out)
    .. " 2>" .. sh_quote(err)))
  ctx.stdout:write((read_all(out):gsub("workspace%-ctl", M.NAME)))
  ctx.stderr:write((read_all(err):gsub("workspace%-ctl", M.NAME)))
  os.remove(out)
  os.remove(err)
  return code
end

return M
