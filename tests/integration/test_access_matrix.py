#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The authorization matrix (issue 10): every route × every kind of principal × every target.

One gateway with a real OpenID provider (LemonLDAP::NG) and two tenants. Principals: each
built-in role signed in three ways (a browser session with its CSRF token, an IdP JWT access
token as a Bearer token, a CLI login), a custom role reached through a group mapping, gateway
tokens with narrow, wide and owner-capped scopes, and no, an expired and a revoked credential.
Targets: the caller's own namespace, another namespace of the same org, one of another org, and
the other tenant's address; own objects against another user's (tokens, sessions, policies).

ROUTES below is the one declared table: for each route, per target, which principal classes
succeed (with which status) and what the others get. The first test fails when the gateway's
route table (`openclaw-gateway --list-routes`) has a route without a row here, so a new route
cannot land untested. Rows run in order for every principal; rows that change state use objects
made for that principal (its own token, agent, member), so one principal's success never decides
another's outcome. Escalation attempts (tokens, members, policies beyond one's own rights) and
the trusted-proxy cases are rows and tests of their own.
"""
import atexit
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "idp"))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN, Raw  # noqa: E402

from browser import query_params  # noqa: E402
from cli_browser import loopback_browser  # noqa: E402
from oidc_provider import OidcProvider, User, login, pkce_pair  # noqa: E402

COOKIE = "__Host-openclaw_session"
TENANT = gwtest.TENANT
OTHER_HOST = "globex.test"
NARROW = "narrow-token-" + "n" * 32
CAPPED = "capped-token-" + "c" * 32
EXPIRED = "expired-token-" + "e" * 32

# --- who is who -------------------------------------------------------------------------------
# class → (IdP account, its groups); the roles come from identity.users (ea, oa, tl, u) or from
# a group mapping (custom: the "auditor" role through the group "auditors").
PEOPLE = {
    "ea": ("root", ["gw-admins"]),
    "oa": ("olga", ["eng-admins"]),
    "tl": ("tess", ["platform-leads"]),
    "u": ("ursula", ["platform-devs"]),
    "custom": ("cody", ["auditors"]),
}
ROLES = ["ea", "oa", "tl", "u"]
# every principal: (class, method)
PRINCIPALS = ([(r, m) for r in ROLES for m in ("session", "bearer", "cli")] +
              [("custom", "session"), ("narrow", "token"), ("wide", "token"),
               ("capped", "token"), ("none", None), ("expired", "token"), ("revoked", "token")])
UNAUTHENTICATED = {"none", "expired", "revoked"}
ALL = "ea oa tl u custom narrow wide capped"

# own namespace (team platform: tl, u; group auditors: custom; narrow's scope), another of the
# same org (engineering: oa's subtree), another org's, and the other tenant's address
NS = {"own": "platform-ns", "same_org": "data-ns", "other_org": "sales-ns",
      "other_tenant": "platform-ns"}
NS_TARGETS = ["own", "same_org", "other_org", "other_tenant"]


def _config(port, op):
    base = "http://127.0.0.1:%d" % port
    cfg = gwtest.seed_config(port=port)
    cfg["identity"] = {
        "org_units": ["engineering", "engineering/platform", "engineering/data", "sales"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"},
                  {"id": "data", "org_unit": "engineering/data"},
                  {"id": "deals", "org_unit": "sales"}],
        "users": [{"id": "root", "role": "enterprise_admin"},
                  {"id": "olga", "role": "org_admin", "org_unit": "engineering"},
                  {"id": "tess", "role": "team_lead", "team": "platform"},
                  {"id": "ursula", "role": "user", "team": "platform"},
                  {"id": "vera", "role": "user", "team": "deals"}] +
                 [{"id": "dummy-%d" % i, "role": "user", "team": "platform"}
                  for i in range(len(PRINCIPALS))] +
                 [{"id": "vdummy-%d" % i, "role": "user", "team": "deals"}
                  for i in range(len(PRINCIPALS))],
    }
    cfg["rbac"] = {
        "roles": {"auditor": {"description": "reads, never writes",
                              "permissions": ["audit:read", "channels:*", "memory:read",
                                              "agents:read"]}},
        "groupMappings": {"auditors": "auditor", "gw-admins": "enterprise_admin",
                          "platform-devs": "user"},
    }
    cfg["namespaces"] = {
        "platform-ns": {"members": {"teams": ["platform"], "groups": ["auditors"]}},
        "data-ns": {"members": {"teams": ["data"]}},
        "sales-ns": {"members": {"teams": ["deals"]}},
    }
    cfg["agents"] = [{"name": "%s/bot" % ns} for ns in ("platform-ns", "data-ns", "sales-ns")]
    cfg["auth"]["tokens"] = [
        {"id": "admin", "token": ADMIN_TOKEN, "scopes": ["*"]},
        {"id": "narrow", "token": NARROW, "scopes": ["channels:platform-ns/*", "memory:read"]},
        {"id": "capped", "token": CAPPED, "scopes": ["*"], "owner": "ursula"},
        {"id": "expired", "token": EXPIRED, "scopes": ["*"],
         "expires_at": "2020-01-01T00:00:00Z"},
    ]
    cfg["tenants"] = [{"id": "globex", "hosts": [OTHER_HOST]}]
    gwtest.allow_exports(cfg, {"scope": "enterprise", "domain": "actions",
                               "content": {"default_autonomy": "autonomous"}})
    cfg["sso"] = {
        "oidc": {"issuer": op.issuer, "client_id": op.client_id,
                 "client_secret": Raw("${OIDC_SECRET}"),
                 "redirect_uri": base + "/api/v1/auth/callback",
                 "scopes": ["openid", "profile", "email", "groups", "org"],
                 "claims": {"user": "sub", "org_unit": "org_unit", "team": "team",
                            "groups": "groups"},
                 "allowed_algs": ["RS256"], "accept_bearer_jwt": True},
        "unmapped": "refuse",
    }
    return cfg


def _gateway():
    port = gwtest.free_port()
    base = "http://127.0.0.1:%d" % port
    users = [User(uid, uid + "-pw", uid.title(), uid + "@company.com", groups)
             for uid, groups in PEOPLE.values()]
    users.append(User("vera", "vera-pw", "Vera", "vera@company.com", ["platform-devs"]))
    op = OidcProvider(redirect_uris=[base + "/api/v1/auth/callback"], users=users).start()
    atexit.register(op.cleanup)
    g = gwtest.Gateway(config=_config(port, op), env={"OIDC_SECRET": op.client_secret},
                       port=port).start()
    g.op, g.base = op, base
    return g


GW = gwtest.Lazy(_gateway)


# --- signing in -------------------------------------------------------------------------------

def browser_session(g, uid):
    b = loopback_browser()
    r = b.get(g.base + "/api/v1/auth/login")
    assert r.status == 302, (r.status, r.text[:300])
    r = b.get(login(b, r.location, uid, uid + "-pw"))
    assert r.status == 302, (uid, r.status, r.text[:300])
    secret = next(c.value for c in b.jar if c.name == COOKIE)
    me = gwtest.http_request(g.port, "GET", "/api/v1/auth/userinfo",
                             headers={"Cookie": "%s=%s" % (COOKIE, secret)}).json()
    return {"Cookie": "%s=%s" % (COOKIE, secret), "X-CSRF-Token": me["csrf_token"]}, me


def bearer_token(g, uid):
    verifier, challenge = pkce_pair()
    b = loopback_browser()
    cb = login(b, g.op.authorize_url(code_challenge=challenge), uid, uid + "-pw")
    tok = g.op.exchange_code(query_params(cb)["code"], code_verifier=verifier)
    assert tok["status"] == 200, tok
    return tok["access_token"]


def cli_token(g, uid):
    """The gateway's CLI sign-in (what `openclaw auth login` does), driven by hand."""
    headers, _ = browser_session(g, uid)
    b = loopback_browser()
    b.jar.set_cookie(__import__("http.cookiejar").cookiejar.Cookie(
        0, COOKIE, headers["Cookie"].split("=", 1)[1], None, False, "127.0.0.1", False, False,
        "/", True, False, None, False, None, None, {}))
    verifier, challenge = pkce_pair()
    loop = "http://127.0.0.1:%d/callback" % gwtest.free_port()
    q = {"redirect_uri": loop, "code_challenge": challenge, "code_challenge_method": "S256",
         "state": "st"}
    page = b.get(g.base + "/api/v1/auth/cli/authorize?" + urllib.parse.urlencode(q))
    assert page.status == 200, (page.status, page.text[:300])
    form = page.form(has_password=False)
    vals = form.values()
    vals["action"] = "confirm"
    r = b.post(form.action, vals)
    assert r.status == 302 and r.location.startswith(loop), (r.status, r.text[:300])
    code = query_params(r.location)["code"]
    r = gwtest.http_request(g.port, "POST", "/api/v1/auth/cli/token",
                            body={"grant_type": "authorization_code", "code": code,
                                  "code_verifier": verifier, "redirect_uri": loop})
    assert r.status == 200, r
    return r.json()["access_token"]


