#!/usr/bin/env python3
"""SAML 2.0 single sign-on, end to end and browser-less (issue 5).

The gateway (TLS, so its Secure cookies travel) is a SAML service provider of a real IdP:
Lasso in the IdP role (tests/integration/idp/saml_idp.py), which is given the gateway's own SP
metadata. A scripted browser follows the gateway's HTTP-Redirect AuthnRequest, submits the IdP
login form and posts the auto-POST form (HTTP-POST binding) to the ACS: alice → team_lead
through "eng-leads", bob → user through the glob "mark*", carol without groups → 403 missing role
mapping, dave disabled in identity.users → 403. The session works on the API; logout ends it
locally and through the IdP (SP-initiated SLO), and an IdP-initiated LogoutRequest ends the
session of its NameID/SessionIndex. Every forged Response is refused with its specific reason
and audited (auth.login.failed, never with the assertion): replay (also after a restart),
unsigned, unsigned assertion in a signed Response, tampered, untrusted key, two kinds of
signature wrapping, comment injection, XXE, wrong audience / recipient / destination / issuer,
expired, not yet valid, an InResponseTo we never sent, unsolicited, another browser, a changed
RelayState, an oversized message. Fails at once when python3-lasso is missing (scripts/deps.sh
test installs it).
"""
import base64
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
from gwtest import ADMIN_TOKEN  # noqa: E402
import saml_idp  # noqa: E402
from browser import query_params  # noqa: E402
# the TLS gateway, browser and audit helpers of the OIDC test (that module only defines them)
from test_sso_oidc import (api, audit_events, jar_value, session_cookie,  # noqa: E402
                           start_tls_gateway, tls_browser, userinfo, wait_audit)

HAVE_LASSO = subprocess.run([saml_idp.LASSO_PYTHON, "-c", "import lasso, lxml, xmlsec"],
                            capture_output=True).returncode == 0

COOKIE = "__Host-openclaw_session"
MAPPINGS = {"eng-leads": "team_lead", "mark*": "user"}
USERS = dict(saml_idp.DEFAULT_USERS, dave={
    "password": "dave-pw", "email": "dave@company.com", "displayName": "Dave Disabled",
    "groups": ["eng-leads"], "department": "Engineering", "org_unit": "R&D"})


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def saml_setup(port):
    """A Lasso IdP that knows an SP at port, and the gateway configuration using it."""
    base = "https://127.0.0.1:%d" % port
    entity, acs, slo = (base + "/api/v1/auth/saml/" + x for x in ("metadata", "acs", "slo"))
    d = gwtest.tempdir()
    key, cert = saml_idp.gen_key_cert("openclaw-gateway-sp")
    idp = saml_idp.SamlIdp(saml_idp.sp_metadata(entity, acs, slo, cert, requests_signed=True),
                           users=USERS).start()
    import atexit
    atexit.register(idp.cleanup)
    cfg = gwtest.seed_config(port=port)
    cfg["rbac"] = {"groupMappings": MAPPINGS}
    cfg["identity"] = {"users": [{"id": "dave", "email": "dave@company.com", "disabled": True}]}
    cfg["sso"] = {
        "saml": {
            "idp_metadata": write(d, "idp.xml", idp.metadata_xml),
            "sp_entity_id": entity, "acs_url": acs, "slo_url": slo,
            "sp_key_file": write(d, "sp.key", key), "sp_cert_file": write(d, "sp.crt", cert),
            "attributeMapping": {"userId": "NameID", "email": "email", "name": "displayName",
                                 "groups": "groups", "org_unit": "department"},
            "clock_skew_s": 30,
        },
        "unmapped": "refuse",
        "sessions": {"idle_timeout_s": 600, "absolute_timeout_s": 3600},
    }
    return cfg, dict(idp=idp, sp_key=key, acs=acs, slo=slo, entity=entity)


def _gateway():
    port = gwtest.free_port()
    cfg, ctx = saml_setup(port)
    g = start_tls_gateway(cfg, {}, port)
    g.idp, g.sp_key, g.acs, g.slo, g.entity = (ctx[k] for k in ("idp", "sp_key", "acs", "slo",
                                                                "entity"))
    # from here on the IdP knows the gateway by the metadata the gateway itself publishes
    md = api(g, "GET", "/api/v1/auth/saml/metadata")
    assert md.status == 200, md
    write(g.idp.dir, "sp-0.xml", md.text)
    return g


GW = gwtest.Lazy(_gateway)
STATE = {}


