# SPDX-License-Identifier: MIT
"""Scoped gateway tokens (seed 003): authentication failures, scope checks, run-time token
management through the API and the CLI, secrets kept out of the audit trail, throttling of
failed authentications."""

import json
import os
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, MKT_TOKEN, TENANT, assert_error

EXPIRED_TOKEN = "expired-token-" + "e" * 32


def _make():
    cfg = gwtest.allow_exports(gwtest.seed_config())
    cfg["auth"]["tokens"].append({"id": "expired-one", "token": EXPIRED_TOKEN,
                                  "scopes": ["agents:read"], "expires_at": "2020-01-01T00:00:00Z"})
    return gwtest.Gateway(cfg).start()


GW = gwtest.Lazy(_make)
SECRETS = []  # every secret minted here; none may reach the audit trail


def _create(g, body, token=ADMIN_TOKEN, expect=201):
    r = g.post("/api/v1/tokens", body=body, token=token)
    assert r.status == expect, "create token %r: %r" % (body, r)
    if expect == 201:
        j = r.json()
        SECRETS.append(j["token"])
        return j
    return r


def _whoami(g, tok):
    return g.get("/api/v1/auth/userinfo", token=tok)


def test_seed_tokens_authenticate():
    g = GW()
    for tok, tid in ((ENG_TOKEN, "team-engineering"), (MKT_TOKEN, "team-marketing"), (ADMIN_TOKEN, "admin")):
        r = _whoami(g, tok)
        assert r.status == 200, "%s: %r" % (tid, r)
        assert r.json().get("token_id") == tid and r.json().get("tenant") == TENANT, repr(r.json())


def test_401_variants():
    g = GW()
    cases = [({}, "no header"), ({"Authorization": "Bearer"}, "Bearer alone"),
             ({"Authorization": "Bearer "}, "Bearer + space"), ({"Authorization": "Basic eDp5"}, "Basic"),
             ({"Authorization": "bearer"}, "lowercase bearer alone"),
             ({"Authorization": "Bearer " + ENG_TOKEN + "x"}, "token with suffix"),
             ({"Authorization": "Bearer " + ENG_TOKEN[:-1]}, "token prefix"),
             ({"Authorization": "Bearer unknown-token-0000000000000000"}, "unknown token"),
             ({"Authorization": "Bearer " + EXPIRED_TOKEN}, "expired config token"),
             ({"Authorization": "Token " + ENG_TOKEN}, "wrong scheme")]
    for hdrs, what in cases:
        r = g.get("/api/v1/auth/userinfo", headers=hdrs)
        assert_error(r, 401, "unauthenticated")
        assert (r.header("WWW-Authenticate") or "").startswith("Bearer"), \
            "%s: no WWW-Authenticate: Bearer" % what


def test_403_names_missing_scope():
    g = GW()
    e = assert_error(g.get("/api/v1/memory/marketing/content-writer", token=ENG_TOKEN), 403, "forbidden")
    assert "channels:marketing/content-writer" in e["message"], "403 message %r" % e["message"]
    e = assert_error(g.put_memory("marketing/content-writer", "x", MKT_TOKEN), 403, "forbidden")
    assert "memory:write" in e["message"], "403 message %r does not name memory:write" % e["message"]
    e = assert_error(g.get("/api/v1/tokens", token=ENG_TOKEN), 403, "forbidden")
    assert "tokens:read" in e["message"], "403 message %r" % e["message"]
    e = assert_error(g.post("/api/v1/tokens", body={"scopes": ["memory:read"]}, token=ENG_TOKEN), 403, "forbidden")
    assert "tokens:write" in e["message"], "403 message %r" % e["message"]


def test_create_token_api_works_immediately_and_list_hides_secret():
    g = GW()
    j = _create(g, {"id": "ci-bot", "scopes": ["channels:engineering/*", "memory:read"], "expires_in": 3600})
    for k in ("id", "token", "tenant", "owner", "scopes", "created_at", "expires_at"):
        assert k in j, "create response lacks %r: %r" % (k, j)
    assert j["id"] == "ci-bot" and j["tenant"] == TENANT, repr(j)
    assert j["expires_at"], "expires_in given but expires_at %r" % j["expires_at"]
    r = _whoami(g, j["token"])
    assert r.status == 200 and r.json().get("token_id") == "ci-bot", "new token: %r" % r
    r = g.get("/api/v1/memory/engineering/code-reviewer", token=j["token"])
    assert r.status in (200, 404), "new token cannot read engineering memory: %r" % r
    assert g.put_memory("engineering/code-reviewer", "x", j["token"]).status == 403, \
        "token without memory:write could write"
    r = g.get("/api/v1/tokens", token=ADMIN_TOKEN)
    assert r.status == 200, repr(r)
    toks = r.json()["tokens"]
    mine = [t for t in toks if t["id"] == "ci-bot"]
    assert len(mine) == 1, "ci-bot not listed once: %r" % [t["id"] for t in toks]
    t = mine[0]
    for k in ("id", "tenant", "owner", "scopes", "source", "created_at", "expires_at", "revoked_at", "last_used_at"):
        assert k in t, "listed token lacks %r: %r" % (k, t)
    assert t["source"] == "api", "source %r" % t["source"]
    assert "token" not in t and "hash" not in t and "secret" not in t, "list exposes secret fields: %r" % t
    assert j["token"] not in r.text, "list response contains the secret"
    cfg_ids = {x["id"]: x for x in toks}
    assert cfg_ids.get("team-engineering", {}).get("source") == "config", "config tokens not listed as config"
    assert ENG_TOKEN not in r.text and ADMIN_TOKEN not in r.text, "list leaks config secrets"
    # the same id again: 409
    assert_error(g.post("/api/v1/tokens", body={"id": "ci-bot", "scopes": ["memory:read"]}, token=ADMIN_TOKEN),
                 409, "conflict")


