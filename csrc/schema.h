/*
 * schema.h - the API's request shapes as data, and the one validator that
 * reads them. Every operation is checked here before anything is built or
 * sent; a failure yields a message and nothing reaches the network.
 */
#ifndef DBW_SCHEMA_H
#define DBW_SCHEMA_H

#include "buf.h"
#include "compat.h"

typedef enum {
    DBW_T_STRING,
    DBW_T_BOOLEAN,
    DBW_T_POSINT,    /* integer from 1 to 2^31 - 1 */
    DBW_T_ID,        /* a webhook id: a string, or an integer from 0 to 2^53 sent as its digits */
    DBW_T_ENUM,      /* one name of .values */
    DBW_T_ENUM_LIST, /* array of names of .values */
    DBW_T_OBJECT,    /* nested table described by .fields */
    /* an "entity.action" event of .values (lowercase), given as that string or
     * as { entity = ..., action = ... } in either case; on the wire the
     * object with UPPERCASE names */
    DBW_T_PAIR,
    DBW_T_PAIR_LIST, /* array of DBW_T_PAIR; a pair given twice is sent once */
    DBW_T_NAME,      /* 1-63 of [A-Za-z0-9._-], first and last a letter or digit */
    DBW_T_URL        /* http:// or https:// and a host */
} dbw_type;

#define DBW_F_REQUIRED 1u
#define DBW_F_NONEMPTY 2u  /* strings and lists: at least one character / element */
#define DBW_F_UPTO_1000 4u /* DBW_T_POSINT: at most 1000 */

/* The names an enum field takes: what one is called in messages ("event")
 * and the names, NULL-terminated. */
typedef struct dbw_enum {
    const char *what;
    const char *const *names;
} dbw_enum;

typedef struct dbw_field {
    const char *name;
    dbw_type type;
    unsigned flags;
    const struct dbw_field *fields; /* DBW_T_OBJECT only; NULL-name terminated */
    const dbw_enum *values;         /* DBW_T_ENUM and DBW_T_ENUM_LIST only */
} dbw_field;

/* Cross-field rules, checked after the fields themselves. */
#define DBW_R_ONE_SPEC 1u            /* exactly one of http_url_spec / job_spec */
#define DBW_R_AT_MOST_ONE_SPEC 2u    /* not both */
#define DBW_R_REGISTRY_WIDE_EVENT 4u /* REGISTERED_MODEL_CREATED only without model_name */

typedef struct dbw_schema {
    const dbw_field *fields;
    unsigned rules;
} dbw_schema;

extern const char *const dbw_events[];          /* NULL-terminated, API reference order */
extern const char *const dbw_statuses[];        /* NULL-terminated */
extern const char *const dbw_mlflow_events[];   /* "entity.action", the valid pairs */
extern const char *const dbw_mlflow_statuses[]; /* NULL-terminated */

extern const dbw_schema dbw_schema_create, dbw_schema_list, dbw_schema_update, dbw_schema_delete,
    dbw_schema_test;
extern const dbw_schema dbw_mlflow_schema_create, dbw_mlflow_schema_list, dbw_mlflow_schema_update,
    dbw_mlflow_schema_id, dbw_mlflow_schema_test;

/* The index in names of the DBW_T_PAIR value at idx, or -1. */
int dbw_pair_index(lua_State *L, int idx, const char *const *names);

/* Pushes the table of names' pairs in their wire forms (built once per
 * lua_State): what the two functions below read. */
void dbw_pairs_push(lua_State *L, const char *const *names);

/* Pushes the wire form of names[k], { entity = "MODEL_VERSION", action =
 * "CREATED" }: one table per lua_State and pair, shared, never to be changed. */
void dbw_pair_push_wire(lua_State *L, const char *const *names, int k);

/* Replaces the event object { entity, action } at idx of a response by its
 * lowercase "entity.action" string (through the table of dbw_pairs_push at
 * stack index pairs when it is a known pair); anything else is left as it is. */
void dbw_pair_from_wire(lua_State *L, int idx, int pairs);

/* Validates the table at idx. Returns 0, or -1 with a message in msg
 * ("<op>: <field>: <why>"). Values are never echoed for secret fields. */
int dbw_schema_check(lua_State *L, int idx, const dbw_schema *s, const char *op, dbw_buf *msg);

/* Index of name in a NULL-terminated list, or -1. */
int dbw_enum_index(const char *const *list, const char *name);

/* The name of a NULL-terminated list closest to s (a typo's likely intent:
 * at most a third of its letters apart, ignoring case), or NULL. */
const char *dbw_closest(const char *const *list, const char *s);

#endif
