# SPDX-License-Identifier: MIT
"""Namespace isolation (seed 003): the engineering token must never reach marketing channels or
memory, whatever the path encoding; symlinks planted in the memory directory are not followed;
memory, agents and messages work and are audited; the tenant comes from the configuration."""

import hashlib
import json
import os
import shutil
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, MKT_TOKEN, TENANT, assert_error, parse_raw_response

MAX_MEMORY = 4096
MARKER = "MARKETING-SECRET-" + os.urandom(6).hex()
SHARED_MARKER = "MARKETING-SHARED-" + os.urandom(6).hex()


def _make():
    cfg = gwtest.seed_config(gateway={"limits": {"max_memory_bytes": MAX_MEMORY}})
    cfg["namespaces"]["linkns"] = {"shared_memory_path": "./memory/linkns/shared.md"}
    cfg["agents"] += [
        {"name": "engineering/evil", "channel": "engineering/evil", "memory_path": "./memory/engineering/evil.md"},
        {"name": "linkns/content-writer", "channel": "linkns/content-writer",
         "memory_path": "./memory/linkns/content-writer.md"},
    ]
    g = gwtest.Gateway(cfg).start()
    r = g.put_memory("marketing/content-writer", MARKER + "\n", ADMIN_TOKEN)
    assert r.status == 200, "admin cannot write marketing memory: %r" % r
    r = g.put_memory("marketing/shared", SHARED_MARKER + "\n", ADMIN_TOKEN)
    assert r.status == 200, "admin cannot write marketing shared memory: %r" % r
    return g


GW = gwtest.Lazy(_make)


def _mkt_files(g):
    return {"agent": os.path.join(g.data_dir, "memory", "marketing", "content-writer.md"),
            "shared": os.path.join(g.data_dir, "memory", "marketing", "shared.md")}


def _snapshot(g):
    snap = {}
    root = os.path.join(g.data_dir, "memory")
    for dirpath, dirs, files in os.walk(root):
        for fn in files:
            p = os.path.join(dirpath, fn)
            if os.path.islink(p):
                continue
            with open(p, "rb") as f:
                snap[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return snap


def _assert_marketing_intact(g):
    files = _mkt_files(g)
    with open(files["agent"]) as f:
        assert f.read() == MARKER + "\n", "marketing agent memory on disk changed"
    with open(files["shared"]) as f:
        assert f.read() == SHARED_MARKER + "\n", "marketing shared memory on disk changed"
    r = g.get("/api/v1/memory/marketing/content-writer", token=ADMIN_TOKEN)
    assert r.status == 200 and r.text == MARKER + "\n", "marketing memory via API changed: %r" % r


def test_memory_files_where_configured():
    g = GW()
    files = _mkt_files(g)
    assert os.path.isfile(files["agent"]), "memory_path %s not written" % files["agent"]
    assert os.path.isfile(files["shared"]), "shared_memory_path %s not written" % files["shared"]
    _assert_marketing_intact(g)


def test_engineering_token_direct_marketing_403():
    g = GW()
    e = assert_error(g.post("/api/v1/channels/marketing/content-writer/messages", body={"content": "hi"},
                            token=ENG_TOKEN), 403, "forbidden")
    assert "channels:marketing/content-writer" in e["message"], e["message"]
    assert_error(g.get("/api/v1/memory/marketing/content-writer", token=ENG_TOKEN), 403, "forbidden")
    assert_error(g.put_memory("marketing/content-writer", "PWNED", ENG_TOKEN), 403, "forbidden")
    assert_error(g.get("/api/v1/memory/marketing/shared", token=ENG_TOKEN), 403, "forbidden")
    assert_error(g.put_memory("marketing/shared", "PWNED", ENG_TOKEN), 403, "forbidden")
    _assert_marketing_intact(g)


TRICKS = [
    "engineering/../marketing/content-writer",
    "engineering/./../marketing/content-writer",
    "engineering/%2e%2e/marketing/content-writer",
    "engineering/%2E%2E/marketing/content-writer",
    "engineering/.%2e/marketing/content-writer",
    "engineering%2f..%2fmarketing/content-writer",
    "engineering/..%2fmarketing%2fcontent-writer",
    "engineering%2fcontent-writer",
    "marketing%2fcontent-writer",
    "engineering/%252e%252e/marketing/content-writer",
    "engineering/%252e%252e%252fmarketing/content-writer",
    "engineering/%c0%ae%c0%ae/marketing/content-writer",
    "engineering/%c0%afmarketing/content-writer",
    "engineering/%e0%80%ae%e0%80%ae/marketing/content-writer",
    "marketing%00/content-writer",
    "engineering%00/../marketing/content-writer",
    "engineering/code-reviewer%00/../../marketing/content-writer",
    "MARKETING/content-writer",
    "Marketing/Content-Writer",
    "engineering/../MARKETING/content-writer",
    "marketing/content-writer/",
    "marketing//content-writer",
    "engineering//../marketing/content-writer",
    "engineering\\..\\marketing\\content-writer",
    "engineering/..\\marketing/content-writer",
    "engineering%5c..%5cmarketing%5ccontent-writer",
    "engineering;/../marketing/content-writer",
    "./marketing/content-writer",
    "engineering/code-reviewer/../../marketing/content-writer",
    "engineering/code-reviewer/%2e%2e/%2e%2e/marketing/content-writer",
    "%65ngineering/../marketing/content-writer",
    "engineering/../marketing/shared",
    "engineering/%2e%2e/marketing/shared",
    "engineering%2fshared",
    "engineering/..%2fmarketing%2fshared",
    "engineering/code-reviewer%2f..%2f..%2fmarketing%2fcontent-writer",
    "..%2f..%2f..%2fetc%2fpasswd",
    "engineering/%2e%2e%2f%2e%2e%2f%2e%2e%2fgateway.db",
]


def test_path_tricks_memory_never_2xx():
    g = GW()
    before = _snapshot(g)
    for t in TRICKS:
        for method in ("GET", "PUT"):
            if method == "GET":
                r = g.get("/api/v1/memory/" + t, token=ENG_TOKEN)
            else:
                r = g.req("PUT", "/api/v1/memory/" + t, body=b"PWNED " + t.encode(), token=ENG_TOKEN,
                          headers={"Content-Type": "text/markdown"})
            assert r.status in (400, 403, 404), "%s /api/v1/memory/%s -> %d (must be 400/403/404): %r" % (
                method, t, r.status, r.body[:120])
            assert MARKER not in r.text and SHARED_MARKER not in r.text and "SQLite" not in r.text, \
                "%s %s leaked content" % (method, t)
            if r.status != 404:
                assert_error(r, r.status)
    assert _snapshot(g) == before, "memory files changed by path tricks"
    _assert_marketing_intact(g)


def test_path_tricks_channels_never_2xx():
    g = GW()
    c = g.db()
    n_before = c.execute("SELECT count(*) FROM messages WHERE channel LIKE 'marketing%'").fetchone()[0]
    c.close()
    for t in TRICKS:
        r = g.post("/api/v1/channels/" + t + "/messages", body={"content": "PWNED"}, token=ENG_TOKEN)
        assert r.status in (400, 403, 404), "POST /api/v1/channels/%s/messages -> %d: %r" % (t, r.status, r.body[:120])
    c = g.db()
    n_after = c.execute("SELECT count(*) FROM messages WHERE channel LIKE 'marketing%'").fetchone()[0]
    bad = c.execute("SELECT channel FROM messages WHERE content LIKE '%PWNED%'").fetchall()
    c.close()
    assert n_after == n_before, "messages reached marketing channels"
    assert not bad, "trick messages stored in channels %r" % [tuple(x) for x in bad]


def test_invalid_segments_400():
    g = GW()
    for seg in ("engineering/..", "engineering/.", "engineering/%2e%2e", "engineering/code%2freviewer",
                "engineering/code-reviewer%00", "engineering/-leading-dash", "engineering/" + "a" * 64,
                "Engineering/code-reviewer", "engineering/code reviewer".replace(" ", "%20"),
                "engineering/c%C3%B3de"):
        r = g.get("/api/v1/memory/" + seg, token=ADMIN_TOKEN)
        assert_error(r, 400, "invalid_request")


def test_raw_non_ascii_and_unnormalized_paths():
    g = GW()
    auth = b"Authorization: Bearer " + ENG_TOKEN.encode() + b"\r\n"
    for path in (b"/api/v1/memory/marketing/c\xc3\xb6ntent-writer", b"/api/v1/memory/engineering/\xc0\xae\xc0\xae/marketing/content-writer",
                 b"/api/v1/memory/engineering/../marketing/content-writer",
                 b"/api/v1/memory/engineering/\x00/../marketing/content-writer",
                 b"/api/v1/../v1/memory/marketing/content-writer",
                 b"http://127.0.0.1/api/v1/memory/marketing/content-writer",
                 b"/api/v1/memory/engineering/code-reviewer#/../../marketing/content-writer"):
        got = g.raw(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"Connection: close\r\n\r\n", timeout=3)
        p = parse_raw_response(got)
        if p is None:
            continue  # dropping the connection is acceptable
        assert p[0] in (400, 403, 404), "raw GET %r -> %d" % (path, p[0])
        assert MARKER.encode() not in got, "raw GET %r leaked marketing memory" % path


def test_memory_roundtrip_utf8_and_cap():
    g = GW()
    text = "# Review notes\n\nÜmlauts, ñ, 日本語, emoji 🚀, RTL שלום\nline\twith tab\n"
    r = g.put_memory("engineering/code-reviewer", text, ENG_TOKEN)
    assert r.status == 200, "PUT memory: %r" % r
    j = r.json()
    assert j == {"path": "engineering/code-reviewer", "bytes": len(text.encode())}, "PUT body %r" % j
    r = g.get("/api/v1/memory/engineering/code-reviewer", token=ENG_TOKEN)
    assert r.status == 200 and r.body == text.encode(), "GET returned %r" % r.body[:200]
    ct = r.header("Content-Type") or ""
    assert ct.startswith("text/markdown") or ct.startswith("text/plain"), "memory Content-Type %r" % ct
    with open(os.path.join(g.data_dir, "memory", "engineering", "code-reviewer.md"), "rb") as f:
        assert f.read() == text.encode(), "file on disk differs from what was PUT"
    # plain text works too, and the cap is exact
    exact = "a" * MAX_MEMORY
    r = g.put_memory("engineering/code-reviewer", exact, ENG_TOKEN, content_type="text/plain")
    assert r.status == 200 and r.json()["bytes"] == MAX_MEMORY, "PUT of exactly max_memory_bytes: %r" % r
    r = g.put_memory("engineering/code-reviewer", exact + "b", ENG_TOKEN)
    assert_error(r, 413, "payload_too_large")
    assert g.get("/api/v1/memory/engineering/code-reviewer", token=ENG_TOKEN).body == exact.encode(), \
        "rejected PUT changed the memory"
    assert_error(g.put_memory("engineering/code-reviewer", b"bad \xff\xfe utf8", ENG_TOKEN), 400)
    assert_error(g.put_memory("engineering/code-reviewer", "x", ENG_TOKEN, content_type="application/octet-stream"),
                 415, "unsupported_media_type")
    assert_error(g.put_memory("engineering/code-reviewer", "x", MKT_TOKEN), 403, "forbidden")


def test_shared_memory_per_namespace():
    g = GW()
    r = g.put_memory("engineering/shared", "eng shared\n", ENG_TOKEN)
    assert r.status == 200, "engineering shared PUT: %r" % r
    r = g.get("/api/v1/memory/engineering/shared", token=ENG_TOKEN)
    assert r.status == 200 and r.text == "eng shared\n", repr(r)
    r = g.get("/api/v1/memory/marketing/shared", token=MKT_TOKEN)
    assert r.status == 200 and r.text == SHARED_MARKER + "\n", "marketing reads its shared memory: %r" % r
    assert_error(g.get("/api/v1/memory/engineering/shared", token=MKT_TOKEN), 403, "forbidden")
    with open(os.path.join(g.data_dir, "memory", "engineering", "shared.md")) as f:
        assert f.read() == "eng shared\n", "shared_memory_path not used"


def test_symlinked_file_not_followed():
    g = GW()
    target = _mkt_files(g)["agent"]
    link = os.path.join(g.data_dir, "memory", "engineering", "evil.md")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(target, link)
    r = g.get("/api/v1/memory/engineering/evil", token=ENG_TOKEN)
    assert r.status >= 400, "GET through a symlinked memory file -> %d %r" % (r.status, r.body[:100])
    assert MARKER not in r.text, "symlink followed: marketing memory read with the engineering token"
    r = g.put_memory("engineering/evil", "PWNED via symlink\n", ENG_TOKEN)
    # Refusing (4xx/5xx) is expected; replacing the link itself atomically (rename over it) would
    # also be safe. Following it is not.
    if r.status < 400:
        assert not os.path.islink(link), "PUT %d but evil.md is still a symlink (was it followed?)" % r.status
    _assert_marketing_intact(g)
    # symlink to something outside the data dir
    os.path.lexists(link) and os.remove(link)
    os.symlink("/etc/passwd", link)
    r = g.get("/api/v1/memory/engineering/evil", token=ENG_TOKEN)
    assert r.status >= 400 and "root:" not in r.text, "symlink to /etc/passwd followed: %r" % r


def test_symlinked_directory_not_followed():
    g = GW()
    d = os.path.join(g.data_dir, "memory", "linkns")
    if os.path.islink(d):
        os.remove(d)
    elif os.path.isdir(d):
        shutil.rmtree(d)
    os.symlink(os.path.join(g.data_dir, "memory", "marketing"), d)
    r = g.get("/api/v1/memory/linkns/content-writer", token=ADMIN_TOKEN)
    assert r.status >= 400, "GET through a symlinked directory -> %d %r" % (r.status, r.body[:100])
    assert MARKER not in r.text, "symlinked directory followed on read"
    r = g.put_memory("linkns/content-writer", "PWNED via dir symlink\n", ADMIN_TOKEN)
    assert r.status >= 400, "PUT through a symlinked directory -> %d" % r.status
    r = g.get("/api/v1/memory/linkns/shared", token=ADMIN_TOKEN)
    assert SHARED_MARKER not in r.text, "symlinked directory followed for shared memory"
    _assert_marketing_intact(g)


def test_agents_register_and_list():
    g = GW()
    w = g.post("/api/v1/tokens", body={"scopes": ["agents:write", "agents:read", "channels:engineering/*"]},
               token=ADMIN_TOKEN)
    assert w.status == 201, "create agents token: %r" % w
    wt = w.json()["token"]
    r = g.post("/api/v1/agents", body={"name": "engineering/test-agent", "description": "integration"}, token=wt)
    assert r.status == 201, "register agent: %r" % r
    j = r.json()
    assert j.get("name") == "engineering/test-agent" and j.get("namespace") == "engineering" \
        and j.get("agent") == "test-agent" and j.get("channel") == "engineering/test-agent" and "memory" in j, \
        "register body %r" % j
    assert_error(g.post("/api/v1/agents", body={"name": "engineering/test-agent"}, token=wt), 409, "conflict")
    e = assert_error(g.post("/api/v1/agents", body={"name": "marketing/sneaky"}, token=wt), 403, "forbidden")
    assert "marketing" in e["message"], e["message"]
    for bad in ("engineering", "engineering/", "engineering/../x", "Engineering/x", "engineering/x/y",
                "engineering/" + "a" * 64, "engineering/.hidden", "", "engineering/x y"):
        assert_error(g.post("/api/v1/agents", body={"name": bad}, token=wt), 400)
    assert_error(g.post("/api/v1/agents", body={"name": 5}, token=wt), 400)
    # list: this token sees engineering only
    r = g.get("/api/v1/agents", token=wt)
    assert r.status == 200, repr(r)
    agents = r.json()["agents"]
    names = {a["name"]: a for a in agents}
    assert "engineering/test-agent" in names and "engineering/code-reviewer" in names, "list %r" % list(names)
    assert not any(n.startswith("marketing/") for n in names), "engineering-scoped list shows marketing: %r" % list(names)
    assert names["engineering/test-agent"]["source"] == "api" and names["engineering/code-reviewer"]["source"] == "config"
    for a in agents:
        for k in ("name", "namespace", "channel", "description", "source"):
            assert k in a, "agent entry lacks %r: %r" % (k, a)
    r = g.get("/api/v1/agents?namespace=marketing", token=ADMIN_TOKEN)
    assert r.status == 200 and {a["namespace"] for a in r.json()["agents"]} == {"marketing"}, repr(r)
    # the new agent is usable at once: message and memory (404 before the first write)
    assert g.get("/api/v1/memory/engineering/test-agent", token=ENG_TOKEN).status == 404
    assert g.put_memory("engineering/test-agent", "hello\n", ENG_TOKEN).status == 200
    r = g.post("/api/v1/channels/engineering/test-agent/messages", body={"content": "hi"}, token=ENG_TOKEN)
    assert r.status == 202, "message to new agent: %r" % r
    assert_error(g.post("/api/v1/channels/engineering/no-such-agent/messages", body={"content": "hi"},
                        token=ENG_TOKEN), 404, "not_found")


def test_message_stored_and_audited():
    g = GW()
    content = "please review PR 42 " + os.urandom(4).hex()
    r = g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": content}, token=ENG_TOKEN)
    assert r.status == 202, repr(r)
    j = r.json()
    assert j.get("id", "").startswith("msg_") and j.get("channel") == "engineering/code-reviewer" \
        and j.get("status") == "stored", "message body %r" % j
    rid = r.header("X-Request-Id")
    c = g.db()
    row = c.execute("SELECT * FROM messages WHERE id=?", (j["id"],)).fetchone()
    c.close()
    assert row is not None and row["content"] == content and row["channel"] == "engineering/code-reviewer" \
        and row["tenant"] == TENANT, "message row %r" % (dict(row) if row else None)
    rows = g.audit_rows_for(rid)
    sent = [x for x in rows if x["type"] == "message.sent"]
    assert len(sent) == 1, "audit rows for the message request: %r" % rows
    a = sent[0]
    assert a["resource"] == "engineering/code-reviewer" and a["tenant"] == TENANT and a["outcome"] == "ok" \
        and a["actor"] == "token:team-engineering" and a["token_id"] == "team-engineering", \
        "message.sent row %r" % a
    assert a["status"] == 202, "message.sent row has status %r; docs/API.md's example row records 202" % a["status"]
    assert a["details"].get("message_id") == j["id"], "details %r" % a["details"]
    # an empty / missing content is a 400
    assert_error(g.post("/api/v1/channels/engineering/code-reviewer/messages", body={}, token=ENG_TOKEN), 400)
    assert_error(g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": 5}, token=ENG_TOKEN), 400)


def test_tenant_cannot_be_chosen_by_request():
    g = GW()
    r = g.get("/api/v1/auth/userinfo?tenant=other-corp", token=ENG_TOKEN, headers={"X-Tenant-Id": "other-corp"})
    assert r.status in (200, 400), repr(r)
    if r.status == 200:
        assert r.json()["tenant"] == TENANT, "tenant chosen by query/header: %r" % r.json()
    r = g.post("/api/v1/channels/engineering/code-reviewer/messages?tenant=other-corp",
               body={"content": "tenant trick", "tenant": "other-corp"}, token=ENG_TOKEN,
               headers={"X-Tenant-Id": "other-corp", "X-Request-Id": "tenant-trick-1"})
    assert r.status in (202, 400), "tenant field: %r" % r
    r = g.post("/api/v1/tokens", body={"scopes": ["agents:read"], "tenant": "other-corp"}, token=ADMIN_TOKEN)
    assert r.status in (201, 400), repr(r)
    if r.status == 201:
        assert r.json()["tenant"] == TENANT, "token created in tenant %r" % r.json()["tenant"]
        who = g.get("/api/v1/auth/userinfo", token=r.json()["token"]).json()
        assert who["tenant"] == TENANT, "token works in tenant %r" % who["tenant"]
    r = g.post("/api/v1/agents", body={"name": "engineering/tenant-agent", "tenant": "other-corp"}, token=ADMIN_TOKEN)
    assert r.status in (201, 400), repr(r)
    q = g.get("/api/v1/audit?tenant=other-corp&limit=50", token=ADMIN_TOKEN)
    assert q.status in (200, 400), repr(q)
    if q.status == 200:
        assert all(e["tenant"] == TENANT for e in q.json()["events"]), "audit query switched tenant"
    g.get("/api/v1/status")  # let the async queue drain a little
    c = g.db()
    try:
        tenants = {t for (t,) in c.execute("SELECT DISTINCT tenant FROM audit_events")}
        tenants |= {t for (t,) in c.execute("SELECT DISTINCT tenant FROM messages")}
        tenants |= {t for (t,) in c.execute("SELECT DISTINCT tenant FROM tokens")}
        tenants |= {t for (t,) in c.execute("SELECT DISTINCT tenant FROM agents")}
    finally:
        c.close()
    assert tenants == {TENANT}, "rows in tenants %r (only %r is configured)" % (tenants, TENANT)
    rows = [json.loads(ln) for ln in open(g.audit_log_path, "rb").read().splitlines() if ln.strip()]
    assert all(x.get("tenant") == TENANT for x in rows if x.get("type") != "key"), \
        "audit file has other tenants"


def test_marketing_intact_at_end():
    g = GW()
    _assert_marketing_intact(g)
    assert g.alive()


if __name__ == "__main__":
    gwtest.main(globals())
