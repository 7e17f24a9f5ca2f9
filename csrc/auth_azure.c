/*
 * azure-client-secret: a Microsoft Entra ID service principal. A
 * client_credentials token for the AzureDatabricks resource
 * (2ff814a6-3304-4ab8-85cb-cd0e6f879c1d, Python environments.py
 * ARM_DATABRICKS_RESOURCE_ID) from <login host><tenant>/oauth2/token, the
 * id and secret in the form (Python credentials_provider.py
 * azure_service_principal: use_params=True), used as the workspace's Bearer
 * token. The secret goes to the login host only; the token to the workspace
 * only. The login host is an option with the public cloud's default
 * (environments.py active_directory_endpoint).
 */
#include "auth.h"

#include <string.h>

#include "errors.h"

#define AZURE_DATABRICKS_RESOURCE "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
#define DEFAULT_LOGIN_HOST "https://login.microsoftonline.com/"

static const char *check(const dbw_client *c)
{
    return c->auth_set[DBW_AS_AZURE_CLIENT_ID] && c->auth_set[DBW_AS_AZURE_CLIENT_SECRET] &&
                   c->auth_set[DBW_AS_AZURE_TENANT_ID]
               ? NULL
               : "azure_client_id: azure_client_id, azure_client_secret and azure_tenant_id are required for "
                 "azure-client-secret";
}

static const char *next(lua_State *L, dbw_client *c, dbw_request *rq)
{
    const char *login =
        c->auth_set[DBW_AS_AZURE_LOGIN_HOST] ? c->auth_set[DBW_AS_AZURE_LOGIN_HOST] : DEFAULT_LOGIN_HOST;
    dbw_buf *form = &c->aux_body;
    (void)L;
    dbw_buf_printf(&c->aux_url, "%s%s%s/oauth2/token", login, login[strlen(login) - 1] == '/' ? "" : "/",
                   c->auth_set[DBW_AS_AZURE_TENANT_ID]);
    dbw_auth_form(form, "grant_type", "client_credentials");
    dbw_auth_form(form, "client_id", c->auth_set[DBW_AS_AZURE_CLIENT_ID]);
    dbw_auth_form(form, "client_secret", c->auth_set[DBW_AS_AZURE_CLIENT_SECRET]);
    dbw_auth_form(form, "resource", AZURE_DATABRICKS_RESOURCE);
    rq->method = "POST";
    rq->url = c->aux_url.data;
    rq->path = c->aux_url.data;
    rq->body = form->data;
    rq->body_len = form->len;
    rq->headers[rq->nheaders++] = "Accept: application/json";
    rq->headers[rq->nheaders++] = "Content-Type: application/x-www-form-urlencoded";
    return NULL;
}

static const char *on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    char who[300];
    snprintf(who, sizeof who, "azure-client-secret: Entra ID token endpoint %.200s", c->aux_url.data);
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return dbw_auth_failure(L, c, rs, who);
    return dbw_auth_take_json(L, c, rs, now, who);
}

const dbw_auth_source dbw_auth_azure_client_secret = {"azure-client-secret", check, NULL, next, on_response};
