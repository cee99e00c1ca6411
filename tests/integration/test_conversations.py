# SPDX-License-Identifier: MIT
"""Conversations read back (docs/API.md "Conversations", docs/CLI.md `openclaw conversations`)
against the real gateway and a local OpenAI-compatible model (mock_llm.py): one's own
conversations listed and read page by page, exported as JSON and Markdown through the data
policy, deleted (audited first); other people's invisible (404) except to administrators with
conversations:read_all within their reach (enterprise: the tenant; org_admin: its org subtree),
each such read audited durably before the answer -- and refused when the trail cannot be
written; `send` to an agent without a model saying so, and its mailbox read page by page."""

import json
import os
import time

import gwtest
from gwtest import assert_error
from mock_llm import MockLLM

DAVE = "dave@acme.test"    # user, engineering/platform
ERIN = "erin@acme.test"    # user, marketing/growth
OLGA = "olga@acme.test"    # org_admin of engineering
TED = "ted@acme.test"      # team_lead of platform (reads only his own)
TOK = {
    DAVE: "cv-dave-token-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
    ERIN: "cv-erin-token-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e",
    OLGA: "cv-olga-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
    TED: "cv-ted-token-4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
}
DAVE_NO_CONV = "cv-dave-narrow-5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"  # no conversations:* scope
ADMIN = gwtest.ADMIN_TOKEN  # ownerless "*": enterprise_admin
SSN = "123-45-6789"         # the national id detector: confidential

MOCK = MockLLM().start()
ENG = "/api/v1/channels/engineering/assistant/messages"
MKT = "/api/v1/channels/marketing/assistant/messages"


def _config(audit_link):
    cfg = gwtest.seed_config()
    cfg["audit"]["log_path"] = audit_link
    cfg["identity"] = {
        "org_units": ["engineering", "engineering/platform", "marketing", "marketing/growth"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "growth", "org_unit": "marketing/growth"}],
        "users": [
            {"id": DAVE, "email": DAVE, "role": "user", "org_unit": "engineering/platform",
             "team": "platform"},
            {"id": ERIN, "email": ERIN, "role": "user", "org_unit": "marketing/growth",
             "team": "growth"},
            {"id": OLGA, "email": OLGA, "role": "org_admin", "org_unit": "engineering"},
            {"id": TED, "email": TED, "role": "team_lead", "org_unit": "engineering/platform",
             "team": "platform"},
        ],
    }
    conv = ["conversations:read", "conversations:write"]
    toks = cfg["auth"]["tokens"]
    toks.append({"id": "dave", "token": TOK[DAVE], "owner": DAVE,
                 "scopes": ["channels:engineering/*"] + conv})
    toks.append({"id": "dave-narrow", "token": DAVE_NO_CONV, "owner": DAVE,
                 "scopes": ["channels:engineering/*"]})
    toks.append({"id": "erin", "token": TOK[ERIN], "owner": ERIN,
                 "scopes": ["channels:marketing/*"] + conv})
    toks.append({"id": "olga", "token": TOK[OLGA], "owner": OLGA, "scopes": ["*"]})
    toks.append({"id": "ted", "token": TOK[TED], "owner": TED, "scopes": ["*"]})
    cfg["models"] = {"providers": [{"name": "openai", "api": "openai",
                                    "base_url": MOCK.url + "/v1", "api_key": "sk-test",
                                    "models": [{"name": "gpt-4o"}], "retries": 0}]}
    cfg["policy"] = {"bundle": gwtest.policy_bundle([
        {"scope": "enterprise", "domain": "models",
         "content": {"allowed_providers": ["*"], "allowed_models": ["*"],
                     "max_classification_external": "restricted"}},
        {"scope": "enterprise", "domain": "data",
         "content": {"allow_data_export": True, "export_max_classification": "internal"}},
    ])}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o"},
        {"name": "marketing/assistant", "channel": "marketing/assistant",
         "memory_path": "./memory/marketing/assistant.md", "model": "openai/gpt-4o"},
    ]
    return cfg


