# databricks-webhooks — build, test, demo.
#   make                 C module for Lua 5.4  -> build/5.4/databricks/webhooks/core.so
#   make LUA=5.1|5.3|luajit
#   make test            installs missing Debian packages, runs every spec
#   make demo            installs, builds, starts a local workspace, a local MLflow server and a
#                        receiver, runs both quickstarts (Databricks, then open-source MLflow)
#   make install         PREFIX=/usr/local (LUA=luajit installs into .../lua/5.1, where LuaJIT looks)
#   make rockspec        writes rockspec/databricks-webhooks-<VERSION>-1.rockspec from the scm one
# Every path is a variable so LuaRocks and distributions can drive it.

LUA        ?= 5.4
CC         ?= cc
PKG_CONFIG ?= pkg-config

# LUA_ABI names the module folders: LuaJIT and OpenResty search lua/5.1/.
ifeq ($(LUA),luajit)
  LUA_PC  ?= luajit
  LUA_BIN ?= luajit
  LUA_ABI ?= 5.1
else
  LUA_PC  ?= lua$(LUA)
  LUA_BIN ?= lua$(LUA)
  LUA_ABI ?= $(LUA)
endif

LUA_INCDIR ?= $(shell $(PKG_CONFIG) --variable=includedir $(LUA_PC) 2>/dev/null)
LUA_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null)
CURL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS  ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CRYPTO_LIBS ?= $(shell $(PKG_CONFIG) --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)

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
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_ABI)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_ABI)
INST_BINDIR ?= $(PREFIX)/bin
# data, not modules: a folder name no require() can reach
LOCAL_WORKSPACE = $(INST_LUADIR)/databricks/webhooks/local-workspace

.PHONY: all deps test demo install clean lint format bench rock rockspec

all: $(MODULE)

# `luarocks make` builds with this target: one BUILD folder serves every Lua
# version, so it is compiled afresh each time (objects left there by another
# Lua look up to date to make, and would be installed otherwise).
rock:
	rm -rf $(BUILD)
	$(MAKE) all

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
	for d in . cli cli/commands; do \
	  install -d $(DESTDIR)$(INST_LUADIR)/databricks/webhooks/$$d; \
	  for f in lua/databricks/webhooks/$$d/*.lua; do install -m 0644 $$f $(DESTDIR)$(INST_LUADIR)/databricks/webhooks/$$d/; done; \
	done
	# the local workspace, for users' own CI: `databricks-webhooks local-workspace`
	install -d $(DESTDIR)$(LOCAL_WORKSPACE)/spec/support/workspace
	install -m 0644 spec/support/workspace.lua spec/support/util.lua spec/support/README.md \
	  $(DESTDIR)$(LOCAL_WORKSPACE)/spec/support/
	install -m 0755 spec/support/workspace-ctl $(DESTDIR)$(LOCAL_WORKSPACE)/spec/support/
	install -m 0644 spec/support/workspace/* $(DESTDIR)$(LOCAL_WORKSPACE)/spec/support/workspace/
	install -d $(DESTDIR)$(INST_BINDIR)
	sed -e '1s|.*|#!/usr/bin/env $(LUA_BIN)|' \
	    -e 's|^local INSTALLED = nil$$|local INSTALLED = { lua = "$(INST_LUADIR)", lib = "$(INST_LIBDIR)" }|' \
	    bin/databricks-webhooks > $(DESTDIR)$(INST_BINDIR)/databricks-webhooks
	chmod 0755 $(DESTDIR)$(INST_BINDIR)/databricks-webhooks

deps:
	@bash .ci/deps

test: deps
	@bash .ci/test

demo:
	@bash .ci/deps --demo
	@bash examples/demo.sh

format:
	clang-format -i csrc/*.c csrc/*.h bench/*.c bench/*.h fuzz/*.c fuzz/*.h

lint:
	luacheck lua spec examples bench fuzz docs bin/databricks-webhooks

clean:
	rm -rf build

# The release rockspec: the scm one with the version of lua/databricks/webhooks.lua
# and the source of its git tag.
VERSION    := $(shell sed -n 's/^ *VERSION = "\(.*\)",$$/\1/p' lua/databricks/webhooks.lua)
PROJECT_URL = https://github.com/databricks-webhooks/databricks-webhooks
ROCKSPEC    = rockspec/databricks-webhooks-$(VERSION)-1.rockspec

rockspec: $(ROCKSPEC)

$(ROCKSPEC): rockspec/databricks-webhooks-scm-1.rockspec lua/databricks/webhooks.lua Makefile
	@test -n "$(VERSION)" || { echo "no VERSION in lua/databricks/webhooks.lua" >&2; exit 1; }
	sed -e 's|^version = "scm-1"|version = "$(VERSION)-1"|' \
	    -e 's|^  url = "git+$(PROJECT_URL).git",|  url = "git+$(PROJECT_URL).git",\n  tag = "v$(VERSION)",|' \
	    $< > $@

# Reference documentation: LDoc (config.ld) from lua/ into docs/; any LDoc
# warning fails the target (.ci/docs installs lua-ldoc and lua-markdown if missing).
.PHONY: docs settings-doc
docs:
	@bash .ci/docs

# docs/settings.md from the one table of settings (options.SETTINGS).
settings-doc:
	lua5.4 docs/settings.lua > docs/settings.md

# ---- hardening: fuzzing, sanitizers, static checks, soak (see fuzz/README.md) ----
#   make fuzz     libFuzzer harnesses (clang, ASan+UBSan) into build/fuzz, each run FUZZ_SECONDS
#   make asan     the C core with ASan+UBSan into build/asan, the whole busted suite under it
#   make static   clang-tidy, cppcheck and luacheck
#   make soak     SOAK_OPS calls with random faults against the local workspace
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_BUILD   ?= build/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 $(FUZZ_SAN) $(WARN) \
                $(shell $(PKG_CONFIG) --cflags lua5.4 libcurl) -DDBW_ROOT='"$(CURDIR)"'
FUZZ_LIBS     = $(shell $(PKG_CONFIG) --libs lua5.4) $(CURL_LIBS) $(CRYPTO_LIBS) -lm
FUZZ_NAMES    = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_OBJ      = $(SRC:csrc/%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/fz.o
SOAK_OPS     ?= 100000

.PHONY: fuzz fuzz-build asan static soak
.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/bin/%)

$(FUZZ_BUILD)/obj/%.o: csrc/%.c $(wildcard csrc/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC  $< (fuzz)"; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/obj/fz.o: fuzz/fz.c fuzz/fz.h
	@mkdir -p $(dir $@)
	@echo "  CC  $< (fuzz)"; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/bin/%: fuzz/%.c fuzz/fz.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) $(FUZZ_LIBS) -o $@

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) bash fuzz/run.sh run $(FUZZ_NAMES)

asan:
	@bash .ci/asan

static:
	@bash .ci/static

soak: all
	$(LUA_BIN) fuzz/soak.lua $(SOAK_OPS)

bench: all
	@bash bench/run
