/* none: no Authorization header at all, for servers without authentication
 * (an open-source MLflow server by default). Only the MLflow family's
 * resolution chooses it; a Databricks workspace always needs credentials. */
#include "auth.h"

static const char *check(const dbw_client *c)
{
    (void)c;
    return NULL;
}

const dbw_auth_source dbw_auth_none = {"none", check, NULL, NULL, NULL};
