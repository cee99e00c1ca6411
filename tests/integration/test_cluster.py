#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cluster mode's shared state (issue 15 item 2): two real gateway processes share one real
redis-server (Debian's, on loopback; plain, with a password, and TLS only).

- failed-auth throttling counts the failures of both nodes against one limit (each node with
  its own data directory: the test is about the counter);
- a token revoked on one node, or the old secret of a token rotated there, is refused by the
  other within one second (each node has its own store; the tokens' rows are copied into the
  second's before it starts, as a store shared by both would hold them, so only the
  notification can tell the second);
- an API reload on one node makes the other re-read its configuration (the same change in
  each node's file);
- a policy write on one node makes the other reload its policies from its store (each node
  has its own store here: the test copies the first version into the second node's store, as
  a shared store would hold it, and the next write's notification makes it appear there);
- a run-time provider changed on one node is read again by the other (rows copied the same
  way);
- monthly spend: calls on both nodes count once against one budget, and `onExceed: disable`
  stops the workspace on both (each node with its own store: the test is about the counter);
- Redis down: /readyz stays 200 and says "degraded", /api/v1/status shows the component,
  configuration tokens still work, run-time tokens are refused (503, never accepted
  unchecked), and everything recovers when Redis is back without a restart.
"""

import os
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, assert_error
from mock_llm import MockLLM
import redis_server


def _node(r, name, limit=10000):
    cfg = gwtest.seed_config(cluster=r.cluster(name), auth={"failed_auth_limit": limit})
    return gwtest.Gateway(cfg)


def _copy_rows(src, dst, table, where, params):
    """Rows of src's store into dst's (SQLite or PostgreSQL, as the suite runs): what one
    store shared by both nodes would hold."""
    s, d = src.db(), dst.db()
    try:
        rows = s.execute("SELECT * FROM %s WHERE %s" % (table, where), params).fetchall()
        for row in rows:
            cols = list(row.keys())
            d.execute("INSERT INTO %s (%s) VALUES (%s)" % (
                table, ", ".join(cols), ", ".join("?" * len(cols))), tuple(row[c] for c in cols))
        d.commit()
    finally:
        s.close()
        d.close()
    assert rows, "no %s row where %s %r" % (table, where, params)


def _wait_status(fn, want, timeout=1.0):
    """Polls fn() until it gives want; returns the seconds it took (fails after timeout)."""
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        last = fn()
        if last == want:
            return time.time() - t0
        time.sleep(0.02)
    raise AssertionError("still %r after %.1f s (want %r)" % (last, timeout, want))


def _userinfo(g, token):
    return lambda: g.get("/api/v1/auth/userinfo", token=token).status


def test_failed_auth_counted_across_nodes():
    r = redis_server.Redis(password="s3cret-redis-pw").start()
    a = _node(r, "node-a", limit=5).start()
    b = _node(r, "node-b", limit=5).start()
    try:
        for g in (a, b, a):
            assert_error(g.get("/api/v1/auth/userinfo", token="wrong-1"), 401)
        for g in (b, a):
            assert_error(g.get("/api/v1/auth/userinfo", token="wrong-2"), 401)
        # five failures in all, none on one node alone: both nodes now throttle the address
        # the node of the fifth failure at once, the other as soon as the mark reaches it
        resp = a.get("/api/v1/auth/userinfo", token="wrong-3")
        assert_error(resp, 429)
        assert 0 < int(resp.header("Retry-After")) <= 61, resp
        _wait_status(lambda: b.get("/api/v1/auth/userinfo", token="wrong-3").status, 429)
        # a valid local credential still passes (see api_identify)
        assert a.get("/api/v1/auth/userinfo", token=ENG_TOKEN).status == 200
        for g in (a, b):
            assert "s3cret-redis-pw" not in g.stdout() + g.stderr(), "password in the log"
    finally:
        a.stop()
        b.stop()
        r.stop()


def _revocation(r):
    a = _node(r, "node-a").start()
    try:
        secrets = {}
        for tid in ("ci-bot", "rot-bot"):
            resp = a.post("/api/v1/tokens", body={"id": tid, "scopes": ["agents:read"]},
                          token=ADMIN_TOKEN)
            assert resp.status == 201, resp
            secrets[tid] = resp.json()["token"]
        b = _node(r, "node-b").start()  # creates its store
        b.stop()
        _copy_rows(a, b, "tokens", "id IN (?, ?)", ("ci-bot", "rot-bot"))
        b.start()
        try:
            for secret in secrets.values():
                assert b.get("/api/v1/auth/userinfo", token=secret).status == 200
            resp = a.req("DELETE", "/api/v1/tokens/ci-bot", token=ADMIN_TOKEN)
            assert resp.status == 200, resp
            took = _wait_status(_userinfo(b, secrets["ci-bot"]), 401, timeout=1.0)
            print("  revocation reached the other node in %.0f ms" % (took * 1000))
            # a rotation retires the old secret everywhere
            resp = a.post("/api/v1/tokens/rot-bot/rotate", token=ADMIN_TOKEN)
            assert resp.status == 200, resp
            _wait_status(_userinfo(b, secrets["rot-bot"]), 401, timeout=1.0)
            assert a.get("/api/v1/auth/userinfo", token=resp.json()["token"]).status == 200
            # only the notifications told it: its own store still has both tokens as they were
            db = b.db()
            try:
                rows = db.execute("SELECT revoked_ms FROM tokens WHERE id IN (?, ?)",
                                  ("ci-bot", "rot-bot")).fetchall()
            finally:
                db.close()
            assert len(rows) == 2 and not any(row[0] for row in rows), rows
            assert b.get("/api/v1/auth/userinfo", token=ENG_TOKEN).status == 200
        finally:
            b.stop()
    finally:
        a.stop()


def test_revocation_reaches_the_other_node():
    r = redis_server.Redis().start()
    try:
        _revocation(r)
    finally:
        r.stop()


def test_revocation_over_tls():
    r = redis_server.Redis(tls=True).start()
    try:
        _revocation(r)
    finally:
        r.stop()


def test_tls_refuses_an_unknown_certificate_authority():
    r = redis_server.Redis(tls=True).start()
    cfg = gwtest.seed_config(cluster=r.cluster("node-a"))
    del cfg["cluster"]["redis"]["ca_file"]  # the system's CAs do not know the test CA
    g = gwtest.Gateway(cfg).start()
    try:
        gwtest.wait_until(lambda: "certificate" in g.get("/readyz").json().get("degraded", ""),
                          what="readyz names the certificate")
        assert g.get("/readyz").json()["checks"]["shared"] == "degraded"
    finally:
        g.stop()
        r.stop()


def test_tls_refuses_a_certificate_for_another_name():
    # signed by the CA the node trusts, but for another server (also named "127.0.0.1" in its
    # subject, which does not count: only the subject alternative names do)
    r = redis_server.Redis(tls=True, san="DNS:other.example").start()
    g = gwtest.Gateway(gwtest.seed_config(cluster=r.cluster("node-a"))).start()
    try:
        gwtest.wait_until(lambda: "mismatch" in g.get("/readyz").json().get("degraded", ""),
                          what="readyz names the mismatch")
        assert g.get("/readyz").json()["checks"]["shared"] == "degraded"
    finally:
        g.stop()
        r.stop()


def test_reload_on_one_node_reloads_the_other():
    r = redis_server.Redis().start()
    a = _node(r, "node-a").start()
    b = _node(r, "node-b").start()
    try:
        extra = "extra-token-5d1e0c9b8a7f6e5d4c3b2a1908f7e6d5"
        assert_error(b.get("/api/v1/auth/userinfo", token=extra), 401)
        for g in (a, b):  # the same change on every node's file, reloaded through one node
            cfg = g.config
            cfg["auth"]["tokens"].append({"id": "extra", "token": extra,
                                          "scopes": ["agents:read"]})
            g.write_config(cfg)
        assert a.post("/api/v1/admin/reload", token=ADMIN_TOKEN).status == 200
        assert a.get("/api/v1/auth/userinfo", token=extra).status == 200
        took = _wait_status(_userinfo(b, extra), 200, timeout=1.0)
        print("  the other node reloaded in %.0f ms" % (took * 1000))
    finally:
        a.stop()
        b.stop()
        r.stop()


def _policy_ids(g):
    r = g.get("/api/v1/policies", token=ADMIN_TOKEN)
    assert r.status == 200, r
    j = r.json()
    items = j.get("policies", j) if isinstance(j, dict) else j
    return {p["id"] for p in items}


def test_policy_change_reloads_the_other_node():
    r = redis_server.Redis().start()
    a = _node(r, "node-a").start()
    b = _node(r, "node-b").start()
    try:
        resp = a.post("/api/v1/policies", token=ADMIN_TOKEN, body={
            "scope": "enterprise", "domain": "data", "change_reason": "cluster test",
            "content": {"allow_data_export": True, "export_max_classification": "internal"}})
        assert resp.status == 201, resp
        pid = resp.json()["id"]
        time.sleep(0.3)  # b has heard of it and reloaded its own store: nothing there yet
        assert pid not in _policy_ids(b)
        _copy_rows(a, b, "policy_versions", "id = ?", (pid,))
        assert pid not in _policy_ids(b)  # nothing reads the store by itself
        resp = a.req("PUT", "/api/v1/policies/" + pid, token=ADMIN_TOKEN, body={
            "change_reason": "tighter", "content": {"allow_data_export": False}})
        assert resp.status == 200, resp
        took = _wait_status(lambda: pid in _policy_ids(b), True, timeout=1.0)
        print("  the other node reloaded its policies in %.0f ms" % (took * 1000))
    finally:
        a.stop()
        b.stop()
        r.stop()


def _providers(g):
    r = g.get("/api/v1/providers", token=ADMIN_TOKEN)
    assert r.status == 200, r
    return {p["name"] for p in r.json()["providers"]}


def test_runtime_models_change_reaches_the_other_node():
    r = redis_server.Redis().start()
    a = _node(r, "node-a").start()
    b = _node(r, "node-b").start()
    try:
        resp = a.post("/api/v1/providers", token=ADMIN_TOKEN, body={
            "name": "edge", "api": "openai", "base_url": "http://localhost:9/v1/",
            "api_key": "sk-edge-test-key", "kind": "self_hosted",
            "models": [{"name": "llama", "upstream": "llama3.2"}]})
        assert resp.status == 201, resp
        time.sleep(0.3)
        _copy_rows(a, b, "model_providers", "name = ?", ("edge",))
        _copy_rows(a, b, "model_entries", "provider = ?", ("edge",))
        assert "edge" not in _providers(b)  # nothing reads the store by itself
        resp = a.req("PATCH", "/api/v1/providers/edge", token=ADMIN_TOKEN, body={"retries": 0})
        assert resp.status == 200, resp
        took = _wait_status(lambda: "edge" in _providers(b), True, timeout=1.0)
        print("  the other node read the run-time providers again in %.0f ms" % (took * 1000))
    finally:
        a.stop()
        b.stop()
        r.stop()


CAROL = "carol@acme.test"
CAROL_TOKEN = "cl-carol-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"


def _budget_node(r, llm, name):
    cfg = gwtest.seed_config(cluster=r.cluster(name))
    cfg["identity"] = {"org_units": ["engineering", "engineering/platform"],
                       "teams": [{"id": "platform", "org_unit": "engineering/platform"}],
                       "users": [{"id": CAROL, "email": CAROL, "role": "user",
                                  "team": "platform"}]}
    cfg["auth"]["tokens"].append({"id": "carol", "token": CAROL_TOKEN, "owner": CAROL,
                                  "scopes": ["models:invoke"]})
    cfg["models"] = {"providers": [{
        "name": "openai", "api": "openai", "base_url": llm.url + "/v1", "api_key": "sk-test",
        "retries": 0, "models": [{"name": "pricey", "input_per_mtok": 100000,
                                  "output_per_mtok": 100000}]}]}
    cfg["costManagement"] = {"budgets": {"platform": {"monthlyUsdLimit": 5,
                                                      "onExceed": "disable"}}}
    bundle = os.path.join(gwtest.tempdir(), "policies.yaml")
    with open(bundle, "w") as f:
        f.write(gwtest.to_yaml([{"scope": "enterprise", "domain": "models", "content": {
            "allowed_providers": ["*"], "allowed_models": ["*"]}}]) + "\n")
    cfg["policy"] = {"bundle": bundle}
    return gwtest.Gateway(cfg)


def test_budget_counts_the_spend_of_both_nodes():
    llm = MockLLM().start()
    r = redis_server.Redis().start()
    a = _budget_node(r, llm, "node-a").start()
    b = _budget_node(r, llm, "node-b").start()
    try:
        def chat(g):
            return g.post("/v1/chat/completions", token=CAROL_TOKEN, body={
                "model": "openai/pricey", "messages": [{"role": "user", "content": "hi"}]})
        # each call costs (prompt + completion tokens) * 0.1 USD, a fraction of the 5 USD
        # budget
        first = chat(a)
        assert first.status == 200, first
        cost = (first.json()["usage"]["prompt_tokens"] +
                first.json()["usage"]["completion_tokens"]) * 0.1
        assert 0 < cost < 5, cost
        calls = 1
        spent = cost
        g = b
        while spent < 5:
            resp = chat(g)
            assert resp.status == 200, "call %d (%.2f USD spent in all): %r" % (calls, spent, resp)
            spent += cost
            calls += 1
            g = a if g is b else b
        # the budget is reached in all, though not on either node alone (calls alternate)
        assert cost * ((calls + 1) // 2) < 5, (calls, cost)
        print("  %d calls of %.2f USD, alternating: both nodes refuse the next" % (calls, cost))
        for g in (a, b):
            e = assert_error(chat(g), 402)
            assert "platform" in e["message"], e
    finally:
        a.stop()
        b.stop()
        r.stop()
        llm.stop()


def test_redis_down_degrades_and_never_fails_open():
    r = redis_server.Redis().start()
    a = _node(r, "node-a").start()
    try:
        s = a.get("/api/v1/status", token=ADMIN_TOKEN).json()["components"]["shared"]
        assert s["state"] == "healthy" and s["backend"] == "redis", s
        resp = a.post("/api/v1/tokens", body={"id": "bot", "scopes": ["agents:read"]},
                      token=ADMIN_TOKEN)
        secret = resp.json()["token"]
        assert a.get("/api/v1/auth/userinfo", token=secret).status == 200
        r.stop()
        gwtest.wait_until(lambda: a.get("/readyz").json()["checks"]["shared"] == "degraded",
                          what="readyz degraded")
        ready = a.get("/readyz")
        assert ready.status == 200 and "unreachable" in ready.json()["degraded"], ready
        s = a.get("/api/v1/status", token=ADMIN_TOKEN).json()["components"]["shared"]
        assert s["state"] == "degraded", s
        assert a.get("/api/v1/auth/userinfo", token=ENG_TOKEN).status == 200
        e = assert_error(a.get("/api/v1/auth/userinfo", token=secret), 503)
        assert "revocation" in e["message"], e
        r.start()  # same port: the node reconnects with backoff
        gwtest.wait_until(lambda: a.get("/api/v1/auth/userinfo", token=secret).status == 200,
                          timeout=10, what="run-time token accepted again")
        assert a.get("/readyz").json()["checks"]["shared"] == "ok"
    finally:
        a.stop()
        r.stop()


def test_cluster_section_checked():
    d = gwtest.tempdir()
    cases = [
        ({"enabled": True}, "cluster.enabled needs cluster.redis.url"),
        ({"enabled": True, "redis": {"url": "http://:hunter2-pw@h"}},
         "cluster.redis.url must be a redis:// or rediss:// URL"),
        ({"enabled": True, "node_id": "no spaces", "redis": {"url": "redis://h"}},
         "cluster.node_id must be"),
        ({"session_store": "redis"}, "cluster.session_store: redis needs cluster.enabled"),
        ({"enabled": True, "session_store": "memcached", "redis": {"url": "redis://h"}},
         "cluster.session_store must be \"redis\""),
    ]
    for i, (cluster, msg) in enumerate(cases):
        path = os.path.join(d, "c%d.yaml" % i)
        with open(path, "w") as f:
            f.write(gwtest.to_yaml(gwtest.seed_config(cluster=cluster)) + "\n")
        rc, out, err = gwtest.check_config(path)
        assert rc == 78 and msg in err, "%r: exit %d, %s" % (cluster, rc, err[-500:])
        assert "hunter2-pw" not in out + err, "the Redis password was quoted: %s" % err
    # seed 001's block: nodeId and sessionStore land on their house keys
    path = os.path.join(d, "seed.yaml")
    cfg = gwtest.seed_config(cluster={"enabled": True, "nodeId": "node-1",
                                      "redis": {"url": "redis://127.0.0.1:1", "tls": False}},
                             sessionStore="redis")
    with open(path, "w") as f:
        f.write(gwtest.to_yaml(cfg) + "\n")
    rc, out, err = gwtest.check_config(path)
    assert rc == 0, "seed 001's cluster block: exit %d, %s" % (rc, err[-500:])


def test_in_process_by_default():
    g = gwtest.Gateway().start()
    try:
        s = g.get("/api/v1/status", token=ADMIN_TOKEN).json()["components"]["shared"]
        assert s == {"state": "healthy", "backend": "in-process",
                     "detail": "in-process (one node)"}, s
    finally:
        g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
