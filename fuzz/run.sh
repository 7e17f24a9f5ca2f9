#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by `make fuzz-build` (build/fuzz/bin).
#
#   fuzz/run.sh run    [harness...]   fuzz each for FUZZ_SECONDS (default 30)
#   fuzz/run.sh replay [harness...]   run every checked-in input once (regressions)
#
# Inputs: fuzz/corpus/<harness>/ (checked in, read only) plus a work corpus in
# $FUZZ_BUILD/corpus/<harness>/ that keeps what earlier runs found. Crashes,
# leaks, timeouts and broken invariants land in $FUZZ_BUILD/artifacts/; each
# harness's log is $FUZZ_BUILD/logs/<harness>.log. FUZZ_JOBS harnesses run at
# a time (default: the number of CPUs, at most 4). Exits 1 if any failed.
# A crash found here becomes a fix plus a file fuzz/corpus/<harness>/regress-*.
set -uo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-run}
shift || true
B=${FUZZ_BUILD:-build/fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -gt 4 ] && JOBS=4
NAMES=("$@")
if [ ${#NAMES[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do NAMES+=("$(basename "$f" .c)"); done
fi
mkdir -p "$B/logs" "$B/artifacts"

# Leaks are errors (Lua's and libcurl's global state stays reachable, so it is
# not reported); UBSan stops at the first report, with a stack.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

# Longest input worth trying per harness (the header values are bounded anyway).
max_len() {
  case $1 in
    fuzz_retry_after) echo 128 ;;
    fuzz_config) echo 16384 ;;
    *) echo 65536 ;;
  esac
}

run_one() { # run_one NAME -> writes $B/logs/NAME.{log,result}
  local h=$1 bin="$B/bin/$1" log="$B/logs/$1.log" dict=() rc
  [ -f "fuzz/dict/$h.dict" ] && dict=(-dict="fuzz/dict/$h.dict")
  if [ ! -x "$bin" ]; then
    echo "FAIL  $h: $bin not built" >"$B/logs/$h.result"; return
  fi
  if [ "$MODE" = replay ]; then
    local inputs=(fuzz/corpus/"$h"/*)
    "$bin" -timeout=30 -rss_limit_mb=4096 "${inputs[@]}" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      echo "ok    $h: ${#inputs[@]} checked-in inputs replayed" >"$B/logs/$h.result"
    else
      echo "FAIL  $h: replay failed (rc $rc, log $log)" >"$B/logs/$h.result"
    fi
    return
  fi
  mkdir -p "$B/corpus/$h"
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -max_len="$(max_len "$h")" \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$h-" "${dict[@]}" \
    "$B/corpus/$h" "fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  local execs cov corpus
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | awk '{print $2}')
  corpus=$(find "$B/corpus/$h" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    printf 'ok    %-18s %10s executions in %ss, coverage %s, corpus %s\n' "$h" "${execs:-?}" \
      "$SECONDS_EACH" "${cov:-?}" "$corpus" >"$B/logs/$h.result"
  else
    printf 'FAIL  %-18s rc %s after %s executions; log %s; artifacts %s\n' "$h" "$rc" "${execs:-?}" \
      "$log" "$(ls "$B/artifacts/$h-"* 2>/dev/null | tr '\n' ' ')" >"$B/logs/$h.result"
  fi
}

pids=()
for h in "${NAMES[@]}"; do
  rm -f "$B/logs/$h.result"
  run_one "$h" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
wait "${pids[@]}"

failed=0
for h in "${NAMES[@]}"; do
  cat "$B/logs/$h.result" 2>/dev/null || { echo "FAIL  $h: no result"; failed=1; continue; }
  if grep -q '^FAIL' "$B/logs/$h.result"; then
    failed=1
    grep -m1 -E 'fuzz invariant broken|ERROR: |runtime error' "$B/logs/$h.log" | sed 's/^/      /'
  fi
done
exit $failed
