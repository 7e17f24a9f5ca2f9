/* basic: "Authorization: Basic base64(username:password)" (Python
 * credentials_provider.py basic_auth). It never expires here. */
#include "auth.h"

static const char *check(const dbw_client *c)
{
    return c->auth_set[DBW_AS_USERNAME] && c->auth_set[DBW_AS_PASSWORD]
               ? NULL
               : "username: username and password are required for basic";
}

static int init(dbw_client *c)
{
    return dbw_auth_basic_header(&c->auth_header, c->auth_set[DBW_AS_USERNAME], c->auth_set[DBW_AS_PASSWORD],
                                 0);
}

const dbw_auth_source dbw_auth_basic = {"basic", check, init, NULL, NULL};
