#!/bin/bash
# SPDX-License-Identifier: MIT
# http_wrk.sh — HTTP throughput and latency with wrk on 127.0.0.1, as in
# ../shared/reference/c-deps.md: gateway pinned with `taskset -c $GW_CPU` (all its threads on
# one core), wrk with `taskset -c $LOAD_CPU`, `wrk -t1 -c$CONNS -d${DUR}s --latency` after a 2 s
# warm-up, RUNS runs (default 3); median req/s, p50 and p99 are reported.
# Endpoints: GET /api/v1/health (no auth) and GET /api/v1/memory/engineering/code-reviewer
# (bearer token -> scope check -> file read -> queued audit event), a Lua script adds the header.
# Usage: BUILD=/path/to/build bench/http_wrk.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-10}; CONNS=${CONNS:-64}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
machine_info
echo "gateway_cpu=$GW_CPU wrk_cpu=$LOAD_CPU conns=$CONNS dur_s=$DUR runs=$RUNS"
start_gateway "$GW_CPU" || exit 1
trap stop_gateway EXIT
LUA=$GW_DIR/auth_get.lua
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ENG_TOKEN" > "$LUA"
curl -fs -X PUT -H "Authorization: Bearer $ENG_TOKEN" -H 'Content-Type: text/markdown' \
  --data-binary '# code-reviewer memory\nbenchmark document of a few lines\n' \
  "$GW_URL/api/v1/memory/engineering/code-reviewer" >/dev/null || { echo "memory PUT failed" >&2; exit 1; }
curl -fs -o /dev/null -H "Authorization: Bearer $ENG_TOKEN" "$GW_URL/api/v1/memory/engineering/code-reviewer" \
  || { echo "memory GET failed" >&2; exit 1; }

wrk_runs health /api/v1/health
wrk_runs memory_get_authed /api/v1/memory/engineering/code-reviewer "$LUA"
echo "rss_after_load_kb=$(rss_kb $GW_PID)"
echo "audit_stats=$(curl -fs "$GW_URL/api/v1/status" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get("audit")))')"
