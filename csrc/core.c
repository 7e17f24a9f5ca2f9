/*
 * core.c - luaopen_databricks_webhooks_core: the client metatable and the
 * module functions. Thin glue: argument checking and the protected-call
 * wrapper; the work is in call.c, hmac.c and friends.
 *
 * Errors from the Lua debug callback never cross libcurl frames: it is only
 * ever called from our own loop in driver.c, between transfers, inside the
 * lua_pcall made here, which also clears the client's busy flag. Lua
 * transports are never called from C: they run in the Lua loop of
 * webhooks.lua over the Exchange of stepper.c (client:_begin).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <stdio.h>
#include <time.h>

#include <curl/curl.h>

#include "auth.h"
#include "bulk.h"
#include "call.h"
#include "client.h"
#include "clock.h"
#include "compat.h"
#include "errors.h"
#include "hmac.h"
#include "http.h"
#include "json.h"
#include "ops.h"
#include "schema.h"
#include "stepper.h"

/* Bodies larger than this are refused rather than buffered (a 1,000-webhook
 * page is ~0.5 MB); max_response_bytes changes it. */
#define DBW_MAX_RESPONSE (8u * 1024u * 1024u)

/* ---- client creation ---------------------------------------------------- */

static const char *opt_string(lua_State *L, int t, const char *k, char **out, int header)
{
    const char *s;
    size_t n;
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
        lua_pop(L, 1);
        return "must be a string";
    }
    s = lua_tolstring(L, -1, &n);
    /* Values that reach a header line must not be able to start another one. */
    if (header && (strlen(s) != n || strpbrk(s, "\r\n"))) {
        lua_pop(L, 1);
        return "must not contain CR, LF or NUL";
    }
    *out = malloc(n + 1);
    if (*out == NULL) {
        lua_pop(L, 1);
        return "out of memory";
    }
    memcpy(*out, s, n + 1);
    lua_pop(L, 1);
    return NULL;
}

/* Replaces *s by prefix followed by *s (a header line made once per client). */
static int prefix_with(char **s, const char *prefix)
{
    size_t n = strlen(prefix) + strlen(*s) + 1;
    char *line = malloc(n);
    if (line == NULL)
        return -1;
    snprintf(line, n, "%s%s", prefix, *s);
    free(*s);
    *s = line;
    return 0;
}

/* A number of seconds: NaN, infinities and negative values are refused
 * here too (config.lua checks them first), as they would overflow in C. */
static const char *opt_number(lua_State *L, int t, const char *k, double dflt, double *out)
{
    double v = dflt;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TNUMBER)
        v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= 0 && v <= 1e9))
        return "must be a finite number >= 0 (seconds)";
    *out = v;
    return NULL;
}

/* Requests per second: absent (no limit), or a finite number > 0. */
static const char *opt_rate(lua_State *L, int t, const char *k, double *out)
{
    double v;
    *out = 0;
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
    lua_pop(L, 1);
    if (!(v > 0 && v <= 1e9))
        return "must be a finite number greater than 0 (requests per second)";
    *out = v;
    return NULL;
}

/* A count: a positive integer, compared in integer arithmetic where Lua has it. */
static const char *opt_count(lua_State *L, int t, const char *k, size_t dflt, size_t *out)
{
    const char *why = NULL;
    *out = dflt;
    lua_getfield(L, t, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!dbw_isintegral(L, -1)) {
        why = "must be a positive integer";
    } else {
#if LUA_VERSION_NUM >= 503
        lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)lua_tonumber(L, -1);
#else
        double v = lua_tonumber(L, -1); /* integral and within 2^53 */
#endif
        if (v < 1 || (double)v > DBW_EXACT_INT_MAX)
            why = "must be a positive integer";
        else
            *out = (size_t)v;
    }
    lua_pop(L, 1);
    return why;
}

static int opt_bool(lua_State *L, int t, const char *k, int dflt)
{
    int v = dflt;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static int opt_ref(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TFUNCTION)
        return luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return LUA_NOREF;
}

static int fail_new(lua_State *L, dbw_client *c, const char *field, const char *why)
{
    char msg[256];
    dbw_client_release(L, c);
    snprintf(msg, sizeof msg, "%s: %s", field, why);
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, msg, NULL, NULL);
    return 2;
}

