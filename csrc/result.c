#include "result.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "json.h"
#include "ops.h"
#include "schema.h"

#define EXCERPT 200

static void init_error(dbw_error *e, const dbw_exchange *ex, const dbw_response *rs)
{
    memset(e, 0, sizeof *e);
    e->retry_after = rs ? rs->retry_after : -1;
    e->method = ex->method;
    e->path = ex->path;
    e->request_id = rs ? rs->request_id : NULL;
}

static int push_nil_error(lua_State *L, const dbw_error *e)
{
    lua_pushnil(L);
    dbw_error_push(L, e);
    return 2;
}

int dbw_result_push_net_error(lua_State *L, const dbw_exchange *ex, const dbw_response *rs)
{
    dbw_error e;
    init_error(&e, ex, NULL);
    switch (rs->net) {
    case DBW_NET_TIMEOUT:
        e.code = DBW_E_TIMEOUT;
        break;
    case DBW_NET_TLS:
        e.code = DBW_E_TLS;
        break;
    case DBW_NET_TOO_LARGE:
        e.code = DBW_E_BAD_RESPONSE;
        break;
    default:
        e.code = DBW_E_CONNECTION;
        break;
    }
    e.message = rs->net_msg ? rs->net_msg : "network error";
    return push_nil_error(L, &e);
}

/* A short, printable excerpt of a body that is not the JSON we expected. */
static void excerpt(dbw_buf *out, const char *prefix, const char *body, size_t len)
{
    size_t i, n = len < EXCERPT ? len : EXCERPT;
    dbw_buf_reset(out);
    dbw_buf_puts(out, prefix);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        char s = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
        dbw_buf_append(out, &s, 1);
    }
    if (len > n)
        dbw_buf_puts(out, "...");
}

/* Extracts <title>...</title> from an HTML error page. */
static int html_title(const char *body, size_t len, const char **t, size_t *tn)
{
    const char *p = body, *end = body + len, *s;
    for (; p + 7 <= end; p++) {
        if (strncasecmp(p, "<title>", 7) == 0) {
            s = p + 7;
            for (p = s; p + 8 <= end; p++)
                if (strncasecmp(p, "</title>", 8) == 0) {
                    *t = s;
                    *tn = (size_t)(p - s);
                    return 1;
                }
            return 0;
        }
    }
    return 0;
}

static void copy_code(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Non-2xx: the server's {"error_code","message"}, or the forms the SDKs also
 * accept ({"error"}, "CODE: message" text, an HTML page), or the status. */
static int push_http_error(lua_State *L, const dbw_client *c, dbw_req *r, const dbw_exchange *ex,
                           const dbw_response *rs)
{
    dbw_error e;
    char code[64];
    int top = lua_gettop(L);
    const char *t;
    size_t tn;
    init_error(&e, ex, rs);
    e.status = rs->status;
    t = dbw_error_code_for_status(rs->status);
    copy_code(code, sizeof code, t, strlen(t));
    dbw_buf_reset(&r->msg);
    if (rs->body_len && dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) == DBW_JSON_OK &&
        lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, top + 1, "error_code");
        lua_getfield(L, top + 1, "message");
        lua_getfield(L, top + 1, "error");
        /* Legacy endpoints put the HTTP status in error_code: treat non-strings
         * as absent, and so a string with a NUL inside (not a code). */
        if (lua_type(L, top + 2) == LUA_TSTRING && dbw_rawlen(L, top + 2) > 0 &&
            strlen(lua_tostring(L, top + 2)) == dbw_rawlen(L, top + 2))
            copy_code(code, sizeof code, lua_tostring(L, top + 2), dbw_rawlen(L, top + 2));
        if (lua_type(L, top + 3) == LUA_TSTRING)
            dbw_buf_append(&r->msg, lua_tostring(L, top + 3), dbw_rawlen(L, top + 3));
        else if (lua_type(L, top + 4) == LUA_TSTRING)
            dbw_buf_append(&r->msg, lua_tostring(L, top + 4), dbw_rawlen(L, top + 4));
    } else if (rs->body_len) {
        size_t i = 0;
        while (i < rs->body_len && (isupper((unsigned char)rs->body[i]) || rs->body[i] == '_'))
            i++;
        if (html_title(rs->body, rs->body_len, &t, &tn)) {
            excerpt(&r->msg, "", t, tn);
        } else if (i > 0 && i + 1 < rs->body_len && rs->body[i] == ':' && rs->body[i + 1] == ' ') {
            /* "ERROR_CODE: message" plain-text bodies. */
            copy_code(code, sizeof code, rs->body, i);
            excerpt(&r->msg, "", rs->body + i + 2, rs->body_len - i - 2);
        } else {
            excerpt(&r->msg, "", rs->body, rs->body_len);
        }
    }
    lua_settop(L, top);
    if (r->msg.len == 0) {
        if (rs->location)
            dbw_buf_printf(&r->msg, "HTTP %ld redirect to %s was not followed", rs->status, rs->location);
        else
            dbw_buf_printf(&r->msg, "HTTP %ld with no error message", rs->status);
    }
    e.code = code;
    e.message = r->msg.data;
    e.message_len = r->msg.len;
    return push_nil_error(L, &e);
}

