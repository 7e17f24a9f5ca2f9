-- The command-line tool, driven as a user drives it: bin/databricks-webhooks
-- runs as a subprocess (always under lua5.4, through its shebang) against the
-- local workspace, with a clean environment. stdout, stderr and the exit
-- status are captured through files, which works the same on every Lua that
-- runs this spec (os.execute's results differ between 5.1/LuaJIT and 5.2+).
local workspace = require("spec.support.workspace")
local cjson = require("cjson")
local socket = require("socket")

local API = "/api/2.0/mlflow/registry-webhooks/"

local util = require("spec.support.util")
local q = util.q
local read_file = util.read_file
local write_file = util.write_file

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

-- Splits a tsv line, keeping empty fields.
local function fields(line)
  local out = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do out[#out + 1] = f end
  return out
end

local ROOT = shell("pwd")
local TOOL = ROOT .. "/bin/databricks-webhooks"

describe("databricks-webhooks (command line)", function()
  local srv, tmp, sink

  -- Runs the tool. opts: stdin (string), env (extra variables; false values
  -- unset the defaults), cwd. Returns { code, stdout, stderr }.
  local function run(args, opts)
    opts = opts or {}
    local vars = {
      PATH = os.getenv("PATH") or "/usr/bin:/bin",
      HOME = tmp .. "/home",
      DATABRICKS_HOST = srv.url,
      DATABRICKS_TOKEN = srv.token,
    }
    for k, v in pairs(opts.env or {}) do vars[k] = v or nil end
    local env = {}
    for k, v in pairs(vars) do env[#env + 1] = k .. "=" .. q(v) end
    local argv = {}
    for i, a in ipairs(args) do argv[i] = q(a) end
    write_file(tmp .. "/stdin", opts.stdin or "")
    local cmd = string.format("cd %s && env -i %s %s %s <%s >%s 2>%s; echo $? >%s",
      q(opts.cwd or ROOT), table.concat(env, " "), q(TOOL), table.concat(argv, " "),
      q(tmp .. "/stdin"), q(tmp .. "/stdout"), q(tmp .. "/stderr"), q(tmp .. "/rc"))
    os.execute(cmd)
    return {
      code = tonumber(read_file(tmp .. "/rc")),
      stdout = read_file(tmp .. "/stdout") or "",
      stderr = read_file(tmp .. "/stderr") or "",
    }
  end

  -- Runs the tool and insists on exit status 0 and an empty stderr.
  local function ok(args, opts)
    local r = run(args, opts)
    assert.equals(0, r.code, "stderr: " .. r.stderr)
    assert.equals("", r.stderr)
    return r
  end

  local function create(model, extra)
    local args = { "create", "--event", "MODEL_VERSION_CREATED", "--url", sink }
    if model then args[#args + 1] = "--model"; args[#args + 1] = model end
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    return fields(lines(ok(args).stdout)[1])[1]
  end

  local function api_requests()
    local out = {}
    for _, r in ipairs(srv:requests()) do
      if r.path:sub(1, #API) == API then out[#out + 1] = r end
    end
    return out
  end

  setup(function()
    srv = workspace.start()
    tmp = shell("mktemp -d \"${TMPDIR:-/tmp}/cli-spec.XXXXXX\"")
    assert(os.execute("mkdir -p " .. q(tmp .. "/home")))
    sink = srv.url .. "/__control/sink"
  end)

  teardown(function()
    if srv then srv:stop() end
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  before_each(function()
    srv:reset()
  end)

  describe("help and events", function()
    it("prints help for the tool and for each command on stdout, exit 0", function()
      for _, args in ipairs({ { "--help" }, { "-h" }, { "help" } }) do
        local r = ok(args)
        assert.matches("^Usage: databricks%-webhooks COMMAND", r.stdout)
        assert.matches("Exit status", r.stdout)
      end
      for _, cmd in ipairs({ "create", "list", "update", "delete", "test", "events" }) do
        local r = ok({ cmd, "--help" })
        assert.matches("^Usage: databricks%-webhooks " .. cmd, r.stdout)
        assert.same(r.stdout, ok({ "help", cmd }).stdout)
      end
    end)

    it("lists the event names, as lines or as JSON, without credentials", function()
      local env = { DATABRICKS_HOST = false, DATABRICKS_TOKEN = false }
      local names = lines(ok({ "events" }, { env = env }).stdout)
      assert.equals(12, #names)
      assert.equals("MODEL_VERSION_CREATED", names[1])
      assert.same(names, cjson.decode(ok({ "events", "-o", "json" }, { env = env }).stdout))
    end)

    it("runs from another directory, finding the checkout next to itself", function()
      assert.equals(12, #lines(ok({ "events" }, { cwd = tmp }).stdout))
      assert.matches("^databricks%-webhooks %d+%.%d+%.%d+ %(Lua 5%.4%)\n$", ok({ "--version" }, { cwd = tmp }).stdout)
    end)
  end)

  describe("create", function()
    it("reads the secret from stdin, sends it exactly, never prints it", function()
      local secret = "s3cr3t-from-stdin"
      local r = ok({ "create", "--model", "m", "--event", "MODEL_VERSION_CREATED,COMMENT_CREATED",
        "--url", sink, "--secret-file", "-", "--description", "tab\there" }, { stdin = secret .. "\n" })
      local out = lines(r.stdout)
      assert.equals(1, #out)
      local f = fields(out[1])
      assert.matches("^%x+$", f[1])
      assert.same({ "m", "ACTIVE", "MODEL_VERSION_CREATED,COMMENT_CREATED", sink, "tab\\there" },
        { f[2], f[3], f[4], f[5], f[6] })
      local stored = srv:webhooks()
      assert.equals(1, #stored)
      assert.equals(secret, stored[1].http_url_spec.secret)
      local listed = ok({ "list", "--output", "json" }).stdout
      assert.is_nil(listed:find(secret, 1, true))
      assert.is_nil(cjson.decode(listed).webhooks[1].http_url_spec.secret)
    end)

    it("prints the webhook as JSON, without the secret given on the command line", function()
      local r = ok({ "create", "--event", "REGISTERED_MODEL_CREATED", "--url", sink,
        "--secret", "argv-secret", "--status", "TEST_MODE", "-o", "json" })
      local wh = cjson.decode(r.stdout)
      assert.equals("TEST_MODE", wh.status)
      assert.same({ "REGISTERED_MODEL_CREATED" }, wh.events)
      assert.equals(sink, wh.http_url_spec.url)
      assert.is_nil(r.stdout:find("argv-secret", 1, true))
      assert.equals("argv-secret", srv:webhooks()[1].http_url_spec.secret)
    end)

    it("creates a job webhook with the token from a file, as a table with a header", function()
      write_file(tmp .. "/token", "job-token-value\n")
      local r = ok({ "create", "--event", "MODEL_VERSION_CREATED", "--model", "m", "--job-id", "42",
        "--access-token-file", tmp .. "/token", "--format", "table" })
      local out = lines(r.stdout)
      assert.equals(2, #out)
      assert.matches("^ID%s+MODEL%s+STATUS%s+EVENTS%s+TARGET%s+DESCRIPTION$", out[1])
      assert.matches("%s+m%s+ACTIVE%s+MODEL_VERSION_CREATED%s+job:42%s+%-$", out[2])
      assert.equals("job-token-value", srv:webhooks()[1].job_spec.access_token)
      assert.is_nil(r.stdout:find("job-token-value", 1, true))
    end)
  end)

  describe("list", function()
    it("prints one page or, with --all, every page; tsv unless asked otherwise", function()
      local ids = { create("a"), create("a"), create("b") }
      local all = lines(ok({ "list" }).stdout)
      assert.equals(3, #all)
      for i, line in ipairs(all) do assert.equals(ids[i], fields(line)[1]) end

      local r = run({ "list", "--max-results", "2" })
      assert.equals(0, r.code)
      assert.equals(2, #lines(r.stdout))
      local token = r.stderr:match("%-%-page%-token (%S+),")
      assert.is_string(token)
      local rest = lines(ok({ "list", "--max-results", "2", "--page-token", token }).stdout)
      assert.same({ ids[3] }, { fields(rest[1])[1] })

      assert.equals(3, #lines(ok({ "list", "--all", "--max-results", "2" }).stdout))
      assert.equals(2, #lines(ok({ "list", "--model", "a" }).stdout))
      assert.equals("", ok({ "list", "--model", "nothing" }).stdout)

      local page = cjson.decode(ok({ "list", "--max-results", "2", "--output=json" }).stdout)
      assert.equals(2, #page.webhooks)
      assert.is_string(page.next_page_token)
      page = cjson.decode(ok({ "list", "--all", "--max-results", "1", "-ojson" }).stdout)
      assert.equals(3, #page.webhooks)
      assert.is_nil(page.next_page_token)
      assert.same({ webhooks = {} }, cjson.decode(ok({ "list", "--model", "x", "-o", "json" }).stdout))
    end)

    it("-o json is the same bytes on every run (keys in a fixed order, not Lua's hash order)", function()
      for i = 1, 4 do
        create("stable-" .. i, { "--description", "d" .. i, "--secret", "s" .. i, "--status", "TEST_MODE",
          "--event", "COMMENT_CREATED" })
      end
      local first = ok({ "list", "-o", "json" }).stdout
      assert.equals(4, #cjson.decode(first).webhooks)
      for _ = 2, 3 do assert.equals(first, ok({ "list", "-o", "json" }).stdout) end
      -- the order is the plan file's: id first, then the fields a webhook is made of
      assert.matches('^{"webhooks":%[{"id":"%x+","model_name":"stable%-1","events":%[', first)
      local one = ok({ "list", "--model", "stable-2", "--all", "-o", "json" }).stdout
      for _ = 2, 3 do assert.equals(one, ok({ "list", "--model", "stable-2", "--all", "-o", "json" }).stdout) end
    end)

    it("--json with no value is the deprecated output flag: same JSON, a warning on stderr", function()
      create("dep")
      local r = run({ "list", "--json" })
      assert.equals(0, r.code, r.stderr)
      assert.equals(ok({ "list", "-o", "json" }).stdout, r.stdout)
      assert.matches("^warning: %-%-json as the output flag is deprecated[^\n]*use %-o json[^\n]*\n$", r.stderr)
    end)

    it("filters by event", function()
      create("a")
      local id = create("a", { "--event", "COMMENT_CREATED" })
      local out = lines(ok({ "list", "--event", "COMMENT_CREATED" }).stdout)
      assert.same({ id }, { fields(out[1])[1] })
      assert.equals(1, #out)
    end)
  end)

  describe("update and test", function()
    it("updates one webhook and prints it; test reports the receiver's answer", function()
      local id = create("m")
      local out = lines(ok({ "update", "--id", id, "--status", "TEST_MODE", "--description", "d" }).stdout)
      assert.equals(1, #out)
      local f = fields(out[1])
      assert.same({ id, "m", "TEST_MODE", "d" }, { f[1], f[2], f[3], f[6] })

      local res = cjson.decode(ok({ "test", "--id", id, "-o", "json" }).stdout)
      assert.equals(200, res.status_code)
      assert.is_string(res.body)
      assert.equals(1, #srv:sink())
      local plain = fields(lines(ok({ "test", "--id", id, "--event", "MODEL_VERSION_CREATED" }).stdout)[1])
      assert.equals("200", plain[1])
    end)
  end)

  describe("errors", function()
    it("an API error: exit 1, the error code on stderr, nothing on stdout", function()
      local r = run({ "update", "--id", "0123", "--status", "DISABLED" })
      assert.equals(1, r.code)
      assert.equals("", r.stdout)
      assert.matches("^error: RESOURCE_DOES_NOT_EXIST %(HTTP 404%): ", r.stderr)

      r = run({ "list" }, { env = { DATABRICKS_TOKEN = "dapi-wrong" } })
      assert.equals(1, r.code)
      assert.matches("^error: %u[%u_]+ %(HTTP 40[13]%)", r.stderr)
    end)

    it("usage errors exit 2 with a message on stderr, and send nothing", function()
      local bad = {
        {},
        { "bogus" },
        { "list", "--bogus" },
        { "list", "-x" },
        { "list", "extra" },
        { "list", "--model" },
        { "list", "--model", "--all" },
        { "list", "--url", sink },
        { "list", "--all=yes" },
        { "list", "--max-results", "0" },
        { "list", "--max-results", "ten" },
        { "list", "--format", "xml" },
        { "list", "-o", "json", "--format", "tsv" },
        { "list", "-o", "yaml" },
        { "list", "--output" },
        { "list", "--json", "{}" },
        { "delete", "--json", "x" },
        { "test-registry-webhook", "--json", "not-json" },
        { "create-webhook", "--json", "@" .. tmp .. "/missing.json", "-o", "json" },
        { "list", "--event", "NOT_AN_EVENT" },
        { "list", "--model", "a", "--model", "b" },
        { "create", "--url", sink },
        { "create", "--event", "NOPE", "--url", sink },
        { "create", "--event", "MODEL_VERSION_CREATED" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--url", sink, "--status", "ON" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--url", sink, "--secret", "a", "--secret-file", "-" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--url", sink, "--secret-file", tmp .. "/missing" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--url", sink, "--job-id", "1" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--job-id", "1" },
        { "create", "--event", "MODEL_VERSION_CREATED", "--secret", "a" },
        { "update", "--id", "x" },
        { "update", "--status", "DISABLED" },
        { "update", "--model", "m", "--all", "--event", "COMMENT_CREATED" },
        { "update", "--id", "x", "--all", "--model", "m", "--status", "DISABLED" },
        { "delete" },
        { "delete", "--all" },
        { "delete", "--model", "m", "--all", "--parallel", "0" },
        { "delete", "--model", "m", "--all", "--parallel", "65" },
        { "delete", "--id", "x", "--event", "COMMENT_CREATED" },
        { "test" },
        { "test", "--id", "a", "--id", "b" },
        { "events", "--model", "m" },
      }
      for _, args in ipairs(bad) do
        local r = run(args, { stdin = "secret" })
        local what = table.concat(args, " ") .. " -> " .. r.stderr
        assert.equals(2, r.code, what)
        assert.equals("", r.stdout, what)
        assert.truthy(r.stderr:find("^error: "), what)
      end
      assert.same({}, api_requests())
    end)

    it("a request the client refuses before sending is a usage error", function()
      local r = run({ "create", "--model", "m", "--event", "REGISTERED_MODEL_CREATED", "--url", sink })
      assert.equals(2, r.code)
      assert.matches("^error: INVALID_PARAMETER_VALUE: ", r.stderr)
      assert.same({}, api_requests())
    end)

    it("configuration errors (no credentials, unknown profile) exit 2; a profile works", function()
      local cfg = tmp .. "/databrickscfg"
      write_file(cfg, "[DEFAULT]\nhost = " .. srv.url .. "\ntoken = " .. srv.token
        .. "\n\n[other]\nhost = " .. srv.url .. "\ntoken = dapi-other\n")
      local r = run({ "list", "--profile", "nope" },
        { env = { DATABRICKS_CONFIG_FILE = cfg, DATABRICKS_HOST = false, DATABRICKS_TOKEN = false } })
      assert.equals(2, r.code)
      assert.equals("", r.stdout)
      assert.matches("^error: .*nope", r.stderr)
      assert.is_nil(r.stderr:find("dapi-other", 1, true))

      r = run({ "list" }, { env = { DATABRICKS_HOST = false, DATABRICKS_TOKEN = false } })
      assert.equals(2, r.code)
      assert.matches("^error: ", r.stderr)

      create("m")
      local env = { DATABRICKS_CONFIG_FILE = cfg, DATABRICKS_HOST = false, DATABRICKS_TOKEN = false }
      assert.equals(1, #lines(ok({ "list" }, { env = env }).stdout))
      assert.equals(1, run({ "list", "--profile", "other" }, { env = env }).code) -- dapi-other is refused
      assert.equals(1, #lines(ok({ "list", "--host", srv.url }, { env = { DATABRICKS_HOST = false } }).stdout))
    end)

    it("network errors and timeouts exit 3", function()
      local s = assert(socket.bind("127.0.0.1", 0))
      local _, port = s:getsockname()
      s:close()
      local r = run({ "list", "--retry-timeout", "0", "--host", "http://127.0.0.1:" .. port })
      assert.equals(3, r.code)
      assert.equals("", r.stdout)
      assert.matches("^error: CONNECTION_ERROR", r.stderr)
      assert.matches(" %(1 attempt in %d+%.%d%d s; %-%-retry%-timeout 0: no retries%)\n$", r.stderr)

      srv:faults({ { kind = "slow", path = "list", delay_ms = 1000 } })
      r = run({ "list", "--timeout", "0.2" })
      assert.equals(3, r.code)
      assert.matches("^error: TIMEOUT", r.stderr)
    end)
  end)

  describe("a hostile server", function()
    local stub = require("spec.support.stub")
    local ESC = "\27"
    local s
    after_each(function() if s then s:stop() end s = nil end)

    it("cannot reach the terminal with control characters", function()
      s = stub.start([[return function(req, n)
        if req.target:find("/list", 1, true) then
          return response(200, '{"webhooks":[{"id":"a\\u001b[31m","status":"ACTIVE",'
            .. '"description":"d\\u001b]0;title\\u0007\\u009b2J","http_url_spec":{"url":"https://x/\\u001b[1m"}}],'
            .. (req.target:find("page_token", 1, true) and '"x":1}' or '"next_page_token":"t\\u001b[2J"}'))
        end
        return response(404, '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone\\u001b[31m"}')
      end]])
      for _, format in ipairs({ "tsv", "table" }) do
        local r = run({ "list", "--host", s.url, "--format", format })
        assert.equals(0, r.code, r.stderr)
        assert.is_nil(r.stdout:find(ESC, 1, true), r.stdout)
        assert.is_nil(r.stderr:find(ESC, 1, true), r.stderr)
        assert.is_nil(r.stdout:find("\194\155", 1, true))
        assert.truthy(r.stdout:find("a\\x1b[31m", 1, true), r.stdout)
        assert.truthy(r.stderr:find("t\\x1b[2J", 1, true), r.stderr)
      end
      local r = run({ "delete", "--host", s.url, "--model", "m", "--all", "--yes" })
      assert.equals(1, r.code)
      assert.equals("error: a\\x1b[31m: RESOURCE_DOES_NOT_EXIST (HTTP 404): gone [31m\n", r.stderr)
      assert.is_nil(r.stdout:find(ESC, 1, true))
      r = run({ "delete", "--host", s.url, "--id", "x" })
      assert.equals("error: x: RESOURCE_DOES_NOT_EXIST (HTTP 404): gone [31m\n",
        r.stderr)
    end)

    it("list --all ends on a page token seen before, and after --max-pages pages", function()
      -- A, B, A, B ... (a fresh token from page 60 on: a client that never
      -- stops ends there, and fails the spec instead of hanging)
      s = stub.start([[return function(req, n)
        local token = n >= 60 and ("t" .. n) or (n % 2 == 1 and "A" or "B")
        if n >= 70 then token = nil end
        return response(200, '{"webhooks":[{"id":"w' .. n .. '"}]'
          .. (token and (',"next_page_token":"' .. token .. '"') or "") .. '}')
      end]])
      local r = run({ "list", "--host", s.url, "--all" })
      assert.equals(1, r.code, r.stderr)
      assert.equals("", r.stdout)
      assert.matches("BAD_RESPONSE: list: page 3 repeated the page token of page 1; a cycle of 2 pages", r.stderr)
      assert.equals(3, #s:requests())
      s:stop()
      s = stub.start([[return function(req, n)
        return response(200, '{"webhooks":[{"id":"w' .. n .. '"}],"next_page_token":"t' .. n .. '"}')
      end]])
      r = run({ "list", "--host", s.url, "--all", "--max-pages", "4" })
      assert.equals(1, r.code, r.stderr)
      assert.matches("more than 4 pages", r.stderr)
      assert.equals(4, #s:requests())
      r = run({ "list", "--host", s.url, "--max-pages", "4" })
      assert.equals(2, r.code)
      assert.matches("%-%-max%-pages needs %-%-all", r.stderr)
      assert.equals(2, run({ "list", "--host", s.url, "--all", "--max-pages", "0" }).code)
    end)

    it("gets one stderr line per retry, and the default budget is 30 s", function()
      s = stub.start([[return function(req, n)
        return response(503, '{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}')
      end]])
      local r = run({ "list", "--host", s.url, "--retry-timeout", "1" })
      assert.equals(1, r.code)
      local err = lines(r.stderr)
      local requests = #s:requests()
      assert.truthy(requests >= 2, requests)
      assert.equals(requests, #err) -- one line per retry, then the error
      assert.matches("^databricks%-webhooks: GET " .. API:gsub("%-", "%%-") .. "list answered HTTP 503; attempt 2 of"
        .. " at most 10 in %d+%.%d+ s %(%d+%.%d%d s elapsed, retry_timeout 1 s%)$", err[1])
      assert.matches("^error: TEMPORARILY_UNAVAILABLE", err[#err])
      assert.matches(" %(" .. requests .. " attempts in %d+%.%d%d s; the next retry would start past "
        .. "%-%-retry%-timeout 1 s%)$", err[#err])

      -- A refused connection: each retry on stderr, and the last line says how hard it was tried.
      local dead = assert(socket.bind("127.0.0.1", 0))
      local _, dead_port = dead:getsockname()
      dead:close()
      r = run({ "list", "--host", "http://127.0.0.1:" .. dead_port, "--retry-timeout", "1" })
      assert.equals(3, r.code)
      err = lines(r.stderr)
      assert.truthy(#err >= 2, r.stderr)
      for i = 1, #err - 1 do
        assert.matches("^databricks%-webhooks: GET .*list failed %(.*%); attempt " .. (i + 1) .. " of at most 10 in "
          .. "%d+%.%d+ s %(%d+%.%d%d s elapsed, retry_timeout 1 s%)$", err[i])
      end
      assert.matches("^error: CONNECTION_ERROR: .* %(" .. #err .. " attempts in %d+%.%d%d s; the next retry would "
        .. "start past %-%-retry%-timeout 1 s%)$", err[#err])

      -- A refused connection, no --retry-timeout: retried for 30 s, not 300.
      local sock = assert(socket.bind("127.0.0.1", 0))
      local _, port = sock:getsockname()
      sock:close()
      local t0 = socket.gettime()
      r = run({ "list", "--host", "http://127.0.0.1:" .. port })
      local took = socket.gettime() - t0
      assert.equals(3, r.code)
      assert.truthy(took < 40, took)
      err = lines(r.stderr)
      assert.truthy(#err >= 3, r.stderr)
      assert.matches("^databricks%-webhooks: GET .*list failed %(.*%); attempt 2 of at most 10 in", err[1])
      assert.matches("^error: CONNECTION_ERROR", err[#err])
      assert.matches(" %(" .. #err .. " attempts in %d+%.%d%d s[;,] .*%-%-retry%-timeout 30 s%)$", err[#err])
    end)
  end)

  describe("bulk", function()
    it("delete --all: a failure does not stop the others; failures reported, exit 1", function()
      local ids = {}
      for i = 1, 5 do ids[i] = create("bulk") end
      local keep = create("other")
      srv:faults({ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "x",
        path = "delete", count = 2 } })
      -- without a terminal to ask on, --all needs --yes (nothing is sent)
      local refused = run({ "delete", "--model", "bulk", "--all", "--parallel", "3" })
      assert.same({ 2, "" }, { refused.code, refused.stdout })
      assert.matches("give %-%-yes", refused.stderr)
      local r = run({ "delete", "--model", "bulk", "--all", "--parallel", "3", "--yes" })
      assert.equals(1, r.code)
      local out = lines(r.stdout)
      assert.equals(5, #out)
      local failed, deleted = {}, {}
      for i, line in ipairs(out) do
        local f = fields(line)
        assert.equals(ids[i], f[1]) -- input order
        if f[2] == "ok" then
          deleted[#deleted + 1] = f[1]
        else
          assert.equals("error", f[2])
          assert.equals("INTERNAL_ERROR (HTTP 500): x", f[3])
          failed[#failed + 1] = f[1]
          assert.matches("error: " .. f[1] .. ": INTERNAL_ERROR %(HTTP 500%): x", r.stderr)
        end
      end
      assert.equals(2, #failed)
      assert.equals(3, #deleted)
      assert.equals(2, #lines(r.stderr))

      local left = {}
      for _, line in ipairs(lines(ok({ "list" }).stdout)) do left[#left + 1] = fields(line)[1] end
      table.sort(left)
      local expected = { failed[1], failed[2], keep }
      table.sort(expected)
      assert.same(expected, left)

      local again = cjson.decode(ok({ "delete", "--model", "bulk", "--all", "-o", "json", "--yes" }).stdout)
      assert.same({ { id = failed[1], ok = true }, { id = failed[2], ok = true } }, again)
      -- nothing left: said on stderr, with its own exit status (issue 16)
      local none = run({ "delete", "--model", "bulk", "--all", "--yes" })
      assert.same({ 5, "" }, { none.code, none.stdout })
      assert.matches("^error: no webhook matched: model 'bulk'", none.stderr)
    end)

    it("update --all changes every webhook of the model; --json is an array", function()
      local a, b = create("u"), create("u")
      create("v")
      local res = cjson.decode(ok({ "update", "--model", "u", "--all", "--status", "DISABLED", "-o", "json" }).stdout)
      assert.equals(2, #res)
      assert.same({ a, b }, { res[1].id, res[2].id })
      for _, item in ipairs(res) do
        assert.is_true(item.ok)
        assert.equals("DISABLED", item.webhook.status)
      end
      local statuses = {}
      for _, line in ipairs(lines(ok({ "list" }).stdout)) do
        local f = fields(line)
        statuses[f[2]] = (statuses[f[2]] or "") .. f[3] .. ";"
      end
      assert.same({ u = "DISABLED;DISABLED;", v = "ACTIVE;" }, statuses)
    end)

    it("one --id that fails: the error on stderr only", function()
      local r = run({ "delete", "--id", "0123" })
      assert.equals(1, r.code)
      assert.equals("", r.stdout)
      assert.same({ "error: 0123: RESOURCE_DOES_NOT_EXIST (HTTP 404): Registry webhook with ID '0123'"
        .. " does not exist." }, lines(r.stderr))
    end)

    it("several --id: one line each; a missing one is an API error", function()
      local a = create("m")
      local r = run({ "delete", "--id", a, "--id", "0123" })
      assert.equals(1, r.code)
      local out = lines(r.stdout)
      assert.same({ a, "ok" }, fields(out[1])) -- no stray tab at the end (issue 16)
      assert.same({ "0123", "error" }, { fields(out[2])[1], fields(out[2])[2] })
      assert.matches("^error: 0123: RESOURCE_DOES_NOT_EXIST %(HTTP 404%)", r.stderr)
    end)

    it("on a terminal, delete --all asks first and shows its progress on stderr", function()
      for _ = 1, 6 do create("tty") end
      local function on_terminal(answer, args)
        local cmd = string.format("cd %s && printf %s | env -i PATH=%s HOME=%s DATABRICKS_HOST=%s "
          .. "DATABRICKS_TOKEN=%s script -qec %s /dev/null >%s 2>&1; echo $? >%s",
          q(ROOT), q(answer .. "\n"), q(os.getenv("PATH")), q(tmp .. "/home"), q(srv.url), q(srv.token),
          q(q(TOOL) .. " " .. args), q(tmp .. "/stdout"), q(tmp .. "/rc"))
        os.execute(cmd)
        return tonumber(read_file(tmp .. "/rc")), read_file(tmp .. "/stdout")
      end
      local code, out = on_terminal("no", "delete --model tty --all --parallel 2")
      assert.equals(2, code, out)
      assert.matches("Delete 6 webhooks of model 'tty'%? %[y/N%]:", out)
      assert.matches("delete cancelled; nothing was deleted", out)
      assert.equals(6, #srv:webhooks())
      code, out = on_terminal("y", "delete --model tty --all --parallel 2")
      assert.equals(0, code, out)
      assert.matches("databricks%-webhooks: deleting webhooks: 4 of 6 done", out)
      assert.matches("databricks%-webhooks: deleting webhooks: 6 of 6 done", out)
      assert.equals(0, #srv:webhooks())
    end)

    it("a network failure of one exits 3", function()
      local ids = { create("n"), create("n") }
      srv:faults({ { kind = "slow", path = "delete", delay_ms = 1000, count = 1 } })
      local r = run({ "delete", "--model", "n", "--all", "-o", "json", "--timeout", "0.3", "--yes" })
      assert.equals(3, r.code)
      local res = cjson.decode(r.stdout)
      assert.equals(2, #res)
      assert.same(ids, { res[1].id, res[2].id })
      local codes = {}
      for _, item in ipairs(res) do codes[#codes + 1] = item.ok and "ok" or item.error.error_code end
      table.sort(codes)
      assert.same({ "TIMEOUT", "ok" }, codes)
    end)
  end)

  describe("webhooks as code", function()
    local file

    local function desired(doc)
      file = tmp .. "/desired.json"
      write_file(file, type(doc) == "string" and doc or cjson.encode(doc))
      return file
    end

    local function hook(model, name, extra)
      local spec = { model_name = model, events = { "MODEL_VERSION_CREATED" },
        http_url_spec = { url = sink .. "/" .. name, secret = { env = "HOOK_SECRET" } } }
      for k, v in pairs(extra or {}) do spec[k] = v end
      return spec
    end

    local ENV = { env = { HOOK_SECRET = "s3cr3t-from-env" } }

    it("plan shows creates and exits 4; apply makes them; plan again exits 0", function()
      desired({ webhooks = { hook("m", "a", { description = "fraud alerts" }), hook(nil, "b",
        { events = { "REGISTERED_MODEL_CREATED" } }) } })
      local r = run({ "plan", "-f", file })
      assert.equals(4, r.code, r.stderr)
      assert.equals("", r.stderr)
      local out = lines(r.stdout)
      assert.equals("+ create  model m, url " .. sink .. "/a", out[1])
      assert.equals("    events: [MODEL_VERSION_CREATED]", out[2])
      assert.equals('    description: "fraud alerts"', out[4])
      assert.equals("    secret: sent (write-only)", out[5])
      assert.equals("+ create  registry-wide, url " .. sink .. "/b", out[6])
      assert.equals("Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged.", out[#out])
      local doc = cjson.decode(run({ "plan", "-f", file, "-o", "json" }).stdout)
      assert.is_true(doc.changes)
      assert.equals(2, doc.counts.create)
      for _, req in ipairs(api_requests()) do assert.equals("GET", req.method) end -- plan only lists
      srv:reset()

      r = ok({ "apply", "--file", file, "--yes" }, ENV)
      out = lines(r.stdout)
      assert.equals("Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged.", out[#out - 2])
      local row = fields(out[#out - 1])
      assert.same({ "create", srv:webhooks()[1].id, "model m, url " .. sink .. "/a", "ok" }, row)
      assert.equals("s3cr3t-from-env", srv:webhooks()[1].http_url_spec.secret)
      assert.is_nil((r.stdout .. r.stderr):find("s3cr3t", 1, true))

      r = ok({ "plan", "-f", file })
      assert.equals("Secrets of 2 unchanged webhooks not compared (write-only; --rotate-secrets sends them).\n"
        .. "No changes: 2 webhooks as desired.\n", r.stdout)
    end)

    it("export writes a file that plans no changes, secrets as references", function()
      create("m", { "--description", "d", "--secret", "s" })
      create("n")
      local r = run({ "export", "--model", "m" })
      assert.equals(0, r.code)
      assert.matches("secrets are write%-only", r.stderr)
      local doc = cjson.decode(r.stdout)
      assert.same({ version = 1, model_names = { "m" }, webhooks = { { model_name = "m", status = "ACTIVE",
        events = { "MODEL_VERSION_CREATED" }, description = "d",
        http_url_spec = { url = sink, secret = { env = "WEBHOOK_1_SECRET" } } } } }, doc)
      desired(r.stdout)
      assert.equals("No changes: 1 webhook as desired.", lines(ok({ "plan", "-f", file, "--prune" }).stdout)[2])
      desired(run({ "export" }).stdout)
      assert.equals(2, #cjson.decode(read_file(file)).webhooks)
      assert.equals(0, run({ "plan", "-f", file, "--prune" }).code)
    end)

    it("shows updates with old -> new values and deletes only with --prune", function()
      local id = fields(lines(ok({ "create", "--model", "m", "--event", "MODEL_VERSION_CREATED", "--url", sink .. "/a",
        "--description", "old" }).stdout)[1])[1]
      local gone = fields(lines(ok({ "create", "--model", "m", "--event", "COMMENT_CREATED", "--url", sink .. "/x" })
        .stdout)[1])[1]
      desired({ model_names = { "m" }, webhooks = { hook("m", "a", { description = "new", status = "DISABLED",
        events = { "MODEL_VERSION_CREATED", "COMMENT_CREATED" } }) } })
      local r = run({ "plan", "-f", file })
      assert.equals(4, r.code)
      local out = lines(r.stdout)
      assert.equals("~ update  model m, url " .. sink .. "/a (id " .. id .. ")", out[1])
      assert.equals("    events: [MODEL_VERSION_CREATED] -> [MODEL_VERSION_CREATED, COMMENT_CREATED]", out[2])
      assert.equals("    status: ACTIVE -> DISABLED", out[3])
      assert.equals('    description: "old" -> "new"', out[4])
      assert.equals("    secret: not compared (write-only)", out[5])
      assert.equals("Kept, not in the desired state (--prune deletes them):", out[6])
      r = run({ "plan", "-f", file, "--prune" })
      assert.equals("- delete  model m, url " .. sink .. "/x (id " .. gone .. ")", lines(r.stdout)[6])
      r = ok({ "apply", "-f", file, "--prune", "--yes", "-o", "json" })
      local res = cjson.decode(r.stdout)
      assert.same({ "update", "delete" }, { res[1].action, res[2].action })
      assert.is_true(res[1].ok and res[2].ok)
      assert.equals(1, #srv:webhooks())
      assert.equals("DISABLED", srv:webhooks()[1].status)
      assert.equals(0, run({ "plan", "-f", file, "--prune" }).code)
    end)

    it("refuses literal secrets, duplicates and unresolved references before sending anything", function()
      local doc = { webhooks = { hook("m", "a") } }
      doc.webhooks[1].http_url_spec.secret = "TOPSECRET-literal"
      desired(doc)
      local r = run({ "plan", "-f", file })
      assert.equals(2, r.code)
      assert.matches("webhooks%[1%]%.http_url_spec%.secret: a secret is never written in the file", r.stderr)
      assert.is_nil(r.stderr:find("TOPSECRET", 1, true))

      desired({ webhooks = { hook("m", "a"), hook("m", "b"), hook("m", "a", { status = "DISABLED" }) } })
      r = run({ "plan", "-f", file })
      assert.equals(2, r.code)
      assert.matches(": webhooks%[1%] and webhooks%[3%] %(line %d+%) have the same identity", r.stderr)
      assert.truthy(r.stderr:find(file .. ":", 1, true), r.stderr)
      assert.same({}, srv:requests())

      desired({ webhooks = { hook("m", "a") } })
      r = run({ "apply", "-f", file, "--yes" })
      assert.equals(2, r.code)
      assert.matches("environment variable HOOK_SECRET is not set", r.stderr)
      assert.equals(0, #srv:webhooks())
      for _, req in ipairs(srv:requests()) do assert.equals("GET", req.method) end

      r = run({ "plan", "-f", tmp .. "/nope.json" })
      assert.equals(2, r.code)
      desired("{not json")
      assert.equals(2, run({ "plan", "-f", file }).code)
      assert.equals(2, run({ "plan" }).code)
    end)

    it("apply refuses without a terminal unless --yes, and asks on one", function()
      desired({ webhooks = { hook("m", "a") } })
      local r = run({ "apply", "-f", file }, ENV)
      assert.equals(2, r.code)
      assert.matches("give %-%-yes", r.stderr)
      assert.same({}, srv:requests())

      -- on a terminal (script(1) gives the tool a pty): anything but "yes" cancels
      local function on_terminal(answer)
        local cmd = string.format("cd %s && printf %s | env -i PATH=%s HOME=%s DATABRICKS_HOST=%s "
          .. "DATABRICKS_TOKEN=%s HOOK_SECRET=x script -qec %s /dev/null >%s 2>&1; echo $? >%s",
          q(ROOT), q(answer .. "\n"), q(os.getenv("PATH")), q(tmp .. "/home"), q(srv.url), q(srv.token),
          q(q(TOOL) .. " apply -f " .. q(file)), q(tmp .. "/stdout"), q(tmp .. "/rc"))
        os.execute(cmd)
        return tonumber(read_file(tmp .. "/rc")), read_file(tmp .. "/stdout")
      end
      local code, out = on_terminal("no")
      assert.equals(2, code, out)
      assert.matches("Apply 1 change%? Only 'yes' is accepted:", out)
      assert.matches("apply cancelled", out)
      assert.equals(0, #srv:webhooks())
      code, out = on_terminal("yes")
      assert.equals(0, code, out)
      assert.equals(1, #srv:webhooks())
    end)

    it("apply keeps going on a failure, exits 1, and the next run finishes without duplicates", function()
      local doc = { webhooks = {} }
      for i = 1, 12 do doc.webhooks[i] = hook("m", "h" .. i) end
      desired(doc)
      srv:faults({ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "boom",
        path = "create", count = 1 } })
      local r = run({ "apply", "-f", file, "--yes", "--parallel", "4" }, ENV)
      assert.equals(1, r.code)
      assert.matches("apply: creating 12 webhooks%.%.%.\n", r.stderr)
      assert.matches("apply: created 11 of 12 webhooks %(1 failed%)\n", r.stderr)
      assert.matches("error: create model m, url .*: INTERNAL_ERROR", r.stderr)
      assert.equals(11, #srv:webhooks())
      r = run({ "plan", "-f", file })
      assert.equals(4, r.code)
      assert.equals("Plan: 1 to create, 0 to update, 0 to delete, 11 unchanged.", lines(r.stdout)[#lines(r.stdout)])
      ok({ "apply", "-f", file, "--yes" }, ENV)
      assert.equals(12, #srv:webhooks())
      assert.equals(0, run({ "plan", "-f", file }).code)
    end)

    it("reads {file} references inside the file's folder only, unless --allow-file-outside", function()
      write_file(tmp .. "/hook-secret", "s3cr3t-from-file\n")
      local function with_file(path)
        return desired({ webhooks = { hook("m", "a", { http_url_spec = { url = sink .. "/a",
          secret = { file = path } } }) } })
      end
      -- outside: refused by plan and by apply, before anything is sent
      for _, path in ipairs({ "/etc/hostname", tmp .. "/../" .. tmp:match("[^/]+$") .. "/../x",
        tmp .. "/home/../../x" }) do
        with_file(path)
        for _, verb in ipairs({ "plan", "apply" }) do
          local r = run({ verb, "-f", file, verb == "apply" and "--yes" or nil })
          assert.equals(2, r.code, verb .. " " .. path .. ": " .. r.stderr)
          assert.matches("file " .. path .. " is outside " .. tmp, r.stderr, 1, true)
          assert.matches("--allow-file-outside", r.stderr, 1, true)
        end
      end
      assert.same({}, srv:requests())
      local r = run({ "plan", "-f", file, "--allow-file-outside" })
      assert.equals(4, r.code, r.stderr)

      -- inside, absolute or relative to the current directory
      with_file(tmp .. "/hook-secret")
      r = run({ "apply", "-f", file, "--yes" })
      assert.equals(0, r.code, r.stderr)
      assert.equals("s3cr3t-from-file", srv:webhooks()[1].http_url_spec.secret)
      srv:reset()
      with_file("./hook-secret")
      r = run({ "apply", "-f", "desired.json", "--yes" }, { cwd = tmp })
      assert.equals(0, r.code, r.stderr)
      assert.equals("s3cr3t-from-file", srv:webhooks()[1].http_url_spec.secret)
      srv:reset()
      with_file("../hook-secret")
      r = run({ "apply", "-f", "desired.json", "--yes" }, { cwd = tmp })
      assert.equals(2, r.code, r.stderr)
      assert.matches("file ../hook-secret is outside the current directory", r.stderr, 1, true)
      r = run({ "apply", "-f", "desired.json", "--yes", "--allow-file-outside" }, { cwd = tmp .. "/home" })
      assert.equals(2, r.code, r.stderr) -- allowed, but there is no such file
      assert.matches("cannot read", r.stderr, 1, true)
    end)

    it("has help, and --model only repeats for export", function()
      for _, cmd in ipairs({ "export", "plan", "apply" }) do
        assert.matches("^Usage: databricks%-webhooks " .. cmd, ok({ cmd, "--help" }).stdout)
      end
      assert.matches("4 %(plan only%)", ok({ "--help" }).stdout)
      local r = run({ "list", "--model", "a", "--model", "b" })
      assert.equals(2, r.code)
      assert.matches("given twice", r.stderr)
      assert.equals(2, run({ "plan", "-f", "x", "--yes" }).code)
    end)
  end)
end)
