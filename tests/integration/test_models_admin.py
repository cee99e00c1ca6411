# SPDX-License-Identifier: MIT
"""Providers and models managed at run time (issue 13 item 3; docs/MODELS.md "Providers and
models at run time", docs/API.md "Providers and models"): added, changed, tested, disabled and
removed through the API and the CLI by administrators only, audited before each change, API
keys write-only (never in a reply, the audit trail or the logs), kept in the store across a
restart, applied to the next call without a restart; gateway.yaml's entries shown as such and
read-only; an agent registered through the API given a model; GET /v1/models/{id} in OpenAI's
shape; and a call that fails after its fallbacks naming every target tried. The upstreams are
local servers speaking the OpenAI wire format (mock_llm.py)."""

import json
import os
import socket

import gwtest
from gwtest import assert_error
from mock_llm import MockLLM

ADMIN = gwtest.ADMIN_TOKEN
LEAD = "ma-lead-token-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"    # team_lead: models:read
USER = "ma-user-token-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e"    # user: models:invoke only
CONFIG_KEY = "sk-config-secret-000011112222"
RUNTIME_KEY = "sk-runtime-secret-77778888XyZ9"
NEW_KEY = "sk-rotated-secret-55556666AbC1"

MOCK = MockLLM().start()                            # the file's provider
LOCAL = MockLLM(openai_key=RUNTIME_KEY).start()     # a run-time provider (checks its key)
BACKUP = MockLLM().start()


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _config():
    cfg = gwtest.seed_config()
    cfg["identity"] = {
        "org_units": ["engineering"],
        "teams": [{"id": "platform", "org_unit": "engineering"}],
        "users": [{"id": "lead@acme.test", "role": "team_lead", "team": "platform"},
                  {"id": "dev@acme.test", "role": "user", "team": "platform"}],
    }
    cfg["auth"]["tokens"] += [
        {"id": "lead", "token": LEAD, "owner": "lead@acme.test",
         "scopes": ["models:*", "agents:write", "agents:read", "channels:engineering/*"]},
        {"id": "dev", "token": USER, "owner": "dev@acme.test",
         "scopes": ["models:*", "channels:engineering/*"]},
    ]
    cfg["policy"] = {"starter": False, "bundle": gwtest.policy_bundle([
        {"scope": "enterprise", "domain": "models",
         "content": {"allowed_providers": ["*"], "allowed_models": ["*"]}}])}
    cfg["models"] = {"providers": [
        {"name": "openai", "api": "openai", "base_url": MOCK.url + "/v1", "api_key": CONFIG_KEY,
         "models": [{"name": "gpt-4o", "input_per_mtok": 2.5, "output_per_mtok": 10}]}]}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o"}]
    return cfg


GW = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())


def chat(model, text, token=ADMIN):
    return GW().post("/v1/chat/completions",
                     {"model": model, "messages": [{"role": "user", "content": text}]},
                     token=token, timeout=20)


def patch(path, body, token=ADMIN):
    return GW().req("PATCH", path, body=body, token=token)


def delete(path, token=ADMIN):
    return GW().req("DELETE", path, token=token)


def local_provider(name="local", **over):
    # "localhost": a host the file does not name, reached because the primary tenant's
    # administrators added it (the egress policy trusts their providers' hosts)
    p = {"name": name, "api": "openai", "base_url": "http://localhost:%d/v1/" % LOCAL.port,
         "api_key": RUNTIME_KEY, "kind": "self_hosted",
         "models": [{"name": "llama", "upstream": "llama3.2", "input_per_mtok": 1}]}
    p.update(over)
    return p


def secrets_nowhere(*extra):
    """No key (or its body) in the audit trail, the file log or the daemon's output."""
    g = GW()
    blob = json.dumps(g.store_audit_rows()) + json.dumps(g.file_audit_lines()) + \
        g.stdout() + g.stderr()
    for k in (CONFIG_KEY, RUNTIME_KEY, NEW_KEY) + extra:
        assert k not in blob, "a key leaked: %s" % k[:12]
        assert k[:-4] not in blob