static int bad_response(lua_State *L, dbw_req *r, const dbw_exchange *ex, const dbw_response *rs,
                        const char *why)
{
    dbw_error e;
    init_error(&e, ex, rs);
    e.status = rs->status;
    e.code = DBW_E_BAD_RESPONSE;
    excerpt(&r->msg, why, rs->body, rs->body_len);
    e.message = r->msg.data;
    return push_nil_error(L, &e);
}

/* The first byte that is not JSON whitespace is '{'. */
static int is_object_text(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && s[i] == '{';
}

/* Makes sure webhook.events is an array (the API omits empty repeated
 * fields), in the family's Lua form, and that `id` is set. */
static int fix_webhook(lua_State *L, const dbw_family *fam, int idx)
{
    int ev;
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    lua_getfield(L, idx, "events");
    ev = lua_gettop(L);
    if (lua_isnil(L, ev)) {
        lua_newtable(L);
        lua_setfield(L, idx, "events");
    } else if (lua_type(L, ev) != LUA_TTABLE || !dbw_json_is_array(L, ev)) {
        lua_pop(L, 1);
        return 0;
    } else if (fam->events_as_pairs) {
        size_t i, n = dbw_rawlen(L, ev);
        dbw_pairs_push(L, fam->events);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, ev, (int)i);
            dbw_pair_from_wire(L, -1, ev + 1);
            lua_rawseti(L, ev, (int)i);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (strcmp(fam->id_field, "id") != 0) {
        lua_getfield(L, idx, fam->id_field);
        lua_setfield(L, idx, "id");
    }
    return 1;
}

static int shape_list(lua_State *L, const dbw_family *fam, int body)
{
    size_t i, n;
    lua_getfield(L, body, "webhooks");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, body, "webhooks");
    }
    if (lua_type(L, -1) != LUA_TTABLE || !dbw_json_is_array(L, lua_gettop(L)))
        return 0;
    n = dbw_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
        int ok;
        lua_rawgeti(L, -1, (int)i);
        ok = fix_webhook(L, fam, lua_gettop(L));
        lua_pop(L, 1);
        if (!ok)
            return 0;
    }
    lua_pop(L, 1);
    /* An empty token means "no more pages", exactly like an absent one. */
    lua_getfield(L, body, "next_page_token");
    if (lua_type(L, -1) == LUA_TSTRING && dbw_rawlen(L, -1) == 0) {
        lua_pushnil(L);
        lua_setfield(L, body, "next_page_token");
    } else if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) {
        return 0;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, body);
    return 1;
}

