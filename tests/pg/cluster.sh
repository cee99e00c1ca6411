#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL cluster for the tests and benchmarks, from Debian's postgresql package:
# initdb into DIR/data, listening on a Unix socket in DIR only (no TCP port), trust
# authentication for the owner, one database "gw". When run as root the cluster runs as the
# unprivileged "postgres" user (initdb refuses root).
#
#   tests/pg/cluster.sh start DIR [--durable]   prints the libpq conninfo of database gw
#   tests/pg/cluster.sh restart DIR             pg_ctl restart -m fast (clients are cut off)
#   tests/pg/cluster.sh stop DIR                pg_ctl stop -m fast
#   tests/pg/cluster.sh resume DIR              starts a stopped cluster again
#
# Without --durable fsync is off (the suite's data is thrown away; crash safety is not what it
# tests); benchmarks pass --durable so a commit waits for the disk as in production.
set -euo pipefail
cmd=${1:?usage: cluster.sh start|restart|stop|resume DIR [--durable]}
dir=${2:?usage: cluster.sh start|restart|stop|resume DIR [--durable]}
durable=${3:-}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "cluster.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
user=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fsync=off
  [ "$durable" = --durable ] && fsync=on
  opts="-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=$fsync"
  opts="$opts -c full_page_writes=$fsync -c max_connections=200 -c shared_buffers=64MB"
  printf '%s\n' "$opts" >"$dir/options"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 30 start \
    >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h "$dir" -U "$user" gw
  echo "host=$dir user=$user dbname=gw"
  ;;
restart)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 restart >/dev/null
  ;;
resume)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$(cat "$dir/options")" -w \
    -t 30 start >/dev/null
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
  ;;
*)
  echo "cluster.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac
