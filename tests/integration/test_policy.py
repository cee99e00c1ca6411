# SPDX-License-Identifier: MIT
"""Policies and approvals (docs/API.md "Policies", "Tools and approvals"; docs/POLICY.md):
who may author which policy, refusal of loosening children (422 + violations), versions,
history, diff, rollback and their audit; hot change of decisions through the API, deny >
require_approval > allow, default deny and the decision trace; the approval queue end to end
(park, visibility, who approves, exactly-once execution, edit, reject, expiry, races); policy
denials, content classification of tool events, and a policy bundle loaded at start."""

import json
import os
import threading
import time
from urllib.parse import quote

import gwtest
from gwtest import ADMIN_TOKEN, TENANT, assert_error

# Users (identity.users) and their owned tokens.
ALICE = "alice@acme.test"   # enterprise_admin
OLGA = "olga@acme.test"     # org_admin of engineering
BOB = "bob@acme.test"       # team_lead of platform (engineering/platform)
TESS = "tess@acme.test"     # a second team_lead of platform
MIA = "mia@acme.test"       # team_lead of growth (marketing)
CAROL = "carol@acme.test"   # user, team platform
DAVE = "dave@acme.test"     # user, team platform
EVE = "eve@acme.test"       # user, team growth

TOK = {
    ALICE: "pt-alice-token-5b0c6e1f2a3d4c5b6a798081a2b3c4d5",
    OLGA: "pt-olga-token-7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    BOB: "pt-bob-token-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    TESS: "pt-tess-token-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
    MIA: "pt-mia-token-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e",
    CAROL: "pt-carol-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
    DAVE: "pt-dave-token-4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
    EVE: "pt-eve-token-5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
}
ALL_SCOPES = ["*"]
USER_SCOPES = ["channels:engineering/*", "channels:marketing/*", "memory:read", "memory:write",
               "policies:read", "audit:read"]

AGENTS = ["once", "edit", "reject", "withdraw", "race", "deny", "classify", "plain", "expire",
          "hot"]

PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\n"
               "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
               "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
               "-----END RSA PRIVATE KEY-----\n")


def _identity():
    return {
        "org_units": ["engineering", "engineering/platform", "marketing"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "growth", "org_unit": "marketing"}],
        "users": [
            {"id": ALICE, "email": ALICE, "role": "enterprise_admin"},
            {"id": OLGA, "email": OLGA, "role": "org_admin", "org_unit": "engineering"},
            {"id": BOB, "email": BOB, "role": "team_lead", "team": "platform"},
            {"id": TESS, "email": TESS, "role": "team_lead", "team": "platform"},
            {"id": MIA, "email": MIA, "role": "team_lead", "team": "growth"},
            {"id": CAROL, "email": CAROL, "role": "user", "team": "platform"},
            {"id": DAVE, "email": DAVE, "role": "user", "team": "platform"},
            {"id": EVE, "email": EVE, "role": "user", "team": "growth"},
        ],
    }


def _config(policy=None):
    cfg = gwtest.seed_config()
    cfg["identity"] = _identity()
    for user, secret in TOK.items():
        role = [u for u in _identity()["users"] if u["id"] == user][0]["role"]
        scopes = USER_SCOPES if role == "user" else ALL_SCOPES
        cfg["auth"]["tokens"].append({"id": "pt-" + user.split("@")[0], "token": secret,
                                      "scopes": scopes, "owner": user})
    for a in AGENTS:
        cfg["agents"].append({"name": "engineering/" + a, "channel": "engineering/" + a})
    if policy:
        cfg["policy"] = policy
    return cfg


def _make_main():
    return gwtest.Gateway(_config()).start()


BUNDLE_ENT = {"default_autonomy": "approve", "blocked": ["shell_exec"],
              "autonomous": ["memory_read", "memory_write", "send_message"]}
BUNDLE_TEAM = {"per_action": {"memory_write": "approve"}}


def _make_bundle():
    d = gwtest.tempdir("gwtest-bundle-")
    path = os.path.join(d, "policies.yaml")
    bundle = [
        {"scope": "enterprise", "domain": "actions", "content": BUNDLE_ENT,
         "change_reason": "baseline from the bundle"},
        {"scope": "team", "scope_id": "platform", "domain": "actions", "content": BUNDLE_TEAM,
         "change_reason": "platform writes need a lead"},
        {"scope": "enterprise", "domain": "features", "content": {"daily_briefing": True}},
    ]
    with open(path, "w") as f:
        f.write(gwtest.to_yaml(bundle) + "\n")
    return gwtest.Gateway(_config({"bundle": path, "approver": "team_lead",
                                   "approval_ttl_s": 1})).start()


GW = gwtest.Lazy(_make_main)
GWB = gwtest.Lazy(_make_bundle)
STATE = {}  # ids shared between tests of the main daemon, filled in source order


# --------------------------------------------------------------------------------------------
# helpers

_rid_n = [0]


def _rid(tag):
    _rid_n[0] += 1
    return "pt-%s-%d-%d" % (tag, os.getpid() % 10000, _rid_n[0])


def _create(g, who, scope, scope_id, domain, content, reason="test change", rid=None, **extra):
    body = {"scope": scope, "domain": domain, "content": content}
    if scope_id is not None:
        body["scope_id"] = scope_id
    if reason is not None:
        body["change_reason"] = reason
    body.update(extra)
    hdrs = {"X-Request-Id": rid} if rid else None
    return g.post("/api/v1/policies", body=body, token=TOK.get(who, who), headers=hdrs)


def _update(g, who, pid, content, reason="test update", rid=None, **extra):
    body = {"content": content}
    if reason is not None:
        body["change_reason"] = reason
    body.update(extra)
    hdrs = {"X-Request-Id": rid} if rid else None
    return g.req("PUT", "/api/v1/policies/" + pid, body=body, token=TOK.get(who, who),
                 headers=hdrs)


def _ok(r, status, what):
    assert r.status == status, "%s: expected %d, got %r" % (what, status, r)
    return r.json()


def _find_slot(g, scope, scope_id, domain):
    r = g.get("/api/v1/policies?scope=%s&domain=%s" % (scope, domain), token=ADMIN_TOKEN)
    pols = _ok(r, 200, "list policies")["policies"]
    for p in pols:
        if p.get("scope") == scope and (p.get("scope_id") or None) == scope_id:
            return p
    return None