#define TAKE(field, dst, header)                                                                             \
    do {                                                                                                     \
        const char *why_ = opt_string(L, 1, field, dst, header);                                             \
        if (why_)                                                                                            \
            return fail_new(L, c, field, why_);                                                              \
    } while (0)

/* core.new(settings): settings are already resolved by config.lua. */
static int core_new(lua_State *L)
{
    dbw_client *c;
    char *ca_file = NULL, *proxy = NULL;
    const char *why;
    size_t max_bytes;
    double rate;
    luaL_checktype(L, 1, LUA_TTABLE);
    c = dbw_client_new(L);

    lua_getfield(L, 1, "api");
    c->family = dbw_family_find(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "databricks");
    lua_pop(L, 1);
    if (c->family == NULL)
        return fail_new(L, c, "api", "must be \"databricks\" or \"mlflow\"");
    TAKE("host", &c->host, 1);
    c->host_assumed_https = opt_bool(L, 1, "host_assumed_https", 0);
    TAKE("user_agent", &c->user_agent, 1);
    TAKE("token", &c->token, 1);
    TAKE("client_id", &c->client_id, 0);
    TAKE("client_secret", &c->client_secret, 0);
    TAKE("workspace_id", &c->workspace_header, 1);
    if (c->workspace_header && prefix_with(&c->workspace_header, "X-Databricks-Workspace-Id: ") != 0)
        return fail_new(L, c, "workspace_id", "out of memory");
    if (c->host == NULL)
        return fail_new(L, c, "host", "is required");
    if (c->user_agent == NULL)
        return fail_new(L, c, "user_agent", "is required");
    {
        char msg[200];
        if (dbw_auth_configure(L, c, 1, msg, sizeof msg) != NULL) {
            dbw_client_release(L, c);
            lua_pushnil(L);
            dbw_error_push_local(L, DBW_E_INVALID, msg, NULL, NULL);
            return 2;
        }
    }

    if ((why = opt_number(L, 1, "timeout", 60, &c->timeout)) != NULL)
        return fail_new(L, c, "timeout", why);
    if ((why = opt_number(L, 1, "connect_timeout", 30, &c->connect_timeout)) != NULL)
        return fail_new(L, c, "connect_timeout", why);
    if ((why = opt_number(L, 1, "retry_timeout", 300, &c->retry_timeout)) != NULL)
        return fail_new(L, c, "retry_timeout", why);
    if ((why = opt_rate(L, 1, "rate_limit", &rate)) != NULL)
        return fail_new(L, c, "rate_limit", why);
    dbw_pace_init(&c->pace, rate, dbw_now());
    if ((why = opt_count(L, 1, "max_response_bytes", DBW_MAX_RESPONSE, &max_bytes)) != NULL)
        return fail_new(L, c, "max_response_bytes", why);
    if ((why = opt_count(L, 1, "max_response_values", DBW_JSON_MAX_VALUES, &c->max_values)) != NULL)
        return fail_new(L, c, "max_response_values", why);
    c->rng = (uint64_t)(uintptr_t)c ^ (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull;

    lua_getfield(L, 1, "credential_source");
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(c->cred_source, sizeof c->cred_source, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);

    lua_getfield(L, 1, "debug");
    c->debug_stderr = lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    c->debug_ref = opt_ref(L, 1, "debug");

    if (dbw_conn_init(&c->conn, NULL, &c->counters, max_bytes) != 0)
        return fail_new(L, c, "client", "curl_easy_init failed");
    c->closed = 0;
    if (dbw_auth_init(c) != 0)
        return fail_new(L, c, "client", "out of memory");

    why = opt_string(L, 1, "ca_file", &ca_file, 0);
    if (!why)
        why = opt_string(L, 1, "proxy", &proxy, 1);
    if (!why)
        why = dbw_http_setup(c, opt_bool(L, 1, "verify_tls", 1), ca_file, proxy);
    /* libcurl copies string options, so these are ours to free now. */
    free(ca_file);
    free(proxy);
    if (why)
        return fail_new(L, c, "client", why);
    return 1;
}

/* ---- methods -------------------------------------------------------------- */

/* The impl travels in the client rather than as an upvalue, so no closure
 * is made per call (lua_pushcfunction makes none from 5.2 on). */
static int protected_call(lua_State *L)
{
    dbw_client *c = lua_touserdata(L, 1);
    return c->running(L, c);
}

/* Runs impl(L, c) with the client marked busy, clearing the flag however
 * impl ends, then re-raises any error. */
static int run(lua_State *L, dbw_call_fn impl)
{
    dbw_client *c = dbw_client_check(L, 1);
    int n = lua_gettop(L), rc;
    if (c->busy)
        return luaL_error(L, "databricks.webhooks: client is busy (called again from its own callback)");
    c->busy = 1;
    c->running = impl;
    lua_pushcfunction(L, protected_call);
    lua_insert(L, 1);
    rc = lua_pcall(L, n, LUA_MULTRET, 0);
    dbw_client_end_call(L, c, rc != LUA_OK);
    if (rc != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

/* Methods taking a request table; delete and test also take a bare id. */
static int prepare_request(lua_State *L, const dbw_op *op)
{
    int t = lua_type(L, 2);
    if (op->id_positional && (t == LUA_TSTRING || t == LUA_TNUMBER)) {
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "id");
        lua_replace(L, 2);
    } else if (op->optional_req && (t == LUA_TNIL || t == LUA_TNONE)) {
        lua_settop(L, 1);
        lua_newtable(L);
    } else if (t != LUA_TTABLE) {
        /* named like the Lua front's check, not "bad argument #2 to '?'" */
        return luaL_error(L, "bad argument #1 to '%s' (%s expected, got %s)", op->name,
                          op->id_positional ? "table or id" : "table",
                          t == LUA_TNONE ? "no value" : lua_typename(L, t));
    }
    lua_settop(L, 2);
    return 0;
}

static int impl_op(lua_State *L, dbw_client *c)
{
    return dbw_call_op(L, c, c->running_op, 2);
}

/* client:<op>(request): one C function for every operation name of any
 * family; the name is its upvalue, the row the client's family's. */
static int m_op(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    dbw_client *c = dbw_client_check(L, 1);
    const dbw_op *op = dbw_op_find(c->family, name);
    if (op == NULL)
        return luaL_error(L, "databricks.webhooks: '%s' is not an operation of the %s API", name,
                          c->family->name);
    prepare_request(L, op);
    c->running_op = op;
    return run(L, impl_op);
}

/* client:bulk(op, requests[, opts]): see bulk.h */
static int m_bulk(lua_State *L)
{
    return run(L, dbw_bulk);
}

static int m_request(lua_State *L)
{
    return run(L, dbw_call_raw);
}

/* client:_begin(op, req) or client:_begin("request", method, path, body, query):
 * validates and builds the call like the method would and returns an
 * Exchange to run step by step from Lua (stepper.h), or nil, err. For the
 * Lua-transport loop in webhooks.lua; not part of the public API. */
static int m_begin(lua_State *L)
{
    dbw_client *c = dbw_client_check(L, 1);
    const char *name = luaL_checkstring(L, 2);
    const dbw_op *op = dbw_op_find(c->family, name);
    if (op == NULL && strcmp(name, "request") != 0)
        return luaL_argerror(L, 2, "operation name expected");
    if (c->busy)
        return luaL_error(L, "databricks.webhooks: client is busy (called again from its own callback)");
    lua_remove(L, 2); /* now laid out as the method's own arguments */
    if (op)
        prepare_request(L, op);
    return dbw_stepper_begin(L, c, op);
}

/* close(), __close and __gc: one idempotent function. Inside the client's
 * own call (close() or a `<close>` variable in its debug callback or token
 * source) releasing now would free memory that call still uses: the client
 * counts as closed at once and is released as the call unwinds (core.c run,
 * stepper.c). The collector never runs it mid-call: the call holds the client. */
static int m_close(lua_State *L)
{
    dbw_client *c = luaL_checkudata(L, 1, DBW_CLIENT_MT);
    if (c->busy)
        c->close_pending = 1;
    else
        dbw_client_release(L, c);
    return 0;
}

static int m_tostring(lua_State *L)
{
    dbw_client *c = luaL_checkudata(L, 1, DBW_CLIENT_MT);
    if (c->closed || c->close_pending)
        lua_pushfstring(L, "databricks.webhooks.Client (closed): %p", (void *)c);
    else
        lua_pushfstring(L, "databricks.webhooks.Client (%s, %s): %p", c->host, c->auth_name, (void *)c);
    return 1;
}

/* client:stats(): counters useful to prove keep-alive. */
static int m_stats(lua_State *L)
{
    dbw_client *c = dbw_client_check(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)c->counters.connections);
    lua_setfield(L, -2, "connections");
    lua_pushinteger(L, (lua_Integer)c->counters.requests);
    lua_setfield(L, -2, "requests");
    lua_pushinteger(L, (lua_Integer)c->counters.resends);
    lua_setfield(L, -2, "resends");
    if (c->counters.http_version) {
        lua_pushstring(L, c->counters.http_version == 20   ? "HTTP/2"
                          : c->counters.http_version == 10 ? "HTTP/1.0"
                                                           : "HTTP/1.1");
        lua_setfield(L, -2, "http_version");
    }
    return 1;
}

static int m_closed(lua_State *L)
{
    dbw_client *c = luaL_checkudata(L, 1, DBW_CLIENT_MT);
    lua_pushboolean(L, c->closed || c->close_pending);
    return 1;
}

/* ---- deliveries ----------------------------------------------------------- */

/* core.sign(secret, body) -> 64 lowercase hex digits */
static int core_sign(lua_State *L)
{
    size_t kl, ml;
    const char *k = luaL_checklstring(L, 1, &kl), *m = luaL_checklstring(L, 2, &ml);
    char hex[DBW_SIG_HEX_LEN + 1];
    if (dbw_hmac_sha256_hex(k, kl, m, ml, hex) != 0)
        return luaL_error(L, "databricks.webhooks: HMAC-SHA256 failed");
    lua_pushlstring(L, hex, DBW_SIG_HEX_LEN);
    return 1;
}

/* core.delivery_key(body) -> 64 lowercase hex digits of SHA-256(body) */
static int core_delivery_key(lua_State *L)
{
    size_t ml;
    const char *m = luaL_checklstring(L, 1, &ml);
    char hex[DBW_SIG_HEX_LEN + 1];
    if (dbw_sha256_hex(m, ml, hex) != 0)
        return luaL_error(L, "databricks.webhooks: SHA-256 failed");
    lua_pushlstring(L, hex, DBW_SIG_HEX_LEN);
    return 1;
}

/* core.verify_signature(secret, body, header) -> true | false, reason */
static int core_verify(lua_State *L)
{
    size_t kl, ml, hl = 0;
    const char *k = luaL_checklstring(L, 1, &kl), *m = luaL_checklstring(L, 2, &ml), *h;
    char hex[DBW_SIG_HEX_LEN + 1];
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TSTRING);
    h = lua_tolstring(L, 3, &hl);
    lua_pushboolean(L, 0);
    if (kl == 0) {
        lua_pushliteral(L, "secret is empty");
        return 2;
    }
    if (h == NULL || hl == 0) {
        lua_pushliteral(L, "missing X-Databricks-Signature header");
        return 2;
    }
    while (hl && (*h == ' ' || *h == '\t'))
        h++, hl--;
    while (hl && (h[hl - 1] == ' ' || h[hl - 1] == '\t'))
        hl--;
    if (hl != DBW_SIG_HEX_LEN || strspn(h, "0123456789abcdefABCDEF") < DBW_SIG_HEX_LEN) {
        lua_pushliteral(L, "malformed signature (expected 64 hex digits)");
        return 2;
    }
    if (dbw_hmac_sha256_hex(k, kl, m, ml, hex) != 0)
        return luaL_error(L, "databricks.webhooks: HMAC-SHA256 failed");
    if (!dbw_hex_equal_ct(hex, h)) {
        lua_pushliteral(L, "signature mismatch");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* An open-source MLflow envelope {entity, action, timestamp, data}: with the
 * payload at -2, sets its event to "entity.action" (MLflow's own name of the
 * event, e.g. "model_version.created", which no Databricks event name can be).
 * Returns 0 when entity or action is not a non-empty string. */
static int mlflow_event(lua_State *L)
{
    size_t el = 0, al = 0;
    int ok;
    lua_getfield(L, -2, "entity");
    lua_getfield(L, -3, "action");
    ok = lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING;
    if (ok) {
        lua_tolstring(L, -2, &el);
        lua_tolstring(L, -1, &al);
        ok = el > 0 && al > 0;
    }
    if (ok) {
        lua_pushliteral(L, ".");
        lua_insert(L, -2);
        lua_concat(L, 3);
        lua_setfield(L, -3, "event");
    } else
        lua_pop(L, 2);
    return ok;
}

/* core.parse_delivery(body) -> payload table | nil, err */
static int core_parse_delivery(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *why = NULL;
    if (!dbw_json_decode(L, s, n))
        why = "delivery body is not JSON";
    else if (lua_type(L, -1) != LUA_TTABLE)
        why = "delivery body is not a JSON object";
    else {
        lua_getfield(L, -1, "event");
        if (lua_type(L, -1) != LUA_TSTRING && !mlflow_event(L))
            why = "delivery has no event name (neither event nor entity and action)";
        lua_pop(L, 1);
    }
    if (why) {
        lua_pushnil(L);
        dbw_error_push_local(L, DBW_E_INVALID, why, NULL, NULL);
        return 2;
    }
    return 1;
}

/* core.mlflow_hmac(secret, id, timestamp, body[, expected]) -> the
 * 44-character standard base64 (padded) HMAC-SHA256 of id "." timestamp "."
 * body, or, given expected, whether it is exactly that (compared in constant
 * time; an empty secret never matches). MLflow's X-MLflow-Signature is "v1,"
 * and this. The three parts are hashed in place: a receiver joins no copy of
 * the body. */
static int core_mlflow_hmac(lua_State *L)
{
    size_t kl, el = 0;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *e = lua_isnoneornil(L, 5) ? NULL : luaL_checklstring(L, 5, &el);
    dbw_bytes parts[5];
    char b64[DBW_SIG_B64_LEN + 1];
    parts[0].p = luaL_checklstring(L, 2, &parts[0].n);
    parts[1].p = ".", parts[1].n = 1;
    parts[2].p = luaL_checklstring(L, 3, &parts[2].n);
    parts[3].p = ".", parts[3].n = 1;
    parts[4].p = luaL_checklstring(L, 4, &parts[4].n);
    if (dbw_hmac_sha256_b64(k, kl, parts, 5, b64) != 0)
        return luaL_error(L, "databricks.webhooks: HMAC-SHA256 failed");
    if (e == NULL)
        lua_pushlstring(L, b64, DBW_SIG_B64_LEN);
    else /* the length is public (always 44); only the bytes are secret */
        lua_pushboolean(L, kl > 0 && el == DBW_SIG_B64_LEN && dbw_equal_ct(b64, e, DBW_SIG_B64_LEN));
    return 1;
}

/* core.debug(client, line): a debug line through the client's `debug` (the
 * Lua driver's, webhooks.lua), as the C drivers write theirs. */
static int core_debug(lua_State *L)
{
    dbw_client *c = luaL_checkudata(L, 1, DBW_CLIENT_MT);
    const char *line = luaL_checkstring(L, 2);
    if (!c->closed)
        dbw_client_debug(L, c, line);
    return 0;
}

/* core.set_transport(client, t) / core.get_transport(client): the Lua
 * transport record of webhooks.lua, kept in the client's box so that a
 * transport closing over its own client is still collected with it. */
static int core_set_transport(lua_State *L)
{
    luaL_checkudata(L, 1, DBW_CLIENT_MT);
    lua_settop(L, 2);
    dbw_get_box(L, 1);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "transport");
    return 0;
}

static int core_get_transport(lua_State *L)
{
    luaL_checkudata(L, 1, DBW_CLIENT_MT);
    dbw_get_box(L, 1);
    lua_getfield(L, -1, "transport");
    return 1;
}

/* core.error(code, message[, status]) -> error object (for the Lua side). */
static int core_error(lua_State *L)
{
    dbw_error e;
    memset(&e, 0, sizeof e);
    e.code = luaL_checkstring(L, 1);
    e.message = luaL_checkstring(L, 2);
    e.status = (long)luaL_optinteger(L, 3, 0);
    e.retry_after = -1;
    dbw_error_push(L, &e);
    return 1;
}

static int core_file_mode(lua_State *L);

/* ---- module --------------------------------------------------------------- */

static const luaL_Reg client_methods[] = {
    {"request", m_request},  {"bulk", m_bulk},    {"close", m_close}, {"stats", m_stats},
    {"is_closed", m_closed}, {"_begin", m_begin}, {NULL, NULL},
};

/* client.api, else the method table (its upvalue). */
static int m_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_isnil(L, -1) && lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "api") == 0) {
        const dbw_client *c = lua_touserdata(L, 1);
        lua_pushstring(L, c->family ? c->family->name : dbw_families[0].name);
    }
    return 1;
}