def credential(g, cls, method):
    """Headers that authenticate (class, method), and the user id behind it (or None)."""
    if cls in PEOPLE:
        uid = PEOPLE[cls][0]
        if method == "session":
            return browser_session(g, uid)[0], uid
        tok = bearer_token(g, uid) if method == "bearer" else cli_token(g, uid)
        return {"Authorization": "Bearer " + tok}, uid
    if cls == "none":
        return {}, None
    if cls == "revoked":
        r = g.post("/api/v1/tokens", body={"scopes": ["*"], "id": "to-revoke"},
                   token=ADMIN_TOKEN)
        assert r.status == 201, r
        assert g.req("DELETE", "/api/v1/tokens/to-revoke", token=ADMIN_TOKEN).status == 200
        return {"Authorization": "Bearer " + r.json()["token"]}, None
    secret = {"narrow": NARROW, "wide": ADMIN_TOKEN, "capped": CAPPED, "expired": EXPIRED}[cls]
    return {"Authorization": "Bearer " + secret}, "ursula" if cls == "capped" else None


# --- the declared table -----------------------------------------------------------------------

def expect(ok, allow, deny=403, methods=None, **special):
    """Status per principal class: ok for the classes in allow, deny for the other
    authenticated ones, special[cls] where given, methods[method] for every principal that
    authenticated that way ("session", "bearer", "cli", "token"); 401 for no, expired and
    revoked credentials."""
    allowed = set(allow.split())
    out = {c: ok if c in allowed else deny for c in ALL.split()}
    out.update(special)
    out["methods"] = methods or {}
    return out


