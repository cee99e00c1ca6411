# SPDX-License-Identifier: MIT
"""The model gateway (docs/MODELS.md, docs/API.md "Models"): the OpenAI-compatible proxy
against local servers speaking the OpenAI, Anthropic and Ollama wire formats (mock_llm.py),
streaming through to the client, classification-based rerouting and denial, retries,
fallbacks, timeouts, truncated and malformed upstream answers, client disconnects cancelling
the upstream call, fair queueing, budgets with alerts (a real SMTP conversation with
smtp_sink.py, and a webhook), cost reports, agent turns with tools and approvals, and the
official `openai` npm SDK talking to the gateway."""

import json
import os
import socket
import subprocess
import threading
import time

import gwtest
from gwtest import TENANT, assert_error
from mock_llm import MockLLM
from smtp_sink import SmtpSink

CAROL = "carol@acme.test"   # user, team platform (budget: disable)
DAVE = "dave@acme.test"     # user, team platform
EVE = "eve@acme.test"       # user, team growth (budget: alert only; no self-hosted reroute)
BOB = "bob@acme.test"       # team_lead of platform (approves)

TOK = {
    CAROL: "md-carol-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
    DAVE: "md-dave-token-4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
    EVE: "md-eve-token-5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
    BOB: "md-bob-token-6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
}
ADMIN = gwtest.ADMIN_TOKEN
SSN = "123-45-6789"          # national id detector -> confidential

MOCK = MockLLM().start()      # primary upstream (all three formats)
BACKUP = MockLLM().start()    # a second OpenAI-compatible provider, for fallbacks
SMTP = SmtpSink().start()


def _providers():
    def prov(name, api, base, models, **kw):
        p = {"name": name, "api": api, "base_url": base, "models": models}
        p.update(kw)
        return p
    return [
        prov("openai", "openai", MOCK.url + "/v1",
             [{"name": "gpt-4o", "upstream": "gpt-4o-2024-08-06", "input_per_mtok": 2.5,
               "output_per_mtok": 10},
              {"name": "pricey", "input_per_mtok": 100000, "output_per_mtok": 100000}],
             api_key="sk-test-openai", max_classification="internal", region="us-east-1",
             retries=2, retry_base_ms=50),
        prov("anthropic", "anthropic", MOCK.url,
             [{"name": "claude", "input_per_mtok": 3, "output_per_mtok": 15}],
             api_key="sk-ant-test", retries=0),
        prov("ollama", "ollama", MOCK.url, [{"name": "llama3"}], kind="self_hosted",
             region="eu-west-1"),
        prov("flaky", "openai", MOCK.url + "/v1", [{"name": "m"}], retries=1,
             retry_base_ms=20, fallback=["backup/m"]),
        prov("backup", "openai", BACKUP.url + "/v1", [{"name": "m"}], retries=0),
        prov("slow", "openai", MOCK.url + "/v1", [{"name": "m"}], retries=0, timeout_ms=700),
        prov("limited", "openai", MOCK.url + "/v1", [{"name": "m"}],
             limits={"max_concurrent": 1, "max_queue": 100, "max_wait_ms": 30000}),
        prov("tiny", "openai", MOCK.url + "/v1", [{"name": "m"}], retries=0,
             limits={"max_concurrent": 1, "max_queue": 1, "max_wait_ms": 400}),
    ]


def _bundle():
    d = gwtest.tempdir("gwtest-models-")
    path = os.path.join(d, "policies.yaml")
    bundle = [
        {"scope": "enterprise", "domain": "models",
         "content": {"allowed_providers": ["*"], "allowed_models": ["*"],
                     "sensitive_data_model": "ollama/llama3",
                     "max_classification_external": "internal"}},
        # the growth team has no self-hosted route: confidential data is refused there
        {"scope": "team", "scope_id": "growth", "domain": "models",
         "content": {"sensitive_data_model": None}},
        {"scope": "enterprise", "domain": "actions",
         "content": {"default_autonomy": "approve",
                     "autonomous": ["memory_read", "memory_write", "send_message"]}},
        {"scope": "team", "scope_id": "growth", "domain": "data",
         "content": {"redact_external": True}},
        {"scope": "team", "scope_id": "growth", "domain": "actions",
         "content": {"per_action": {"memory_write": "approve"}}},
    ]
    with open(path, "w") as f:
        f.write(gwtest.to_yaml(bundle) + "\n")
    return path


