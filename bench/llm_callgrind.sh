#!/bin/bash
# SPDX-License-Identifier: MIT
# llm_callgrind.sh — what one proxied model request costs the gateway, independent of the
# machine's load: instructions (valgrind --tool=callgrind), system calls (strace -c) and
# context switches (the threads' voluntary switches: each is a thread waiting for another,
# i.e. a hand-off or an idle wait) per POST /v1/chat/completions against the instant mock.
#
# The gateway runs under callgrind; after a warm-up the counters are zeroed
# (callgrind_control -z), wrk sends requests for DUR seconds, the counters are dumped
# (callgrind_control -d) and divided by the upstream calls the mock saw in that window. A second
# run without valgrind counts system calls with strace -f -c and context switches from
# /proc/<pid>/task/*/status over a fixed window. Nothing here asserts on speed.
# Usage: BUILD=$PWD/build-bench bench/llm_callgrind.sh   (CONNS=8 DUR=20 STRACE_DUR=5)
. "$(dirname "$0")/llm_common.sh"
CONNS=${CONNS:-8}; DUR=${DUR:-20}; STRACE_DUR=${STRACE_DUR:-5}; PIN=0
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
machine_info
start_mock || exit 1
# CLIENT_MODEL=openclaw/bench/assistant measures agent turns instead (one model call each)
BODY='{"model":"'"${CLIENT_MODEL:-$PROXY_MODEL}"'","messages":[{"role":"user","content":"ping"}]}'
wrk_lua "$WORK/gateway.lua" "$TOKEN" "$BODY"

# ---- instructions -------------------------------------------------------------------------------
# (per thread: the audit and usage writers' shares depend on how many events each batch carries,
# which varies with timing under valgrind; the request path does not)
REAL_BIN=$GW_BIN
CG_OUT=$WORK/callgrind.out
cat > "$WORK/gw-valgrind" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$CG_OUT --dump-instr=no --separate-threads=yes "$REAL_BIN" "\$@"
SH
chmod +x "$WORK/gw-valgrind"
GW_BIN=$WORK/gw-valgrind
start_gateway_slow() { # like start_gateway, with a longer wait (valgrind starts slowly)
  GW_DIR=$WORK/gw; mkdir -p "$GW_DIR/data"
  GW_PORT=$(free_port); GW_URL=http://127.0.0.1:$GW_PORT
  write_gateway_config "$GW_DIR"
  "$GW_BIN" --config "$GW_DIR/gateway.yaml" --data-dir "$GW_DIR/data" >"$GW_DIR/stdout" 2>"$GW_DIR/stderr" &
  GW_PID=$!
  wait_http "$GW_URL/readyz" "$GW_PID" 12000 || { echo "gateway did not start: $(tail -5 "$GW_DIR/stderr")" >&2; return 1; }
}
start_gateway_slow || exit 1
st=$(check_post "$GW_URL/v1/chat/completions" "$TOKEN" "$BODY")
[ "$st" = 200 ] || { echo "proxy request failed: $st $(head -c 300 "$WORK/check.out")" >&2; exit 1; }
wrk -t1 -c"$CONNS" -d5s -s "$WORK/gateway.lua" "$GW_URL/v1/chat/completions" >/dev/null 2>&1
callgrind_control -z "$GW_PID" >/dev/null
up0=$(mock_stat chat)
wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$WORK/gateway.lua" "$GW_URL/v1/chat/completions" > "$WORK/cg_wrk.txt" 2>&1
sleep 0.5 # metering and audit of the last requests (their writer batches)
up1=$(mock_stat chat)
callgrind_control -d "$GW_PID" >/dev/null
sleep 1
stop_pid "$GW_PID"; GW_PID=
n=$((up1 - up0))
# one file per thread (and dump); the writers are told apart by their functions: the request
# path (HTTP threads, the outbound loop) per request, the audit and usage writers per request
# (their batches differ with timing, so they are shown apart)
python3 - "$n" "$CONNS" "$CG_OUT" <<'PY'
import glob, re, sys
n = max(int(sys.argv[1]), 1)
parts = {"request_path": 0, "audit_writer": 0, "usage_writer": 0}
for f in glob.glob(sys.argv[3] + ".1-*") or glob.glob(sys.argv[3] + ".1"):
    text = open(f, errors="replace").read()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not m:
        continue
    if re.search(r"\b(?:sqlite_audit_append|store_audit_append)\b", text):
        parts["audit_writer"] += int(m.group(1))
    elif re.search(r"\b(?:sqlite_usage_append|store_usage_append)\b", text):
        parts["usage_writer"] += int(m.group(1))
    else:
        parts["request_path"] += int(m.group(1))
print("callgrind requests=%d conns=%s instructions_per_request=%d" %
      (n, sys.argv[2], sum(parts.values()) // n) +
      "".join(" %s=%d" % (k, v // n) for k, v in parts.items()))
PY

# ---- system calls and context switches (no valgrind) -----------------------------------------
GW_BIN=$REAL_BIN
command -v strace >/dev/null || { echo "strace not installed: system calls not counted"; exit 0; }
GW_PORT=; start_gateway || exit 1
wrk -t1 -c"$CONNS" -d3s -s "$WORK/gateway.lua" "$GW_URL/v1/chat/completions" >/dev/null 2>&1
csw() { cat /proc/"$GW_PID"/task/*/status | awk '/^voluntary_ctxt_switches/{v+=$2} /^nonvoluntary/{n+=$2} END{print v, n}'; }
read -r v0 nv0 < <(csw); up0=$(mock_stat chat)
wrk -t1 -c"$CONNS" -d"${STRACE_DUR}s" -s "$WORK/gateway.lua" "$GW_URL/v1/chat/completions" >/dev/null 2>&1
read -r v1 nv1 < <(csw); up1=$(mock_stat chat); n=$((up1 - up0))
echo "context_switches requests=$n voluntary_per_request=$(echo "scale=2; ($v1 - $v0) / $n" | bc) involuntary_per_request=$(echo "scale=2; ($nv1 - $nv0) / $n" | bc)"
strace -f -c -o "$WORK/strace.txt" $(ls /proc/"$GW_PID"/task | sed "s/^/-p /") 2>/dev/null &  # every thread
SPID=$!
sleep 1
up0=$(mock_stat chat)
wrk -t1 -c"$CONNS" -d"${STRACE_DUR}s" -s "$WORK/gateway.lua" "$GW_URL/v1/chat/completions" >/dev/null 2>&1
sleep 0.5
up1=$(mock_stat chat)
kill -INT "$SPID"; wait "$SPID" 2>/dev/null
n=$((up1 - up0))
calls=$(awk '$NF=="total"{print $(NF-2)}' "$WORK/strace.txt")
echo "syscalls requests=$n total=$calls per_request=$(echo "scale=2; $calls / $n" | bc)"
awk -v n="$n" 'NR>2 && $NF!="total" && $NF!="" && $0 !~ /^-/ {c=($5 ~ /^[0-9]+$/ && $6 != "") ? $4 : $4; printf "  %s=%.2f", $NF, c/n} END{print ""}' "$WORK/strace.txt"
