/*
 * stepper.h - one method call run step by step from Lua: the Stepper
 * userdata behind client:_begin() and st:step(). (The policy it steps is
 * the exchange of exchange.h; the Stepper is what Lua holds.)
 *
 * Why: driver.c drives exchanges in a C loop, which is right for libcurl but
 * cannot host a Lua transport that yields (OpenResty cosockets, cqueues):
 * a coroutine cannot be suspended across a C call on LuaJIT and 5.1. Here the
 * loop lives in Lua instead (lua/databricks/webhooks.lua), and C only takes
 * one step of the same policy (exchange.c) at a time:
 *
 *   local st, err = client:_begin("list", req)   -- validates and builds, or nil, err
 *   local action, a, b = st:step(resp)           -- resp: the last answer, or nil
 *     "send",  request_table     -> the transport sends it, its answer is the next resp
 *     "sleep", seconds           -> wait (ngx.sleep, ...), then step(nil)
 *     "done",  result, err       -> exactly what the libcurl method returns
 *
 * Ownership: between steps the coroutine may yield and other coroutines may
 * use the same client, so nothing of a Stepper lives in the client. The
 * Stepper owns its request (request.h: method, path, URL and body, freed by
 * __gc; the body is wiped first, it may hold webhook secrets), and every
 * request it emits is a fresh Lua table of Lua strings (the OAuth token
 * request's URL and Basic credentials are copied out of c->aux_url and
 * c->aux_header at once). The client's shared state is the OAuth token
 * cache, which is meant to be shared. The Stepper keeps its client alive
 * with a registry reference, released by __gc.
 */
#ifndef DBW_STEPPER_H
#define DBW_STEPPER_H

#include "client.h"
#include "ops.h"

#define DBW_STEPPER_MT "databricks.webhooks.Stepper"

/* Registers the Stepper metatable. Call once from luaopen. */
void dbw_stepper_init(lua_State *L);

/* Validates and builds a call on the client at index 1 and pushes a new
 * Stepper (returns 1), or pushes nil, err (returns 2). op is one of the
 * five operations with its request table at index 2, or NULL for a raw
 * client:request(method, path, body, query) at indexes 2..5. */
int dbw_stepper_begin(lua_State *L, dbw_client *c, const dbw_op *op);

/* core.sleep(seconds): a blocking sleep for Lua transports outside nginx. */
int dbw_stepper_sleep(lua_State *L);

#endif
