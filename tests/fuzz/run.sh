#!/usr/bin/env bash
# Runs libFuzzer targets of a GW_FUZZ build against their corpus (README.md).
#   tests/fuzz/run.sh [-t seconds] [-j jobs] <build-dir> [target...]
# Each target first runs every input of tests/fuzz/corpus/<target>/ (the regression inputs),
# then mutates for the given time (default 5 s) with its dictionary when it has one. New inputs
# go to <build-dir>/fuzz-work/<target>/corpus, never into the repository; crashes, leaks,
# timeouts and failed invariants are saved there as crash-*/leak-*/timeout-* and fail the run.
# With no target named, all of them run, `jobs` at a time (default 1).
set -euo pipefail
secs=5
jobs=1
while getopts "t:j:" opt; do
  case $opt in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-t seconds] [-j jobs] <build-dir> [target...]" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "$1" && pwd)"
shift
bin="$build/tests/fuzz"
if [ $# -eq 0 ]; then
  set -- $(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

run_one() {
  local t=$1 work="$build/fuzz-work/$1"
  mkdir -p "$work/corpus"
  local args=(-max_total_time="$secs" -timeout=30 -print_final_stats=1
              -artifact_prefix="$work/")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  if "$bin/fuzz_$t" "${args[@]}" "$work/corpus" "$here/corpus/$t" >"$work/log" 2>&1; then
    echo "fuzz_$t: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" |
      grep -o '[0-9]*$') runs in ${secs} s, $(grep -oE 'DONE +cov: [0-9]+ ft: [0-9]+' "$work/log" |
      sed 's/DONE *//')"
  else
    echo "fuzz_$t: FAILED (log: $work/log)"
    grep -E 'ERROR|invariant failed|SUMMARY|Test unit written|Base64' "$work/log" | head -20
    return 1
  fi
}

status=0
pids=()
for t in "$@"; do
  [ -x "$bin/fuzz_$t" ] || { echo "no target fuzz_$t in $bin" >&2; status=1; continue; }
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do
  wait "$p" || status=1
done
exit $status
