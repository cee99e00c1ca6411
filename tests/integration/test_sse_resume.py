#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Resuming a streamed answer on another node (issue 15, item 5): every SSE event of a
streamed answer carries "id: <stream id>:<n>" and is logged in the cluster's stream log (Redis
in cluster mode, in-process otherwise); GET /api/v1/streams/{id} with Last-Event-ID (or
?after=n) replays the events after n and follows the live ones until the end.

- two real gateway processes on one PostgreSQL store and one real redis-server, a slow
  streamed model call against mock_llm.py: the client reads some events from node A, drops the
  connection, resumes on node B and receives exactly the remaining events (no gap, no repeat)
  up to [DONE], while the answer is still being produced;
- a resume after the end replays the rest at once;
- another principal's resume, a forged id and a stream that never existed are 404;
  malformed ids and Last-Event-IDs are 400; the resume is audited; resumes following a live
  stream are bounded per principal (429, Retry-After);
- one node without Redis (the in-process log) resumes the same way, and so does an agent's
  streamed answer (openclaw/<ns>/<agent>);
- whether a disconnect cancels the answer: X-OpenClaw-Resumable true/false decides; without it
  the answer goes on in a cluster and is cancelled on one node.
"""

import http.client
import json
import os

import gwtest
import test_cluster_state
from gwtest import ADMIN_TOKEN, assert_error
from mock_llm import MockLLM

CAROL = "carol@acme.test"
DAVE = "dave@acme.test"
TOK = {CAROL: "sr-carol-token-7a1b2c3d4e5f60718293a4b5c6d7e8f9",
       DAVE: "sr-dave-token-8b2c3d4e5f60718293a4b5c6d7e8f9a0"}
WORDS = 24
REPLY = " ".join("a%d" % i for i in range(WORDS))

LLM = gwtest.Lazy(lambda: MockLLM().start())


def _config(**over):
    cfg = gwtest.seed_config(**over)
    cfg["identity"] = {"org_units": ["engineering"],
                       "users": [{"id": u, "email": u, "role": "user",
                                  "org_unit": "engineering"} for u in TOK]}
    for user, secret in TOK.items():
        cfg["auth"]["tokens"].append({"id": user.split("@")[0], "token": secret, "owner": user,
                                      "scopes": ["models:invoke", "channels:engineering/*"]})
    cfg["models"] = {"providers": [{
        "name": "openai", "api": "openai", "base_url": LLM.get().url + "/v1",
        "api_key": "sk-test", "retries": 0, "models": [{"name": "gpt-4o"}]}]}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o"}]
    bundle = os.path.join(gwtest.tempdir(), "policies.yaml")
    with open(bundle, "w") as f:
        f.write(gwtest.to_yaml([{"scope": "enterprise", "domain": "models", "content": {
            "allowed_providers": ["*"], "allowed_models": ["*"]}}]) + "\n")
    cfg["policy"] = {"bundle": bundle}
    return cfg


class Pair(test_cluster_state.Pair):
    """Nodes A and B on one PostgreSQL schema and one Redis (test_cluster_state's pair), with
    the mock as their model provider."""

    def _node(self, name):
        return gwtest.Gateway(_config(cluster=self.redis.cluster(name),
                                      store={"backend": "postgresql", "url": self.url}))


PAIR = gwtest.Lazy(Pair)
SOLO = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())


# --- an SSE client --------------------------------------------------------------------------

class Sse:
    """One streamed request; events() yields {"id", "event", "data"} as they arrive."""

    def __init__(self, g, method, path, body=None, token=None, headers=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=20)
        h = {"Authorization": "Bearer " + (token or TOK[CAROL])}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def events(self):
        ev = {}
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if not line:
                if ev:
                    yield ev
                ev = {}
                continue
            k, _, v = line.partition(":")
            ev[k] = v[1:] if v.startswith(" ") else v

    def close(self):
        self.conn.sock.close()  # a dropped connection, not a polite end
        self.conn.close()


def _start(g, model="openai/gpt-4o", resumable=True):
    """resumable: True/False send X-OpenClaw-Resumable true/false, None sends none."""
    LLM.get().script({"reply": REPLY, "chunk_delay_ms": 80}, path="/v1/chat")
    s = Sse(g, "POST", "/v1/chat/completions",
            {"model": model, "stream": True, "messages": [{"role": "user", "content": "go"}]},
            headers=None if resumable is None else {
                "X-OpenClaw-Resumable": "true" if resumable else "false"})
    assert s.status == 200, s.resp.read()
    return s


def _text(events):
    out = ""
    for e in events:
        if e["data"] != "[DONE]":
            for c in json.loads(e["data"])["choices"]:
                out += c["delta"].get("content") or ""
    return out


def _check_ids(events, sid, first):
    got = [e["id"] for e in events]
    want = ["%s:%d" % (sid, n) for n in range(first, first + len(events))]
    assert got == want, (got, want)


def _read_then_drop(s, n):
    """The first n events, then the connection is dropped; the stream id."""
    it = s.events()
    head = [next(it) for _ in range(n)]
    s.close()
    sid = head[0]["id"].rsplit(":", 1)[0]
    assert sid.startswith("chatcmpl-") and len(sid) == 33, sid
    _check_ids(head, sid, 1)
    return sid, head


def _resume(g, sid, after=None, last_event_id=None, token=None):
    h = {"Last-Event-ID": last_event_id} if last_event_id else {}
    path = "/api/v1/streams/" + sid + ("?after=%d" % after if after is not None else "")
    return Sse(g, "GET", path, token=token, headers=h)


def _resume_all(g, sid, n):
    s = _resume(g, sid, last_event_id="%s:%d" % (sid, n))
    assert s.status == 200, s.resp.read()
    rest = list(s.events())
    s.conn.close()
    return rest


def _check_whole(head, rest, sid):
    _check_ids(head + rest, sid, 1)
    assert rest[-1]["data"] == "[DONE]", rest[-1]
    assert _text(head + rest).split() == REPLY.split(), _text(head + rest)


# --- tests -----------------------------------------------------------------------------------

def test_a_stream_dropped_on_one_node_resumes_on_the_other():
    p = PAIR.get()
    s = _start(p.a)
    sid, head = _read_then_drop(s, 5)
    rest = _resume_all(p.b, sid, 5)
    _check_whole(head, rest, sid)
    assert LLM.get().state()["streams_completed"] >= 1  # the answer went on without a client
    # after the end: the rest at once, from either node, by ?after= as well
    again = _resume(p.a, sid, after=2)
    assert again.status == 200
    tail = list(again.events())
    _check_whole(head[:2], tail, sid)
    # only the principal that began it: another user gets the 404 of no such stream
    assert_error(p.b.get("/api/v1/streams/" + sid, token=TOK[DAVE]), 404)


def test_the_resume_of_another_principal_or_of_a_forged_id_is_404():
    p = PAIR.get()
    s = _start(p.a)
    sid, _ = _read_then_drop(s, 2)
    for g in (p.a, p.b):
        for token in (TOK[DAVE], ADMIN_TOKEN):
            r = g.get("/api/v1/streams/" + sid, token=token)
            assert_error(r, 404, msg_contains="no resumable stream")
        forged = "chatcmpl-" + os.urandom(12).hex()
        assert_error(g.get("/api/v1/streams/" + forged, token=TOK[CAROL]), 404)
        for bad in ("chatcmpl-XYZ", sid + "0", "chatcmpl-" + "g" * 24, "x" * 200):
            assert_error(g.get("/api/v1/streams/" + bad, token=TOK[CAROL]), 400)
        for lei in (forged + ":1", sid + ":-1", sid + ":x", sid + ":99999", sid):
            r = g.get("/api/v1/streams/" + sid, token=TOK[CAROL],
                      headers={"Last-Event-ID": lei})
            assert_error(r, 400, msg_contains="Last-Event-ID")
    rest = _resume_all(p.b, sid, 2)
    assert rest[-1]["data"] == "[DONE]"
    # the resume is audited, with the principal's identity
    def resumed():
        evs = p.b.audit_query(event="stream.resumed")["events"]
        return [e for e in evs if e.get("resource") == sid and e.get("outcome") == "ok"]
    gwtest.wait_until(lambda: resumed(), what="the resume's audit event")
    ev = resumed()[0]
    assert ev["actor"] == CAROL and ev["details"]["after"] == 2, ev


def test_one_node_without_redis_resumes_from_its_own_log():
    g = SOLO.get()
    s = _start(g)
    sid, head = _read_then_drop(s, 4)
    rest = _resume_all(g, sid, 4)
    _check_whole(head, rest, sid)


def test_an_agents_streamed_answer_resumes():
    g = SOLO.get()
    s = _start(g, model="openclaw/engineering/assistant")
    sid, head = _read_then_drop(s, 3)
    rest = _resume_all(g, sid, 3)
    _check_ids(head + rest, sid, 1)
    assert rest[-1]["data"] == "[DONE]"
    assert _text(head + rest).split() == REPLY.split()


def test_resumes_following_a_live_stream_are_bounded_per_principal():
    g = SOLO.get()
    s = _start(g)
    sid, _ = _read_then_drop(s, 2)
    done_before = LLM.get().state()["streams_completed"]
    following = [_resume(g, sid, after=2) for _ in range(4)]  # each holds a request worker
    try:
        assert [f.status for f in following] == [200] * 4, [f.status for f in following]
        # they follow the answer live: an event arrives while the model is still answering
        first = next(following[0].events())
        assert first["id"] == sid + ":3", first
        assert LLM.get().state()["streams_completed"] == done_before, \
            "the resume's first event came only after the answer ended"
        r = _resume(g, sid, after=2)
        assert r.status == 429 and r.resp.getheader("Retry-After") == "1", \
            (r.status, r.resp.read())
        r.conn.close()
    finally:
        for f in following:
            f.close()
    # a dropped resume gives its place back once it notices (its next event): the rest follows
    def resumed():
        r = _resume(g, sid, after=2)
        if r.status != 200:
            r.conn.close()
            return False
        rest = list(r.events())
        r.conn.close()
        return rest and rest[-1]["data"] == "[DONE]"
    gwtest.wait_until(resumed, timeout=10, what="a resume after the others were dropped")


def _dropped_and_cancelled(g, resumable):
    """Starts a stream on g, drops it: the upstream call is cancelled; the stream's id and the
    events read."""
    LLM.get().reset()
    s = _start(g, resumable=resumable)
    sid, head = _read_then_drop(s, 2)
    gwtest.wait_until(lambda: LLM.get().state()["client_disconnects"] >= 1, timeout=5,
                      what="the upstream call cancelled")
    assert LLM.get().state()["streams_completed"] == 0
    return sid, head


def test_in_a_cluster_a_stream_resumes_without_asking_unless_told_false():
    p = PAIR.get()
    s = _start(p.a, resumable=None)  # a stock client: no header
    sid, head = _read_then_drop(s, 3)
    rest = _resume_all(p.b, sid, 3)
    _check_whole(head, rest, sid)
    # the CLI's Ctrl-C says false: the disconnect cancels there too
    _dropped_and_cancelled(p.a, resumable=False)


def test_on_one_node_a_disconnect_cancels_the_model_call_unless_resumable():
    g = SOLO.get()
    sid, head = _dropped_and_cancelled(g, resumable=None)
    # what was produced can be read back, and the resume ends with the error that ended it
    r = _resume(g, sid)
    assert r.status == 200
    ev = list(r.events())
    assert ev[:2] == head, (ev, head)
    assert "error" in json.loads(ev[-1]["data"]) and "[DONE]" not in [e["data"] for e in ev], ev


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
        if LLM.value is not None:
            LLM.value.stop()
