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

  it("the MLflow quick start (make demo's second part) runs the cycle, a fired event delivered and verified",
    function()
      local ml = workspace.start({ api = "mlflow", allowed_schemes = "http,https", allow_private_ips = true })
      local secret = "whsec-mlflow-demo-spec"
      local rdir = tmp .. "/mlflow-receiver"
      assert(util.run("mkdir -p " .. q(rdir)))
      assert(os.execute(("sh -c 'echo $$ > %s/pid; exec lua5.4 %s/examples/receiver.lua %s/port %s > %s/out 2>&1' &")
        :format(q(rdir), q(ROOT), q(rdir), secret, q(rdir))))
      local port
      for _ = 1, 250 do
        port = (util.read_file(rdir .. "/port") or ""):match("^(%d+)\n")
        if port then break end
        os.execute("sleep 0.02")
      end
      local ok, r = pcall(function()
        assert(port, "the receiver did not start")
        return sh(LUA .. " " .. q(ROOT .. "/examples/mlflow_quickstart.lua"), {
          MLFLOW_TRACKING_URI = ml.url, DEMO_CONTROL_URL = ml.url, HOME = tmp,
          RECEIVER_URL = "http://127.0.0.1:" .. port .. "/hook", WEBHOOK_SECRET = secret,
          LUA_PATH = ROOT .. "/lua/?.lua;;", LUA_CPATH = BUILD .. "/?.so;;",
        }, tmp)
      end)
      local pid = tonumber((util.read_file(rdir .. "/pid") or ""):match("%d+"))
      if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
      local deliveries = ml:control("GET", "mlflow/deliveries")
      local left = ml:webhooks()
      ml:stop()
      assert(ok, r)
      assert.equals(0, r.code, "stdout:\n" .. r.stdout .. "\nstderr:\n" .. r.stderr)
      for _, line in ipairs({ "\n2. listed   1 webhook(s)\n",
        "\n3. tested   success=true, receiver answered HTTP 200\n",
        "\n4. fired    model_version.created on the server: 1 delivery(ies)\n", ": receiver answered HTTP 200\n",
        "status=DISABLED", "; 0 webhook(s) left\n" }) do
        assert.truthy(r.stdout:find(line, 1, true), line .. " not in:\n" .. r.stdout)
      end
      -- one test and one event delivery, both signed and answered 200 by the receiver
      assert.same({ "test", "event" }, { deliveries[1].kind, deliveries[2].kind })
      assert.same({ 200, 200 }, { deliveries[1].status, deliveries[2].status })
      assert.truthy(deliveries[2].headers["X-MLflow-Signature"] or deliveries[2].headers["x-mlflow-signature"])
      local out = util.read_file(rdir .. "/out") or ""
      assert.equals(2, select(2, out:gsub("receiver: verified MLflow model_version%.created", "")), out)
      for _, w in ipairs(left) do assert.is_true(w.deleted) end
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

  it("make demo installs only the demo's packages, and the README names them", function()
    local ok, out = util.run("bash " .. q(ROOT .. "/.ci/deps") .. " --print --demo")
    assert(ok, out)
    local demo = util.trim(out)
    for _, heavy in ipairs({ "clang", "valgrind", "lua5.1", "luajit2", "lua-busted", "lua-ldoc", "cppcheck" }) do
      assert.is_nil((" " .. demo .. " "):find(" " .. heavy .. " ", 1, true), heavy .. " in " .. demo)
    end
    local makefile = assert(util.read_file(ROOT .. "/Makefile"))
    assert.matches("\ndemo:\n\t@bash %.ci/deps %-%-demo\n", makefile)
    local readme = assert(util.read_file(ROOT .. "/README.md"))
    local listed = assert(readme:match("`make demo` installs only what it needs: `([^`]+)`"))
    assert.equals(demo, (listed:gsub("%s+", " ")))
  end)

  -- The first ```sh block after the heading `title` (any level) of README.md.
  local function readme_sh(title)
    local readme = assert(util.read_file(ROOT .. "/README.md"))
    local from = assert(readme:find("\n#+ " .. title:gsub("%p", "%%%0") .. "\n"), "no README section " .. title)
    return assert(readme:match("\n```sh\n(.-\n)```\n", from), "no sh block in " .. title)
  end

  it("the local workspace as a tool: installed, --help documents every flag, status, and the README's CI job",
    function()
      local prefix = tmp .. "/ci-prefix"
      assert(util.run(("make -s -C %s install LUA=%s PREFIX=%s >/dev/null"):format(q(ROOT), VERSION,
        q(prefix))))
      local function run_tool(args)
        return sh(("env -i PATH=%s:/usr/bin:/bin HOME=%s TMPDIR=%s sh -c %s"):format(q(prefix .. "/bin"),
          q(tmp), q(tmp), q("cd / && " .. args)), {}, tmp)
      end
      local r = run_tool("databricks-webhooks local-workspace --help")
      assert.equals(0, r.code, r.stderr)
      for _, flag in ipairs({ "--port", "--token", "--https", "--fronts", "--client-id", "--client-secret",
        "--token-ttl", "status DIR", "stop DIR" }) do
        assert.truthy(r.stdout:find(flag, 1, true), flag .. " undocumented")
      end
      r = run_tool("databricks-webhooks local-workspace")
      assert.equals(2, r.code)
      assert.matches("Usage: databricks%-webhooks local%-workspace start DIR", r.stderr)
      r = run_tool("databricks-webhooks local-workspace status " .. q(tmp .. "/none"))
      assert.equals(3, r.code)

      -- the CI job, as written, with the installed command on PATH
      util.write_file(tmp .. "/ci-job.sh", readme_sh("Test your own automation against a local workspace"))
      r = run_tool("sh " .. q(tmp .. "/ci-job.sh"))
      assert.equals(0, r.code, r.stdout .. r.stderr)
      assert.equals("", r.stderr)
      -- its trap stopped the workspace: no nginx of it is left
      -- ("[-]p": the pattern does not match the shell that runs pgrep)
      local left = sh("pgrep -f " .. q("[-]p " .. tmp .. "/tmp"), {}, tmp)
      assert.equals(1, left.code, left.stdout)
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
      -- a rock installed on the machine (here: on LUA_CPATH) must not stand in for the build
      local rock = tmp .. "/installed-rock"
      assert(util.run(("mkdir -p %s/databricks/webhooks && cp %s %s/databricks/webhooks/"):format(
        q(rock), q(BUILD .. "/databricks/webhooks/core.so"), q(rock))))
      for _, env in ipairs({ {}, { LUA_CPATH = rock .. "/?.so;;" } }) do
        local r = sh(LUA .. " " .. q(co .. "/bin/databricks-webhooks") .. " events", env, tmp)
        assert.equals(2, r.code)
        assert.equals("", r.stdout)
        assert.equals(("error: no C module built for %s in this checkout: run `make LUA=%s` in %s\n")
          :format(VERSION == "luajit" and "LuaJIT" or "Lua " .. VERSION, VERSION, co), r.stderr)
      end
    end)

    it("installed by make install under any PREFIX, runs without LUA_PATH, and names what is missing",
      function()
        local prefix = tmp .. "/home/.local"
        local abi = VERSION == "luajit" and "5.1" or VERSION
        assert(util.run(("make -s -C %s install LUA=%s PREFIX=%s >/dev/null"):format(q(ROOT), VERSION,
          q(prefix))))
        local tool = prefix .. "/bin/databricks-webhooks"
        -- from /, with no Lua variables at all, as a user's shell runs it
        local function run_tool(args)
          return sh(("env -i PATH=/usr/bin:/bin HOME=%s sh -c %s"):format(q(tmp),
            q("cd / && exec " .. q(tool) .. " " .. args)), {}, tmp)
        end
        local r = run_tool("events")
        assert.equals(0, r.code, r.stderr)
        assert.equals(12, select(2, r.stdout:gsub("\n", "")))
        assert.matches("^databricks%-webhooks %d+%.%d+%.%d+ %(.*%)\n$", run_tool("--version").stdout)

        -- a broken install: the module that is missing is named, with where it was looked for
        os.remove(prefix .. "/lib/lua/" .. abi .. "/databricks/webhooks/core.so")
        r = run_tool("events")
        assert.equals(2, r.code)
        assert.matches("module 'databricks.webhooks.core' not found", r.stderr, 1, true)
        assert.truthy(r.stderr:find(prefix .. "/lib/lua/" .. abi, 1, true), r.stderr)
        assert(util.run("rm -rf " .. q(prefix .. "/share")))
        r = run_tool("events")
        assert.equals(2, r.code)
        assert.matches("module 'databricks.webhooks.cli' not found", r.stderr, 1, true)
        assert.truthy(r.stderr:find(prefix .. "/share/lua/" .. abi, 1, true), r.stderr)
      end)
  end)
end)
