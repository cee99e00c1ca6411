# SPDX-License-Identifier: MIT
"""The tamper-evident audit trail: one event per API request with the documented fields,
query filters, cursor pagination, role-scoped visibility, streamed JSONL/CSV export with
formula-injection neutralization, verification (API and CLI) and detection of every kind of
tampering in the store and in the JSONL file, fail-closed mutations when the audit sink cannot
be written, PII hashing and log_content: false."""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, MKT_TOKEN, TENANT, assert_error

USERS = {
    "alice@company.com": ("org_admin", "engineering", None),
    "bob@company.com": ("team_lead", "engineering/platform", "platform"),
    "carol@company.com": ("user", "engineering/platform", "platform"),
    "dave@company.com": ("user", "marketing", "brand"),
    "erin@company.com": ("enterprise_admin", None, None),
}
UTOK = {u: "tok-%s-%s" % (u.split("@")[0], hashlib.sha256(u.encode()).hexdigest()[:32]) for u in USERS}


def _identity_cfg(**over):
    cfg = gwtest.allow_exports(gwtest.seed_config(**over))
    users = []
    for u, (role, ou, team) in USERS.items():
        d = {"id": u, "email": u, "name": u.split("@")[0].title(), "role": role}
        if ou:
            d["org_unit"] = ou
        if team:
            d["team"] = team
        users.append(d)
    cfg["identity"] = {
        "org_units": ["engineering", "engineering/platform", "marketing"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "brand", "org_unit": "marketing"}],
        "users": users,
    }
    for u in USERS:
        ns = "marketing" if u.startswith("dave") else "engineering"
        cfg["auth"]["tokens"].append({"id": "tok-" + u.split("@")[0], "token": UTOK[u], "owner": u,
                                      "scopes": ["channels:%s/*" % ns, "memory:read", "audit:read",
                                                 "audit:export"]})
    return cfg


def _make():
    return gwtest.Gateway(_identity_cfg()).start()


GW = gwtest.Lazy(_make)


def _flush(g, timeout=5):
    """Waits until the audit queue is empty (status.audit.queue_depth == 0)."""
    def done():
        j = g.get("/api/v1/status").json()
        return j.get("audit", {}).get("queue_depth") == 0
    gwtest.wait_until(done, timeout=timeout, what="audit queue to drain")


def _all_rows(g, token=ADMIN_TOKEN, limit=1000, max_pages=200, **filters):
    rows, cursor = [], None
    for _ in range(max_pages):
        j = g.audit_query(token=token, limit=limit, cursor=cursor, **filters)
        rows += j["events"]
        cursor = j.get("next_cursor")
        if not cursor:
            return rows
    raise AssertionError("pagination did not end within %d pages" % max_pages)


def _ts(s):
    assert isinstance(s, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s), "ts %r not RFC 3339 UTC" % s
    return datetime.strptime(s.replace("Z", "+0000") if "." in s else s.replace("Z", ".000+0000"),
                             "%Y-%m-%dT%H:%M:%S.%f%z")


# --- every request is an audit event ----------------------------------------------------------

def test_every_request_audited_with_fields():
    g = GW()
    g.put_memory("engineering/code-reviewer", "seed\n", ENG_TOKEN)
    reqs = [
        ("GET", "/api/v1/memory/engineering/code-reviewer", None, ENG_TOKEN, 200),
        ("PUT", "/api/v1/memory/engineering/code-reviewer", b"audited write\n", ENG_TOKEN, 200),
        ("GET", "/api/v1/memory/marketing/content-writer", None, ENG_TOKEN, 403),
        ("POST", "/api/v1/channels/engineering/code-reviewer/messages", {"content": "audit me"}, ENG_TOKEN, 202),
        ("GET", "/api/v1/tokens", None, ADMIN_TOKEN, 200),
        ("GET", "/api/v1/agents", None, ADMIN_TOKEN, 200),
        ("GET", "/api/v1/auth/userinfo", None, "unknown-token-abcdefabcdefabcdef", 401),
        ("GET", "/api/v1/no-such-thing", None, ADMIN_TOKEN, 404),
        ("POST", "/api/v1/channels/engineering/code-reviewer/messages", b"{bad json", ENG_TOKEN, 400),
    ]
    before = len(g.store_audit_rows())
    for i, (m, p, body, tok, want) in enumerate(reqs):
        rid = "every-%d-%s" % (i, os.urandom(3).hex())
        hdrs = {"X-Request-Id": rid}
        if isinstance(body, bytes):
            hdrs["Content-Type"] = "text/markdown" if m == "PUT" else "application/json"
        r = g.req(m, p, body=body, token=tok, headers=hdrs)
        assert r.status == want, "%s %s -> %r (want %d)" % (m, p, r, want)
        rows = g.audit_rows_for(rid)
        assert rows, "no audit event for %s %s (request %s, HTTP %d)" % (m, p, rid, r.status)
        for row in rows:
            for k in ("tenant", "seq", "ts", "type", "outcome", "actor", "resource", "request_id",
                      "client_ip", "classification", "status", "details", "prev_hash", "hash"):
                assert k in row, "audit row lacks %r: %r" % (k, row)
            assert row["request_id"] == rid and row["tenant"] == TENANT, repr(row)
            _ts(row["ts"])
            assert row["classification"] in ("public", "internal", "confidential", "restricted"), repr(row)
            assert row["outcome"] in ("ok", "denied", "error", "failed"), repr(row)
            assert row["client_ip"] == "127.0.0.1", "client_ip %r" % row["client_ip"]
            assert re.fullmatch(r"[0-9a-f]{64}", row["hash"]) and re.fullmatch(r"[0-9a-f]{64}", row["prev_hash"]), repr(row)
        # Mutations are audited synchronously *before* they are applied, so their row may carry
        # status 0 (not yet known); everything else records the status answered.
        sync_mutation = m in ("PUT", "POST") and want < 400
        assert any(x["status"] == want or (sync_mutation and x["status"] == 0) for x in rows), \
            "no row records HTTP %d: %r" % (want, rows)
        if want in (401, 403):
            assert any(x["outcome"] in ("denied", "failed") for x in rows), "refusal not recorded as denied: %r" % rows
        if want < 400:
            assert any(x["outcome"] == "ok" for x in rows), "success not recorded as ok: %r" % rows
    _flush(g)
    after = len(g.store_audit_rows())
    assert after - before >= len(reqs), "only %d events for %d requests" % (after - before, len(reqs))