def _put_slot(g, scope, scope_id, domain, content, who=ADMIN_TOKEN):
    """Creates or updates the policy of a slot; returns the new record."""
    cur = _find_slot(g, scope, scope_id, domain)
    if cur is None:
        return _ok(_create(g, who, scope, scope_id, domain, content), 201,
                   "create %s/%s/%s" % (scope, scope_id, domain))
    return _ok(_update(g, who, cur["id"], content), 200,
               "update %s/%s/%s" % (scope, scope_id, domain))


def _evaluate(g, who, resource, action="tool_call", **extra):
    body = {"action": action, "resource": resource}
    body.update(extra)
    return _ok(g.post("/api/v1/policies/evaluate", body=body, token=TOK.get(who, who)), 200,
               "evaluate %s %s" % (action, resource))


def _invoke(g, who, tool, args, rid=None):
    hdrs = {"X-Request-Id": rid} if rid else None
    return g.post("/api/v1/tools/invoke", body={"tool": tool, "args": args},
                  token=TOK.get(who, who), headers=hdrs)


def _mw(agent, content):
    return {"namespace": "engineering", "agent": agent, "content": content}


def _memory(g, agent):
    return g.get("/api/v1/memory/engineering/" + agent, token=ADMIN_TOKEN)


def _approve(g, who, aid, body=None, timeout=10.0):
    return g.post("/api/v1/approvals/%s/approve" % aid, body=body if body is not None else {},
                  token=TOK.get(who, who), timeout=timeout)


def _item(g, who, aid):
    return g.get("/api/v1/approvals/" + aid, token=TOK.get(who, who))


def _list_ids(g, who, status=None):
    r = g.get("/api/v1/approvals" + ("?status=" + status if status else ""),
              token=TOK.get(who, who))
    return [a["id"] for a in _ok(r, 200, "list approvals")["approvals"]]


def _audit(g, **params):
    params.setdefault("limit", 1000)
    return g.audit_query(**params)["events"]


def _audit_for(g, event, resource, wait_s=3.0, want=None):
    """Rows of this event type about resource (polls: some rows are written asynchronously)."""
    end = time.time() + wait_s
    while True:
        rows = [e for e in _audit(g, event=event) if e.get("resource") == resource]
        if (want is None and rows) or (want is not None and want(rows)) or time.time() > end:
            return rows
        time.sleep(0.05)


# Policies of the main daemon.
ENT_V1 = {"default_autonomy": "notify", "blocked": ["shell_exec"],
          "autonomous": ["memory_read", "memory_write", "send_message", "calendar_read"]}
ENG_V1 = {"default_autonomy": "approve", "blocked": ["shell_exec", "wire_money"],
          "autonomous": ["memory_read", "memory_write", "send_message"]}
TEAM_V1 = {"default_autonomy": "approve", "autonomous": ["memory_read", "memory_write", "send_message"]}


# --------------------------------------------------------------------------------------------
# 2 (first, while the daemon has no policy at all): default deny

def test_default_deny_without_any_policy():
    g = GW()
    r = g.get("/api/v1/policies", token=ADMIN_TOKEN)
    assert _ok(r, 200, "list")["policies"] == [], "fresh daemon has policies: %r" % r
    d = _evaluate(g, ADMIN_TOKEN, "memory_read")
    assert d["decision"] == "deny", "no actions policy anywhere but decision %r" % d
    assert d.get("policy") is None, "default deny names a policy: %r" % d
    for k in ("decision", "reason", "policy", "obligations", "trace"):
        assert k in d, "evaluate response lacks %r: %r" % (k, d)
    # a tool invocation is refused the same way and nothing is written
    r = _invoke(g, ADMIN_TOKEN, "memory_write", _mw("plain", "nope"))
    e = assert_error(r, 403, "forbidden")
    assert "denied by policy" in e["message"], "403 message %r" % e["message"]
    assert _memory(g, "plain").status == 404, "denied memory_write wrote the memory"


# --------------------------------------------------------------------------------------------
# 1. Authoring

def test_enterprise_admin_creates_enterprise_policy():
    g = GW()
    rid = _rid("ent-create")
    r = _create(g, ALICE, "enterprise", None, "actions", ENT_V1, reason="baseline", rid=rid)
    j = _ok(r, 201, "enterprise admin creates enterprise actions")
    for k in ("id", "tenant", "scope", "scope_id", "domain", "version", "content", "author",
              "created_at", "change_reason", "status"):
        assert k in j, "record lacks %r: %r" % (k, j)
    assert j["scope"] == "enterprise" and j["domain"] == "actions" and j["version"] == 1, repr(j)
    assert j["tenant"] == TENANT and j["status"] == "active", repr(j)
    assert j["author"] == ALICE, "author %r, expected the owner %r" % (j["author"], ALICE)
    assert j["change_reason"] == "baseline", repr(j)
    assert j["content"].get("default_autonomy") == "notify", "content %r" % j["content"]
    assert set(j["content"].get("autonomous", [])) == set(ENT_V1["autonomous"]), repr(j["content"])
    STATE["ent_id"] = j["id"]
    STATE.setdefault("writes", []).append((rid, "policy.created", j["id"]))
    # the same slot again: 409
    assert_error(_create(g, ALICE, "enterprise", None, "actions", ENT_V1), 409, "conflict")
    got = _ok(g.get("/api/v1/policies/" + j["id"], token=TOK[ALICE]), 200, "get policy")
    assert got["version"] == 1 and got["id"] == j["id"], repr(got)


