#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A cluster on this machine for trying cluster mode and for the tests (docs/CLUSTER.md): a
# throwaway PostgreSQL (tests/pg/cluster.sh), a redis-server, N gateway nodes from the build
# sharing both, and nginx in front. Loopback only, Debian packages only, everything under one
# state directory (OPENCLAW_CLUSTER_DIR, default ./cluster-state).
#
#   scripts/cluster.sh up [--nodes N]   starts it (N = 3); prints the URL and an admin token
#   scripts/cluster.sh status           what runs, and each node's /readyz
#   scripts/cluster.sh down             stops everything it started
#
# OPENCLAW_BUILD_DIR names the build (default: the repository's build/, built like
# scripts/run.sh when missing); OPENCLAW_CLUSTER_PORT nginx's port (default: a free one);
# OPENCLAW_CLUSTER_EXTRA_YAML a file appended to every node's gateway.yaml (e.g. models:).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${OPENCLAW_BUILD_DIR:-$root/build}"
state="${OPENCLAW_CLUSTER_DIR:-./cluster-state}"
cmd=${1:-}
shift || true
nodes=3
while [ $# -gt 0 ]; do
  case "$1" in
  --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
  *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$nodes" in '' | *[!0-9]*) echo "cluster.sh: --nodes must be 1-16" >&2; exit 2 ;; esac
[ "$nodes" -ge 1 ] && [ "$nodes" -le 16 ] || { echo "cluster.sh: --nodes must be 1-16" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# /readyz of 127.0.0.1:$1 answers 200 within the deadline (seconds)
wait_ready() {
  local port=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# SIGTERM, then SIGKILL after the gateway's 10 s drain and a margin
stop_pid() {
  local pidfile=$1 i
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}

down() {
  [ -d "$state" ] || return 0
  stop_pid "$state/nginx/nginx.pid"
  for p in "$state"/node-*/gateway.pid; do
    [ -e "$p" ] && stop_pid "$p"
  done
  stop_pid "$state/redis/redis.pid"
  "$root/tests/pg/cluster.sh" stop "$state/pg" 2>/dev/null || true
}

start_node() {
  local i=$1 port=$2 d="$state/node-$1"
  mkdir -p "$d/data"
  # one pseudonymisation key for the whole cluster, node-1's: pseudonyms in the audit trail
  # must be the same whichever node wrote them (each node signs with its own key, published
  # in the store)
  if [ "$i" -gt 1 ]; then
    cp -p "$state/node-1/data/audit_pii.key" "$d/data/"
  fi
  cat >"$d/gateway.yaml" <<EOF
# node-$i of scripts/cluster.sh: the store and Redis are the cluster's, the data directory its own
gateway:
  host: 127.0.0.1
  port: $port
  trusted_proxies: [127.0.0.1]
store: {backend: postgresql, url: "$pg"}
cluster:
  enabled: true
  node_id: node-$i
  redis: {url: "redis://:$redis_pw@127.0.0.1:$redis_port", tls: false}
EOF
  if [ -n "${OPENCLAW_CLUSTER_EXTRA_YAML:-}" ]; then
    cat "$OPENCLAW_CLUSTER_EXTRA_YAML" >>"$d/gateway.yaml"
  fi
  setsid "$build/openclaw-gateway" --config "$d/gateway.yaml" --data-dir "$d/data" \
    </dev/null >"$d/gateway.log" 2>&1 &
  echo $! >"$d/gateway.pid"
}

up() {
  if alive "$state/nginx/nginx.pid" || alive "$state/node-1/gateway.pid"; then
    echo "cluster.sh: a cluster already runs in $state (scripts/cluster.sh down first)" >&2
    exit 1
  fi
  for b in redis-server nginx curl python3; do
    command -v "$b" >/dev/null || {
      echo "cluster.sh: $b is missing (scripts/deps.sh test installs it)" >&2
      exit 1
    }
  done
  if [ ! -x "$build/openclaw-gateway" ]; then
    [ -f "$build/CMakeCache.txt" ] ||
      cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_TESTS=OFF >/dev/null
    cmake --build "$build" -j"$(nproc)" --target openclaw-gateway openclaw >/dev/null
  fi
  rm -rf "$state"
  mkdir -p "$state"
  chmod 700 "$state"
  state=$(cd "$state" && pwd)
  trap 'echo "cluster.sh: start failed; logs are in $state" >&2; down' ERR

  echo "== PostgreSQL (Unix socket in $state/pg)"
  if [ "$(id -u)" -eq 0 ]; then
    # the server runs as "postgres": it must reach its directory
    chmod 711 "$state"
    runuser -u postgres -- test -x "$state" || {
      echo "cluster.sh: user postgres cannot reach $state; set OPENCLAW_CLUSTER_DIR under /tmp" >&2
      false
    }
  fi
  pg=$("$root/tests/pg/cluster.sh" start "$state/pg")

  echo "== Redis"
  redis_port=$(free_port)
  redis_pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  mkdir -p "$state/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$state/redis" --save "" \
    --appendonly no --daemonize yes --pidfile "$state/redis/redis.pid" \
    --logfile "$state/redis/redis.log" --requirepass "$redis_pw" >/dev/null
  for _ in $(seq 50); do [ -s "$state/redis/redis.pid" ] && break; sleep 0.1; done

  # node-1 initialises the store (schema, bootstrap token) alone; the others then read it
  local ports=() i
  for i in $(seq "$nodes"); do ports+=("$(free_port)"); done
  echo "== node-1 on 127.0.0.1:${ports[0]}"
  start_node 1 "${ports[0]}"
  wait_ready "${ports[0]}" 60 || { tail -n 20 "$state/node-1/gateway.log" >&2; false; }
  token=$(sed -n 's/^Bootstrap admin token: //p' "$state/node-1/gateway.log" | head -n 1)
  [ -n "$token" ] || { echo "cluster.sh: node-1 printed no bootstrap token" >&2; false; }
  (umask 077 && printf '%s\n' "$token" >"$state/admin-token")
  for i in $(seq 2 "$nodes"); do
    echo "== node-$i on 127.0.0.1:${ports[$((i - 1))]}"
    start_node "$i" "${ports[$((i - 1))]}"
  done
  for i in $(seq 2 "$nodes"); do
    wait_ready "${ports[$((i - 1))]}" 60 || { tail -n 20 "$state/node-$i/gateway.log" >&2; false; }
  done

  echo "== nginx"
  local port=${OPENCLAW_CLUSTER_PORT:-$(free_port)} n="$state/nginx" servers="" user=""
  mkdir -p "$n/tmp"
  for p in "${ports[@]}"; do servers+="    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'; done
  if [ "$(id -u)" -eq 0 ]; then
    user="user nobody nogroup;"
    chown nobody: "$n/tmp"
    chmod 711 "$state" "$n"
  fi
  cat >"$n/nginx.conf" <<EOF
# scripts/cluster.sh: nginx in front of the gateway nodes (docs/CLUSTER.md)
$user
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 1024; }
http {
  access_log $n/access.log;
  client_body_temp_path $n/tmp/body;
  proxy_temp_path $n/tmp/proxy;
  fastcgi_temp_path $n/tmp/fastcgi;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  client_max_body_size 16m;
  upstream openclaw {
$servers    # reused connections to the nodes (a new one per request halves throughput,
    # BENCHMARKS.md), closed by nginx before a node's own idle timeout (30 s) so a request
    # is never sent on a connection the node is closing
    keepalive 32;
    keepalive_timeout 20s;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://openclaw;
      # a node that refuses the connection (dead, or draining) or times out: the next one;
      # nginx resends only idempotent requests once it has sent them
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 300s;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      # server-sent events go out as they come
      proxy_buffering off;
      add_header X-OpenClaw-Upstream \$upstream_addr always;
    }
  }
}
EOF
  nginx -p "$n" -e "$n/error.log" -c "$n/nginx.conf"
  wait_ready "$port" 10 || { cat "$n/error.log" >&2; false; }
  trap - ERR
  echo "http://127.0.0.1:$port" >"$state/url"
  echo
  echo "OpenClaw cluster: $nodes node(s) behind nginx, state in $state"
  echo "URL:         http://127.0.0.1:$port"
  echo "Admin token: $token"
  echo "  (also in $state/admin-token; works on every node)"
  echo "Stop it:     scripts/cluster.sh down"
}

status() {
  [ -d "$state" ] || { echo "no cluster in $state"; exit 3; }
  local running=0 what
  for what in nginx/nginx redis/redis; do
    if alive "$state/$what.pid"; then
      echo "${what%%/*}: running (pid $(cat "$state/$what.pid"))"
      running=1
    else
      echo "${what%%/*}: stopped"
    fi
  done
  if [ -f "$state/pg/data/postmaster.pid" ]; then
    echo "postgresql: running"
    running=1
  else
    echo "postgresql: stopped"
  fi
  for d in "$state"/node-*; do
    [ -d "$d" ] || continue
    if alive "$d/gateway.pid"; then
      local port
      port=$(sed -n 's/^  port: //p' "$d/gateway.yaml")
      echo "$(basename "$d"): running on 127.0.0.1:$port, readyz" \
        "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")"
      running=1
    else
      echo "$(basename "$d"): stopped"
    fi
  done
  [ -f "$state/url" ] && echo "URL: $(cat "$state/url")"
  [ "$running" -eq 1 ]
}

case "$cmd" in
up) up ;;
down) down; echo "cluster in $state stopped" ;;
status) status ;;
*)
  echo "usage: scripts/cluster.sh up|down|status [--nodes N]" >&2
  exit 2
  ;;
esac