def start_login(g, b, query=""):
    """The gateway's login: 302 to the IdP with an HTTP-Redirect AuthnRequest."""
    r = b.get(g.base + "/api/v1/auth/login" + query)
    assert r.status == 302, "login: %r %s" % (r.status, r.text[:300])
    assert r.location.startswith(g.idp.sso_url + "?"), r.location
    return r.location


def idp_response(g, b, user="alice", pw=None, variant=None, query=""):
    """Gateway login → IdP form → the HTTP-POST binding payload (acs_url, fields)."""
    if variant:
        g.idp.set_variant(variant)
    url = start_login(g, b, query)
    return saml_idp.login(b, url, user, pw or USERS[user]["password"])


def post_acs(b, acs, fields):
    return b.post(acs, fields)


def login(g, user, variant=None, b=None):
    b = b or tls_browser(g.ctx)
    acs, fields = idp_response(g, b, user, variant=variant)
    return b, post_acs(b, acs, fields), fields


def failure_reasons(g, *words):
    """The auth.login.failed reasons, once each of words is in one (events are asynchronous)."""
    end = time.time() + 5
    while True:
        reasons = [str(e.get("details", {}).get("reason"))
                   for e in audit_events(g, event="auth.login.failed")]
        missing = [w for w in words if not any(w in x for x in reasons)]
        if not missing or time.time() > end:
            assert not missing, "no auth.login.failed event with %r" % missing
            return reasons
        time.sleep(0.1)


# --- the happy path ------------------------------------------------------------------------

def test_saml_configured_by_a_reload():
    """lasso is set up only once a configuration uses SAML: here by SIGHUP, not at start."""
    port = gwtest.free_port()
    cfg, ctx = saml_setup(port)
    sso = cfg.pop("sso")
    g = start_tls_gateway(cfg, {}, port)
    try:
        assert api(g, "GET", "/api/v1/auth/saml/metadata").status == 404
        cfg["sso"] = sso
        g.write_config(cfg)
        g.sighup()
        gwtest.wait_until(lambda: api(g, "GET", "/api/v1/auth/saml/metadata").status == 200,
                          what="SAML metadata after the reload")
        b = tls_browser(g.ctx)
        r = b.get(g.base + "/api/v1/auth/login")
        assert r.status == 302 and r.location.startswith(ctx["idp"].sso_url + "?"), r.location
        acs, fields = saml_idp.login(b, r.location, "bob", USERS["bob"]["password"])
        assert post_acs(b, acs, fields).status == 302
        st, me = userinfo(g, b)
        assert st == 200 and me["user"] == "bob" and me["role"] == "user", me
    finally:
        g.stop()


def test_sp_metadata_is_published():
    g = GW()
    r = api(g, "GET", "/api/v1/auth/saml/metadata")
    assert r.status == 200 and r.header("Content-Type") == "application/samlmetadata+xml", r
    x = r.text
    for want in ('entityID="%s"' % g.entity, 'Location="%s"' % g.acs, 'Location="%s"' % g.slo,
                 'WantAssertionsSigned="true"', 'AuthnRequestsSigned="true"',
                 "bindings:HTTP-POST", "bindings:HTTP-Redirect", "<ds:X509Certificate>"):
        assert want in x, (want, x)
    assert "PRIVATE" not in x and g.sp_key.split("\n")[1] not in x, "the SP key stays private"


def test_alice_logs_in_and_gets_team_lead_from_groups():
    g = GW()
    b = tls_browser(g.ctx)
    url = start_login(g, b, "?return_to=/dashboard")
    q = query_params(url)
    assert q["SAMLRequest"] and q["Signature"] and q["SigAlg"].endswith("rsa-sha256"), q
    assert q["RelayState"] and "dashboard" not in q["RelayState"], "RelayState is opaque"
    ck = [c for c in b.jar if c.name == COOKIE + "_login"]
    assert ck and (ck[0].get_nonstandard_attr("SameSite") or "") == "None", vars(ck[0])
    acs, fields = saml_idp.login(b, url, "alice", "alice-pw")
    assert acs == g.acs and fields["RelayState"] == q["RelayState"], (acs, fields.keys())
    r = post_acs(b, acs, fields)
    assert r.status == 302 and r.location == g.base + "/dashboard", (r.status, r.text[:500])
    ck = [c for c in b.jar if c.name == COOKIE]
    assert ck and ck[0].value.startswith("ocs_") and ck[0].secure, list(b.jar)
    assert (ck[0].get_nonstandard_attr("SameSite") or "") == "Lax", vars(ck[0])
    st, me = userinfo(g, b)
    want = {"user": "alice", "role": "team_lead", "email": "alice@company.com",
            "name": "Alice Anderson", "tenant": gwtest.TENANT, "org_unit": "Engineering",
            "auth_method": "session"}  # org_unit from the "department" attribute
    assert st == 200 and {k: me.get(k) for k in want} == want, me
    assert "eng-leads" in me["groups"] and "agents:*" in me["permissions"], me
    assert me["csrf_token"] and me["session_id"], me
    STATE["alice"] = (b, fields, me)