def _config():
    cfg = gwtest.seed_config()
    cfg["identity"] = {
        "org_units": ["engineering", "engineering/platform", "marketing", "marketing/growth"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "growth", "org_unit": "marketing/growth"}],
        "users": [
            {"id": CAROL, "email": CAROL, "role": "user", "team": "platform"},
            {"id": DAVE, "email": DAVE, "role": "user", "team": "platform"},
            {"id": EVE, "email": EVE, "role": "user", "team": "growth"},
            {"id": BOB, "email": BOB, "role": "team_lead", "team": "platform"},
        ],
    }
    scopes = ["channels:engineering/*", "channels:marketing/*", "memory:read", "memory:write",
              "models:invoke"]
    for user, secret in TOK.items():
        cfg["auth"]["tokens"].append({"id": user.split("@")[0], "token": secret,
                                      "scopes": scopes + (["stats:read"]
                                                          if user == BOB else []),
                                      "owner": user})
    cfg["policy"] = {"bundle": _bundle(), "approver": "team_lead"}
    cfg["models"] = {"providers": _providers(), "max_tool_rounds": 4}
    cfg["costManagement"] = {
        "alertThreshold": 0.5, "alertEmail": "ops@acme.test",
        "alertWebhook": MOCK.url + "/webhook/budget",
        "smtp": {"url": "smtp://127.0.0.1:%d" % SMTP.port, "from": "gateway@acme.test"},
        "budgets": {"platform": {"monthlyUsdLimit": 5, "onExceed": "disable",
                                 "alertEmail": "platform-leads@acme.test"},
                    "growth": {"monthlyUsdLimit": 5, "onExceed": "alert"}},
    }
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o",
         "system_prompt": "You are the platform team's assistant.",
         "tools": ["memory_read", "memory_write", "send_message"]},
        {"name": "marketing/assistant", "channel": "marketing/assistant",
         "memory_path": "./memory/marketing/assistant.md", "model": "openai/gpt-4o",
         "tools": ["memory_write"]},
    ]
    return cfg


GW = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())


# --------------------------------------------------------------------------------------------
# helpers

def chat(model, text, token=TOK[CAROL], stream=False, extra=None, headers=None, timeout=20):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra or {})
    return GW().post("/v1/chat/completions", body, token=token, headers=headers,
                     timeout=timeout)


def sse_events(resp):
    """The data payloads of an SSE body, in order (raw strings)."""
    out = []
    for block in resp.text.split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                out.append(line[6:])
    return out


def stream_text(events):
    text = ""
    for e in events:
        if e == "[DONE]":
            continue
        c = json.loads(e)
        for ch in c.get("choices", []):
            text += (ch.get("delta") or {}).get("content") or ""
    return text


def audit_details(request_id, type_):
    rows = GW().audit_rows_for(request_id)
    for r in rows:
        if r["type"] == type_:
            return r
    raise AssertionError("no %s event for %s in %r" % (type_, request_id,
                                                       [r["type"] for r in rows]))


def reset():
    MOCK.reset()
    BACKUP.reset()


# --------------------------------------------------------------------------------------------
# the proxy, three wire formats

def test_models_are_listed_with_agents():
    r = GW().get("/v1/models", token=TOK[CAROL])
    assert r.status == 200, r
    ids = [m["id"] for m in r.json()["data"]]
    for want in ("openai/gpt-4o", "anthropic/claude", "ollama/llama3",
                 "openclaw/engineering/assistant"):
        assert want in ids, ids
    # carol's org unit (engineering) is a member of engineering only: marketing's agent is
    # not hers to see, although her token's scopes name marketing channels
    assert "openclaw/marketing/assistant" not in ids, ids
    assert r.json()["object"] == "list"
    ids = [m["id"] for m in GW().get("/v1/models", token=TOK[EVE]).json()["data"]]
    assert "openclaw/marketing/assistant" in ids and "openclaw/engineering/assistant" not in ids


