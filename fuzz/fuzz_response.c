/*
 * fuzz_response - what a server (or a Lua transport) sends back, turned into
 * what a method returns: status + headers + body -> dbw_result_push, with
 * JSON decoding (dbw_json_decode), the five result shapes and the error shaping of non-2xx answers.
 *
 * Two ways in, picked by the first byte:
 *   direct  - dbw_result_push on a response struct built from the input,
 *             for every shape (and the network-failure path);
 *   stepper - a real client (PAT or OAuth M2M) runs a whole call step by step
 *             (client:_begin / ex:step), each "send" answered with a response
 *             table carved from the input: status, Retry-After, x-request-id,
 *             Location, body, or a transport failure. This covers
 *             read_response, the exchange policy (401 refresh, retries),
 *             the OAuth discovery and token parsing, and dbw_call_finish.
 *
 * Invariants (a violation aborts): a success only for a 2xx whose body is
 * empty or a JSON object; webhooks/events always arrays; no cjson.null and no
 * integral floats in results; every failure a well-formed error object whose
 * tostring is one line; the stack is balanced.
 */
#include <string.h>

#include "fz.h"

#include "../csrc/client.h"
#include "../csrc/errors.h"
#include "../csrc/exchange.h"
#include "../csrc/json.h"
#include "../csrc/ops.h"
#include "../csrc/request.h"
#include "../csrc/result.h"
#include "../csrc/retry.h"

static const long statuses[] = {200, 201, 204, 299, 300, 301, 302, 307, 400, 401, 403, 404,
                                409, 429, 499, 500, 501, 502, 503, 504, 0,   99,  100, 999};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

static long pick_status(fz_in *in)
{
    unsigned b = fz_u8(in);
    if (b < 0xF0)
        return statuses[b % NSTATUSES];
    return (long)(fz_u16(in) % 1200);
}

/* The first non-blank byte of a body, or 0. */
static int first_byte(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return (unsigned char)s[i];
    return 0;
}

static void check_webhook(lua_State *L, int idx, const char *what)
{
    idx = lua_absindex(L, idx);
    FZ_ASSERT(lua_type(L, idx) == LUA_TTABLE, "%s: webhook is a %s", what, luaL_typename(L, idx));
    lua_getfield(L, idx, "events");
    FZ_ASSERT(fz_is_array(L, -1), "%s: webhook.events is not an array", what);
    lua_pop(L, 1);
    fz_check_integer_field(L, idx, "creation_timestamp", what);
    fz_check_integer_field(L, idx, "last_updated_timestamp", what);
}

/* Checks what a call returned: n values on top of the stack. */
static void check_result(lua_State *L, int n, dbw_shape shape, int ok_allowed, const char *what)
{
    int top = lua_gettop(L);
    FZ_ASSERT(n == 1 || n == 2, "%s: returned %d values", what, n);
    if (n == 2) {
        FZ_ASSERT(lua_isnil(L, top - 1), "%s: failure without nil first", what);
        fz_check_error(L, top, what);
        return;
    }
    FZ_ASSERT(ok_allowed, "%s: success for a response that is not a 2xx JSON object", what);
    fz_check_plain(L, top, what, shape == DBW_SHAPE_ANY);
    switch (shape) {
    case DBW_SHAPE_DELETE:
        FZ_ASSERT(lua_type(L, top) == LUA_TBOOLEAN && lua_toboolean(L, top), "%s: delete did not return true",
                  what);
        break;
    case DBW_SHAPE_WEBHOOK:
        check_webhook(L, top, what);
        break;
    case DBW_SHAPE_UPDATE:
        FZ_ASSERT(lua_type(L, top) == LUA_TTABLE, "%s: update returned a %s", what, luaL_typename(L, top));
        lua_getfield(L, top, "events");
        if (!lua_isnil(L, -1))
            FZ_ASSERT(fz_is_array(L, -1), "%s: update's events is not an array", what);
        lua_pop(L, 1);
        fz_check_integer_field(L, top, "creation_timestamp", what);
        fz_check_integer_field(L, top, "last_updated_timestamp", what);
        break;
    case DBW_SHAPE_LIST: {
        size_t i, len;
        FZ_ASSERT(lua_type(L, top) == LUA_TTABLE, "%s: list returned a %s", what, luaL_typename(L, top));
        lua_getfield(L, top, "webhooks");
        FZ_ASSERT(fz_is_array(L, -1), "%s: page.webhooks is not an array", what);
        len = lua_rawlen(L, -1);
        for (i = 1; i <= len; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i);
            check_webhook(L, -1, what);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_getfield(L, top, "next_page_token");
        FZ_ASSERT(lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0),
                  "%s: next_page_token is neither absent nor a non-empty string", what);
        lua_pop(L, 1);
        break;
    }
    case DBW_SHAPE_TEST:
        FZ_ASSERT(lua_type(L, top) == LUA_TTABLE, "%s: test returned a %s", what, luaL_typename(L, top));
        fz_check_integer_field(L, top, "status_code", what);
        lua_getfield(L, top, "status_code");
        FZ_ASSERT(lua_isnil(L, -1) || lua_type(L, -1) == LUA_TNUMBER, "%s: status_code not a number", what);
        lua_getfield(L, top, "body");
        FZ_ASSERT(lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING, "%s: body not a string", what);
        lua_pop(L, 2);
        break;
    case DBW_SHAPE_RESULT:
        FZ_ASSERT(lua_type(L, top) == LUA_TTABLE, "%s: test returned a %s", what, luaL_typename(L, top));
        break;
    case DBW_SHAPE_ANY:
        FZ_ASSERT(lua_type(L, top) == LUA_TTABLE, "%s: request returned a %s", what, luaL_typename(L, top));
        break;
    }
}

