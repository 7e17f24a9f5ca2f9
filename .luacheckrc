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

-- Code that only ever runs inside nginx (lua-nginx-module, LuaJIT): the
-- delivery receiver, the cosocket transport, and the OpenResty spec's app.
files["lua/databricks/webhooks/receiver.lua"] = { std = "ngx_lua", globals = { "ngx" } }
files["lua/databricks/webhooks/ngx.lua"] = { std = "ngx_lua" }
files["spec/support/openresty/app.lua"] = { std = "ngx_lua" }
files["spec/support/openresty/mlflow_hook.lua"] = { std = "ngx_lua" }

-- The command-line tool: runs on 5.1-5.4 and LuaJIT (LuaRocks runs it with its tree's Lua).
files["bin/"] = { std = "max", read_globals = { "jit" } }

-- bench/cosocket.lua's calls run inside its nginx.
files["bench/cosocket_worker.lua"] = {
  std = "ngx_lua",
}