def test_typed_events_tokens_memory_auth_reload():
    g = GW()
    r = g.post("/api/v1/tokens", body={"id": "audited-tok", "scopes": ["agents:read"]}, token=ADMIN_TOKEN,
               headers={"X-Request-Id": "tok-create-1"})
    assert r.status == 201, repr(r)
    secret = r.json()["token"]
    r = g.post("/api/v1/tokens/audited-tok/rotate", token=ADMIN_TOKEN, headers={"X-Request-Id": "tok-rotate-1"})
    assert r.status == 200, repr(r)
    r = g.req("DELETE", "/api/v1/tokens/audited-tok", token=ADMIN_TOKEN, headers={"X-Request-Id": "tok-revoke-1"})
    assert r.status == 200, repr(r)
    g.put_memory("engineering/code-reviewer", "typed\n", ENG_TOKEN)
    g.get("/api/v1/memory/engineering/code-reviewer", token=ENG_TOKEN, headers={"X-Request-Id": "mem-read-1"})
    g.req("PUT", "/api/v1/memory/engineering/code-reviewer", body=b"typed2\n", token=ENG_TOKEN,
          headers={"X-Request-Id": "mem-write-1", "Content-Type": "text/plain"})
    g.get("/api/v1/auth/userinfo", token="nope-" + "n" * 30, headers={"X-Request-Id": "auth-fail-1"})
    r = g.post("/api/v1/admin/reload", token=ADMIN_TOKEN, headers={"X-Request-Id": "reload-1"})
    assert r.status == 200, repr(r)
    expect = {"tok-create-1": ("token.", "create", "audited-tok"), "tok-rotate-1": ("token.", "rotat", "audited-tok"),
              "tok-revoke-1": ("token.", "revok", "audited-tok"), "mem-read-1": ("memory.", "read", "engineering/code-reviewer"),
              "mem-write-1": ("memory.", "writ", "engineering/code-reviewer"), "auth-fail-1": ("auth.", "fail", None),
              "reload-1": ("config.", "reload", None)}
    for rid, (prefix, word, resource) in expect.items():
        rows = g.audit_rows_for(rid)
        typed = [x for x in rows if x["type"].startswith(prefix) and word in x["type"]]
        assert typed, "request %s: no %s*%s* event in %r" % (rid, prefix, word, [(x["type"], x["outcome"]) for x in rows])
        if resource:
            assert any(x["resource"] == resource for x in typed), "%s: resource %r" % (rid, [x["resource"] for x in typed])
    assert secret not in json.dumps(_all_rows(g)), "token secret in the audit trail"
    # SIGHUP reload is audited as well
    n0 = len([x for x in g.store_audit_rows() if x["type"].startswith("config.")])
    g.sighup()
    gwtest.wait_until(lambda: len([x for x in g.store_audit_rows() if x["type"].startswith("config.")]) > n0,
                      timeout=5, what="a config.* audit event after SIGHUP")


# --- query -----------------------------------------------------------------------------------

