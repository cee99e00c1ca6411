# SPDX-License-Identifier: MIT
"""The starter policy (docs/POLICY.md "Starter policy"): the first start of an empty store writes
three enterprise policies authored by `system`, versioned and audited; they are written once
(a restart keeps one copy, a deprecated one stays gone); `policy.starter: false` writes none.
Under them reads run, writes wait for an approval, data above internal never reaches an external
provider, and a refusal names the deciding policy and the command that changes it."""

import gwtest
from gwtest import ADMIN_TOKEN
from mock_llm import MockLLM

MOCK = MockLLM().start()
SSN = "123-45-6789"  # the national-id detector: confidential


def _config(starter=True):
    cfg = gwtest.seed_config()
    cfg["policy"] = {"starter": starter}
    cfg["models"] = {"providers": [
        {"name": "cloud", "api": "openai", "base_url": MOCK.url + "/v1", "api_key": "sk-test",
         "models": [{"name": "gpt-4o"}]},
    ]}
    return cfg


def _policies(g):
    r = g.get("/api/v1/policies", token=ADMIN_TOKEN)
    assert r.status == 200, r
    return {p["domain"]: p for p in r.json()["policies"]}


def _created_events(g):
    return [e for e in g.audit_query(limit=1000)["events"] if e["type"] == "policy.created"]


START = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())


def test_first_start_writes_three_enterprise_policies_by_system():
    g = START()
    pol = _policies(g)
    assert sorted(pol) == ["actions", "data", "models"], pol
    for p in pol.values():
        assert (p["scope"], p["author"], p["version"], p["status"]) == (
            "enterprise", "system", 1, "active"), p
    assert pol["models"]["content"]["max_classification_external"] == "internal", pol["models"]
    assert pol["actions"]["content"]["default_autonomy"] == "approve", pol["actions"]
    assert pol["actions"]["content"]["autonomous"] == ["memory_read"], pol["actions"]
    assert pol["data"]["content"]["external_sharing_max"] == "internal", pol["data"]
    # the audit writer commits in batches: the events follow the policies within a moment
    events = gwtest.wait_until(lambda: len(_created_events(g)) >= 3 and _created_events(g),
                               what="three policy.created events")
    assert len(events) == 3 and {e["actor"] for e in events} == {"system"}, events


def test_reads_run_and_writes_wait_for_an_approval():
    g = START()
    args = {"namespace": "engineering", "agent": "code-reviewer"}
    r = g.post("/api/v1/tools/invoke", {"tool": "memory_read", "args": args}, token=ADMIN_TOKEN)
    # it ran: nothing has been written yet (a policy refusal is 403, a parked read 202)
    assert r.status == 404 and "not been written" in r.text, r
    r = g.post("/api/v1/tools/invoke",
               {"tool": "memory_write", "args": dict(args, content="notes")}, token=ADMIN_TOKEN)
    assert r.status == 202 and r.json()["status"] == "pending_approval", r
    assert r.json()["decision"]["policy"], r.json()


def test_internal_data_reaches_the_external_model_and_confidential_is_refused_by_name():
    g = START()
    body = {"model": "cloud/gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
    r = g.post("/v1/chat/completions", body, token=ADMIN_TOKEN)
    assert r.status == 200, r
    body["messages"][0]["content"] = "my id is " + SSN
    before = len(MOCK.requests("/v1/chat/completions"))
    r = g.post("/v1/chat/completions", body, token=ADMIN_TOKEN)
    assert r.status == 403, r
    msg = r.json()["error"]["message"]
    models_id = _policies(g)["models"]["id"]
    assert models_id in msg and "openclaw policy" in msg, msg
    assert len(MOCK.requests("/v1/chat/completions")) == before, "confidential data left"


def test_written_once_a_restart_keeps_one_copy_and_a_deprecated_policy_stays_gone():
    cfg = _config()
    g = gwtest.Gateway(cfg).start()
    try:
        data_id = _policies(g)["data"]["id"]
        r = g.req("DELETE", "/api/v1/policies/%s?change_reason=not+for+us" % data_id,
                  token=ADMIN_TOKEN)
        assert r.status == 200 and r.json()["status"] == "deprecated", r
        g.stop()
        g.start()
        pol = _policies(g)
        assert pol["models"]["version"] == 1 and pol["actions"]["version"] == 1, pol
        assert "data" not in pol or pol["data"]["status"] == "deprecated", pol
        assert len(_created_events(g)) == 3, "the starter set was written again"
    finally:
        g.stop()


def test_starter_false_writes_nothing():
    g = gwtest.Gateway(_config(starter=False)).start()
    try:
        assert _policies(g) == {}
        assert _created_events(g) == []
    finally:
        g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
