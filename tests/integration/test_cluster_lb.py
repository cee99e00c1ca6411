#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cluster anyone can start (issue 15 items 6 and 7): scripts/cluster.sh brings up a real
PostgreSQL, a real redis-server, three real gateway nodes sharing both, and a real nginx in
front; the test talks to nginx and to the nodes directly.

- requests through nginx are served by every node (/api/v1/status names the node);
- the admin token the script prints works on every node directly; a token created through
  nginx is accepted by every node, and once revoked refused by every node, within one second;
- `kill -9` of one node under a steady stream of authenticated GETs through nginx: no request
  lost after one client retry (the figures are printed);
- a node killed and restarted from its configuration rejoins, and SIGTERM drains it: new
  connections refused at once, exit status 0, nginx goes on with the others;
- the audit trail, written by several nodes, verifies;
- `down` leaves nothing running.
"""

import http.client
import os
import signal
import socket
import subprocess
import threading
import time

import gwtest

SCRIPT = os.path.join(gwtest.SOURCE_DIR, "scripts", "cluster.sh")
NODES = 3


class Cluster:
    def __init__(self):
        self.dir = gwtest.tempdir("gwtest-cluster-")
        self.env = dict(os.environ, OPENCLAW_BUILD_DIR=gwtest.BUILD_DIR,
                        OPENCLAW_CLUSTER_DIR=self.dir)

    def run(self, *args, check=True):
        p = subprocess.run([SCRIPT] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=180)
        if check:
            assert p.returncode == 0, "cluster.sh %s: %s%s" % (args, p.stdout, p.stderr)
        return p

    def up(self):
        out = self.run("up", "--nodes", str(NODES)).stdout
        self.url = self._read("url")
        self.port = int(self.url.rsplit(":", 1)[1])
        self.token = self._read("admin-token")
        assert self.token in out, "the admin token is not printed: %s" % out
        return self

    def _read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read().strip()

    def node_dir(self, i):
        return os.path.join(self.dir, "node-%d" % i)

    def node_port(self, i):
        with open(os.path.join(self.node_dir(i), "gateway.yaml")) as f:
            return int(next(l.split(":")[1] for l in f if l.startswith("  port:")))

    def node_pid(self, i):
        return int(open(os.path.join(self.node_dir(i), "gateway.pid")).read())


def _node_of(port, token):
    r = gwtest.http_request(port, "GET", "/api/v1/status", token=token, timeout=5)
    assert r.status == 200, r
    return r.json()["node_id"], r.header("X-OpenClaw-Upstream")


def _running(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_cluster_behind_nginx():
    c = Cluster()
    try:
        c.up()
        want = {"node-%d" % i for i in range(1, NODES + 1)}
        # round robin: every node serves requests through nginx, authenticated by one token
        seen = {}
        for _ in range(4 * NODES):
            node, upstream = _node_of(c.port, c.token)
            seen.setdefault(node, set()).add(upstream)
        assert set(seen) == want, "nodes behind nginx: %r" % seen
        assert all(len(u) == 1 for u in seen.values()), seen
        # the bootstrap token node-1 created is accepted by every node directly
        for i in range(1, NODES + 1):
            r = gwtest.http_request(c.node_port(i), "GET", "/api/v1/auth/userinfo",
                                    token=c.token)
            assert r.status == 200, "node-%d: %r" % (i, r)
            assert r.json()["token_id"] == "bootstrap-admin"
            assert _node_of(c.node_port(i), None)[0] == "node-%d" % i

        _token_reaches_every_node(c)

        # node-3: kill -9, restarted from its configuration, drained with SIGTERM; then node-2
        # killed under load
        pid = c.node_pid(3)
        os.kill(pid, signal.SIGKILL)
        gwtest.wait_until(lambda: not _running(pid), timeout=5, what="node-3 gone")
        _restart_and_drain(c)
        _kill_under_load(c, 2, {"node-1"})

        # one audit trail, written by several nodes, verifies on the nodes left
        v = gwtest.http_request(c.node_port(1), "GET", "/api/v1/audit/verify",
                                token=c.token).json()
        assert v["ok"] is True and v["unsigned_events"] == 0, v
        st = c.run("status", check=False)
        assert st.returncode == 0 and "nginx: running" in st.stdout, st.stdout
    finally:
        c.run("down", check=False)
    st = c.run("status", check=False)
    assert st.returncode != 0, "still running after down: %s" % st.stdout
    for line in st.stdout.splitlines():
        assert "running" not in line, st.stdout


def _token_reaches_every_node(c):
    """A token created through nginx (whichever node takes it) is accepted by every node
    directly within one second; revoked through nginx, it is refused by every node within one
    second (the figures are printed)."""
    def accepted_everywhere(secret, want):
        return lambda: all(
            (gwtest.http_request(c.node_port(i), "GET", "/api/v1/auth/userinfo",
                                 token=secret).status == 200) == want
            for i in range(1, NODES + 1))

    r = gwtest.http_request(c.port, "POST", "/api/v1/tokens",
                            body={"id": "lb-check", "scopes": ["memory:read"]}, token=c.token)
    assert r.status == 201, r
    secret = r.json()["token"]
    t0 = time.monotonic()
    gwtest.wait_until(accepted_everywhere(secret, True), timeout=1, interval=0.02,
                      what="the new token on every node")
    created = time.monotonic() - t0
    r = gwtest.http_request(c.port, "DELETE", "/api/v1/tokens/lb-check", token=c.token)
    assert r.status == 200, r
    t0 = time.monotonic()
    gwtest.wait_until(accepted_everywhere(secret, False), timeout=1, interval=0.02,
                      what="the revoked token refused by every node")
    print("token created through nginx: on every node after %.3f s; revoked: refused by every "
          "node after %.3f s" % (created, time.monotonic() - t0), flush=True)


def _kill_under_load(c, victim, left):
    """Authenticated GETs through nginx while node `victim` is killed; a failed request is
    retried once (a new connection), as a client would; `left` serve afterwards."""
    stop = threading.Event()
    stats = {"requests": 0, "first_failures": 0, "lost": 0, "slowest": 0.0}

    def one():
        t0 = time.monotonic()
        try:
            r = gwtest.http_request(c.port, "GET", "/api/v1/auth/userinfo", token=c.token,
                                    timeout=5)
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        stats["slowest"] = max(stats["slowest"], time.monotonic() - t0)
        return ok

    def client():
        while not stop.is_set():
            stats["requests"] += 1
            if not one():
                stats["first_failures"] += 1
                if not one():
                    stats["lost"] += 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    before = stats["requests"]
    pid = c.node_pid(victim)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    gwtest.wait_until(lambda: not _running(pid), timeout=5, what="node gone")
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    print("kill -9 node-%d under load: %d requests (%d after the kill), %d failed once, "
          "%d lost after one retry, slowest %.3f s, load ran %.1f s after the kill" % (
              victim, stats["requests"], stats["requests"] - before, stats["first_failures"],
              stats["lost"], stats["slowest"], time.monotonic() - killed), flush=True)
    assert stats["requests"] - before > 20, stats
    assert stats["lost"] == 0, stats
    # the nodes left serve everything
    nodes = {_node_of(c.port, c.token)[0] for _ in range(6)}
    assert nodes == left, nodes


def _restart_and_drain(c):
    """node-3 again from its own configuration (as a child of the test: its exit status is
    observed), back behind nginx; then SIGTERM."""
    d = c.node_dir(3)
    port = c.node_port(3)
    log = open(os.path.join(d, "gateway.log"), "ab")
    proc = subprocess.Popen([gwtest.GATEWAY_BIN, "--config", os.path.join(d, "gateway.yaml"),
                             "--data-dir", os.path.join(d, "data")], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        gwtest.wait_until(lambda: _ready(port) == 200, timeout=30, what="node-3 ready again")
        # nginx takes it back once its fail_timeout (2 s) has passed
        gwtest.wait_until(lambda: _node_of(c.port, c.token)[0] == "node-3", timeout=10,
                          interval=0.1, what="nginx sends to node-3 again")
        print("node-3 restarted: serving through nginx %.1f s after the restart" % (
            time.monotonic() - t0), flush=True)

        proc.send_signal(signal.SIGTERM)
        # the listener closes at once: a load balancer's next connection is refused and it
        # moves on (nginx: proxy_next_upstream error)
        gwtest.wait_until(lambda: _refused(port), timeout=5, what="listener closed at SIGTERM")
        assert proc.wait(timeout=20) == 0, "exit status %s after SIGTERM" % proc.returncode
        # nginx goes on with the others
        nodes = {_node_of(c.port, c.token)[0] for _ in range(6)}
        assert nodes == {"node-1", "node-2"}, nodes
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def _ready(port):
    try:
        return gwtest.http_request(port, "GET", "/readyz", timeout=2).status
    except OSError:
        return None


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


if __name__ == "__main__":
    gwtest.main(globals())
