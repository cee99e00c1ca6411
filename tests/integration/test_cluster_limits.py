#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Provider limits across the cluster (issue 15, item 2): three real gateway processes on one
real redis-server (each with its own store: limits do not need it) call one local mock
provider, which counts what reaches it.

- requests per minute: 15 calls spread over the three nodes against `rpm: 6` reach the
  provider 6 times (one fixed window of 60 s, started by the first call: the documented
  algorithm lets exactly the limit through per window); the other 9 wait in their node's queue
  and get 429 with Retry-After when max_wait_ms is over, never reaching the provider;
- concurrency: `max_concurrent: 1` on two nodes: the provider never sees two calls at once;
- a node killed (SIGKILL) while it holds the only slot: the other node's call reaches the
  provider within the lease (two epochs of 3 s, llm/llm_quota.h);
- Redis stopped: each node holds to its share of the limit (rpm 6 / the 2 nodes left = 3),
  never to no limit, and /api/v1/status says "node-share"; Redis back: "cluster" again.
"""

import threading
import time

import gwtest
import redis_server
import test_cluster
from gwtest import ADMIN_TOKEN
from mock_llm import MockLLM

EPOCH_S = 3  # LLM_QUOTA_EPOCH_MS
RPM = 6


def _providers(llm):
    def prov(name, **limits):
        return {"name": name, "api": "openai", "base_url": llm.url + "/v1", "api_key": "sk-t",
                "retries": 0, "models": [{"name": "m"}], "limits": limits}
    return [prov("rated", rpm=RPM, max_queue=100, max_wait_ms=1500),
            prov("single", max_concurrent=1, max_queue=100, max_wait_ms=20000),
            prov("shared", rpm=RPM, max_queue=100, max_wait_ms=500)]


class Trio:
    """Redis, a mock provider and nodes a, b, c."""

    def __init__(self):
        self.llm = MockLLM().start()
        self.redis = redis_server.Redis().start()
        self.nodes = [self._node(n).start() for n in ("node-a", "node-b", "node-c")]

    def _node(self, name):
        g = test_cluster._budget_node(self.redis, self.llm, name)  # token, user, policy
        cfg = g.config
        cfg.pop("costManagement", None)
        cfg["models"] = {"providers": _providers(self.llm)}
        g.write_config(cfg)
        return g

    def stop(self):
        for g in self.nodes:
            g.stop(check=False)
        self.redis.stop()
        self.llm.stop()


TRIO = gwtest.Lazy(Trio)


def _chat(g, model, text, out, key):
    try:
        out[key] = g.post("/v1/chat/completions", token=test_cluster.CAROL_TOKEN, timeout=40,
                          body={"model": model,
                                "messages": [{"role": "user", "content": text}]})
    except OSError as e:  # the node was killed under it
        out[key] = e


def _spawn(calls, out):
    """calls: (node, model, text) each in its own thread, started in order."""
    ths = []
    for i, (g, model, text) in enumerate(calls):
        t = threading.Thread(target=_chat, args=(g, model, text, out, i))
        t.start()
        ths.append(t)
    return ths


def _upstream(llm, prefix):
    return [t for t in llm.user_texts("/v1/chat") if t.startswith(prefix)]


def _queue(g, provider):
    return g.get("/api/v1/status", token=ADMIN_TOKEN).json()["model_queues"][provider]


def test_requests_per_minute_hold_across_nodes():
    t = TRIO.get()
    out = {}
    calls = [(t.nodes[i % 3], "rated/m", "rpm-%d" % i) for i in range(15)]
    for th in _spawn(calls, out):
        th.join(30)
    statuses = sorted(out[i].status for i in range(15))
    reached = _upstream(t.llm, "rpm-")
    print("  15 calls over 3 nodes at rpm %d: %d reached the provider, statuses %s"
          % (RPM, len(reached), statuses))
    assert len(reached) == RPM, reached
    assert statuses == [200] * RPM + [429] * (15 - RPM), statuses
    for i in range(15):
        if out[i].status == 429:
            # the window started at most a few seconds ago: the client is told to come back
            # when it ends, not in a second
            assert int(out[i].header("Retry-After")) >= 30, out[i]
    assert _queue(t.nodes[0], "rated")["limits"] == "cluster"
    # every node counts itself once per epoch: all three are seen within two epochs of start
    gwtest.wait_until(lambda: _queue(t.nodes[0], "rated")["nodes"] == 3,
                      timeout=2 * EPOCH_S + 1, what="three nodes seen")


def _held(llm):
    return llm.state()["held_texts"]


def test_one_slot_across_two_nodes():
    t = TRIO.get()
    a, b = t.nodes[0], t.nodes[1]
    t.llm.set_hold(True)
    out = {}
    ths = _spawn([(a, "single/m", "one-0"), (b, "single/m", "one-1"),
                  (a, "single/m", "one-2"), (b, "single/m", "one-3")], out)
    try:
        for n in range(4):
            gwtest.wait_until(lambda: len(_held(t.llm)) == 1, timeout=8,
                              what="call %d held at the provider" % n)
            time.sleep(0.5)  # others would arrive now if they could
            held = _held(t.llm)
            assert len(held) == 1, "two calls at once at the provider: %s" % held
            t.llm.release(1)
            gwtest.wait_until(lambda: len(_held(t.llm)) == 0 or _held(t.llm) != held,
                              timeout=5, what="the released call gone")
    finally:
        t.llm.set_hold(False)
        for th in ths:
            th.join(30)
    assert sorted(out[i].status for i in range(4)) == [200] * 4, out
    assert len(_upstream(t.llm, "one-")) == 4


def test_a_killed_node_frees_its_slot_within_the_lease():
    t = TRIO.get()
    a, b = t.nodes[2], t.nodes[1]
    t.llm.set_hold(True)
    out = {}
    ths = _spawn([(a, "single/m", "kill-a")], out)
    try:
        gwtest.wait_until(lambda: _held(t.llm) == ["kill-a"], timeout=8, what="a's call held")
        ths += _spawn([(b, "single/m", "kill-b")], {})
        time.sleep(1.0)
        assert _held(t.llm) == ["kill-a"], _held(t.llm)  # b waits for the slot
        a.kill()
        t0 = time.time()
        t.llm.release(1)  # the provider lets go of the dead node's request
        gwtest.wait_until(lambda: "kill-b" in _held(t.llm), timeout=2 * EPOCH_S + 3,
                          what="b's call after a's death")
        took = time.time() - t0
        print("  node b got the slot %.1f s after node a was killed (lease <= %d s)"
              % (took, 2 * EPOCH_S))
        assert took <= 2 * EPOCH_S + 1, took
    finally:
        t.llm.set_hold(False)
        for th in ths:
            th.join(30)


def test_redis_down_each_node_keeps_its_share():
    t = TRIO.get()
    g = t.nodes[0]
    # the killed node leaves the count of nodes within two epochs: two remain
    gwtest.wait_until(lambda: _queue(g, "rated")["nodes"] == 2, timeout=3 * EPOCH_S,
                      what="two nodes seen")
    t.redis.stop()
    gwtest.wait_until(lambda: g.get("/api/v1/status", token=ADMIN_TOKEN).json()
                      ["components"]["shared"]["state"] != "healthy", timeout=10,
                      what="the shared state degraded")
    out = {}
    for th in _spawn([(g, "shared/m", "share-%d" % i) for i in range(4)], out):
        th.join(30)
    statuses = sorted(out[i].status for i in range(4))
    share = RPM // 2
    assert len(_upstream(t.llm, "share-")) == share, _upstream(t.llm, "share-")
    assert statuses == [200] * share + [429] * (4 - share), statuses
    q = _queue(g, "shared")
    assert q["limits"] == "node-share" and q["nodes"] == 2, q
    # Redis back: the node counts in the cluster again, without a restart
    t.redis.start()
    gwtest.wait_until(lambda: _queue(g, "shared")["limits"] == "cluster", timeout=10,
                      what="limits counted across the cluster again")


def test_nodes_still_alive_exit_cleanly():
    t = TRIO.get()
    for g in t.nodes[:2]:  # node c was killed
        g.stop(check=True)


if __name__ == "__main__":
    try:
        gwtest.main(globals())
    finally:
        if TRIO.value:
            TRIO.value.stop()
