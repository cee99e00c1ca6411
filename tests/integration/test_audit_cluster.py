#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One audit log per tenant across nodes (issue 15 item 4): two real gateway processes in
cluster mode on ONE PostgreSQL store (the same schema) and one real redis-server write audited
mutations to one tenant at the same time, each node signing heads with its own key.

- no request fails (a node whose view of the tenant's head is stale reloads it from the store
  and chains its batch again: never a 503, never a fork);
- the store holds seq 1..N without gap or duplicate, every prev_hash links to the event before;
- heads were signed by both nodes' keys, both published in the store with their node ids;
- verification through either node's API accepts the whole trail and names the signing nodes;
- inclusion proofs of events committed by either node check (independently of the gateway's
  code) against the signed root, and that root is the tree of all the events;
- each node's log file is the whole log, reconciled from the store: it verifies offline with
  both nodes' public keys.

PostgreSQL: the suite's (GWTEST_PG, a fresh schema) when it runs on PostgreSQL, else a
throwaway cluster from tests/pg/cluster.sh in a temporary directory.
"""

import os
import subprocess
import threading

import gwtest
import pgwire
import redis_server
from gwtest import ADMIN_TOKEN, ENG_TOKEN, TENANT
from test_audit_integrity import event_hash, inclusion_ok, leaf, mth

PER_NODE = 500
THREADS = 4  # per node


class SharedStore:
    """A PostgreSQL schema both nodes use."""

    def __init__(self):
        self.dir = None
        conninfo = gwtest.PG_CONNINFO if gwtest.PG else None
        if not conninfo:
            self.dir = gwtest.tempdir("gwpg-")
            out = subprocess.run([os.path.join(gwtest.SOURCE_DIR, "tests/pg/cluster.sh"),
                                  "start", self.dir], check=True, capture_output=True, text=True)
            conninfo = out.stdout.strip().splitlines()[-1]
        self.conninfo = conninfo
        self.schema = "audit_nodes_" + os.urandom(6).hex()
        c = pgwire.connect(conninfo)
        try:
            c.execute("CREATE SCHEMA " + self.schema)
        finally:
            c.close()
        self.url = "%s options='-csearch_path=%s'" % (conninfo, self.schema)

    def rows(self, sql, params=()):
        c = pgwire.connect(self.conninfo, search_path=self.schema)
        try:
            return c.execute(sql, params).fetchall()
        finally:
            c.close()

    def close(self):
        if self.dir:
            subprocess.run([os.path.join(gwtest.SOURCE_DIR, "tests/pg/cluster.sh"), "stop",
                            self.dir], check=False, capture_output=True)


def _node(r, store, name):
    cfg = gwtest.allow_exports(gwtest.seed_config(cluster=r.cluster(name)))
    cfg["store"] = {"backend": "postgresql", "url": store.url}
    return gwtest.Gateway(cfg)


def _write(g, tag, n, statuses, lock):
    for i in range(n):
        r = g.post("/api/v1/channels/engineering/code-reviewer/messages",
                   body={"content": "%s-%d" % (tag, i)}, token=ENG_TOKEN)
        with lock:
            statuses[r.status] = statuses.get(r.status, 0) + 1


def test_two_nodes_one_log():
    store = SharedStore()
    r = redis_server.Redis().start()
    a = b = None
    try:
        a = _node(r, store, "node-a").start()
        b = _node(r, store, "node-b").start()
        statuses, lock, threads = {}, threading.Lock(), []
        for g, name in ((a, "a"), (b, "b")):
            for t in range(THREADS):
                threads.append(threading.Thread(target=_write, args=(
                    g, "%s%d" % (name, t), PER_NODE // THREADS, statuses, lock)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == {202: 2 * PER_NODE}, statuses
        for g in (a, b):
            gwtest.wait_until(lambda: g.get("/api/v1/status").json().get("audit", {})
                              .get("queue_depth") == 0, timeout=10, what="audit queue")

        # one chain: 1..N, no gap, no duplicate, every link to the event before
        rows = store.rows("SELECT seq, prev_hash, hash FROM audit_events WHERE tenant = ? "
                          "ORDER BY seq", (TENANT,))
        seqs = [x["seq"] for x in rows]
        assert seqs == list(range(1, len(rows) + 1)), "gap or duplicate in %r" % seqs[:20]
        assert len(rows) >= 2 * PER_NODE, len(rows)
        for prev, cur in zip(rows, rows[1:]):
            assert cur["prev_hash"] == prev["hash"], "fork at %d" % cur["seq"]

        # both nodes signed heads, each with its own published key
        keys = {k["key_id"]: k["node_id"] for k in store.rows(
            "SELECT key_id, node_id FROM audit_keys")}
        assert sorted(keys.values()) == ["node-a", "node-b"], keys
        signers = store.rows("SELECT key_id, COUNT(*) AS n FROM audit_checkpoints "
                             "WHERE tenant = ? GROUP BY key_id", (TENANT,))
        assert {keys[s["key_id"]] for s in signers} == {"node-a", "node-b"}, signers

        # verification through either node accepts the whole trail and names the signers
        for g in (a, b):
            v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
            assert v["ok"] is True, v
            assert v["signed_through"] >= len(rows), v
            assert v["unsigned_events"] == 0, v
            assert {s["node_id"] for s in v["signers"]} == {"node-a", "node-b"}, v

        # inclusion proofs of events committed by each node, checked independently
        heads = store.rows("SELECT seq, key_id FROM audit_checkpoints WHERE tenant = ? "
                           "ORDER BY seq", (TENANT,))
        by_node = {}
        for h in heads:
            by_node.setdefault(keys[h["key_id"]], h["seq"])
        assert set(by_node) == {"node-a", "node-b"}, by_node
        full = {x["seq"]: x["hash"] for x in store.rows(
            "SELECT seq, hash FROM audit_events WHERE tenant = ?", (TENANT,))}
        for node_name, seq in by_node.items():
            for g in (a, b):
                p = g.get("/api/v1/audit/proof/inclusion/%d" % seq, token=ADMIN_TOKEN).json()
                assert p["event"]["seq"] == seq, p
                assert event_hash(p["event"]) == full[seq], "event %d of %s" % (seq, node_name)
                path = [bytes.fromhex(h) for h in p["path"]]
                assert inclusion_ok(seq - 1, p["tree_size"], leaf(full[seq]), path,
                                    bytes.fromhex(p["head"]["root"])), "inclusion of %d" % seq
        size = p["tree_size"]  # the proofs' reads are audited too: read the events again
        full = {x["seq"]: x["hash"] for x in store.rows(
            "SELECT seq, hash FROM audit_events WHERE tenant = ?", (TENANT,))}
        assert mth([leaf(full[s]) for s in range(1, size + 1)]).hex() == p["head"]["root"]

        # each node's file is the whole log, verified offline with both public keys
        pubs = [k["public_key"] for k in store.rows("SELECT public_key FROM audit_keys")]
        for g in (a, b):
            st = g.get("/api/v1/status").json()
            assert st["components"]["audit"] == "healthy", st  # the file is in step
            assert st["audit"]["failures"] == 0, st
            argv = ["audit", "verify", "--file", g.audit_log_path]
            for k in pubs:
                argv += ["--public-key", k]
            c = gwtest.cli(*argv)
            assert c.rc == 0, c
    finally:
        for g in (a, b):
            if g:
                g.stop()
        r.stop()
        store.close()


if __name__ == "__main__":
    gwtest.main(globals())
