-- The docs keep up with the code: docs/architecture.md names every C file
-- and every Lua module (by its path under lua/databricks/webhooks/), so a reader finds each one's job.
local util = require("spec.support.util")

local function files(cmd)
  local ok, out = util.run(cmd)
  assert(ok, out)
  local list = {}
  for name in out:gmatch("[^\n]+") do list[#list + 1] = name end
  return list
end

describe("docs/architecture.md", function()
  it("names every source file under csrc/ and lua/", function()
    local page = assert(util.read_file("docs/architecture.md"))
    local missing = {}
    local names = files("cd csrc && ls *.c *.h")
    -- named as the page names them: under webhooks/, and cli/'s files under cli/
    local lua_files = "cd lua/databricks && find . -name '*.lua' | sed 's|^[.]/webhooks/||; s|^[.]/||; s|^cli/||'"
    for _, f in ipairs(files(lua_files)) do
      names[#names + 1] = f
    end
    for _, name in ipairs(names) do
      -- a header goes with its .c file
      local named = page:find(name, 1, true) or page:find((name:gsub("%.h$", ".c")), 1, true)
      if name ~= "init.lua" and not named then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)
end)

describe("docs/settings.md", function()
  it("is what docs/settings.lua writes from options.SETTINGS (make settings-doc)", function()
    local ok, out = util.run("lua5.4 docs/settings.lua")
    assert(ok, out)
    assert.equals(out, util.read_file("docs/settings.md"))
  end)
end)