def test_query_filters():
    g = GW()
    g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": "f1"}, token=ENG_TOKEN)
    g.post("/api/v1/channels/marketing/content-writer/messages", body={"content": "f2"}, token=MKT_TOKEN)
    g.get("/api/v1/memory/marketing/content-writer", token=ENG_TOKEN)  # denied
    _flush(g)
    j = g.audit_query(user="token:team-engineering", limit=1000)
    assert j["events"] and all(e["actor"] == "token:team-engineering" for e in j["events"]), \
        "user filter: %r" % {e["actor"] for e in j["events"]}
    j = g.audit_query(event="message.*", limit=1000)
    assert j["events"] and all(e["type"].startswith("message.") for e in j["events"]), "event prefix filter"
    j = g.audit_query(event="message.sent", limit=1000)
    assert j["events"] and all(e["type"] == "message.sent" for e in j["events"]), "event exact filter"
    j = g.audit_query(channel="marketing/content-writer", limit=1000)
    assert j["events"] and all(e["resource"] == "marketing/content-writer" for e in j["events"]), "channel filter"
    j = g.audit_query(outcome="denied", limit=1000)
    assert j["events"] and all(e["outcome"] == "denied" for e in j["events"]), "outcome filter"
    allrows = _all_rows(g)
    seqs = [e["seq"] for e in allrows]
    assert seqs == sorted(seqs, reverse=True), "query not newest first"
    mid = allrows[len(allrows) // 2]
    t_mid = _ts(mid["ts"])
    since = g.audit_query(since=mid["ts"], limit=1000)["events"]
    assert since and all(_ts(e["ts"]) >= t_mid for e in since), "since filter"
    assert any(e["seq"] == mid["seq"] for e in since), "since is inclusive"
    until = g.audit_query(until=mid["ts"], limit=1000)["events"]
    assert until and all(_ts(e["ts"]) <= t_mid for e in until), "until filter"
    future = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert g.audit_query(since=future)["events"] == [], "since in the future returns rows"
    combo = g.audit_query(user="token:team-engineering", event="message.*", outcome="ok", limit=1000)["events"]
    assert combo and all(e["actor"] == "token:team-engineering" and e["type"].startswith("message.") and e["outcome"] == "ok"
                         for e in combo), "combined filters"
    for bad in ("limit=0", "limit=1001", "limit=abc", "since=yesterday", "until=2025-13-45T00:00:00Z", "cursor=zz!"):
        r = g.get("/api/v1/audit?" + bad, token=ADMIN_TOKEN)
        assert_error(r, 400, "invalid_request")
    assert_error(g.get("/api/v1/audit", token=ENG_TOKEN), 403, "forbidden", msg_contains="audit:read")


def test_cursor_pagination_each_row_once():
    g = GW()
    for i in range(30):
        g.get("/api/v1/agents", token=ADMIN_TOKEN)
    _flush(g)
    first = g.audit_query(limit=7)
    top = first["events"][0]["seq"]
    seen, cursor, pages = [e["seq"] for e in first["events"]], first["next_cursor"], 1
    while cursor and pages < 500:
        j = g.audit_query(limit=7, cursor=cursor)
        assert len(j["events"]) <= 7, "page larger than limit"
        seen += [e["seq"] for e in j["events"]]
        cursor = j["next_cursor"]
        pages += 1
    assert cursor is None, "pagination did not finish"
    assert seen == sorted(seen, reverse=True), "pages not in descending seq order"
    assert len(seen) == len(set(seen)), "a row appeared twice across pages"
    assert set(seen) == set(range(1, top + 1)), "rows missing from pagination: %r" % sorted(set(range(1, top + 1)) - set(seen))[:10]


def test_role_scoped_visibility():
    g = GW()
    for u in USERS:
        g.get("/api/v1/auth/userinfo", token=UTOK[u])
        ns = "marketing/content-writer" if u.startswith("dave") else "engineering/code-reviewer"
        g.post("/api/v1/channels/%s/messages" % ns, body={"content": "from " + u}, token=UTOK[u])
    g.get("/api/v1/agents", token=ADMIN_TOKEN)
    _flush(g)
    info = g.get("/api/v1/auth/userinfo", token=UTOK["bob@company.com"]).json()
    assert info.get("user") == "bob@company.com" and info.get("role") == "team_lead" and info.get("team") == "platform", \
        "owner-bound token userinfo %r" % info
    vis = {}
    for u in USERS:
        vis[u] = _all_rows(g, token=UTOK[u])
    actors = {u: {e["actor"] for e in rows} for u, rows in vis.items()}
    assert actors["carol@company.com"] == {"carol@company.com"}, "user sees %r" % actors["carol@company.com"]
    assert actors["dave@company.com"] == {"dave@company.com"}, "user sees %r" % actors["dave@company.com"]
    assert all(e["team"] == "platform" for e in vis["bob@company.com"]), "team_lead sees other teams"
    assert {"bob@company.com", "carol@company.com"} <= actors["bob@company.com"], "team_lead misses own team: %r" % actors["bob@company.com"]
    assert all(e["org_unit"] and (e["org_unit"] == "engineering" or e["org_unit"].startswith("engineering/"))
               for e in vis["alice@company.com"]), "org_admin sees outside its subtree"
    assert {"alice@company.com", "bob@company.com", "carol@company.com"} <= actors["alice@company.com"], \
        "org_admin misses its subtree: %r" % actors["alice@company.com"]
    assert "dave@company.com" not in actors["alice@company.com"]
    assert {"dave@company.com", "carol@company.com", "token:admin"} <= actors["erin@company.com"], \
        "enterprise_admin does not see everything: %r" % actors["erin@company.com"]
    # a user cannot widen its view with filters
    assert g.audit_query(token=UTOK["carol@company.com"], user="dave@company.com")["events"] == [], \
        "user filter widened visibility"
    # export obeys the same visibility
    r = g.get("/api/v1/audit/export?format=jsonl", token=UTOK["carol@company.com"])
    assert r.status == 200, repr(r)
    lines = [json.loads(x) for x in r.body.splitlines() if x.strip()]
    assert lines and {x["actor"] for x in lines if "prev_hash" in x} == {"carol@company.com"}, \
        "export visibility for a user"


# --- export ----------------------------------------------------------------------------------

def test_export_jsonl_and_csv_thousands_streamed():
    g = GW()
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
    for i in range(2100):
        r = gwtest.http_request(g.port, "GET", "/api/v1/agents", token=ADMIN_TOKEN, conn=conn)
        if r.status != 200:
            raise AssertionError("load request %d: %r" % (i, r))
    conn.close()
    _flush(g, timeout=15)
    head = max(x["seq"] for x in g.store_audit_rows())
    r = g.get("/api/v1/audit/export?format=jsonl", token=ADMIN_TOKEN, timeout=30)
    assert r.status == 200, repr(r)
    assert r.header("Content-Length") is None or r.header("Transfer-Encoding"), "export not streamed (Content-Length set)"
    events = [json.loads(x) for x in r.body.splitlines() if x.strip()]
    assert events and events[0].get("type") == "key", "a full export starts with the signing keys"
    heads = [e for e in events if e.get("type") == "head"]
    events = [e for e in events if "prev_hash" in e]
    assert heads and heads[-1]["seq"] >= head, "a full export carries the signed heads"
    seqs = [e["seq"] for e in events]
    assert len(seqs) >= 2100 and seqs[:head] == list(range(1, head + 1)), \
        "JSONL export: %d rows, head %d, first gap at %r" % (len(seqs), head, next((i + 1 for i, s in enumerate(seqs) if s != i + 1), None))
    for e in events[:5]:
        assert "hash" in e and "prev_hash" in e, "export lines are not chain rows: %r" % e
    r = g.get("/api/v1/audit/export?format=csv", token=ADMIN_TOKEN, timeout=30)
    assert r.status == 200, repr(r)
    assert (r.header("Content-Type") or "").startswith("text/csv"), "CSV Content-Type %r" % r.header("Content-Type")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows and "seq" in rows[0], "CSV header %r" % rows[:1]
    assert len(rows) - 1 >= head, "CSV export has %d rows, head is %d (capped?)" % (len(rows) - 1, head)
    r = g.get("/api/v1/audit/export?format=jsonl&event=message.*", token=ADMIN_TOKEN)
    ev = [json.loads(x) for x in r.body.splitlines() if x.strip()]
    assert all(e["type"].startswith("message.") for e in ev if "prev_hash" in e), "export filters ignored"
    assert not [e for e in ev if "prev_hash" not in e], "a filtered export carries no heads"
    assert_error(g.get("/api/v1/audit/export?format=xml", token=ADMIN_TOKEN), 400, "invalid_request")
    tok = g.post("/api/v1/tokens", body={"scopes": ["audit:read"]}, token=ADMIN_TOKEN).json()["token"]
    assert_error(g.get("/api/v1/audit/export?format=jsonl", token=tok), 403, "forbidden", msg_contains="audit:export")


def test_csv_formula_injection_neutralized():
    g = GW()
    evil = "=cmd|' /C calc'!A0"
    r = g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": evil}, token=ENG_TOKEN,
               headers={"X-Request-Id": "-2.3-cmd"})
    assert r.status == 202, repr(r)
    _flush(g)
    r = g.get("/api/v1/audit/export?format=csv&request_id=-2.3-cmd", token=ADMIN_TOKEN)
    assert r.status == 200, repr(r)
    rows = list(csv.reader(io.StringIO(r.text)))
    assert len(rows) >= 2, "CSV export for the request is empty: %r" % r.text[:300]
    cells = [c for row in rows[1:] for c in row]
    bad = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, "CSV cells start with a formula character: %r" % bad
    assert "'-2.3-cmd" in cells, "request_id cell not neutralized to \"'-2.3-cmd\": %r" % rows[1]
    assert any(evil in c for c in cells), "message content (log_content true) not in the CSV export"
    for c in cells:
        if c.startswith("'") and evil in c:
            assert c == "'" + evil, "content cell %r" % c


