#!/bin/bash
# SPDX-License-Identifier: MIT
# cluster_auth.sh — what cluster mode costs the authenticated, audited request of http_wrk.sh
# (GET /api/v1/memory/engineering/code-reviewer with a bearer token) on one node: the shared
# state in-process, then in a local Redis (cluster.enabled: every authentication reads the
# address's failed-auth counter from Redis; revocation checks read the local mirror). The
# gateway is pinned to $GW_CPU, wrk and redis-server share $LOAD_CPU (two cores here); RUNS
# runs of wrk -t1 -c$CONNS -d${DUR}s after a warm-up, medians reported.
# Usage: BUILD=/path/to/build bench/cluster_auth.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-5}; CONNS=${CONNS:-32}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server not installed" >&2; exit 1; }
machine_info
echo "gateway_cpu=$GW_CPU wrk_and_redis_cpu=$LOAD_CPU conns=$CONNS dur_s=$DUR runs=$RUNS"
REDIS_DIR=$(mktemp -d -t gwbench-redis.XXXXXX); REDIS_PORT=$(free_port)
taskset -c "$LOAD_CPU" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
  --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_DIR/log" &
REDIS_PID=$!
trap 'stop_gateway; kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; rm -rf "$REDIS_DIR"' EXIT
PATH_GET=/api/v1/memory/engineering/code-reviewer
for mode in in_process redis; do
  EXTRA_YAML=
  [ "$mode" = redis ] && EXTRA_YAML="cluster: {enabled: true, node_id: bench, redis: {url: \"redis://127.0.0.1:$REDIS_PORT\"}}"
  start_gateway "$GW_CPU" || exit 1
  [ "$mode" = redis ] && { curl -fs "$GW_URL/readyz" | grep -q '"shared":"ok"' || sleep 1; }
  LUA=$GW_DIR/auth_get.lua
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ENG_TOKEN" > "$LUA"
  curl -fs -X PUT -H "Authorization: Bearer $ENG_TOKEN" -H 'Content-Type: text/markdown' \
    --data-binary '# code-reviewer memory\n' "$GW_URL$PATH_GET" >/dev/null || { echo "PUT failed" >&2; exit 1; }
  echo "shared=$(curl -fs -H "Authorization: Bearer $ADMIN_TOKEN" "$GW_URL/api/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["components"]["shared"]["backend"])')"
  wrk_runs "memory_get_authed_$mode" "$PATH_GET" "$LUA"
  stop_gateway
done