def _start():
    d = gwtest.tempdir("gwtest-conv-audit-")
    real = os.path.join(d, "audit.jsonl")
    open(real, "wb").close()
    link = os.path.join(d, "audit-link.jsonl")
    os.symlink(real, link)
    g = gwtest.Gateway(_config(link)).start()
    g.audit_real, g.audit_link = real, link
    return g


GW = gwtest.Lazy(_start)
IDS = {}  # name -> conversation id


def say(path, text, token, session="main"):
    r = GW().post(path, {"content": text, "session": session}, token=token, timeout=20)
    assert r.status == 200, r
    return r.json()["conversation_id"]


def get(path, token):
    return GW().get(path, token=token)


def audit_event(request_id, type_):
    for row in GW().audit_rows_for(request_id):
        if row["type"] == type_:
            return row
    raise AssertionError("no %s event for request %s" % (type_, request_id))


def _swap_link(link, target):
    tmp = link + ".new"
    os.symlink(target, tmp)
    os.replace(tmp, link)


# --------------------------------------------------------------------------------------------

def test_own_conversations_are_listed_and_read_page_by_page():
    IDS["s1"] = say(ENG, "my name is Ada", TOK[DAVE], "s1")
    assert say(ENG, "what is my name", TOK[DAVE], "s1") == IDS["s1"]
    time.sleep(0.01)
    IDS["s2"] = say(ENG, "a second chat", TOK[DAVE], "s2")
    IDS["erin"] = say(MKT, "campaign ideas", TOK[ERIN])

    r = get("/api/v1/conversations", TOK[DAVE])
    assert r.status == 200, r
    convs = r.json()["conversations"]
    assert [c["id"] for c in convs] == [IDS["s2"], IDS["s1"]], convs  # most recent first
    s1 = convs[1]
    assert s1["agent"] == "engineering/assistant" and s1["session"] == "s1", s1
    assert s1["user"] == DAVE and s1["org_unit"] == "engineering/platform", s1
    assert s1["team"] == "platform" and s1["messages"] == 4, s1
    assert s1["title"] == "my name is Ada" and s1["created_at"].endswith("Z"), s1
    assert r.json()["next_cursor"] is None

    # a cursor walks the list one at a time
    p1 = get("/api/v1/conversations?limit=1", TOK[DAVE]).json()
    assert [c["id"] for c in p1["conversations"]] == [IDS["s2"]] and p1["next_cursor"], p1
    p2 = get("/api/v1/conversations?limit=1&cursor=" + p1["next_cursor"], TOK[DAVE]).json()
    assert [c["id"] for c in p2["conversations"]] == [IDS["s1"]], p2
    p3 = get("/api/v1/conversations?limit=1&cursor=" + p2["next_cursor"], TOK[DAVE]).json()
    assert p3 == {"conversations": [], "next_cursor": None}, p3
    only = get("/api/v1/conversations?agent=marketing/assistant", TOK[DAVE]).json()
    assert only["conversations"] == [], only

    r = get("/api/v1/conversations/%s?limit=3" % IDS["s1"], TOK[DAVE])
    assert r.status == 200, r
    page = r.json()
    assert page["conversation"]["id"] == IDS["s1"], page
    msgs = page["messages"]
    assert [(m["seq"], m["role"], m["content"]) for m in msgs] == [
        (1, "user", "my name is Ada"), (2, "assistant", "echo: my name is Ada"),
        (3, "user", "what is my name")], msgs
    assert page["next_cursor"] == 3, page
    rest = get("/api/v1/conversations/%s?cursor=3" % IDS["s1"], TOK[DAVE]).json()
    assert [m["seq"] for m in rest["messages"]] == [4] and rest["next_cursor"] is None, rest
    # reading one's own is audited like any read, without the durable path
    ev = audit_event(r.header("X-Request-Id"), "conversation.read")
    assert ev["resource"] == IDS["s1"] and ev["details"]["others"] is False, ev

    for bad in ("limit=0", "limit=201", "cursor=abc", "cursor=1.x%2Fy"):
        assert_error(get("/api/v1/conversations?" + bad, TOK[DAVE]), 400, "invalid_request")
    assert_error(get("/api/v1/conversations/%s?limit=501" % IDS["s1"], TOK[DAVE]), 400)


