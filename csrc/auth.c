#include "auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "errors.h"
#include "json.h"
#include "urlenc.h"

#define DISCOVERY_PATH "/oidc/.well-known/oauth-authorization-server"
#define TOKEN_FORM "grant_type=client_credentials&scope=all-apis"
/* Refresh this long before expiry at most; Azure rejects tokens with < 30 s left. */
#define REFRESH_MARGIN 40.0

int dbw_auth_init(dbw_client *c)
{
    dbw_buf_wipe(&c->auth_header);
    c->oauth.expiry = 0;
    if (c->auth_kind == DBW_AUTH_PAT)
        return dbw_buf_printf(&c->auth_header, "Authorization: Bearer %s", c->token);
    return 0;
}

int dbw_auth_ready(const dbw_client *c, double now)
{
    if (c->auth_kind == DBW_AUTH_PAT)
        return 1;
    return c->auth_header.len > 0 && now < c->oauth.expiry;
}

int dbw_auth_invalidate(dbw_client *c)
{
    if (c->auth_kind == DBW_AUTH_PAT)
        return 0;
    dbw_buf_wipe(&c->auth_header);
    c->oauth.expiry = 0;
    return 1;
}

void dbw_auth_next_request(dbw_client *c, dbw_request *rq, int *is_discovery)
{
    memset(rq, 0, sizeof *rq);
    dbw_buf_reset(&c->aux_url);
    if (!c->oauth.discovery_done) {
        *is_discovery = 1;
        dbw_buf_printf(&c->aux_url, "%s%s", c->host, DISCOVERY_PATH);
        rq->method = "GET";
        rq->path = c->aux_url.data; /* logs name the whole URL of token traffic */
        rq->headers[rq->nheaders++] = "Accept: application/json";
        rq->url = c->aux_url.data;
        return;
    }
    *is_discovery = 0;
    dbw_buf_puts(&c->aux_url, c->oauth.token_endpoint);
    rq->method = "POST";
    rq->path = c->aux_url.data;
    rq->url = c->aux_url.data;
    rq->body = TOKEN_FORM;
    rq->body_len = sizeof TOKEN_FORM - 1;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    rq->headers[rq->nheaders++] = "Content-Type: application/x-www-form-urlencoded";
    {
        /* Basic auth over the URL-encoded id and secret (the Go and JS SDKs'
         * convention; identical to plain for the usual alphanumeric values). */
        dbw_buf raw = {0}, *h = &c->aux_header;
        dbw_buf_wipe(h);
        dbw_urlenc_append(&raw, c->client_id, strlen(c->client_id));
        dbw_buf_puts(&raw, ":");
        dbw_urlenc_append(&raw, c->client_secret, strlen(c->client_secret));
        dbw_buf_puts(h, "Authorization: Basic ");
        if (raw.data && dbw_buf_reserve(h, 4 * (raw.len / 3 + 1)) == 0) {
            int n = EVP_EncodeBlock((unsigned char *)h->data + h->len, (const unsigned char *)raw.data,
                                    (int)raw.len);
            h->len += (size_t)n;
            h->data[h->len] = '\0';
        }
        dbw_buf_free(&raw); /* wipes */
        rq->headers[rq->nheaders++] = h->data;
    }
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
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
    n += (size_t)snprintf(out + n, size - n, ":%ld",
                          port < end                     ? strtol(port + 1, NULL, 10)
                          : strcmp(scheme, "https") == 0 ? 443L
                                                         : 80L);
    return 1;
}

/* The client secret goes only to its own origin: the token endpoint must
 * share scheme, host and port with the workspace (so no other server, and no
 * clear-text http:// next to an https:// workspace, ever sees it). */
static int same_origin(const dbw_client *c, const char *url)
{
    char a[300], b[300];
    return origin_of(c->host, a, sizeof a) && origin_of(url, b, sizeof b) && strcmp(a, b) == 0;
}

/* The URL named in an error: as sent, cut short, control bytes shown as '?'. */
static void name_url(dbw_buf *msg, const char *url, size_t n)
{
    size_t i;
    for (i = 0; i < n && i < 200; i++)
        dbw_buf_append(msg, (unsigned char)url[i] < 0x20 || url[i] == 0x7f ? "?" : url + i, 1);
    if (n > 200)
        dbw_buf_puts(msg, "...");
}

static const char *discovery_failure(dbw_client *c, const dbw_response *rs, const char *why)
{
    dbw_buf_reset(&c->msg);
    dbw_buf_printf(&c->msg, "oauth-m2m: token endpoint discovery at %s%s %s", c->host, DISCOVERY_PATH, why);
    if (rs->net != DBW_NET_OK) {
        dbw_buf_printf(&c->msg, ": %s", rs->net_msg ? rs->net_msg : "network error");
        return rs->net == DBW_NET_TIMEOUT ? DBW_E_TIMEOUT
               : rs->net == DBW_NET_TLS   ? DBW_E_TLS
                                          : DBW_E_CONNECTION;
    }
    if (rs->status != 200)
        dbw_buf_printf(&c->msg, " (HTTP %ld)", rs->status);
    return DBW_E_UNAUTHENTICATED;
}

