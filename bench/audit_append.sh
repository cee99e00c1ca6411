#!/bin/bash
# SPDX-License-Identifier: MIT
# audit_append.sh — durable audit appends per second. Every PUT /api/v1/memory/... is a
# mutation whose audit event is written synchronously (store transaction + JSONL fdatasync,
# group commit) before the change is applied, so concurrent PUTs measure the audit writer.
# wrk (pinned to $LOAD_CPU) drives CONNS connections (default 16 and 64) for DUR seconds against
# the gateway (pinned to $GW_CPU); events/s comes from the gateway's own counter
# (/api/v1/status audit.appended, delta over the run) next to wrk's req/s. RUNS runs, medians.
# Usage: BUILD=/path/to/build bench/audit_append.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-10}; CONNS_LIST=${CONNS_LIST:-"16 64"}
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
machine_info
echo "gateway_cpu=$GW_CPU wrk_cpu=$LOAD_CPU dur_s=$DUR runs=$RUNS data_fs=$(df -T /tmp | awk 'NR==2{print $2}')"
start_gateway "$GW_CPU" || exit 1
trap stop_gateway EXIT
LUA=$GW_DIR/put.lua
cat > "$LUA" <<LUA
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer $ENG_TOKEN"
wrk.headers["Content-Type"] = "text/markdown"
wrk.body = "# notes\nA short memory document written by the audit benchmark.\n"
LUA
appended() { curl -fs "$GW_URL/api/v1/status" | python3 -c 'import json,sys; a=json.load(sys.stdin)["audit"]; print(a["appended"], a["batches"])'; }
P=/api/v1/memory/engineering/code-reviewer
taskset -c "$LOAD_CPU" wrk -t1 -c16 -d2s -s "$LUA" "$GW_URL$P" >/dev/null 2>&1
for c in $CONNS_LIST; do
  for i in $(seq 1 "$RUNS"); do
    read -r a0 b0 < <(appended); t0=$(date +%s.%N)
    taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${DUR}s" --latency -s "$LUA" "$GW_URL$P" > "$GW_DIR/put.$c.$i.txt" 2>&1
    t1=$(date +%s.%N); read -r a1 b1 < <(appended)
    non2xx=$(awk '/Non-2xx/{print $NF}' "$GW_DIR/put.$c.$i.txt")
    echo "conns=$c run=$i $(wrk_field "$GW_DIR/put.$c.$i.txt" | awk '{printf "put_rps=%s p50_ms=%s p99_ms=%s", $1, $2, $3}')" \
         "events_per_s=$(echo "($a1 - $a0) / ($t1 - $t0)" | bc -l | xargs printf '%.0f')" \
         "events_per_batch=$(echo "($a1 - $a0) / ($b1 - $b0 + 0.000001)" | bc -l | xargs printf '%.1f') non2xx=${non2xx:-0}"
  done | tee "$GW_DIR/sum.$c"
  echo "conns=$c median put_rps=$(grep -o 'put_rps=[0-9.]*' "$GW_DIR/sum.$c" | cut -d= -f2 | median)" \
       "events_per_s=$(grep -o 'events_per_s=[0-9.]*' "$GW_DIR/sum.$c" | cut -d= -f2 | median)" \
       "p50_ms=$(grep -o 'p50_ms=[0-9.]*' "$GW_DIR/sum.$c" | cut -d= -f2 | median)" \
       "p99_ms=$(grep -o 'p99_ms=[0-9.]*' "$GW_DIR/sum.$c" | cut -d= -f2 | median)"
done
v=$(curl -fs -H "Authorization: Bearer $ADMIN_TOKEN" "$GW_URL/api/v1/audit/verify")
echo "verify_after=$v"