def test_session_cookie_works_on_the_api():
    g = GW()
    b, _, me = STATE["alice"]
    r = b.get(g.base + "/api/v1/agents")
    assert r.status == 200, r.text
    ev = wait_audit(g, lambda e: e["actor"] == "alice", "auth.login", event="auth.login")
    d = ev[-1]["details"]
    assert d["method"] == "saml" and d["role"] == "team_lead" and d["mapped_by"] == "eng-leads", d


def test_bob_is_user_through_a_glob_mapping():
    g = GW()
    b, r, _ = login(g, "bob")
    assert r.status == 302 and r.location == g.base + "/", (r.status, r.text[:300])
    st, me = userinfo(g, b)
    assert st == 200 and me["user"] == "bob" and me["role"] == "user", me
    STATE["bob"] = b


def test_unmapped_and_disabled_users_get_403():
    g = GW()
    for user, words in (("carol", "no role mapping for your groups"), ("dave", "is disabled")):
        b, r, _ = login(g, user)
        assert r.status == 403 and words in r.text, (user, r.status, r.text)
        assert session_cookie(b) is None, user
        ev = wait_audit(g, lambda e: e.get("details", {}).get("user") == user,
                        "auth.login.denied for " + user, event="auth.login.denied")
        assert words in ev[0]["details"]["reason"], ev[0]


# --- forged and misdirected Responses -------------------------------------------------------

# variant of saml_idp.py → words the refusal (page and audit reason) must contain
REFUSED = {
    "unsigned": "Response is not signed",
    "unsigned_assertion": "assertion is not signed by the IdP",
    "tampered": "signature does not verify",
    "tampered_nameid": "signature does not verify",
    "foreign_key": "signature does not verify",
    "xsw_second_assertion": "2 assertions (signature wrapping is refused",
    "xsw_nested": "nested inside another element (signature wrapping",
    "comment_nameid": "comment injection is refused",
    "xxe": "DOCTYPE",
    "wrong_audience": "wrong audience",
    "wrong_recipient": "another recipient",
    "wrong_destination": "another destination",
    "wrong_issuer": "unknown identity provider",
    "expired": "expired",
    "not_yet_valid": "not yet valid",
    "wrong_in_response_to": "did not send",
    "unsolicited": "unsolicited",
    "status_failure": "refused the login",
}


def test_forged_responses_are_refused_with_their_reason():
    g = GW()
    bad = []
    for variant, words in REFUSED.items():
        b, r, _ = login(g, "alice", variant=variant)
        if r.status != 401 or words not in r.text or session_cookie(b):
            bad.append("%s: %s %s" % (variant, r.status, r.text[:400]))
    assert not bad, "\n".join(bad)
    failure_reasons(g, *REFUSED.values())


def test_valid_variants_are_accepted():
    g = GW()
    for variant in ("response_unsigned", "resigned_good"):
        b, r, _ = login(g, "bob", variant=variant)
        assert r.status == 302, (variant, r.status, r.text[:300])
        assert userinfo(g, b)[1]["user"] == "bob", variant


def test_replayed_assertion_is_refused():
    g = GW()
    b, fields, _ = STATE["alice"]
    r = post_acs(b, g.acs, fields)
    assert r.status == 401 and "already used (replay refused)" in r.text, (r.status, r.text)
    # a second browser cannot use it either
    r = post_acs(tls_browser(g.ctx), g.acs, fields)
    assert r.status == 401 and "replay" in r.text, r.text
    failure_reasons(g, "replay refused")


def test_response_bound_to_the_browser_and_relay_state():
    g = GW()
    b1, b2 = tls_browser(g.ctx), tls_browser(g.ctx)
    acs, fields = idp_response(g, b1, "bob")
    r = post_acs(b2, acs, fields)  # no pre-login cookie at all
    assert r.status == 401 and "another browser" in r.text, (r.status, r.text)
    acs, fields = idp_response(g, b1, "bob")
    start_login(g, b2)  # b2 has its own pre-login cookie now
    r = post_acs(b2, acs, fields)
    assert r.status == 401 and "another browser" in r.text, (r.status, r.text)
    acs, fields = idp_response(g, b1, "bob")
    r = post_acs(b1, acs, dict(fields, RelayState="x" * 43))
    assert r.status == 401 and "RelayState does not match" in r.text, (r.status, r.text)
    assert session_cookie(b1) is None and session_cookie(b2) is None