def test_create_token_validation():
    g = GW()
    for body in ({"scopes": "memory:read"}, {"scopes": []}, {"scopes": [1]}, {"id": "../x", "scopes": ["memory:read"]},
                 {"scopes": ["memory:read"], "expires_in": 0}, {"scopes": ["memory:read"], "expires_in": -5},
                 {"scopes": ["memory:read"], "expires_in": 31536000 * 5 + 1},
                 {"scopes": ["memory:read"], "owner": "nobody@nowhere.example"}):
        r = g.post("/api/v1/tokens", body=body, token=ADMIN_TOKEN)
        assert r.status in (400, 404), "bad create body %r accepted: %r" % (body, r)
        if r.status == 201:
            SECRETS.append(r.json()["token"])


def test_expiring_token():
    g = GW()
    j = _create(g, {"scopes": ["agents:read"], "expires_in": 1})
    assert _whoami(g, j["token"]).status == 200
    time.sleep(2.2)
    assert_error(_whoami(g, j["token"]), 401, "unauthenticated")


def test_rotate_old_fails_new_works():
    g = GW()
    j = _create(g, {"id": "rot-me", "scopes": ["agents:read"]})
    old = j["token"]
    assert _whoami(g, old).status == 200
    r = g.post("/api/v1/tokens/rot-me/rotate", token=ADMIN_TOKEN)
    assert r.status == 200, "rotate: %r" % r
    new = r.json().get("token")
    assert new and new != old and r.json().get("id") == "rot-me", repr(r.json())
    SECRETS.append(new)
    assert_error(_whoami(g, old), 401, "unauthenticated")
    assert _whoami(g, new).status == 200, "rotated token does not work"
    assert_error(g.post("/api/v1/tokens/no-such-token/rotate", token=ADMIN_TOKEN), 404, "not_found")
    assert_error(g.post("/api/v1/tokens/team-engineering/rotate", token=ADMIN_TOKEN), 409, "conflict")
    assert _whoami(g, ENG_TOKEN).status == 200


def test_revoke_immediately_401():
    g = GW()
    j = _create(g, {"id": "rev-me", "scopes": ["agents:read"]})
    # keep a connection open with the token in use, then revoke: the next request on the same
    # connection must already fail
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=5)
    try:
        assert gwtest.http_request(g.port, "GET", "/api/v1/auth/userinfo", token=j["token"], conn=conn).status == 200
        r = g.req("DELETE", "/api/v1/tokens/rev-me", token=ADMIN_TOKEN)
        assert r.status == 200 and r.json().get("id") == "rev-me" and r.json().get("revoked_at"), "revoke: %r" % r
        r = gwtest.http_request(g.port, "GET", "/api/v1/auth/userinfo", token=j["token"], conn=conn)
        assert r.status == 401, "revoked token on a kept-alive connection: %r" % r
    finally:
        conn.close()
    assert_error(_whoami(g, j["token"]), 401, "unauthenticated")
    lst = {t["id"]: t for t in g.get("/api/v1/tokens", token=ADMIN_TOKEN).json()["tokens"]}
    assert lst.get("rev-me", {}).get("revoked_at"), "listed token not marked revoked: %r" % lst.get("rev-me")
    assert_error(g.req("DELETE", "/api/v1/tokens/team-marketing", token=ADMIN_TOKEN), 409, "conflict")
    assert_error(g.req("DELETE", "/api/v1/tokens/never-existed", token=ADMIN_TOKEN), 404, "not_found")
    assert _whoami(g, MKT_TOKEN).status == 200, "config token revoked through the API"


