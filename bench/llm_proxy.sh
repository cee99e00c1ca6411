#!/bin/bash
# SPDX-License-Identifier: MIT
# llm_proxy.sh — (a) governed model proxy overhead: POST /v1/chat/completions (non-streamed)
# through the gateway (bearer token -> scope -> policy models domain -> provider admission ->
# upstream call -> audit) versus the same request sent straight to the instant mock, in the same
# run, alternating (direct, gateway) within each round so drift hits both alike.
# wrk -t1 -c$c -d${DUR}s --latency for each c in CONNS_LIST (default "1 64"), RUNS rounds
# (default 3) after a warm-up; medians of p50/p90/p99 and req/s, the added latency
# (gateway − direct, from the medians) and the gateway's CPU per request.
# Pinning (PIN=1, default): gateway on GW_CPU (0) alone, wrk and the mock on LOAD_CPU (1).
# Usage: BUILD=$PWD/build bench/llm_proxy.sh      (MOCK_ONLY=1: the mock alone, no gateway)
. "$(dirname "$0")/llm_common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-10}; CONNS_LIST=${CONNS_LIST:-"1 64"}; WARM=${WARM:-2}
machine_info
echo "runs=$RUNS dur_s=$DUR conns_list=\"$CONNS_LIST\" proxy_model=$PROXY_MODEL"
start_mock || exit 1
URL_PATH=/v1/chat/completions
BODY_GW='{"model":"'"$PROXY_MODEL"'","messages":[{"role":"user","content":"ping"}]}'
BODY_UP='{"model":"'"$UP_MODEL"'","messages":[{"role":"user","content":"ping"}]}'
wrk_lua "$WORK/direct.lua" "" "$BODY_UP"
wrk_lua "$WORK/gateway.lua" "$TOKEN" "$BODY_GW"
GW=0
if [ "${MOCK_ONLY:-0}" != 1 ] && start_gateway; then
  st=$(check_post "$GW_URL$URL_PATH" "$TOKEN" "$BODY_GW")
  if [ "$st" = 200 ]; then GW=1
  else echo "gateway_check status=$st body=$(head -c 400 "$WORK/check.out")"; fi
fi
[ $GW = 1 ] || echo "gateway part skipped (MOCK_ONLY=1, no gateway, or the proxy request failed)"

pin "$LOAD_CPU" wrk -t1 -c64 -d"${WARM}s" -s "$WORK/direct.lua" "$MOCK_URL$URL_PATH" >/dev/null 2>&1
[ $GW = 1 ] && pin "$LOAD_CPU" wrk -t1 -c64 -d"${WARM}s" -s "$WORK/gateway.lua" "$GW_URL$URL_PATH" >/dev/null 2>&1
[ $GW = 1 ] && echo "gateway_rss_after_warmup_kb=$(rss_kb "$GW_PID")"
up0=$(mock_stat chat); gw_ticks=0
for r in $(seq 1 "$RUNS"); do
  for c in $CONNS_LIST; do
    run_wrk "direct_c$c" "$c" "$DUR" "$WORK/direct.lua" "$MOCK_URL$URL_PATH"
    if [ $GW = 1 ]; then
      t0=$(cpu_ticks "$GW_PID")
      run_wrk "gateway_c$c" "$c" "$DUR" "$WORK/gateway.lua" "$GW_URL$URL_PATH"
      gw_ticks=$(( gw_ticks + $(cpu_ticks "$GW_PID") - t0 ))
    fi
  done
done
up1=$(mock_stat chat)

echo "== summary (medians of $RUNS runs; latency in µs)"
direct_req=0; gw_req=0
for c in $CONNS_LIST; do
  summary_wrk "direct_c$c"
  direct_req=$(( direct_req + $(field requests "$WORK/direct_c$c.sum" | paste -sd+ | bc) ))
  if [ $GW = 1 ]; then
    summary_wrk "gateway_c$c"
    gw_req=$(( gw_req + $(field requests "$WORK/gateway_c$c.sum" | paste -sd+ | bc) ))
    d50=$(field p50_us "$WORK/direct_c$c.sum" | median); g50=$(field p50_us "$WORK/gateway_c$c.sum" | median)
    d99=$(field p99_us "$WORK/direct_c$c.sum" | median); g99=$(field p99_us "$WORK/gateway_c$c.sum" | median)
    drps=$(field rps "$WORK/direct_c$c.sum" | median); grps=$(field rps "$WORK/gateway_c$c.sum" | median)
    echo "added_c$c p50_us=$(echo "$g50 - $d50" | bc) p99_us=$(echo "$g99 - $d99" | bc) rps_ratio_gateway_to_direct=$(echo "scale=3; $grps / $drps" | bc)"
  fi
done
echo "upstream_chat_calls=$((up1 - up0)) direct_requests=$direct_req gateway_requests=$gw_req"
if [ $GW = 1 ]; then
  hz=$(getconf CLK_TCK)
  echo "gateway_cpu_us_per_request=$(echo "scale=1; $gw_ticks * 1000000 / $hz / $gw_req" | bc) gateway_rss_after_kb=$(rss_kb "$GW_PID") gateway_hwm_kb=$(awk '/VmHWM/{print $2}' /proc/$GW_PID/status) gateway_threads=$(awk '/Threads/{print $2}' /proc/$GW_PID/status)"
fi