def test_malformed_and_oversized_messages():
    g = GW()
    b = tls_browser(g.ctx)
    r = post_acs(b, g.acs, {"SAMLResponse": "A" * (300 * 1024)})
    assert r.status in (401, 413), r.status
    if r.status == 401:
        assert "larger than" in r.text, r.text
    r = post_acs(b, g.acs, {"SAMLResponse": "not base64 !"})
    assert r.status == 401 and "not base64" in r.text, r.text
    r = post_acs(b, g.acs, {"SAMLResponse": base64.b64encode(b"<a>").decode()})
    assert r.status == 401 and "well-formed" in r.text, r.text
    r = post_acs(b, g.acs, {})
    assert r.status == 401 and "no SAMLResponse" in r.text, r.text


def test_audit_and_logs_never_hold_the_assertion():
    g = GW()
    _, fields, _ = STATE["alice"]
    raw = base64.b64decode(fields["SAMLResponse"]).decode()
    with open(g.audit_log_path) as f:
        text = f.read()
    assert fields["SAMLResponse"][:60] not in text and "<saml" not in text and \
        "Assertion ID" not in text, "audit must not hold the SAML message"
    assert "X509Certificate" not in text
    log = g.stderr()
    assert fields["SAMLResponse"][:60] not in log and raw[:80] not in log
    assert g.sp_key.split("\n")[1] not in log and g.sp_key.split("\n")[1] not in text


# --- logout ------------------------------------------------------------------------------------

def without_params(url, *names):
    """url with the named query parameters removed, the others byte for byte."""
    base, _, query = url.partition("?")
    keep = [p for p in query.split("&") if p.split("=", 1)[0] not in names]
    return base + "?" + "&".join(keep)


def test_logout_ends_the_session_here_and_at_the_idp():
    g = GW()
    b, _, me = STATE["alice"]
    secret, idp_sid = session_cookie(b), jar_value(b, "samlidp")
    assert idp_sid in g.idp.state()["sessions"], "alice has an IdP session in this browser"
    r = b.request("POST", g.base + "/api/v1/auth/logout", data=b"",
                  headers={"X-CSRF-Token": me["csrf_token"]})
    assert r.status == 200, r.text
    j = json.loads(r.text)
    url = j["end_session_url"]
    assert j["logged_out"] and url.startswith(g.idp.slo_url + "?SAMLRequest="), j
    q = query_params(url)
    assert q["Signature"] and q["SigAlg"].endswith("rsa-sha256"), "signed LogoutRequest"
    assert session_cookie(b) is None, "the logout response clears the cookie"
    assert api(g, "GET", "/api/v1/auth/userinfo", cookie="%s=%s" % (COOKIE, secret)).status == 401
    # the browser takes the LogoutRequest to the IdP, which answers our SLO endpoint
    r = b.get(url)
    assert r.status == 302 and r.location.startswith(g.slo + "?SAMLResponse="), (r.status, r.text)
    assert idp_sid not in g.idp.state()["sessions"], "the IdP session is gone"
    r = b.get(r.location)
    assert r.status == 200 and "and of the identity provider" in r.text, (r.status, r.text)
    wait_audit(g, lambda e: e["details"].get("complete") is True, "auth.logout.completed",
               event="auth.logout.completed")
    ev = wait_audit(g, lambda e: e["actor"] == "alice", "auth.logout", event="auth.logout")
    assert ev[-1]["details"]["session_id"] == me["session_id"], ev[-1]


