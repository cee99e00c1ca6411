# SPDX-License-Identifier: MIT
"""Namespace grants end to end (issue 10): members from gateway.yaml and from the API and CLI,
effective at once and after a restart, audited with the members before and after; default
deny with a 403 that names the missing grant and the command that adds it, and a start-up
warning that lists namespaces nobody can reach; effective rights in userinfo and `openclaw
status` (never "*" for a capped principal); the policy dry run explaining a refusal; no
self-escalation through grants or tokens; scope typos refused with the valid list; identifiers
that collide between the configuration and the run-time registries refused (API 409, reload
error naming both, refusal to start); agents deleted through the API and the CLI."""

import json
import os
import signal
import time

import gwtest
from gwtest import ADMIN_TOKEN, assert_error

LEAD = "lead-token-" + "l" * 32          # team_lead of platform, owns a "*" token
DEV = "dev-token-" + "d" * 32            # user of platform
SALES_ADMIN = "sadm-token-" + "s" * 32   # org_admin of sales
STRANGER = "stranger-token-" + "x" * 32  # user without any grant


def _config(**over):
    cfg = gwtest.seed_config(**over)
    cfg["identity"] = {
        "org_units": ["engineering", "engineering/platform", "sales"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "deals", "org_unit": "sales"}],
        "users": [{"id": "lena", "role": "team_lead", "team": "platform"},
                  {"id": "dev", "role": "user", "team": "platform"},
                  {"id": "sam", "role": "org_admin", "org_unit": "sales"},
                  {"id": "stan", "role": "user"}],
    }
    cfg["namespaces"] = {
        "engineering": {"members": {"org_units": ["engineering"]}},
        "marketing": {},
        "orphan": {},
    }
    cfg["agents"] = [{"name": "engineering/code-reviewer"}, {"name": "marketing/content-writer"},
                     {"name": "orphan/bot"}]
    cfg["auth"]["tokens"] += [
        {"id": "lena-star", "token": LEAD, "scopes": ["*"], "owner": "lena"},
        {"id": "dev-star", "token": DEV, "scopes": ["*"], "owner": "dev"},
        {"id": "sam-star", "token": SALES_ADMIN, "scopes": ["*"], "owner": "sam"},
        {"id": "stan-star", "token": STRANGER, "scopes": ["*"], "owner": "stan"},
    ]
    return cfg


GW = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())


def grant(g, ns, token=ADMIN_TOKEN, **member):
    return g.req("POST", "/api/v1/namespaces/%s/members" % ns, body=member, token=token)


def revoke(g, ns, token=ADMIN_TOKEN, **member):
    (k, v), = member.items()
    return g.req("DELETE", "/api/v1/namespaces/%s/members?%s=%s" % (ns, k, v), token=token)


def test_start_up_warns_about_namespaces_nobody_can_reach():
    g = GW()
    err = g.stderr()
    line = [ln for ln in err.splitlines() if "for want of members" in ln]
    assert line, err[-2000:]
    assert "marketing" in line[0] and "orphan" in line[0] and "engineering" not in line[0], line


def test_default_deny_names_the_missing_grant():
    g = GW()
    r = g.get("/api/v1/memory/marketing/content-writer", token=DEV)
    assert_error(r, 403, "forbidden", "no grant of namespace marketing to dev")
    msg = r.json()["error"]["message"]
    assert "team platform" in msg and "openclaw namespaces grant marketing --team platform" in msg
    # the configured org unit reaches its namespace through every route
    assert g.post("/api/v1/channels/engineering/code-reviewer/messages",
                  body={"content": "hi"}, token=DEV).status == 202


def test_userinfo_shows_effective_rights_never_star():
    g = GW()
    me = g.get("/api/v1/auth/userinfo", token=DEV).json()
    assert "*" not in me["scopes"] and "memory:*" in me["scopes"], me
    assert "tokens:write" not in me["scopes"], me
    assert me["namespaces"] == ["engineering"] and me["all_namespaces"] is False, me
    assert me["token_scopes"] == ["*"], me
    admin = g.get("/api/v1/auth/userinfo", token=ADMIN_TOKEN).json()
    assert admin["all_namespaces"] is True and "orphan" in admin["namespaces"], admin
    me = g.get("/api/v1/auth/userinfo", token=STRANGER).json()
    assert me["namespaces"] == [], me
    res = gwtest.cli("status", url=g.url, token=DEV)
    assert res.rc == 0, res
    assert "Namespaces:  engineering" in res.out and "memory:*" in res.out, res.out
    res = gwtest.cli("status", url=g.url, token=STRANGER)
    assert "(none granted)" in res.out, res.out


