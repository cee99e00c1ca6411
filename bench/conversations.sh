#!/bin/bash
# SPDX-License-Identifier: MIT
# conversations.sh — reading conversations back (GET /api/v1/conversations..., issue 13 item 4)
# on a store of 10,000 conversations of 100 users plus the caller's own 100, and one of 5,000
# messages. The rows are written into the gateway's SQLite file as turns leave them (a model
# would make the seeding take minutes). Measured with wrk as in http_wrk.sh (gateway pinned to
# $GW_CPU, wrk to $LOAD_CPU, -t1 -c$CONNS, RUNS runs after a 2 s warm-up, medians):
#   own_list      GET /api/v1/conversations?limit=50            the caller's own page
#   others_list   GET /api/v1/conversations?user=*&limit=50     everyone's: audited durably first
#   others_read   GET /api/v1/conversations/<id>?limit=100      someone else's: audited durably
# and with curl (median of RUNS): the whole 5,000-message conversation exported as JSON and as
# Markdown (data policy decision, classification scan, rendering, audit).
# Usage: BUILD=/path/to/build bench/conversations.sh
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}; DUR=${DUR:-5}; CONNS=${CONNS:-8}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
machine_info
echo "gateway_cpu=$GW_CPU wrk_cpu=$LOAD_CPU conns=$CONNS dur_s=$DUR runs=$RUNS"
start_gateway "$GW_CPU" || exit 1
trap stop_gateway EXIT
# exports are data exports: the starter policy of a fresh data directory allows them inside
# the tenant up to confidential
python3 - "$GW_DIR/data/gateway.db" <<'PY'
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
now = int(time.time() * 1000)
def conv(cid, user, ou, n, t):
    db.execute("INSERT INTO conversations (id, tenant, user_id, channel, session, org_unit, team,"
               " created_ms, updated_ms) VALUES (?, 'acme-corp', ?, 'engineering/code-reviewer',"
               " ?, ?, NULL, ?, ?)", (cid, user, cid, ou, t, t))
    db.executemany("INSERT INTO conversation_messages (conversation_id, seq, message, created_ms)"
                   " VALUES (?, ?, ?, ?)",
                   [(cid, i + 1, json.dumps({"role": "user" if i % 2 == 0 else "assistant",
                                             "content": "message %d of a benchmark conversation, "
                                             "about as long as a short question or answer" % i}),
                     t) for i in range(n)])
k = 0
for u in range(100):
    for c in range(100):
        k += 1
        conv("cnv_b%023d" % k, "user%d@acme.test" % u, "engineering/team%d" % (u % 10), 4, now - k)
for c in range(100):
    conv("cnv_own%021d" % c, "token:admin", None, 4, now - c)
conv("cnv_big000000000000000000000", "user1@acme.test", "engineering/team1", 5000, now)
db.commit()
PY
LUA=$GW_DIR/auth.lua
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$ADMIN_TOKEN" > "$LUA"

for path in "/api/v1/conversations?limit=50" "/api/v1/conversations/cnv_b00000000000000000004242"; do
  curl -fs -o /dev/null -H "Authorization: Bearer $ADMIN_TOKEN" "$GW_URL$path" \
    || { echo "GET $path failed" >&2; exit 1; }
done
wrk_runs own_list "/api/v1/conversations?limit=50" "$LUA"
wrk_runs others_list "/api/v1/conversations?user=*&limit=50" "$LUA"
wrk_runs others_read "/api/v1/conversations/cnv_b00000000000000000004242?limit=100" "$LUA"

for fmt in json markdown; do
  for i in $(seq 1 "$RUNS"); do
    curl -fs -o "$GW_DIR/export.$fmt" -w '%{time_total} %{size_download}\n' \
      -H "Authorization: Bearer $ADMIN_TOKEN" \
      "$GW_URL/api/v1/conversations/cnv_big000000000000000000000/export?format=$fmt"
  done > "$GW_DIR/export_$fmt.sum" || { echo "export $fmt failed" >&2; exit 1; }
  echo "export_5000_messages format=$fmt median_ms=$(awk '{print $1 * 1000}' "$GW_DIR/export_$fmt.sum" | median)" \
       "bytes=$(awk 'NR==1{print $2}' "$GW_DIR/export_$fmt.sum")"
done
echo "rss_after_kb=$(rss_kb $GW_PID)"