def ensure_local():
    if GW().get("/api/v1/providers/local", token=ADMIN).status == 404:
        r = GW().post("/api/v1/providers", local_provider(), token=ADMIN)
        assert r.status == 201, r


# --------------------------------------------------------------------------------------------

def test_config_entries_are_shown_and_read_only():
    r = GW().get("/api/v1/providers", token=ADMIN)
    assert r.status == 200, r
    (p,) = [p for p in r.json()["providers"] if p["name"] == "openai"]
    assert p["source"] == "config" and p["state"] == "active", p
    assert p["api_key"] == {"set": True, "last4": CONFIG_KEY[-4:]}, p
    assert p["base_url"] == MOCK.url + "/v1" and p["models"] == ["gpt-4o"], p
    assert CONFIG_KEY not in r.text
    for resp in (patch("/api/v1/providers/openai", {"retries": 0}),
                 delete("/api/v1/providers/openai"),
                 GW().post("/api/v1/models", {"id": "openai/gpt-4o"}, token=ADMIN),
                 patch("/api/v1/models/openai/gpt-4o", {"enabled": False}),
                 GW().post("/api/v1/providers", {"name": "openai", "api": "openai",
                                                 "base_url": "http://x"}, token=ADMIN)):
        assert_error(resp, 409, "conflict", msg_contains="gateway.yaml")
    m = GW().get("/api/v1/models/openai/gpt-4o", token=ADMIN).json()
    assert m["source"] == "config" and m["agents"] == ["engineering/assistant"], m
    assert m["input_per_mtok"] == 2.5, m


def test_provider_added_at_run_time_serves_the_next_call():
    LOCAL.reset()
    assert chat("local/llama", "too early").status == 404
    r = GW().post("/api/v1/providers", local_provider(), token=ADMIN)
    assert r.status == 201, r
    p = r.json()
    assert p["source"] == "api" and p["state"] == "active" and p["models"] == ["llama"], p
    assert p["base_url"] == "http://localhost:%d/v1" % LOCAL.port, p   # trailing '/' cut
    assert p["api_key"] == {"set": True, "last4": RUNTIME_KEY[-4:]}, p
    assert RUNTIME_KEY not in r.text and p["created_by"] == "token:admin", p
    # audited durably before it took effect, without the key
    ev = [e for e in GW().audit_rows_for(r.header("X-Request-Id"))
          if e["type"] == "provider.created"]
    assert len(ev) == 1 and ev[0]["resource"] == "local", ev
    assert ev[0]["details"]["api_key"] == {"set": True, "last4": RUNTIME_KEY[-4:]}, ev
    # the next call goes there, with its key and the model's upstream name
    ids = [m["id"] for m in GW().get("/v1/models", token=ADMIN).json()["data"]]
    assert "local/llama" in ids and "openai/gpt-4o" in ids, ids
    r = chat("local/llama", "hello runtime")
    assert r.status == 200, r
    assert r.json()["choices"][0]["message"]["content"] == "echo: hello runtime"
    up = LOCAL.last_request("/v1/chat/completions")
    assert up["headers"]["authorization"] == "Bearer " + RUNTIME_KEY
    assert up["body"]["model"] == "llama3.2"
    d = [e for e in GW().audit_rows_for(r.header("X-Request-Id"))
         if e["type"] == "model.completion"][0]["details"]
    assert d["served_by"] == "local/llama" and d["cost_usd"] > 0, d
    queues = GW().get("/api/v1/status", token=ADMIN).json()["model_queues"]
    assert queues["local"]["admitted"] >= 1, queues
    secrets_nowhere()


