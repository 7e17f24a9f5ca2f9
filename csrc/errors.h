/*
 * errors.h - the one error object every failure becomes.
 *
 * A plain table with the shared metatable "databricks.webhooks.Error":
 *   error_code, message, status (HTTP, or nil), retry_after (seconds, or nil),
 *   request ("METHOD /path"), request_id (server's x-request-id, or nil);
 *   call.c adds attempts, elapsed and retry_timeout once a request was sent.
 * Messages are built by the caller from data that never includes a
 * credential; this module only assembles the table.
 */
#ifndef DBW_ERRORS_H
#define DBW_ERRORS_H

#include <stddef.h>

#include "compat.h"

#define DBW_ERROR_MT "databricks.webhooks.Error"

/* Local error codes (the contract's list); servers add their own. */
#define DBW_E_INVALID "INVALID_PARAMETER_VALUE"
#define DBW_E_TIMEOUT "TIMEOUT"
#define DBW_E_CONNECTION "CONNECTION_ERROR"
#define DBW_E_TLS "TLS_ERROR"
#define DBW_E_UNAUTHENTICATED "UNAUTHENTICATED"
#define DBW_E_BAD_RESPONSE "BAD_RESPONSE"

typedef struct dbw_error {
    const char *code;
    const char *message;
    size_t message_len; /* 0: use strlen(message) */
    long status;        /* <= 0: none */
    double retry_after; /* < 0: none */
    const char *method; /* with path, forms err.request; may be NULL */
    const char *path;
    const char *request_id; /* may be NULL */
} dbw_error;

/* Registers the metatable (with __tostring). Call once from luaopen. */
void dbw_errors_init(lua_State *L);

/* Pushes a new error object built from e. */
void dbw_error_push(lua_State *L, const dbw_error *e);

/* Shorthand for local (validation) errors with no HTTP status. */
void dbw_error_push_local(lua_State *L, const char *code, const char *message, const char *method,
                          const char *path);

/* The fallback error_code for an HTTP status with no usable error body. */
const char *dbw_error_code_for_status(long status);

#endif