def test_cannot_mint_scopes_not_held():
    g = GW()
    minter = _create(g, {"id": "minter", "scopes": ["tokens:write", "tokens:read", "channels:engineering/*", "memory:read"]})
    m = minter["token"]
    for scopes, missing in ((["channels:marketing/*"], "channels:marketing/*"), (["*"], "*"),
                            (["memory:write"], "memory:write"),
                            (["admin:reload"], "admin:reload"), (["memory:read", "audit:read"], "audit:read")):
        r = g.post("/api/v1/tokens", body={"scopes": scopes}, token=m)
        e = assert_error(r, 403, "forbidden")
        assert missing in e["message"], "403 for %r does not name %r: %r" % (scopes, missing, e["message"])
    # a subset is fine, including a narrower channel glob
    j = _create(g, {"scopes": ["channels:engineering/code-*", "memory:read"]}, token=m)
    assert _whoami(g, j["token"]).status == 200
    # and the minter cannot rotate/revoke a more powerful token
    r = g.post("/api/v1/tokens/minter/rotate", token=m)
    assert r.status in (200, 403, 404), "self-rotate: %r" % r
    if r.status == 200:
        SECRETS.append(r.json()["token"])
    admin_made = _create(g, {"id": "powerful", "scopes": ["*"]})
    r = g.req("DELETE", "/api/v1/tokens/powerful", token=_create(g, {"scopes": ["tokens:write"]})["token"])
    assert r.status in (403, 404), "a tokens:write token revoked a '*' token: %r" % r
    assert _whoami(g, admin_made["token"]).status == 200


def test_cli_token_lifecycle():
    g = GW()
    r = gwtest.cli("tokens", "create", "--id", "cli-made", "--scope", "agents:read", "--json",
                   url=g.url, token=ADMIN_TOKEN)
    assert r.rc == 0, "openclaw tokens create: %r" % r
    j = r.json()
    SECRETS.append(j["token"])
    assert j["id"] == "cli-made", repr(j)
    assert _whoami(g, j["token"]).status == 200, "CLI-created token does not work"
    r = gwtest.cli("tokens", "list", "--json", url=g.url, token=ADMIN_TOKEN)
    assert r.rc == 0, repr(r)
    assert "cli-made" in r.out and j["token"] not in r.out, "CLI list: %r" % r
    r = gwtest.cli("tokens", "rotate", "cli-made", "--json", url=g.url, token=ADMIN_TOKEN)
    assert r.rc == 0, repr(r)
    new = r.json()["token"]
    SECRETS.append(new)
    assert _whoami(g, j["token"]).status == 401 and _whoami(g, new).status == 200
    r = gwtest.cli("tokens", "revoke", "cli-made", "--json", url=g.url, token=ADMIN_TOKEN)
    assert r.rc == 0, repr(r)
    assert _whoami(g, new).status == 401, "CLI revoke did not take effect"


def test_secrets_never_in_audit():
    g = GW()
    assert SECRETS, "no secrets collected (earlier tests failed?)"
    r = g.get("/api/v1/audit/export?format=jsonl", token=ADMIN_TOKEN)
    assert r.status == 200, "export: %r" % r
    csv = g.get("/api/v1/audit/export?format=csv", token=ADMIN_TOKEN)
    assert csv.status == 200, "csv export: %r" % csv
    q = g.get("/api/v1/audit?limit=1000", token=ADMIN_TOKEN)
    with open(g.audit_log_path, "rb") as f:
        filetext = f.read().decode("utf-8", "replace")
    c = g.db()
    try:
        dbtext = "\n".join(json.dumps(dict(x)) for x in c.execute("SELECT * FROM audit_events"))
    finally:
        c.close()
    assert "token.created" in r.text or "token.create" in r.text, "no token creation event in the export"
    for s in SECRETS + [ENG_TOKEN, MKT_TOKEN, ADMIN_TOKEN, EXPIRED_TOKEN]:
        for where, text in (("JSONL file", filetext), ("export jsonl", r.text), ("export csv", csv.text),
                            ("query", q.text), ("store", dbtext), ("stderr", g.stderr()), ("stdout", g.stdout())):
            assert s not in text, "token secret %s... appears in the %s" % (s[:8], where)


def test_failed_auth_throttling_429():
    cfg = gwtest.seed_config(auth={"failed_auth_limit": 5})
    g = gwtest.Gateway(cfg).start()
    try:
        statuses = []
        for i in range(5):
            statuses.append(g.get("/api/v1/auth/userinfo", token="wrong-token-%d-%s" % (i, "z" * 20)).status)
        assert statuses == [401] * 5, "first 5 failures: %r" % statuses
        r = g.get("/api/v1/auth/userinfo", token="wrong-token-6-" + "z" * 20)
        assert_error(r, 429, "too_many_requests")
        ra = r.header("Retry-After")
        assert ra and ra.isdigit() and 0 < int(ra) <= 3600, "Retry-After %r" % ra
        r = g.get("/api/v1/auth/userinfo", token="wrong-token-7-" + "z" * 20)
        assert r.status == 429, "further failure not throttled: %r" % r
        # A valid token from the throttled address: 429 (no oracle) or served, never 401/5xx.
        r = g.get("/api/v1/auth/userinfo", token=ENG_TOKEN)
        assert r.status in (200, 429), "good token while throttled: %r" % r
        # unauthenticated endpoints stay available
        assert g.get("/api/v1/health").status == 200
        # failed requests are audited asynchronously: give the writer a moment
        deadline = time.time() + 3
        while True:
            rows = g.store_audit_rows()
            n = sum(1 for x in rows if x["type"].startswith("auth."))
            if n >= 5 or time.time() > deadline:
                break
            time.sleep(0.05)
        assert n >= 5, "auth failures not audited (%d rows)" % n
    finally:
        g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
