/*
 * asan_noinherit.so - preloaded after the ASan runtime into every Lua process
 * of `make asan` (.ci/asan). It takes LD_PRELOAD out of the environment at
 * load time, so the programs the specs start (sh, mktemp, make, openssl,
 * nginx) run without the runtime, while this process keeps it. Lua processes
 * started by the specs get it back from the lua5.4 wrapper .ci/asan puts
 * first in PATH. Built without sanitizers.
 */
#include <stdlib.h>

__attribute__((constructor)) static void dbw_asan_noinherit(void)
{
    unsetenv("LD_PRELOAD");
}
