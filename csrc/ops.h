/*
 * ops.h - the API families and their operations as data: method, path,
 * where the parameters go, whether a replay is safe, what the method
 * accepts, and the response shape. A family (Databricks registry webhooks,
 * open-source MLflow webhooks) is chosen when a client is made; its rows are
 * the only list of operations: the client's methods (core.c), client:bulk
 * (bulk.c), the step-by-step Stepper (stepper.c), validation without a
 * client, and the Lua front (core.FAMILIES) all derive theirs from them. An
 * endpoint is a row here, its schema in schema.c, and its specs; a family is
 * a table of rows, its schemas, and a row of dbw_families.
 */
#ifndef DBW_OPS_H
#define DBW_OPS_H

#include "client.h"
#include "schema.h"

typedef enum {
    DBW_SHAPE_WEBHOOK, /* {"webhook": {...}} -> the webhook */
    DBW_SHAPE_UPDATE,  /* like WEBHOOK, but tolerates an empty answer */
    DBW_SHAPE_LIST,    /* {"webhooks": [...], "next_page_token": "..."} */
    DBW_SHAPE_DELETE,  /* {} or empty -> true */
    DBW_SHAPE_TEST,    /* {"status_code", "body"}, flat or under "webhook" */
    DBW_SHAPE_RESULT,  /* {"result": {...}} -> that table */
    DBW_SHAPE_ANY      /* client:request(): the decoded body */
} dbw_shape;

typedef struct dbw_op {
    const char *name;
    const char *method;
    const char *path;  /* "{id}" in it stands for the request's id, percent-encoded */
    int in_query;      /* parameters in the query string instead of a JSON body */
    int replay_safe;   /* may be re-sent after it possibly reached the server */
    int id_positional; /* client:op(id) stands for client:op{ id = id } */
    int optional_req;  /* client:op() stands for client:op{} */
    int in_bulk;       /* client:bulk may run it */
    dbw_shape shape;
    const dbw_schema *schema;
} dbw_op;

/* How a family names things on the wire that the Lua side sees one way. */
typedef struct dbw_family {
    const char *name;               /* the `api` of webhooks.new */
    const dbw_op *ops;              /* ending with a row whose name is NULL */
    const char *const *events;      /* event names (core.FAMILIES[name].events) */
    const char *const *statuses;    /* NULL-terminated */
    const char *const *field_names; /* the names its answers use, for the decoder to intern */
    const char *id_field;           /* the server's name for a webhook's id; copied to `id` */
    int events_as_pairs;            /* results' events are { entity, action } objects */
} dbw_family;

/* Every family, the default (Databricks) first, ending with a NULL name. */
extern const dbw_family dbw_families[];

/* For dbw_json_init: every family's field names, events and statuses. */
extern const char *const *const dbw_family_names[];

/* The family called name, or NULL. */
const dbw_family *dbw_family_find(const char *name);

/* The operation called name in family f, or NULL. */
const dbw_op *dbw_op_find(const dbw_family *f, const char *name);

/* Pushes core.FAMILIES: { [family] = { events = {...}, statuses = {...},
 * ops = { [name] = { id_positional = bool, optional_request = bool, bulk =
 * bool, method = "...", path = "..." } } } }, and core.OP_NAMES, every
 * operation name of any family, for the Lua front. */
void dbw_op_push_families(lua_State *L);

struct dbw_req;

/* Builds r's URL (host, path, query) and, for body operations, its JSON
 * body from the validated request table at reqidx. Returns 0, or -1 with the
 * reason in r->msg. */
int dbw_op_build(lua_State *L, const char *host, const dbw_op *op, int reqidx, struct dbw_req *r);

/* core.validate(op, req[, api]) -> true | nil, err: the check a call makes
 * before building anything, without a client and without sending (for
 * plan.lua). */
int dbw_op_validate(lua_State *L);

#endif