def per_target(own, same_org, other_org, ok=200, deny=403, **special):
    """Namespace routes: allow lists per target; the other tenant's address refuses every
    credential of this tenant (403)."""
    return {"own": expect(ok, own, deny, **special), "same_org": expect(ok, same_org, deny),
            "other_org": expect(ok, other_org, deny), "other_tenant": expect(ok, "")}


def fixed(status):
    """Routes that use no credential: the same answer for everyone."""
    return {c: status for c in ALL.split() + sorted(UNAUTHENTICATED)}


class Row:
    """A request: path variables in braces ({ns} the target's namespace, {agent} "bot",
    {user} "vera", {index} the principal's number, others from prep or vars)."""

    def __init__(self, method, path, expected, body=None, prep=None, access="auth",
                 headers=None, name=None, vars=None, route=None):
        self.method, self.path, self.expected = method, path, expected
        self.body, self.prep, self.access = body, prep, access
        self.headers, self.name, self.vars = headers or {}, name or "", vars or {}
        self.route = route  # the route's pattern when the path does not show it ("{*}")

    def targets(self):
        if isinstance(self.expected, dict) and "own" in self.expected and \
                isinstance(self.expected["own"], dict):
            return list(self.expected)
        return [None]

    def pattern(self):
        """The route as --list-routes prints it: every segment with a variable is "{}"."""
        if self.route:
            return self.route
        return "/".join("{}" if "{" in seg else seg for seg in self.path.split("?")[0].split("/"))


USER_WRITERS = "ea oa tl u wide capped"        # memory:write via role or "*"
READERS = "ea oa tl u custom wide capped"       # audit:read
POLICY_READERS = "ea oa tl u wide capped"
ADMINS = "ea wide"


def _policy(p):
    return {"scope": "user", "scope_id": "dummy-%d" % p.index, "domain": "actions",
            "content": {"per_action": {"memory_write": "approve"}}, "change_reason": "matrix"}


