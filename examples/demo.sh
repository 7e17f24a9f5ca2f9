#!/usr/bin/env bash
# `make demo`: build, start the local workspace and a signature-checking
# receiver on loopback, run examples/quickstart.lua; then the same for the
# open-source MLflow family: a local MLflow stand-in, the receiver again,
# examples/mlflow_quickstart.lua (with a real event fired); stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s LUA=5.4
work=$(mktemp -d)
cleanup() {
  [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null || true
  [ -n "${mlflow_receiver_pid:-}" ] && kill "$mlflow_receiver_pid" 2>/dev/null || true
  spec/support/workspace-ctl stop "$work/ws" >/dev/null 2>&1 || true
  spec/support/workspace-ctl stop "$work/mlflow" >/dev/null 2>&1 || true
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

# The open-source MLflow family: a stand-in for an MLflow 3.3+ tracking
# server, which (like a real one started with MLFLOW_WEBHOOK_ALLOWED_SCHEMES
# and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS) may deliver over http to loopback.
echo
spec/support/workspace-ctl start "$work/mlflow" --api mlflow --allowed-schemes http,https \
  --allow-private-ips >"$work/mlflow.url" 2>"$work/mlflow-ctl.err" ||
  { cat "$work/mlflow-ctl.err" >&2; exit 1; }
mlflow_url=$(head -1 "$work/mlflow.url")
echo "local MLflow:    $mlflow_url"

mlflow_secret="demo-secret-$RANDOM$RANDOM"
lua5.4 examples/receiver.lua "$work/mlflow-port" "$mlflow_secret" &
mlflow_receiver_pid=$!
for _ in $(seq 50); do [ -s "$work/mlflow-port" ] && break; sleep 0.1; done
mlflow_port=$(cat "$work/mlflow-port")
echo "receiver:        http://127.0.0.1:$mlflow_port/hook"
echo

# The MLflow client's environment; DEMO_CONTROL_URL lets the example fire a
# real event through the stand-in's control API.
MLFLOW_TRACKING_URI="$mlflow_url" DEMO_CONTROL_URL="$mlflow_url" \
RECEIVER_URL="http://127.0.0.1:$mlflow_port/hook" WEBHOOK_SECRET="$mlflow_secret" \
LUA_PATH="./lua/?.lua;;" LUA_CPATH="./build/5.4/?.so;;" \
  lua5.4 examples/mlflow_quickstart.lua
sleep 0.2
