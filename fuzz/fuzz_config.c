/*
 * fuzz_config - the .databrickscfg reader, which is Lua
 * (lua/databricks/webhooks/config.lua), run in the embedded Lua 5.4 state:
 * parse_file on the fuzzer's bytes, normalize_host and is_loopback on every
 * value it yields, and resolve() reading the same bytes as config_file, with
 * the profile named by the input or none.
 *
 * Invariants: nothing raises for a string; parse_file gives sections of
 * lower-case string keys and string values, or nil and "line N: <reason>"
 * without the line's text; a normalised host is http(s)://host[:port][/path]
 * with no blank or control byte; resolve returns settings or nil and an
 * error table, and neither the message nor the debug string shows a token or
 * client secret from the file.
 */
#include <stdio.h>
#include <unistd.h>

#include "fz.h"

static const char driver[] =
    "local config, text, path, pick = ...\n"
    "local function check_host(v)\n"
    "  local ok, h, ws = pcall(config.normalize_host, v)\n"
    "  assert(ok, 'normalize_host raised: ' .. tostring(h))\n"
    "  if h == nil then assert(type(ws) == 'string', 'normalize_host: nil without a reason') return end\n"
    "  assert(type(h) == 'string' and h:find('^https?://[^/%s]') and not h:find('[%z\\1-\\32\\127]'),\n"
    "    'normalize_host gave a bad URL')\n"
    "  assert(ws == nil or ws:find('^%d+$'), 'normalize_host: bad workspace id')\n"
    "  assert(type(config.is_loopback(h:match('^%a+://([^/:]+)') or '')) == 'boolean')\n"
    "end\n"
    "local ok, sections, err = pcall(config.parse_file, text)\n"
    "assert(ok, 'parse_file raised: ' .. tostring(sections))\n"
    "local names = {}\n"
    "if sections == nil then\n"
    "  assert(type(err) == 'string' and err:find('^line %d+: [%w ,:%[%]=\\']+$'), 'parse_file: bad error')\n"
    "else\n"
    "  assert(type(sections) == 'table', 'parse_file: no table')\n"
    "  for name, sec in pairs(sections) do\n"
    "    assert(type(name) == 'string' and name ~= '' and type(sec) == 'table', 'parse_file: bad section')\n"
    "    names[#names + 1] = name\n"
    "    for k, v in pairs(sec) do\n"
    "      assert(type(k) == 'string' and k ~= '' and k == k:lower(), 'parse_file: bad key')\n"
    "      assert(type(v) == 'string', 'parse_file: bad value')\n"
    "      check_host(v)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "check_host(text)\n"
    "table.sort(names)\n"
    "local profile = pick > 0 and names[(pick - 1) % (#names + 1) + 1] or nil\n"
    "local f = assert(io.open(path, 'wb')); f:write(text); f:close()\n"
    "local ok2, s, e = pcall(config.resolve, { config_file = path, profile = profile }, {})\n"
    "assert(ok2, 'resolve raised: ' .. tostring(s))\n"
    "local said\n"
    "if s then\n"
    "  assert(type(s.host) == 'string' and type(s.auth_type) == 'string', 'resolve: settings without host')\n"
    "  check_host(s.host)\n"
    "  said = s.debug_string or ''\n"
    "else\n"
    "  assert(type(e) == 'table' and type(e.error_code) == 'string' and type(e.message) == 'string',\n"
    "    'resolve: bad error')\n"
    "  said = e.message\n"
    "end\n"
    "-- secrets of the profile read never show (long, distinctive ones only: a\n"
    "-- short value may well occur in the message's own words or another value)\n"
    "local sec = sections and sections[profile or 'DEFAULT']\n"
    "if sec then\n"
    "  for _, k in ipairs({ 'token', 'client_secret' }) do\n"
    "    local v = sec[k]\n"
    "    if v and #v >= 16 and not v:find('[%s%p]') then\n"
    "      local elsewhere = false\n"
    "      for k2, v2 in pairs(sec) do if k2 ~= k and v2:find(v, 1, true) then elsewhere = true end end\n"
    "      assert(elsewhere or not said:find(v, 1, true), 'a ' .. k .. ' was shown')\n"
    "    end\n"
    "  end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static int ref = LUA_NOREF;
    lua_State *L = fz_lua();
    int top = lua_gettop(L);
    unsigned pick = size ? data[0] % 4 : 0;

    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/dbw-fuzz-config.%ld.cfg", (long)getpid());
    if (ref == LUA_NOREF) {
        if (luaL_loadbuffer(L, driver, sizeof driver - 1, "=fuzz_config") != LUA_OK)
            fz_fail("driver: %s", lua_tostring(L, -1));
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "databricks.webhooks.config");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        fz_fail("require config: %s", lua_tostring(L, -1));
    /* the first byte picks the profile; all of it is the file */
    lua_pushlstring(L, (const char *)data, size);
    lua_pushstring(L, path);
    lua_pushinteger(L, (lua_Integer)pick);
    fz_lua_coverage(L, 1);
    if (lua_pcall(L, 4, 0, 0) != LUA_OK)
        fz_fail("%s", lua_tostring(L, -1));
    fz_lua_coverage(L, 0);
    fz_done(L, top);
    return 0;
}