def test_other_peoples_conversations_do_not_exist_for_them():
    dave = IDS["s1"]
    for tok in (TOK[ERIN], TOK[TED]):  # a colleague, and his own team lead
        assert_error(get("/api/v1/conversations/" + dave, tok), 404, "not_found")
        assert_error(get("/api/v1/conversations/%s/export" % dave, tok), 404, "not_found")
        assert_error(GW().req("DELETE", "/api/v1/conversations/" + dave, token=tok), 404)
        assert_error(get("/api/v1/conversations?user=" + DAVE, tok), 403, "forbidden",
                     "conversations:read_all")
        assert_error(get("/api/v1/conversations?user=*", tok), 403, "forbidden")
    assert [c["id"] for c in get("/api/v1/conversations", TOK[ERIN]).json()["conversations"]] \
        == [IDS["erin"]]
    # the scopes of the credential count: a token without conversations:read reads nothing
    assert_error(get("/api/v1/conversations", DAVE_NO_CONV), 403, "forbidden",
                 "conversations:read")
    assert_error(get("/api/v1/conversations/cnv_000000000000000000000000", TOK[DAVE]), 404)


def test_administrators_read_within_their_reach_and_every_read_is_audited():
    # org_admin of engineering: engineering's people, not marketing's
    r = get("/api/v1/conversations?user=*", TOK[OLGA])
    assert r.status == 200, r
    owners = {c["user"] for c in r.json()["conversations"]}
    assert owners == {DAVE}, r.json()
    ev = audit_event(r.header("X-Request-Id"), "conversation.listed")
    assert ev["actor"] == OLGA and sorted(set(ev["details"]["others"])) == [DAVE], ev
    assert get("/api/v1/conversations?user=" + ERIN, TOK[OLGA]).json()["conversations"] == []
    assert_error(get("/api/v1/conversations/" + IDS["erin"], TOK[OLGA]), 404)

    r = get("/api/v1/conversations/" + IDS["s1"], TOK[OLGA])
    assert r.status == 200 and len(r.json()["messages"]) == 4, r
    ev = audit_event(r.header("X-Request-Id"), "conversation.read")
    d = ev["details"]
    assert ev["actor"] == OLGA and ev["resource"] == IDS["s1"], ev
    assert d["owner"] == DAVE and d["others"] is True and d["returned"] == 4, ev
    # only the owner deletes
    assert_error(GW().req("DELETE", "/api/v1/conversations/" + IDS["s1"], token=TOK[OLGA]), 403,
                 "forbidden", "only its owner")

    # enterprise administrator: the whole tenant
    r = get("/api/v1/conversations?user=*", ADMIN)
    assert {c["user"] for c in r.json()["conversations"]} == {DAVE, ERIN}, r.json()
    assert get("/api/v1/conversations/" + IDS["erin"], ADMIN).status == 200


