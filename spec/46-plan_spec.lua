-- Webhooks as code: client:plan() and client:apply() (databricks.webhooks.plan)
-- against the local workspace, over real HTTP.
local webhooks = require("databricks.webhooks")
local core = require("databricks.webhooks.core")
local plan_file = require("databricks.webhooks.plan_file")
local workspace = require("spec.support.workspace")
local util = require("spec.support.util")

local API = "/api/2.0/mlflow/registry-webhooks/"

describe("plan and apply", function()
  local srv, client, tmp

  setup(function()
    srv = workspace.start()
    client = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 0 })
    tmp = os.tmpname()
  end)
  teardown(function()
    client:close()
    srv:stop()
    os.remove(tmp)
  end)
  before_each(function() srv:reset() end)

  local function url(name) return srv.url .. "/__control/sink/" .. name end

  local function http(model, name, extra)
    local spec = { model_name = model, events = { "MODEL_VERSION_CREATED" }, http_url_spec = { url = url(name) } }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return spec
  end

  -- Stored webhooks (with secrets, through the control API) by URL or job id.
  local function stored()
    local out = {}
    for _, wh in ipairs(srv:webhooks()) do
      out[wh.http_url_spec and wh.http_url_spec.url or ("job:" .. wh.job_spec.job_id)] = wh
    end
    return out
  end

  local function api_requests(op)
    local n = 0
    for _, r in ipairs(srv:requests()) do
      if r.path == API .. op then n = n + 1 end
    end
    return n
  end

  local function converged(desired, opts)
    local p = assert(client:plan(desired, opts))
    assert.same({}, p.actions)
    return p
  end

  it("validates a spec as create does, without a client", function()
    assert.is_true(core.validate("create", http("m", "a")))
    local ok, err = core.validate("create", { events = { "NOPE" }, http_url_spec = { url = "https://x" } })
    assert.is_nil(ok)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("events", err.message)
    assert.has_error(function() core.validate("nope", {}) end)
  end)

  it("creates what is missing, then shows no changes", function()
    util.write_file(tmp, "file-secret\n")
    local desired = {
      http("m1", "a", { http_url_spec = { url = url("a"), secret = "literal-secret" }, description = "first" }),
      http("m1", "b", { http_url_spec = { url = url("b"), secret = { file = tmp } }, status = "TEST_MODE" }),
      { events = { "REGISTERED_MODEL_CREATED" }, job_spec = { job_id = "42", access_token = { env = "HOME" } } },
    }
    local files = { file_root = tmp:match("^(.*)/") } -- the folder of the referenced file
    local p = assert(client:plan(desired, files))
    assert.equals(3, #p.actions)
    assert.same({ create = 3, update = 0, delete = 0, unchanged = 0, unmanaged = 0 }, p.counts)
    for _, a in ipairs(p.actions) do assert.equals("create", a.action) end
    assert.equals("model m1, url " .. url("a"), p.actions[1].label)
    assert.same({ "secret: sent (write-only)" }, p.actions[1].notes)
    assert.equals("registry-wide, job 42", p.actions[3].label)

    local res = assert(client:apply(p))
    assert.equals(3, #res)
    for _, r in ipairs(res) do
      assert.is_nil(r.err)
      assert.equals("create", r.action)
      assert.equals(32, #r.id)
    end
    local s = stored()
    assert.equals("literal-secret", s[url("a")].http_url_spec.secret)
    assert.equals("file-secret", s[url("b")].http_url_spec.secret)
    assert.equals("TEST_MODE", s[url("b")].status)
    assert.equals(os.getenv("HOME"), s["job:42"].job_spec.access_token)

    local again = converged(desired, files)
    assert.equals(3, again.counts.unchanged)
    assert.same({ "secret: not compared (write-only)" }, again.unchanged[1].notes)
    assert.same({ "access_token: not compared (write-only)" }, again.unchanged[3].notes)
    assert.same({}, assert(client:apply(again)))
  end)

  it("updates each field, sending only what changed", function()
    local base = http("m1", "a", { events = { "MODEL_VERSION_CREATED", "COMMENT_CREATED" }, description = "old" })
    assert(client:apply(assert(client:plan({ base }))))
    local id = srv:webhooks()[1].id

    -- events compare as sets
    converged({ http("m1", "a", { events = { "COMMENT_CREATED", "MODEL_VERSION_CREATED", "COMMENT_CREATED" },
      description = "old" }) })

    local cases = {
      { { events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, description = "old" }, "events",
        { "MODEL_VERSION_CREATED", "COMMENT_CREATED" }, { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" } },
      { { events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, description = "old", status = "DISABLED" },
        "status", "ACTIVE", "DISABLED" },
      { { events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, description = "new", status = "DISABLED" },
        "description", "old", "new" },
      { { events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, status = "DISABLED" }, "description", "new", "" },
      { { events = { "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, status = "DISABLED",
        http_url_spec = { url = url("a"), enable_ssl_verification = false } },
        "http_url_spec.enable_ssl_verification", true, false },
    }
    for _, case in ipairs(cases) do
      local spec, field, old, new = http("m1", "a", case[1]), case[2], case[3], case[4]
      local p = assert(client:plan({ spec }))
      assert.equals(1, #p.actions)
      local a = p.actions[1]
      assert.equals("update", a.action)
      assert.equals(id, a.id)
      assert.equals(1, #a.changes, field)
      assert.equals(field, a.changes[1].field)
      assert.same(old, a.changes[1].old)
      assert.same(new, a.changes[1].new)
      local res = assert(client:apply(p))
      assert.is_nil(res[1].err)
      assert.equals(id, res[1].id)
      local reqs = srv:requests()
      local body = require("cjson").decode(reqs[#reqs].body)
      body.id = nil
      local sent = {}
      for k in pairs(body) do sent[#sent + 1] = k end
      assert.same({ (field:gsub("%..*", "")) }, sent)
      converged({ spec })
    end
    assert.equals(1, #srv:webhooks())
    assert.same({ "COMMENT_CREATED", "MODEL_VERSION_TAG_SET" }, srv:webhooks()[1].events)
  end)

  it("keeps the secret when the whole http_url_spec must be sent", function()
    local spec = http("m1", "a", { http_url_spec = { url = url("a"), secret = "s1" } })
    assert(client:apply(assert(client:plan({ spec }))))
    spec.http_url_spec.enable_ssl_verification = false
    local p = assert(client:plan({ spec }))
    assert.same({ "secret: sent again (http_url_spec is replaced whole)" }, p.actions[1].notes)
    assert(client:apply(p))
    local wh = srv:webhooks()[1]
    assert.equals("s1", wh.http_url_spec.secret)
    assert.is_false(wh.http_url_spec.enable_ssl_verification)
  end)

  it("sends secrets again only with rotate_secrets", function()
    local spec = http("m1", "a", { http_url_spec = { url = url("a"), secret = "s1" } })
    local job = { model_name = "m1", events = { "MODEL_VERSION_CREATED" },
      job_spec = { job_id = "7", workspace_url = "https://other.example.com/", access_token = "t1" } }
    assert(client:apply(assert(client:plan({ spec, job }))))
    spec.http_url_spec.secret, job.job_spec.access_token = "s2", "t2"
    converged({ spec, job })
    assert.equals("s1", stored()[url("a")].http_url_spec.secret)

    local p = assert(client:plan({ spec, job }, { rotate_secrets = true }))
    assert.equals(2, p.counts.update)
    assert.same({ field = "http_url_spec.secret", secret = true, note = "sent again (rotate_secrets)" },
      p.actions[1].changes[1])
    assert.equals("job_spec.access_token", p.actions[2].changes[1].field)
    assert(client:apply(p))
    local s = stored()
    assert.equals("s2", s[url("a")].http_url_spec.secret)
    assert.equals("t2", s["job:7"].job_spec.access_token)
    assert.equals("https://other.example.com/", s["job:7"].job_spec.workspace_url)
    assert.equals(2, #srv:webhooks())
  end)

  it("refuses an unresolved reference before anything is sent", function()
    local p = assert(client:plan({
      http("m1", "a", { http_url_spec = { url = url("a"), secret = "fine" } }),
      http("m1", "b", { http_url_spec = { url = url("b"), secret = { env = "DBW_PLAN_SPEC_SURELY_UNSET" } } }),
    }))
    local before = srv:stats().requests
    local res, err = client:apply(p)
    assert.is_nil(res)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("DBW_PLAN_SPEC_SURELY_UNSET is not set", err.message, 1, true)
    assert.matches(url("b"), err.message, 1, true)
    assert.is_nil(tostring(err):find("fine", 1, true))
    assert.equals(before, srv:stats().requests)
    assert.same({}, srv:webhooks())

    os.remove(tmp)
    p = assert(client:plan({ http("m1", "b", { http_url_spec = { url = url("b"), secret = { file = tmp } } }) },
      { allow_file_outside = true }))
    res, err = client:apply(p)
    assert.is_nil(res)
    assert.matches("cannot read", err.message)

    res, err = client:plan({ http("m1", "c",
      { http_url_spec = { url = url("c"), secret = { env = "A", file = "B" } } }) })
    assert.is_nil(res)
    assert.matches("desired%[1%]: http_url_spec.secret: a reference is", err.message)
  end)

  it("deletes webhooks in scope that are not desired only with prune", function()
    for _, spec in ipairs({ http("m1", "keep"), http("m1", "extra"), http("m2", "other"), http(nil, "wide") }) do
      if spec.model_name == nil then spec.events = { "REGISTERED_MODEL_CREATED" } end
      assert(client:create(spec))
    end
    local ids = {}
    for _, wh in ipairs(srv:webhooks()) do ids[wh.http_url_spec.url] = wh.id end

    local p = assert(client:plan({ http("m1", "keep") }, { model_names = { "m1" } }))
    assert.same({}, p.actions)
    assert.equals(1, #p.unmanaged)
    assert.equals(ids[url("extra")], p.unmanaged[1].id)
    assert.matches("Kept, not in the desired state", plan_file.render(p))

    p = assert(client:plan({ http("m1", "keep") }, { model_names = { "m1" }, prune = true }))
    assert.equals(1, #p.actions)
    assert.same({ action = "delete", id = ids[url("extra")], label = "model m1, url " .. url("extra"),
      model_name = "m1" }, p.actions[1])
    local res = assert(client:apply(p))
    assert.is_true(res[1].ok)
    assert.equals(3, #srv:webhooks()) -- m2's and the registry-wide one are out of scope

    -- the whole registry: everything not desired goes
    p = assert(client:plan({ http("m1", "keep") }, { prune = true }))
    assert.equals(2, p.counts.delete)
    assert(client:apply(p))
    assert.equals(1, #srv:webhooks())

    local ok, err = client:plan({ http("m2", "x") }, { model_names = { "m1" } })
    assert.is_nil(ok)
    assert.matches("desired%[1%] %(model m2, url .*%) is outside the plan's scope", err.message)
  end)

  it("refuses two desired specs with the same identity, naming both", function()
    local ok, err = client:plan({ http("m1", "a"), http("m2", "a"), http("m1", "a", { status = "DISABLED" }) })
    assert.is_nil(ok)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.equals("desired[1] and desired[3] have the same identity (model m1, url " .. url("a") .. ")", err.message)

    local job = function(ws) return { events = { "COMMENT_CREATED" }, model_name = "m",
      job_spec = { job_id = "1", access_token = "t", workspace_url = ws } } end
    assert.equals(0, srv:stats().requests) -- refused before listing
    assert(client:plan({ job(nil), job("https://a.example.com") }))
    ok, err = client:plan({ job("https://a.example.com/"), job("https://a.example.com") })
    assert.is_nil(ok)
    assert.matches("desired%[1%] and desired%[2%] have the same identity %(model m, job 1 on https://a.example.com%)",
      err.message)
  end)

  it("answers an invalid spec before sending anything", function()
    local ok, err = client:plan({ http("m1", "a"), { events = { "NOPE" }, http_url_spec = { url = url("b") } } })
    assert.is_nil(ok)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("^desired%[2%]: create: events", err.message)
    ok, err = client:plan({ { model_name = "m", events = { "REGISTERED_MODEL_CREATED" },
      http_url_spec = { url = url("b"), secret = { env = "X" } } } })
    assert.is_nil(ok)
    assert.matches("REGISTERED_MODEL_CREATED", err.message)
    assert.equals(0, srv:stats().requests)
  end)

  it("returns the list error when the workspace cannot be read", function()
    srv:faults{ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "boom", path = "list" } }
    local ok, err = client:plan({ http("m1", "a") })
    assert.is_nil(ok)
    assert.equals("INTERNAL_ERROR", err.error_code)
  end)

  it("keeps going on a failure and converges on the next run without duplicates", function()
    local desired = {}
    for i = 1, 6 do desired[i] = http("m1", "h" .. i) end
    assert(client:create(http("m1", "stale")))
    srv:faults{ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "boom", path = "create",
      count = 2 } }
    local p = assert(client:plan(desired, { prune = true }))
    assert.same({ create = 6, update = 0, delete = 1, unchanged = 0, unmanaged = 0 }, p.counts)
    local res = assert(client:apply(p, { parallel = 3 }))
    local failed = 0
    for _, r in ipairs(res) do
      if r.err then
        failed = failed + 1
        assert.equals("INTERNAL_ERROR", r.err.error_code)
      end
    end
    assert.equals(2, failed)
    assert.is_true(res[7].ok) -- the delete still ran
    assert.equals(4, #srv:webhooks())

    p = assert(client:plan(desired, { prune = true }))
    assert.same({ create = 2, update = 0, delete = 0, unchanged = 4, unmanaged = 0 }, p.counts)
    assert(client:apply(p))
    converged(desired, { prune = true })
    assert.equals(6, #srv:webhooks())
  end)

  it("converges after an apply interrupted halfway, and removes duplicates with prune", function()
    local desired = {}
    for i = 1, 4 do desired[i] = http("m1", "h" .. i) end
    local p = assert(client:plan(desired))
    -- as if the process died after the first two creates
    assert(client:apply({ actions = { p.actions[1], p.actions[2] } }))
    p = assert(client:plan(desired))
    assert.equals(2, p.counts.create)
    assert.equals(2, p.counts.unchanged)
    assert(client:apply(p))
    assert.equals(4, #srv:webhooks())

    assert(client:create(http("m1", "h1"))) -- a duplicate made by hand
    converged(desired)
    p = assert(client:plan(desired, { prune = true }))
    assert.equals(1, p.counts.delete)
    assert.equals(srv:webhooks()[5].id, p.actions[1].id) -- the newer one goes
    assert(client:apply(p))
    assert.equals(4, #srv:webhooks())
    assert.equals(0, api_requests("update"))
  end)

  it("renders a plan without secrets", function()
    assert(client:create(http("m1", "a", { description = "old" })))
    assert(client:create(http("m1", "gone")))
    local p = assert(client:plan({
      http("m1", "a", { description = "new", http_url_spec = { url = url("a"), secret = "TOPSECRET" } }),
      http("m1", "b", { http_url_spec = { url = url("b"), secret = "TOPSECRET" } }),
    }, { prune = true }))
    local text = plan_file.render(p)
    assert.matches("\n%+ create  model m1, url " .. url("b"):gsub("%p", "%%%0") .. "\n", "\n" .. text)
    assert.matches('~ update  model m1, url .*a %(id %x+%)\n    description: "old" %-> "new"\n'
      .. "    secret: not compared %(write%-only%)\n", text)
    assert.matches("%- delete  model m1, url .*gone %(id %x+%)\n", text)
    assert.matches("Plan: 1 to create, 1 to update, 1 to delete, 0 unchanged.\n$", text)
    local json = plan_file.encode(plan_file.document(p))
    assert.is_nil(text:find("TOPSECRET", 1, true))
    assert.is_nil(json:find("TOPSECRET", 1, true))
    assert.is_true(require("cjson").decode(json).changes)
  end)

  -- A desired state is code (issue 20, item 9): a {file} reference may not
  -- read outside the plan's folder unless told so.
  it("tells whether a path stays inside a folder, as written", function()
    local inside = require("databricks.webhooks.plan").is_inside
    for _, case in ipairs({
      { "deploy", "deploy/secret", true }, { "deploy", "deploy/./a/../secret", true },
      { "deploy", "deploy/../secret", false }, { "deploy", "deployed/secret", false },
      { ".", "secret", true }, { ".", "a/../secret", true }, { ".", "../secret", false },
      { ".", "a/../../secret", false }, { "./deploy/", "deploy//secret", true },
      { "..", "../x", true }, { "..", "../../x", false }, { "../plans", "../plans/../x", false },
      { "/a/b", "/a/b/c", true }, { "/a/b", "/a/bc", false }, { "/a/b", "/a/b/../../etc/passwd", false },
      { "/", "/etc/passwd", true }, { "/a", "/../a/x", true },
    }) do
      assert.equals(case[3], inside(case[1], case[2]), case[1] .. " / " .. case[2])
    end
    local pwd = os.getenv("PWD")
    if pwd and pwd:sub(1, 1) == "/" then -- a relative folder and an absolute path meet at $PWD
      assert.is_true(inside("spec", pwd .. "/spec/x"))
      assert.is_false(inside("spec", pwd .. "/x"))
      assert.is_false(inside(".", "/etc/passwd"))
      assert.is_true(inside(pwd, "spec/x"))
    end
  end)

  it("refuses a {file} reference leaving the plan's folder, unless allow_file_outside", function()
    util.write_file(tmp, "outside-secret\n")
    local folder = tmp:match("^(.*)/")
    local function wants(path)
      return { http("m1", "f", { http_url_spec = { url = url("f"), secret = { file = path } } }) }
    end
    for _, case in ipairs({ { tmp, nil }, { "../" .. "x", nil }, { "spec/../../x", nil },
      { "spec/../README.md", "spec" }, { "/etc/hostname", "spec" } }) do
      local p, err = client:plan(wants(case[1]), { file_root = case[2] })
      assert.is_nil(p, case[1])
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("desired[1]: http_url_spec.secret: file " .. case[1] .. " is outside "
        .. (case[2] or "the current directory"), err.message, 1, true)
      assert.matches("allow_file_outside = true", err.message, 1, true)
    end
    assert.equals(0, #srv:requests()) -- refused before listing
    assert(client:plan(wants("spec/46-plan_spec.lua"), { file_root = "spec" }))

    -- allowed: read and sent
    local p = assert(client:plan(wants(tmp), { allow_file_outside = true }))
    assert.is_true(p.allow_file_outside)
    -- apply checks again before reading, with the plan's settings
    p.allow_file_outside = false
    local res, err = client:apply(p)
    assert.is_nil(res)
    assert.matches("is outside the current directory", err.message, 1, true)
    assert.same({}, srv:webhooks())
    p.allow_file_outside = true
    assert.is_nil(assert(client:apply(p))[1].err)
    assert.equals("outside-secret", stored()[url("f")].http_url_spec.secret)
    -- the plan's folder, given
    srv:reset()
    assert.is_nil(assert(client:apply(assert(client:plan(wants(tmp), { file_root = folder }))))[1].err)
    assert.has_error(function() client:plan({}, { file_root = 5 }) end,
      "bad argument #2 to 'plan' (file_root must be a non-empty string)")
    assert.has_error(function() client:plan({}, { allow_file_outside = "yes" }) end,
      "bad argument #2 to 'plan' (allow_file_outside must be a boolean)")
  end)

  -- "/+$" took seconds on a run of slashes inside a URL the server sent
  -- (bench/parse.lua measures it); a scan from the end does not.
  it("compares workspace URLs without their trailing slashes, however many slashes they hold", function()
    local odd = "https://ws.example.com" .. ("/"):rep(20000) .. "x"
    local function job(id, ws_url, token)
      return { events = { "MODEL_VERSION_CREATED" }, model_name = "m1",
        job_spec = { job_id = id, workspace_url = ws_url, access_token = token or { env = "HOME" } } }
    end
    assert(client:create(job("1", odd, "t")))
    assert(client:create(job("2", "https://ws.example.com/a///", "t")))
    local p = converged({ job("1", odd .. "//"), job("2", "https://ws.example.com/a") }, { model_names = { "m1" } })
    assert.equals(2, p.counts.unchanged)
  end)

  it("plan_file errors say FILE:LINE: a JSON syntax error, a literal secret, a plan error on webhooks[i]",
    function()
      local text = '{\n  "webhooks": [\n    {"model_name": "a", "x": "[{\\"", "events": ["A"]},\n'
        .. '    {\n      "model_name": "b", "n": [1, 2, {"k": null}]\n    },\n'
        .. '    {"model_name": "c", "http_url_spec": {"url": "u", "secret": "lit"}}\n  ]\n}\n'
      local _, err = plan_file.parse(text, "f.json")
      assert.equals("f.json:7: webhooks[3].http_url_spec.secret: a secret is never written in the file;"
        .. ' use {"env": "NAME"} or {"file": "PATH"}', err.message)
      local doc = assert(plan_file.parse((text:gsub('"lit"', '{"env": "X"}')), "f.json"))
      assert.same({ 3, 4, 7 }, doc.lines)
      assert.equals("f.json:4: webhooks[2]: create: events: bad",
        plan_file.locate(doc, "desired[2]: create: events: bad"))
      assert.equals("f.json:3: webhooks[1] and webhooks[3] (line 7) have the same identity",
        plan_file.locate(doc, "desired[1] and desired[3] have the same identity"))
      _, err = plan_file.parse('{\n "webhooks": [\n  {,}\n]}', "g.json")
      assert.equals("g.json:3:4: not valid JSON (Expected object key string but found T_COMMA)", err.message)
    end)

  it("plan_file.load gives the file's folder", function()
    util.write_file(tmp, '{"version":1,"webhooks":[]}')
    assert.equals(tmp:match("^(.*)/"), assert(plan_file.load(tmp)).folder)
    assert.equals(tmp:match("^(.*)/") .. "/.", assert(plan_file.load(tmp:gsub("^(.*)/", "%1/./"))).folder)
  end)

  it("raises on misuse", function()
    assert.has_error(function() client:plan("x") end)
    assert.has_error(function() client:plan({ 5 }) end)
    assert.has_error(function() client:plan({}, 5) end)
    assert.has_error(function() client:plan({}, { model_names = {} }) end)
    assert.has_error(function() client:plan({}, { model_names = "m" }) end)
    assert.has_error(function() client:apply("x") end)
    assert.has_error(function() client:apply({ actions = { { action = "nope" } } }) end)
    assert.has_error(function() client:apply({ actions = {} }, { progress = 5 }) end)
  end)
end)
