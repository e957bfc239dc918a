#!/usr/bin/env bash
# A distributed job whose last worker fails (tests/mpi/dist_failure.cc) must end, with a clear
# error from the others, well within ctest's timeout: never hang.
# Usage: run_failure_test.sh MODE BINARY MPIRUN-ARGS...
set -uo pipefail
mode="$1" binary="$2"
shift 2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$SECONDS
MX_KVSTORE_TIMEOUT=5 timeout 120 "$@" -np 2 "$binary" "$mode" >"$log" 2>&1
rc=$?
elapsed=$((SECONDS - start))
cat "$log"
fail() { echo "FAIL ($mode): $*"; exit 1; }
((rc != 124)) || fail "the job hung (killed after 120 s)"
((rc != 0)) || fail "mpirun reported success"
((elapsed < 90)) || fail "the job took ${elapsed} s to end"
case "$mode" in
  stop) grep -q "worker 0: .*waited 5 s (MX_KVSTORE_TIMEOUT) for the others to synchronise key 'w'" \
          "$log" || fail "worker 0 did not report the timeout" ;;
  crash) grep -qi "signal\|abort\|exited" "$log" || fail "mpirun did not report the crash" ;;
esac
echo "PASS ($mode): ended in ${elapsed} s with status $rc"