def test_changes_apply_to_the_next_call():
    ensure_local()
    BACKUP.reset()
    r = patch("/api/v1/providers/local",
              {"base_url": BACKUP.url + "/v1", "api_key": NEW_KEY, "retries": 0})
    assert r.status == 200, r
    p = r.json()
    assert p["api_key"]["last4"] == NEW_KEY[-4:] and p["retries"] == 0, p
    assert p["updated_by"] == "token:admin" and NEW_KEY not in r.text
    assert patch("/api/v1/models/local/llama", {"upstream": "llama3.3"}).status == 200
    assert chat("local/llama", "moved").status == 200
    up = BACKUP.last_request("/v1/chat/completions")
    assert up["body"]["model"] == "llama3.3", up["body"]
    assert up["headers"]["authorization"] == "Bearer " + NEW_KEY
    # a bad change is refused whole, naming the field, and changes nothing
    assert_error(patch("/api/v1/providers/local", {"timeout_ms": 1, "retries": 1}), 400,
                 msg_contains="timeout_ms")
    assert_error(patch("/api/v1/providers/local", {"colour": "red"}), 400,
                 msg_contains="colour")
    assert GW().get("/api/v1/providers/local", token=ADMIN).json()["retries"] == 0
    # back as it was
    r = patch("/api/v1/providers/local", {"base_url": "http://localhost:%d/v1" % LOCAL.port,
                                          "api_key": RUNTIME_KEY, "retries": None})
    assert r.status == 200 and r.json()["retries"] == 2, r
    assert patch("/api/v1/models/local/llama", {"upstream": "llama3.2"}).status == 200
    secrets_nowhere()


def test_disabled_entries_are_refused_and_hidden():
    ensure_local()
    r = patch("/api/v1/models/local/llama", {"enabled": False})
    assert r.status == 200 and r.json()["state"] == "disabled", r
    assert_error(chat("local/llama", "x"), 404, msg_contains="disabled")
    assert "local/llama" not in [m["id"] for m in GW().get("/v1/models", token=ADMIN)
                                 .json()["data"]]
    assert GW().get("/v1/models/local/llama", token=ADMIN).status == 404
    assert patch("/api/v1/models/local/llama", {"enabled": True}).status == 200
    assert patch("/api/v1/providers/local", {"enabled": False}).status == 200
    assert_error(chat("local/llama", "x"), 404, msg_contains="provider 'local' is disabled")
    m = GW().get("/api/v1/models/local/llama", token=ADMIN).json()
    assert m["state"] == "provider disabled", m
    assert patch("/api/v1/providers/local", {"enabled": True}).status == 200
    assert chat("local/llama", "back").status == 200


def test_test_calls_report_latency_and_what_to_do():
    ensure_local()
    r = GW().post("/api/v1/models/local/llama/test", token=ADMIN, timeout=40)
    assert r.status == 200, r
    res = r.json()
    assert res["ok"] is True and len(res["results"]) == 1, res
    (t,) = res["results"]
    assert t["model"] == "local/llama" and t["latency_ms"] >= 0 and t["answer"], t
    assert t["usage"]["completion_tokens"] > 0, t
    # a wrong key, and a server that is not there: each says what to do
    bad = local_provider("badkey", api_key="sk-wrong-key-000000000000",
                         models=[{"name": "m"}])
    gone = {"name": "gone", "api": "openai", "base_url": "http://127.0.0.1:%d/v1"
            % _closed_port(), "models": [{"name": "m"}], "enabled": False}
    for body in (bad, gone):
        assert GW().post("/api/v1/providers", body, token=ADMIN).status == 201
    r = GW().post("/api/v1/providers/badkey/test", token=ADMIN, timeout=40)
    (t,) = r.json()["results"]
    assert r.status == 200 and t["ok"] is False and t["status"] == 401, t
    assert "API key" in t["hint"] and "providers set badkey" in t["hint"], t
    # a disabled provider can be tested before it is enabled
    res = gwtest.cli("models", "test", "gone", url=GW().url, token=ADMIN, timeout=60)
    assert res.rc == 1, res
    assert "FAILED  gone/m" in res.out and "nothing accepts connections" in res.out, res
    res = gwtest.cli("models", "test", "local/llama", url=GW().url, token=ADMIN, timeout=60)
    assert res.rc == 0 and res.out.startswith("ok      local/llama  "), res
    assert " ms  answer: echo: " in res.out, res
    ev = [e for e in GW().audit_query(event="model.tested")["events"]]
    assert ev and all("answer" not in json.dumps(e["details"]) for e in ev), ev
    for name in ("badkey", "gone"):
        assert delete("/api/v1/providers/" + name).status == 200


