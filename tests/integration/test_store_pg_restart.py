# SPDX-License-Identifier: MIT
"""PostgreSQL restarted under a running gateway (issue 15: failure semantics of the store).

A throwaway cluster of its own (tests/pg/cluster.sh: Debian's postgresql, a Unix socket in a
temporary directory, nothing on TCP) backs one gateway (store.backend postgresql). A client
sends audited writes (channel messages) one after another while PostgreSQL is stopped for a
while and started again. The test asserts what a client and an auditor are promised:

- while the server is down, writes answer 503 with `Retry-After: 1` and /readyz says the store is unreachable (never
  a 500, never a hang past the client's timeout);
- once it is back, writes succeed again without restarting the gateway;
- nothing acknowledged is lost: every message answered 202 is in the database, with its audit
  event (same request id), and the audit trail verifies.

The load is bounded (at most 400 requests, on loopback) and stops by itself.

An in-doubt commit: a proxy on the Unix socket between the gateway and PostgreSQL lets one audit
commit through and cuts the connection before its answer reaches the gateway (PostgreSQL has
committed it). The gateway must learn the outcome rather than report the write refused: the
client gets its 202, the event is in the trail once and the action ran once. Reporting such a
commit refused had the client retry and log the action twice (issue 15's failure tests).
"""

import os
import socket
import subprocess
import threading
import time

import gwtest
import pgwire

CLUSTER = os.path.join(gwtest.SOURCE_DIR, "tests", "pg", "cluster.sh")
PATH = "/api/v1/channels/engineering/code-reviewer/messages"
MAX_REQUESTS = 400


def _cluster(*args):
    return subprocess.run([CLUSTER] + list(args), check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


class CuttingProxy:
    """Forwards a PostgreSQL Unix socket (DIR/.s.PGSQL.5432) to another. Once armed with a
    marker, the first connection whose client sends it has the server's answer withheld and is
    then cut on both sides: the server has done the work, the client never hears of it."""

    def __init__(self, listen_dir, server_dir):
        self.server_path = os.path.join(server_dir, ".s.PGSQL.5432")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(os.path.join(listen_dir, ".s.PGSQL.5432"))
        self.sock.listen(64)
        self.marker = None
        self.cut = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker):
        with self.lock:
            self.marker = marker.encode()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.server_path)
            doomed = threading.Event()
            threading.Thread(target=self._pipe, args=(client, server, doomed, True),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, doomed, False),
                             daemon=True).start()

    def _pipe(self, src, dst, doomed, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client:
                    with self.lock:
                        if self.marker and self.marker in data:
                            self.marker = None
                            doomed.set()
                    dst.sendall(data)
                    if doomed.is_set():  # let the server finish, then cut both ends
                        time.sleep(0.5)
                        self.cut.set()
                        break
                elif not doomed.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()


def _send(g, i, acked, refused):
    r = g.post(PATH, body={"content": "restart-%d" % i}, token=gwtest.ENG_TOKEN, timeout=30)
    assert r.status in (202, 503), "write %d answered %r (only 202 or 503 may happen)" % (i, r)
    if r.status == 202:
        acked.append((r.json()["id"], r.header("X-Request-Id")))
    else:
        gwtest.assert_error(r, 503, ["store_unavailable", "audit_unavailable"])
        assert r.header("Retry-After") == "1", "a 503 of the store without Retry-After: %r" % (
            r.headers,)
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


def test_an_in_doubt_audit_commit_counts_as_written():
    d = gwtest.tempdir("gwpg-doubt-")
    os.chmod(d, 0o755)
    pg_dir, proxy_dir = os.path.join(d, "pg"), os.path.join(d, "proxy")
    os.mkdir(proxy_dir)
    conninfo = _cluster("start", pg_dir)
    proxy = CuttingProxy(proxy_dir, pg_dir)
    try:
        admin = pgwire.connect(conninfo)
        admin.execute("CREATE SCHEMA doubt")
        admin.close()
        via_proxy = conninfo.replace("host=" + pg_dir, "host=" + proxy_dir)
        assert via_proxy != conninfo, conninfo
        cfg = gwtest.seed_config(store={
            "backend": "postgresql", "url": via_proxy + " options='-csearch_path=doubt'",
            "connect_timeout_s": 2, "statement_timeout_ms": 5000})
        g = gwtest.Gateway(config=cfg).start()
        rid = "in-doubt-" + os.urandom(6).hex()
        proxy.arm(rid)  # the audit row is the first thing written with the request id
        r = g.post(PATH, body={"content": "doubt"}, token=gwtest.ENG_TOKEN, timeout=30,
                   headers={"X-Request-Id": rid})
        assert proxy.cut.is_set(), "the proxy never saw the request id: nothing was cut"
        assert r.status == 202, "the write whose audit commit was in doubt answered %r; %s" % (
            r, g.stderr()[-1500:])
        assert r.header("X-Request-Id") == rid
        c = pgwire.connect(conninfo, search_path="doubt")
        try:
            events = c.execute("SELECT seq FROM audit_events WHERE request_id = ?",
                               (rid,)).fetchall()
            stored = c.execute("SELECT id FROM messages WHERE content = 'doubt'").fetchall()
        finally:
            c.close()
        assert len(events) == 1, "audit events of the in-doubt write: %r" % events
        assert stored == [(r.json()["id"],)], "messages stored: %r" % stored
        assert "in-doubt audit commit was committed" in g.stderr(), \
            "the gateway did not say how it resolved the commit"
        for i in range(5):  # and the gateway goes on writing
            assert g.post(PATH, body={"content": "after-%d" % i},
                          token=gwtest.ENG_TOKEN).status == 202
        v = g.get("/api/v1/audit/verify", token=gwtest.ADMIN_TOKEN)
        assert v.status == 200 and v.json().get("ok") is True, "verify: %r" % v
        g.stop()
    finally:
        proxy.close()
        subprocess.run([CLUSTER, "stop", pg_dir], capture_output=True, timeout=60)


if __name__ == "__main__":
    gwtest.main(globals())