/* ---- direct: dbw_result_push --------------------------------------------- */

static dbw_client fake; /* only max_values and family are read */

static void direct(lua_State *L, dbw_shape shape, const dbw_family *family, fz_in *in)
{
    static const dbw_net nets[] = {DBW_NET_OK,         DBW_NET_OK,      DBW_NET_OK,  DBW_NET_OK,
                                   DBW_NET_CONNECTION, DBW_NET_TIMEOUT, DBW_NET_TLS, DBW_NET_TOO_LARGE};
    dbw_exchange ex;
    dbw_response rs;
    char loc[256], rid[96], ra[64];
    size_t n;
    const char *s;
    unsigned flags;
    int top = lua_gettop(L), reqidx, got, first;
    dbw_req *r;

    fake.max_values = DBW_JSON_MAX_VALUES;
    fake.family = family;
    memset(&ex, 0, sizeof ex);
    memset(&rs, 0, sizeof rs);
    ex.method = "PATCH";
    ex.path = "/api/2.0/mlflow/registry-webhooks/update";
    rs.status = pick_status(in);
    flags = fz_u8(in);
    rs.net = nets[(flags >> 3) & 7];
    rs.net_msg = (flags & 0x40) ? "fuzz: network failure" : NULL;
    rs.retry_after = -1;
    /* Header values are bounded copies, as http.c and stepper.c keep them. */
    s = fz_bytes(in, sizeof loc - 1, &n);
    if (flags & 1) {
        memcpy(loc, s, n);
        loc[n] = '\0';
        rs.location = loc;
    }
    s = fz_bytes(in, sizeof rid - 1, &n);
    if (flags & 2) {
        memcpy(rid, s, n);
        rid[n] = '\0';
        rs.request_id = rid;
    }
    s = fz_bytes(in, sizeof ra - 1, &n);
    if (flags & 4) {
        memcpy(ra, s, n);
        ra[n] = '\0';
        rs.retry_after = dbw_retry_after_parse(ra, 1700000000.0);
    }
    rs.body = fz_rest(in, &rs.body_len);
    if (dbw_json_decode(L, rs.body, rs.body_len)) {
        fz_shape_feature(L, -1);
        lua_pop(L, 1);
    }

    /* the request, with the id an update echoes */
    r = dbw_req_push(L);
    r->shape = shape;
    r->update_id = strdup("0123456789abcdef0123456789abcdef");
    reqidx = lua_gettop(L);

    got = dbw_result_push(L, &fake, r, &ex, &rs);
    FZ_ASSERT(lua_gettop(L) == reqidx + got, "direct: stack unbalanced (%d values, top %d)", got,
              lua_gettop(L) - reqidx);
    first = first_byte(rs.body, rs.body_len);
    check_result(L, got, shape,
                 rs.net == DBW_NET_OK && rs.status >= 200 && rs.status <= 299 &&
                     (first == 0 || first == '{' || (first == '[' && shape == DBW_SHAPE_ANY)),
                 "direct");
    if (got == 2) {
        int e = lua_gettop(L);
        lua_getfield(L, e, "status");
        if (rs.net == DBW_NET_OK && rs.status > 0)
            FZ_ASSERT(lua_tointeger(L, -1) == rs.status, "direct: err.status %d for HTTP %ld",
                      (int)lua_tointeger(L, -1), rs.status);
        else
            FZ_ASSERT(lua_isnil(L, -1), "direct: err.status set for a network failure");
        lua_getfield(L, e, "request");
        FZ_ASSERT(lua_type(L, -1) == LUA_TSTRING &&
                      strcmp(lua_tostring(L, -1), "PATCH /api/2.0/mlflow/registry-webhooks/update") == 0,
                  "direct: err.request wrong");
    }
    lua_settop(L, top);
}

