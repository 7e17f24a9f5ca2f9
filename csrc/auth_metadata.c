/*
 * metadata-service: GET <metadata_service_url> with
 * "X-Databricks-Metadata-Version: 1" and "X-Databricks-Host: <host>"; the
 * answer is {access_token, token_type, expires_on (seconds since the epoch)}
 * (Python credentials_provider.py MetadataServiceTokenSource). The URL is a
 * secret in the SDKs (sensitive=True): no log line or error names it.
 */
#include "auth.h"

#include <stdio.h>

#include "errors.h"

static const char *check(const dbw_client *c)
{
    return c->auth_set[DBW_AS_METADATA_SERVICE_URL]
               ? NULL
               : "metadata_service_url: is required for metadata-service";
}

static const char *next(lua_State *L, dbw_client *c, dbw_request *rq)
{
    (void)L;
    dbw_buf_printf(&c->aux_header, "X-Databricks-Host: %s", c->host);
    rq->method = "GET";
    rq->url = c->auth_set[DBW_AS_METADATA_SERVICE_URL];
    rq->path = "metadata service";
    rq->headers[rq->nheaders++] = "Accept: application/json";
    rq->headers[rq->nheaders++] = "X-Databricks-Metadata-Version: 1";
    rq->headers[rq->nheaders++] = c->aux_header.data;
    return NULL;
}

static const char *on_response(lua_State *L, dbw_client *c, const dbw_response *rs, double now)
{
    const char *who = "metadata-service: the metadata service";
    if (rs->net != DBW_NET_OK || rs->status != 200)
        return dbw_auth_failure(L, c, rs, who);
    return dbw_auth_take_json(L, c, rs, now, who);
}

const dbw_auth_source dbw_auth_metadata_service = {"metadata-service", check, NULL, next, on_response};
