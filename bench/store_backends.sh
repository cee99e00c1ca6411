#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The store's hot operations on SQLite and on PostgreSQL, side by side (build/store_bench):
# durable audit appends (1- and 64-row transactions), session lookups by token hash (1 and
# THREADS threads), usage rows in 256-row batches, and on PostgreSQL 64 inserts with and
# without a pipeline. SQLite keeps its file in a temporary directory; PostgreSQL is a throwaway
# cluster from tests/pg/cluster.sh with fsync on (--durable), on a Unix socket, on the same
# disk. RUNS runs of each; prints every run, then the median of each line.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
SECS=${SECS:-3}
THREADS=${THREADS:-4}
dir=$(mktemp -d "${TMPDIR:-/tmp}/store-bench.XXXXXX")
chmod 755 "$dir"
trap 'tests/pg/cluster.sh stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
url=$(tests/pg/cluster.sh start "$dir/pg" --durable)
out="$dir/runs"
for i in $(seq "$RUNS"); do
  rm -rf "$dir/sqlite"
  "$BUILD/store_bench" sqlite "$dir/sqlite" "$SECS" "$THREADS" 2>/dev/null | tee -a "$out"
  "$BUILD/store_bench" postgresql "$url" "$SECS" "$THREADS" 2>/dev/null | tee -a "$out"
done
echo "== medians of $RUNS runs (per second; p50 and p99 of one operation in ms)"
awk '/^backend/ { b = $2; next }
     /\/s / { key = b ": " substr($0, 1, 34); split(substr($0, 35), f, " "); c = ++n[key];
       r[key, c] = f[1] + 0;
       for (i = 1; i < length(f); i++) { if (f[i] == "p50") p50[key, c] = f[i + 1] + 0;
                                        if (f[i] == "p99") p99[key, c] = f[i + 1] + 0 } }
     function med(a, k, c,    i, j, t, v) { for (i = 1; i <= c; i++) v[i] = a[k, i];
       for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
       return v[int((c + 1) / 2)] }
     END { for (k in n) printf "%-48s %10.0f/s  p50 %.3f  p99 %.3f\n", k, med(r, k, n[k]),
           med(p50, k, n[k]), med(p99, k, n[k]) }' "$out" | sort
uptime
