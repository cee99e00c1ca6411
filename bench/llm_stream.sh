#!/bin/bash
# SPDX-License-Identifier: MIT
# llm_stream.sh — (c) streaming through the governed proxy: STREAMS (default 512) concurrent
# "stream": true chat completions, sent straight to the mock and through the gateway in the same
# run, alternating within each of RUNS rounds (default 3). The mock streams CHUNKS content
# chunks (default 20) DELAY_MS apart (default 50), each stamped with its emission time;
# stream_load opens the connections evenly over RAMP_MS (default DELAY_MS) and reports time to
# first token (TTFT), per-chunk latency (arrival − emission, so through the gateway it includes
# the proxy's added latency per chunk), completed/failed streams, and the gateway's VmRSS
# sampled every 100 ms during the load (-p). A sequential run (one stream at a time, SEQ
# streams, default 20) gives the TTFT without load.
# With an OpenClaw install ($OC, see agent_turn.sh; OPENCLAW=0 skips it) the stock gateway gets
# the same streams at OC_STREAMS concurrency (default 8) and OC_SEQ sequential ones.
# Pinning (PIN=1, default): gateway on GW_CPU (0) alone, stream_load and the mock on LOAD_CPU (1).
# Usage: BUILD=$PWD/build bench/llm_stream.sh     (MOCK_ONLY=1: the mock alone)
. "$(dirname "$0")/llm_common.sh"
RUNS=${RUNS:-3}; STREAMS=${STREAMS:-512}; CHUNKS=${CHUNKS:-20}; DELAY_MS=${DELAY_MS:-50}
RAMP_MS=${RAMP_MS:-$DELAY_MS}; SEQ=${SEQ:-20}; TIMEOUT=${TIMEOUT:-120}
machine_info
echo "runs=$RUNS streams=$STREAMS chunks=$CHUNKS delay_ms=$DELAY_MS ramp_ms=$RAMP_MS seq=$SEQ proxy_model=$PROXY_MODEL"
start_mock -n "$CHUNKS" -d "$DELAY_MS" || exit 1
URL_PATH=/v1/chat/completions
body() { echo '{"model":"'"$1"'","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"ping"}]}'; }
BODY_GW=$(body "$PROXY_MODEL"); BODY_UP=$(body "$UP_MODEL")
GW=0
if [ "${MOCK_ONLY:-0}" != 1 ] && start_gateway; then
  st=$(check_post "$GW_URL$URL_PATH" "$TOKEN" "$BODY_GW")
  if [ "$st" = 200 ] && grep -q '\[DONE\]' "$WORK/check.out"; then GW=1
  else echo "gateway_check status=$st body=$(head -c 400 "$WORK/check.out")"; fi
fi
[ $GW = 1 ] || echo "gateway part skipped (MOCK_ONLY=1, no gateway, or the streaming request failed)"
[ $GW = 1 ] && echo "gateway_rss_idle_kb=$(rss_kb "$GW_PID")"

sl() { # NAME URL TOKEN BODY PID conns streams ramp
  local name=$1 url=$2 tok=$3 b=$4 pid=$5 c=$6 n=$7 ramp=$8
  local i=$(( $(ls "$WORK/$name".*.txt 2>/dev/null | wc -l) + 1 ))
  local a=(); [ -n "$tok" ] && a=(-a "$tok")
  pin "$LOAD_CPU" "$SL_BIN" -u "$url" "${a[@]}" -b "$b" -c "$c" -n "$n" -r "$ramp" -T "$TIMEOUT" -p "$pid" > "$WORK/$name.$i.txt"
  echo "$name run=$i $(grep -ho 'completed=[0-9]*\|failed=[0-9]*\|ttft_ms_p50=[0-9.]*\|ttft_ms_p99=[0-9.]*\|chunk_lag_ms_p50=[0-9.]*\|chunk_lag_ms_p99=[0-9.]*\|lag_samples=[0-9]*\|rss_max_kb=[-0-9]*\|total_ms_p50=[0-9.]*' "$WORK/$name.$i.txt" | tr '\n' ' ')"
}
# warm-up (small)
pin "$LOAD_CPU" "$SL_BIN" -u "$MOCK_URL$URL_PATH" -b "$BODY_UP" -c 32 -n 64 -T 30 >/dev/null
[ $GW = 1 ] && pin "$LOAD_CPU" "$SL_BIN" -u "$GW_URL$URL_PATH" -a "$TOKEN" -b "$BODY_GW" -c 32 -n 64 -T 30 >/dev/null
sl seq_direct "$MOCK_URL$URL_PATH" "" "$BODY_UP" "$MOCK_PID" 1 "$SEQ" 0
[ $GW = 1 ] && sl seq_gateway "$GW_URL$URL_PATH" "$TOKEN" "$BODY_GW" "$GW_PID" 1 "$SEQ" 0
for r in $(seq 1 "$RUNS"); do
  sl direct "$MOCK_URL$URL_PATH" "" "$BODY_UP" "$MOCK_PID" "$STREAMS" "$STREAMS" "$RAMP_MS"
  [ $GW = 1 ] && sl gateway "$GW_URL$URL_PATH" "$TOKEN" "$BODY_GW" "$GW_PID" "$STREAMS" "$STREAMS" "$RAMP_MS"
