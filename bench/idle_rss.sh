#!/bin/bash
# SPDX-License-Identifier: MIT
# idle_rss.sh — resident memory (VmRSS, and VmHWM) of the gateway right after /readyz and after
# IDLE seconds (default 10) with no traffic; RUNS runs (default 3), median reported.
# Usage: BUILD=/path/to/build bench/idle_rss.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}; IDLE=${IDLE:-10}
machine_info
for i in $(seq 1 "$RUNS"); do
  start_gateway || exit 1
  a=$(rss_kb $GW_PID); sleep "$IDLE"; b=$(rss_kb $GW_PID)
  hwm=$(awk '/VmHWM/{print $2}' /proc/$GW_PID/status); thr=$(awk '/Threads/{print $2}' /proc/$GW_PID/status)
  echo "run=$i rss_ready_kb=$a rss_idle${IDLE}s_kb=$b hwm_kb=$hwm threads=$thr"
  stop_gateway
done | tee /tmp/gwrss.$$
for k in rss_ready_kb "rss_idle${IDLE}s_kb" hwm_kb; do
  echo "$k median=$(grep -o "$k=[0-9]*" /tmp/gwrss.$$ | cut -d= -f2 | median)"
done
rm -f /tmp/gwrss.$$
