#!/bin/bash
# SPDX-License-Identifier: MIT
# cluster_nodes.sh — cluster mode with 1, 2 and 3 nodes (issue 15, item 9): a throwaway
# PostgreSQL (tests/pg/cluster.sh --durable), a redis-server, N gateway nodes sharing both
# (cluster.enabled), nginx in front configured as scripts/cluster.sh does, the instant mock
# provider (bench/mock_upstream). For each N, wrk -t1 -c$CONNS -d${DUR}s --latency on
#   memory: GET /api/v1/memory/engineering/code-reviewer (bearer token -> scope -> read ->
#           queued "memory.read" audit event, batched into the shared store), and
#   chat:   POST /v1/chat/completions, governed proxy to the mock (policy -> admission ->
#           upstream -> metering -> audit),
# through nginx as scripts/cluster.sh configures it (a new upstream connection per request), through
# the same nginx with upstream keep-alive (a second server block: `keepalive 64`, Connection ""),
# and straight to node-1 (nginx's share), alternating within each of RUNS rounds; medians of
# req/s, p50, p99. Nothing is pinned by default (PIN=1: nodes on GW_CPU, the rest on
# LOAD_CPU): on two cores more nodes add no CPU, they split the same two.
# Usage: BUILD=$PWD/build bench/cluster_nodes.sh     (NODES_LIST="1 2 3" RUNS=3 DUR=5 CONNS=32)
PIN=${PIN:-0}
. "$(dirname "$0")/llm_common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-5}; CONNS=${CONNS:-32}; WARM=${WARM:-2}
NODES_LIST=${NODES_LIST:-"1 2 3"}
for b in nginx redis-server; do
  command -v $b >/dev/null || { echo "$b not installed (scripts/deps.sh test)" >&2; exit 1; }