/* Adds one method per operation name of any family (core.OP_NAMES, on the
 * stack top) to the client's method table, and client.api. */
static void add_op_methods(lua_State *L)
{
    int names = lua_gettop(L);
    luaL_getmetatable(L, DBW_CLIENT_MT);
    lua_getfield(L, LUA_REGISTRYINDEX, DBW_CLIENT_MT ".methods");
    lua_pushnil(L);
    while (lua_next(L, names) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, m_op, 1);
        lua_settable(L, -4);
    }
    lua_pushcclosure(L, m_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

static const luaL_Reg module_functions[] = {
    {"new", core_new},
    {"sign", core_sign},
    {"verify_signature", core_verify},
    {"delivery_key", core_delivery_key},
    {"parse_delivery", core_parse_delivery},
    {"mlflow_hmac", core_mlflow_hmac},
    {"error", core_error},
    {"set_transport", core_set_transport},
    {"debug", core_debug},
    {"get_transport", core_get_transport},
    {"sleep", dbw_stepper_sleep},
    {"validate", dbw_op_validate},
    {"file_mode", core_file_mode},
    {NULL, NULL},
};

DBW_API int luaopen_databricks_webhooks_core(lua_State *L);
DBW_API int luaopen_databricks_webhooks_core(lua_State *L)
{
    struct utsname u;
    /* Once per process; libcurl >= 7.84 makes this thread-safe. Never cleaned
     * up: other modules in the same process may still be using libcurl. */
    static int curl_ready = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return luaL_error(L, "databricks.webhooks: curl_global_init failed");
        curl_ready = 1;
    }
    dbw_errors_init(L);
    dbw_json_init(L, dbw_family_names);
    dbw_stepper_init(L);

    dbw_newclass(L, DBW_CLIENT_MT, client_methods, m_close, 1, m_tostring);
    /* the method table, for core.methods: a second load of this module (a
     * test re-requiring it) finds __index already made a function */
    lua_getfield(L, LUA_REGISTRYINDEX, DBW_CLIENT_MT ".methods");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_getfield(L, -1, "__index");
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, DBW_CLIENT_MT ".methods");
    }
    lua_remove(L, -2);

    lua_newtable(L);
    dbw_setfuncs(L, module_functions);
    lua_insert(L, -2);
    lua_setfield(L, -2, "methods");
    dbw_op_push_families(L); /* FAMILIES, OP_NAMES */
    add_op_methods(L);       /* idempotent: the same closures, __index made again */
    lua_setfield(L, -3, "OP_NAMES");
    lua_getfield(L, -1, dbw_families[0].name); /* the default family's, as before */
    lua_getfield(L, -1, "ops");
    lua_setfield(L, -4, "OPS");
    lua_getfield(L, -1, "events");
    lua_setfield(L, -4, "EVENTS");
    lua_getfield(L, -1, "statuses");
    lua_setfield(L, -4, "STATUSES");
    lua_pop(L, 1);
    lua_setfield(L, -2, "FAMILIES");
    luaL_getmetatable(L, DBW_ERROR_MT);
    lua_setfield(L, -2, "Error");
    lua_pushinteger(L, DBW_BULK_PARALLEL);
    lua_setfield(L, -2, "BULK_PARALLEL");
    lua_pushinteger(L, DBW_BULK_MAX_PARALLEL);
    lua_setfield(L, -2, "BULK_MAX_PARALLEL");
    lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
    lua_setfield(L, -2, "curl_version");
    if (uname(&u) == 0) {
        char os[sizeof u.sysname];
        size_t i;
        for (i = 0; u.sysname[i] && i + 1 < sizeof os; i++)
            os[i] = (char)(u.sysname[i] >= 'A' && u.sysname[i] <= 'Z' ? u.sysname[i] + 32 : u.sysname[i]);
        os[i] = '\0';
        lua_pushstring(L, os);
    } else {
        lua_pushliteral(L, "unknown");
    }
    lua_setfield(L, -2, "os");
    return 1;
}

