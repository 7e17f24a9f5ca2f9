/*
 * OAuth at the workspace's own token endpoint (found by discovery at
 * /oidc/.well-known/oauth-authorization-server, and refused unless it is on
 * the workspace's origin, so the credentials go nowhere else):
 *
 * - oauth-m2m: client_credentials with client_id:client_secret as Basic auth
 *   (Python credentials_provider.py oauth_service_principal, use_header=True);
 * - env-oidc, file-oidc, github-oidc: workload identity federation, an RFC
 *   8693 token exchange of an identity token, client_id in the form (Python
 *   oidc.py DatabricksOidcTokenSource._exchange_id_token). The identity token
 *   comes from a variable (read by the front), a file (read again at each
 *   refresh, as FileIdTokenSource does) or GitHub Actions' ID-token endpoint
 *   (oidc_token_supplier.py GitHubOIDCTokenSupplier), asked for the audience
 *   token_audience or else the token endpoint (credentials_provider.py
 *   _oidc_credentials_provider).
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "urlenc.h"

#define DISCOVERY_PATH "/oidc/.well-known/oauth-authorization-server"
#define MAX_ID_TOKEN 65536

enum { STEP_DISCOVERY = 1, STEP_ID_TOKEN, STEP_TOKEN };

static const char *scopes(const dbw_client *c)
{
    return c->auth_set[DBW_AS_SCOPES] ? c->auth_set[DBW_AS_SCOPES] : "all-apis";
}

static const char *check_m2m(const dbw_client *c)
{
    return c->client_id && c->client_secret
               ? NULL
               : "client_id: client_id and client_secret are required for oauth-m2m";
}

static const char *check_env(const dbw_client *c)
{
    return c->auth_set[DBW_AS_OIDC_TOKEN] ? NULL : "oidc_token: is required for env-oidc";
}

static const char *check_file(const dbw_client *c)
{
    return c->auth_set[DBW_AS_OIDC_TOKEN_FILEPATH] ? NULL : "oidc_token_filepath: is required for file-oidc";
}

static const char *check_github(const dbw_client *c)
{
    return c->client_id && c->auth_set[DBW_AS_ID_TOKEN_REQUEST_URL] &&
                   c->auth_set[DBW_AS_ID_TOKEN_REQUEST_TOKEN]
               ? NULL
               : "client_id: client_id and GitHub Actions' ID token request URL and token are required for "
                 "github-oidc";
}

static const char *fail(dbw_client *c, const char *code, const char *what)
{
    dbw_buf_reset(&c->msg);
    dbw_buf_printf(&c->msg, "%s: %s", c->auth_name, what);
    return code;
}

/* The identity token of file-oidc, read again at each refresh; trimmed. */
static const char *read_id_token(dbw_client *c, dbw_buf *out)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(c->auth_set[DBW_AS_OIDC_TOKEN_FILEPATH], "rb");
    if (f == NULL)
        return fail(c, DBW_E_UNAUTHENTICATED,
                    "cannot read the identity token file named by oidc_token_filepath");
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len < MAX_ID_TOKEN)
        dbw_buf_append(out, chunk, n);
    fclose(f);
    while (out->len > 0 && strchr(" \t\r\n", out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    if (out->len == 0 || out->len >= MAX_ID_TOKEN || strlen(out->data) != out->len)
        return fail(c, DBW_E_UNAUTHENTICATED,
                    "the identity token file named by oidc_token_filepath is empty or unusable");
    return NULL;
}

static void discovery_request(dbw_client *c, dbw_request *rq)
{
    dbw_buf_printf(&c->aux_url, "%s%s", c->host, DISCOVERY_PATH);
    rq->method = "GET";
    rq->path = c->aux_url.data; /* logs name the whole URL of token traffic */
    rq->url = c->aux_url.data;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    c->token_state.step = STEP_DISCOVERY;
}

/* GitHub: GET <url>&audience=<aud> with the request token as Bearer. */
static void id_token_request(dbw_client *c, dbw_request *rq)
{
    const char *aud = c->auth_set[DBW_AS_TOKEN_AUDIENCE] ? c->auth_set[DBW_AS_TOKEN_AUDIENCE]
                                                         : c->token_state.token_endpoint;
    dbw_buf_puts(&c->aux_url, c->auth_set[DBW_AS_ID_TOKEN_REQUEST_URL]);
    dbw_buf_puts(&c->aux_url, strchr(c->aux_url.data, '?') ? "&audience=" : "?audience=");
    dbw_urlenc_append(&c->aux_url, aud, strlen(aud));
    dbw_buf_printf(&c->aux_header, "Authorization: Bearer %s", c->auth_set[DBW_AS_ID_TOKEN_REQUEST_TOKEN]);
    rq->method = "GET";
    rq->path = "GitHub Actions ID token request"; /* its URL is not for logs */
    rq->url = c->aux_url.data;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    rq->headers[rq->nheaders++] = c->aux_header.data;
    c->token_state.step = STEP_ID_TOKEN;
}

static const char *token_request(dbw_client *c, dbw_request *rq)
{
    dbw_buf *form = &c->aux_body;
    dbw_buf_puts(&c->aux_url, c->token_state.token_endpoint);
    if (c->auth_src == &dbw_auth_oauth_m2m) {
        dbw_auth_form(form, "grant_type", "client_credentials");
        dbw_auth_form(form, "scope", scopes(c));
        /* Basic auth over the URL-encoded id and secret (the Go and JS SDKs'
         * convention; identical to plain for the usual alphanumeric values). */
        if (dbw_auth_basic_header(&c->aux_header, c->client_id, c->client_secret, 1) != 0)
            return fail(c, DBW_E_UNAUTHENTICATED, "out of memory");
        rq->headers[rq->nheaders++] = c->aux_header.data;
    } else {
        dbw_buf idt = {0};
        const char *subject = c->auth_set[DBW_AS_OIDC_TOKEN];
        if (c->auth_src == &dbw_auth_file_oidc) {
            const char *code = read_id_token(c, &idt);
            if (code) {
                dbw_buf_free(&idt);
                return code;
            }
            subject = idt.data;
        } else if (c->auth_src == &dbw_auth_github_oidc) {
            subject = c->token_state.id_token;
        }
        dbw_auth_form(form, "grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
        dbw_auth_form(form, "subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
        dbw_auth_form(form, "subject_token", subject);
        dbw_auth_form(form, "scope", scopes(c));
        if (c->client_id)
            dbw_auth_form(form, "client_id", c->client_id);
        dbw_buf_free(&idt); /* wipes */
    }
    rq->method = "POST";
    rq->path = c->aux_url.data;
    rq->url = c->aux_url.data;
    rq->body = form->data;
    rq->body_len = form->len;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    rq->headers[rq->nheaders++] = "Content-Type: application/x-www-form-urlencoded";
    c->token_state.step = STEP_TOKEN;
    return NULL;
}

static const char *next(lua_State *L, dbw_client *c, dbw_request *rq)
{
    (void)L;
    if (!c->token_state.discovery_done)
        discovery_request(c, rq);
    else if (c->auth_src == &dbw_auth_github_oidc && c->token_state.id_token == NULL)
        id_token_request(c, rq);
    else
        return token_request(c, rq);
    return NULL;
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

static const char *discovery_failure(lua_State *L, dbw_client *c, const dbw_response *rs, const char *why)
{
    (void)L;
    dbw_buf_reset(&c->msg);
    dbw_buf_printf(&c->msg, "%s: token endpoint discovery at %s%s %s", c->auth_name, c->host, DISCOVERY_PATH,
                   why);
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

static const char *on_discovery(lua_State *L, dbw_client *c, const dbw_response *rs)
{
    const char *code = NULL;
    free(c->token_state.token_endpoint);
    c->token_state.token_endpoint = NULL;
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return discovery_failure(L, c, rs, "failed");
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) != DBW_JSON_OK)
        return discovery_failure(L, c, rs, "sent a body that is not JSON");
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return discovery_failure(L, c, rs, "sent no JSON object");
    }
    lua_getfield(L, -1, "token_endpoint");
    if (lua_type(L, -1) != LUA_TSTRING) {
        code = discovery_failure(L, c, rs, "named no token_endpoint");
    } else if (strlen(lua_tostring(L, -1)) != dbw_rawlen(L, -1) ||
               !dbw_auth_same_origin(c->host, lua_tostring(L, -1))) {
        dbw_buf_reset(&c->msg);
        dbw_buf_printf(&c->msg, "%s: refused token endpoint ", c->auth_name);
        name_url(&c->msg, lua_tostring(L, -1), dbw_rawlen(L, -1));
        dbw_buf_printf(&c->msg,
                       ": not on the workspace's own origin %s; the credentials are sent nowhere else",
                       c->host);
        code = DBW_E_UNAUTHENTICATED;
    } else {
        /* Same origin (both have "://": origin_of checked), spelt as the
         * workspace's host is: what follows the origin is kept, so the
         * request goes to exactly the configured host whatever case or
         * default port the document used. */
        const char *url = lua_tostring(L, -1), *rest = strstr(url, "://") + 3;
        const char *origin_end = strstr(c->host, "://") + 3;
        size_t hl, rl;
        origin_end += strcspn(origin_end, "/?#");
        hl = (size_t)(origin_end - c->host);
        rest += strcspn(rest, "/?#");
        rl = strlen(rest);
        c->token_state.token_endpoint = malloc(hl + rl + 2);
        if (c->token_state.token_endpoint) {
            /* "https://h?x" names the path "/" of h: written out, so the URL is host + "/..." */
            int slash = rest[0] != '/';
            memcpy(c->token_state.token_endpoint, c->host, hl);
            c->token_state.token_endpoint[hl] = '/';
            memcpy(c->token_state.token_endpoint + hl + slash, rest, rl + 1);
        } else {
            code = fail(c, DBW_E_UNAUTHENTICATED, "out of memory");
        }
    }
    lua_pop(L, 2);
    c->token_state.discovery_done = code == NULL; /* after a failure, the next call asks again */
    return code;
}

static const char *on_id_token(lua_State *L, dbw_client *c, const dbw_response *rs)
{
    int top = lua_gettop(L);
    const char *code = NULL;
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return dbw_auth_failure(L, c, rs, "github-oidc: GitHub Actions' ID token request");
    if (dbw_json_decode_max(L, rs->body, rs->body_len, c->max_values) != DBW_JSON_OK ||
        lua_type(L, -1) != LUA_TTABLE) {
        lua_settop(L, top);
        return fail(c, DBW_E_BAD_RESPONSE, "GitHub Actions' ID token request sent no JSON object");
    }
    lua_getfield(L, top + 1, "value");
    if (lua_type(L, -1) != LUA_TSTRING || dbw_rawlen(L, -1) == 0 ||
        strlen(lua_tostring(L, -1)) != dbw_rawlen(L, -1)) {
        code = fail(c, DBW_E_BAD_RESPONSE, "GitHub Actions' ID token request sent no usable value");
    } else {
        size_t n = dbw_rawlen(L, -1) + 1;
        c->token_state.id_token = malloc(n);
        if (c->token_state.id_token)
            memcpy(c->token_state.id_token, lua_tostring(L, -1), n);
    }
    lua_settop(L, top);
    return code;
}

static const char *on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    char who[400];
    int step = c->token_state.step;
    c->token_state.step = 0;
    if (step == STEP_DISCOVERY)
        return on_discovery(L, c, rs);
    if (step == STEP_ID_TOKEN)
        return on_id_token(L, c, rs);
    if (c->token_state.id_token) { /* one identity token per exchange */
        memset(c->token_state.id_token, 0, strlen(c->token_state.id_token));
        free(c->token_state.id_token);
        c->token_state.id_token = NULL;
    }
    snprintf(who, sizeof who, "%s: token endpoint %.300s", c->auth_name, c->token_state.token_endpoint);
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return dbw_auth_failure(L, c, rs, who);
    return dbw_auth_take_json(L, c, rs, now, who);
}

const dbw_auth_source dbw_auth_oauth_m2m = {"oauth-m2m", check_m2m, NULL, next, on_response};
const dbw_auth_source dbw_auth_env_oidc = {"env-oidc", check_env, NULL, next, on_response};
const dbw_auth_source dbw_auth_file_oidc = {"file-oidc", check_file, NULL, next, on_response};
const dbw_auth_source dbw_auth_github_oidc = {"github-oidc", check_github, NULL, next, on_response};
