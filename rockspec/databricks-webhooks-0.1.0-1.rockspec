rockspec_format = "3.0"
package = "databricks-webhooks"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/databricks-webhooks/databricks-webhooks.git",
  tag = "v0.1.0",
}
description = {
  summary = "Databricks Model Registry webhooks: a fast C client for Lua and OpenResty",
  detailed = [[
Create, list, update, delete and test Databricks Model Registry webhooks
from Lua 5.1-5.4, LuaJIT and OpenResty, and verify webhook deliveries.
A small C core (libcurl, lua-cjson, OpenSSL) with a thin Lua front.
]],
  homepage = "https://github.com/databricks-webhooks/databricks-webhooks",
  issues_url = "https://github.com/databricks-webhooks/databricks-webhooks/issues",
  license = "MIT",
  labels = { "databricks", "webhooks", "mlflow", "openresty" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
  -- Debian's lua-cjson package is not a rock: there, add --deps-mode=none.
  "lua-cjson",
}
-- Libraries only: LuaRocks also looks for them in the multiarch folders
-- (lib/x86_64-linux-gnu), while it would look for headers only in include/
-- (Debian keeps curl/curl.h in include/x86_64-linux-gnu/, which the C
-- compiler searches by itself).
external_dependencies = {
  CURL = { library = "curl" },
  OPENSSL = { library = "ssl" },
}
build = {
  type = "make",
  -- `make rock` compiles afresh into build/rock, so that a second
  -- `luarocks make --lua-version=...` never installs the first Lua's core.so.
  build_target = "rock",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
    CURL_CFLAGS = "-I$(CURL_INCDIR)",
    CURL_LIBS = "-L$(CURL_LIBDIR) -lcurl",
    CRYPTO_LIBS = "-L$(OPENSSL_LIBDIR) -lssl -lcrypto",
    BUILD = "build/rock",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "$(BINDIR)",
    BUILD = "build/rock",
  },
  -- Honoured with build.type "make" too (luarocks installs these after
  -- `make install`); LuaRocks wraps the script so that it runs with the
  -- tree's Lua and finds the installed modules.
  install = {
    bin = {
      ["databricks-webhooks"] = "bin/databricks-webhooks",
    },
  },
}
test = {
  type = "busted",
}