def test_openai_completion_is_proxied_metered_and_audited():
    reset()
    r = chat("openai/gpt-4o", "hello there")
    assert r.status == 200, r
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "echo: hello there"
    assert body["model"] == "openai/gpt-4o"
    assert body["usage"]["completion_tokens"] == 3
    assert r.header("X-OpenClaw-Model") == "openai/gpt-4o"
    up = MOCK.last_request("/v1/chat/completions")
    assert up["body"]["model"] == "gpt-4o-2024-08-06"        # the upstream name
    assert up["headers"]["authorization"] == "Bearer sk-test-openai"
    ev = audit_details(r.header("X-Request-Id"), "model.completion")
    d = ev["details"]
    assert d["served_by"] == "openai/gpt-4o" and d["rerouted"] is False
    assert d["usage"]["completion_tokens"] == 3 and d["usage"]["reported"] is True
    assert d["cost_usd"] > 0 and d["policy"]["effect"] == "allow"
    assert "sk-test-openai" not in json.dumps(ev)


def test_openai_stream_framing_reaches_the_client():
    reset()
    r = chat("openai/gpt-4o", "one two three four", stream=True)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/event-stream")
    raw = r.text
    assert raw.endswith("data: [DONE]\n\n"), raw[-80:]
    ev = sse_events(r)
    assert ev[-1] == "[DONE]"
    chunks = [json.loads(e) for e in ev[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "openai/gpt-4o" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert stream_text(ev) == "echo: one two three four"
    assert not any("usage" in c and not c["choices"] for c in chunks), "usage not asked for"
    # the upstream was asked for usage anyway (metering)
    up = MOCK.last_request("/v1/chat/completions")
    assert up["body"]["stream"] is True
    assert up["body"]["stream_options"]["include_usage"] is True


def test_stream_usage_chunk_when_asked():
    r = chat("openai/gpt-4o", "a b", stream=True,
             extra={"stream_options": {"include_usage": True}})
    chunks = [json.loads(e) for e in sse_events(r)[:-1]]
    usage = [c for c in chunks if c.get("usage") and not c["choices"]]
    assert len(usage) == 1 and usage[0]["usage"]["completion_tokens"] == 3, chunks


def test_anthropic_messages_api_both_ways():
    reset()
    body = {"model": "anthropic/claude", "max_tokens": 100,
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "hi anthropic"}]}
    r = GW().post("/v1/chat/completions", body, token=TOK[CAROL])
    assert r.status == 200, r
    assert r.json()["choices"][0]["message"]["content"] == "echo: hi anthropic"
    assert r.json()["usage"]["prompt_tokens"] > 0
    up = MOCK.last_request("/v1/messages")
    assert up["headers"]["x-api-key"] == "sk-ant-test"
    assert up["headers"]["anthropic-version"]
    assert up["body"]["system"] == "Be brief." and up["body"]["model"] == "claude"
    assert all(m["role"] != "system" for m in up["body"]["messages"])
    body["stream"] = True
    r = GW().post("/v1/chat/completions", body, token=TOK[CAROL])
    ev = sse_events(r)
    assert ev[-1] == "[DONE]" and stream_text(ev) == "echo: hi anthropic", ev


def test_ollama_both_ways():
    reset()
    r = chat("ollama/llama3", "local please")
    assert r.status == 200, r
    assert r.json()["choices"][0]["message"]["content"] == "echo: local please"
    assert MOCK.last_request("/api/chat")["body"]["stream"] is False
    r = chat("ollama/llama3", "local stream", stream=True)
    ev = sse_events(r)
    assert ev[-1] == "[DONE]" and stream_text(ev) == "echo: local stream", ev


def test_tool_calls_come_back_in_openai_shape():
    for model in ("openai/gpt-4o", "anthropic/claude", "ollama/llama3"):
        r = chat(model, 'TOOL:get_weather:{"city":"Paris"}', extra={
            "tools": [{"type": "function", "function": {
                "name": "get_weather", "parameters": {"type": "object"}}}]})
        assert r.status == 200, (model, r)
        msg = r.json()["choices"][0]["message"]
        call = msg["tool_calls"][0]
        assert call["function"]["name"] == "get_weather", (model, msg)
        assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}, (model, msg)
        assert r.json()["choices"][0]["finish_reason"] == "tool_calls", (model, r.json())


