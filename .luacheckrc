-- luacheck configuration. Sections per directory; add yours beside these.

-- The local workspace's server code runs inside nginx (lua-nginx-module, LuaJIT).
files["spec/support/workspace/"] = {
  std = "ngx_lua",
}

-- Specs run under busted on Lua 5.1-5.4 and LuaJIT.
files["spec/"] = {
  std = "max+busted",
}

-- newproxy is Lua 5.1 / LuaJIT only; the helper checks for it before use.
files["spec/support/workspace.lua"] = {
  std = "max",
  read_globals = { "newproxy" },
}

-- The module itself runs everywhere: 5.1-5.4, LuaJIT, inside nginx.
files["lua/"] = {
  std = "max",
  read_globals = { "jit", "ngx" },
}

files["examples/"] = { std = "max" }
files["bench/"] = { std = "max", read_globals = { "jit" } }
