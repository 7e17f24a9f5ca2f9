rockspec_format = "3.0"
package = "databricks-webhooks"
version = "scm-1"
source = {
  url = "git+https://example.invalid/databricks-webhooks.git",
}
description = {
  summary = "Databricks Model Registry webhooks: a fast C client for Lua and OpenResty",
  detailed = [[
Create, list, update, delete and test Databricks Model Registry webhooks
from Lua 5.1-5.4, LuaJIT and OpenResty, and verify webhook deliveries.
A small C core (libcurl, lua-cjson, OpenSSL) with a thin Lua front.
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson",
}
external_dependencies = {
  CURL = { header = "curl/curl.h" },
  OPENSSL = { header = "openssl/hmac.h" },
}
build = {
  type = "make",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA_CFLAGS = "-I$(LUA_INCDIR)",
    CURL_CFLAGS = "-I$(CURL_INCDIR)",
    CURL_LIBS = "-L$(CURL_LIBDIR) -lcurl",
    CRYPTO_LIBS = "-L$(OPENSSL_LIBDIR) -lcrypto",
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
