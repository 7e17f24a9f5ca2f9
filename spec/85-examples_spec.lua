-- What a new user runs first, run as written: the README's quick start (its
-- Lua block, extracted from README.md) against the local workspace with only
-- DATABRICKS_HOST / DATABRICKS_TOKEN set, the local workspace's paste lines,
-- and the command-line tool's first answers (an empty list, a checkout with no
-- build for the Lua that runs it). Each runs as a subprocess under the Lua that
-- runs this spec.
local workspace = require("spec.support.workspace")
local util = require("spec.support.util")
local q = util.q

local VERSION = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
local LUA = VERSION == "luajit" and "luajit" or "lua" .. VERSION
local ROOT = util.trim(select(2, util.run("pwd")))
local BUILD = os.getenv("DBW_BUILD") or (ROOT .. "/build/" .. VERSION)

-- Runs a shell command with extra environment variables; returns
-- { code, stdout, stderr } (through files: the same on every Lua).
local function sh(cmd, env, tmp)
  local vars = {}
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. q(v) end
  local out, err, rc = tmp .. "/stdout", tmp .. "/stderr", tmp .. "/rc"
  os.execute(("env %s %s >%s 2>%s </dev/null; echo $? >%s"):format(table.concat(vars, " "), cmd,
    q(out), q(err), q(rc)))
  return { code = tonumber(util.read_file(rc)), stdout = util.read_file(out) or "",
    stderr = util.read_file(err) or "" }
end

local function tempdir()
  local ok, out = util.run("mktemp -d \"${TMPDIR:-/tmp}/dbw-examples.XXXXXX\"")
  assert(ok, out)
  return util.trim(out)
end

-- The first ```lua block after the heading `title` of README.md.
local function readme_block(title)
  local readme = assert(util.read_file(ROOT .. "/README.md"))
  local from = assert(readme:find("\n## " .. title .. "\n", 1, true), "no README section " .. title)
  return assert(readme:match("\n```lua\n(.-)\n```\n", from), "no lua block in " .. title)
end

describe("first steps, as the README writes them", function()
  local srv, tmp

  setup(function()
    srv = workspace.start()
    tmp = tempdir()
  end)

  teardown(function()
    if srv then srv:stop() end
    if tmp then util.run("rm -rf " .. q(tmp)) end
  end)

  before_each(function() srv:reset() end)

  local function user_env()
    return {
      DATABRICKS_HOST = srv.url, DATABRICKS_TOKEN = srv.token,
      DATABRICKS_CONFIG_FILE = tmp .. "/no-such-databrickscfg", HOME = tmp,
      LUA_PATH = ROOT .. "/lua/?.lua;;", LUA_CPATH = BUILD .. "/?.so;;",
    }
  end

  it("the quick start runs as written, prints what it did and leaves no webhook behind", function()
    local code = readme_block("Quick start")
    util.write_file(tmp .. "/quickstart.lua", code)
    local r = sh(LUA .. " " .. q(tmp .. "/quickstart.lua"), user_env(), tmp)
    assert.equals(0, r.code, "stdout:\n" .. r.stdout .. "\nstderr:\n" .. r.stderr)
    local id = r.stdout:match("^created\t(%x+)\n")
    assert.is_truthy(id, r.stdout)
    assert.matches(id .. "\tTEST_MODE\n", r.stdout, 1, true)
    assert.matches("\ntest:\t[^\n]+\n", r.stdout) -- the receiver's status, or why it failed
    assert.same({}, srv:webhooks())
    local seen = {}
    for _, req in ipairs(srv:requests()) do seen[#seen + 1] = req.method .. " " .. req.path end
    local api = "/api/2.0/mlflow/registry-webhooks/"
    assert.same({ "POST " .. api .. "create", "GET " .. api .. "list", "POST " .. api .. "test",
      "PATCH " .. api .. "update", "DELETE " .. api .. "delete" }, seen)
  end)

  it("the local workspace prints the lines to paste, and they work", function()
    local dir = tmp .. "/ws"
    local r = sh(q(ROOT .. "/spec/support/workspace-ctl") .. " start " .. q(dir), {}, tmp)
    local ok, stop_out = util.run(q(ROOT .. "/spec/support/workspace-ctl") .. " stop " .. q(dir))
    assert.is_true(ok, stop_out)
    assert.equals(0, r.code, r.stderr)
    local url = r.stdout:match("^(http://127%.0%.0%.1:%d+)\n$")
    assert.is_truthy(url, r.stdout)
    assert.truthy(r.stderr:find("\nexport DATABRICKS_HOST=" .. url .. "\n", 1, true), r.stderr)
    assert.truthy(r.stderr:find("\nexport DATABRICKS_TOKEN=" .. workspace.DEFAULT_TOKEN .. "\n", 1, true),
      r.stderr)
    assert.equals("export DATABRICKS_HOST=" .. url .. "\nexport DATABRICKS_TOKEN="
      .. workspace.DEFAULT_TOKEN .. "\n", util.read_file(dir .. "/env"))
  end)

  describe("the command-line tool", function()
    it("prints an empty list as an empty JSON array", function()
      local r = sh(LUA .. " " .. q(ROOT .. "/bin/databricks-webhooks") .. " list -o json", user_env(), tmp)
      assert.equals(0, r.code, r.stderr)
      assert.equals('{"webhooks":[]}\n', r.stdout)
      r = sh(LUA .. " " .. q(ROOT .. "/bin/databricks-webhooks") .. " list --all --output json", user_env(), tmp)
      assert.equals('{"webhooks":[]}\n', r.stdout)
    end)

    it("run from a checkout with no build for its Lua, says in one line which make to run", function()
      local co = tmp .. "/checkout"
      assert(util.run(("mkdir -p %s && cp -r %s %s %s %s"):format(q(co), q(ROOT .. "/bin"),
        q(ROOT .. "/lua"), q(ROOT .. "/Makefile"), q(co))))
      local r = sh(LUA .. " " .. q(co .. "/bin/databricks-webhooks") .. " events", {}, tmp)
      assert.equals(2, r.code)
      assert.equals("", r.stdout)
      assert.equals(("error: no C module built for %s in this checkout: run `make LUA=%s` in %s\n")
        :format(VERSION == "luajit" and "LuaJIT" or "Lua " .. VERSION, VERSION, co), r.stderr)
    end)
  end)
end)