# --------------------------------------------------------------------------------------------
# classification routing

def test_confidential_data_is_rerouted_to_the_self_hosted_model():
    reset()
    r = chat("openai/gpt-4o", "employee SSN is %s" % SSN)
    assert r.status == 200, r
    assert r.header("X-OpenClaw-Rerouted") == "openai/gpt-4o -> ollama/llama3", r.headers
    assert r.header("X-OpenClaw-Model") == "ollama/llama3"
    assert SSN in r.json()["choices"][0]["message"]["content"]
    assert not MOCK.requests("/v1/chat/completions"), "confidential data left for OpenAI"
    assert MOCK.last_request("/api/chat")["body"]["model"] == "llama3"
    d = audit_details(r.header("X-Request-Id"), "model.completion")
    assert d["details"]["rerouted"] is True and d["classification"] == "confidential"
    assert "rerouted" in d["details"]["policy"]["reason"]


def test_client_may_raise_but_not_lower_the_classification():
    reset()
    r = chat("openai/gpt-4o", "nothing secret", headers={"X-OpenClaw-Classification":
                                                          "restricted"})
    assert r.status == 200 and r.header("X-OpenClaw-Model") == "ollama/llama3", r
    r = chat("openai/gpt-4o", "SSN %s" % SSN, headers={"X-OpenClaw-Classification": "public"})
    assert r.header("X-OpenClaw-Model") == "ollama/llama3", r
    assert not MOCK.requests("/v1/chat/completions")
    r = chat("openai/gpt-4o", "x", headers={"X-OpenClaw-Classification": "secret"})
    assert_error(r, 400)


def test_confidential_data_is_denied_without_a_self_hosted_route():
    reset()
    r = chat("openai/gpt-4o", "SSN %s" % SSN, token=TOK[EVE])
    assert r.status == 403, r
    err = r.json()["error"]
    assert err["type"] == "permission_error"
    assert "no self-hosted model" in err["message"], err
    assert not MOCK.requests(), "nothing may reach any provider"
    r = chat("openai/gpt-4o", "harmless", token=TOK[EVE])
    assert r.status == 200, r


def test_redaction_obligation_masks_findings_before_they_leave():
    reset()
    r = chat("openai/gpt-4o", "mail jane.doe@example.com or call +1 415 555 0100",
             token=TOK[EVE])
    assert r.status == 200, r
    sent = MOCK.last_request("/v1/chat")["body"]["messages"][-1]["content"]
    assert "jane.doe@example.com" not in sent and "[REDACTED:email]" in sent, sent
    assert "555" not in sent, sent
    d = audit_details(r.header("X-Request-Id"), "model.completion")["details"]
    assert d["redacted"] == 2, d
    # teams without the obligation send the text as written
    r = chat("openai/gpt-4o", "mail jane.doe@example.com", token=TOK[CAROL])
    assert "jane.doe@example.com" in MOCK.last_request("/v1/chat")["body"]["messages"][-1][
        "content"]


# --------------------------------------------------------------------------------------------
# errors, retries, fallbacks

def test_errors_use_the_openai_envelope():
    r = GW().post("/v1/chat/completions", {"model": "openai/gpt-4o", "messages": []},
                  token=TOK[CAROL])
    assert r.status == 400 and r.json()["error"]["type"] == "invalid_request_error", r
    r = chat("openai/nope", "x")
    assert r.status == 404 and r.json()["error"]["type"] == "not_found_error", r
    assert "not configured" in r.json()["error"]["message"]
    r = GW().post("/v1/chat/completions", {"model": "openai/gpt-4o",
                                           "messages": [{"role": "user", "content": "x"}]})
    assert r.status == 401 and r.json()["error"]["type"] == "authentication_error", r
    r = chat("openai/gpt-4o", "x", token=gwtest.ENG_TOKEN)  # no models:invoke
    assert r.status == 403 and "models:invoke" in r.json()["error"]["message"], r
    r = GW().post("/v1/chat/completions", {"model": "openai/gpt-4o", "n": 3,
                                           "messages": [{"role": "user", "content": "x"}]},
                  token=TOK[CAROL])
    assert r.status == 400, r