def test_org_admin_narrows_own_org_only():
    g = GW()
    rid = _rid("org-create")
    j = _ok(_create(g, OLGA, "org", "engineering", "actions", ENG_V1, rid=rid), 201,
            "org_admin of engineering writes org engineering")
    assert j["author"] == OLGA and j["scope_id"] == "engineering", repr(j)
    STATE["eng_id"] = j["id"]
    STATE.setdefault("writes", []).append((rid, "policy.created", j["id"]))
    # another org: 403
    assert_error(_create(g, OLGA, "org", "marketing", "actions", ENG_V1), 403, "forbidden")
    # a look-alike path outside the subtree: 403 (not a string prefix)
    r = _create(g, OLGA, "org", "engineering-x", "actions", ENG_V1)
    assert r.status == 403, "org_admin of engineering wrote org engineering-x: %r" % r
    # enterprise scope (an empty slot, so only the role can refuse it): 403
    assert_error(_create(g, OLGA, "enterprise", None, "features", {"daily_briefing": False}),
                 403, "forbidden")
    # a team in another org: 403
    assert_error(_create(g, OLGA, "team", "growth", "actions", TEAM_V1), 403, "forbidden")
    assert _find_slot(g, "org", "marketing", "actions") is None, "refused write was stored"


def test_team_lead_writes_own_team_only():
    g = GW()
    rid = _rid("team-create")
    j = _ok(_create(g, BOB, "team", "platform", "actions", TEAM_V1, rid=rid), 201,
            "team_lead writes its team")
    assert j["author"] == BOB and j["scope"] == "team" and j["scope_id"] == "platform", repr(j)
    STATE["team_id"] = j["id"]
    STATE.setdefault("writes", []).append((rid, "policy.created", j["id"]))
    assert_error(_create(g, BOB, "team", "growth", "actions", TEAM_V1), 403, "forbidden")
    assert_error(_create(g, BOB, "org", "engineering/platform", "actions", ENG_V1), 403,
                 "forbidden")
    assert_error(_create(g, MIA, "team", "platform", "data", {"retention_days": 30}), 403,
                 "forbidden")
    # but the other team's lead cannot change bob's policy either
    r = _update(g, MIA, j["id"], TEAM_V1)
    assert r.status in (403, 404), "team_lead of growth updated platform's policy: %r" % r
    assert _find_slot(g, "team", "growth", "actions") is None, "refused write was stored"


def test_plain_user_cannot_write_but_reads_effective():
    g = GW()
    assert_error(_create(g, CAROL, "user", CAROL, "actions", TEAM_V1), 403, "forbidden")
    assert_error(_create(g, CAROL, "team", "platform", "features", {"ocip": False}), 403,
                 "forbidden")
    r = g.get("/api/v1/policies/effective?domain=actions", token=TOK[CAROL])
    j = _ok(r, 200, "user reads its effective actions policy")
    assert j.get("domain") == "actions", repr(j)
    # the merged content is checked first (under the documented key, or the one the daemon
    # uses), then the documented response shape
    eff = j.get("effective", j.get("policy"))
    assert isinstance(eff, dict), "no effective document in %r" % j
    # the merge restricts: org says approve over the enterprise's notify
    assert eff.get("default_autonomy") == "approve", "effective %r" % eff
    assert "shell_exec" in eff.get("blocked", []) and "wire_money" in eff.get("blocked", []), \
        "effective blocked %r" % eff.get("blocked")
    assert "calendar_read" not in eff.get("autonomous", []), \
        "org dropped calendar_read but effective allows it: %r" % eff.get("autonomous")
    missing = [k for k in ("domain", "policy", "source") if k not in j]
    assert not missing, "effective response lacks %r (docs/API.md: {domain, policy, source}): " \
        "keys %r" % (missing, sorted(j))
    # every field names where it comes from: default_autonomy from the org policy
    src = j["source"].get("default_autonomy", "")
    assert STATE.get("eng_id") and STATE["eng_id"] in src, \
        "source of default_autonomy %r does not name the org policy %r" % (src, STATE.get("eng_id"))


def test_loosening_child_refused_with_violations():
    g = GW()
    loose = {"default_autonomy": "autonomous",
             "autonomous": ["memory_read", "wire_money"],
             "per_action": {"shell_exec": "autonomous"}}
    rid = _rid("loose")
    r = g.post("/api/v1/policies", body={"scope": "org", "scope_id": "engineering/platform",
                                         "domain": "actions", "content": loose,
                                         "change_reason": "try to loosen"},
               token=TOK[OLGA], headers={"X-Request-Id": rid})
    e = assert_error(r, 422, "policy_violation")
    v = e.get("violations")
    assert isinstance(v, list) and v, "422 without a violations list: %r" % r.json()
    fields = [x.get("field") for x in v]
    for x in v:
        assert isinstance(x.get("message"), str) and x["message"], "violation without message %r" % x
    assert "default_autonomy" in fields, "violations %r do not name default_autonomy" % fields
    assert any(f and f.startswith("autonomous") for f in fields), \
        "violations %r do not name autonomous (wire_money is not allowed above)" % fields
    assert any(f and f.startswith("per_action") for f in fields), \
        "violations %r do not name per_action.shell_exec" % fields
    msg = " ".join(x["message"] for x in v)
    assert "wire_money" in msg, "no violation mentions the item wire_money: %r" % v
    assert _find_slot(g, "org", "engineering/platform", "actions") is None, "loosening stored"
    # the team below the org: loosening the org (not just the enterprise) is refused too
    r = _create(g, BOB, "team", "platform", "data", {"retention_days": 30})
    assert r.status == 201, "tightening data policy refused: %r" % r
    # an update that loosens is refused the same way and leaves the version alone
    tid = STATE["team_id"]
    r = _update(g, BOB, tid, {"default_autonomy": "notify",
                              "autonomous": ["memory_read", "calendar_read"]})
    e = assert_error(r, 422, "policy_violation")
    fields = [x.get("field") for x in e.get("violations", [])]
    assert "default_autonomy" in fields and any(f.startswith("autonomous") for f in fields), \
        "update violations %r" % fields
    cur = _ok(g.get("/api/v1/policies/" + tid, token=TOK[BOB]), 200, "get team policy")
    assert cur["version"] == 1, "refused update bumped the version: %r" % cur
    # a parse error: 400 with violations naming the field
    r = _create(g, BOB, "user", CAROL, "actions", {"default_autonomy": "sometimes"})
    e = assert_error(r, 400)
    fields = [x.get("field") for x in e.get("violations", [])]
    assert "default_autonomy" in fields, "parse error violations %r" % e
    # refused writes are audited as refused, not as done
    rows = g.audit_rows_for(rid)
    assert rows and all(x["outcome"] != "ok" for x in rows), \
        "refused write has no audit row or an ok one: %r" % rows


