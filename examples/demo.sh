#!/usr/bin/env bash
# `make demo`: build, start the local workspace and a signature-checking
# receiver on loopback, run examples/quickstart.lua, stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s LUA=5.4
work=$(mktemp -d)
cleanup() {
  [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null || true
  spec/support/workspace-ctl stop "$work/ws" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The HTTPS front that negotiates HTTP/2, as a real workspace's does; its
# certificate chains to a CA made at start, which only this demo trusts.
# (stderr: the export lines for your own shell, kept for failures)
spec/support/workspace-ctl start "$work/ws" --fronts >/dev/null 2>"$work/ctl.err" ||
  { cat "$work/ctl.err" >&2; exit 1; }
url=$(cat "$work/ws/h2_url")
ca_file=$(cat "$work/ws/ca_file")
token=$(cat "$work/ws/token")
echo "local workspace: $url (CA: $ca_file)"

secret="demo-secret-$RANDOM$RANDOM"
lua5.4 examples/receiver.lua "$work/port" "$secret" &
receiver_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
echo "receiver:        http://127.0.0.1:$port/hook"
echo

# The SDK-style environment; the file is skipped because host and token are set.
DATABRICKS_HOST="$url" DATABRICKS_TOKEN="$token" WORKSPACE_CA_FILE="$ca_file" \
RECEIVER_URL="http://127.0.0.1:$port/hook" WEBHOOK_SECRET="$secret" \
LUA_PATH="./lua/?.lua;;" LUA_CPATH="./build/5.4/?.so;;" \
  lua5.4 examples/quickstart.lua
sleep 0.2
