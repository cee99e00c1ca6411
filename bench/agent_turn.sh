#!/bin/bash
# SPDX-License-Identifier: MIT
# agent_turn.sh — (b) agent turn overhead: POST /v1/chat/completions with an agent as the model
# (AGENT_MODEL below) through the gateway, side by side with the stock OpenClaw gateway
# ("openclaw/default" with its default agent) in the same run, both against the same instant C
# mock (bench/mock_upstream) on the same machine with the same pinning.
# Per system: wrk -t1 -c$c for c in CONNS_LIST (default "1 4"): turns/s and per-turn latency
# p50/p90/p99; the mock answering the same turn directly (its latency is the floor) gives the
# overhead per turn = system p50 − mock p50; CPU milliseconds per turn (process tree); upstream model
# calls per turn (the mock's counter); sequential streaming turns with stream_load (time to
# first token), and for the stock gateway also ../shared/reference/openclaw-bench/ttft.mjs.
# The gateway part needs a built gateway with the model proxy and agents; the stock part needs
# an OpenClaw install ($OC, default $TMPDIR/oc-baseline or ~/oc-baseline; install it with
# `OC=<dir> bench/openclaw_baseline.sh install`). OPENCLAW=0 skips the stock part, GATEWAY=0 ours.
# Stock OpenClaw is slow (≈ 300–450 CPU-ms per turn), so its runs are longer (OC_DUR, default 20 s)
# and fewer (OC_RUNS, default 2); its first turn after boot loads the agent runtime (≈ 13 s).
# Usage: BUILD=$PWD/build bench/agent_turn.sh
AGENT_MODEL=${AGENT_MODEL:-openclaw/bench/assistant}   # how a client names the gateway's agent
OC_MODEL=${OC_MODEL:-openclaw/default}                 # the stock gateway's default agent
. "$(dirname "$0")/llm_common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-10}; CONNS_LIST=${CONNS_LIST:-"1 4"}; SEQ=${SEQ:-20}
OC_RUNS=${OC_RUNS:-2}; OC_DUR=${OC_DUR:-20}; OC_CONNS_LIST=${OC_CONNS_LIST:-"1 4"}
GATEWAY=${GATEWAY:-1}; OPENCLAW=${OPENCLAW:-1}
URL_PATH=/v1/chat/completions
machine_info
echo "runs=$RUNS dur_s=$DUR conns_list=\"$CONNS_LIST\" agent_model=$AGENT_MODEL oc=${OC:-none} oc_runs=$OC_RUNS oc_dur_s=$OC_DUR oc_tools=${OC_TOOLS:-default}"
start_mock || exit 1
body() { echo '{"model":"'"$1"'",'"${2:-}"'"messages":[{"role":"user","content":"ping"}]}'; }
STREAM='"stream":true,'
wrk_lua "$WORK/direct.lua" "" "$(body "$UP_MODEL")"
wrk_lua "$WORK/gateway.lua" "$TOKEN" "$(body "$AGENT_MODEL")"
wrk_lua "$WORK/openclaw.lua" "$OC_TOKEN" "$(body "$OC_MODEL")"
hz=$(getconf CLK_TCK)

# floor: the mock answering the same request directly (c=1 and c=4)
for c in $CONNS_LIST; do run_wrk "mock_c$c" "$c" 5 "$WORK/direct.lua" "$MOCK_URL$URL_PATH" >/dev/null; done

sl() { # NAME URL TOKEN MODEL: SEQ sequential streaming turns
  local a=(); [ -n "$3" ] && a=(-a "$3")
  pin "$LOAD_CPU" "$SL_BIN" -u "$2" "${a[@]}" -b "$(body "$4" "$STREAM")" -c 1 -n "$SEQ" -T 300 > "$WORK/$1.txt"
  echo "$1 $(grep -ho 'completed=[0-9]*\|failed=[0-9]*\|ttft_ms_p50=[0-9.]*\|ttft_ms_p90=[0-9.]*\|ttft_ms_max=[0-9.]*\|total_ms_p50=[0-9.]*\|head_ms_p50=[0-9.]*' "$WORK/$1.txt" | tr '\n' ' ')"
}
# measure NAME PID URL LUA RUNS DUR CONNS_LIST: wrk rounds, CPU per turn, upstream calls per turn
measure() {
  local name=$1 pid=$2 url=$3 lua=$4 runs=$5 dur=$6 cl=$7 r c t0 u0 req
  for r in $(seq 1 "$runs"); do
    for c in $cl; do
      t0=$(tree_ticks "$pid"); u0=$(mock_stat chat)
      run_wrk "${name}_c$c" "$c" "$dur" "$lua" "$url" --timeout 60s
      req=$(tail -1 "$WORK/${name}_c$c.sum" | grep -o 'requests=[0-9]*' | cut -d= -f2)
      [ "${req:-0}" -gt 0 ] && echo "${name}_c$c run=$r cpu_ms_per_turn=$(echo "scale=3; ($(tree_ticks "$pid") - $t0) * 1000 / $hz / $req" | bc) upstream_calls_per_turn=$(echo "scale=2; ($(mock_stat chat) - $u0) / $req" | bc)" | tee -a "$WORK/${name}_c$c.cpu"
    done
  done
}

