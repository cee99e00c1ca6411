#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nothing a node owns (issue 15, items 2 and 3): two real gateway processes on ONE PostgreSQL
store (the same schema) and one real redis-server. What one node changes at run time is in
force on the other without a restart:

- a token created (or rotated) through A authenticates through B within one second: B's
  token registry reads the store again when A tells it (channel `identity`);
- a namespace member added through A is a member on B (the grant registry, the same way);
- an agent registered through A answers on B (the agent registry, the same way);
- a memory document written through A is read through B (cluster mode keeps memory
  documents in the store, not in the node's data directory);
- an approval parked on A is decided on B, and its action runs once;
- a budget spent through both nodes alerts once: one `budget.threshold` and one
  `budget.exceeded` webhook for the cluster, not one per node, and both nodes refuse the next
  call.

The PostgreSQL server: the suite's (GWTEST_STORE=postgresql, a fresh schema), or a throwaway
one started here with tests/pg/cluster.sh when the suite runs on SQLite.
"""

import os
import subprocess
import time

import gwtest
import pgwire
import redis_server
from gwtest import ADMIN_TOKEN, ENG_TOKEN, assert_error
from mock_llm import MockLLM

CLUSTER = os.path.join(gwtest.SOURCE_DIR, "tests", "pg", "cluster.sh")
ADMIN2 = "admin2-token-6b1f0e9d8c7b6a5948372615f4e3d2c1"
TTL_S = 5  # approvals expire after this: long enough to decide one, short enough to wait for
CAROL = "carol@acme.test"
CAROL_TOKEN = "cs-carol-token-5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"


class Pair:
    """PostgreSQL (one schema), Redis, and nodes A and B on them."""

    def __init__(self):
        self.pg_dir = None
        if gwtest.PG:
            conninfo = gwtest.PG_CONNINFO
        else:
            d = gwtest.tempdir("gwstate-pg-")
            os.chmod(d, 0o755)
            self.pg_dir = os.path.join(d, "pg")
            conninfo = self._cluster("start", self.pg_dir)
        schema = "cs_" + os.urandom(6).hex()
        c = pgwire.connect(conninfo)
        try:
            c.execute("CREATE SCHEMA " + schema)
        finally:
            c.close()
        self.conninfo, self.schema = conninfo, schema
        self.url = "%s options='-csearch_path=%s'" % (conninfo, schema)
        self.redis = redis_server.Redis().start()
        self.llm = MockLLM().start()
        self.a = self._node("node-a").start()
        self.b = self._node("node-b").start()  # its own audit key, published in the store

    @staticmethod
    def _cluster(*args):
        return subprocess.run([CLUSTER] + list(args), check=True, capture_output=True,
                              text=True, timeout=60).stdout.strip()

    def _node(self, name):
        cfg = gwtest.seed_config(cluster=self.redis.cluster(name),
                                 store={"backend": "postgresql", "url": self.url})
        cfg["auth"]["tokens"].append({"id": "admin2", "token": ADMIN2, "scopes": ["*"]})
        cfg["policy"] = dict(cfg["policy"], approval_ttl_s=TTL_S)
        # a workspace with a small budget, spent by carol's model calls
        ident = cfg.setdefault("identity", {})
        ident.setdefault("org_units", [])
        for ou in ("engineering", "engineering/platform"):
            if ou not in ident["org_units"]:
                ident["org_units"].append(ou)
        ident.setdefault("teams", []).append({"id": "platform",
                                              "org_unit": "engineering/platform"})
        ident.setdefault("users", []).append({"id": CAROL, "email": CAROL, "role": "user",
                                              "team": "platform"})
        cfg["auth"]["tokens"].append({"id": "carol", "token": CAROL_TOKEN, "owner": CAROL,
                                      "scopes": ["models:invoke"]})
        cfg["models"] = {"providers": [{
            "name": "openai", "api": "openai", "base_url": self.llm.url + "/v1",
            "api_key": "sk-test", "retries": 0,
            "models": [{"name": "pricey", "input_per_mtok": 100000,
                        "output_per_mtok": 100000}]}]}
        cfg["costManagement"] = {"alertThreshold": 0.5,
                                 "alertWebhook": self.llm.url + "/webhook/budget",
                                 "budgets": {"platform": {"monthlyUsdLimit": 5,
                                                          "onExceed": "disable"}}}
        return gwtest.Gateway(cfg)

    def count(self, sql, params):
        c = pgwire.connect(self.conninfo, search_path=self.schema)
        try:
            return c.execute(sql, params).fetchall()[0][0]
        finally:
            c.close()

    def stop(self):
        for g in (self.a, self.b):
            g.stop(check=False)  # after the last test, a no-op (it checks the exit)
        self.redis.stop()
        self.llm.stop()
        if self.pg_dir:
            self._cluster("stop", self.pg_dir)


PAIR = gwtest.Lazy(Pair)


def _within(fn, what, timeout=1.0):
    """Polls fn() until it is true; returns the seconds it took (fails after timeout)."""
    t0 = time.time()
    while True:
        if fn():
            return time.time() - t0
        if time.time() - t0 > timeout:
            raise AssertionError("%s: not within %.1f s" % (what, timeout))
        time.sleep(0.02)


def _write(g, method, path, body=None, token=ADMIN_TOKEN, put_memory=False):
    """A mutation through node g (both nodes append to one tenant's audit trail: a node whose
    view of its head is stale re-reads it, never a 503)."""
    return g.put_memory(path, body, token) if put_memory else g.req(method, path, body=body,
                                                                    token=token)


def _authenticates(g, secret):
    return lambda: g.get("/api/v1/auth/userinfo", token=secret).status == 200


def test_a_token_created_on_one_node_works_on_the_other():
    p = PAIR.get()
    resp = _write(p.a, "POST", "/api/v1/tokens", {"id": "cs-bot", "scopes": ["agents:read"]})
    assert resp.status == 201, resp
    secret = resp.json()["token"]
    took = _within(_authenticates(p.b, secret), "the new token on node B")
    print("  a token created on A authenticated on B after %.0f ms" % (took * 1000))
    # a rotation: the new secret works on B as well, the old one no more
    resp = _write(p.a, "POST", "/api/v1/tokens/cs-bot/rotate")
    assert resp.status == 200, resp
    _within(_authenticates(p.b, resp.json()["token"]), "the rotated secret on node B")
    _within(lambda: p.b.get("/api/v1/auth/userinfo", token=secret).status == 401,
            "the old secret refused on node B")


def _members(g):
    r = g.get("/api/v1/namespaces/engineering", token=ADMIN_TOKEN)
    assert r.status == 200, r
    return r.body.decode()


def test_a_grant_given_on_one_node_applies_on_the_other():
    p = PAIR.get()
    assert "platform-eng" not in _members(p.b)
    r = _write(p.a, "POST", "/api/v1/namespaces/engineering/members",
               {"org_unit": "platform-eng"})
    assert r.status == 201, r
    _within(lambda: "platform-eng" in _members(p.b), "the new member on node B")
    r = _write(p.a, "DELETE", "/api/v1/namespaces/engineering/members?org_unit=platform-eng")
    assert r.status == 200, r
    _within(lambda: "platform-eng" not in _members(p.b), "the member removed on node B")


def _post_message(g, agent):
    return _write(g, "POST", "/api/v1/channels/engineering/%s/messages" % agent,
                  {"content": "hi"}, token=ENG_TOKEN).status


def test_an_agent_registered_on_one_node_answers_on_the_other():
    p = PAIR.get()
    assert _post_message(p.b, "cs-helper") == 404
    r = _write(p.a, "POST", "/api/v1/agents", {"name": "engineering/cs-helper"})
    assert r.status == 201, r
    _within(lambda: _post_message(p.b, "cs-helper") == 202, "the new agent on node B")


def test_a_memory_document_written_on_one_node_is_read_on_the_other():
    p = PAIR.get()
    for path in ("engineering/code-reviewer", "engineering/shared", "engineering/cs-helper"):
        text = "# notes %s\nwritten on A\n" % os.urandom(4).hex()
        r = _write(p.a, "PUT", path, text, token=ENG_TOKEN, put_memory=True)
        assert r.status == 200, r
        r = p.b.get("/api/v1/memory/" + path, token=ENG_TOKEN)
        assert r.status == 200 and r.body.decode() == text, (path, r)
    # in the store, not in A's data directory
    assert not os.path.exists(os.path.join(p.a.data_dir, "memory", "engineering",
                                           "code-reviewer.md"))


def test_an_approval_parked_on_one_node_is_decided_on_the_other():
    p = PAIR.get()
    policy = {"id": "cs-approve", "scope": "enterprise", "domain": "actions",
              "content": {"default_autonomy": "approve", "autonomous": ["memory_read"]},
              "change_reason": "approvals across nodes"}
    r = _write(p.a, "POST", "/api/v1/policies", policy)
    assert r.status in (200, 201), r
    text = "approved on B %s" % os.urandom(4).hex()
    deadline = time.time() + 2
    while True:  # the policy reaches A's engine at once, B's through its notification
        r = _write(p.a, "POST", "/api/v1/tools/invoke", {"tool": "memory_write", "args": {
            "namespace": "engineering", "agent": "code-reviewer", "content": text}})
        if r.status == 202 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert r.status == 202, r
    aid = r.json()["approval_id"]
    r = p.b.get("/api/v1/approvals/" + aid, token=ADMIN2)
    assert r.status == 200 and r.json()["status"] == "pending", r
    r = _write(p.b, "POST", "/api/v1/approvals/%s/approve" % aid, {}, token=ADMIN2)
    assert r.status == 200 and r.json()["status"] == "executed", r
    r = _write(p.a, "POST", "/api/v1/approvals/%s/approve" % aid, {}, token=ADMIN2)
    assert r.status != 200 or r.json()["status"] == "executed", r  # decided once
    r = p.a.get("/api/v1/memory/engineering/code-reviewer", token=ENG_TOKEN)
    assert r.status == 200 and r.body.decode() == text, r
    # one left pending expires once, though both nodes look for what is due every second
    r = _write(p.a, "POST", "/api/v1/tools/invoke", {"tool": "memory_write", "args": {
        "namespace": "engineering", "agent": "code-reviewer", "content": "never"}})
    assert r.status == 202, r
    aid = r.json()["approval_id"]
    _within(lambda: p.b.get("/api/v1/approvals/" + aid, token=ADMIN2).json()["status"] ==
            "expired", "the approval expired", timeout=TTL_S + 3)
    time.sleep(1.5)  # every node's tick has seen it due by now
    n = p.count("SELECT COUNT(*) FROM audit_events WHERE type = 'approval.expired' AND "
                "resource = ?", (aid,))
    assert n == 1, "approval.expired recorded %d times" % n
    _write(p.a, "DELETE", "/api/v1/policies/cs-approve")


def test_a_budget_spent_on_both_nodes_alerts_once():
    p = PAIR.get()

    def chat(g):
        return g.post("/v1/chat/completions", token=CAROL_TOKEN, body={
            "model": "openai/pricey", "messages": [{"role": "user", "content": "hi"}]})

    def hooks(kind):
        return [h for h in p.llm.requests("/webhook/budget")
                if h["body"].get("type") == kind and h["body"].get("workspace") == "platform"]

    r = _write(p.a, "POST", "/api/v1/policies", {
        "id": "cs-models", "scope": "enterprise", "domain": "models",
        "content": {"allowed_providers": ["*"], "allowed_models": ["*"]},
        "change_reason": "budgets across nodes"})
    assert r.status in (200, 201), r
    _within(lambda: chat(p.b).status != 403, "the models policy on B", timeout=2)
    g, calls = p.a, 0
    while True:  # alternating nodes, until the budget refuses
        r = chat(g)
        if r.status == 402:
            break
        assert r.status == 200 and calls < 100, "call %d: %r" % (calls, r)
        calls += 1
        g = p.b if g is p.a else p.a
    assert calls >= 4, "the budget was exhausted after %d calls: too few to alternate" % calls
    for node in (p.a, p.b):
        assert "platform" in assert_error(chat(node), 402)["message"]
    gwtest.wait_until(lambda: hooks("budget.exceeded"), timeout=10, what="budget.exceeded hook")
    time.sleep(1.5)  # a second alert, from the other node, would have come by now
    sent = {k: len(hooks(k)) for k in ("budget.threshold", "budget.exceeded")}
    assert sent == {"budget.threshold": 1, "budget.exceeded": 1}, \
        "budget webhooks for the cluster after %d calls: %r" % (calls, sent)
    print("  %d calls alternating between the nodes; one threshold and one exceeded alert"
          % calls)


def test_both_nodes_shut_down_cleanly():
    p = PAIR.get()
    for g in (p.a, p.b):
        g.stop(check=True)


if __name__ == "__main__":
    try:
        gwtest.main(globals())
    finally:
        if PAIR.value is not None:
            PAIR.value.stop()