ROUTES = [
    # public and sign-in routes: no credential is used
    Row("GET", "/healthz", fixed(200), access="public"),
    Row("GET", "/readyz", fixed(200), access="public"),
    Row("GET", "/api/v1/health", fixed(200), access="public"),
    Row("GET", "/api/v1/status", fixed(200), access="public"),
    Row("GET", "/api/v1/openapi.json", fixed(200), access="public"),
    Row("GET", "/api/v1/audit/public-key", fixed(200), access="public"),
    Row("GET", "/api/v1/auth/saml/metadata", fixed(404), access="public"),
    Row("GET", "/api/v1/auth/login", fixed(302), access="anon"),
    Row("GET", "/api/v1/auth/callback", fixed(400), access="anon"),
    Row("POST", "/api/v1/auth/saml/acs", fixed(404), access="anon"),
    Row("GET", "/api/v1/auth/saml/slo", fixed(404), access="anon"),
    Row("POST", "/api/v1/auth/saml/slo", fixed(404), access="anon"),
    Row("GET", "/api/v1/auth/cli/authorize", fixed(400), access="anon"),
    Row("POST", "/api/v1/auth/cli/authorize", fixed(415), access="anon"),
    Row("POST", "/api/v1/auth/cli/token", fixed(400), access="anon", body={}),
    Row("POST", "/api/v1/auth/cli/revoke", fixed(400), access="anon", body={}),
    # who am I
    Row("GET", "/api/v1/auth/userinfo", expect(200, ALL)),
    Row("GET", "/api/v1/scopes", expect(200, ALL)),
    Row("GET", "/api/v1/auth/sessions", expect(200, ALL)),
    # another user's sessions: only the enterprise admin (tokens: an ownerless "*" one)
    Row("DELETE", "/api/v1/auth/users/{user}/sessions", expect(200, ADMINS)),
    Row("DELETE", "/api/v1/auth/sessions/{sid}", expect(200, ADMINS, deny=404),
        prep=lambda g, p: {"sid": browser_session(g, "vera")[1]["session_id"]}),
    # tokens: create (and the escalation attempts), list, rotate and revoke own vs another's
    Row("POST", "/api/v1/tokens", expect(201, "ea oa tl wide"),
        body=lambda p: {"scopes": ["memory:read"], "id": "own-%d" % p.index}),
    Row("POST", "/api/v1/tokens", expect(201, ADMINS), name="a namespace not reached",
        body=lambda p: {"scopes": ["channels:sales-ns/*"]}),
    Row("POST", "/api/v1/tokens", expect(201, ADMINS), name="everything",
        body=lambda p: {"scopes": ["*"]}),
    Row("POST", "/api/v1/tokens", expect(400, "ea oa tl wide"), name="a scope typo",
        body=lambda p: {"scopes": ["audit:reed"]}),
    Row("POST", "/api/v1/tokens", expect(201, ADMINS), name="for another user",
        body=lambda p: {"scopes": ["memory:read"], "owner": "vera"}),
    Row("GET", "/api/v1/tokens", expect(200, "ea oa tl wide")),
    Row("POST", "/api/v1/tokens/own-{index}/rotate", expect(200, "ea oa tl wide")),
    Row("POST", "/api/v1/tokens/{other}/rotate", expect(200, ADMINS, oa=404, tl=404),
        prep=lambda g, p: {"other": other_token(g, p)}),
    Row("DELETE", "/api/v1/tokens/own-{index}", expect(200, "ea oa tl wide")),
    Row("DELETE", "/api/v1/tokens/{other}", expect(200, ADMINS, oa=404, tl=404),
        prep=lambda g, p: {"other": other_token(g, p)}),
    # namespaces and their members
    Row("GET", "/api/v1/namespaces", expect(200, ALL)),
    Row("GET", "/api/v1/namespaces/{ns}",
        per_target(ALL, "ea oa wide", ADMINS)),
    Row("POST", "/api/v1/namespaces/{ns}/members",
        per_target(ADMINS + " oa", ADMINS + " oa", ADMINS, ok=201),
        body=lambda p: {"org_unit": "%s/sub-%d" % (org_of(p.ns), p.index)}),
    Row("POST", "/api/v1/namespaces/{ns}/members", per_target(ADMINS, ADMINS, ADMINS, ok=201),
        name="a member outside an org_admin's subtree",
        body=lambda p: {"org_unit": "sales/esc-%d" % p.index}),
    Row("POST", "/api/v1/namespaces/{ns}/members", per_target(ADMINS, ADMINS, ADMINS, ok=201),
        name="a group", body=lambda p: {"group": "grp-%d-*" % p.index}),
    Row("DELETE", "/api/v1/namespaces/{ns}/members?org_unit={member}",
        per_target(ADMINS + " oa", ADMINS + " oa", ADMINS), prep=lambda g, p: pre_member(g, p)),
    # agents
    Row("GET", "/api/v1/agents", expect(200, "ea oa tl u custom wide capped")),
    Row("POST", "/api/v1/agents", per_target("ea oa tl wide", "ea oa wide", ADMINS, ok=201),
        body=lambda p: {"name": "%s/new-%d" % (p.ns, p.index)}),
    Row("DELETE", "/api/v1/agents/{ns}/{agent}",
        per_target("ea oa tl wide", "ea oa wide", ADMINS), prep=lambda g, p: pre_agent(g, p)),
    Row("POST", "/api/v1/channels/{ns}/{agent}/messages",
        per_target(ALL, "ea oa wide", ADMINS, ok=202), body={"content": "hello"}),
    Row("GET", "/api/v1/channels/{ns}/{agent}/messages", per_target(ALL, "ea oa wide", ADMINS)),
    # conversations: one's own; another's (vera, org sales) only with conversations:read_all
    # and within reach (the tenant for ea and the ownerless "*" token; oa's is engineering)
    Row("GET", "/api/v1/conversations", expect(200, "ea oa tl u wide capped")),
    Row("GET", "/api/v1/conversations?user=vera", expect(200, ADMINS + " oa"),
        name="another user's"),
    Row("GET", "/api/v1/conversations/{conv}", expect(200, ADMINS, deny=404, custom=403,
                                                      narrow=403),
        prep=lambda g, p: {"conv": vera_conversation(g)}),
    Row("GET", "/api/v1/conversations/{conv}/export", expect(200, ADMINS, deny=404, custom=403,
                                                             narrow=403),
        prep=lambda g, p: {"conv": vera_conversation(g)}),
    Row("DELETE", "/api/v1/conversations/{conv}", expect(403, ADMINS, deny=404, custom=403,
                                                         narrow=403),
        prep=lambda g, p: {"conv": vera_conversation(g)}),
    # memory
    Row("GET", "/api/v1/memory/{ns}/{agent}", per_target(ALL, "ea oa wide", ADMINS)),
    Row("GET", "/api/v1/memory/{ns}/{agent}", per_target(ALL, "ea oa wide", ADMINS),
        vars={"agent": "shared"}, name="the namespace's shared memory"),
    Row("PUT", "/api/v1/memory/{ns}/{agent}",
        per_target(USER_WRITERS, "ea oa wide", ADMINS), body="# notes",
        headers={"Content-Type": "text/markdown"}),
    # classification overrides
    Row("GET", "/api/v1/classification/{ns}/{agent}", per_target(ALL, "ea oa wide", ADMINS)),
    Row("PUT", "/api/v1/classification/{ns}/{agent}",
        per_target("ea oa wide", "ea oa wide", ADMINS),
        body={"level": "internal", "reason": "matrix"}),
    Row("DELETE", "/api/v1/classification/{ns}/{agent}?reason=matrix",
        per_target("ea oa wide", "ea oa wide", ADMINS)),
    # tools and approvals (the enterprise policy runs tools autonomously)
    Row("POST", "/api/v1/tools/invoke", per_target(ALL, "ea oa wide", ADMINS),
        body=lambda p: {"tool": "memory_read", "args": {"namespace": p.ns, "agent": "bot"}}),
    Row("GET", "/api/v1/approvals", expect(200, ALL)),
    Row("GET", "/api/v1/approvals/{approval}", expect(200, "", deny=404),
        prep=lambda g, p: {"approval": vera_approval(g)}),
    Row("POST", "/api/v1/approvals/{approval}/approve", expect(200, "", deny=404),
        prep=lambda g, p: {"approval": vera_approval(g)}),
    Row("POST", "/api/v1/approvals/{approval}/reject", expect(200, "", deny=404),
        prep=lambda g, p: {"approval": vera_approval(g)}),
    # audit
    Row("GET", "/api/v1/audit", expect(200, READERS)),
    Row("GET", "/api/v1/audit/export", expect(200, "ea oa tl u wide capped")),
    Row("GET", "/api/v1/audit/verify", expect(200, READERS)),
    Row("POST", "/api/v1/audit/verify", expect(400, READERS), body={"head": {"type": "head"}},
        name="with a head that is not a signed head"),
    Row("GET", "/api/v1/audit/head", expect(200, READERS)),
    Row("GET", "/api/v1/audit/proof/inclusion/{seq}", expect(200, READERS), vars={"seq": "1"}),
    Row("GET", "/api/v1/audit/proof/consistency?from=1", expect(200, READERS)),
    Row("POST", "/api/v1/audit/keys/rotate", expect(200, ADMINS)),
    # costs
    Row("GET", "/api/v1/costs", expect(200, "ea oa tl wide")),
    # models
    Row("GET", "/v1/models", expect(200, "ea oa tl u wide capped")),
    Row("POST", "/v1/chat/completions", expect(404, "ea oa tl u wide capped"),
        body={"model": "none/none", "messages": [{"role": "user", "content": "hi"}]}),
    Row("GET", "/api/v1/streams/chatcmpl-" + "0" * 24, expect(404, "ea oa tl u wide capped"),
        route="/api/v1/streams/{}"),
    Row("GET", "/v1/models/{prov}/m", expect(200, "ea oa tl u wide capped"),
        prep=lambda g, p: shared_provider(g, p), route="/v1/models/{*}"),
    # providers and models added at run time: enterprise administrators change and test them,
    # the admin roles read them
    Row("GET", "/api/v1/providers", expect(200, "ea oa tl wide")),
    Row("GET", "/api/v1/providers/{prov}", expect(200, "ea oa tl wide"),
        prep=lambda g, p: shared_provider(g, p)),
    Row("POST", "/api/v1/providers", expect(201, ADMINS),
        body=lambda p: provider_body("mxn-%d" % p.index)),
    Row("PATCH", "/api/v1/providers/{prov}", expect(200, ADMINS), body={"retries": 1},
        prep=lambda g, p: own_provider(g, p, "mxs")),
    Row("POST", "/api/v1/providers/{prov}/test", expect(200, ADMINS),
        prep=lambda g, p: shared_provider(g, p)),
    Row("DELETE", "/api/v1/providers/{prov}", expect(200, ADMINS),
        prep=lambda g, p: own_provider(g, p, "mxd")),
    Row("GET", "/api/v1/models", expect(200, "ea oa tl wide")),
    Row("GET", "/api/v1/models/{prov}/{model}", expect(200, "ea oa tl wide"),
        prep=lambda g, p: shared_provider(g, p)),
    Row("POST", "/api/v1/models", expect(201, ADMINS), prep=lambda g, p: shared_provider(g, p),
        body=lambda p: {"id": "mx/n-%d" % p.index}),
    Row("PATCH", "/api/v1/models/{prov}/{model}", expect(200, ADMINS), body={"upstream": "u2"},
        prep=lambda g, p: own_model(g, p, "s")),
    Row("POST", "/api/v1/models/{prov}/{model}/test", expect(200, ADMINS),
        prep=lambda g, p: shared_provider(g, p)),
    Row("DELETE", "/api/v1/models/{prov}/{model}", expect(200, ADMINS),
        prep=lambda g, p: own_model(g, p, "d")),
    Row("PUT", "/api/v1/agents/{ns}/{agent}/model",
        per_target("ea oa tl wide", "ea oa wide", ADMINS), body={"model": "mx/m"},
        prep=lambda g, p: dict(shared_provider(g, p), **api_agent(g, p))),
    # policies: own (a user policy the caller writes for "its" dummy user) vs another's
    Row("GET", "/api/v1/policies", expect(200, POLICY_READERS)),
    Row("GET", "/api/v1/policies/effective?domain=actions", expect(200, POLICY_READERS)),
    Row("POST", "/api/v1/policies/evaluate", expect(200, POLICY_READERS),
        body={"action": "tool_call", "resource": "memory_read", "namespace": "sales-ns"}),
    Row("POST", "/api/v1/policies", expect(201, "ea oa tl wide"), body=_policy),
    Row("POST", "/api/v1/policies", expect(201, ADMINS), name="another org's user",
        body=lambda p: dict(_policy(p), scope_id="vdummy-%d" % p.index)),
    Row("GET", "/api/v1/policies/{deals_policy}", expect(200, ADMINS, deny=404)),
    Row("PUT", "/api/v1/policies/{deals_policy}", expect(200, ADMINS, deny=404),
        body={"content": {}, "change_reason": "matrix"}),
    Row("GET", "/api/v1/policies/{deals_policy}/history",
        expect(200, ADMINS, deny=404)),
    Row("GET", "/api/v1/policies/{deals_policy}/diff?from=1&to=1",
        expect(200, ADMINS, deny=404)),
    Row("POST", "/api/v1/policies/{deals_policy}/rollback",
        expect(200, ADMINS, deny=404),
        body={"version": 1, "change_reason": "matrix"}),
    Row("DELETE", "/api/v1/policies/{deals_policy}?change_reason=matrix",
        expect(200, ADMINS, deny=404),
        prep=lambda g, p: {"deals_policy": sales_user_policy(g, p)}),
    Row("POST", "/api/v1/admin/reload", expect(200, ADMINS)),
    # last: ends the caller's own session or CLI login (other credentials are not sessions)
    Row("POST", "/api/v1/auth/logout", expect(200, ALL, methods={"bearer": 400, "token": 400})),
]


