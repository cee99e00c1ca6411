#!/bin/bash
# SPDX-License-Identifier: MIT
# cluster_limits.sh — what counting a provider's limits in Redis costs the governed model proxy
# (issue 15, item 2; src/llm/llm_quota.h): POST /v1/chat/completions to the instant mock
# (bench/mock_upstream) through one gateway whose provider has every limit set but too high to
# bind (max_concurrent 1024, rpm 100000000, tpm 4000000000), with the shared state in-process
# (the scheduler's own buckets) and then in a local redis-server (cluster.enabled: each call
# adds to the running count of two epochs, the minute's requests and tokens, and takes them
# back or corrects them when it ends). Gateway pinned to GW_CPU, wrk, the mock and Redis to
# LOAD_CPU; RUNS rounds of wrk -t1 -c$CONNS -d${DUR}s after a warm-up, medians reported.
# Usage: BUILD=$PWD/build bench/cluster_limits.sh     (RUNS=3 DUR=5 CONNS=16)
. "$(dirname "$0")/llm_common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-5}; CONNS=${CONNS:-16}; WARM=${WARM:-2}
command -v redis-server >/dev/null || { echo "redis-server not installed" >&2; exit 1; }
machine_info
echo "runs=$RUNS dur_s=$DUR conns=$CONNS"
REDIS_DIR=$WORK/redis; mkdir -p "$REDIS_DIR"; REDIS_PORT=$(free_port)
$(pinned "$LOAD_CPU") redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
  --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_DIR/log" &
REDIS_PID=$!
trap 'cleanup; stop_pid "$REDIS_PID"' EXIT
eval "base_$(declare -f write_gateway_config)"
write_gateway_config() { # every limit set, none binding; cluster mode when CLUSTER_YAML is set
  base_write_gateway_config "$1"
  sed -i 's/limits: {max_concurrent: 1024, max_queue: 100000}/limits: {max_concurrent: 1024, rpm: 100000000, tpm: 4000000000, max_queue: 100000}/' "$1/gateway.yaml"
  [ -n "$CLUSTER_YAML" ] && echo "$CLUSTER_YAML" >> "$1/gateway.yaml"
  return 0
}
start_mock || exit 1
BODY='{"model":"'"$PROXY_MODEL"'","messages":[{"role":"user","content":"ping"}]}'
wrk_lua "$WORK/chat.lua" "$TOKEN" "$BODY"
for mode in in_process redis; do
  CLUSTER_YAML=
  [ $mode = redis ] && CLUSTER_YAML="cluster: {enabled: true, node_id: bench, redis: {url: \"redis://127.0.0.1:$REDIS_PORT\"}}"
  GW_PORT=; start_gateway || exit 1
  st=$(check_post "$GW_URL/v1/chat/completions" "$TOKEN" "$BODY")
  [ "$st" = 200 ] || { echo "check status=$st $(head -c 300 "$WORK/check.out")" >&2; exit 1; }
  echo "limits_$mode=$(curl -fs -H "Authorization: Bearer $TOKEN" "$GW_URL/api/v1/status" | python3 -c 'import json,sys; q=json.load(sys.stdin)["model_queues"]["'"$PROVIDER"'"]; print(q.get("limits","in-process"), q.get("nodes",1))')"
  pin "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARM}s" -s "$WORK/chat.lua" "$GW_URL/v1/chat/completions" >/dev/null 2>&1
  for r in $(seq 1 "$RUNS"); do
    run_wrk "chat_$mode" "$CONNS" "$DUR" "$WORK/chat.lua" "$GW_URL/v1/chat/completions"
  done
  stop_pid "$GW_PID"; GW_PID=
done
echo "== summary (medians of $RUNS runs; latency in µs)"
summary_wrk chat_in_process
summary_wrk chat_redis