def test_an_api_agent_gets_a_model():
    ensure_local()
    r = GW().post("/api/v1/agents", {"name": "engineering/helper"}, token=ADMIN)
    assert r.status == 201, r
    send = lambda: GW().post("/api/v1/channels/engineering/helper/messages",  # noqa: E731
                             {"content": "are you there"}, token=ADMIN, timeout=20)
    r = send()     # no model: kept in its mailbox, and how to give it one
    assert r.status == 202, r
    assert "openclaw models assign engineering/helper <provider>/<model>" in r.json()["hint"], r
    r = GW().req("PUT", "/api/v1/agents/engineering/helper/model",
                 body={"model": "local/llama"}, token=ADMIN)
    assert r.status == 200 and r.json() == {"agent": "engineering/helper",
                                            "model": "local/llama"}, r
    r = send()
    assert r.status == 200 and r.json()["reply"] == "echo: are you there", r
    assert r.json()["model"] == "local/llama", r
    ids = [m["id"] for m in GW().get("/v1/models", token=ADMIN).json()["data"]]
    assert "openclaw/engineering/helper" in ids, ids
    r = GW().post("/v1/chat/completions", {"model": "openclaw/engineering/helper",
                                           "messages": [{"role": "user", "content": "hi"}]},
                  token=ADMIN, timeout=20)
    assert r.status == 200 and r.json()["choices"][0]["message"]["content"] == "echo: hi", r
    listing = GW().get("/api/v1/models", token=ADMIN).json()
    (a,) = [a for a in listing["agents"] if a["agent"] == "engineering/helper"]
    assert a == {"agent": "engineering/helper", "model": "local/llama", "source": "api",
                 "state": "active"}, a
    (m,) = [m for m in listing["models"] if m["id"] == "local/llama"]
    assert m["agents"] == ["engineering/helper"], m
    # what an agent uses stays until it uses something else
    assert_error(delete("/api/v1/models/local/llama"), 409, msg_contains="engineering/helper")
    assert_error(delete("/api/v1/providers/local"), 409, msg_contains="engineering/helper")
    assert_error(GW().req("PUT", "/api/v1/agents/engineering/assistant/model",
                          body={"model": "local/llama"}, token=ADMIN), 409,
                 msg_contains="set agents[].model there")
    assert_error(GW().req("PUT", "/api/v1/agents/engineering/helper/model",
                          body={"model": "nope/x"}, token=ADMIN), 400,
                 msg_contains="not configured")
    res = gwtest.cli("models", "assign", "engineering/helper", "none", url=GW().url,
                     token=ADMIN)
    assert res.rc == 0 and "no model now" in res.out, res
    assert send().status == 202
    # a deleted agent takes its model setting along
    assert GW().req("PUT", "/api/v1/agents/engineering/helper/model",
                    body={"model": "local/llama"}, token=ADMIN).status == 200
    assert delete("/api/v1/agents/engineering/helper").status == 200
    assert GW().post("/api/v1/agents", {"name": "engineering/helper"}, token=ADMIN).status == 201
    assert send().status == 202
    assert delete("/api/v1/agents/engineering/helper").status == 200


def test_only_administrators_change_models():
    ensure_local()
    assert GW().get("/api/v1/providers", token=LEAD).status == 200
    assert GW().get("/api/v1/models", token=LEAD).status == 200
    for resp in (GW().post("/api/v1/providers", local_provider("mine"), token=LEAD),
                 patch("/api/v1/providers/local", {"enabled": False}, token=LEAD),
                 delete("/api/v1/models/local/llama", token=LEAD),
                 GW().post("/api/v1/models/local/llama/test", token=LEAD)):
        assert_error(resp, 403, "forbidden", msg_contains="models:admin")
    assert_error(GW().get("/api/v1/providers", token=USER), 403, msg_contains="models:read")
    assert GW().get("/v1/models/local/llama", token=USER).status == 200
    # an agent's model is chosen by whoever may register it (the policy still decides calls)
    assert GW().post("/api/v1/agents", {"name": "engineering/leads-bot"}, token=LEAD).status \
        == 201
    assert GW().req("PUT", "/api/v1/agents/engineering/leads-bot/model",
                    body={"model": "local/llama"}, token=LEAD).status == 200
    assert_error(GW().req("PUT", "/api/v1/agents/engineering/leads-bot/model",
                          body={"model": None}, token=USER), 403, msg_contains="agents:write")
    assert GW().req("PUT", "/api/v1/agents/engineering/leads-bot/model",
                    body={"model": None}, token=LEAD).status == 200
    assert delete("/api/v1/agents/engineering/leads-bot", token=LEAD).status == 200


