-- The command-line tool against an open-source MLflow server (--api mlflow,
-- or DATABRICKS_WEBHOOKS_API=mlflow): bin/databricks-webhooks as a
-- subprocess with a clean environment, against the MLflow stand-in, over
-- real HTTP; and the same module in-process for what needs no shell.
local workspace = require("spec.support.workspace")
local cjson = require("cjson")
local util = require("spec.support.util")
local cli = require("databricks.webhooks.cli")

local q, read_file, write_file = util.q, util.read_file, util.write_file

local function shell(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local function lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local function fields(line)
  local out = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = f end
  return out
end

local ROOT = shell("pwd")
local TOOL = ROOT .. "/bin/databricks-webhooks"

describe("databricks-webhooks --api mlflow (command line)", function()
  local srv, tmp

  -- Runs the tool. opts: stdin, env (extra variables; false unsets), cwd.
  local function run(args, opts)
    opts = opts or {}
    local vars = {
      PATH = os.getenv("PATH") or "/usr/bin:/bin",
      HOME = tmp .. "/home",
      MLFLOW_TRACKING_URI = srv.url,
      DATABRICKS_WEBHOOKS_API = "mlflow",
    }
    for k, v in pairs(opts.env or {}) do vars[k] = v or nil end
    local env = {}
    for k, v in pairs(vars) do env[#env + 1] = k .. "=" .. q(v) end
    local argv = {}
    for i, a in ipairs(args) do argv[i] = q(a) end
    write_file(tmp .. "/stdin", opts.stdin or "")
    os.execute(string.format("cd %s && env -i %s %s %s <%s >%s 2>%s; echo $? >%s",
      q(opts.cwd or ROOT), table.concat(env, " "), q(TOOL), table.concat(argv, " "),
      q(tmp .. "/stdin"), q(tmp .. "/stdout"), q(tmp .. "/stderr"), q(tmp .. "/rc")))
    return { code = tonumber(read_file(tmp .. "/rc")), stdout = read_file(tmp .. "/stdout") or "",
      stderr = read_file(tmp .. "/stderr") or "" }
  end

  local function ok(args, opts)
    local r = run(args, opts)
    assert.equals(0, r.code, "stderr: " .. r.stderr)
    assert.equals("", r.stderr)
    return r
  end

  local function usage(args, pattern, opts)
    local r = run(args, opts)
    assert.equals(2, r.code, "stdout: " .. r.stdout .. " stderr: " .. r.stderr)
    assert.matches(pattern, r.stderr, 1, true)
    return r
  end

  local function url(name) return srv.url .. "/__control/sink/" .. (name or "hook") end

  -- Creates a webhook through the tool; returns its id.
  local function create(name, extra)
    local args = { "create", "--name", name, "--url", url(name), "--event", "model_version.created" }
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    return fields(lines(ok(args).stdout)[1])[1]
  end

  setup(function()
    srv = workspace.start{ api = "mlflow", allowed_schemes = "http,https", allow_private_ips = true }
    tmp = shell("mktemp -d \"${TMPDIR:-/tmp}/cli-mlflow-spec.XXXXXX\"")
    assert(os.execute("mkdir -p " .. q(tmp .. "/home")))
  end)
  teardown(function()
    if srv then srv:stop() end
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)
  before_each(function() srv:reset() end)

  describe("help and events", function()
    it("says how to reach an MLflow server, in the main help and each command's", function()
      local main = ok({ "--help" }).stdout
      assert.matches("--api mlflow", main, 1, true)
      assert.matches("MLFLOW_TRACKING_URI", main, 1, true)
      assert.matches("DATABRICKS_WEBHOOKS_API", main, 1, true)
      for _, cmd in ipairs({ "create", "get", "update", "test", "export", "plan" }) do
        assert.matches("MLflow", ok({ cmd, "--help" }).stdout, 1, true)
      end
    end)

    it("lists MLflow's event names with --api mlflow, Databricks' without", function()
      local names = lines(ok({ "events" }).stdout)
      assert.equals(15, #names)
      assert.equals("model_version.created", names[2])
      assert.equals(12, #lines(ok({ "events" }, { env = { DATABRICKS_WEBHOOKS_API = false } }).stdout))
      assert.same(names, cjson.decode(ok({ "--api", "mlflow", "events", "-o", "json" },
        { env = { DATABRICKS_WEBHOOKS_API = false } }).stdout))
    end)
  end)

  describe("create, get, list, update, delete, test", function()
    it("creates a webhook and prints name, url, status and events", function()
      local r = ok({ "create", "--name", "hook-1", "--url", url(), "--event", "model_version.created,PROMPT.created",
        "--description", "d", "--status", "DISABLED", "--format", "table" })
      local rows = lines(r.stdout)
      assert.matches("^ID%s+NAME%s+STATUS%s+EVENTS%s+URL%s+DESCRIPTION$", rows[1])
      assert.matches("hook-1  DISABLED  model_version.created,prompt.created  " .. url() .. "  d", rows[2], 1, true)
      local wh = srv:webhooks()[1]
      assert.equals("hook-1", wh.name)
      assert.same({ { entity = "MODEL_VERSION", action = "CREATED" }, { entity = "PROMPT", action = "CREATED" } },
        wh.events)
    end)

    it("reads the secret from a file or stdin, sends it, never prints it", function()
      local r = ok({ "create", "--name", "s", "--url", url(), "--event", "model_version.created",
        "--secret-file", "-", "-o", "json" }, { stdin = "s3cret-in\n" })
      assert.is_nil(r.stdout:find("s3cret", 1, true))
      assert.equals("s3cret-in", srv:webhooks()[1].secret)
      local id = cjson.decode(r.stdout).id
      write_file(tmp .. "/secret", "rotated\n")
      ok({ "update", id, "--secret-file", tmp .. "/secret" })
      assert.equals("rotated", srv:webhooks()[1].secret)
    end)

    it("takes a --json body, events as names or as {entity, action}", function()
      local body = cjson.encode({ name = "j", url = url(), events = { { entity = "PROMPT_TAG", action = "SET" },
        "model_version.created" } })
      local wh = cjson.decode(ok({ "create", "--json", body, "--description", "from json", "-o", "json" }).stdout)
      table.sort(wh.events)
      assert.same({ "model_version.created", "prompt_tag.set" }, wh.events)
      assert.equals("from json", wh.description)
      usage({ "create", "--json", cjson.encode({ name = "j", url = url(), events = { { entity = "PROMPT",
        action = "SET" } } }) }, "unknown event 'PROMPT.SET'")
    end)

    it("suggests the MLflow name for a misspelt or Databricks-style event", function()
      local r = usage({ "create", "--name", "a", "--url", url(), "--event", "MODEL_VERSION_CREATED" },
        "unknown event 'MODEL_VERSION_CREATED' (did you mean 'model_version.created'?)")
      assert.matches("events --api mlflow", r.stderr, 1, true)
      usage({ "create", "--name", "a", "--url", url(), "--event", "prompt.creatd" }, "did you mean 'prompt.created'?")
      usage({ "create", "--name", "a", "--url", url(), "--event", "prompt.created", "--status", "TEST_MODE" },
        "--status must be one of ACTIVE, DISABLED")
      usage({ "create", "--url", url(), "--event", "prompt.created" }, "create needs --name NAME")
      assert.equals(0, #srv:webhooks())
    end)

    it("gets one webhook by id, and says when there is none", function()
      local id = create("g")
      local wh = cjson.decode(ok({ "get", id, "-o", "json" }).stdout)
      assert.equals(id, wh.id)
      assert.equals(id, wh.webhook_id)
      assert.same({ "model_version.created" }, wh.events)
      local r = run({ "get", "00000000-0000-4000-8000-000000000000" })
      assert.equals(1, r.code)
      assert.matches("RESOURCE_DOES_NOT_EXIST", r.stderr, 1, true)
      usage({ "get" }, "get needs exactly one ID")
    end)

    it("lists one page or every page", function()
      for i = 1, 3 do create("l" .. i) end
      local r = run({ "list", "--max-results", "2" })
      assert.equals(0, r.code)
      assert.equals(2, #lines(r.stdout))
      local token = r.stderr:match("%-%-page%-token (%S+)")
      assert.truthy(token)
      assert.equals(1, #lines(ok({ "list", "--max-results", "2", "--page-token", token }).stdout))
      local all = ok({ "list", "--all", "--max-results", "1" }).stdout
      assert.equals(3, #lines(all))
      local doc = cjson.decode(ok({ "list", "-o", "json" }).stdout)
      assert.equals(3, #doc.webhooks)
      usage({ "list", "--max-results", "0" }, "--max-results must be a positive integer")
    end)

    it("updates a webhook, keeping its status unless --status is given", function()
      local id = create("u", { "--status", "DISABLED" })
      local r = ok({ "update", id, "--description", "new", "--event", "prompt.created", "--url", url("u2") })
      local row = fields(lines(r.stdout)[1])
      assert.same({ id, "u", "DISABLED", "prompt.created", url("u2"), "new" }, row)
      ok({ "update", id, "--status", "ACTIVE", "--name", "renamed" })
      local wh = srv:webhooks()[1]
      assert.equals("ACTIVE", wh.status)
      assert.equals("renamed", wh.name)
      usage({ "update", id }, "nothing to change")
    end)

    it("updates and deletes several ids at once", function()
      local a, b = create("a"), create("b")
      local r = ok({ "update", a, b, "--status", "DISABLED" })
      assert.equals(2, #lines(r.stdout))
      for _, wh in ipairs(srv:webhooks()) do assert.equals("DISABLED", wh.status) end
      r = ok({ "delete", a, b })
      assert.same({ a .. "\tok", b .. "\tok" }, lines(r.stdout))
      for _, wh in ipairs(srv:webhooks()) do assert.is_true(wh.deleted) end -- soft deletes
      r = run({ "delete", a })
      assert.equals(1, r.code)
      assert.matches("not found", r.stderr, 1, true)
    end)

    it("tests a webhook and prints what the receiver answered", function()
      local id = create("t")
      local r = ok({ "test", id, "--event", "PROMPT.CREATED" })
      assert.same({ "true", "200" }, { fields(r.stdout:match("^[^\n]*"))[1], fields(r.stdout:match("^[^\n]*"))[2] })
      local doc = cjson.decode(ok({ "test", id, "-o", "json" }).stdout)
      assert.is_true(doc.success)
      assert.equals(200, doc.response_status)
      local sunk = srv:sink()
      assert.equals("prompt", cjson.decode(sunk[1].body).entity)
      ok({ "update", id, "--url", "http://127.0.0.1:1/nothing" })
      doc = cjson.decode(ok({ "test", id, "-o", "json" }).stdout)
      assert.is_false(doc.success)
      assert.truthy(doc.error_message)
    end)
  end)

  describe("choosing the API and the server", function()
    it("refuses Databricks-only options, verbs and modes with a usage error", function()
      usage({ "create", "--name", "a", "--url", url(), "--event", "prompt.created", "--model", "m" },
        "--model is a Databricks option")
      usage({ "list", "--profile", "p" }, "--profile is a Databricks option")
      usage({ "create", "--name", "a", "--job-id", "1", "--event", "prompt.created" },
        "--job-id is a Databricks option")
      usage({ "delete", "--all", "--yes" }, "an MLflow server has no models")
      usage({ "list", "--event", "prompt.created" }, "an MLflow server's list has no filters")
      usage({ "list-webhooks" }, "list-webhooks is a Databricks CLI verb; with --api mlflow use list")
      usage({ "export", "--model", "m" }, "--model is a Databricks option")
      assert.equals(0, #srv:requests())
    end)

    it("refuses MLflow-only options against Databricks, and an unknown API", function()
      local env = { DATABRICKS_WEBHOOKS_API = false, DATABRICKS_HOST = "https://example.invalid",
        DATABRICKS_TOKEN = "t" }
      usage({ "create", "--name", "a", "--url", url(), "--event", "MODEL_VERSION_CREATED" },
        "--name is for an MLflow server (give --api mlflow)", { env = env })
      usage({ "list", "--token", "x" }, "--token is for an MLflow server", { env = env })
      usage({ "--api", "mlfow", "list" }, "--api must be databricks or mlflow, got 'mlfow' (did you mean 'mlflow'?)")
      usage({ "list" }, "DATABRICKS_WEBHOOKS_API must be databricks or mlflow",
        { env = { DATABRICKS_WEBHOOKS_API = "x" } })
    end)

    it("never guesses the API from the variables set", function()
      -- MLFLOW_TRACKING_URI alone does not make the tool speak MLflow
      local r = run({ "list" }, { env = { DATABRICKS_WEBHOOKS_API = false } })
      assert.equals(2, r.code)
      assert.matches("DATABRICKS_HOST", r.stderr, 1, true)
      -- --api wins over the variable
      ok({ "--api", "mlflow", "list" }, { env = { DATABRICKS_WEBHOOKS_API = "databricks" } })
    end)

    it("takes the host from --host, else MLFLOW_TRACKING_URI", function()
      create("h")
      ok({ "list", "--host", srv.url }, { env = { MLFLOW_TRACKING_URI = false } })
      local r = run({ "list" }, { env = { MLFLOW_TRACKING_URI = false } })
      assert.equals(2, r.code)
      assert.matches("set MLFLOW_TRACKING_URI or --host", r.stderr, 1, true)
      r = run({ "list" }, { env = { MLFLOW_TRACKING_URI = "sqlite:///mlflow.db" } })
      assert.equals(2, r.code)
      assert.matches("must be an http:// or https:// URL", r.stderr, 1, true)
    end)
  end)

  describe("authentication", function()
    local auth

    setup(function()
      auth = workspace.start{ api = "mlflow", token = "tok-123" }
    end)
    teardown(function() if auth then auth:stop() end end)

    it("sends --token, or MLFLOW_TRACKING_TOKEN, as a Bearer token", function()
      local env = { MLFLOW_TRACKING_URI = auth.url }
      local r = run({ "list" }, { env = env })
      assert.equals(1, r.code)
      assert.matches("UNAUTHENTICATED", r.stderr, 1, true)
      ok({ "list", "--token", "tok-123" }, { env = env })
      ok({ "list" }, { env = { MLFLOW_TRACKING_URI = auth.url, MLFLOW_TRACKING_TOKEN = "tok-123" } })
    end)

    it("sends MLFLOW_TRACKING_USERNAME and _PASSWORD as Basic", function()
      local basic = workspace.start{ api = "mlflow", username = "u", password = "p" }
      local env = { MLFLOW_TRACKING_URI = basic.url, MLFLOW_TRACKING_USERNAME = "u", MLFLOW_TRACKING_PASSWORD = "p" }
      local good = run({ "list" }, { env = env })
      env.MLFLOW_TRACKING_PASSWORD = "wrong"
      local bad = run({ "list" }, { env = env })
      basic:stop()
      assert.equals(0, good.code, good.stderr)
      assert.equals(1, bad.code)
      assert.is_nil(bad.stderr:find("wrong", 1, true))
    end)
  end)

  describe("export, plan, apply", function()
    it("exports a file that plans as converged, and applies a change", function()
      create("b", { "--description", "bee" })
      create("a", { "--event", "prompt.created" })
      local r = run({ "export" })
      assert.equals(0, r.code)
      assert.matches("WEBHOOK_<n>_SECRET", r.stderr, 1, true)
      local doc = cjson.decode(r.stdout)
      assert.equals("mlflow", doc.api)
      assert.same({ "a", "b" }, { doc.webhooks[1].name, doc.webhooks[2].name })
      write_file(tmp .. "/state.json", r.stdout)
      r = ok({ "plan", "-f", tmp .. "/state.json" })
      assert.matches("No changes: 2 webhooks as desired.", r.stdout, 1, true)
      -- change one, add one, prune none: the plan shows it, exit 4
      doc.webhooks[1].status = "DISABLED"
      doc.webhooks[3] = { name = "c", url = url("c"), events = { "registered_model.created" } }
      for _, w in ipairs(doc.webhooks) do w.secret = nil end
      write_file(tmp .. "/state.json", cjson.encode(doc))
      r = run({ "plan", "-f", tmp .. "/state.json" })
      assert.equals(4, r.code, r.stderr)
      assert.matches("+ create  name c, url " .. url("c"), r.stdout, 1, true)
      assert.matches("    status: ACTIVE -> DISABLED", r.stdout, 1, true)
      r = ok({ "apply", "-f", tmp .. "/state.json", "--yes" })
      assert.matches("create\t[%x%-]+\tname c, url ", r.stdout)
      assert.equals(0, ok({ "plan", "-f", tmp .. "/state.json" }).code)
      local plan = cjson.decode(ok({ "plan", "-f", tmp .. "/state.json", "-o", "json" }).stdout)
      assert.same({}, plan.conflicts)
      assert.equals("mlflow", plan.api)
    end)

    it("applies secrets from the environment, rotates them on request, and prunes", function()
      create("old")
      write_file(tmp .. "/s.json", '{"webhooks": [{"name": "s", "url": "' .. url("s")
        .. '", "events": ["prompt.created"], "status": "DISABLED", "secret": {"env": "S_SECRET"}}]}')
      local r = run({ "apply", "-f", tmp .. "/s.json", "--prune", "--yes" })
      assert.equals(2, r.code)
      assert.matches("S_SECRET is not set", r.stderr, 1, true)
      r = ok({ "apply", "-f", tmp .. "/s.json", "--prune", "--yes" }, { env = { S_SECRET = "first" } })
      assert.is_nil(r.stdout:find("first", 1, true))
      local live = {}
      for _, wh in ipairs(srv:webhooks()) do
        if not wh.deleted then live[#live + 1] = wh end
      end
      assert.equals(1, #live)
      assert.same({ "s", "DISABLED", "first" }, { live[1].name, live[1].status, live[1].secret })
      assert.equals(0, run({ "plan", "-f", tmp .. "/s.json", "--prune" }).code)
      r = run({ "plan", "-f", tmp .. "/s.json", "--rotate-secrets" })
      assert.equals(4, r.code)
      assert.matches("secret: sent again (rotate_secrets)", r.stdout, 1, true)
      ok({ "apply", "-f", tmp .. "/s.json", "--rotate-secrets", "--yes" }, { env = { S_SECRET = "second" } })
      for _, wh in ipairs(srv:webhooks()) do
        if not wh.deleted then
          assert.same({ "DISABLED", "second" }, { wh.status, wh.secret })
        end
      end
    end)

    it("refuses a file naming a webhook twice, naming both entries", function()
      write_file(tmp .. "/dup.json", '{"webhooks": [\n'
        .. '{"name": "x", "url": "' .. url() .. '", "events": ["prompt.created"]},\n'
        .. '{"name": "x", "url": "' .. url("y") .. '", "events": ["prompt.created"]}]}')
      local r = run({ "plan", "-f", tmp .. "/dup.json" })
      assert.equals(2, r.code)
      assert.matches("dup.json:2: webhooks[1] and webhooks[2] (line 3) have the same name (x)", r.stderr, 1, true)
    end)

    it("reports names the server holds twice, and apply leaves them alone (exit 1)", function()
      local one, two = create("dup"), create("dup")
      local r = run({ "export" })
      assert.matches("several webhooks have the name dup", r.stderr, 1, true)
      write_file(tmp .. "/c.json", '{"api": "mlflow", "webhooks": [\n'
        .. '{"name": "dup", "url": "' .. url("z") .. '", "events": ["prompt.created"]},\n'
        .. '{"name": "new", "url": "' .. url("n") .. '", "events": ["prompt.created"]}]}')
      r = run({ "plan", "-f", tmp .. "/c.json" })
      assert.equals(4, r.code)
      assert.matches("! conflict  name dup: 2 webhooks on the server have this name", r.stdout, 1, true)
      assert.truthy(r.stdout:find(one, 1, true) and r.stdout:find(two, 1, true))
      r = run({ "apply", "-f", tmp .. "/c.json", "--yes" })
      assert.equals(1, r.code)
      assert.matches("error: name dup: 2 webhooks on the server have this name", r.stderr, 1, true)
      local urls = {}
      for _, wh in ipairs(srv:webhooks()) do urls[#urls + 1] = wh.url end
      table.sort(urls)
      assert.same({ url("dup"), url("dup"), url("n") }, urls) -- "new" created, "dup" untouched
    end)

    it("refuses a file exported from the other API", function()
      write_file(tmp .. "/m.json", '{"api": "mlflow", "webhooks": []}')
      usage({ "plan", "-f", tmp .. "/m.json" }, 'is a desired state for an MLflow server ("api": "mlflow");'
        .. " give --api mlflow", { env = { DATABRICKS_WEBHOOKS_API = false, DATABRICKS_HOST = "https://x.invalid",
        DATABRICKS_TOKEN = "t" } })
    end)
  end)
end)

describe("databricks.webhooks.cli --api mlflow (in-process)", function()
  local srv

  local function sink()
    local buf = {}
    return { write = function(self, ...)
      for i = 1, select("#", ...) do buf[#buf + 1] = tostring((select(i, ...))) end
      return self
    end, flush = function() end, text = function() return table.concat(buf) end }
  end

  local function run(argv, env)
    local out, err = sink(), sink()
    local code = cli.main(argv, { stdout = out, stderr = err, stdin = { read = function() return "" end },
      getenv = function(name) return (env or {})[name] end, is_terminal = function() return false end })
    return { code = code, stdout = out.text(), stderr = err.text() }
  end

  setup(function()
    srv = workspace.start{ api = "mlflow", allowed_schemes = "http,https", allow_private_ips = true }
  end)
  teardown(function() srv:stop() end)

  it("creates and gets through --host, with DATABRICKS_WEBHOOKS_API from sys.getenv", function()
    local env = { DATABRICKS_WEBHOOKS_API = "mlflow" }
    local r = run({ "create", "--host", srv.url, "--name", "in", "--url", srv.url .. "/__control/sink/in",
      "--event", "model_version_alias.created", "-o", "json" }, env)
    assert.equals(0, r.code, r.stderr)
    local id = cjson.decode(r.stdout).id
    r = run({ "get", id, "--host", srv.url }, env)
    assert.equals(0, r.code, r.stderr)
    local row = fields(r.stdout:match("^[^\n]*"))
    assert.same({ id, "in", "ACTIVE", "model_version_alias.created" }, { row[1], row[2], row[3], row[4] })
  end)
end)

describe("databricks-webhooks get (Databricks)", function()
  local srv, tmp

  local function run(args)
    local env = { "PATH=" .. q(os.getenv("PATH") or "/usr/bin:/bin"), "HOME=" .. q(tmp),
      "DATABRICKS_HOST=" .. q(srv.url), "DATABRICKS_TOKEN=" .. q(srv.token) }
    local argv = {}
    for i, a in ipairs(args) do argv[i] = q(a) end
    os.execute(string.format("env -i %s %s %s </dev/null >%s 2>%s; echo $? >%s", table.concat(env, " "), q(TOOL),
      table.concat(argv, " "), q(tmp .. "/stdout"), q(tmp .. "/stderr"), q(tmp .. "/rc")))
    return { code = tonumber(read_file(tmp .. "/rc")), stdout = read_file(tmp .. "/stdout") or "",
      stderr = read_file(tmp .. "/stderr") or "" }
  end

  setup(function()
    srv = workspace.start()
    tmp = shell("mktemp -d \"${TMPDIR:-/tmp}/cli-get-spec.XXXXXX\"")
  end)
  teardown(function()
    srv:stop()
    os.execute("rm -rf " .. q(tmp))
  end)

  it("finds a webhook by paging list, narrowed by --model", function()
    local ids = {}
    for i = 1, 3 do
      local r = run({ "create", "--model", "m" .. i, "--event", "MODEL_VERSION_CREATED",
        "--url", srv.url .. "/__control/sink/" .. i, "-o", "json" })
      assert.equals(0, r.code, r.stderr)
      ids[i] = cjson.decode(r.stdout).id
    end
    local r = run({ "get", ids[2] })
    assert.equals(0, r.code, r.stderr)
    local row = fields(lines(r.stdout)[1])
    assert.same({ ids[2], "m2", "ACTIVE", "MODEL_VERSION_CREATED" }, { row[1], row[2], row[3], row[4] })
    assert.equals(ids[3], cjson.decode(run({ "get", ids[3], "--model", "m3", "-o", "json" }).stdout).id)
    r = run({ "get", ids[3], "--model", "m1" })
    assert.equals(1, r.code)
    assert.matches("RESOURCE_DOES_NOT_EXIST", r.stderr, 1, true)
    r = run({ "get", ids[1], "--name", "x" })
    assert.equals(2, r.code)
    assert.matches("get does not take --name", r.stderr, 1, true)
  end)
end)