const char *dbw_auth_on_discovery(lua_State *L, dbw_client *c, const dbw_response *rs)
{
    const char *code = NULL;
    c->oauth.discovery_done = 1;
    free(c->oauth.token_endpoint);
    c->oauth.token_endpoint = NULL;
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return discovery_failure(c, rs, "failed");
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) != DBW_JSON_OK)
        return discovery_failure(c, rs, "sent a body that is not JSON");
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return discovery_failure(c, rs, "sent no JSON object");
    }
    lua_getfield(L, -1, "token_endpoint");
    if (lua_type(L, -1) != LUA_TSTRING) {
        code = discovery_failure(c, rs, "named no token_endpoint");
    } else if (strlen(lua_tostring(L, -1)) != dbw_rawlen(L, -1) || !same_origin(c, lua_tostring(L, -1))) {
        dbw_buf_reset(&c->msg);
        dbw_buf_puts(&c->msg, "oauth-m2m: refused token endpoint ");
        name_url(&c->msg, lua_tostring(L, -1), dbw_rawlen(L, -1));
        dbw_buf_printf(&c->msg,
                       ": not on the workspace's own origin %s; the client secret is sent nowhere else",
                       c->host);
        code = DBW_E_UNAUTHENTICATED;
    } else {
        c->oauth.token_endpoint = dup_string(lua_tostring(L, -1));
        if (c->oauth.token_endpoint == NULL) {
            dbw_buf_reset(&c->msg);
            dbw_buf_puts(&c->msg, "oauth-m2m: out of memory");
            code = DBW_E_UNAUTHENTICATED;
        }
    }
    lua_pop(L, 2);
    if (code)
        c->oauth.discovery_done = 0; /* the next call asks again */
    return code;
}

static const char *token_failure(lua_State *L, dbw_client *c, const dbw_response *rs)
{
    const char *what = NULL, *desc = NULL;
    int top = lua_gettop(L);
    dbw_buf_reset(&c->msg);
    if (rs->net != DBW_NET_OK) {
        dbw_buf_printf(&c->msg, "oauth-m2m: token request to %s failed: %s", c->oauth.token_endpoint,
                       rs->net_msg ? rs->net_msg : "network error");
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
    dbw_buf_printf(&c->msg, "oauth-m2m: token endpoint %s answered HTTP %ld%s%s%s%s", c->oauth.token_endpoint,
                   rs->status, what ? ": " : "", what ? what : "", desc ? ": " : "", desc ? desc : "");
    lua_settop(L, top);
    return DBW_E_UNAUTHENTICATED;
}

const char *dbw_auth_on_token(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    static const char default_type[] = "Bearer";
    const char *tok, *type = default_type;
    double ttl = 3600;
    int top = lua_gettop(L);
    dbw_buf_wipe(&c->aux_header); /* the Basic credentials are no longer needed */
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return token_failure(L, c, rs);
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) != DBW_JSON_OK ||
        lua_type(L, -1) != LUA_TTABLE) {
        lua_settop(L, top);
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "oauth-m2m: token endpoint %s sent a body that is not JSON",
                       c->oauth.token_endpoint);
        return DBW_E_BAD_RESPONSE;
    }
    lua_getfield(L, top + 1, "access_token");
    lua_getfield(L, top + 1, "token_type");
    lua_getfield(L, top + 1, "expires_in");
    tok = lua_type(L, top + 2) == LUA_TSTRING ? lua_tostring(L, top + 2) : NULL;
    if (lua_type(L, top + 3) == LUA_TSTRING && dbw_rawlen(L, top + 3) > 0)
        type = lua_tostring(L, top + 3);
    if (lua_type(L, top + 4) == LUA_TNUMBER && lua_tonumber(L, top + 4) > 0)
        ttl = lua_tonumber(L, top + 4);
    /* Bytes that would end or split the header line, or a NUL that would cut the token short. */
    if (tok == NULL || *tok == '\0' || strlen(tok) != dbw_rawlen(L, top + 2) || strpbrk(tok, "\r\n") ||
        strpbrk(type, "\r\n") || (type != default_type && strlen(type) != dbw_rawlen(L, top + 3))) {
        lua_settop(L, top);
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "oauth-m2m: token endpoint %s sent no usable access_token",
                       c->oauth.token_endpoint);
        return DBW_E_BAD_RESPONSE;
    }
    dbw_buf_wipe(&c->auth_header);
    dbw_buf_printf(&c->auth_header, "Authorization: %s %s", type, tok);
    c->oauth.expiry = now + ttl - (ttl / 2 < REFRESH_MARGIN ? ttl / 2 : REFRESH_MARGIN);
    lua_settop(L, top);
    return NULL;
}