def test_reading_and_exporting_is_audited():
    g = GW()
    for path, rid in (("/api/v1/audit?limit=5", "audit-read-rid"), ("/api/v1/audit/export?format=jsonl&limit=5", "audit-export-rid"),
                      ("/api/v1/audit/verify", "audit-verify-rid")):
        r = g.get(path, token=ADMIN_TOKEN, headers={"X-Request-Id": rid})
        assert r.status == 200, "%s: %r" % (path, r)
        rows = g.audit_rows_for(rid)
        assert any(x["type"].startswith("audit.") for x in rows), "%s not audited: %r" % (path, rows)


# --- verification ----------------------------------------------------------------------------

def _hash_row(row):
    d = {k: v for k, v in row.items() if k != "hash"}
    canon = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"openclaw-audit-v1\n" + canon.encode("utf-8")).hexdigest()


def test_verify_ok_api_cli_and_independent_chain_check():
    g = GW()
    g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": "verify me ü"}, token=ENG_TOKEN)
    _flush(g)
    r = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN)
    assert r.status == 200, repr(r)
    j = r.json()
    assert j.get("ok") is True and j.get("first_bad_seq") is None and j.get("tenant") == TENANT, "verify %r" % j
    assert j.get("events_checked", 0) >= 10 and j.get("last_seq", 0) >= j["events_checked"] - 1, "verify %r" % j
    assert j.get("checkpoints_checked", 0) >= 3, "a signed head per commit: %r" % j
    assert j.get("signed_events") == j["events_checked"] and j.get("unsigned_events") == 0, j
    assert j.get("anchor") == {"kind": "genesis", "seq": 0} and j.get("roots_checked") is True, j
    r = g.get("/api/v1/audit/head", token=ADMIN_TOKEN)
    assert r.status == 200, repr(r)
    h = r.json()
    for k in ("type", "tenant", "seq", "hash", "root", "ts", "key_id", "signature", "frontier"):
        assert k in h, "head lacks %r: %r" % (k, h)
    assert h["type"] == "head" and h["tenant"] == TENANT
    pk = g.get("/api/v1/audit/public-key")
    assert pk.status == 200 and pk.json().get("algorithm") == "Ed25519" and pk.json().get("key_id") == h["key_id"], repr(pk)
    import base64
    raw = base64.urlsafe_b64decode(pk.json()["public_key"] + "=" * (-len(pk.json()["public_key"]) % 4))
    assert len(raw) == 32, "public key is %d bytes" % len(raw)
    # independent check of the documented hash chain on the JSONL file
    prev = "0" * 64
    n = 0
    for line in g.file_audit_lines():
        if "prev_hash" not in line:
            continue  # signed heads and key lines
        n += 1
        assert line["prev_hash"] == prev, "seq %d: prev_hash does not link" % line["seq"]
        assert _hash_row(line) == line["hash"], "seq %d: hash != SHA-256(\"openclaw-audit-v1\\n\" + canonical JSON)" % line["seq"]
        prev = line["hash"]
    assert n >= 10
    st = os.stat(os.path.join(g.data_dir, "audit_ed25519.pem"))
    assert st.st_mode & 0o077 == 0, "signing key mode %o" % (st.st_mode & 0o777)
    # CLI, against the gateway and offline on the file
    c = gwtest.cli("audit", "verify", "--json", url=g.url, token=ADMIN_TOKEN)
    assert c.rc == 0 and c.json().get("ok") is True, "openclaw audit verify: %r" % c
    c = gwtest.cli("audit", "verify", "--file", g.audit_log_path, "--json", url=g.url, token=ADMIN_TOKEN)
    assert c.rc == 0 and c.json().get("ok") is True, "openclaw audit verify --file: %r" % c


