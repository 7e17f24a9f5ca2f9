#include "auth.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "clock.h"
#include "errors.h"
#include "json.h"
#include "urlenc.h"

/* Refresh this long before expiry at most; Azure rejects tokens with < 30 s left. */
#define REFRESH_MARGIN 40.0

static const dbw_auth_source *const SOURCES[] = {&dbw_auth_pat,
                                                 &dbw_auth_basic,
                                                 &dbw_auth_metadata_service,
                                                 &dbw_auth_oauth_m2m,
                                                 &dbw_auth_env_oidc,
                                                 &dbw_auth_file_oidc,
                                                 &dbw_auth_github_oidc,
                                                 &dbw_auth_azure_client_secret,
                                                 &dbw_auth_callback,
                                                 &dbw_auth_none,
                                                 NULL};

#define SETTING_NAME(id, name) name,
static const char *const SETTING_NAMES[DBW_AS_COUNT] = {DBW_AUTH_SETTINGS(SETTING_NAME)};
#undef SETTING_NAME

static const char *take_string(lua_State *L, int idx, const char *field, char **dst)
{
    size_t n;
    const char *s;
    lua_getfield(L, idx, field);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        return "must be a string";
    }
    s = lua_tolstring(L, -1, &n);
    if (n == 0 || strlen(s) != n || strpbrk(s, "\r\n")) {
        lua_pop(L, 1);
        return "must be a non-empty string without control characters";
    }
    *dst = malloc(n + 1);
    if (*dst)
        memcpy(*dst, s, n + 1);
    lua_pop(L, 1);
    return *dst ? NULL : "out of memory";
}

const char *dbw_auth_configure(lua_State *L, dbw_client *c, int idx, char *why, size_t size)
{
    const char *name = NULL, *err;
    size_t i;
    for (i = 0; i < DBW_AS_COUNT; i++)
        if ((err = take_string(L, idx, SETTING_NAMES[i], &c->auth_set[i])) != NULL) {
            snprintf(why, size, "%s: %s", SETTING_NAMES[i], err);
            return why;
        }
    lua_getfield(L, idx, "token_source");
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        c->auth_fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, idx, "auth_type");
    name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "pat";
    c->auth_src = NULL;
    for (i = 0; SOURCES[i] != NULL; i++)
        if (strcmp(SOURCES[i]->name, name) == 0)
            c->auth_src = SOURCES[i];
    /* a Lua token source runs under the auth_type the front chose for it */
    if (c->auth_src == NULL && c->auth_fn_ref != LUA_NOREF)
        c->auth_src = &dbw_auth_callback;
    if (c->auth_src == NULL) {
        snprintf(why, size, "auth_type: unsupported value '%.64s'", name);
        lua_pop(L, 1);
        return why;
    }
    snprintf(c->auth_name, sizeof c->auth_name, "%s", name);
    lua_pop(L, 1);
    if ((err = c->auth_src->check(c)) != NULL) {
        snprintf(why, size, "%s", err);
        return why;
    }
    return NULL;
}

void dbw_auth_release(lua_State *L, dbw_client *c)
{
    int i;
    for (i = 0; i < DBW_AS_COUNT; i++)
        if (c->auth_set[i]) {
            memset(c->auth_set[i], 0, strlen(c->auth_set[i]));
            free(c->auth_set[i]);
            c->auth_set[i] = NULL;
        }
    if (L && c->auth_fn_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, c->auth_fn_ref);
    c->auth_fn_ref = LUA_NOREF;
    dbw_buf_free(&c->aux_body);
}

int dbw_auth_init(dbw_client *c)
{
    dbw_buf_wipe(&c->auth_header);
    c->token_state.expiry = 0;
    c->token_state.refreshing_until = 0;
    return c->auth_src && c->auth_src->init ? c->auth_src->init(c) : 0;
}

int dbw_auth_ready(const dbw_client *c, double now)
{
    if (c->auth_src == NULL || c->auth_src->next == NULL)
        return 1;
    return c->auth_header.len > 0 && now < c->token_state.expiry;
}

int dbw_auth_invalidate(dbw_client *c)
{
    if (c->auth_src == NULL || c->auth_src->next == NULL)
        return 0;
    dbw_buf_wipe(&c->auth_header);
    c->token_state.expiry = 0;
    return 1;
}

int dbw_auth_refreshing(const dbw_client *c, double now)
{
    return now < c->token_state.refreshing_until;
}