/* test: the flat answer, else the pre-July-2025 {"webhook": {...}}; "status" is an alias. */
static int shape_test(lua_State *L, int body)
{
    int src = body, i;
    lua_getfield(L, body, "status_code");
    lua_getfield(L, body, "status");
    lua_getfield(L, body, "body");
    if (lua_isnil(L, -1) && lua_isnil(L, -2) && lua_isnil(L, -3)) {
        lua_pop(L, 3);
        lua_getfield(L, body, "webhook");
        if (lua_type(L, -1) != LUA_TTABLE)
            return 0;
        src = lua_gettop(L);
        lua_getfield(L, src, "status_code");
        lua_getfield(L, src, "status");
        lua_getfield(L, src, "body");
    }
    i = lua_gettop(L);
    lua_createtable(L, 0, 2);
    if (lua_type(L, i - 2) == LUA_TNUMBER || lua_type(L, i - 1) == LUA_TNUMBER) {
        dbw_pushnumber(L, lua_tonumber(L, lua_type(L, i - 2) == LUA_TNUMBER ? i - 2 : i - 1));
        lua_setfield(L, -2, "status_code");
    } else if (!lua_isnil(L, i - 2) || !lua_isnil(L, i - 1)) {
        return 0;
    }
    if (lua_type(L, i) == LUA_TSTRING) {
        lua_pushvalue(L, i);
        lua_setfield(L, -2, "body");
    } else if (!lua_isnil(L, i)) {
        return 0;
    }
    (void)src;
    return 1;
}

int dbw_result_push(lua_State *L, const dbw_client *c, dbw_req *r, const dbw_exchange *ex,
                    const dbw_response *rs)
{
    dbw_shape shape = r->shape;
    int body, top, rc = DBW_JSON_OK;
    if (rs->net != DBW_NET_OK)
        return dbw_result_push_net_error(L, ex, rs);
    if (rs->status < 200 || rs->status > 299)
        return push_http_error(L, c, r, ex, rs);

    top = lua_gettop(L);
    if (rs->body_len == 0) {
        lua_newtable(L);
    } else if ((rc = dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values)) != DBW_JSON_OK) {
        if (rc == DBW_JSON_TOO_MANY) {
            char why[128];
            snprintf(why, sizeof why,
                     "response has more than %zu JSON values (max_response_values): ", c->max_values);
            return bad_response(L, r, ex, rs, why);
        }
        return bad_response(L, r, ex, rs, "response is not JSON: ");
    }
    body = lua_gettop(L);
    /* a JSON array decodes to a table too: only client:request() takes one */
    if (lua_type(L, body) != LUA_TTABLE ||
        (rs->body_len > 0 && shape != DBW_SHAPE_ANY && !is_object_text(rs->body, rs->body_len))) {
        lua_settop(L, top);
        return bad_response(L, r, ex, rs, "response is not a JSON object: ");
    }
    switch (shape) {
    case DBW_SHAPE_ANY:
        lua_pushvalue(L, body);
        break;
    case DBW_SHAPE_DELETE:
        lua_pushboolean(L, 1);
        break;
    case DBW_SHAPE_WEBHOOK:
    case DBW_SHAPE_UPDATE:
        lua_getfield(L, body, "webhook");
        if (lua_isnil(L, -1) && shape == DBW_SHAPE_UPDATE && r->update_id) {
            /* Older workspaces answer update with {}: return at least the id. */
            lua_pop(L, 1);
            lua_createtable(L, 0, 1);
            lua_pushstring(L, r->update_id);
            lua_setfield(L, -2, "id");
        } else if (!fix_webhook(L, c->family, lua_gettop(L))) {
            lua_settop(L, top);
            return bad_response(L, r, ex, rs, "response has no webhook object: ");
        }
        break;
    case DBW_SHAPE_LIST:
        if (!shape_list(L, c->family, body)) {
            lua_settop(L, top);
            return bad_response(L, r, ex, rs, "response is not a webhook list: ");
        }
        break;
    case DBW_SHAPE_RESULT:
        lua_getfield(L, body, "result");
        if (lua_type(L, -1) != LUA_TTABLE) {
            lua_settop(L, top);
            return bad_response(L, r, ex, rs, "response has no result object: ");
        }
        break;
    case DBW_SHAPE_TEST:
        if (!shape_test(L, body)) {
            lua_settop(L, top);
            return bad_response(L, r, ex, rs, "response is not a test result: ");
        }
        break;
    }
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}