def test_exports_are_data_exports_decided_by_policy_and_audited():
    r = get("/api/v1/conversations/%s/export" % IDS["s1"], TOK[DAVE])
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json"), r.headers
    assert IDS["s1"] + ".json" in r.header("Content-Disposition"), r.headers
    doc = r.json()
    assert doc["conversation"]["id"] == IDS["s1"] and doc["exported_by"] == DAVE, doc
    assert [m["content"] for m in doc["messages"]] == [
        "my name is Ada", "echo: my name is Ada", "what is my name", "echo: what is my name"]
    ev = audit_event(r.header("X-Request-Id"), "conversation.exported")
    assert ev["details"]["format"] == "json" and ev["classification"] == "internal", ev
    dec = audit_event(r.header("X-Request-Id"), "policy.decision")
    assert dec["details"]["action"] == "data_export", dec

    r = get("/api/v1/conversations/%s/export?format=markdown" % IDS["s1"], TOK[DAVE])
    assert r.status == 200 and r.header("Content-Type").startswith("text/markdown"), r
    md = r.text
    assert md.startswith("# Conversation with engineering/assistant\n"), md[:200]
    assert "## 2. Assistant, " in md and "```text\necho: my name is Ada\n```" in md, md

    # confidential content: above the policy's export ceiling, refused with the reason
    sid = say(ENG, "my SSN is " + SSN, TOK[DAVE], "secret")
    r = get("/api/v1/conversations/%s/export" % sid, TOK[DAVE])
    assert_error(r, 403, "forbidden", "export_max_classification")
    assert_error(get("/api/v1/conversations/%s/export?format=pdf" % sid, TOK[DAVE]), 400)

    # an administrator's export of someone else's conversation says so in the trail
    r = get("/api/v1/conversations/%s/export?format=markdown" % IDS["s2"], TOK[OLGA])
    assert r.status == 200, r
    ev = audit_event(r.header("X-Request-Id"), "conversation.exported")
    assert ev["details"]["others"] is True and ev["details"]["owner"] == DAVE, ev


def test_the_owner_deletes_a_conversation_audited_first():
    r = GW().req("DELETE", "/api/v1/conversations/" + IDS["s1"], token=TOK[DAVE])
    assert r.status == 200, r
    assert r.json() == {"id": IDS["s1"], "deleted": True, "messages": 4}, r.json()
    ev = audit_event(r.header("X-Request-Id"), "conversation.deleted")
    assert ev["details"]["owner"] == DAVE and ev["details"]["messages"] == 4, ev
    assert_error(get("/api/v1/conversations/" + IDS["s1"], TOK[DAVE]), 404)
    assert_error(GW().req("DELETE", "/api/v1/conversations/" + IDS["s1"], token=TOK[DAVE]), 404)
    c = GW().db()
    left = c.execute("SELECT COUNT(*) FROM conversation_messages WHERE conversation_id = ?",
                     (IDS["s1"],)).fetchone()[0]
    c.close()
    assert left == 0
    # the session starts over: the model sees none of the deleted messages
    MOCK.reset()
    assert say(ENG, "who am I", TOK[DAVE], "s1") != IDS["s1"]
    sent = [m.get("content") for m in MOCK.last_request("/v1/chat")["body"]["messages"]]
    assert "my name is Ada" not in sent, sent


