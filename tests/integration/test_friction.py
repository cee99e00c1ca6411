#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The first hour's small frictions (issue 13, item 9): a JSON body without a Content-Type is
read as JSON on /v1 (as OpenAI-compatible servers do) while a wrong explicit type stays 415;
money is written with the precision it needs (no binary noise such as
0.30000000000000004e-6 in a cost, no "0.00 USD" for a budget of a fraction of a cent); the
four-eyes refusal names who may approve. (A plain-HTTP request to the TLS port: test_tls.py.)"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN, assert_error  # noqa: E402
from mock_llm import MockLLM  # noqa: E402

MOCK = MockLLM().start()
ADMIN2 = "admin2-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
IN_PRICE, OUT_PRICE = 0.07, 0.11  # USD per million tokens: sums of these show binary noise
LIMIT = 0.0000005  # the engineering workspace's budget: a fraction of a cent


def _config():
    cfg = gwtest.seed_config()
    cfg["auth"]["tokens"].append({"id": "admin2", "token": ADMIN2, "scopes": ["*"]})
    cfg["models"] = {"providers": [{
        "name": "openai", "api": "openai", "base_url": MOCK.url + "/v1", "retries": 0,
        "models": [{"name": "m", "input_per_mtok": IN_PRICE, "output_per_mtok": OUT_PRICE}]}]}
    cfg["policy"] = {"bundle": gwtest.policy_bundle([
        {"scope": "enterprise", "domain": "models",
         "content": {"allowed_providers": ["*"], "allowed_models": ["*"]}},
        {"scope": "enterprise", "domain": "actions",
         "content": {"default_autonomy": "approve", "autonomous": ["memory_read"]}}])}
    cfg["costManagement"] = {"budgets": {"engineering": {"monthlyUsdLimit": LIMIT,
                                                         "onExceed": "disable"}}}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/helper", "channel": "engineering/helper",
         "memory_path": "./memory/engineering/helper.md", "model": "openai/m"}]
    return cfg


GW = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())
CHAT = {"model": "openai/m", "messages": [{"role": "user", "content": "hello there"}]}


def _raw_number(body, key):
    """The text of the first number written for key in a JSON body, as sent."""
    m = re.search(rb'"%s":(-?[0-9.eE+-]+)' % key.encode(), body)
    assert m, "no number for %s in %r" % (key, body[:300])
    return m.group(1).decode()


def _noisy(x):
    return len(repr(x).replace("e-", "").replace(".", "").lstrip("0")) > 15


def test_v1_reads_a_body_without_content_type_as_json():
    g = GW()
    r = g.post("/v1/chat/completions", json.dumps(CHAT).encode(), token=ADMIN_TOKEN)
    assert r.status == 200, "no Content-Type on /v1: %r" % r
    assert r.json()["choices"][0]["message"]["content"] == "echo: hello there", r.json()
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        r = g.post("/v1/chat/completions", json.dumps(CHAT).encode(), token=ADMIN_TOKEN,
                   headers={"Content-Type": ctype})
        assert_error_openai(r, 415, "unsupported_media_type")
    # the gateway's own API keeps requiring the type (test_limits.py covers the rest)
    r = g.post("/api/v1/policies/evaluate", b'{"action":"tool_call","resource":"x"}',
               token=ADMIN_TOKEN)
    assert_error(r, 415, "unsupported_media_type")


def assert_error_openai(r, status, code):
    assert r.status == status, "expected %d: %r" % (status, r)
    e = r.json()["error"]
    assert e["code"] == code and e["type"] == "invalid_request_error", e


def test_costs_are_written_as_people_write_them():
    g = GW()
    r = g.post("/api/v1/channels/engineering/helper/messages", {"content": "hello"},
               token=ADMIN_TOKEN)
    assert r.status == 200, r
    usage = r.json()["usage"]
    raw = usage["prompt_tokens"] * IN_PRICE / 1e6 + usage["completion_tokens"] * OUT_PRICE / 1e6
    assert _noisy(raw), "choose other prices: %r (%r) shows no float noise" % (raw, usage)
    want = round(raw, 10)
    text = _raw_number(r.body, "cost_usd")
    assert float(text) == want and not _noisy(float(text)) and len(text) <= 12, \
        "cost_usd written as %s (the exact cost is %r)" % (text, want)
    # the audit row of the model call and the month's report say the same
    rows = g.audit_rows_for(r.header("X-Request-Id"))
    audit = g.get("/api/v1/audit?request_id=" + r.header("X-Request-Id"), token=ADMIN_TOKEN)
    assert rows and float(_raw_number(audit.body, "cost_usd")) == want, audit.body[:500]
    assert len(_raw_number(audit.body, "cost_usd")) <= 12, audit.body[:500]
    report = g.get("/api/v1/costs?workspace=engineering", token=ADMIN_TOKEN)
    assert report.status == 200, report
    assert float(_raw_number(report.body, "total_usd")) == round(want, 6), report.body


def test_a_budget_of_a_fraction_of_a_cent_is_written_out():
    g = GW()
    # the call above spent more than LIMIT: the workspace is disabled until the month ends
    r = g.post("/api/v1/channels/engineering/helper/messages", {"content": "again"},
               token=ADMIN_TOKEN)
    e = assert_error(r, 402, "budget_exceeded")
    assert "monthly budget of 0.0000005 USD" not in e["message"]  # at most six decimals
    assert "monthly budget of 0.000001 USD" in e["message"] or \
        "monthly budget of <0.000001 USD" in e["message"], e["message"]
    assert "0.00 USD" not in e["message"], e["message"]
    spent = re.search(r"spent ([0-9.]+) USD", e["message"])
    assert spent and float(spent.group(1)) > 0, e["message"]


def test_four_eyes_refusal_names_who_approves():
    g = GW()
    r = g.post("/api/v1/tools/invoke", {"tool": "memory_write", "args": {
        "namespace": "engineering", "agent": "code-reviewer", "content": "hi"}},
        token=ADMIN_TOKEN)
    assert r.status == 202, r
    item = r.json()
    assert item["approvers"] == {"mode": "role", "role": "enterprise_admin"}, item
    r = g.post("/api/v1/approvals/%s/approve" % item["approval_id"], {}, token=ADMIN_TOKEN)
    e = assert_error(r, 403, "forbidden")
    assert "enterprise_admin other than the requester (token:admin)" in e["message"], e
    assert "policy.approver" in e["message"], e
    r = g.post("/api/v1/approvals/%s/approve" % item["approval_id"], {}, token=ADMIN2)
    assert r.status == 200 and r.json()["status"] == "executed", r


if __name__ == "__main__":
    try:
        gwtest.main(globals())
    finally:
        MOCK.stop()