# --- tampering in the store ------------------------------------------------------------------

def _tamper_daemon():
    g = gwtest.Gateway(gwtest.allow_exports(gwtest.seed_config())).start()
    for i in range(12):
        g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": "m%d" % i}, token=ENG_TOKEN)
    r = g.put_memory("engineering/code-reviewer", "last sync event\n", ENG_TOKEN)
    assert r.status == 200
    _flush(g)
    time.sleep(0.2)
    return g


def _db_exec(g, fn):
    if gwtest.PG:  # the gateway's schema, through a connection of our own
        c = g.db()
        try:
            c.execute("BEGIN")
            fn(c)
            c.execute("COMMIT")
        finally:
            c.close()
        return
    c = sqlite3.connect(g.db_path, timeout=10, isolation_level=None)
    try:
        for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            c.execute('DROP TRIGGER "%s"' % name)  # an attacker with file access can do this too
        c.execute("BEGIN IMMEDIATE")
        fn(c)
        c.execute("COMMIT")
    finally:
        c.close()


def _cols(c):
    if gwtest.PG:
        return [r[0] for r in c.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'audit_events' ORDER BY ordinal_position")]
    return [r[1] for r in c.execute("PRAGMA table_info(audit_events)")]


def _store_edit(c, k):
    c.execute("UPDATE audit_events SET details='{\"forged\":true}' WHERE tenant=? AND seq=?", (TENANT, k))


def _store_delete(c, k):
    c.execute("DELETE FROM audit_events WHERE tenant=? AND seq=?", (TENANT, k))


def _store_insert(c, k):
    c.execute("UPDATE audit_events SET seq = seq + 1000000 WHERE tenant=? AND seq>=?", (TENANT, k))
    c.execute("UPDATE audit_events SET seq = seq - 999999 WHERE tenant=? AND seq>=1000000", (TENANT,))
    cols = _cols(c)
    row = list(c.execute("SELECT %s FROM audit_events WHERE tenant=? AND seq=?" % ",".join(cols), (TENANT, k - 1)).fetchone())
    row[cols.index("seq")] = k
    row[cols.index("details")] = '{"inserted":true}'
    c.execute("INSERT INTO audit_events (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))), row)


def _store_reorder(c, k):
    c.execute("UPDATE audit_events SET seq=-1 WHERE tenant=? AND seq=?", (TENANT, k))
    c.execute("UPDATE audit_events SET seq=? WHERE tenant=? AND seq=?", (k, TENANT, k + 1))
    c.execute("UPDATE audit_events SET seq=? WHERE tenant=? AND seq=-1", (k + 1, TENANT))


def _store_case(kind, fn, k=None):
    g = _tamper_daemon()
    try:
        head = max(x["seq"] for x in g.store_audit_rows())
        assert head >= 12, "too few events (%d)" % head
        if k is None:  # truncate: drop the last 3 rows
            expected = head - 2
            _db_exec(g, lambda c: c.execute("DELETE FROM audit_events WHERE tenant=? AND seq>?", (TENANT, head - 3)))
        else:
            expected = k
            _db_exec(g, lambda c: fn(c, k))
        r = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN)
        assert r.status == 200, "verify after %s: %r" % (kind, r)
        j = r.json()
        assert j.get("ok") is False, "store %s at seq %d not detected: %r" % (kind, expected, j)
        assert j.get("first_bad_seq") == expected, "store %s: first_bad_seq %r, expected %d (%r)" % (
            kind, j.get("first_bad_seq"), expected, j.get("reason"))
        assert j.get("reason"), "no reason given"
        c = gwtest.cli("audit", "verify", "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc != 0, "CLI verify exit 0 on a tampered store (%s): %r" % (kind, c)
        assert c.json().get("first_bad_seq") == expected, "CLI verify (%s): %r" % (kind, c)
        assert g.alive()
    finally:
        g.stop()


def test_store_tamper_edit():
    _store_case("edit", _store_edit, 5)


def test_store_tamper_delete():
    _store_case("delete", _store_delete, 5)


def test_store_tamper_insert():
    _store_case("insert", _store_insert, 5)


def test_store_tamper_reorder():
    _store_case("reorder", _store_reorder, 5)


def test_store_tamper_truncate():
    _store_case("truncate", None, None)


# --- tampering in the JSONL file -------------------------------------------------------------

FILE_GW = gwtest.Lazy(_tamper_daemon)


def _file_lines(g):
    with open(g.audit_log_path, "rb") as f:
        return [ln for ln in f.read().splitlines() if ln.strip()]


def _seq_index(lines, seq):
    for i, ln in enumerate(lines):
        j = json.loads(ln)
        if "prev_hash" in j and j.get("seq") == seq:
            return i
    raise AssertionError("seq %d not in the file" % seq)


def _verify_file(g, lines, kind, expected):
    p = os.path.join(gwtest.tempdir(), "tampered-%s.jsonl" % kind)
    with open(p, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    c = gwtest.cli("audit", "verify", "--file", p, "--json", url=g.url, token=ADMIN_TOKEN)
    j = c.json()
    if expected is None:
        assert c.rc == 0 and j.get("ok") is True, "untampered copy does not verify: %r" % c
    else:
        assert c.rc != 0 and j.get("ok") is False, "file %s not detected: %r" % (kind, c)
        assert j.get("first_bad_seq") == expected, "file %s: first_bad_seq %r, expected %d: %r" % (
            kind, j.get("first_bad_seq"), expected, c)


def test_file_copy_untampered_verifies():
    g = FILE_GW()
    _verify_file(g, _file_lines(g), "none", None)


def test_file_tamper_edit():
    g = FILE_GW()
    lines = _file_lines(g)
    i = _seq_index(lines, 5)
    row = json.loads(lines[i])
    row["outcome"] = "denied" if row["outcome"] == "ok" else "ok"
    lines[i] = json.dumps(row, sort_keys=True, separators=(",", ":")).encode()
    _verify_file(g, lines, "edit", 5)


def test_file_tamper_delete():
    g = FILE_GW()
    lines = _file_lines(g)
    del lines[_seq_index(lines, 5)]
    _verify_file(g, lines, "delete", 5)


def test_file_tamper_insert():
    g = FILE_GW()
    lines = _file_lines(g)
    i = _seq_index(lines, 5)
    forged = json.loads(lines[i])
    forged["details"] = {"inserted": True}
    forged["hash"] = _hash_row(forged)  # a well-formed row that does not belong to the chain
    lines.insert(i, json.dumps(forged, separators=(",", ":")).encode())
    # The forged row links to seq 4 and hashes correctly, but the file now holds two rows with
    # seq 5 and the signed head at seq 5 names the genuine hash: the first bad seq is 5
    # (not 6: no row with seq 6 was touched).
    _verify_file(g, lines, "insert", 5)


def test_file_tamper_insert_naive():
    g = FILE_GW()
    lines = _file_lines(g)
    i = _seq_index(lines, 5)
    forged = json.loads(lines[i - 1] if i else lines[i])
    forged["seq"] = 5
    forged["details"] = {"inserted": True}  # hash left as copied: does not match
    lines.insert(i, json.dumps(forged, separators=(",", ":")).encode())
    _verify_file(g, lines, "insert-naive", 5)


def test_file_tamper_reorder():
    g = FILE_GW()
    lines = _file_lines(g)
    i, j = _seq_index(lines, 5), _seq_index(lines, 6)
    lines[i], lines[j] = lines[j], lines[i]
    _verify_file(g, lines, "reorder", 5)


def test_file_tamper_truncate():
    g = FILE_GW()
    lines = _file_lines(g)
    heads = [k for k, ln in enumerate(lines) if json.loads(ln).get("type") == "head"]
    assert heads, "no signed head in the file"
    k = heads[-1]
    s = json.loads(lines[k])["seq"]
    # cut the last three events the head covers, keep the heads
    keep = [ln for ln in lines[:k + 1] if "prev_hash" not in json.loads(ln) or json.loads(ln)["seq"] <= s - 3]
    _verify_file(g, keep, "truncate", s - 2)


# --- fail-closed audit sink ------------------------------------------------------------------

def _swap_link(link, target):
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def test_unwritable_sink_refuses_mutations():
    g0 = gwtest.Gateway(gwtest.allow_exports(gwtest.seed_config()))
    real = os.path.join(g0.data_dir, "real-audit.jsonl")
    link = os.path.join(g0.data_dir, "audit-link.jsonl")
    open(real, "wb").close()
    os.symlink(real, link)
    g0.config["audit"]["log_path"] = link
    g0.write_config(g0.config)
    g = g0.start()
    try:
        assert g.put_memory("engineering/code-reviewer", "v1\n", ENG_TOKEN).status == 200
        r = g.post("/api/v1/tokens", body={"id": "pre-outage", "scopes": ["agents:read"]}, token=ADMIN_TOKEN)
        assert r.status == 201
        pre_secret = r.json()["token"]
        _flush(g)
        size_before = os.path.getsize(real)
        assert size_before > 0, "the audit file behind the symlink was not written"
        _swap_link(link, "/dev/full")
        g.sighup()
        time.sleep(0.5)
        r = g.put_memory("engineering/code-reviewer", "v2 during outage\n", ENG_TOKEN)
        assert_error(r, 503, "audit_unavailable")
        with open(os.path.join(g.data_dir, "memory", "engineering", "code-reviewer.md")) as f:
            assert f.read() == "v1\n", "memory changed although the audit write failed"
        assert_error(g.post("/api/v1/tokens", body={"id": "during-outage", "scopes": ["agents:read"]}, token=ADMIN_TOKEN),
                     503, "audit_unavailable")
        assert_error(g.post("/api/v1/tokens/pre-outage/rotate", token=ADMIN_TOKEN), 503, "audit_unavailable")
        assert_error(g.req("DELETE", "/api/v1/tokens/pre-outage", token=ADMIN_TOKEN), 503, "audit_unavailable")
        assert_error(g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": "lost?"},
                            token=ENG_TOKEN), 503, "audit_unavailable")
        assert_error(g.post("/api/v1/agents", body={"name": "engineering/outage-agent"}, token=ADMIN_TOKEN),
                     503, "audit_unavailable")
        rz = g.get("/readyz")
        assert rz.status == 503 and rz.json().get("checks", {}).get("audit") not in (None, "ok"), \
            "readyz during the audit outage: %r" % rz
        assert g.alive()
        # recover
        _swap_link(link, real)
        g.sighup()
        time.sleep(0.5)
        gwtest.wait_until(lambda: g.put_memory("engineering/code-reviewer", "v3\n", ENG_TOKEN).status == 200,
                          timeout=5, what="mutations to work again after the sink is restored")
        toks = {t["id"] for t in g.get("/api/v1/tokens", token=ADMIN_TOKEN).json()["tokens"]}
        assert "during-outage" not in toks, "token created although its audit event failed"
        assert g.get("/api/v1/auth/userinfo", token=pre_secret).status == 200, "rotate/revoke applied during the outage"
        agents = {a["name"] for a in g.get("/api/v1/agents", token=ADMIN_TOKEN).json()["agents"]}
        assert "engineering/outage-agent" not in agents, "agent registered although audit failed"
        c = g.db()
        lost = c.execute("SELECT count(*) FROM messages WHERE content='lost?'").fetchone()[0]
        c.close()
        assert lost == 0, "message stored although audit failed"
        gwtest.wait_until(lambda: g.get("/readyz").status == 200, timeout=5, what="readyz 200 after recovery")
        _flush(g)
        v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
        assert v.get("ok") is True, "chain broken after the outage: %r" % v
        c = gwtest.cli("audit", "verify", "--file", real, "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0 and c.json().get("ok") is True, "file chain broken after the outage: %r" % c
    finally:
        g.stop()


def test_dev_full_log_path_fails_closed():
    cfg = gwtest.allow_exports(gwtest.seed_config())
    cfg["audit"]["log_path"] = "/dev/full"
    g = gwtest.Gateway(cfg)
    g.start(wait=False)
    try:
        deadline = time.time() + 10
        state = None
        while time.time() < deadline:
            if g.proc.poll() is not None:
                state = "exited"
                break
            try:
                r = gwtest.http_request(g.port, "GET", "/readyz", timeout=2)
                state = r.status
                break
            except OSError:
                time.sleep(0.05)
        assert state is not None, "neither ready nor exited within 10 s"
        if state == "exited":
            assert g.proc.returncode != 0, "exited 0 with an unwritable audit log"
            assert g.stderr().strip(), "exited without saying why"
            return
        r = g.put_memory("engineering/code-reviewer", "must not land\n", ENG_TOKEN)
        assert_error(r, 503, "audit_unavailable")
        p = os.path.join(g.data_dir, "memory", "engineering", "code-reviewer.md")
        assert not os.path.exists(p) or open(p).read() != "must not land\n", "memory written without audit"
        r = g.post("/api/v1/tokens", body={"scopes": ["agents:read"]}, token=ADMIN_TOKEN)
        assert_error(r, 503, "audit_unavailable")
        assert g.get("/readyz").status == 503, "readyz 200 with an unwritable audit sink"
    finally:
        if g.alive():
            g.stop(check=False)


# --- PII and content -------------------------------------------------------------------------

def _content_case(audit_over, check):
    cfg = gwtest.allow_exports(gwtest.seed_config())
    cfg["audit"].update(audit_over)
    g = gwtest.Gateway(cfg).start()
    try:
        content = "customer SSN 078-05-1120 " + os.urandom(5).hex()
        r = g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": content}, token=ENG_TOKEN)
        assert r.status == 202, repr(r)
        rid = r.header("X-Request-Id")
        _flush(g)
        with open(g.audit_log_path, encoding="utf-8") as f:
            ftext = f.read()
        c = g.db()
        stext = json.dumps([dict(x) for x in c.execute("SELECT * FROM audit_events")])
        c.close()
        ex = g.get("/api/v1/audit/export?format=jsonl", token=ADMIN_TOKEN).text
        for where, t in (("audit file", ftext), ("store", stext), ("export", ex)):
            assert content not in t, "message content in the %s" % where
        rows = [x for x in g.audit_rows_for(rid) if x["type"] == "message.sent"]
        assert rows, "no message.sent row"
        check(rows[0]["details"].get("content"), content)
        assert g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json().get("ok") is True
    finally:
        g.stop()


def test_pii_hash():
    def check(v, content):
        assert isinstance(v, str) and re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", v), "content stored as %r" % v
        assert v != "hmac-sha256:" + hashlib.sha256(content.encode()).hexdigest(), "plain SHA-256, not keyed"
    _content_case({"piiFields": ["content"], "piiHandling": "hash"}, check)


def test_log_content_false():
    def check(v, content):
        assert v == {"omitted": True, "length": len(content.encode())}, "content stored as %r" % (v,)
    _content_case({"log_content": False}, check)


def test_log_level_metadata_keeps_content_out():
    def check(v, content):
        assert v == {"omitted": True, "length": len(content.encode())}, "content stored as %r" % (v,)
    _content_case({"log_level": "metadata"}, check)


def test_export_is_a_data_export_the_data_policy_decides():
    # without a data policy exports are denied (default deny), and the decision is audited
    g = gwtest.Gateway(gwtest.seed_config()).start()
    try:
        r = g.get("/api/v1/audit/export", token=ADMIN_TOKEN,
                  headers={"X-Request-Id": "export-denied-1"})
        assert_error(r, 403, "forbidden", "denied by policy")
        rows = g.audit_rows_for("export-denied-1")
        assert any(e["type"] == "policy.decision" and e["details"]["action"] == "data_export"
                   for e in rows), rows
    finally:
        g.stop()
    # allowed internally up to confidential, but never outside the tenant above internal
    g = gwtest.Gateway(gwtest.allow_exports(gwtest.seed_config())).start()
    try:
        assert g.get("/api/v1/audit/export", token=ADMIN_TOKEN).status == 200
        r = g.get("/api/v1/audit/export?destination=external", token=ADMIN_TOKEN)
        assert_error(r, 403, "forbidden", "external_sharing_max")
        assert_error(g.get("/api/v1/audit/export?destination=mars", token=ADMIN_TOKEN), 400)
    finally:
        g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