def test_v1_model_retrieve_in_openai_shape():
    ensure_local()
    want = {"id": "openai/gpt-4o", "object": "model", "created": 0, "owned_by": "openai",
            "kind": "external"}
    for path in ("/v1/models/openai/gpt-4o", "/v1/models/openai%2Fgpt-4o",
                 "/v1/models/openai%2fgpt-4o"):
        r = GW().get(path, token=USER)
        assert r.status == 200 and r.json() == want, (path, r)
    r = GW().get("/v1/models/local/llama", token=USER)
    assert r.json()["owned_by"] == "local" and r.json()["kind"] == "self_hosted", r
    r = GW().get("/v1/models/openclaw/engineering/assistant", token=USER)
    assert r.status == 200 and r.json()["owned_by"] == "openclaw", r
    r = GW().get("/v1/models/nope/none", token=USER)
    assert r.status == 404, r
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "param", "code"} and err["param"] is None, err
    assert err["type"] == "not_found_error" and "nope/none" in err["message"], err
    r = GW().get("/v1/models/openai/gpt-4o", token=gwtest.MKT_TOKEN)   # no models:invoke
    assert r.status == 403 and r.json()["error"]["type"] == "permission_error", r
    r = GW().get("/v1/models/..%2Fadmin", token=USER)   # a bad id: still OpenAI's envelope
    assert r.status == 400 and r.json()["error"]["type"] == "invalid_request_error", r
    r = GW().post("/v1/models/openai/gpt-4o", {}, token=USER)
    assert r.status == 405 and r.header("Allow") == "GET", r


def test_a_failed_call_names_every_target_tried():
    ensure_local()
    body = {"name": "flaky", "api": "openai", "base_url": BACKUP.url + "/v1", "retries": 0,
            "models": [{"name": "m"}], "fallback": ["local/llama", "openai/gpt-4o"]}
    assert GW().post("/api/v1/providers", body, token=ADMIN).status == 201
    assert patch("/api/v1/models/openai/gpt-4o", {}).status == 409  # the file's: untouched
    BACKUP.reset()
    LOCAL.reset()
    MOCK.reset()
    BACKUP.script({"status": 503, "times": 3})
    LOCAL.script({"status": 500, "times": 10})
    MOCK.script({"status": 502, "times": 10})
    r = chat("flaky/m", "x")
    assert r.status == 502, r
    msg = r.json()["error"]["message"]
    assert msg.startswith("all 3 targets failed: flaky/m: provider flaky answered 503"), msg
    assert "local/llama: provider local answered 500" in msg, msg
    assert "openai/gpt-4o: provider openai answered 502" in msg, msg
    # a fallback that cannot be used is named too
    assert patch("/api/v1/models/local/llama", {"enabled": False}).status == 200
    BACKUP.script({"status": 503, "times": 3})
    r = chat("flaky/m", "y")
    msg = r.json()["error"]["message"]
    assert "fallbacks not tried: local/llama (not configured or disabled)" in msg, msg
    assert patch("/api/v1/models/local/llama", {"enabled": True}).status == 200
    for m in (BACKUP, LOCAL, MOCK):
        m.reset()
    assert delete("/api/v1/providers/flaky").status == 200