GW=0
if [ "$GATEWAY" = 1 ] && start_gateway; then
  st=$(check_post "$GW_URL$URL_PATH" "$TOKEN" "$(body "$AGENT_MODEL")")
  if [ "$st" = 200 ]; then GW=1; echo "gateway_turn_reply=$(head -c 300 "$WORK/check.out")"
  else echo "gateway_check status=$st body=$(head -c 400 "$WORK/check.out")"; fi
fi
if [ $GW = 1 ]; then
  echo "gateway_rss_ready_kb=$(rss_kb "$GW_PID")"
  pin "$LOAD_CPU" wrk -t1 -c4 -d2s -s "$WORK/gateway.lua" "$GW_URL$URL_PATH" >/dev/null 2>&1
  measure gateway "$GW_PID" "$GW_URL$URL_PATH" "$WORK/gateway.lua" "$RUNS" "$DUR" "$CONNS_LIST"
  sl gateway_stream_seq "$GW_URL$URL_PATH" "$TOKEN" "$AGENT_MODEL"
  echo "gateway_rss_after_kb=$(rss_kb "$GW_PID") gateway_hwm_kb=$(awk '/VmHWM/{print $2}' /proc/$GW_PID/status)"
  stop_pid "$GW_PID"; GW_PID=
else
  echo "gateway part skipped (GATEWAY=0, no gateway, or the agent turn failed)"
fi

OCOK=0
if [ "$OPENCLAW" = 1 ] && oc_available; then
  echo "openclaw_version=$(oc_env openclaw --version 2>/dev/null | head -1) node=$(oc_env node --version)"
  t0=$(date +%s.%N)
  if start_openclaw; then
    echo "openclaw_ready_s=$(echo "$(date +%s.%N) - $t0" | bc) openclaw_rss_ready_kb=$(tree_rss_kb "$OC_PID")"
    t0=$(date +%s.%N); st=$(check_post "$OC_URL$URL_PATH" "$OC_TOKEN" "$(body "$OC_MODEL")")
    echo "openclaw_first_turn status=$st s=$(echo "$(date +%s.%N) - $t0" | bc) reply=$(head -c 300 "$WORK/check.out")"
    [ "$st" = 200 ] && OCOK=1
  fi
fi
if [ $OCOK = 1 ]; then
  pin "$LOAD_CPU" wrk -t1 -c1 -d5s --timeout 60s -s "$WORK/openclaw.lua" "$OC_URL$URL_PATH" >/dev/null 2>&1   # warm-up
  measure openclaw "$OC_PID" "$OC_URL$URL_PATH" "$WORK/openclaw.lua" "$OC_RUNS" "$OC_DUR" "$OC_CONNS_LIST"
  sl openclaw_stream_seq "$OC_URL$URL_PATH" "$OC_TOKEN" "$OC_MODEL"
  TTFT_JS=${TTFT_JS:-$SRC/../shared/reference/openclaw-bench/ttft.mjs}
  [ -f "$TTFT_JS" ] && echo "openclaw_ttft_mjs $(oc_env env N="$SEQ" URL="$OC_URL$URL_PATH" MODEL="$OC_MODEL" node "$TTFT_JS" 2>&1 | tail -1)"
  echo "openclaw_rss_after_kb=$(tree_rss_kb "$OC_PID")"
elif [ "$OPENCLAW" = 1 ]; then
  echo "stock openclaw part skipped (no install found: set OC=, or the first turn failed)"
fi

echo "== summary (medians; latency in µs; overhead = system p50 − mock p50 at the same concurrency)"
for c in $CONNS_LIST $OC_CONNS_LIST; do echo "$c"; done | sort -un | while read -r c; do
  [ -f "$WORK/mock_c$c.sum" ] || continue
  m50=$(field p50_us "$WORK/mock_c$c.sum" | median)
  summary_wrk "mock_c$c"
  for s in gateway openclaw; do
    [ -f "$WORK/${s}_c$c.sum" ] || continue
    summary_wrk "${s}_c$c" | sed "s/^\([^ ]*\) median rps=/\1 median turns_per_s=/"
    echo "${s}_c$c overhead_p50_us=$(echo "$(field p50_us "$WORK/${s}_c$c.sum" | median) - $m50" | bc) cpu_ms_per_turn=$(field cpu_ms_per_turn "$WORK/${s}_c$c.cpu" | median) upstream_calls_per_turn=$(field upstream_calls_per_turn "$WORK/${s}_c$c.cpu" | median)"
  done
done