# --- objects the rows act on ----------------------------------------------------------------

CACHE = {}


def admin(g, method, path, body=None):
    r = g.req(method, path, body=body, token=ADMIN_TOKEN)
    assert r.status < 300, (method, path, r)
    return r


def other_token(g, p):
    """A token of another user (vera), made for this principal alone."""
    return admin(g, "POST", "/api/v1/tokens",
                 {"scopes": ["memory:read"], "owner": "vera"}).json()["id"]


def org_of(ns):
    """The org a namespace's test members belong to: members added to sales-ns stay inside
    sales, so that no row widens what a later principal of engineering reaches."""
    return "sales" if ns == "sales-ns" else "engineering"


def pre_member(g, p):
    member = "%s/del-%d" % (org_of(p.ns), p.index)
    g.req("POST", "/api/v1/namespaces/%s/members" % p.ns, body={"org_unit": member},
          token=ADMIN_TOKEN)
    return {"member": member}


def pre_agent(g, p):
    for ns in ("platform-ns", "data-ns", "sales-ns"):
        g.req("POST", "/api/v1/agents", body={"name": "%s/del-%d" % (ns, p.index)},
              token=ADMIN_TOKEN)
    return {"agent": "del-%d" % p.index}


def provider_body(name):
    """A provider whose server is not there (tests of it fail at once)."""
    return {"name": name, "api": "openai", "base_url": "http://127.0.0.1:1/v1",
            "models": [{"name": "m"}]}