def test_429_is_retried_after_retry_after():
    reset()
    MOCK.script({"status": 429, "retry_after": 1}, path="/v1/chat")
    t0 = time.time()
    r = chat("openai/gpt-4o", "patience")
    assert r.status == 200, r
    assert time.time() - t0 >= 0.9, "Retry-After was not honoured"
    assert len(MOCK.requests("/v1/chat/completions")) == 2
    d = audit_details(r.header("X-Request-Id"), "model.completion")["details"]
    assert d["attempts"] == 2


def test_persistent_5xx_falls_back_to_the_next_provider():
    reset()
    MOCK.script({"status": 500, "times": 2}, path="/v1/chat")
    r = chat("flaky/m", "fall back")
    assert r.status == 200, r
    assert len(MOCK.requests("/v1/chat/completions")) == 2       # first try + 1 retry
    assert len(BACKUP.requests("/v1/chat/completions")) == 1
    d = audit_details(r.header("X-Request-Id"), "model.completion")["details"]
    assert d["served_by"] == "backup/m" and d["fallbacks"] == ["backup/m"], d


def test_upstream_failure_without_fallback_is_a_clear_502():
    reset()
    MOCK.script({"status": 503, "times": 3}, path="/v1/messages")
    r = chat("anthropic/claude", "down")
    assert r.status == 502, r
    assert "anthropic answered 503" in r.json()["error"]["message"], r
    assert r.json()["error"]["type"] == "api_error"


def test_malformed_and_truncated_answers_are_retried_before_streaming():
    reset()
    MOCK.script({"malformed": True}, path="/v1/chat")
    r = chat("openai/gpt-4o", "again")
    assert r.status == 200 and len(MOCK.requests("/v1/chat")) == 2, r
    reset()
    MOCK.script({"truncate_after": 0}, path="/v1/chat")
    r = chat("openai/gpt-4o", "cut early", stream=True)
    ev = sse_events(r)
    assert ev[-1] == "[DONE]" and stream_text(ev) == "echo: cut early", ev


def test_truncated_stream_after_chunks_ends_with_an_error_event():
    reset()
    MOCK.script({"truncate_after": 3}, path="/v1/chat")
    r = chat("openai/gpt-4o", "one two three four five six", stream=True)
    assert r.status == 200, r
    ev = sse_events(r)
    assert ev[-1] != "[DONE]", ev
    last = json.loads(ev[-1])
    assert "error" in last and "before the answer was complete" in last["error"]["message"], last
    assert len(MOCK.requests("/v1/chat")) == 1, "a started stream must not be retried"


def test_slow_provider_times_out():
    reset()
    MOCK.script({"delay_ms": 3000}, path="/v1/chat")
    t0 = time.time()
    r = chat("slow/m", "tick tock")
    assert r.status == 504, r
    assert time.time() - t0 < 2.5
    assert r.json()["error"]["code"] == "upstream_timeout"


def test_client_disconnect_cancels_the_upstream_stream():
    reset()
    MOCK.script({"chunk_delay_ms": 150, "chunks": 60}, path="/v1/chat")
    body = json.dumps({"model": "openai/gpt-4o", "stream": True,
                       "messages": [{"role": "user", "content": "long story"}]}).encode()
    s = socket.create_connection(("127.0.0.1", GW().port), timeout=10)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              TOK[CAROL].encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
              str(len(body)).encode() + b"\r\n\r\n" + body)
    got = b""
    while got.count(b"data: ") < 3:
        got += s.recv(4096)
    s.close()
    gwtest.wait_until(lambda: MOCK.state()["client_disconnects"] >= 1, timeout=5,
                      what="the gateway to drop the upstream stream")
    st = MOCK.state()
    assert st["streams_completed"] == 0, st
    gwtest.wait_until(lambda: MOCK.state()["active_streams"] == 0, timeout=5)


# --------------------------------------------------------------------------------------------
# fair concurrency

