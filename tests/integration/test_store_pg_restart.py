# SPDX-License-Identifier: MIT
"""PostgreSQL restarted under a running gateway (issue 15: failure semantics of the store).

A throwaway cluster of its own (tests/pg/cluster.sh: Debian's postgresql, a Unix socket in a
temporary directory, nothing on TCP) backs one gateway (store.backend postgresql). A client
sends audited writes (channel messages) one after another while PostgreSQL is stopped for a
while and started again. The test asserts what a client and an auditor are promised:

- while the server is down, writes answer 503 and /readyz says the store is unreachable (never
  a 500, never a hang past the client's timeout);
- once it is back, writes succeed again without restarting the gateway;
- nothing acknowledged is lost: every message answered 202 is in the database, with its audit
  event (same request id), and the audit trail verifies.

The load is bounded (at most 400 requests, on loopback) and stops by itself.
"""

import os
import subprocess
import time

import gwtest
import pgwire

CLUSTER = os.path.join(gwtest.SOURCE_DIR, "tests", "pg", "cluster.sh")
PATH = "/api/v1/channels/engineering/code-reviewer/messages"
MAX_REQUESTS = 400


def _cluster(*args):
    return subprocess.run([CLUSTER] + list(args), check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def _send(g, i, acked, refused):
    r = g.post(PATH, body={"content": "restart-%d" % i}, token=gwtest.ENG_TOKEN, timeout=30)
    assert r.status in (202, 503), "write %d answered %r (only 202 or 503 may happen)" % (i, r)
    if r.status == 202:
        acked.append((r.json()["id"], r.header("X-Request-Id")))
    else:
        gwtest.assert_error(r, 503, ["store_unavailable", "audit_unavailable"])
        refused.append(i)
    return r.status


def test_postgresql_restart_under_load():
    d = gwtest.tempdir("gwpg-restart-")
    os.chmod(d, 0o755)
    conninfo = _cluster("start", os.path.join(d, "pg"))
    try:
        admin = pgwire.connect(conninfo)
        admin.execute("CREATE SCHEMA restart")
        admin.close()
        cfg = gwtest.seed_config(store={
            "backend": "postgresql", "url": conninfo + " options='-csearch_path=restart'",
            "connect_timeout_s": 2, "statement_timeout_ms": 5000})
        g = gwtest.Gateway(config=cfg).start()
        acked, refused, i = [], [], 0
        # steady state
        while len(acked) < 20:
            _send(g, i, acked, refused)
            i += 1
        assert not refused, "writes refused before any failure: %r" % refused
        # PostgreSQL goes away: writes fail with 503, readiness says why
        _cluster("stop", os.path.join(d, "pg"))
        t_down = time.time()
        down_ok = 0
        while time.time() - t_down < 2.0 and i < MAX_REQUESTS:
            down_ok += _send(g, i, acked, refused) == 202
            i += 1
        assert refused, "no write was refused while PostgreSQL was down"
        assert down_ok == 0, "%d writes were acknowledged while PostgreSQL was down" % down_ok
        r = g.get("/readyz")
        assert r.status == 503 and r.json()["checks"]["store"] == "unreachable", \
            "readyz with PostgreSQL down: %r" % r
        # it comes back: the same gateway recovers by itself
        _cluster("resume", os.path.join(d, "pg"))
        t_up = time.time()
        while i < MAX_REQUESTS and _send(g, i, acked, refused) != 202:
            i += 1
            time.sleep(0.05)
        recovered = time.time() - t_up
        assert recovered < 15, "writes still refused %.1f s after PostgreSQL was back" % recovered
        n_before = len(acked)
        for _ in range(20):
            i += 1
            assert _send(g, i, acked, refused) == 202, "a write failed after recovery"
        assert len(acked) == n_before + 20
        gwtest.wait_until(lambda: g.get("/readyz").status == 200, timeout=5, what="readyz 200")
        # nothing acknowledged was lost, and the trail verifies
        c = pgwire.connect(conninfo, search_path="restart")
        try:
            ids = {x[0] for x in c.execute("SELECT id FROM messages WHERE content LIKE 'restart-%'")}
            rids = {x[0] for x in c.execute(
                "SELECT request_id FROM audit_events WHERE type = 'message.sent'")}
        finally:
            c.close()
        lost = [m for m, _ in acked if m not in ids]
        assert not lost, "acknowledged messages missing from the store: %r" % lost[:5]
        unaudited = [rid for _, rid in acked if rid not in rids]
        assert not unaudited, "acknowledged writes without their audit event: %r" % unaudited[:5]
        r = g.get("/api/v1/audit/verify", token=gwtest.ADMIN_TOKEN)
        assert r.status == 200 and r.json().get("ok") is True, "verify after restart: %r" % r
        print("  %d writes acknowledged, %d refused while down, recovered %.2f s after "
              "PostgreSQL was back" % (len(acked), len(refused), recovered))
        g.stop()
    finally:
        subprocess.run([CLUSTER, "stop", os.path.join(d, "pg")], capture_output=True, timeout=60)


if __name__ == "__main__":
    gwtest.main(globals())