/* core.file_mode(path) -> the permission bits of a file (stat(2)), or nil:
 * for config.lua's warning about a config file others can read. */
static int core_file_mode(lua_State *L)
{
    struct stat st;
    if (stat(luaL_checkstring(L, 1), &st) != 0)
        return 0;
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    return 1;
}

/* ---- reference documentation (LDoc reads csrc/: see config.ld) ------------ */

/***
 * The functions and client methods of `databricks.webhooks` implemented in C (the
 * methods of the operation table are registered by add_op_methods, above).
 * @module databricks.webhooks
 */

/***
 * Deliveries
 * @section deliveries
 */

/***
 * Verify the signature of a webhook delivery.
 *
 * Computes the lowercase hex HMAC-SHA256 of the exact body bytes keyed with
 * the webhook's secret, as Databricks does, and compares it with the
 * `X-Databricks-Signature` header in constant time. Verify before decoding.
 * @function verify_signature
 * @tparam string secret the webhook's `http_url_spec.secret`
 * @tparam string raw_body the request body, byte for byte
 * @tparam string header the value of the `X-Databricks-Signature` header
 * @treturn boolean `true` when the signature matches
 * @return[2] `false`
 * @treturn[2] string the reason
 * @usage
 * local ok, why = webhooks.verify_signature(secret, body, headers["x-databricks-signature"])
 * if not ok then return reply(401, why) end
 */

