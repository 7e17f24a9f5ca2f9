/*
 * ops.h - the registry-webhook operations as data: method, path, where the
 * parameters go, whether a replay is safe, what the method accepts, and the
 * response shape. dbw_ops is the only list of operations: the client's
 * methods (core.c), client:bulk (bulk.c), the step-by-step Stepper
 * (stepper.c), validation without a client, and the Lua front (core.OPS)
 * all derive theirs from it. An endpoint of the same family is a row here,
 * its schema in schema.c, and its specs.
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
    DBW_SHAPE_ANY      /* client:request(): the decoded body */
} dbw_shape;

typedef struct dbw_op {
    const char *name;
    const char *method;
    const char *path;
    int in_query;      /* parameters in the query string instead of a JSON body */
    int replay_safe;   /* may be re-sent after it possibly reached the server */
    int id_positional; /* client:op(id) stands for client:op{ id = id } */
    int optional_req;  /* client:op() stands for client:op{} */
    int in_bulk;       /* client:bulk may run it */
    dbw_shape shape;
    const dbw_schema *schema;
} dbw_op;

/* Every operation, ending with a row whose name is NULL. */
extern const dbw_op dbw_ops[];

/* The operation called name, or NULL. */
const dbw_op *dbw_op_find(const char *name);

/* Pushes core.OPS: { [name] = { id_positional = bool, optional_request =
 * bool, bulk = bool, method = "...", path = "..." } }, for the Lua front. */
void dbw_op_push_table(lua_State *L);

struct dbw_req;

/* Builds r's URL (host, path, query) and, for body operations, its JSON
 * body from the validated request table at reqidx. Returns 0, or -1 with the
 * reason in r->msg. */
int dbw_op_build(lua_State *L, const char *host, const dbw_op *op, int reqidx, struct dbw_req *r);

/* core.validate(op, req) -> true | nil, err: the check a call makes before
 * building anything, without a client and without sending (for plan.lua). */
int dbw_op_validate(lua_State *L);

#endif