def test_cli_providers_and_models():
    home = gwtest.tempdir("gwcli-models-")
    keyfile = os.path.join(home, "key")
    with open(keyfile, "w") as f:
        f.write(RUNTIME_KEY + "\n")

    def cli(*args, **kw):
        return gwtest.cli(*args, url=GW().url, token=ADMIN, home=home, **kw)
    res = cli("providers", "add", "vllm", "--api", "openai", "--base-url",
              "http://localhost:%d/v1" % LOCAL.port, "--api-key-file", keyfile,
              "--kind", "self_hosted", "--model", "qwen", "--retries", "1")
    assert res.rc == 0, res
    assert "Provider vllm" in res.out and "set ..." + RUNTIME_KEY[-4:] in res.out, res
    assert RUNTIME_KEY not in res.out + res.err
    res = cli("models", "add", "vllm/coder", "--upstream", "qwen2.5-coder",
              "--input-price", "0.5", "--output-price", "1.5")
    assert res.rc == 0 and "vllm/coder" in res.out and "0.50 / 1.50" in res.out, res
    res = cli("providers", "list")
    assert res.rc == 0, res
    lines = res.out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "SOURCE", "STATE"], res
    row = [ln for ln in lines if ln.startswith("vllm ")][0]
    assert "api" in row and "active" in row and "set ..." in row and "coder" in row, row
    assert [ln for ln in lines if ln.startswith("openai ")][0].split()[1] == "config"
    res = cli("models", "list")
    assert res.rc == 0 and "AGENT" in res.out and "engineering/assistant" in res.out, res
    assert [ln for ln in res.out.splitlines() if ln.startswith("vllm/coder ")], res
    res = cli("models", "disable", "vllm/coder")
    assert res.rc == 0 and "Model vllm/coder disabled" in res.out, res
    assert "disabled" in cli("models", "list", "--provider", "vllm").out
    assert cli("models", "enable", "vllm/coder").rc == 0
    res = cli("models", "test", "vllm/coder")
    assert res.rc == 0 and "ok      vllm/coder" in res.out, res
    assert LOCAL.last_request("/v1/chat/completions")["body"]["model"] == "qwen2.5-coder"
    res = cli("providers", "set", "vllm", "--api-key-env", "VLLM_KEY",
              env={"VLLM_KEY": NEW_KEY})
    assert res.rc == 0 and "set ..." + NEW_KEY[-4:] in res.out, res
    res = cli("providers", "set", "vllm", "--no-api-key")
    assert res.rc == 0 and "API key:" in res.out, res
    assert [ln for ln in res.out.splitlines() if "API key:" in ln][0].split()[-1] == "-", res
    res = cli("providers", "set", "vllm")
    assert res.rc == 2 and "nothing to change" in res.err, res
    res = cli("providers", "set", "openai", "--retries", "1")
    assert res.rc == 5 and "gateway.yaml" in res.err, res
    res = cli("providers", "disable", "vllm")
    assert res.rc == 0 and "Provider vllm disabled" in res.out, res
    assert cli("providers", "remove", "vllm").rc == 0
    res = cli("providers", "show", "vllm")
    assert res.rc == 5, res
    res = cli("models", "list", "--json")
    assert res.rc == 0 and "vllm/coder" not in res.out and json.loads(res.out)["models"], res
    secrets_nowhere()


def test_entries_survive_a_restart_and_the_file_cannot_take_their_names():
    ensure_local()
    g = GW()
    g.stop()
    g2 = gwtest.Gateway(_config(), data_dir=g.data_dir).start()
    try:
        r = g2.get("/api/v1/providers/local", token=ADMIN)
        assert r.status == 200 and r.json()["api_key"]["last4"] == RUNTIME_KEY[-4:], r
        assert g2.post("/v1/chat/completions",
                       {"model": "local/llama", "messages": [{"role": "user", "content": "a"}]},
                       token=ADMIN).status == 200
        # a file that defines "local" now is refused on reload, naming the way out
        cfg = _config()
        cfg["models"]["providers"].append({"name": "local", "api": "openai",
                                           "base_url": MOCK.url + "/v1",
                                           "models": [{"name": "x"}]})
        g2.write_config(cfg)
        r = g2.post("/api/v1/admin/reload", token=ADMIN)
        assert r.status == 400, r
        assert "openclaw providers remove local" in r.text, r.text
        assert g2.get("/api/v1/providers/local", token=ADMIN).json()["source"] == "api"
    finally:
        g2.stop()
    GW.value = None


if __name__ == "__main__":
    gwtest.main(globals())
