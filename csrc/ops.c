#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "request.h"
#include "urlenc.h"

#define DB "/api/2.0/mlflow/registry-webhooks/"
#define ML "/api/2.0/mlflow/webhooks"

/* clang-format off */
/* name, method, path, in_query, replay_safe, id_positional, optional_req, in_bulk, shape, schema */
static const dbw_op databricks_ops[] = {
    {"create", "POST", DB "create", 0, 0, 0, 0, 1, DBW_SHAPE_WEBHOOK, &dbw_schema_create},
    {"list", "GET", DB "list", 1, 1, 0, 1, 0, DBW_SHAPE_LIST, &dbw_schema_list},
    {"update", "PATCH", DB "update", 0, 0, 0, 0, 1, DBW_SHAPE_UPDATE, &dbw_schema_update},
    {"delete", "DELETE", DB "delete", 1, 0, 1, 0, 1, DBW_SHAPE_DELETE, &dbw_schema_delete},
    {"test", "POST", DB "test", 0, 0, 1, 0, 1, DBW_SHAPE_TEST, &dbw_schema_test},
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, DBW_SHAPE_ANY, NULL},
};

/* REST style: the id in the path. Every POST and PATCH has a JSON body (an
 * empty test is "{}"), as the server refuses them without a Content-Type. */
static const dbw_op mlflow_ops[] = {
    {"create", "POST", ML, 0, 0, 0, 0, 1, DBW_SHAPE_WEBHOOK, &dbw_mlflow_schema_create},
    {"list", "GET", ML, 1, 1, 0, 1, 0, DBW_SHAPE_LIST, &dbw_mlflow_schema_list},
    {"get", "GET", ML "/{id}", 1, 1, 1, 0, 1, DBW_SHAPE_WEBHOOK, &dbw_mlflow_schema_id},
    {"update", "PATCH", ML "/{id}", 0, 0, 0, 0, 1, DBW_SHAPE_WEBHOOK, &dbw_mlflow_schema_update},
    {"delete", "DELETE", ML "/{id}", 1, 0, 1, 0, 1, DBW_SHAPE_DELETE, &dbw_mlflow_schema_id},
    {"test", "POST", ML "/{id}/test", 0, 0, 1, 0, 1, DBW_SHAPE_RESULT, &dbw_mlflow_schema_test},
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, DBW_SHAPE_ANY, NULL},
};

/* The names the answers of each family use (objects, errors, tokens, deliveries). */
static const char *const databricks_names[] = {
    "webhooks", "next_page_token", "webhook", "id", "creation_timestamp", "last_updated_timestamp",
    "description", "events", "model_name", "status", "http_url_spec", "url", "enable_ssl_verification",
    "secret", "authorization", "job_spec", "job_id", "workspace_url", "access_token", "status_code", "body",
    "error_code", "message", "error", "details", "token_type", "expires_in", "event", "event_timestamp",
    "text", "version", "to_stage", "from_stage", NULL};

static const char *const mlflow_names[] = {
    "webhook_id", "name", "entity", "action", "result", "success", "response_status", "response_body",
    "error_message", "timestamp", "data", "error_class", "sqlstate",
    "REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS", "PROMPT",
    "PROMPT_VERSION", "PROMPT_TAG", "PROMPT_VERSION_TAG", "PROMPT_ALIAS", "BUDGET_POLICY",
    "CREATED", "UPDATED", "DELETED", "SET", "EXCEEDED", NULL};

