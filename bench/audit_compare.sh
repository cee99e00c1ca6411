#!/bin/bash
# SPDX-License-Identifier: MIT
# audit_compare.sh — durable audit appends/s of two builds in the same run: BASE (the code before
# a change) and BUILD (after), alternating run by run so that both see the same machine load.
# Each run is `audit_bench T SECONDS` (T submitters calling audit_record_sync: file + store,
# group commit; after the change also a signed head and the tree nodes per commit) on a fresh
# data directory. Prints every run, then the medians per build and submitter count.
# Usage: BASE=/path/to/old/build BUILD=/path/to/new/build bench/audit_compare.sh
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$BENCH_DIR/../build}
BASE=${BASE:?set BASE to a build of the code before the change}
RUNS=${RUNS:-3}; SECS=${SECS:-5}; THREADS=${THREADS:-"1 64 256"}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "date=$(date -u +%FT%TZ) cpus=$(nproc) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" runs=$RUNS secs=$SECS"
out=$(mktemp)
for t in $THREADS; do
  for i in $(seq 1 "$RUNS"); do
    for b in base new; do
      dir=$([ $b = base ] && echo "$BASE" || echo "$BUILD")
      line=$("$dir/audit_bench" "$t" "$SECS" 2>/dev/null | grep '^mode=')
      echo "build=$b $line" | tee -a "$out"
    done
  done
done
for t in $THREADS; do
  for b in base new; do
    eps=$(grep "build=$b .*threads=$t " "$out" | grep -o 'events_per_s=[0-9]*' | cut -d= -f2 | median)
    epc=$(grep "build=$b .*threads=$t " "$out" | grep -o 'events_per_commit=[0-9.]*' | cut -d= -f2 | median)
    p50=$(grep "build=$b .*threads=$t " "$out" | grep -o 'p50_us=[0-9]*' | cut -d= -f2 | median)
    p99=$(grep "build=$b .*threads=$t " "$out" | grep -o 'p99_us=[0-9]*' | cut -d= -f2 | median)
    echo "median build=$b threads=$t events_per_s=$eps events_per_commit=$epc p50_us=$p50 p99_us=$p99"
  done
done
rm -f "$out"