def test_change_reason_required():
    g = GW()
    for reason in (None, ""):
        r = _create(g, ALICE, "enterprise", None, "features", {"daily_briefing": True},
                    reason=reason)
        e = assert_error(r, 400, "invalid_request")
        assert "change_reason" in e["message"], "400 message %r" % e["message"]
    r = _update(g, ALICE, STATE["ent_id"], ENT_V1, reason=None)
    assert_error(r, 400, "invalid_request")
    r = g.req("DELETE", "/api/v1/policies/" + STATE["ent_id"], token=TOK[ALICE])
    assert_error(r, 400, "invalid_request")
    r = g.post("/api/v1/policies/%s/rollback" % STATE["ent_id"], body={"version": 1},
               token=TOK[ALICE])
    assert_error(r, 400, "invalid_request")
    cur = _ok(g.get("/api/v1/policies/" + STATE["ent_id"], token=ADMIN_TOKEN), 200, "get")
    assert cur["version"] == 1 and cur["status"] == "active", "refused write changed %r" % cur
    assert _find_slot(g, "enterprise", None, "features") is None, "policy without reason stored"


def test_versions_history_diff_rollback():
    g = GW()
    pid = STATE["ent_id"]
    v2 = dict(ENT_V1, default_autonomy="approve")
    rid2 = _rid("upd2")
    j2 = _ok(_update(g, ALICE, pid, v2, reason="stricter default", rid=rid2,
                     expected_version=1), 200, "update to v2")
    assert j2["version"] == 2 and j2["id"] == pid, repr(j2)
    assert j2["content"]["default_autonomy"] == "approve", repr(j2)
    assert j2["change_reason"] == "stricter default", repr(j2)
    # stale expected_version: 409, nothing changes
    assert_error(_update(g, ALICE, pid, ENT_V1, expected_version=1), 409, "conflict")
    v3 = dict(v2, blocked=["shell_exec", "rm_rf"])
    rid3 = _rid("upd3")
    j3 = _ok(_update(g, ALICE, pid, v3, reason="block rm_rf", rid=rid3), 200, "update to v3")
    assert j3["version"] == 3, repr(j3)
    h = _ok(g.get("/api/v1/policies/%s/history" % pid, token=TOK[ALICE]), 200, "history")
    vers = h["versions"]
    assert [x["version"] for x in vers] == [1, 2, 3], "history versions %r" % [
        x.get("version") for x in vers]
    assert [x["change_reason"] for x in vers] == ["baseline", "stricter default", "block rm_rf"], \
        repr([x.get("change_reason") for x in vers])
    d = _ok(g.get("/api/v1/policies/%s/diff?from=1&to=2" % pid, token=TOK[ALICE]), 200, "diff")
    ch = d["changes"]
    assert [c["field"] for c in ch] == ["default_autonomy"], "diff 1→2 %r" % ch
    assert ch[0]["from"] == "notify" and ch[0]["to"] == "approve", "diff values %r" % ch
    d = _ok(g.get("/api/v1/policies/%s/diff?from=2&to=3" % pid, token=TOK[ALICE]), 200, "diff")
    assert [c["field"] for c in d["changes"]] == ["blocked"], "diff 2→3 %r" % d["changes"]
    old = _ok(g.get("/api/v1/policies/%s?version=1" % pid, token=TOK[ALICE]), 200, "get v1")
    assert old["version"] == 1 and old["content"]["default_autonomy"] == "notify", repr(old)
    ridr = _rid("rollback")
    r = g.post("/api/v1/policies/%s/rollback" % pid,
               body={"version": 1, "change_reason": "back to baseline"}, token=TOK[ALICE],
               headers={"X-Request-Id": ridr})
    j4 = _ok(r, 200, "rollback to 1")
    assert j4["version"] == 4, "rollback did not create version 4: %r" % j4
    assert j4["content"] == old["content"], "rollback content %r != v1 %r" % (j4["content"],
                                                                            old["content"])
    assert j4["change_reason"] == "back to baseline", repr(j4)
    h = _ok(g.get("/api/v1/policies/%s/history" % pid, token=TOK[ALICE]), 200, "history")
    assert [x["version"] for x in h["versions"]] == [1, 2, 3, 4], "history after rollback %r" % h
    d = _ok(g.get("/api/v1/policies/%s/diff?from=1&to=4" % pid, token=TOK[ALICE]), 200, "diff")
    assert d["changes"] == [], "v1 and its rollback differ: %r" % d
    assert_error(g.post("/api/v1/policies/%s/rollback" % pid,
                        body={"version": 99, "change_reason": "x"}, token=TOK[ALICE]), 404)
    STATE.setdefault("writes", []).extend([(rid2, "policy.updated", pid),
                                           (rid3, "policy.updated", pid),
                                           (ridr, "policy.rolled_back", pid)])
    # deprecate a separate policy: a new version with status deprecated
    f = _ok(_create(g, ALICE, "enterprise", None, "features", {"daily_briefing": True}), 201,
            "create features")
    ridd = _rid("deprecate")
    r = g.req("DELETE", "/api/v1/policies/%s?change_reason=%s" % (f["id"], quote("no longer")),
              token=TOK[ALICE], headers={"X-Request-Id": ridd})
    dj = _ok(r, 200, "deprecate")
    assert dj["status"] == "deprecated" and dj["version"] == 2, "deprecate %r" % dj
    STATE["writes"].append((ridd, "policy.deprecated", f["id"]))


def test_every_policy_write_is_audited():
    g = GW()
    writes = STATE.get("writes", [])
    assert len(writes) >= 7, "earlier tests recorded only %d writes" % len(writes)
    rows = _audit(g, event="policy.*")
    by_rid = {}
    for e in rows:
        by_rid.setdefault(e.get("request_id"), []).append(e)
    problems = []
    for rid, typ, pid in writes:
        got = by_rid.get(rid, [])
        oks = [e for e in got if e["type"] == typ and e["outcome"] == "ok"]
        if len(oks) != 1:
            problems.append("write %s (%s of %s): %d ok rows" % (rid, typ, pid, len(oks)))
            continue
        e = oks[0]
        if e.get("resource") != pid:
            problems.append("%s row resource %r != policy id %r" % (typ, e.get("resource"), pid))
        if not (isinstance(e.get("details"), dict) and e["details"].get("change_reason")):
            problems.append("%s row details lack change_reason: %r" % (typ, e.get("details")))
    assert not problems, "; ".join(problems)
    for e in rows:
        assert e["type"].startswith("policy."), "event=policy.* returned %r" % e["type"]
    # the user-scope filter: a plain user sees only its own events
    r = g.get("/api/v1/audit?event=policy.*&limit=1000", token=TOK[CAROL])
    mine = _ok(r, 200, "user audit query")["events"]
    assert all(e.get("actor") == CAROL for e in mine), "user sees others' policy events"