/***
 * Decode the JSON payload of a delivery, of either family.
 *
 * Databricks sends a flat payload with a string `event`
 * (`"MODEL_VERSION_CREATED"`, ...); it is returned as it is. Open-source
 * MLflow sends an envelope `{entity, action, timestamp, data}` with lowercase
 * `entity` and `action` (`"model_version"`, `"created"`) and an ISO 8601
 * `timestamp`; it is returned with `event` set to `entity .. "." .. action`
 * (`"model_version.created"`, MLflow's own name of the event, which no
 * Databricks event name can equal), so that code can dispatch on `event`
 * whichever family sent it. A body with a string `event` is always read as
 * Databricks'. Verify the signature first.
 * @function parse_delivery
 * @tparam string raw_body the request body
 * @treturn table the payload: `event`, `webhook_id`, `event_timestamp`,
 * `model_name`, `version`, `to_stage`, `from_stage`, ... (Databricks), or
 * `event`, `entity`, `action`, `timestamp`, `data` (MLflow); plain Lua values
 * @return[2] nil
 * @treturn[2] Error why the body is not a delivery
 */

/***
 * The identity of a delivery: the SHA-256 of its exact body, in hex.
 *
 * A sender's retry repeats the same bytes, while two deliveries of one
 * webhook differ in their body (the event, at least) even when they share an
 * `event_timestamp`. The receiver de-duplicates on this key.
 * @function delivery_key
 * @tparam string raw_body the request body, byte for byte
 * @treturn string 64 lowercase hex digits
 */