def test_idp_initiated_logout_ends_the_session_of_that_session_index():
    g = GW()
    b1, r1, _ = login(g, "bob")
    b2, r2, _ = login(g, "bob")  # a second browser: another IdP session, another SessionIndex
    assert r1.status == 302 and r2.status == 302
    s1 = session_cookie(b1)
    url = saml_idp.idp_logout(b1, g.idp)
    assert url.startswith(g.slo + "?SAMLRequest=") and query_params(url)["Signature"], url
    # an unsigned or altered copy of the request ends nothing
    r = b1.get(without_params(url, "Signature", "SigAlg"))
    assert r.status == 400 and "not signed" in r.text, (r.status, r.text)
    r = b1.get(without_params(url, "RelayState") + "&RelayState=x")
    assert r.status == 400 and "does not verify" in r.text, (r.status, r.text)
    assert userinfo(g, b1)[0] == 200
    r = b1.get(url)
    assert r.status == 302 and r.location.startswith(g.idp.slo_url + "?SAMLResponse="), \
        (r.status, r.text)
    assert session_cookie(b1) is None
    assert api(g, "GET", "/api/v1/auth/userinfo", cookie="%s=%s" % (COOKIE, s1)).status == 401
    assert userinfo(g, b2)[0] == 200, "the other session (other SessionIndex) stays"
    r = b1.get(r.location)  # the IdP takes our signed LogoutResponse
    assert r.status == 200 and "Logged out" in r.text, (r.status, r.text)
    ev = wait_audit(g, lambda e: e["details"].get("initiated_by") == "idp", "IdP logout",
                    event="auth.logout")
    assert ev[-1]["details"]["sessions_ended"] == 1 and ev[-1]["details"]["user"] == "bob", ev
    fails = [e["details"].get("reason", "") for e in audit_events(g, event="auth.logout.failed")]
    assert any("not signed" in x for x in fails), fails


def test_idp_initiated_logout_with_the_post_binding():
    g = GW()
    b, r, _ = login(g, "bob")
    assert r.status == 302
    secret = session_cookie(b)
    action, fields = saml_idp.idp_logout_post(b, g.idp)
    assert action == g.slo and fields["SAMLRequest"], (action, fields.keys())
    xml = base64.b64decode(fields["SAMLRequest"]).decode()
    assert "Signature" in xml and ">bob<" in xml, "a signed LogoutRequest for bob"
    # the same request for another subject: the signature no longer matches
    forged = base64.b64encode(xml.replace(">bob<", ">alice<").encode()).decode()
    r = b.post(action, dict(fields, SAMLRequest=forged))
    assert r.status == 400 and "signature does not verify" in r.text, (r.status, r.text)
    r = b.post(action, fields)
    assert r.status == 302 and r.location.startswith(g.idp.slo_url + "?SAMLResponse="), \
        (r.status, r.text)
    assert api(g, "GET", "/api/v1/auth/userinfo",
               cookie="%s=%s" % (COOKIE, secret)).status == 401
    r = b.get(r.location)
    assert r.status == 200 and "Logged out" in r.text, (r.status, r.text)


def test_unknown_protocol_and_unconfigured_oidc():
    g = GW()
    b = tls_browser(g.ctx)
    r = b.get(g.base + "/api/v1/auth/login?protocol=oidc")
    assert r.status == 404 and "not configured" in r.text, (r.status, r.text)
    r = b.get(g.base + "/api/v1/auth/login?protocol=kerberos")
    assert r.status == 400 and "unknown sign-in protocol" in r.text, (r.status, r.text)
    r = b.get(g.base + "/api/v1/auth/callback?code=x&state=y")
    assert r.status == 404, (r.status, r.text)


def restart(g):
    g.stop()
    g.start(wait=False)
    end = time.time() + 10
    while True:
        try:
            if api(g, "GET", "/readyz").status == 200:
                return
        except OSError:
            pass
        assert time.time() < end and g.alive(), g.stderr()[-2000:]
        time.sleep(0.05)


def test_unsolicited_responses_only_when_configured():
    g = GW()
    g.config["sso"]["saml"]["allow_unsolicited"] = True
    g.write_config(g.config)
    restart(g)
    b, r, _ = login(g, "bob", variant="unsolicited")
    assert r.status == 302 and r.location == g.base + "/", (r.status, r.text[:300])
    assert userinfo(g, b)[1]["user"] == "bob"


def test_replay_is_refused_after_a_restart():
    g = GW()
    _, r, fields = login(g, "bob")
    assert r.status == 302, r.text
    restart(g)
    db = g.db()
    n = db.execute("SELECT COUNT(*) FROM saml_assertions").fetchone()[0]
    v = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    db.close()
    assert n >= 1 and v >= 7, (n, v)
    r = post_acs(tls_browser(g.ctx), g.acs, fields)
    assert r.status == 401 and "replay refused" in r.text, (r.status, r.text)


if __name__ == "__main__":
    if not HAVE_LASSO:
        print("FAIL test_sso_saml: python3-lasso is missing (run tests/integration/idp/install.sh)")
        sys.exit(1)
    gwtest.main(globals())
