#!/bin/bash
# SPDX-License-Identifier: MIT
# common.sh — shared helpers for the bench/*.sh scripts (sourced, not run).
#
# Starts the real openclaw-gateway from $BUILD (default ./build) on a free loopback port with a
# fresh temporary data directory and a seed-003 style gateway.yaml, waits for /readyz, and stops
# it by PID with SIGTERM. Everything stays on 127.0.0.1. Results are printed as "key=value" lines
# so BENCHMARKS.md can quote them; nothing here asserts on speed.
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${SRC:-$(cd "$BENCH_DIR/.." && pwd)}
BUILD=${BUILD:-$SRC/build}
GW_BIN=$BUILD/openclaw-gateway
ENG_TOKEN=bench-eng-token-0123456789abcdef0123
ADMIN_TOKEN=bench-admin-token-0123456789abcdef01
GW_CPU=${GW_CPU:-0}     # taskset core for the gateway
LOAD_CPU=${LOAD_CPU:-1} # taskset core for wrk
[ -x "$GW_BIN" ] || { echo "no gateway binary at $GW_BIN (set BUILD=)" >&2; exit 1; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# write_config DIR PORT -> DIR/gateway.yaml
write_config() {
  cat > "$1/gateway.yaml" <<YAML
gateway:
  host: 127.0.0.1
  port: $2
  limits:
    max_connections: 1024
    max_connections_per_ip: 1024
    max_body_bytes: 1048576
    max_memory_bytes: 65536
auth:
  failed_auth_limit: 100000
  tokens:
    - id: team-engineering
      token: "$ENG_TOKEN"
      scopes: ["channels:engineering/*", "memory:read", "memory:write"]
    - id: admin
      token: "$ADMIN_TOKEN"
      scopes: ["*"]
tenant:
  id: acme-corp
audit:
  enabled: true
  log_path: audit.jsonl
  log_level: audit
namespaces:
  engineering:
    shared_memory_path: ./memory/engineering/shared.md
agents:
  - name: engineering/code-reviewer
    channel: engineering/code-reviewer
    memory_path: ./memory/engineering/code-reviewer.md
YAML
}

# start_gateway [taskset-cpu]: sets GW_PID GW_PORT GW_DIR GW_URL; waits for /readyz (10 s)
start_gateway() {
  GW_DIR=$(mktemp -d -t gwbench.XXXXXX); GW_PORT=$(free_port); GW_URL=http://127.0.0.1:$GW_PORT
  mkdir -p "$GW_DIR/data"; write_config "$GW_DIR" "$GW_PORT"
  if [ -n "${1:-}" ]; then
    taskset -c "$1" "$GW_BIN" --config "$GW_DIR/gateway.yaml" --data-dir "$GW_DIR/data" >"$GW_DIR/stdout" 2>"$GW_DIR/stderr" &
  else
    "$GW_BIN" --config "$GW_DIR/gateway.yaml" --data-dir "$GW_DIR/data" >"$GW_DIR/stdout" 2>"$GW_DIR/stderr" &
  fi
  GW_PID=$!
  for _ in $(seq 1 1000); do
    curl -fs -o /dev/null "$GW_URL/readyz" && return 0
    kill -0 $GW_PID 2>/dev/null || { echo "gateway exited: $(tail -5 "$GW_DIR/stderr")" >&2; return 1; }
    sleep 0.01
  done
  echo "gateway not ready in 10 s" >&2; return 1
}

stop_gateway() {
  [ -n "${GW_PID:-}" ] || return 0
  kill -TERM "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; local rc=$?
  [ "${KEEP:-0}" = 1 ] || rm -rf "$GW_DIR"
  GW_PID=; return $rc
}

rss_kb() { awk '/VmRSS/{print $2}' /proc/$1/status; }

# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

# wrk_field FILE: prints "rps p50_ms p99_ms" from a `wrk --latency` report
wrk_field() {
  awk 'function ms(v){ if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
       /Requests\/sec:/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
       END {printf "%s %.3f %.3f\n", rps, p50, p99}' "$1"
}

# wrk_runs NAME PATH [LUA]: a 2 s warm-up, then RUNS runs of wrk -t1 -c$CONNS -d${DUR}s --latency
# on $GW_URL$PATH (wrk pinned to $LOAD_CPU); one line per run, then the medians.
wrk_runs() {
  local name=$1 path=$2 lua=${3:-} out
  local s=(); [ -n "$lua" ] && s=(-s "$lua")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d2s "${s[@]}" "$GW_URL$path" >/dev/null 2>&1  # warm-up
  for i in $(seq 1 "$RUNS"); do
    out=$GW_DIR/$name.$i.txt
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "${s[@]}" "$GW_URL$path" > "$out" 2>&1
    local non2xx; non2xx=$(awk '/Non-2xx/{print $NF}' "$out")
    echo "$name run=$i $(wrk_field "$out" | awk '{printf "rps=%s p50_ms=%s p99_ms=%s", $1, $2, $3}') non2xx=${non2xx:-0}"
  done | tee "$GW_DIR/$name.sum"
  echo "$name median rps=$(grep -o 'rps=[0-9.]*' "$GW_DIR/$name.sum" | cut -d= -f2 | median)" \
       "p50_ms=$(grep -o 'p50_ms=[0-9.]*' "$GW_DIR/$name.sum" | cut -d= -f2 | median)" \
       "p99_ms=$(grep -o 'p99_ms=[0-9.]*' "$GW_DIR/$name.sum" | cut -d= -f2 | median)"
}

machine_info() {
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "nproc=$(nproc)"
  echo "mem_total_gib=$(free -g | awk '/^Mem:/{print $2}')"
  echo "kernel=$(uname -r)"
  echo "loadavg=$(cut -d" " -f1-3 /proc/loadavg)"
  echo "gateway=$("$GW_BIN" --version 2>/dev/null | head -1)"
}