/***
 * The signature of a body, as `verify_signature` expects it.
 * For tests and relays.
 * @function sign
 * @tparam string secret the webhook's secret
 * @tparam string body the body to sign
 * @treturn string 64 lowercase hex digits
 */

/***
 * Client
 * @section client
 */

/***
 * A client, made by `new`.
 *
 * A client holds one connection and reuses it (keep-alive) across calls; it
 * belongs to one Lua state and runs one call at a time. Every method takes a
 * Lua table shaped like the REST request and returns plain Lua tables: absent
 * fields are absent (never `cjson.null`), timestamps are integers on Lua 5.3+,
 * `events` is always an array. Unknown fields, wrong types and unknown event
 * or status names return `nil, err` with `err.error_code ==
 * "INVALID_PARAMETER_VALUE"` and nothing is sent. A method called on a closed
 * client raises `"databricks.webhooks: client is closed"`.
 * @type client
 */

/***
 * Create a webhook.
 *
 * `create` is never retried after the request may have reached the server,
 * so a webhook is never created twice.
 * @function client:create
 * @tparam table req `events` (array of event names, required), `model_name`,
 * `description`, `status`, and exactly one of `http_url_spec = { url, secret,
 * authorization, enable_ssl_verification }` and `job_spec = { job_id,
 * access_token, workspace_url }`
 * @treturn table the webhook
 * @return[2] nil
 * @treturn[2] Error the error
 * @usage
 * local wh, err = client:create{
 *   model_name = "churn-model",
 *   events = { "MODEL_VERSION_TRANSITIONED_STAGE" },
 *   http_url_spec = { url = "https://hooks.example.com/databricks", secret = secret },
 * }
 */