def shared_provider(g, p):
    if "mx" not in CACHE:
        CACHE["mx"] = admin(g, "POST", "/api/v1/providers", provider_body("mx")).json()["name"]
    return {"prov": CACHE["mx"], "model": "m"}


def own_provider(g, p, prefix):
    name = "%s-%d" % (prefix, p.index)
    g.req("POST", "/api/v1/providers", body=provider_body(name), token=ADMIN_TOKEN)
    return {"prov": name}


def own_model(g, p, prefix):
    shared_provider(g, p)
    name = "%s-%d" % (prefix, p.index)
    g.req("POST", "/api/v1/models", body={"id": "mx/" + name}, token=ADMIN_TOKEN)
    return {"prov": "mx", "model": name}


def api_agent(g, p):
    """Agents registered through the API (those of the file keep their model there)."""
    for ns in ("platform-ns", "data-ns", "sales-ns"):
        g.req("POST", "/api/v1/agents", body={"name": "%s/mdl-%d" % (ns, p.index)},
              token=ADMIN_TOKEN)
    return {"agent": "mdl-%d" % p.index}


def vera_approval(g):
    """A pending approval of another user (vera, another team): nobody here sees it."""
    if "approval" not in CACHE:
        admin(g, "POST", "/api/v1/policies",
              {"scope": "user", "scope_id": "vera", "domain": "actions",
               "content": {"per_action": {"memory_read": "approve"}}, "change_reason": "x"})
        r = g.req("POST", "/api/v1/tools/invoke", token=CACHE["vera"],
                  body={"tool": "memory_read", "args": {"namespace": "sales-ns",
                                                        "agent": "bot"}})
        assert r.status == 202, r
        CACHE["approval"] = r.json()["approval_id"]
    return CACHE["approval"]