/* ---- stepper: a whole call over a scripted transport ------------------------ */

static const char *const kinds[] = {"timeout", "tls", "connect", "too_large", "connection", "bogus"};

/* Pushes the transport's answer to one "send". */
static void push_answer(lua_State *L, fz_in *in)
{
    unsigned b = fz_u8(in), flags;
    size_t n;
    const char *s;
    if (b >= 0xF8) {
        /* a transport failure */
        lua_createtable(L, 0, 2);
        lua_pushstring(L, kinds[b % 6]);
        lua_setfield(L, -2, "error_kind");
        s = fz_bytes(in, 255, &n);
        if (b & 1) {
            lua_pushlstring(L, s, n);
            lua_setfield(L, -2, "message");
        }
        return;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, b < 0xF0 ? statuses[b % NSTATUSES] : (lua_Integer)(fz_u16(in) % 1200));
    lua_setfield(L, -2, "status");
    flags = fz_u8(in);
    lua_createtable(L, 0, 3);
    s = fz_bytes(in, 255, &n);
    if (flags & 1) {
        lua_pushlstring(L, s, n);
        lua_setfield(L, -2, "retry-after");
    }
    s = fz_bytes(in, 255, &n);
    if (flags & 2) {
        lua_pushlstring(L, s, n);
        lua_setfield(L, -2, "x-request-id");
    }
    s = fz_bytes(in, 255, &n);
    if (flags & 4) {
        lua_pushlstring(L, s, n);
        lua_setfield(L, -2, "location");
    }
    lua_setfield(L, -2, "headers");
    /* the last answer takes the rest of the input, earlier ones a slice */
    if (flags & 8) {
        s = fz_rest(in, &n);
    } else {
        size_t want = fz_u16(in);
        s = (const char *)in->p;
        n = want < in->n ? want : in->n;
        in->p += n;
        in->n -= n;
    }
    lua_pushlstring(L, s, n);
    if (dbw_json_decode(L, s, n)) {
        fz_shape_feature(L, -1);
        lua_pop(L, 1);
    }
    lua_setfield(L, -2, "body");
}

static const struct {
    const char *op;
    dbw_shape shape;
} ops[] = {
    {"create", DBW_SHAPE_WEBHOOK}, {"list", DBW_SHAPE_LIST}, {"update", DBW_SHAPE_UPDATE},
    {"delete", DBW_SHAPE_DELETE},  {"test", DBW_SHAPE_TEST}, {"request", DBW_SHAPE_ANY},
};

/* Pushes the arguments of client:_begin after the client: op name and request. */
static int push_call(lua_State *L, int which)
{
    lua_pushstring(L, ops[which].op);
    switch (which) {
    case 0:
        (void)luaL_dostring(L, "return { events = { 'MODEL_VERSION_CREATED' }, model_name = 'm',"
                               " http_url_spec = { url = 'https://hooks.example/x', secret = 's' } }");
        return 2;
    case 1:
        (void)luaL_dostring(L, "return { model_name = 'm', max_results = 10 }");
        return 2;
    case 2:
        (void)luaL_dostring(L, "return { id = 'abc', status = 'DISABLED' }");
        return 2;
    case 3:
    case 4:
        lua_pushliteral(L, "abc");
        return 2;
    default:
        lua_pushliteral(L, "GET");
        lua_pushliteral(L, "/api/2.0/preview/x");
        lua_pushnil(L);
        lua_pushnil(L);
        return 5;
    }
}