# --------------------------------------------------------------------------------------------
# 2. Hot change, precedence, trace

def _deciding(d):
    steps = [s for s in d.get("trace", []) if s.get("deciding")]
    assert len(steps) == 1, "trace has %d deciding steps: %r" % (len(steps), d.get("trace"))
    return steps[0]


def test_hot_change_through_api():
    g = GW()
    tid = STATE["team_id"]
    _put_slot(g, "team", "platform", "actions", TEAM_V1, who=TOK[BOB])
    d1 = _evaluate(g, CAROL, "memory_write")
    assert d1["decision"] == "allow", "memory_write under TEAM_V1: %r" % d1
    # principal override by an enterprise admin gives the same answer
    d1b = _evaluate(g, ALICE, "memory_write", principal={"user": CAROL})
    assert d1b["decision"] == "allow", "evaluate for carol by alice: %r" % d1b
    assert_error(g.post("/api/v1/policies/evaluate", body={
        "action": "tool_call", "resource": "memory_write", "principal": {"user": DAVE}},
        token=TOK[CAROL]), 403, "forbidden")
    t0 = time.time()
    rec = _ok(_update(g, BOB, tid, dict(TEAM_V1, per_action={"memory_write": "approve"}),
                      reason="writes need a lead"), 200, "team update")
    d2 = _evaluate(g, CAROL, "memory_write")
    dt = time.time() - t0
    assert d2["decision"] == "require_approval", \
        "after the update the next evaluate still says %r" % d2
    assert dt < 2.0, "update + evaluate took %.2f s" % dt
    p = d2.get("policy") or {}
    assert p.get("id") == tid and p.get("version") == rec["version"], \
        "decision.policy %r, expected %s v%s" % (p, tid, rec["version"])
    assert p.get("scope") == "team" and p.get("scope_id") == "platform", repr(p)
    st = _deciding(d2)
    assert st["scope"] == "team" and st["scope_id"] == "platform", "deciding step %r" % st
    assert st.get("policy_id") == tid and st.get("version") == rec["version"], repr(st)
    # and the invocation follows at once: parked, not executed
    r = _invoke(g, CAROL, "memory_write", _mw("hot", "hot change"))
    assert r.status == 202, "invoke after the change: %r" % r
    assert _memory(g, "hot").status == 404, "parked memory_write ran"
    # back: allow again, no restart
    _ok(_update(g, BOB, tid, TEAM_V1, reason="relax again"), 200, "team update back")
    d3 = _evaluate(g, CAROL, "memory_write")
    assert d3["decision"] == "allow", "after relaxing: %r" % d3
    for s in d2["trace"]:
        for k in ("scope", "scope_id", "policy_id", "deciding", "contributes"):
            assert k in s, "trace step lacks %r (docs/API.md): %r" % (k, s)
        if s.get("policy_id"):
            assert "version" in s, "trace step with a policy lacks its version: %r" % s


def test_precedence_deny_approval_allow():
    g = GW()
    tid = STATE["team_id"]
    # per_action approve on a tool of the allow-list: approval beats allow
    # blocked + per_action approve on the same tool: deny beats approval
    content = {"default_autonomy": "approve",
               "autonomous": ["memory_read", "memory_write", "send_message"],
               "blocked": ["send_message"],
               "per_action": {"memory_write": "approve", "send_message": "approve"}}
    rec = _ok(_update(g, BOB, tid, content, reason="precedence"), 200, "team update")
    d = _evaluate(g, CAROL, "memory_write")
    assert d["decision"] == "require_approval", "approve vs allow-list: %r" % d
    d = _evaluate(g, CAROL, "send_message")
    assert d["decision"] == "deny", "blocked + approve: %r" % d
    st = _deciding(d)
    assert st["scope"] == "team" and st.get("policy_id") == tid and \
        st.get("version") == rec["version"], "deny trace %r" % st
    d = _evaluate(g, CAROL, "memory_read")
    assert d["decision"] == "allow", "memory_read: %r" % d
    st = _deciding(d)
    assert st["scope"] == "enterprise" and st.get("policy_id") == STATE["ent_id"], \
        "memory_read allowed first by the enterprise allow-list, trace %r" % st
    d = _evaluate(g, CAROL, "shell_exec")
    assert d["decision"] == "deny", "enterprise-blocked tool: %r" % d
    assert (d.get("policy") or {}).get("scope") == "enterprise", repr(d)
    d = _evaluate(g, CAROL, "some_unlisted_tool")
    assert d["decision"] == "require_approval", "default_autonomy approve: %r" % d
    # the parent's block cannot be undone below: it is a violation
    r = _update(g, BOB, tid, dict(content, per_action={"shell_exec": "autonomous"}))
    assert r.status == 422, "team unblocking shell_exec: %r" % r
    # a domain without any policy: default deny, no policy named
    d = _evaluate(g, CAROL, "openai/gpt-4o", action="model_call")
    assert d["decision"] == "deny" and d.get("policy") is None, "no models policy: %r" % d
    assert "default deny" in d.get("reason", ""), "reason %r" % d.get("reason")
    _ok(_update(g, BOB, tid, TEAM_V1, reason="reset"), 200, "team reset")


# --------------------------------------------------------------------------------------------
# 3. Approvals end to end

def _approval_policy(g):
    _put_slot(g, "team", "platform", "actions",
              dict(TEAM_V1, per_action={"memory_write": "approve"}), who=TOK[BOB])