def test_send_without_a_model_says_so_and_the_mailbox_reads_back():
    res = gwtest.cli("send", "engineering/code-reviewer", "first note", url=GW().url,
                     token=TOK[DAVE])
    assert res.rc == 0 and "stored" in res.out, res
    assert "has no model" in res.err, res
    assert "its agents[].model in gateway.yaml" in res.err, res     # a configured agent
    assert "openclaw messages list engineering/code-reviewer" in res.err, res
    for text in ("second note", "third \x1b[31mnote"):
        r = GW().post("/api/v1/channels/engineering/code-reviewer/messages", {"content": text},
                      token=TOK[DAVE])
        assert r.status == 202 and r.json()["model"] is None and "hint" in r.json(), r

    url = "/api/v1/channels/engineering/code-reviewer/messages"
    p1 = get(url + "?limit=2", TOK[DAVE]).json()
    assert [m["content"] for m in p1["messages"]] == ["third \x1b[31mnote", "second note"], p1
    assert p1["messages"][0]["sender"] == DAVE and p1["next_cursor"], p1
    p2 = get(url + "?limit=2&cursor=" + p1["next_cursor"], TOK[DAVE]).json()
    assert [m["content"] for m in p2["messages"]] == ["first note"], p2
    assert p2["next_cursor"] is None, p2
    # the channel's own access rules: another namespace's people are told what they lack
    assert_error(get(url, TOK[ERIN]), 403, "forbidden")
    assert_error(get("/api/v1/channels/engineering/nobody/messages", TOK[DAVE]), 404)
    assert_error(get(url + "?cursor=nope", TOK[DAVE]), 400)

    # chat cannot talk with it: the first line is stored, the hint printed, the chat ended
    res = gwtest.cli("chat", "engineering/code-reviewer", url=GW().url, token=TOK[DAVE],
                     stdin="fourth note\nnever stored\n")
    assert res.rc == 0 and "has no model" in res.err and "chat ends" in res.err, res
    texts = [m["content"] for m in get(url, TOK[DAVE]).json()["messages"]]
    assert texts[0] == "fourth note" and "never stored" not in texts, texts

    res = gwtest.cli("messages", "list", "engineering/code-reviewer", "--limit", "2",
                     url=GW().url, token=TOK[DAVE])
    assert res.rc == 0 and "fourth note" in res.out and "second note" not in res.out, res
    assert "\x1b" not in res.out and "third [31mnote" in res.out, res
    assert "--cursor" in res.err, res


def test_cli_lists_shows_exports_and_deletes():
    sid = say(ENG, "hello from the cli test", TOK[DAVE], "cli")
    run = lambda *a: gwtest.cli(*a, url=GW().url, token=TOK[DAVE])  # noqa: E731
    res = run("conversations", "list")
    assert res.rc == 0 and sid in res.out and "hello from the cli test" in res.out, res
    res = run("conversations", "show", sid)
    assert res.rc == 0 and "[1] user" in res.out and "echo: hello from the cli test" in res.out, res
    res = run("conversations", "show", sid, "--limit", "1")
    assert res.rc == 0 and "--cursor 1" in res.err, res
    out = os.path.join(gwtest.tempdir(), "chat.md")
    res = run("conversations", "export", sid, "--format", "markdown", "--output", out)
    assert res.rc == 0, res
    with open(out) as f:
        assert f.read().startswith("# Conversation with engineering/assistant")
    assert os.stat(out).st_mode & 0o777 == 0o600
    res = run("--json", "conversations", "export", sid)
    assert res.rc == 0 and res.json()["conversation"]["id"] == sid, res
    res = run("conversations", "list", "--everyone")
    assert res.rc == 4 and "conversations:read_all" in res.err, res
    res = run("conversations", "delete", sid)
    assert res.rc == 0 and "Deleted conversation %s (2 messages)" % sid in res.out, res
    res = run("conversations", "show", sid)
    assert res.rc == 5, res


def test_reading_someone_elses_needs_the_audit_trail():
    g = GW()
    _swap_link(g.audit_link, "/dev/full")
    g.sighup()
    time.sleep(0.5)
    try:
        assert_error(get("/api/v1/conversations/" + IDS["s2"], TOK[OLGA]), 503,
                     "audit_unavailable")
        assert_error(get("/api/v1/conversations?user=*", TOK[OLGA]), 503, "audit_unavailable")
        assert_error(get("/api/v1/conversations/%s/export" % IDS["s2"], TOK[DAVE]), 503,
                     "audit_unavailable")
        assert_error(g.req("DELETE", "/api/v1/conversations/" + IDS["s2"], token=TOK[DAVE]), 503,
                     "audit_unavailable")
    finally:
        _swap_link(g.audit_link, g.audit_real)
        g.sighup()
    gwtest.wait_until(lambda: get("/api/v1/conversations/" + IDS["s2"], TOK[OLGA]).status == 200,
                      timeout=5, what="reads of others' conversations after the trail is back")
    assert len(get("/api/v1/conversations/" + IDS["s2"], TOK[DAVE]).json()["messages"]) == 2


gwtest.main(globals())