void dbw_auth_abandon(dbw_client *c)
{
    if (c->token_state.refreshing_until == 0)
        return;
    c->token_state.refreshing_until = 0;
    c->token_state.step = 0;
    if (c->token_state.id_token) {
        OPENSSL_cleanse(c->token_state.id_token, strlen(c->token_state.id_token));
        free(c->token_state.id_token);
        c->token_state.id_token = NULL;
    }
    dbw_buf_wipe(&c->aux_body);
    dbw_buf_wipe(&c->aux_header);
}

const char *dbw_auth_next_request(lua_State *L, dbw_client *c, dbw_request *rq)
{
    const char *code;
    memset(rq, 0, sizeof *rq);
    dbw_buf_reset(&c->aux_url);
    dbw_buf_wipe(&c->aux_body);
    dbw_buf_wipe(&c->aux_header);
    code = c->auth_src->next(L, c, rq);
    /* The request's own timeouts bound it; a second more covers the rest. */
    if (code == NULL && rq->url)
        c->token_state.refreshing_until = dbw_now() + c->connect_timeout + c->timeout + 1;
    return code;
}

const char *dbw_auth_on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    const char *code;
    c->token_state.refreshing_until = 0;
    code = c->auth_src->on_response(L, c, rs, now);
    dbw_buf_wipe(&c->aux_body); /* the secrets of the request are no longer needed */
    dbw_buf_wipe(&c->aux_header);
    return code;
}

const char *dbw_auth_set_token(dbw_client *c, const char *type, size_t type_len, const char *tok,
                               size_t tok_len, double ttl, double now, const char *who)
{
    /* Bytes that would end or split the header line, or a NUL that would cut the token short. */
    if (tok == NULL || tok_len == 0 || strlen(tok) != tok_len || strpbrk(tok, "\r\n") ||
        strpbrk(type, "\r\n") || strlen(type) != type_len) {
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "%s sent no usable access_token", who);
        return DBW_E_BAD_RESPONSE;
    }
    if (!(ttl > 0))
        ttl = 3600;
    dbw_buf_wipe(&c->auth_header);
    dbw_buf_printf(&c->auth_header, "Authorization: %s %s", type_len ? type : "Bearer", tok);
    c->token_state.expiry = now + ttl - (ttl / 2 < REFRESH_MARGIN ? ttl / 2 : REFRESH_MARGIN);
    return NULL;
}

/* A number, or a string of digits (Entra ID v1 sends "3599"); else -1. */
static double number_at(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        return lua_tonumber(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        if (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 16)
            return strtod(s, NULL);
    }
    return -1;
}

const char *dbw_auth_take_json(lua_State *L, dbw_client *c, const dbw_response *rs, double now,
                               const char *who)
{
    int top = lua_gettop(L);
    const char *code;
    size_t tok_len = 0, type_len = 0;
    const char *tok = NULL, *type = "";
    double ttl = -1, on;
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) != DBW_JSON_OK ||
        lua_type(L, -1) != LUA_TTABLE) {
        lua_settop(L, top);
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "%s sent a body that is not a JSON object", who);
        return DBW_E_BAD_RESPONSE;
    }
    lua_getfield(L, top + 1, "access_token");
    lua_getfield(L, top + 1, "token_type");
    lua_getfield(L, top + 1, "expires_in");
    lua_getfield(L, top + 1, "expires_on");
    if (lua_type(L, top + 2) == LUA_TSTRING)
        tok = lua_tolstring(L, top + 2, &tok_len);
    if (lua_type(L, top + 3) == LUA_TSTRING)
        type = lua_tolstring(L, top + 3, &type_len);
    ttl = number_at(L, top + 4);
    if (ttl <= 0 && (on = number_at(L, top + 5)) > 0)
        ttl = on - (double)time(NULL);
    if (ttl <= 0 && lua_isnil(L, top + 4) && lua_isnil(L, top + 5))
        ttl = 3600;
    code = ttl > 0 ? dbw_auth_set_token(c, type, type_len, tok, tok_len, ttl, now, who) : NULL;
    if (ttl <= 0) {
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "%s sent a token that has already expired", who);
        code = DBW_E_BAD_RESPONSE;
    }
    lua_settop(L, top);
    return code;
}