def _park(g, who, agent, content):
    r = _invoke(g, who, "memory_write", _mw(agent, content))
    j = _ok(r, 202, "invoke memory_write (approval required)")
    assert j.get("status") == "pending_approval", repr(j)
    assert isinstance(j.get("approval_id"), str) and j["approval_id"].startswith("apr_"), repr(j)
    for k in ("expires_at", "approvers", "decision"):
        assert k in j, "202 lacks %r: %r" % (k, j)
    return j["approval_id"]


def test_approval_park_visibility_and_approve_once():
    g = GW()
    _approval_policy(g)
    aid = _park(g, CAROL, "once", "approved content")
    STATE["once"] = aid
    assert _memory(g, "once").status == 404, "parked action wrote the memory"
    # visibility
    assert aid in _list_ids(g, BOB), "team lead (approver) does not see the item"
    assert aid in _list_ids(g, BOB, "pending"), "?status=pending lacks the item"
    assert aid in _list_ids(g, CAROL), "requester does not see the item"
    for other in (DAVE, MIA, EVE, OLGA):
        assert aid not in _list_ids(g, other), "%s sees carol's item in the list" % other
        assert_error(_item(g, other, aid), 404, "not_found")
    it = _ok(_item(g, CAROL, aid), 200, "requester reads item")
    assert it["status"] == "pending" and it["requester"] == CAROL, repr(it)
    assert it["action"] == {"tool": "memory_write", "args": _mw("once", "approved content")}, \
        "item action %r" % it["action"]
    assert "scopes" not in json.dumps(it), "item exposes the frozen grants: %r" % it
    # the requester cannot approve its own item; another user neither (404: not visible)
    assert_error(_approve(g, CAROL, aid), 403, "forbidden")
    assert_error(_approve(g, DAVE, aid), 404, "not_found")
    assert_error(_approve(g, MIA, aid), 404, "not_found")
    assert _memory(g, "once").status == 404, "refused approvals ran the action"
    r = _approve(g, BOB, aid, {"comment": "fine"})
    j = _ok(r, 200, "team lead approves")
    assert j.get("id") == aid and j.get("status") == "executed", repr(j)
    assert isinstance(j.get("result"), dict) and j["result"].get("bytes") == len("approved content"), \
        "result %r" % j.get("result")
    m = _memory(g, "once")
    assert m.status == 200 and m.text == "approved content", "memory after approval: %r" % m
    it = _ok(_item(g, BOB, aid), 200, "approver reads item")
    assert it["status"] == "executed" and it["decided_by"] == BOB and it["comment"] == "fine", \
        repr(it)
    assert it["result"] == j["result"], "stored result %r != answer %r" % (it["result"], j["result"])
    # idempotent: again → same answer; overwrite in between → re-approval does not write again
    r2 = _ok(_approve(g, BOB, aid), 200, "approve again")
    assert r2 == j, "repeat approval answered %r, first %r" % (r2, j)
    assert g.put_memory("engineering/once", "overwritten", ADMIN_TOKEN).status == 200
    r3 = _ok(_approve(g, BOB, aid, {"comment": "again"}), 200, "approve a third time")
    assert r3 == j, "third approval answered %r" % r3
    m = _memory(g, "once")
    assert m.text == "overwritten", "re-approval executed the action again: memory %r" % m.text
    it = _ok(_item(g, BOB, aid), 200, "item")
    assert it["comment"] == "fine", "repeat approval changed the comment: %r" % it["comment"]


def test_approval_item_shape():
    g = GW()
    _approval_policy(g)
    aid = _park(g, CAROL, "plain", "shape check")
    keys = ("id", "status", "requester", "action", "policy", "created_at", "expires_at",
            "decided_by", "comment", "result")
    it = _ok(_item(g, CAROL, aid), 200, "item")
    missing = [k for k in keys if k not in it]
    listed = [a for a in _ok(g.get("/api/v1/approvals", token=TOK[CAROL]), 200, "list")[
        "approvals"] if a["id"] == aid]
    assert len(listed) == 1, "item not listed once: %r" % listed
    missing_l = [k for k in keys if k not in listed[0]]
    assert not missing and not missing_l, \
        "pending item lacks %r (GET) / %r (list) of the documented fields: %r" % (
            missing, missing_l, it)
    g.post("/api/v1/approvals/%s/reject" % aid, body={}, token=TOK[CAROL])


def test_second_approver_gets_409():
    g = GW()
    aid = STATE["once"]
    # tess is a team lead of platform too: an intended approver, but the item is decided
    r = _approve(g, TESS, aid)
    assert_error(r, 409, "conflict")
    assert _memory(g, "once").text == "overwritten", "second approver ran the action"


def test_approve_once_audit():
    g = GW()
    aid = STATE["once"]
    rows = _audit_for(g, "approval.approved", aid)
    oks = [e for e in rows if e["outcome"] == "ok"]
    assert len(oks) == 1, "expected exactly one ok approval.approved event for %s, got %d: %r" % (
        aid, len(oks), [(e["actor"], e["status"], e.get("details")) for e in oks])
    assert oks[0]["actor"] == BOB, repr(oks[0])
    req = _audit_for(g, "approval.requested", aid)
    assert len(req) == 1 and req[0]["actor"] == CAROL, "approval.requested rows %r" % req
    # the approved action ran once: no second execution event of any kind for this item
    tool_rows = [e for e in _audit(g, event="tool.*")
                 if e.get("resource") == "engineering/once" and e["outcome"] == "ok"]
    assert len(tool_rows) <= 1, "several tool executions audited: %r" % tool_rows


def test_edit_then_approve_runs_edited_args():
    g = GW()
    _approval_policy(g)
    aid = _park(g, CAROL, "edit", "original text")
    r = _approve(g, BOB, aid, {"args": _mw("edit", "edited by lead"), "comment": "reworded"})
    j = _ok(r, 200, "edit-then-approve")
    assert j["status"] == "executed" and j["result"].get("bytes") == len("edited by lead"), repr(j)
    m = _memory(g, "edit")
    assert m.status == 200 and m.text == "edited by lead", "memory %r" % m
    it = _ok(_item(g, CAROL, aid), 200, "item")
    assert it["action"]["args"]["content"] == "edited by lead", "item keeps old args %r" % it
    rows = _audit_for(g, "approval.approved", aid)
    assert any((e.get("details") or {}).get("edited") is True for e in rows), \
        "approval audit does not record the edit: %r" % rows
    # invalid edited args (another tool's shape) → 400, nothing runs
    aid2 = _park(g, CAROL, "edit", "second")
    r = _approve(g, BOB, aid2, {"args": {"namespace": "engineering", "agent": "edit"}})
    assert_error(r, 400, "invalid_request")
    assert _memory(g, "edit").text == "edited by lead", "invalid edit ran"
    assert _ok(_item(g, BOB, aid2), 200, "item")["status"] == "pending", "invalid edit decided it"
    # edited args run with the requester's frozen grants: a namespace carol cannot write → no write
    r = _approve(g, BOB, aid2, {"args": {"namespace": "finance", "agent": "ledger",
                                         "content": "x"}})
    assert r.status in (403, 404), "edit to a namespace outside the requester's grants: %r" % r


