-- Every row of the C core's table of operations (core.OPS), called through
-- every driver: single calls over each path of spec/support/paths.lua,
-- client:bulk for the rows that allow it, and a Lua transport (the cosocket
-- transport walks the same table in spec/42-cosocket_tls_spec.lua). An
-- operation added to csrc/ops.c without a sample here fails this spec.
local webhooks = require("databricks.webhooks")
local core = require("databricks.webhooks.core")
local workspace = require("spec.support.workspace")
local paths = require("spec.support.paths")
local samples = require("spec.support.op_samples")

describe("the table of operations", function()
  local srv
  setup(function() srv = workspace.start{ fronts = true } end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it("is what the client and the Lua front expose", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token })
    local n = 0
    for name, op in pairs(core.OPS) do
      n = n + 1
      assert.is_function(c[name], name)
      assert.matches("^/api/2%.0/mlflow/registry%-webhooks/", op.path)
      assert.is_function(samples[name], "no sample request for operation " .. name)
    end
    assert.equals(5, n)
    c:close()
  end)

  for _, path in ipairs(paths.list) do
    it("runs every operation over " .. path.name, function()
      local c = paths.client(path, srv, { retry_timeout = 0 })
      local id = assert(c:create(samples.create(srv))).id
      for name in pairs(core.OPS) do
        local res, err = c[name](c, samples[name](srv, id))
        assert(res ~= nil, name .. ": " .. tostring(err))
        if name == "delete" then id = assert(c:create(samples.create(srv))).id end
      end
      c:close()
    end)
  end

  it("runs every bulk operation through client:bulk", function()
    local c = paths.client(paths.list[3], srv, { retry_timeout = 0 })
    for name, op in pairs(core.OPS) do
      if op.bulk then
        local id = assert(c:create(samples.create(srv))).id
        local r = c:bulk(name, { samples[name](srv, id) })[1]
        assert(r.ok ~= nil, name .. ": " .. tostring(r.err))
      else
        assert.has_error(function() c:bulk(name, {}) end)
      end
    end
    c:close()
  end)
end)