const char *dbw_auth_failure(lua_State *L, dbw_client *c, const dbw_response *rs, const char *who)
{
    const char *what = NULL, *desc = NULL;
    int top = lua_gettop(L);
    dbw_buf_reset(&c->msg);
    if (rs->net != DBW_NET_OK) {
        dbw_buf_printf(&c->msg, "%s: request failed: %s", who, rs->net_msg ? rs->net_msg : "network error");
        return rs->net == DBW_NET_TIMEOUT ? DBW_E_TIMEOUT
               : rs->net == DBW_NET_TLS   ? DBW_E_TLS
                                          : DBW_E_CONNECTION;
    }
    /* The OAuth error shape ({error, error_description}) or Databricks' own. */
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) == DBW_JSON_OK &&
        lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, top + 1, "error");
        lua_getfield(L, top + 1, "error_description");
        lua_getfield(L, top + 1, "error_code");
        lua_getfield(L, top + 1, "message");
        what = lua_type(L, top + 2) == LUA_TSTRING   ? lua_tostring(L, top + 2)
               : lua_type(L, top + 4) == LUA_TSTRING ? lua_tostring(L, top + 4)
                                                     : NULL;
        desc = lua_type(L, top + 3) == LUA_TSTRING   ? lua_tostring(L, top + 3)
               : lua_type(L, top + 5) == LUA_TSTRING ? lua_tostring(L, top + 5)
                                                     : NULL;
    }
    dbw_buf_printf(&c->msg, "%s answered HTTP %ld%s%s%s%s", who, rs->status, what ? ": " : "",
                   what ? what : "", desc ? ": " : "", desc ? desc : "");
    lua_settop(L, top);
    return DBW_E_UNAUTHENTICATED;
}

/* scheme://host[:port] of a URL, lower-cased, with the scheme's default port
 * spelt out, so that two spellings of one origin compare equal. 0 when the
 * URL has no such prefix, carries user information or control bytes. */
static int origin_of(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://"), *host, *end;
    const char *port = NULL;
    size_t i, n = 0;
    char scheme[8];
    if (p == NULL || p - url >= (long)sizeof scheme || strcspn(url, "\r\n\t ") != strlen(url))
        return 0;
    for (i = 0; url + i < p; i++)
        scheme[i] = (char)tolower((unsigned char)url[i]);
    scheme[i] = '\0';
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        return 0;
    host = p + 3;
    end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (size_t)(end - host)) != NULL || end == host)
        return 0;
    /* the port's colon: after a bracketed IPv6 literal, or the last one */
    for (p = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : host; p && p < end; p++)
        if (*p == ':')
            port = p;
    if (host[0] == '[' && memchr(host, ']', (size_t)(end - host)) == NULL)
        return 0;
    if (port &&
        (port + 1 == end || strspn(port + 1, "0123456789") != (size_t)(end - port - 1) || end - port - 1 > 5))
        return 0;
    if (port == NULL)
        port = end;
    n = (size_t)snprintf(out, size, "%s://", scheme);
    for (p = host; p < port && n + 1 < size; p++)
        out[n++] = (char)tolower((unsigned char)*p);
    if (n + 8 >= size)
        return 0;
    snprintf(out + n, size - n, ":%ld",
             port < end                     ? strtol(port + 1, NULL, 10)
             : strcmp(scheme, "https") == 0 ? 443L
                                            : 80L);
    return 1;
}

int dbw_auth_same_origin(const char *a, const char *b)
{
    char x[300], y[300];
    return origin_of(a, x, sizeof x) && origin_of(b, y, sizeof y) && strcmp(x, y) == 0;
}

void dbw_auth_form(dbw_buf *b, const char *key, const char *value)
{
    if (b->len > 0)
        dbw_buf_puts(b, "&");
    dbw_buf_puts(b, key);
    dbw_buf_puts(b, "=");
    dbw_urlenc_append(b, value, strlen(value));
}

int dbw_auth_basic_header(dbw_buf *h, const char *user, const char *pass, int urlenc)
{
    dbw_buf raw = {0};
    int rc = -1;
    dbw_buf_wipe(h);
    if (urlenc) {
        dbw_urlenc_append(&raw, user, strlen(user));
        dbw_buf_puts(&raw, ":");
        dbw_urlenc_append(&raw, pass, strlen(pass));
    } else {
        dbw_buf_printf(&raw, "%s:%s", user, pass);
    }
    dbw_buf_puts(h, "Authorization: Basic ");
    if (raw.data && dbw_buf_reserve(h, 4 * (raw.len / 3 + 1)) == 0) {
        int n =
            EVP_EncodeBlock((unsigned char *)h->data + h->len, (const unsigned char *)raw.data, (int)raw.len);
        h->len += (size_t)n;
        h->data[h->len] = '\0';
        rc = 0;
    }
    dbw_buf_free(&raw); /* wipes */
    return rc;
}