done

# stock OpenClaw (optional): the same streams on a smaller scale (each turn costs it ≈ 0.3 CPU-s)
OPENCLAW=${OPENCLAW:-1}; OC_MODEL=${OC_MODEL:-openclaw/default}; OC_STREAMS=${OC_STREAMS:-8}; OC_SEQ=${OC_SEQ:-10}
if [ "$OPENCLAW" = 1 ] && oc_available; then
  if [ $GW = 1 ]; then
    echo "gateway_rss_after_kb=$(rss_kb "$GW_PID") gateway_hwm_kb=$(awk '/VmHWM/{print $2}' /proc/$GW_PID/status) gateway_threads=$(awk '/Threads/{print $2}' /proc/$GW_PID/status)"
    stop_pid "$GW_PID"; GW_PID=
  fi
  echo "openclaw_version=$(oc_env openclaw --version 2>/dev/null | head -1) oc_streams=$OC_STREAMS oc_seq=$OC_SEQ"
  if start_openclaw; then
    echo "openclaw_rss_ready_kb=$(tree_rss_kb "$OC_PID")"
    st=$(check_post "$OC_URL$URL_PATH" "$OC_TOKEN" "$(body "$OC_MODEL")")   # first turn loads the agent runtime
    if [ "$st" = 200 ]; then
      sl seq_openclaw "$OC_URL$URL_PATH" "$OC_TOKEN" "$(body "$OC_MODEL")" "$OC_PID" 1 "$OC_SEQ" 0
      sl openclaw "$OC_URL$URL_PATH" "$OC_TOKEN" "$(body "$OC_MODEL")" "$OC_PID" "$OC_STREAMS" "$OC_STREAMS" "$RAMP_MS"
      echo "openclaw_rss_after_kb=$(tree_rss_kb "$OC_PID") (process tree; stream_load's rss_max_kb is the main process only)"
    else
      echo "openclaw_check status=$st body=$(head -c 300 "$WORK/check.out")"
    fi
    stop_openclaw
  fi
fi

echo "== summary (medians over runs; ms; rss in KiB)"
keys="completed failed ttft_ms_p50 ttft_ms_p99 chunk_lag_ms_p50 chunk_lag_ms_p99 total_ms_p50 rss_max_kb"
for name in seq_direct seq_gateway seq_openclaw direct gateway openclaw; do
  ls "$WORK/$name".*.txt >/dev/null 2>&1 || continue
  line="$name"; for k in $keys; do line="$line $k=$(field "$k" "$WORK/$name".*.txt | median)"; done
  echo "$line runs=$(ls "$WORK/$name".*.txt | wc -l)"
done
if ls "$WORK"/gateway.*.txt >/dev/null 2>&1; then
  for pair in "seq_direct seq_gateway" "direct gateway"; do
    set -- $pair
    line="added_${2}"
    for k in ttft_ms_p50 ttft_ms_p99 chunk_lag_ms_p50 chunk_lag_ms_p99; do
      line="$line $k=$(echo "$(field "$k" "$WORK/$2".*.txt | median) - $(field "$k" "$WORK/$1".*.txt | median)" | bc)"
    done
    echo "$line"
  done
fi
if [ -n "$GW_PID" ]; then
  echo "gateway_rss_after_kb=$(rss_kb "$GW_PID") gateway_hwm_kb=$(awk '/VmHWM/{print $2}' /proc/$GW_PID/status) gateway_threads=$(awk '/Threads/{print $2}' /proc/$GW_PID/status)"
fi
echo "mock_streams=$(mock_stat streams) mock_streams_done=$(mock_stat streams_done)"