def test_grant_through_the_api_is_audited_and_effective_at_once():
    g = GW()
    r = grant(g, "marketing", team="platform")
    assert r.status == 201, r
    assert r.json()["members"]["teams"] == ["platform"], r.json()
    assert g.get("/api/v1/memory/marketing/content-writer", token=DEV).status in (200, 404)
    ev = g.audit_query(event="namespace.member_added")["events"]
    d = ev[0]["details"]
    assert d["namespace"] == "marketing" and d["kind"] == "team" and d["value"] == "platform"
    assert d["before"]["teams"] == [] and d["after"]["teams"] == ["platform"], d
    assert_error(grant(g, "marketing", team="platform"), 409, "conflict")
    # a configuration member cannot be removed through the API
    assert_error(revoke(g, "engineering", org_unit="engineering"), 409, "conflict",
                 "gateway.yaml")
    # bad input
    assert_error(grant(g, "marketing", team="Platform!"), 400)
    assert_error(grant(g, "marketing", team="a", user="b"), 400)
    assert_error(grant(g, "BadName", team="platform"), 400)


def test_cli_grants_shows_and_revokes():
    g = GW()
    res = gwtest.cli("namespaces", "grant", "orphan", "--user", "stan", url=g.url,
                     token=ADMIN_TOKEN)
    assert res.rc == 0 and "Granted orphan to user stan" in res.out, res
    assert g.get("/api/v1/memory/orphan/bot", token=STRANGER).status in (200, 404)
    res = gwtest.cli("namespaces", "show", "orphan", url=g.url, token=ADMIN_TOKEN)
    assert res.rc == 0 and "user:stan" in res.out and "bot" in res.out, res
    res = gwtest.cli("namespaces", "list", url=g.url, token=ADMIN_TOKEN)
    assert "org_unit:engineering (gateway.yaml)" in res.out, res.out
    res = gwtest.cli("namespaces", "revoke", "orphan", "--user", "stan", url=g.url,
                     token=ADMIN_TOKEN)
    assert res.rc == 0, res
    assert g.get("/api/v1/memory/orphan/bot", token=STRANGER).status == 403
    res = gwtest.cli("namespaces", "grant", "orphan", url=g.url, token=ADMIN_TOKEN)
    assert res.rc == 2, res   # exactly one member
    res = gwtest.cli("namespaces", "grant", "orphan", "--team", "platform", url=g.url,
                     token=DEV)
    assert res.rc == 4 and "namespaces:write" in res.err, res


def test_no_self_escalation_through_grants_or_tokens():
    g = GW()
    # an org_admin reaches nothing outside its subtree, and cannot grant itself in
    r = grant(g, "orphan", token=SALES_ADMIN, org_unit="sales")
    assert_error(r, 403, "forbidden", "no grant of namespace orphan")
    # a team lead cannot grant at all
    assert_error(grant(g, "engineering", token=LEAD, team="deals"), 403, "forbidden",
                 "namespaces:write")
    # tokens: never a namespace the caller does not reach, never "*", never a typo
    r = g.post("/api/v1/tokens", body={"scopes": ["channels:orphan/*"]}, token=LEAD)
    assert_error(r, 403, "forbidden", "cannot grant scope channels:orphan/*")
    assert_error(g.post("/api/v1/tokens", body={"scopes": ["*"]}, token=LEAD), 403)
    r = g.post("/api/v1/tokens", body={"scopes": ["models:invok"]}, token=LEAD)
    assert_error(r, 400, None, "unknown scope 'models:invok'")
    assert "models:invoke" in r.json()["error"]["message"], r
    # what a team lead may give, it gives, capped by its own grants when used
    r = g.post("/api/v1/tokens", body={"scopes": ["channels:*", "memory:read"]}, token=LEAD)
    assert r.status == 201, r
    tok = r.json()["token"]
    assert g.get("/api/v1/memory/engineering/code-reviewer", token=tok).status in (200, 404)
    assert g.get("/api/v1/memory/orphan/bot", token=tok).status == 403