def test_reject_and_withdraw():
    g = GW()
    _approval_policy(g)
    aid = _park(g, CAROL, "reject", "should never be written")
    assert_error(g.post("/api/v1/approvals/%s/reject" % aid, body={}, token=TOK[DAVE]), 404)
    r = g.post("/api/v1/approvals/%s/reject" % aid, body={"comment": "no"}, token=TOK[BOB])
    j = _ok(r, 200, "reject")
    assert j == {"id": aid, "status": "rejected"}, repr(j)
    it = _ok(_item(g, CAROL, aid), 200, "item")
    assert it["status"] == "rejected" and it["decided_by"] == BOB and it["comment"] == "no", repr(it)
    assert_error(_approve(g, BOB, aid), 409, "conflict")
    assert _memory(g, "reject").status == 404, "rejected action ran"
    assert aid not in _list_ids(g, BOB, "pending"), "rejected item listed as pending"
    rows = [e for e in _audit_for(g, "approval.rejected", aid) if e["outcome"] == "ok"]
    assert len(rows) == 1 and rows[0]["actor"] == BOB, "ok approval.rejected rows %r" % rows
    # the requester may withdraw its own item
    aid2 = _park(g, CAROL, "withdraw", "withdrawn")
    j = _ok(g.post("/api/v1/approvals/%s/reject" % aid2, body={}, token=TOK[CAROL]), 200,
            "requester withdraws")
    assert j["status"] == "rejected", repr(j)
    assert_error(_approve(g, BOB, aid2), 409, "conflict")
    assert _memory(g, "withdraw").status == 404, "withdrawn action ran"