/***
 * List one page of webhooks.
 * @function client:list
 * @tparam[opt] table req `model_name`, `events`, `max_results`, `page_token`
 * @treturn table `{ webhooks = { ... }, next_page_token = "..." or nil }`;
 * `webhooks` is always an array
 * @return[2] nil
 * @treturn[2] Error the error
 */

/***
 * Update a webhook; only the fields given change.
 * @function client:update
 * @tparam table req `id` (required), `description`, `events`, `status`,
 * `http_url_spec`, `job_spec`
 * @treturn table the webhook as the server sends it back (at least `id`)
 * @return[2] nil
 * @treturn[2] Error the error
 */

/***
 * Delete a webhook.
 * @function client:delete
 * @tparam table|string|number req `{ id = ... }`, or the id itself (an integer
 * id is sent as its digits)
 * @treturn boolean `true`
 * @return[2] nil
 * @treturn[2] Error the error
 */

/***
 * Have the workspace send a test delivery to a webhook.
 * @function client:test
 * @tparam table|string|number req `{ id = ..., event = ... }` (`event` optional),
 * or the id itself
 * @treturn table `{ status_code = 200, body = "..." }`: the receiver's answer
 * @return[2] nil
 * @treturn[2] Error the error
 */

/***
 * Run many calls of one operation side by side.
 *
 * The requests are validated one by one (an invalid one gets its error at
 * once) and sent over up to `parallel` connections with libcurl's multi
 * interface, each with the retry policy of a single call. One failure never
 * stops the others. Misuse (an unknown operation, a request that is not a
 * table, a bad `parallel`) raises before anything is sent.
 * @function client:bulk
 * @tparam string op `"create"`, `"update"`, `"delete"` or `"test"`
 * @tparam table requests an array of requests, each what the single method
 * takes (for `delete` and `test`, a plain id works too)
 * @tparam[opt] table opts `parallel`: transfers in flight at once, 1 to 64
 * (default 8)
 * @treturn table `results[i] = { ok = <what the single method returns> }` or
 * `{ err = <Error> }`, in the order of `requests`
 * @usage
 * local results = client:bulk("delete", { id1, id2, id3 }, { parallel = 8 })
 * for i, r in ipairs(results) do print(i, r.ok and "deleted" or tostring(r.err)) end
 */

/***
 * Call any other REST endpoint with the same authentication, retries and
 * error handling.
 * @function client:request
 * @tparam string method `"GET"`, `"POST"`, `"PATCH"`, `"DELETE"`, ...
 * @tparam string path the path, e.g. `"/api/2.0/mlflow/registered-models/get"`
 * @tparam[opt] table body sent as JSON
 * @tparam[opt] table query sent as the query string
 * @return the decoded JSON answer
 * @return[2] nil
 * @treturn[2] Error the error
 */

/***
 * Close the client's connections. Idempotent; `__gc` and `__close` (Lua 5.4
 * `local client <close>`) do the same.
 * @function client:close
 */

/***
 * Whether `close` was called.
 * @function client:is_closed
 * @treturn boolean
 */

/***
 * Counters, for checking connection reuse.
 * @function client:stats
 * @treturn table `{ connections = n, ... }`: TCP connections opened so far
 */
