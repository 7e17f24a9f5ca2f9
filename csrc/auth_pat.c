/* pat: a personal access token, sent as "Authorization: Bearer <token>"
 * (Python credentials_provider.py pat_auth). It never expires here. */
#include "auth.h"

static const char *check(const dbw_client *c)
{
    return c->token ? NULL : "token: is required";
}

static int init(dbw_client *c)
{
    return dbw_buf_printf(&c->auth_header, "Authorization: Bearer %s", c->token);
}

const dbw_auth_source dbw_auth_pat = {"pat", check, init, NULL, NULL};
