-- The command-line tool as a module: databricks.webhooks.cli.main(argv, sys)
-- runs in this process, with captured streams, a chosen environment and
-- chosen terminals, against the local workspace.
local workspace = require("spec.support.workspace")
local cjson = require("cjson")
local util = require("spec.support.util")
local cli = require("databricks.webhooks.cli")

local function sink()
  local buf = {}
  return {
    write = function(self, ...)
      for i = 1, select("#", ...) do buf[#buf + 1] = tostring((select(i, ...))) end
      return self
    end,
    flush = function() end,
    text = function() return table.concat(buf) end,
  }
end

local function reader(text)
  local at = 1
  return {
    read = function(_, fmt)
      if fmt == "*l" or fmt == "l" then
        if at > #text then return nil end
        local line, next_at = text:match("^([^\n]*)\n?()", at)
        at = next_at
        return line
      end
      local rest = text:sub(at)
      at = #text + 1
      return rest
    end,
  }
end

local function lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

describe("databricks.webhooks.cli (in-process)", function()
  local srv, tmp, cfg, sinkurl

  -- Runs main. opts: env (the variables the tool reads itself), stdin,
  -- tty = { [0] = true, [1] = ..., [2] = ... }. Returns { code, stdout, stderr }.
  local function run(argv, opts)
    opts = opts or {}
    local out, err = sink(), sink()
    local env = opts.env or { DATABRICKS_CONFIG_FILE = cfg }
    local code = cli.main(argv, {
      stdout = out, stderr = err, stdin = reader(opts.stdin or ""),
      getenv = function(name) return env[name] end,
      is_terminal = function(fd) return (opts.tty or {})[fd] == true end,
    })
    return { code = code, stdout = out.text(), stderr = err.text() }
  end

  -- With --host, the tool finds the token in the profile whose host matches.
  local function ok(argv, opts)
    local full = { "--host", srv.url }
    for _, a in ipairs(argv) do full[#full + 1] = a end
    local r = run(full, opts)
    assert.equals(0, r.code, "stderr: " .. r.stderr)
    return r
  end

  local function create(model)
    return cjson.decode(ok({ "create", "--model-name", model, "--event", "MODEL_VERSION_CREATED",
      "--url", sinkurl, "-o", "json" }).stdout).id
  end

  setup(function()
    srv = workspace.start()
    tmp = util.trim(io.popen("mktemp -d \"${TMPDIR:-/tmp}/cli-module.XXXXXX\""):read("*a"))
    cfg = tmp .. "/databrickscfg"
    util.write_file(cfg, "[DEFAULT]\nhost = https://elsewhere.example.com\ntoken = dapi-elsewhere\n\n"
      .. "[local]\nhost = " .. srv.url .. "/\ntoken = " .. srv.token .. "\n")
    sinkurl = srv.url .. "/__control/sink"
  end)

  teardown(function()
    if srv then srv:stop() end
    if tmp then os.execute("rm -rf " .. util.q(tmp)) end
  end)

  before_each(function() srv:reset() end)

  describe("usage", function()
    it("prints the usage on stderr and exits 2 when given no arguments", function()
      local r = run({})
      assert.equals(2, r.code)
      assert.equals("", r.stdout)
      assert.matches("^error: no command given\n\nUsage: databricks%-webhooks COMMAND", r.stderr)
      assert.matches("create%-webhook", r.stderr)
    end)

    it("suggests the nearest command, option, event and status", function()
      local cases = {
        { { "lst" }, "unknown command 'lst' %(did you mean 'list'%?%)" },
        { { "delete-webhok", "1" }, "did you mean 'delete%-webhook'%?" },
        { { "list", "--hots", "x" }, "unknown option %-%-hots %(did you mean '%-%-host'%?%)" },
        { { "list", "--model_name", "m" }, "did you mean '%-%-model%-name'%?" },
        { { "list", "--event", "MODEL_VERSION_CREATD" },
          "unknown event 'MODEL_VERSION_CREATD' %(did you mean 'MODEL_VERSION_CREATED'%?%)" },
        { { "update", "1", "--status", "DISABLD" }, "did you mean 'DISABLED'%?" },
      }
      for _, c in ipairs(cases) do
        local r = run(c[1])
        assert.equals(2, r.code, r.stderr)
        assert.matches(c[2], r.stderr)
      end
      assert.is_nil(run({ "frobnicate" }).stderr:find("did you mean", 1, true))
      assert.same({}, srv:requests())
    end)

    it("documents the exit statuses, --debug, host matching and test's random event", function()
      local main = run({ "--help" }).stdout
      assert.matches("5 update or delete %-%-model M %-%-all matched no webhook", main)
      assert.matches("%-%-debug", main)
      assert.matches("the profile whose host matches %-%-host is\nused", main)
      assert.matches("at random", run({ "test", "--help" }).stdout)
      assert.matches("^Usage: databricks%-webhooks test%-registry%-webhook",
        run({ "help", "test-registry-webhook" }).stdout)
    end)
  end)

  describe("the Databricks CLI's verbs", function()
    it("create-webhook --json JSON|@file, list-webhooks, update-webhook, test-registry-webhook, delete-webhook",
      function()
        local body = { model_name = "m", events = { "MODEL_VERSION_CREATED" },
          http_url_spec = { url = sinkurl, secret = "s3cr3t-in-body" } }
        local r = ok({ "create-webhook", "--json", cjson.encode(body), "--format", "json" })
        local a = cjson.decode(r.stdout)
        assert.equals("m", a.model_name)
        assert.is_nil((r.stdout .. r.stderr):find("s3cr3t", 1, true))
        assert.equals("s3cr3t-in-body", srv:webhooks()[1].http_url_spec.secret)
        -- JSON of the tool: "/" as is
        assert.truthy(r.stdout:find(sinkurl, 1, true), r.stdout)

        util.write_file(tmp .. "/body.json", cjson.encode({ model_name = "m", events = { "COMMENT_CREATED" },
          http_url_spec = { url = sinkurl } }))
        local b = cjson.decode(ok({ "create-webhook", "--json", "@" .. tmp .. "/body.json", "--description", "d",
          "--format", "json" }).stdout)
        assert.same({ "COMMENT_CREATED" }, b.events)
        assert.equals("d", b.description)

        r = ok({ "list-webhooks", "--model-name", "m", "--max-results", "1" })
        assert.equals(1, #lines(r.stdout))
        assert.matches("more webhooks: repeat with %-%-page%-token", r.stderr)

        local u = cjson.decode(ok({ "update-webhook", a.id, "--json", '{"status": "DISABLED"}', "--format",
          "json" }).stdout)
        assert.equals("DISABLED", u.status)
        assert.equals("ACTIVE", cjson.decode(ok({ "update-webhook", "--json",
          '{"id": "' .. a.id .. '", "status": "ACTIVE"}', "--format", "json" }).stdout).status)

        r = ok({ "test-registry-webhook", a.id, "--event", "MODEL_VERSION_CREATED" })
        assert.matches("^200\t", r.stdout)

        assert.equals(a.id .. "\tok\n", ok({ "delete-webhook", a.id }, { tty = { [0] = true } }).stdout)
        assert.equals(1, #srv:webhooks())
      end)

    it("refuses a --json body that is not an object, or that sets a field twice, before sending", function()
      for _, argv in ipairs({
        { "create-webhook", "--json", "[1]" },
        { "create-webhook", "--json", "{not json" },
        { "create-webhook", "--json", "@" .. tmp .. "/missing.json" },
        { "create-webhook", "--json", '{"events": "MODEL_VERSION_CREATED", "http_url_spec": {"url": "x"}}' },
        { "create-webhook", "--json", '{"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "x"}}',
          "--event", "COMMENT_CREATED" },
        { "update-webhook", "1", "2", "--status", "DISABLED" },
        { "update-webhook", "1", "--json", '{"id": "2", "status": "DISABLED"}' },
      }) do
        local full = { "--host", srv.url }
        for _, a in ipairs(argv) do full[#full + 1] = a end
        local r = run(full)
        assert.equals(2, r.code, table.concat(argv, " ") .. " -> " .. r.stderr)
        assert.matches("^error: ", r.stderr)
      end
      assert.same({}, srv:webhooks())
    end)

    it("speaks in its own words: flags not options, the command's --help, the body's mistakes first", function()
      local function err_of(argv, env)
        local r = run(argv, env and { env = env } or nil)
        assert.equals(2, r.code, r.stderr)
        return r.stderr
      end
      local e = err_of({ "--host", srv.url, "create-webhook", "--json", '{"events": ["MODEL_VERSION_CREATD"]}' })
      assert.matches("unknown event 'MODEL_VERSION_CREATD' (did you mean 'MODEL_VERSION_CREATED'?)", e, 1, true)
      local try = "\nTry 'databricks-webhooks create-webhook --help'.\n"
      assert.equals(try, e:sub(-#try))
      e = err_of({ "--host", srv.url, "create-webhook", "--json", '{"events": ["MODEL_VERSION_CREATED"]}' })
      assert.matches("create-webhook needs --url URL or --job-id ID, or http_url_spec or job_spec in its --json body",
        e, 1, true)
      e = err_of({ "list", "--host", "http://example.com" })
      assert.matches("use https:// (http:// only to a loopback host)", e, 1, true)
      assert.is_nil(e:find("allow_insecure_http", 1, true))
      e = err_of({ "list" }, { DATABRICKS_TOKEN = "t", DATABRICKS_CONFIG_FILE = tmp .. "/none.cfg" })
      assert.matches("set DATABRICKS_HOST, --host, or a profile", e, 1, true)
      assert.same({}, srv:webhooks())
    end)

    it("-o/--output json|text selects the output, in every form the Databricks CLI takes", function()
      create("o")
      for _, flag in ipairs({ { "-o", "json" }, { "-ojson" }, { "-o=json" }, { "--output", "json" },
        { "--output=json" } }) do
        local r = ok({ "list", flag[1], flag[2] })
        assert.equals("", r.stderr)
        assert.equals("o", cjson.decode(r.stdout).webhooks[1].model_name)
      end
      assert.matches("^%x+\to\t", ok({ "list", "-o", "text" }).stdout)
      assert.matches("^ID ", ok({ "list", "-o", "text", "--format", "table" }).stdout)
      for _, argv in ipairs({ { "list", "-o", "xml" }, { "list", "-o" }, { "list", "-o", "json", "--format", "tsv" },
        { "list", "--output", "text", "--format", "json" }, { "list", "--json", "-o", "text" } }) do
        local r = run(argv)
        assert.equals(2, r.code, table.concat(argv, " "))
        assert.matches("^[^\n]*error: ", r.stderr:gsub("^warning: [^\n]*\n", ""))
      end
      assert.matches("%-o/%-%-output must be json or text, got 'xml'", run({ "list", "-o", "xml" }).stderr)
    end)

    it("--json is the request body of create, update and test, and their verbs, with -o json", function()
      util.write_file(tmp .. "/body.json", cjson.encode({ model_name = "b", events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = sinkurl } }))
      local r = ok({ "create-webhook", "--json", "@" .. tmp .. "/body.json", "-o", "json" })
      assert.equals("", r.stderr)
      local a = cjson.decode(r.stdout)
      assert.equals("b", a.model_name)
      local b = cjson.decode(ok({ "create", "--json", "@" .. tmp .. "/body.json", "--output", "json" }).stdout)
      assert.equals("b", b.model_name)

      r = ok({ "update", "--json", '{"id": "' .. a.id .. '", "description": "via body"}', "-o", "json" })
      assert.equals("via body", cjson.decode(r.stdout).description)

      r = ok({ "test-registry-webhook", "--json", '{"id": "' .. a.id .. '"}' })
      assert.equals("", r.stderr)
      assert.matches("^200\t", r.stdout)
      r = ok({ "test", "--json", '{"id": "' .. b.id .. '", "event": "MODEL_VERSION_CREATED"}', "-o", "json" })
      assert.equals(200, cjson.decode(r.stdout).status_code)
      -- the id is the body's, not a positional one: an unknown id is a 404
      r = run({ "--host", srv.url, "test-registry-webhook", "--json", '{"id": "999999"}' })
      assert.equals(1, r.code, r.stderr)

      for _, argv in ipairs({
        { "test-registry-webhook", "--json", '{"id": "' .. a.id .. '"}', b.id },
        { "test", "--json", '{"id": "' .. a.id .. '", "model_name": "x"}' },
        { "test", "--json", '{"id": {"x": 1}}' },
        { "test", "--json", '{"id": "' .. a.id .. '", "event": 7}' },
        { "list", "--json", "{}" },
        { "delete-webhook", "--json", '{"id": "' .. a.id .. '"}' },
        { "events", "--json=[]" },
      }) do
        r = run(argv)
        assert.equals(2, r.code, table.concat(argv, " ") .. " -> " .. r.stderr)
        assert.matches("^error: ", r.stderr)
      end
      assert.matches("list takes no request body %(%-%-json JSON|@FILE%); for JSON output give %-o json",
        run({ "list", "--json", "{}" }).stderr)
      assert.equals(2, #srv:webhooks())
    end)

    it("--json with no value after it is the deprecated output flag, said on stderr", function()
      local warning = cli.JSON_FLAG_DEPRECATED
      assert.matches("^warning: %-%-json as the output flag is deprecated", warning)
      create("d")
      for _, argv in ipairs({ { "list", "--json" }, { "list", "--json", "--model", "d" },
        { "--json", "list" } }) do
        local full = { "--host", srv.url }
        for _, x in ipairs(argv) do full[#full + 1] = x end
        local r = run(full)
        assert.equals(0, r.code, r.stderr)
        assert.equals(warning, r.stderr)
        assert.equals("d", cjson.decode(r.stdout).webhooks[1].model_name)
      end
      util.write_file(tmp .. "/body.json", cjson.encode({ model_name = "d", events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = sinkurl } }))
      local r = ok({ "create-webhook", "--json", "@" .. tmp .. "/body.json", "--json" })
      assert.equals(warning, r.stderr)
      assert.equals("d", cjson.decode(r.stdout).model_name)
      assert.equals("", ok({ "list", "-o", "json" }).stderr)
    end)

    it("writes JSON as the same bytes on every Lua: a fixed key order, integers in full", function()
      local output = require("databricks.webhooks.cli.output")
      local wh = { last_updated_timestamp = 1700000000001, creation_timestamp = 1700000000000,
        description = "a/b \"q\"\n", status = "ACTIVE", events = output.array({ "MODEL_VERSION_CREATED" }),
        model_name = "m", id = "0123", job_spec = { workspace_url = "https://w", job_id = 4611686018427387904 },
        zeta = cjson.null, alpha = output.array(), beta = {}, n = 0.5 }
      assert.equals('{"id":"0123","model_name":"m","events":["MODEL_VERSION_CREATED"],"status":"ACTIVE",'
        .. '"description":"a/b \\"q\\"\\n","job_spec":{"job_id":4611686018427387904,"workspace_url":"https://w"},'
        .. '"alpha":[],"beta":{},"creation_timestamp":1700000000000,"last_updated_timestamp":1700000000001,'
        .. '"n":0.5,"zeta":null}', output.encode(wh))
    end)

    it("keeps did-you-mean for unknown options, short ones too", function()
      assert.matches("unknown option %-%-outptu %(did you mean '%-%-output'%?%)", run({ "list", "--outptu", "json" })
        .stderr)
      assert.matches("unknown option %-%-jsno %(did you mean '%-%-json'%?%)", run({ "list", "--jsno" }).stderr)
      assert.matches("unknown option %-x", run({ "list", "-x" }).stderr)
    end)

    it("takes positional ids and --model-name for the classic commands", function()
      local a, b = create("p"), create("p")
      local r = ok({ "update", a, b, "--description", "positional" })
      assert.same({ a .. "\tok", b .. "\tok" }, lines(r.stdout))
      assert.matches("^200\t", ok({ "test", a }).stdout)
      ok({ "delete", a, b })
      assert.same({}, srv:webhooks())
    end)
  end)

  describe("bulk work", function()
    it("says on stderr that no webhook matched, with exit status 5", function()
      create("real")
      for _, cmd in ipairs({ { "delete", "--yes" }, { "update", "--status", "DISABLED" } }) do
        local argv = { "--host", srv.url, cmd[1], "--model", "reall", "--all" }
        for i = 2, #cmd do argv[#argv + 1] = cmd[i] end
        local r = run(argv)
        assert.equals(5, r.code, r.stderr)
        assert.equals("", r.stdout)
        assert.equals("error: no webhook matched: model 'reall' has no webhooks; nothing was changed\n", r.stderr)
      end
      local r = run({ "--host", srv.url, "delete", "--model", "real", "--all", "--event", "COMMENT_CREATED",
        "-o", "json", "--yes" })
      assert.equals(5, r.code)
      assert.equals("[]\n", r.stdout)
      assert.matches("listening to COMMENT_CREATED", r.stderr)
      assert.equals(1, #srv:webhooks())
    end)

    it("asks before delete --all on a terminal unless --yes; never for one id", function()
      local a = create("c")
      create("c")
      local r = run({ "--host", srv.url, "delete", "--model", "c", "--all" }, { tty = { [0] = true }, stdin = "n\n" })
      assert.equals(2, r.code)
      assert.matches("^Delete 2 webhooks of model 'c'%? %[y/N%]: error: delete cancelled", r.stderr)
      assert.equals(2, #srv:webhooks())

      r = ok({ "delete", a }, { tty = { [0] = true } })
      assert.equals("", r.stderr)
      r = ok({ "delete", "--model", "c", "--all" }, { tty = { [0] = true }, stdin = "y\n" })
      assert.matches("^Delete 1 webhook of model 'c'%? %[y/N%]: $", r.stderr)
      assert.equals(0, #srv:webhooks())

      create("c")
      r = ok({ "delete", "--model", "c", "--all", "--yes" }, { tty = { [0] = true } })
      assert.equals("", r.stderr)
      assert.equals(0, #srv:webhooks())
    end)

    it("shows progress on stderr when it is a terminal; tsv rows end without a tab", function()
      for _ = 1, 10 do create("g") end
      local r = ok({ "update", "--model", "g", "--all", "--status", "DISABLED", "--parallel", "2" },
        { tty = { [2] = true } })
      local progress = lines(r.stderr)
      assert.equals(3, #progress)
      assert.equals("databricks-webhooks: updating webhooks: 4 of 10 done", progress[1])
      assert.equals("databricks-webhooks: updating webhooks: 10 of 10 done", progress[3])
      assert.equals(10, #lines(r.stdout))
      assert.is_nil(r.stdout:find("\t\n", 1, true))

      r = ok({ "delete", "--model", "g", "--all", "--parallel", "2", "--yes" })
      assert.equals("", r.stderr)
      assert.equals(10, #lines(r.stdout))
      assert.is_nil(r.stdout:find("\t\n", 1, true))
    end)
  end)

  describe("configuration", function()
    it("uses the profile whose host matches --host, unless one is named or credentials are set", function()
      assert.equals('{"webhooks":[]}\n', ok({ "list", "-o", "json" }).stdout)
      -- a named profile wins: DEFAULT's token is refused by this workspace
      local r = run({ "--host", srv.url, "list", "--profile", "local" })
      assert.equals(0, r.code, r.stderr)
      r = run({ "--host", srv.url, "list" }, { env = { DATABRICKS_CONFIG_FILE = cfg,
        DATABRICKS_CONFIG_PROFILE = "DEFAULT" } })
      assert.not_equals(0, r.code) -- not matched: the library decides
      r = run({ "--host", srv.url, "list" }, { env = { DATABRICKS_CONFIG_FILE = cfg,
        DATABRICKS_TOKEN = "dapi-env" } })
      assert.not_equals(0, r.code)

      util.write_file(tmp .. "/two", "[a]\nhost = " .. srv.url .. "\ntoken = x\n[b]\nhost = "
        .. srv.url .. "\ntoken = y\n")
      r = run({ "--host", srv.url, "list" }, { env = { DATABRICKS_CONFIG_FILE = tmp .. "/two" } })
      assert.equals(2, r.code)
      assert.matches("several profiles of .* have host .*: a, b; name one with %-%-profile", r.stderr)
      assert.is_nil(r.stderr:find("token", 1, true))
    end)

    it("--debug writes the library's debug lines, redacted, to stderr", function()
      local r = ok({ "list", "--debug" })
      assert.matches("databricks%.webhooks: ", r.stderr)
      assert.matches("GET ", r.stderr)
      assert.is_nil(r.stderr:find(srv.token, 1, true))
      assert.equals("", ok({ "list" }).stderr)
    end)
  end)
end)