def test_policy_dry_run_explains_a_refusal():
    g = GW()
    r = g.post("/api/v1/policies/evaluate", token=DEV,
               body={"action": "tool_call", "resource": "memory_read", "namespace": "orphan"})
    assert r.status == 200, r
    acc = r.json()["access"]
    assert acc["allowed"] is False and "no grant of namespace orphan to dev" in acc["reason"]
    res = gwtest.cli("policy", "explain", "--action", "tool_call", "--resource", "memory_read",
                     "--namespace", "orphan", url=g.url, token=DEV)
    assert res.rc == 0 and "Access:" in res.out and "no grant of namespace orphan" in res.out
    # an enterprise admin may ask about someone else
    r = g.post("/api/v1/policies/evaluate", token=ADMIN_TOKEN,
               body={"action": "tool_call", "resource": "memory_read", "namespace": "engineering",
                     "principal": {"user": "dev"}})
    assert r.json()["access"]["allowed"] is True, r.json()


def test_run_time_grants_survive_restart_and_reload():
    cfg = _config()
    g = gwtest.Gateway(cfg).start()
    try:
        assert grant(g, "orphan", user="stan").status == 201
        g.sighup()
        time.sleep(0.5)
        assert g.get("/api/v1/memory/orphan/bot", token=STRANGER).status in (200, 404)
        g.stop()
        g.start()
        assert g.get("/api/v1/memory/orphan/bot", token=STRANGER).status in (200, 404)
        members = g.get("/api/v1/namespaces/orphan", token=ADMIN_TOKEN).json()["members"]
        assert members["users"] == ["stan"], members
    finally:
        g.stop()


def test_identifier_collisions_are_refused():
    cfg = _config()
    g = gwtest.Gateway(cfg).start()
    try:
        # API: the id of a configured token, the name of a configured agent
        assert_error(g.post("/api/v1/tokens", body={"scopes": ["memory:read"], "id": "admin"},
                            token=ADMIN_TOKEN), 409, "conflict")
        assert_error(g.post("/api/v1/agents", body={"name": "orphan/bot"}, token=ADMIN_TOKEN),
                     409, "conflict")
        assert g.post("/api/v1/tokens", body={"scopes": ["memory:read"], "id": "later"},
                      token=ADMIN_TOKEN).status == 201
        assert g.post("/api/v1/agents", body={"name": "orphan/later"},
                      token=ADMIN_TOKEN).status == 201
        # a reload whose file takes those names is refused, naming both, and changes nothing
        cfg["auth"]["tokens"].append({"id": "later", "token": "later-token-" + "z" * 30,
                                      "scopes": ["*"]})
        g.write_config(cfg)
        r = g.post("/api/v1/admin/reload", token=ADMIN_TOKEN)
        assert r.status == 400 and "later" in r.text and "created through the API" in r.text, r
        cfg["auth"]["tokens"].pop()
        cfg["agents"].append({"name": "orphan/later"})
        g.write_config(cfg)
        r = g.post("/api/v1/admin/reload", token=ADMIN_TOKEN)
        assert r.status == 400 and "orphan/later" in r.text and "openclaw agents delete" in r.text
        # ... and a start with it is refused the same way (exit 78)
        g.stop()
        g.start(wait=False)
        deadline = time.time() + 10
        while g.alive() and time.time() < deadline:
            time.sleep(0.05)
        assert not g.alive() and g.proc.returncode == 78, g.stderr()[-1000:]
        assert "orphan/later" in g.stderr()
        # deleting the run-time agent (CLI, audited) resolves it
        cfg["agents"].pop()
        g.write_config(cfg)
        g.start()
        res = gwtest.cli("agents", "delete", "orphan/later", url=g.url, token=ADMIN_TOKEN)
        assert res.rc == 0 and "Deleted agent orphan/later" in res.out, res
        ev = g.audit_query(event="agent.deleted")["events"]
        assert ev and ev[0]["resource"] == "orphan/later", ev
        assert_error(g.req("DELETE", "/api/v1/agents/orphan/bot", token=ADMIN_TOKEN), 409,
                     "conflict", "configuration")
        assert_error(g.req("DELETE", "/api/v1/agents/orphan/later", token=ADMIN_TOKEN), 404)
    finally:
        if g.alive():
            g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
