# databricks-webhooks — build, test, demo.
#   make                 C module for Lua 5.4  -> build/5.4/databricks/webhooks/core.so
#   make LUA=5.1|5.3|luajit
#   make test            installs missing Debian packages, runs every spec
#   make demo            installs, builds, starts a local workspace + receiver, runs the quickstart
# Every path is a variable so LuaRocks and distributions can drive it.

LUA        ?= 5.4
CC         ?= cc
PKG_CONFIG ?= pkg-config

ifeq ($(LUA),luajit)
  LUA_PC  ?= luajit
  LUA_BIN ?= luajit
else
  LUA_PC  ?= lua$(LUA)
  LUA_BIN ?= lua$(LUA)
endif

LUA_INCDIR ?= $(shell $(PKG_CONFIG) --variable=includedir $(LUA_PC) 2>/dev/null)
LUA_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null)
CURL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS  ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CRYPTO_LIBS ?= $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)

OPT        ?= -O2
WARN       ?= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS     ?= $(OPT) -g
ALL_CFLAGS  = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden $(WARN) $(CFLAGS) \
              $(LUA_CFLAGS) $(if $(LUA_INCDIR),-I$(LUA_INCDIR)) $(CURL_CFLAGS)
LIBFLAG    ?= -shared
LDFLAGS    ?=
LIBS        = $(CURL_LIBS) $(CRYPTO_LIBS)

BUILD      ?= build/$(LUA)
SRC         = $(wildcard csrc/*.c)
OBJ         = $(SRC:csrc/%.c=$(BUILD)/obj/%.o)
MODULE      = $(BUILD)/databricks/webhooks/core.so

# install (LuaRocks passes INST_LIBDIR/INST_LUADIR; distributions PREFIX/DESTDIR)
PREFIX     ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA)
INST_BINDIR ?= $(PREFIX)/bin

.PHONY: all deps test demo install clean lint format bench check-format

all: $(MODULE)

$(BUILD)/obj/%.o: csrc/%.c $(wildcard csrc/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(ALL_CFLAGS) -c $< -o $@

$(MODULE): $(OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

install: $(MODULE)
	install -d $(DESTDIR)$(INST_LIBDIR)/databricks/webhooks $(DESTDIR)$(INST_LUADIR)/databricks/webhooks
	install -m 0755 $(MODULE) $(DESTDIR)$(INST_LIBDIR)/databricks/webhooks/core.so
	install -m 0644 lua/databricks/webhooks.lua $(DESTDIR)$(INST_LUADIR)/databricks/webhooks.lua
	for f in lua/databricks/webhooks/*.lua; do install -m 0644 $$f $(DESTDIR)$(INST_LUADIR)/databricks/webhooks/; done

deps:
	@bash .ci/deps

test: deps
	@bash .ci/test

demo: deps
	@bash examples/demo.sh

lint:
	luacheck lua spec examples bench

clean:
	rm -rf build
