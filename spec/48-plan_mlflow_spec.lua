-- Webhooks as code on an open-source MLflow server: client:plan(),
-- client:apply() and the export file (databricks.webhooks.plan_mlflow,
-- plan_file) against the MLflow stand-in, over real HTTP.
local webhooks = require("databricks.webhooks")
local plan_file = require("databricks.webhooks.plan_file")
local workspace = require("spec.support.workspace")
local util = require("spec.support.util")

local PATH = "/api/2.0/mlflow/webhooks"

describe("plan and apply on an MLflow server", function()
  local srv, client, dir

  setup(function()
    srv = workspace.start{ api = "mlflow", allowed_schemes = "http,https", allow_private_ips = true }
    client = assert(webhooks.new{ api = "mlflow", host = srv.url, retry_timeout = 0 })
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. util.q(dir)))
  end)
  teardown(function()
    client:close()
    srv:stop()
    os.execute("rm -rf " .. util.q(dir))
  end)
  before_each(function() srv:reset() end)

  local function url(name) return srv.url .. "/__control/sink/" .. name end

  local function hook(name, extra)
    local spec = { name = name, url = url(name), events = { "model_version.created" } }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return spec
  end

  local function by_name()
    local out = {}
    for wh in client:each{} do out[wh.name] = wh end
    return out
  end

  -- How many requests of `method` the server saw on the webhooks paths.
  local function requests(method)
    local n = 0
    for _, r in ipairs(srv:requests()) do
      if r.method == method and r.path:sub(1, #PATH) == PATH then n = n + 1 end
    end
    return n
  end

  local function converged(desired, opts)
    local p = assert(client:plan(desired, opts))
    assert.same({}, p.actions)
    assert.same({}, p.conflicts)
    return p
  end

  it("creates what is missing, then finds nothing to do", function()
    local desired = { hook("a"), hook("b", { events = { { entity = "MODEL_VERSION_TAG", action = "SET" },
      "PROMPT.CREATED" }, description = "two", status = "DISABLED" }) }
    local p = assert(client:plan(desired))
    assert.equals("mlflow", p.api)
    assert.same({ create = 2, update = 0, delete = 0, unchanged = 0, unmanaged = 0, conflicts = 0 }, p.counts)
    assert.equals("name a, url " .. url("a"), p.actions[1].label)
    local results = assert(client:apply(p))
    for _, r in ipairs(results) do assert.is_nil(r.err) end
    assert.truthy(results[1].id)
    local have = by_name()
    assert.equals("DISABLED", have.b.status)
    assert.equals("two", have.b.description)
    table.sort(have.b.events)
    assert.same({ "model_version_tag.set", "prompt.created" }, have.b.events)
    -- events compare as sets, in either spelling
    desired[2].events = { "prompt.created", "model_version_tag.set" }
    converged(desired)
  end)

  it("updates url, events, description and status, always sending status", function()
    assert(client:create(hook("a", { status = "DISABLED" })))
    local desired = { hook("a", { url = url("a2"), events = { "model_version.created", "prompt.created" },
      description = "new", status = "DISABLED" }) }
    local p = assert(client:plan(desired))
    assert.equals(1, p.counts.update)
    local a = p.actions[1]
    local fields = {}
    for _, c in ipairs(a.changes) do fields[#fields + 1] = c.field end
    assert.same({ "url", "events", "description" }, fields)
    assert.equals("DISABLED", a.request.status) -- unchanged, sent anyway
    assert.same({ "prompt.created" }, a.changes[2].added)
    local gets = requests("GET")
    local results = assert(client:apply(p))
    assert.is_nil(results[1].err)
    assert.equals(gets, requests("GET")) -- status was sent: no read first
    local wh = by_name().a
    assert.equals("DISABLED", wh.status)
    assert.equals(url("a2"), wh.url)
    converged(desired)
  end)

  it("keeps a description it cannot clear, and says so", function()
    assert(client:create(hook("a", { description = "old" })))
    local p = converged({ hook("a") })
    assert.matches("cannot clear a description", p.unchanged[1].notes[1], 1, true)
  end)

  it("refuses a name given twice, naming both entries", function()
    local p, err = client:plan({ hook("a"), hook("b"), hook("a", { url = url("x") }) })
    assert.is_nil(p)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("desired[1] and desired[3] have the same name (a)", err.message, 1, true)
  end)

  it("reports a name the server holds twice and never acts on it", function()
    local one = assert(client:create(hook("dup")))
    local two = assert(client:create(hook("dup", { url = url("other") })))
    assert(client:create(hook("gone")))
    local p = assert(client:plan({ hook("dup", { description = "x" }), hook("new") }, { prune = true }))
    assert.equals(1, #p.conflicts)
    assert.equals("dup", p.conflicts[1].name)
    local ids = p.conflicts[1].ids
    table.sort(ids)
    local want = { one.id, two.id }
    table.sort(want)
    assert.same(want, ids)
    assert.same({ create = 1, update = 0, delete = 1, unchanged = 0, unmanaged = 0, conflicts = 1 }, p.counts)
    assert.is_true(plan_file.has_changes(p))
    local text = plan_file.render(p)
    assert.matches("! conflict  name dup: 2 webhooks", text, 1, true)
    assert.matches("1 in conflict", text, 1, true)
    local doc = plan_file.document(p)
    assert.equals("dup", doc.conflicts[1].name)
    -- a hand-made action on the name is refused before anything is sent
    local forged = { api = "mlflow", conflicts = p.conflicts, actions = { { action = "update", id = one.id,
      name = "dup", label = "dup", request = { id = one.id, status = "DISABLED" } } } }
    local res, err = client:apply(forged)
    assert.is_nil(res)
    assert.matches("2 webhooks on the server have the name dup", err.message, 1, true)
    assert(client:apply(p))
    local have = {}
    for wh in client:each{} do have[#have + 1] = wh.name end
    table.sort(have)
    assert.same({ "dup", "dup", "new" }, have) -- "gone" pruned, both "dup" left
  end)

  it("keeps or prunes webhooks not desired", function()
    local extra = assert(client:create(hook("extra")))
    local p = assert(client:plan({ hook("a") }))
    assert.equals(1, #p.unmanaged)
    assert.equals(extra.id, p.unmanaged[1].id)
    p = assert(client:plan({ hook("a") }, { prune = true }))
    assert.same({ "create", "delete" }, { p.actions[1].action, p.actions[2].action })
    assert(client:apply(p))
    converged({ hook("a") }, { prune = true })
  end)

  it("sends secrets by reference on create, and on update only with rotate_secrets", function()
    local secret_file = dir .. "/secret"
    util.write_file(secret_file, "s3cret\n")
    local desired = { hook("a", { secret = { file = secret_file } }) }
    local p = assert(client:plan(desired, { file_root = dir }))
    assert.same({ "secret: sent (write-only)" }, p.actions[1].notes)
    assert.is_nil(plan_file.render(p):find("s3cret", 1, true))
    assert(client:apply(p))
    -- the server signs with it: /test answers through the sink
    local stored = srv:webhooks()
    assert.equals("s3cret", stored[1].secret)
    p = converged(desired, { file_root = dir })
    assert.same({ "secret: not compared (write-only)" }, p.unchanged[1].notes)
    util.write_file(secret_file, "rotated")
    p = assert(client:plan(desired, { file_root = dir, rotate_secrets = true }))
    assert.equals(1, p.counts.update)
    assert.equals("secret", p.actions[1].changes[1].field)
    assert(client:apply(p))
    assert.equals("rotated", srv:webhooks()[1].secret)
  end)

  it("refuses a file reference outside the root, and an unset variable at apply", function()
    local p, err = client:plan({ hook("a", { secret = { file = "/etc/hostname" } }) }, { file_root = dir })
    assert.is_nil(p)
    assert.matches("outside", err.message, 1, true)
    p = assert(client:plan({ hook("a", { secret = { env = "DBW_SPEC_UNSET_VARIABLE" } }) }))
    local res
    res, err = client:apply(p)
    assert.is_nil(res)
    assert.matches("DBW_SPEC_UNSET_VARIABLE is not set", err.message, 1, true)
    assert.same({}, srv:webhooks())
  end)

  it("validates specs as create does, and refuses Databricks fields and scopes", function()
    local p, err = client:plan({ hook("a", { events = { "model_version.updated" } }) })
    assert.is_nil(p)
    assert.matches("^desired%[1%]: ", err.message)
    p, err = client:plan({ hook("a", { model_name = "m" }) })
    assert.is_nil(p)
    assert.matches("model_name", err.message, 1, true)
    p, err = client:plan({ hook("a") }, { model_names = { "m" } })
    assert.is_nil(p)
    assert.matches("model_names", err.message, 1, true)
  end)

  it("refuses a plan made for the other API", function()
    local dbx = assert(webhooks.new{ host = "https://example.invalid", token = "t" })
    local ok, err = dbx:apply({ api = "mlflow", actions = {}, conflicts = {} })
    assert.is_nil(ok)
    assert.matches("MLflow", err.message, 1, true)
    ok, err = client:apply({ actions = {} })
    assert.is_nil(ok)
    assert.matches("Databricks", err.message, 1, true)
    dbx:close()
  end)

  it("exports a file plan reads back as converged", function()
    assert(client:create(hook("b", { description = "bee", status = "DISABLED" })))
    assert(client:create(hook("a", { events = { "prompt.created", "model_version.created" } })))
    local list = {}
    for wh in client:each{} do list[#list + 1] = wh end
    local doc = plan_file.export(list, nil, "mlflow")
    assert.equals("mlflow", doc.api)
    assert.equals("a", doc.webhooks[1].name)
    assert.same({ env = "WEBHOOK_2_SECRET" }, doc.webhooks[2].secret)
    local text = plan_file.encode(doc)
    assert.matches('"api": "mlflow"', text, 1, true)
    local back = assert(plan_file.parse(text, "x.json"))
    assert.equals("mlflow", back.api)
    converged(back.webhooks)
    assert.same({}, plan_file.duplicate_names(list))
  end)

  it("refuses a literal secret in a file", function()
    local doc, err = plan_file.parse('{"version": 1, "api": "mlflow", "webhooks": [\n'
      .. '{"name": "a", "url": "https://x", "events": ["model_version.created"], "secret": "plain"}]}', "f.json")
    assert.is_nil(doc)
    assert.matches("f.json:2: webhooks[1].secret: a secret is never written", err.message, 1, true)
    doc, err = plan_file.parse('{"api": "other", "webhooks": []}', "f.json")
    assert.is_nil(doc)
    assert.matches("api must be", err.message, 1, true)
  end)

  it("runs the README's example as written, against the stand-in", function()
    local readme = assert(util.read_file("README.md"))
    local from = assert(readme:find("\n## Open-source MLflow servers\n", 1, true))
    local block = assert(readme:match("```lua\n(.-)```", from))
    local code = block:gsub("https://hooks%.example%.com/mlflow", url("readme"))
    local script = dir .. "/readme.lua"
    util.write_file(script, 'package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path\n'
      .. 'package.cpath = "./build/5.4/?.so;" .. package.cpath\n' .. code)
    local p = assert(io.popen(("env -i PATH=%s MLFLOW_TRACKING_URI=%s lua5.4 %s 2>&1; echo rc=$?"):format(
      util.q(os.getenv("PATH") or "/usr/bin:/bin"), util.q(srv.url), util.q(script))))
    local out = p:read("*a")
    p:close()
    assert.matches("rc=0\n$", out)
    assert.matches("ACTIVE\tmodel_version.created,model_version_alias.created\n", out)
    assert.matches("true\t200\n", out)
  end)
end)
