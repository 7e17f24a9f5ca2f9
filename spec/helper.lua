-- Loaded by busted before every spec file (see .busted): finds the module
-- built for the Lua that runs the suite, and the project's Lua sources.
local version = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
local build = os.getenv("DBW_BUILD") or ("./build/" .. version)
package.cpath = build .. "/?.so;" .. package.cpath
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