def _race(g, n=8):
    _approval_policy(g)
    aid = _park(g, CAROL, "race", "parked")
    barrier = threading.Barrier(n)
    out = [None] * n

    def worker(i):
        content = "winner-%d-%s" % (i, "x" * i)  # every thread's edit has its own length
        body = {"args": _mw("race", content)}
        try:
            barrier.wait(5)
            who = BOB if i % 2 == 0 else TESS
            out[i] = (content, _approve(g, who, aid, body, timeout=15))
        except Exception as e:  # reported below
            out[i] = (content, e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(20)
    return aid, out


def test_concurrent_approvals_execute_once():
    g = GW()
    aid, out = _race(g)
    STATE["race"] = aid
    errs = [o for o in out if not hasattr(o[1], "status")]
    assert not errs, "approval threads failed: %r" % errs
    oks = [(c, r) for c, r in out if r.status == 200]
    assert oks, "no concurrent approval succeeded: %r" % [r for _, r in out]
    for _, r in out:
        assert r.status in (200, 409), "concurrent approval answered %r" % r
    results = {json.dumps(r.json().get("result"), sort_keys=True) for _, r in oks}
    assert len(results) == 1, "several different executions reported: %r" % results
    res = json.loads(results.pop())
    winners = [c for c, _ in out if len(c) == res.get("bytes")]
    assert len(winners) == 1, "result %r matches %d edits" % (res, len(winners))
    m = _memory(g, "race")
    assert m.status == 200 and m.text == winners[0], \
        "memory %r is not the single winner's edit %r" % (m.text, winners[0])
    it = _ok(_item(g, BOB, aid), 200, "item")
    assert it["status"] == "executed" and it["action"]["args"]["content"] == winners[0], repr(it)


def test_concurrent_approvals_audit_once():
    g = GW()
    aid = STATE["race"]
    rows = _audit_for(g, "approval.approved", aid)
    oks = [e for e in rows if e["outcome"] == "ok"]
    assert len(oks) == 1, "%d ok approval.approved events for one race-approved item: %r" % (
        len(oks), [(e["actor"], e["status"], (e.get("details") or {}).get("args")) for e in oks])


# --------------------------------------------------------------------------------------------
# 4. Denied tools, classification

def test_denied_tool_403_nothing_happens():
    g = GW()
    # bob (team lead) blocks writes and messages for dave only
    _ok(_create(g, BOB, "user", DAVE, "actions",
                {"blocked": ["memory_write", "send_message"]}, reason="dave is read-only"),
        201, "team lead writes a member's user policy")
    rid = _rid("denied")
    r = _invoke(g, DAVE, "memory_write", _mw("deny", "must not land"), rid=rid)
    e = assert_error(r, 403, "forbidden")
    assert e["message"].startswith("denied by policy"), "message %r" % e["message"]
    assert _memory(g, "deny").status == 404, "denied memory_write wrote the memory"
    assert not _list_ids(g, DAVE), "a denied tool call parked an approval"
    end = time.time() + 3
    rows = g.audit_rows_for(rid)
    while len(rows) < 2 and time.time() < end:  # both are written asynchronously
        time.sleep(0.05)
        rows = g.audit_rows_for(rid)
    # one event for the request, one for the enforcement hook's decision (with its reason)
    assert sorted(x["type"] for x in rows) == ["policy.decision", "tool.denied"], \
        "audit rows %r" % rows
    for x in rows:
        assert x["outcome"] == "denied" and x["actor"] == DAVE, repr(x)
    dec = [x for x in rows if x["type"] == "policy.decision"][0]
    assert dec["details"]["decision"] == "deny" and dec["details"]["reason"] and \
        dec["details"]["policy"]["id"], "decision event lacks reason/policy: %r" % dec
    c = g.db()
    try:
        before = c.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        c.close()
    r = _invoke(g, DAVE, "send_message", _mw("deny", "hello"))
    assert_error(r, 403, "forbidden")
    c = g.db()
    try:
        after = c.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        c.close()
    assert after == before, "denied send_message stored a message"
    # carol (same team, no user policy) is still allowed to read
    r = _invoke(g, CAROL, "memory_read", {"namespace": "engineering", "agent": "once"})
    j = _ok(r, 200, "memory_read allowed")
    assert j["status"] == "executed" and j["result"].get("content") == "overwritten", repr(j)


def test_private_key_is_classified_restricted():
    g = GW()
    # the admin token has no team: the enterprise policy alone applies (memory_write autonomous)
    rid = _rid("pk")
    r = _invoke(g, ADMIN_TOKEN, "memory_write", _mw("classify", "key:\n" + PRIVATE_KEY), rid=rid)
    j = _ok(r, 200, "memory_write with a private key")
    assert j["status"] == "executed", repr(j)
    rows = g.audit_rows_for(rid)
    assert rows, "no audit row for the tool call"
    assert all(x.get("classification") == "restricted" for x in rows), \
        "classification of the tool event: %r" % [(x["type"], x.get("classification")) for x in rows]
    assert any(x["type"] == "tool.invoked" for x in rows), [x["type"] for x in rows]
    rid = _rid("plain")
    _ok(_invoke(g, ADMIN_TOKEN, "memory_write", _mw("plain", "nothing secret here"), rid=rid),
        200, "plain memory_write")
    rows = g.audit_rows_for(rid)
    assert rows and rows[0].get("classification") == "internal", \
        "plain content classified %r" % [x.get("classification") for x in rows]
    # parked too: the approval request carries the classification
    _approval_policy(g)
    rid = _rid("pk-park")
    r = _invoke(g, CAROL, "memory_write", _mw("classify", PRIVATE_KEY), rid=rid)
    assert r.status == 202, repr(r)
    rows = g.audit_rows_for(rid)
    assert rows and all(x.get("classification") == "restricted" for x in rows), \
        "parked private key classified %r" % [(x["type"], x.get("classification")) for x in rows]


# --------------------------------------------------------------------------------------------
# 5. Bundle; expiry (bundle daemon runs with approval_ttl_s: 1)

def test_bundle_policies_loaded_at_start():
    g = GWB()
    pols = _ok(g.get("/api/v1/policies", token=ADMIN_TOKEN), 200, "list")["policies"]
    slots = {(p["scope"], p.get("scope_id"), p["domain"]): p for p in pols}
    assert len(pols) == 3, "bundle of 3 policies gave %r" % list(slots)
    for key, content in ((("enterprise", None, "actions"), BUNDLE_ENT),
                         (("team", "platform", "actions"), BUNDLE_TEAM),
                         (("enterprise", None, "features"), {"daily_briefing": True})):
        p = slots.get(key)
        assert p is not None, "bundle policy %r missing from %r" % (key, list(slots))
        assert p["author"] == "bundle", "author %r" % p["author"]
        assert p["version"] == 1 and p["status"] == "active", repr(p)
        assert p.get("change_reason"), "bundle policy without change_reason: %r" % p
        for k, v in content.items():
            got = p["content"].get(k)
            if isinstance(v, list):
                assert sorted(got or []) == sorted(v), "%r.%s = %r" % (key, k, got)
            else:
                assert got == v, "%r.%s = %r, expected %r" % (key, k, got, v)
    assert slots[("team", "platform", "actions")]["change_reason"] == "platform writes need a lead"
    d = _evaluate(g, CAROL, "memory_write")
    assert d["decision"] == "require_approval", "bundle team policy not in force: %r" % d
    assert (d.get("policy") or {}).get("id") == slots[("team", "platform", "actions")]["id"], repr(d)


def test_approval_expires():
    g = GWB()
    aid = _park(g, CAROL, "expire", "too late")
    t0 = time.time()

    def expired():
        it = _ok(_item(g, CAROL, aid), 200, "item")
        return it if it["status"] == "expired" else None

    it = gwtest.wait_until(expired, timeout=4.0, interval=0.1, what="item expired")
    assert time.time() - t0 <= 3.5, "expiry took %.1f s" % (time.time() - t0)
    assert it["status"] == "expired", repr(it)
    assert aid not in _list_ids(g, BOB, "pending"), "expired item listed as pending"
    assert_error(_approve(g, BOB, aid), 409, "conflict")
    assert _memory(g, "expire").status == 404, "expired action ran"
    rows = _audit_for(g, "approval.expired", aid)
    assert len(rows) == 1 and rows[0]["outcome"] == "ok", "approval.expired rows %r" % rows


def test_bundle_is_authoritative_on_restart():
    old = GWB()
    old.stop(check=True)
    path = old.config["policy"]["bundle"]
    changed = {"per_action": {"memory_write": "block"}}
    bundle = [
        {"scope": "enterprise", "domain": "actions", "content": BUNDLE_ENT,
         "change_reason": "baseline from the bundle"},
        {"scope": "team", "scope_id": "platform", "domain": "actions", "content": changed,
         "change_reason": "platform writes blocked"},
        {"scope": "enterprise", "domain": "features", "content": {"daily_briefing": True}},
    ]
    with open(path, "w") as f:
        f.write(gwtest.to_yaml(bundle) + "\n")
    g = gwtest.Gateway(_config(dict(old.config["policy"])), data_dir=old.data_dir)
    GWB.value = g
    g.start()
    pols = _ok(g.get("/api/v1/policies", token=ADMIN_TOKEN), 200, "list")["policies"]
    slots = {(p["scope"], p.get("scope_id"), p["domain"]): p for p in pols}
    team = slots.get(("team", "platform", "actions"))
    ent = slots.get(("enterprise", None, "actions"))
    assert team and ent, "policies after restart: %r" % list(slots)
    assert ent["version"] == 1, "unchanged bundle policy got a new version: %r" % ent
    assert team["version"] == 2 and team["author"] == "bundle", "changed bundle policy %r" % team
    assert team["content"].get("per_action") == {"memory_write": "block"}, repr(team)
    d = _evaluate(g, CAROL, "memory_write")
    assert d["decision"] == "deny", "bundle change not in force after restart: %r" % d


gwtest.main(globals())