/* name, ops, events, statuses, field_names, id_field, events_as_pairs */
const dbw_family dbw_families[] = {
    {"databricks", databricks_ops, dbw_events, dbw_statuses, databricks_names, "id", 0},
    {"mlflow", mlflow_ops, dbw_mlflow_events, dbw_mlflow_statuses, mlflow_names, "webhook_id", 1},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

const char *const *const dbw_family_names[] = {databricks_names, dbw_events,  dbw_statuses,
                                               mlflow_names,     dbw_mlflow_statuses, NULL};
/* clang-format on */

const dbw_family *dbw_family_find(const char *name)
{
    const dbw_family *f;
    for (f = dbw_families; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const dbw_op *dbw_op_find(const dbw_family *f, const char *name)
{
    const dbw_op *op;
    for (op = f->ops; op->name != NULL; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}

static void push_names(lua_State *L, const char *const *names)
{
    int i;
    lua_newtable(L);
    for (i = 0; names[i]; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_ops(lua_State *L, const dbw_op *ops)
{
    const dbw_op *op;
    lua_newtable(L);
    for (op = ops; op->name != NULL; op++) {
        lua_createtable(L, 0, 5);
        lua_pushboolean(L, op->id_positional);
        lua_setfield(L, -2, "id_positional");
        lua_pushboolean(L, op->optional_req);
        lua_setfield(L, -2, "optional_request");
        lua_pushboolean(L, op->in_bulk);
        lua_setfield(L, -2, "bulk");
        lua_pushstring(L, op->method);
        lua_setfield(L, -2, "method");
        lua_pushstring(L, op->path);
        lua_setfield(L, -2, "path");
        lua_setfield(L, -2, op->name);
    }
}

void dbw_op_push_families(lua_State *L)
{
    const dbw_family *f;
    const dbw_op *op;
    int n = 0;
    lua_newtable(L);
    for (f = dbw_families; f->name != NULL; f++) {
        lua_createtable(L, 0, 3);
        push_names(L, f->events);
        lua_setfield(L, -2, "events");
        push_names(L, f->statuses);
        lua_setfield(L, -2, "statuses");
        push_ops(L, f->ops);
        lua_setfield(L, -2, "ops");
        lua_setfield(L, -2, f->name);
    }
    lua_newtable(L); /* OP_NAMES */
    for (f = dbw_families; f->name != NULL; f++)
        for (op = f->ops; op->name != NULL; op++) {
            lua_getfield(L, -1, op->name);
            if (lua_isnil(L, -1)) {
                lua_pushinteger(L, ++n);
                lua_setfield(L, -3, op->name);
            }
            lua_pop(L, 1);
        }
}

/* A numeric id goes out as its digits ("124323"): the API's ids are strings.
 * Replaces the number on top of the stack. */
static void id_to_string(lua_State *L)
{
    char digits[32];
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, -1))
        snprintf(digits, sizeof digits, "%lld", (long long)lua_tointeger(L, -1));
    else
#endif
        snprintf(digits, sizeof digits, "%.0f", (double)lua_tonumber(L, -1)); /* integral, within 2^53 */
    lua_pop(L, 1);
    lua_pushstring(L, digits);
}

/* Replaces the (checked) array of events on top of the stack by their wire
 * objects, each pair once: at most as many as the family has names. */
static void pairs_to_wire(lua_State *L, const dbw_field *f)
{
    int src = lua_gettop(L), i, n = (int)dbw_rawlen(L, src), out = 0;
    unsigned long long seen = 0;
    lua_createtable(L, n < 16 ? n : 16, 0);
    for (i = 1; i <= n; i++) {
        int k;
        lua_rawgeti(L, src, i);
        k = dbw_pair_index(L, lua_gettop(L), f->values->names);
        if (k >= 0 && k < 64 && !(seen & (1ull << k))) {
            seen |= 1ull << k;
            dbw_pair_push_wire(L, f->values->names, k);
            lua_rawseti(L, src + 1, ++out);
        }
        lua_pop(L, 1);
    }
    lua_replace(L, src);
}

/* The request in its wire form, a new table on top of the stack: ids as
 * strings, events as the family writes them, fields in schema order. */
static void push_wire(lua_State *L, const dbw_op *op, int reqidx)
{
    const dbw_field *f;
    lua_createtable(L, 0, 8);
    for (f = op->schema->fields; f->name != NULL; f++) {
        lua_getfield(L, reqidx, f->name);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        if (f->type == DBW_T_ID && lua_type(L, -1) == LUA_TNUMBER)
            id_to_string(L);
        else if (f->type == DBW_T_PAIR) {
            int k = dbw_pair_index(L, lua_gettop(L), f->values->names);
            if (k >= 0) { /* always: checked before */
                dbw_pair_push_wire(L, f->values->names, k);
                lua_replace(L, -2);
            }
        } else if (f->type == DBW_T_PAIR_LIST)
            pairs_to_wire(L, f);
        lua_setfield(L, -2, f->name);
    }
}

/* host + the op's path, its "{id}" replaced by the wire table's id (which
 * then leaves the table). The path alone is kept for messages. */
static int build_url(lua_State *L, const char *host, const dbw_op *op, int wire, dbw_req *r)
{
    const char *brace = strstr(op->path, "{id}");
    size_t n;
    const char *id;
    if (brace == NULL)
        return dbw_buf_puts(&r->url, host) != 0 || dbw_buf_puts(&r->url, op->path) != 0 ? -1 : 0;
    lua_getfield(L, wire, "id");
    id = lua_tolstring(L, -1, &n);
    if (dbw_buf_puts(&r->url, host) != 0 ||
        dbw_buf_append(&r->url, op->path, (size_t)(brace - op->path)) != 0 ||
        dbw_urlenc_append(&r->url, id, n) != 0 || dbw_buf_puts(&r->url, brace + 4) != 0) {
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, wire, "id");
    free(r->owned);
    n = r->url.len - strlen(host);
    if ((r->owned = malloc(n + 1)) == NULL)
        return -1;
    memcpy(r->owned, r->url.data + strlen(host), n + 1);
    r->path = r->owned;
    return 0;
}

int dbw_op_build(lua_State *L, const char *host, const dbw_op *op, int reqidx, dbw_req *r)
{
    int rc, wire;
    push_wire(L, op, reqidx);
    wire = lua_gettop(L);
    dbw_buf_reset(&r->url);
    if (build_url(L, host, op, wire, r) != 0)
        goto oom;
    if (op->in_query) {
        /* Schema order is alphabetical, as the SDKs emit their queries. */
        const dbw_field *f;
        int first = 1;
        for (f = op->schema->fields; f->name != NULL; f++) {
            rc = 0;
            lua_getfield(L, wire, f->name);
            if (!lua_isnil(L, -1))
                rc = dbw_query_append(L, &r->url, f->name, lua_gettop(L), &first);
            lua_pop(L, 1);
            if (rc != 0)
                goto oom;
        }
        lua_pop(L, 1);
        return 0;
    }
    dbw_buf_reset(&r->body);
    r->has_body = 1;
    rc = dbw_json_encode_into(L, wire, &r->body);
    if (rc == DBW_JSON_BAD) {
        dbw_buf_reset(&r->msg);
        dbw_buf_printf(&r->msg, "%s: request cannot be encoded as JSON: %s", op->name,
                       lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 2);
        return -1;
    }
    lua_pop(L, 1);
    if (rc == DBW_JSON_OK)
        return 0;
    goto oom_popped;
oom:
    lua_settop(L, wire - 1);
oom_popped:
    dbw_buf_reset(&r->msg);
    dbw_buf_puts(&r->msg, "out of memory building the request");
    return -1;
}

/* The message buffer of dbw_op_validate lives in a userdata, so that a Lua
 * error raised while the table is read still frees it (on collection). */
#define VALIDATE_BUF_MT "databricks.webhooks.validate_buf"

static int validate_buf_gc(lua_State *L)
{
    dbw_buf_free(lua_touserdata(L, 1));
    return 0;
}

static dbw_buf *push_validate_buf(lua_State *L)
{
    dbw_buf *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, VALIDATE_BUF_MT)) {
        lua_pushcfunction(L, validate_buf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

int dbw_op_validate(lua_State *L)
{
    const dbw_family *fam = dbw_family_find(luaL_optstring(L, 3, "databricks"));
    const dbw_op *op;
    dbw_buf *msg;
    if (fam == NULL)
        return luaL_argerror(L, 3, "API family expected (\"databricks\" or \"mlflow\")");
    op = dbw_op_find(fam, luaL_checkstring(L, 1));
    if (op == NULL)
        return luaL_argerror(L, 1, "operation name expected");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    msg = push_validate_buf(L);
    if (dbw_schema_check(L, 2, op->schema, op->name, msg) == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    dbw_error_push_local(L, DBW_E_INVALID, msg->data ? msg->data : op->name, op->method, op->path);
    dbw_buf_free(msg);
    return 2;
}
