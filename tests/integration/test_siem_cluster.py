#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SIEM forwarding led by one node (issue 15 item 4): three real gateway processes in cluster
mode on ONE PostgreSQL store and one real redis-server, each configured with the same
audit.siem destination (a local HTTPS webhook receiver, siem_receivers.py), while audited
writes go to every live node.

- exactly one node leads the destination and every node's /api/v1/status names it;
- only the leader sends: the receiver records the sending node of every batch
  (X-OpenClaw-Node) and the senders, in arrival order, change only at a failover;
- SIGTERM of the leader: another node takes over from the stored cursor, and the receiver
  holds every event of the trail exactly once;
- kill -9 of the new leader while writes go on on the survivor: the last node takes over and
  the receiver holds every event at least once; repeats are one batch at most (the one whose
  cursor the dead node had not stored).

PostgreSQL: the suite's (GWTEST_PG, a fresh schema) when it runs on PostgreSQL, else a
throwaway cluster from tests/pg/cluster.sh (test_audit_cluster.SharedStore).
"""

import itertools
import json
import threading
import time

import gwtest
import redis_server
import siem_receivers as sr
from gwtest import ADMIN_TOKEN, ENG_TOKEN
from test_audit_cluster import SharedStore
from test_siem import API_KEY, CRT, KEY, dest

BATCH = 25


class Receiver(sr.HttpsReceiver):
    """Also records, per accepted batch in arrival order, the sending node and its events."""

    def __init__(self):
        super().__init__(KEY, CRT, API_KEY)
        self.batches = []

    def handle(self, path, headers, body):
        status, answer = super().handle(path, headers, body)
        if status == 200:
            events = []
            for line in body.decode("utf-8").split("\n")[:-1]:
                o = json.loads(line)
                if "prev_hash" in o:  # an event (a signed head has no prev_hash)
                    events.append((o["tenant"], o["seq"]))
            with self.lock:
                self.batches.append((headers.get("X-OpenClaw-Node"), events))
        return status, answer

    def events(self):
        with self.lock:
            return [e for _, evs in self.batches for e in evs]

    def senders(self):
        with self.lock:
            return [n for n, evs in self.batches if evs]


def _node(r, store, rx, name):
    cfg = gwtest.seed_config(cluster=r.cluster(name))
    cfg["store"] = {"backend": "postgresql", "url": store.url}
    cfg["audit"]["siem"] = {"destinations": [
        dest("hook", rx.url("/events"), "json", apiKey=API_KEY, batch_size=BATCH)]}
    return gwtest.Gateway(cfg)


def _hook(g):
    st = g.get("/api/v1/status", token=ADMIN_TOKEN).json()
    return [d for d in st.get("siem", []) if d["name"] == "hook"][0]


def _leader(nodes):
    """The node every live node names as the leader, exactly one of them saying it leads."""
    views = {g.config["cluster"]["node_id"]: _hook(g) for g in nodes}
    leading = [n for n, d in views.items() if d["leader"]]
    assert all(d["tenants"] == [] for d in views.values() if not d["leader"]), views
    named = {d["leader_node"] for d in views.values()}
    if len(leading) == 1 and named == set(leading):
        return [g for g in nodes if g.config["cluster"]["node_id"] == leading[0]][0]
    assert len(leading) <= 1, "two leaders: %r" % views
    return None


def _wait_leader(nodes, what):
    out = []
    gwtest.wait_until(lambda: out.append(_leader(nodes)) or out[-1], timeout=10, what=what)
    return out[-1]


class Writer:
    """Audited writes, round robin over the live nodes, until stopped; pausable."""

    def __init__(self, nodes):
        self.live = list(nodes)
        self.go = threading.Event()
        self.done = False
        self.idle = threading.Event()
        self.failed = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.go.set()
        self.thread.start()

    def _run(self):
        for i in itertools.count():
            if self.done:
                break
            if not self.go.is_set():
                self.idle.set()
                self.go.wait()
                continue
            self.idle.clear()
            g = self.live[i % len(self.live)]
            r = g.post("/api/v1/channels/engineering/code-reviewer/messages",
                       body={"content": "siem-cluster %d" % i}, token=ENG_TOKEN)
            if r.status != 202:
                self.failed.append(r)
            time.sleep(0.005)
        self.idle.set()

    def drop(self, g):
        self.go.clear()
        self.idle.wait(5)
        self.live.remove(g)
        self.go.set()

    def pause(self):
        self.go.clear()
        assert self.idle.wait(5), "the writer did not pause"

    def stop(self):
        self.done = True
        self.go.set()
        self.thread.join(10)


def _trail(store):
    return sorted((x["tenant"], x["seq"]) for x in store.rows(
        "SELECT tenant, seq FROM audit_events"))


def _delivered(rx, store, what):
    gwtest.wait_until(lambda: set(_trail(store)) <= set(rx.events()), timeout=15, what=what)
    return rx.events()


def test_one_leader_failover():
    store = SharedStore()
    r = redis_server.Redis().start()
    rx = Receiver().start()
    nodes, w = [], None
    try:
        for name in ("node-a", "node-b", "node-c"):
            nodes.append(_node(r, store, rx, name).start())
        first = _wait_leader(nodes, "a leader")
        w = Writer(nodes)
        time.sleep(2)

        # graceful: SIGTERM of the leader, the next one starts from the stored cursor
        w.drop(first)
        first.stop()
        live = [g for g in nodes if g is not first]
        second = _wait_leader(live, "a second leader")
        time.sleep(1)
        w.pause()
        got = _delivered(rx, store, "every event after the graceful failover")
        trail = _trail(store)
        assert sorted(got) == trail, "lost or repeated: %d events for a trail of %d" % (
            len(got), len(trail))
        graceful = len(got)

        # kill -9 of the new leader while the survivor takes writes
        w.go.set()
        time.sleep(1)
        w.drop(second)
        second.kill()
        third = _wait_leader([g for g in live if g is not second], "a third leader")
        time.sleep(2)
        w.stop()
        assert w.failed == [], w.failed[:3]
        got = _delivered(rx, store, "every event after kill -9")
        trail = _trail(store)
        assert set(got) == set(trail), "lost: %r" % sorted(set(trail) - set(got))[:10]
        repeats = sorted(e for e in set(got) if got.count(e) > 1)
        assert all(got.count(e) == 2 for e in repeats), repeats
        assert len(repeats) <= BATCH, "more than one batch repeated: %r" % repeats
        assert not any(got.index(e) < graceful for e in repeats), repeats
        if repeats:  # one batch: consecutive seqs of one tenant
            assert len({t for t, _ in repeats}) == 1, repeats
            seqs = [s for _, s in repeats]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), repeats

        # the leader's status: its cursors reached the trail's heads
        heads = {}
        for t, q in trail:
            heads[t] = max(q, heads.get(t, 0))
        gwtest.wait_until(lambda: {x["tenant"]: x["cursor"] for x in _hook(third)["tenants"]}
                          == heads, timeout=5, what="the leader's cursors at the heads")

        # one sender at a time: the leaders in turn, none coming back
        ids = [g.config["cluster"]["node_id"] for g in (first, second, third)]
        runs = [k for k, _ in itertools.groupby(rx.senders())]
        assert runs == ids, (runs, ids)
        assert rx.errors == [], rx.errors
        print("events %d, graceful %d, repeated after kill -9 %d, senders %s" % (
            len(trail), graceful, len(repeats), runs))
        third.stop()  # a clean exit (the sanitizer build checks for leaks)
    finally:
        if w:
            w.stop()
        for g in nodes:
            g.stop(check=False)
        rx.stop()
        r.stop()
        store.close()


if __name__ == "__main__":
    gwtest.main(globals())