def test_one_heavy_user_does_not_starve_another():
    GW()  # started before the threads (Lazy is not thread-safe)
    reset()
    MOCK.set_hold(True)
    results = []

    def send(token, text):
        results.append(chat("limited/m", text, token=token, timeout=60).status)

    threads = [threading.Thread(target=send, args=(TOK[CAROL], "carol-%d" % i))
               for i in range(8)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    gwtest.wait_until(lambda: MOCK.state()["held"] == 1, what="the first call upstream")
    for i in range(2):
        t = threading.Thread(target=send, args=(TOK[DAVE], "dave-%d" % i))
        threads.append(t)
        t.start()
        time.sleep(0.05)
    time.sleep(0.3)
    st = GW().get("/api/v1/status", token=ADMIN).json()["model_queues"]["limited"]
    assert st["running"] == 1 and st["queued"] == 9, st
    last = None
    for _ in range(10):
        # one call at a time reaches the provider: release it, wait for the next one
        gwtest.wait_until(lambda: MOCK.state()["held_texts"][:1] not in ([], [last]),
                          timeout=10, what="the next admitted call")
        last = MOCK.state()["held_texts"][0]
        MOCK.release(1)
    for t in threads:
        t.join(30)
    MOCK.set_hold(False)
    assert results.count(200) == 10, results
    order = MOCK.user_texts("/v1/chat")
    # carol-0 was running; the next slots alternate between the two users
    assert order.index("dave-0") <= 3 and order.index("dave-1") <= 5, order
    st = GW().get("/api/v1/status", token=ADMIN).json()["model_queues"]["limited"]
    assert st["admitted"] >= 10 and st["wait_max_ms"] > 0, st


def test_queue_limits_answer_429_with_retry_after():
    GW()
    reset()
    MOCK.set_hold(True)
    out = {}

    def send(i):
        out[i] = chat("tiny/m", "t%d" % i, timeout=30)

    ths = [threading.Thread(target=send, args=(i,)) for i in range(3)]
    for t in ths:
        t.start()
        time.sleep(0.1)
    for t in ths[1:]:
        t.join(10)
    MOCK.set_hold(False)
    ths[0].join(10)
    statuses = sorted(out[i].status for i in range(3))
    assert statuses == [200, 429, 429], statuses
    for i in (1, 2):
        assert out[i].status == 429 and int(out[i].header("Retry-After")) >= 1, out[i]
        assert out[i].json()["error"]["type"] == "rate_limit_error"
    st = GW().get("/api/v1/status", token=ADMIN).json()["model_queues"]["tiny"]
    assert st["rejected"] >= 1 and st["expired"] >= 1, st


# --------------------------------------------------------------------------------------------
# budgets and costs

def test_budget_alert_then_disable_blocks_the_workspace():
    reset()
    statuses = []
    for i in range(12):
        r = chat("openai/pricey", "spend %d" % i)
        statuses.append(r.status)
        if r.status == 402:
            break
    assert 402 in statuses and statuses.count(200) >= 2, statuses
    err = r.json()["error"]
    assert err["type"] == "insufficient_quota" and "platform" in err["message"], err
    # further calls of the workspace are refused before reaching a provider
    n = len(MOCK.requests("/v1/chat"))
    assert chat("openai/gpt-4o", "more?", token=TOK[DAVE]).status == 402
    assert len(MOCK.requests("/v1/chat")) == n
    SMTP.wait_for(2, timeout=10)
    subjects = [m["subject"] for m in SMTP.messages]
    assert any("platform" in s for s in subjects), subjects
    rcpts = [rc for m in SMTP.messages for rc in m["to"]]
    assert "platform-leads@acme.test" in rcpts, rcpts
    def kinds():
        hooks = [h["body"] for h in MOCK.requests("/webhook")]
        return {h["type"] for h in hooks if h.get("workspace") == "platform"}
    gwtest.wait_until(lambda: kinds() == {"budget.threshold", "budget.exceeded"}, timeout=10,
                      what="both budget webhooks")


def test_alert_only_budget_keeps_working():
    before = len(SMTP.messages)
    for i in range(12):
        r = chat("openai/pricey", "growth %d" % i, token=TOK[EVE])
        assert r.status == 200, r
    gwtest.wait_until(lambda: len(SMTP.messages) >= before + 2, timeout=10,
                      what="threshold and exceeded mails for growth")
    growth = [m for m in SMTP.messages[before:] if "growth" in m["subject"]]
    assert len(growth) == 2, [m["subject"] for m in SMTP.messages]


def test_cost_report_by_workspace_user_and_model():
    period = time.strftime("%Y-%m", time.gmtime())
    r = GW().get("/api/v1/costs?period=" + period, token=ADMIN)
    assert r.status == 200, r
    rep = r.json()
    ws = {w["workspace"]: w for w in rep["by_workspace"]}
    assert ws["platform"]["total_usd"] >= 5 and ws["growth"]["total_usd"] >= 5, rep
    users = {u["user"] for u in rep["by_user"]}
    assert CAROL in users and EVE in users, rep
    models = {m["model"] for m in rep["by_model"]}
    assert "openai/pricey" in models or "pricey" in models, rep
    r = GW().get("/api/v1/costs?period=" + period + "&workspace=growth", token=ADMIN)
    assert [w["workspace"] for w in r.json()["by_workspace"]] == ["growth"], r.json()
    # bob leads platform: he sees his team's workspace, and nothing of growth's spend
    rep = GW().get("/api/v1/costs?period=" + period, token=TOK[BOB]).json()
    assert [w["workspace"] for w in rep["by_workspace"]] == ["platform"], rep
    assert EVE not in {u["user"] for u in rep["by_user"]}, rep
    rep = GW().get("/api/v1/costs?period=" + period + "&workspace=growth", token=TOK[BOB]).json()
    assert rep["by_workspace"] == [] and rep["total_usd"] == 0, rep
    assert_error(GW().get("/api/v1/costs?period=2026-13", token=TOK[BOB]), 400)
    assert_error(GW().get("/api/v1/costs", token=TOK[CAROL]), 403)
    res = gwtest.cli("stats", "costs", "--period", period, "--workspace", "growth",
                     url=GW().url, token=ADMIN)
    assert res.rc == 0 and "growth" in res.out, res


# --------------------------------------------------------------------------------------------
# agents

def test_agent_turn_through_the_openai_endpoint():
    reset()
    r = chat("openclaw/engineering/assistant", "who are you", token=TOK[DAVE])
    assert r.status in (200, 402), r   # dave's workspace may be disabled by the budget test
    r = chat("openclaw/marketing/assistant", "who are you", token=TOK[EVE])
    assert r.status == 200, r
    assert r.json()["choices"][0]["message"]["content"] == "echo: who are you"
    assert r.json()["model"] == "openclaw/marketing/assistant"
    up = MOCK.last_request("/v1/chat")["body"]
    assert up["messages"][0]["role"] == "system"
    assert [t["function"]["name"] for t in up["tools"]] == ["memory_write"]
    r = chat("openclaw/marketing/assistant", "stream me", token=TOK[EVE], stream=True)
    ev = sse_events(r)
    assert ev[-1] == "[DONE]" and stream_text(ev) == "echo: stream me", ev
    r = chat("openclaw/engineering/assistant", "not yours", token=gwtest.MKT_TOKEN)
    assert r.status == 403, r


def test_agent_tool_call_needs_approval_and_says_so():
    reset()
    r = GW().post("/api/v1/channels/marketing/assistant/messages",
                  {"content": 'TOOL:memory_write:{"content":"campaign notes"}'},
                  token=TOK[EVE])
    assert r.status == 200, r
    body = r.json()
    assert body["tools"][0]["status"] == "pending_approval", body
    assert "apr_" in body["reply"] and "approval" in body["reply"], body
    r = GW().get("/api/v1/approvals", token=TOK[EVE])
    assert any(a["action"]["tool"] == "memory_write" for a in r.json()["approvals"]), r.json()


def test_agent_tool_loop_writes_memory_streaming_events():
    reset()
    # the platform workspace is over budget (disable): use a fresh workspace via growth? no —
    # engineering/assistant runs in workspace "engineering", which has no budget
    r = GW().post("/api/v1/channels/engineering/assistant/messages",
                  {"content": 'TOOL:memory_write:{"content":"remember the rollout"}',
                   "stream": True}, token=TOK[DAVE])
    assert r.status == 200, r
    # each event: its id ("<stream id>:<n>", for a resume), its name and its data
    events = [dict(ln.split(": ", 1) for ln in b.split("\n"))
              for b in r.text.split("\n\n") if b.strip()]
    assert [e["id"].rsplit(":", 1)[1] for e in events] == [
        str(n) for n in range(1, len(events) + 1)], events
    names = [e["event"] for e in events]
    assert "tool" in names and names[-1] == "done", names
    tool = json.loads(events[names.index("tool")]["data"])
    assert tool["tool"] == "memory_write" and tool["status"] == "executed", tool
    done = json.loads(events[-1]["data"])
    assert done["reply"].startswith("tool said:"), done
    r = GW().get("/api/v1/memory/engineering/assistant", token=TOK[DAVE])
    assert r.status == 200 and "remember the rollout" in r.text, r
    # the model never chose the namespace: the tool acted on its own agent's memory
    ups = MOCK.requests("/v1/chat")
    assert len(ups) == 2 and ups[1]["body"]["messages"][-1]["role"] == "tool", ups


def test_conversations_are_kept_per_user_and_session():
    reset()
    url = "/api/v1/channels/engineering/assistant/messages"
    r1 = GW().post(url, {"content": "my name is Ada", "session": "s1"}, token=TOK[DAVE])
    assert r1.status == 200, r1
    r2 = GW().post(url, {"content": "what is my name", "session": "s1"}, token=TOK[DAVE])
    assert r2.status == 200, r2
    assert r1.json()["conversation_id"] == r2.json()["conversation_id"]
    sent = MOCK.last_request("/v1/chat")["body"]["messages"]
    texts = [m.get("content") for m in sent]
    assert texts[1:] == ["my name is Ada", "echo: my name is Ada", "what is my name"], texts
    # another session, and another user on the same session name, start empty
    r3 = GW().post(url, {"content": "fresh", "session": "s2"}, token=TOK[DAVE])
    assert r3.json()["conversation_id"] != r1.json()["conversation_id"]
    assert len(MOCK.last_request("/v1/chat")["body"]["messages"]) == 2
    r4 = GW().post(url, {"content": "hello", "session": "s1"}, token=TOK[BOB])
    assert r4.json()["conversation_id"] != r1.json()["conversation_id"]
    assert [m.get("content") for m in MOCK.last_request("/v1/chat")["body"]["messages"]][1:] \
        == ["hello"]
    assert_error(GW().post(url, {"content": "x", "session": "../etc"}, token=TOK[DAVE]), 400)


def test_cli_send_prints_the_reply_and_chat_streams():
    reset()
    res = gwtest.cli("send", "engineering/assistant", "hello cli", "--session", "cli",
                     url=GW().url, token=TOK[DAVE])
    assert res.rc == 0 and res.out.strip() == "echo: hello cli", res
    MOCK.script({"reply": "line one\nline two \x1b[31mred\x1b[0m"}, path="/v1/chat")
    res = gwtest.cli("chat", "engineering/assistant", "--session", "cli", url=GW().url,
                     token=TOK[DAVE],
                     stdin="first question\nTOOL:memory_read:{}\n/quit\nnever sent\n")
    assert res.rc == 0, res
    assert "line one\nline two" in res.out and "\x1b" not in res.out, res
    assert "[tool memory_read: " in res.out and "tool said:" in res.out, res
    assert "never sent" not in json.dumps(MOCK.user_texts("/v1/chat"))
    # the conversation went on from the send above (same session)
    first = MOCK.requests("/v1/chat")[1]["body"]["messages"]
    assert any(m.get("content") == "hello cli" for m in first), first


# --------------------------------------------------------------------------------------------
# the official SDK

def test_openai_npm_sdk_lists_completes_and_streams():
    reset()
    sdk = os.path.join(gwtest.SOURCE_DIR, "tests", "integration", "sdk")
    env = dict(os.environ, OPENAI_BASE_URL=GW().url + "/v1", OPENAI_API_KEY=TOK[EVE])
    p = subprocess.run(["node", os.path.join(sdk, "openai_sdk_check.mjs"), "ollama/llama3"],
                       cwd=sdk, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    result = json.loads(p.stdout.strip().split("\n")[-1])
    assert "ollama/llama3" in result["models"], result
    assert result["retrieved"] == {"id": "ollama/llama3", "object": "model",
                                   "owned_by": "ollama"}, result
    assert result["completion"]["content"].startswith("echo:"), result
    assert result["stream"]["text"].startswith("echo:") and result["stream"]["chunks"] > 1


if __name__ == "__main__":
    gwtest.main(globals())