static void stepper(lua_State *L, int oauth, int which, fz_in *in)
{
    int top = lua_gettop(L), client, ex, step, rc, nargs;

    fz_push_core(L);
    lua_getfield(L, -1, "new");
    if (oauth)
        (void)luaL_dostring(L, "return { host = 'https://fuzz.example', user_agent = 'fuzz',"
                               " auth_type = 'oauth-m2m', client_id = 'id', client_secret = 'secret',"
                               " retry_timeout = 0, timeout = 1 }");
    else
        (void)luaL_dostring(L, "return { host = 'https://fuzz.example', user_agent = 'fuzz',"
                               " token = 'dapi-fuzz', retry_timeout = 0, timeout = 1 }");
    rc = lua_pcall(L, 1, 2, 0);
    FZ_ASSERT(rc == LUA_OK && lua_type(L, -2) == LUA_TUSERDATA, "core.new failed");
    lua_pop(L, 1);
    client = lua_gettop(L);

    lua_getfield(L, client, "_begin");
    lua_pushvalue(L, client);
    nargs = 1 + push_call(L, which);
    rc = lua_pcall(L, nargs, 2, 0);
    FZ_ASSERT(rc == LUA_OK, "_begin raised: %s", lua_tostring(L, -1));
    FZ_ASSERT(lua_type(L, -2) == LUA_TUSERDATA, "_begin refused a valid request");
    lua_pop(L, 1);
    ex = lua_gettop(L);

    lua_pushnil(L); /* the first step has no answer */
    for (step = 0; step < 8; step++) {
        int base = lua_gettop(L), n;
        const char *action;
        lua_getfield(L, ex, "step");
        lua_pushvalue(L, ex);
        lua_pushvalue(L, base);
        rc = lua_pcall(L, 2, LUA_MULTRET, 0);
        FZ_ASSERT(rc == LUA_OK, "ex:step raised: %s", lua_tostring(L, -1));
        n = lua_gettop(L) - base;
        action = lua_tostring(L, base + 1);
        FZ_ASSERT(action != NULL, "ex:step returned no action");
        if (strcmp(action, "done") == 0) {
            lua_remove(L, base + 1);
            check_result(L, n - 1, ops[which].shape, 1, "stepper");
            break;
        }
        if (strcmp(action, "sleep") == 0) {
            FZ_ASSERT(0, "slept with retry_timeout = 0");
        }
        FZ_ASSERT(strcmp(action, "send") == 0 && lua_type(L, base + 2) == LUA_TTABLE,
                  "ex:step: bad action %s", action);
        /* Only the token request may go elsewhere: to the endpoint the
         * workspace's own discovery document names (as the SDKs do). */
        lua_getfield(L, base + 2, "url");
        lua_getfield(L, base + 2, "path");
        FZ_ASSERT(lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING,
                  "request without url/path");
        FZ_ASSERT(strncmp(lua_tostring(L, -2), "https://fuzz.example/", 21) == 0 ||
                      strcmp(lua_tostring(L, -1), "/oidc/v1/token") == 0,
                  "a request left the configured host: %s", lua_tostring(L, -2));
        lua_settop(L, base - 1);
        push_answer(L, in);
    }
    /* Close with the exchange maybe still open: a later step must raise, not crash. */
    lua_settop(L, ex);
    lua_getfield(L, client, "close");
    lua_pushvalue(L, client);
    FZ_ASSERT(lua_pcall(L, 1, 0, 0) == LUA_OK, "close raised: %s", lua_tostring(L, -1));
    lua_getfield(L, ex, "step");
    lua_pushvalue(L, ex);
    FZ_ASSERT(lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK, "ex:step on a closed client did not raise");
    lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = fz_lua();
    fz_in in = {data, size};
    unsigned mode = fz_u8(&in);
    int top = lua_gettop(L);

    /* 0..6: a shape, answered directly, for either family; 7: a Stepper */
    if ((mode & 7) <= DBW_SHAPE_ANY)
        direct(L, (dbw_shape)(mode & 7), &dbw_families[(mode >> 3) & 1], &in);
    else
        stepper(L, (mode >> 6) & 1, (int)((mode >> 3) % 6), &in);
    fz_done(L, top); /* also collects this input's client and exchange */
    return 0;
}
