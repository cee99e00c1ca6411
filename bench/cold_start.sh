#!/bin/bash
# SPDX-License-Identifier: MIT
# cold_start.sh — time from exec() to the first 200 from /readyz, on a fresh (empty) data
# directory each run (first boot: schema migrations, signing key, bootstrap), RUNS times
# (default 10). Prints each run, then median/min/max, and the SIGTERM -> exit time.
# Usage: BUILD=/path/to/build bench/cold_start.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-10}
machine_info
for i in $(seq 1 "$RUNS"); do
  d=$(mktemp -d -t gwcold.XXXXXX); mkdir -p "$d/data"; port=$(free_port); write_config "$d" "$port"
  python3 - "$GW_BIN" "$d" "$port" <<'PY'
import http.client, signal, subprocess, sys, time
gw, d, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.perf_counter()
p = subprocess.Popen([gw, "--config", d + "/gateway.yaml", "--data-dir", d + "/data"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready = None
while time.perf_counter() - t0 < 10:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/readyz")
        if c.getresponse().status == 200:
            ready = time.perf_counter() - t0
            break
    except OSError:
        pass
    time.sleep(0.001)
t1 = time.perf_counter()
p.send_signal(signal.SIGTERM)
rc = p.wait(20)
stop = time.perf_counter() - t1
print("ready_ms=%.1f stop_ms=%.1f exit=%d" % (ready * 1000 if ready else -1, stop * 1000, rc))
PY
  rm -rf "$d"
done | tee /tmp/gwcold.$$
for k in ready_ms stop_ms; do
  vals=$(grep -o "$k=[0-9.-]*" /tmp/gwcold.$$ | cut -d= -f2)
  echo "$k median=$(echo "$vals" | median) min=$(echo "$vals" | sort -g | head -1) max=$(echo "$vals" | sort -g | tail -1)"
done
rm -f /tmp/gwcold.$$
