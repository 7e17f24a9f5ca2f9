-- A short soak (fuzz/soak.lua): SOAK_OPS calls (default 5000; 500 under
-- valgrind and the sanitizers) against the local workspace, faults injected
-- into 10% of them, every answer checked, the workspace's state compared
-- with the model at the end, RSS compared before and after. `make soak` runs
-- the long one (100,000 calls).
local soak = require("fuzz.soak")

local SLOW = (os.getenv("DBW_VALGRIND") or "") ~= "" or (os.getenv("DBW_ASAN") or "") ~= ""

describe("soak", function()
  for _, front in ipairs{ false, "h2" } do
  it("survives thousands of calls with random faults over " .. (front and "TLS + HTTP/2" or "plain HTTP")
    .. ", and the workspace agrees with the model", function()
    local ops = tonumber(os.getenv("SOAK_OPS") or "") or (SLOW and 500 or 5000)
    local report = soak.run{ ops = ops, timeout = SLOW and 3 or nil, front = front or nil }
    print("\n" .. soak.format(report))
    assert.equals(ops, report.ops)
    assert.equals(report.ops, report.ok + report.failed)
    assert.is_true(report.faults > 0)
    if not SLOW then
      -- valgrind and ASan keep their own books; elsewhere RSS must stay flat
      local growth = report.rss_after_kb - report.rss_before_kb
      assert.is_true(growth < 8 * 1024, "RSS grew by " .. growth .. " KB")
    end
  end)
end
end)