done
machine_info
echo "runs=$RUNS dur_s=$DUR conns=$CONNS nodes_list=\"$NODES_LIST\""
if [ "$(id -u)" -eq 0 ]; then chmod 711 "$WORK"; fi # postgres and nginx's workers reach it
NODE_PIDS=(); REDIS_PID=; NGINX_DIR=
stop_cluster() {
  [ -n "$NGINX_DIR" ] && [ -s "$NGINX_DIR/nginx.pid" ] && stop_pid "$(cat "$NGINX_DIR/nginx.pid")"
  local p; for p in "${NODE_PIDS[@]}"; do stop_pid "$p"; done
  NODE_PIDS=(); NGINX_DIR=
}
cleanup() {
  stop_cluster; stop_pid "$REDIS_PID"; stop_pid "$MOCK_PID"
  "$SRC/tests/pg/cluster.sh" stop "$WORK/pg" 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

start_mock || exit 1
REDIS_PORT=$(free_port)
$(pinned "$LOAD_CPU") redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
  --appendonly no --dir "$WORK" --logfile "$WORK/redis.log" &
REDIS_PID=$!
MEM=$WORK/memory; mkdir -p "$MEM"
[ "$(id -u)" -eq 0 ] && chmod 755 "$MEM"
cat >"$WORK/policies.yaml" <<YAML
- scope: enterprise
  domain: models
  content: {allowed_providers: [$PROVIDER], allowed_models: ["*"]}
  change_reason: benchmark bundle, the mock provider only
YAML

# node_config I PORT PG: the node's gateway.yaml (shared store, Redis, memory files, provider)
node_config() {
  cat <<YAML
gateway:
  host: 127.0.0.1
  port: $2
  threads: $GW_THREADS
  trusted_proxies: [127.0.0.1]
  limits: {max_connections: 4096, max_connections_per_ip: 4096}
store: {backend: postgresql, url: "$3"}
cluster:
  enabled: true
  node_id: node-$1
  redis: {url: "redis://127.0.0.1:$REDIS_PORT"}
tenant: {id: bench}
auth:
  failed_auth_limit: 100000
  tokens:
    - {id: bench, token: "$TOKEN", scopes: ["*"]}
audit: {enabled: true, log_path: audit.jsonl}
policy: {bundle: $WORK/policies.yaml}
models:
  providers:
    - name: $PROVIDER
      api: openai
      base_url: $MOCK_URL/v1
      kind: self_hosted
      limits: {max_concurrent: 1024, max_queue: 100000}
      models: [{name: $UP_MODEL, input_per_mtok: 1, output_per_mtok: 2}]
namespaces:
  engineering: {shared_memory_path: $MEM/shared.md}
agents:
  - {name: engineering/code-reviewer, channel: engineering/code-reviewer,
     memory_path: $MEM/code-reviewer.md}
YAML
}

# start_cluster N: a fresh database, N nodes (node-1 first: it creates the schema), nginx;
# sets NODE_URL (node-1), LB_URL and KA_URL (upstream keep-alive)
start_cluster() {
  local n=$1 i d port pg
  "$SRC/tests/pg/cluster.sh" stop "$WORK/pg" 2>/dev/null; rm -rf "$WORK/pg"
  pg=$("$SRC/tests/pg/cluster.sh" start "$WORK/pg" --durable) || return 1
  local ports=()
  for i in $(seq "$n"); do
    d=$WORK/n$n/node-$i; port=$(free_port); ports+=("$port"); mkdir -p "$d/data"
    # one pseudonymisation key for the cluster, as scripts/cluster.sh does
    [ "$i" -gt 1 ] && cp -p "$WORK/n$n/node-1/data/audit_pii.key" "$d/data/"
    node_config "$i" "$port" "$pg" >"$d/gateway.yaml"
    $(pinned "$GW_CPU") "$GW_BIN" --config "$d/gateway.yaml" --data-dir "$d/data" \
      >"$d/stdout" 2>"$d/stderr" &
    NODE_PIDS+=($!)
    if [ "$i" = 1 ] || [ "$i" = "$n" ]; then
      local k; for k in $(seq "$i"); do
        wait_http "http://127.0.0.1:${ports[$((k - 1))]}/readyz" "${NODE_PIDS[$((k - 1))]}" 3000 ||
          { echo "node-$k not ready: $(tail -5 "$WORK/n$n/node-$k/stderr")" >&2; return 1; }
      done
    fi
  done
  NODE_URL=http://127.0.0.1:${ports[0]}
  # nginx as in scripts/cluster.sh (no upstream keep-alive: one connection per request)
  NGINX_DIR=$WORK/n$n/nginx; mkdir -p "$NGINX_DIR/tmp"
  local lb_port ka_port servers="" user=""; lb_port=$(free_port); ka_port=$(free_port)
  for port in "${ports[@]}"; do
    servers+="    server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  done
  if [ "$(id -u)" -eq 0 ]; then
    user="user nobody nogroup;"
    chown nobody: "$NGINX_DIR/tmp"; chmod 711 "$WORK/n$n" "$NGINX_DIR"
  fi
  cat >"$NGINX_DIR/nginx.conf" <<EOF
$user
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  proxy_next_upstream error timeout;
  proxy_connect_timeout 1s;
  proxy_http_version 1.1;
  proxy_set_header Host \$host;
  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  proxy_buffering off;
  upstream openclaw {
$servers  }
  upstream openclaw_ka {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$lb_port;
    location / { proxy_pass http://openclaw; }
  }
  server {
    listen 127.0.0.1:$ka_port;
    location / {
      proxy_pass http://openclaw_ka;
      # a proxy_set_header here replaces the inherited ones: all three
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Connection "";
    }
  }
}
EOF
  $(pinned "$LOAD_CPU") nginx -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" \
    -c "$NGINX_DIR/nginx.conf" || return 1
  LB_URL=http://127.0.0.1:$lb_port; KA_URL=http://127.0.0.1:$ka_port
  # nginx daemonises: the liveness check of the wait is this shell's
  wait_http "$LB_URL/readyz" $$ 500 || { cat "$NGINX_DIR/error.log" >&2; return 1; }
}

MEM_PATH=/api/v1/memory/engineering/code-reviewer
CHAT_PATH=/v1/chat/completions
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$WORK/memory.lua"
BODY='{"model":"'"$PROXY_MODEL"'","messages":[{"role":"user","content":"ping"}]}'
wrk_lua "$WORK/chat.lua" "$TOKEN" "$BODY"
for n in $NODES_LIST; do
  echo "== $n node(s)"
  start_cluster "$n" || exit 1
  curl -fs -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/markdown' \
    --data-binary $'# code-reviewer memory\nbenchmark document of a few lines\n' \
    "$LB_URL$MEM_PATH" >/dev/null || { echo "memory PUT failed" >&2; exit 1; }
  for url in "$LB_URL" "$KA_URL" "$NODE_URL"; do
    st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$url$MEM_PATH")
    [ "$st" = 200 ] || { echo "memory GET $url: $st" >&2; exit 1; }
    st=$(check_post "$url$CHAT_PATH" "$TOKEN" "$BODY")
    [ "$st" = 200 ] || { echo "chat $url: $st $(head -c 300 "$WORK/check.out")" >&2; exit 1; }
  done
  # every node answers through nginx (round robin): the node ids seen in /api/v1/status
  seen=$(for _ in $(seq $((n * 3))); do
    curl -fs -H "Authorization: Bearer $TOKEN" "$LB_URL/api/v1/status" |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("node_id"))'
  done | sort -u | paste -sd,)
  echo "n$n nodes_seen=$seen"
  for w in memory chat; do
    p=$MEM_PATH; [ $w = chat ] && p=$CHAT_PATH
    pin "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARM}s" -s "$WORK/$w.lua" "$LB_URL$p" >/dev/null 2>&1
  done
  up0=$(mock_stat chat)
  for _ in $(seq "$RUNS"); do
    for w in memory chat; do
      p=$MEM_PATH; [ $w = chat ] && p=$CHAT_PATH
      run_wrk "n${n}_${w}_nginx" "$CONNS" "$DUR" "$WORK/$w.lua" "$LB_URL$p"
      run_wrk "n${n}_${w}_nginx_ka" "$CONNS" "$DUR" "$WORK/$w.lua" "$KA_URL$p"
      run_wrk "n${n}_${w}_direct" "$CONNS" "$DUR" "$WORK/$w.lua" "$NODE_URL$p"
    done
  done
  echo "n$n upstream_chat_calls=$(($(mock_stat chat) - up0))" \
    "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  stop_cluster
done

echo "== summary (medians of $RUNS runs; latency in µs)"
for n in $NODES_LIST; do
  for w in memory chat; do
    summary_wrk "n${n}_${w}_nginx"; summary_wrk "n${n}_${w}_nginx_ka"
    summary_wrk "n${n}_${w}_direct"
  done
done