def vera_conversation(g):
    """A conversation of another user (vera, org unit sales). Turns need a model this gateway
    does not have, so the row is written into the store as a turn would leave it."""
    if "conv" not in CACHE:
        c = g.db()
        now = int(time.time() * 1000)
        c.execute("INSERT INTO conversations (id, tenant, user_id, channel, session, org_unit, "
                  "team, created_ms, updated_ms) VALUES (?, ?, 'vera', 'sales-ns/bot', 'main', "
                  "'sales', 'deals', ?, ?)", ("cnv_matrix0vera", TENANT, now, now))
        c.execute("INSERT INTO conversation_messages (conversation_id, seq, message, created_ms) "
                  "VALUES ('cnv_matrix0vera', 1, ?, ?)",
                  (json.dumps({"role": "user", "content": "hello"}), now))
        c.commit()
        c.close()
        CACHE["conv"] = "cnv_matrix0vera"
    return CACHE["conv"]


def deals_policy(g):
    """A policy of another org's team (deals)."""
    if "deals" not in CACHE:
        CACHE["deals"] = admin(g, "POST", "/api/v1/policies",
                               {"scope": "team", "scope_id": "deals", "domain": "features",
                                "content": {}, "change_reason": "matrix"}).json()["id"]
    return CACHE["deals"]


def sales_user_policy(g, p):
    """A policy of a user of another org, made for this principal alone."""
    return admin(g, "POST", "/api/v1/policies",
                 {"scope": "user", "scope_id": "vdummy-%d" % p.index, "domain": "features",
                  "content": {}, "change_reason": "matrix"}).json()["id"]


class Principal:
    def __init__(self, index, cls, method, ns=None):
        self.index, self.cls, self.method, self.ns = index, cls, method, ns

    @property
    def label(self):
        return self.cls + ("." + self.method if self.method else "")


def fill(path, p, extra):
    vals = {"index": p.index, "ns": p.ns or "platform-ns", "agent": "bot", "user": "vera"}
    vals.update(extra)
    for k, v in vals.items():
        path = path.replace("{%s}" % k, str(v))
    return path


# --- the tests --------------------------------------------------------------------------------

def test_every_route_has_a_row():
    r = subprocess.run([gwtest.GATEWAY_BIN, "--list-routes"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    listed = set()
    for line in r.stdout.splitlines():
        method, pattern, access = line.split()
        listed.add((method, pattern, access))
    declared = {(row.method, row.pattern(), row.access) for row in ROUTES}
    missing = sorted(listed - declared)
    extra = sorted(declared - listed)
    assert not missing, "routes without a row in the matrix: %s" % missing
    assert not extra, "rows for routes the gateway does not have: %s" % extra


def test_the_matrix():
    g = GW()
    # vera (another team, another org) owns the objects nobody here may touch
    CACHE["vera"] = admin(g, "POST", "/api/v1/tokens",
                          {"scopes": ["*"], "owner": "vera"}).json()["token"]
    for ns in ("platform-ns", "data-ns", "sales-ns"):
        for doc in ("bot", "shared"):
            r = g.put_memory("%s/%s" % (ns, doc), "# seeded", ADMIN_TOKEN)
            assert r.status == 200, r
    CACHE["deals"] = deals_policy(g)
    failures = []
    checked = 0
    for index, (cls, method) in enumerate(PRINCIPALS):
        headers, _ = credential(g, cls, method)
        for row in ROUTES:
            for target in row.targets():
                p = Principal(index, cls, method, NS.get(target))
                want = row.expected[target] if target else row.expected
                status_for = want.get(cls, 401)
                if cls not in UNAUTHENTICATED:
                    status_for = want.get("methods", {}).get(method, status_for)
                extra = dict(row.vars)
                extra.update(row.prep(g, p) if row.prep else {})
                extra.setdefault("deals_policy", CACHE["deals"])
                path = fill(row.path, p, extra)
                hdrs = dict(headers)
                hdrs.update(row.headers)
                if target == "other_tenant":
                    hdrs["Host"] = OTHER_HOST
                body = row.body(p) if callable(row.body) else row.body
                resp = g.req(row.method, path, body=body, headers=hdrs)
                checked += 1
                if resp.status != status_for:
                    failures.append("%-16s %-7s %-60s %-12s want %d got %d %s" % (
                        p.label, row.method, path[:60], target or "", status_for,
                        resp.status, resp.text[:160].replace("\n", " ")))
    print("matrix: %d requests checked" % checked)
    assert not failures, "%d mismatches:\n%s" % (len(failures), "\n".join(failures))


# --- behind a reverse proxy (item 6) ------------------------------------------------------------

def _proxied(trusted):
    """A gateway for the proxy cases: 127.0.0.1 is a trusted proxy (or not), at most 2
    connections per address, 3 failed authentications per address and minute."""
    port = gwtest.free_port()
    op = GW().op
    cfg = gwtest.seed_config(port=port)
    cfg["gateway"]["limits"]["max_connections_per_ip"] = 2
    if trusted:
        cfg["gateway"]["trusted_proxies"] = ["127.0.0.1", "10.0.0.0/8"]
    cfg["auth"]["failed_auth_limit"] = 3
    cfg["sso"] = {"oidc": {"issuer": op.issuer, "client_id": op.client_id,
                           "client_secret": Raw("${OIDC_SECRET}"),
                           "redirect_uri": "https://gw.example.com/api/v1/auth/callback"}}
    return gwtest.Gateway(config=cfg, env={"OIDC_SECRET": op.client_secret}, port=port).start()


PROXIED = gwtest.Lazy(lambda: _proxied(True))
DIRECT = gwtest.Lazy(lambda: _proxied(False))


def client_ip_of(g, rid):
    """From the store, not the audit API: these gateways allow 2 connections per address, and
    polling over HTTP races the server's count of the connections it just closed."""
    end = time.time() + 3
    while True:
        rows = [r for r in g.store_audit_rows() if r["request_id"] == rid]
        if rows or time.time() > end:
            break
        time.sleep(0.05)
    assert rows, "no audit event for " + rid
    return rows[0]["client_ip"]


def test_audit_shows_the_real_client_behind_a_trusted_proxy():
    g = PROXIED()
    spoof = {"X-Forwarded-For": "6.6.6.6, 203.0.113.5, 10.1.2.3"}
    r = g.get("/api/v1/agents", token=ADMIN_TOKEN, headers=dict(spoof, **{"X-Request-Id": "px-1"}))
    assert r.status == 200, r
    # the right-most hop that is not a trusted proxy; what the client wrote before it is not
    assert client_ip_of(g, "px-1") == "203.0.113.5"
    r = g.get("/api/v1/agents", token=ADMIN_TOKEN,
              headers={"Forwarded": 'for="[2001:db8::7]:4711";proto=https', "X-Request-Id": "px-2"})
    assert client_ip_of(g, "px-2") == "2001:db8::7"
    # a gateway that does not trust its peer ignores the headers
    d = DIRECT()
    d.get("/api/v1/agents", token=ADMIN_TOKEN, headers=dict(spoof, **{"X-Request-Id": "px-3"}))
    assert client_ip_of(d, "px-3") == "127.0.0.1"


def test_one_failing_client_locks_out_nobody_else():
    g = PROXIED()
    a = {"X-Forwarded-For": "203.0.113.10"}
    b = {"X-Forwarded-For": "203.0.113.11"}
    for _ in range(3):
        assert g.get("/api/v1/agents", token="wrong-" + "x" * 30, headers=a).status == 401
    r = g.get("/api/v1/agents", token="wrong-" + "x" * 30, headers=a)
    assert r.status == 429 and int(r.header("Retry-After")) >= 1, r
    # the throttled client's valid gateway token still works (no secret can be guessed at
    # this rate, and refusing it would let a neighbour lock it out) ...
    assert g.get("/api/v1/agents", token=ADMIN_TOKEN, headers=a).status == 200
    # ... and everyone else behind the same proxy is untouched
    assert g.get("/api/v1/agents", token="wrong-" + "y" * 30, headers=b).status == 401
    assert g.get("/api/v1/agents", token=ADMIN_TOKEN, headers=b).status == 200
    # without trusted proxies the proxy itself is the client: its failures throttle it (one
    # connection: this gateway allows two per address, and closed ones may not be counted
    # out yet under load)
    d = DIRECT()
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    try:
        for _ in range(3):
            r = d.get("/api/v1/agents", token="wrong-" + "x" * 30, headers=a, conn=conn)
            assert r.status == 401, r
        r = d.get("/api/v1/agents", token="wrong-" + "x" * 30, headers=b, conn=conn)
        assert r.status == 429, r
    finally:
        conn.close()


def test_per_address_connection_limit_spares_a_trusted_proxy():
    import http.client
    for g, expect_limited in ((PROXIED(), False), (DIRECT(), True)):
        conns = [http.client.HTTPConnection("127.0.0.1", g.port, timeout=5) for _ in range(4)]
        statuses = []
        for c in conns:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            statuses.append(r.status)
        for c in conns:
            c.close()
        if expect_limited:
            # at most two get through (connections of earlier requests the server has not
            # yet seen closed count too, so which two varies)
            assert statuses.count(200) <= 2 and statuses.count(503) >= 2, statuses
        else:
            assert statuses == [200] * 4, statuses


def test_sign_in_needs_https_unless_a_trusted_proxy_says_so():
    host = {"Host": "gw.example.com"}
    for g in (PROXIED(), DIRECT()):
        r = g.req("GET", "/api/v1/auth/login", headers=host)
        assert r.status == 400 and "https" in r.text, r
    # X-Forwarded-Proto from a trusted proxy: the browser is on https
    r = PROXIED().req("GET", "/api/v1/auth/login", headers=dict(host, **{
        "X-Forwarded-Proto": "https"}))
    assert r.status == 302 and r.header("Location").startswith(GW().op.issuer), r
    # the same header from anyone else changes nothing
    r = DIRECT().req("GET", "/api/v1/auth/login", headers=dict(host, **{
        "X-Forwarded-Proto": "https"}))
    assert r.status == 400, r


if __name__ == "__main__":
    gwtest.main(globals())
