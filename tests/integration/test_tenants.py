#!/usr/bin/env python3
"""Several tenants on one gateway (issue 5, seed 000 "Multiple Tenants").

One TLS gateway serves three tenants:
  acme-corp (primary)  its IdP is LemonLDAP::NG; sso.tenant_claim "tenant" routes users whose
                       directory entry names another tenant;
  research             path prefix /research and host research.test, its own IdP (the scripted
                       OpenID provider of idp/evil_oidc.py, issuing correct tokens here) and its
                       own group mappings;
  sales                no IdP of its own: reached by the claim value "sales" at acme's IdP;
  partners             path prefix /partners, a SAML 2.0 IdP of its own (idp/saml_idp.py, Lasso).
The tests check that each address signs in at its tenant's IdP with that tenant's role
mapping, that claim routing lands users in their tenant (and refuses an unknown one), that a
credential is refused at another tenant's address, and that audit chains, tokens and memory
documents stay within their tenant.
"""
import http.client
import json
import os
import sys
import atexit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "idp"))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN, TENANT, Raw  # noqa: E402
from test_sso_oidc import api, start_tls_gateway, tls_browser  # noqa: E402

try:
    from oidc_provider import DEFAULT_USERS, OidcProvider, User, login  # noqa: E402
    from evil_oidc import EvilOidc  # noqa: E402
    import saml_idp  # noqa: E402
    HAVE_IDP = os.path.exists("/usr/share/lemonldap-ng/portal/htdocs/index.psgi")
except ImportError:
    HAVE_IDP = False

COOKIE = "__Host-openclaw_session"
RESEARCH_COOKIE = COOKIE + "_research"
DEVELOPERS = "CN=Developers,OU=Groups,DC=company,DC=com"


def _gateway():
    port = gwtest.free_port()
    base = "https://127.0.0.1:%d" % port
    users = [u for u in DEFAULT_USERS if u.uid != "bob"] + [
        User("bob", "bob-pw", "Bob Brown", "bob@company.com", ["marketing"],
             org_unit="Sales & Marketing", extra={"tenant": "sales"}),
        User("eve", "eve-pw", "Eve Elsewhere", "eve@company.com", ["marketing"],
             extra={"tenant": "nowhere"}),
    ]
    op = OidcProvider(redirect_uris=[base + "/api/v1/auth/callback"], users=users).start()
    atexit.register(op.stop)
    lab = EvilOidc(client_id="research-gateway").start()  # correct tokens ("good") only
    atexit.register(lab.stop)
    entity, acs, slo = (base + "/partners/api/v1/auth/saml/" + x for x in ("metadata", "acs", "slo"))
    key, cert = saml_idp.gen_key_cert("partners-sp")
    partners_idp = saml_idp.SamlIdp(saml_idp.sp_metadata(entity, acs, slo, cert,
                                                         requests_signed=True)).start()
    atexit.register(partners_idp.cleanup)
    d = gwtest.tempdir()

    def write(name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        return os.path.join(d, name)
    cfg = gwtest.seed_config(port=port)
    cfg["rbac"] = {"groupMappings": {"eng-leads": "team_lead", "mark*": "user"}}
    cfg["sso"] = {
        "oidc": {"issuer": op.issuer, "client_id": op.client_id,
                 "client_secret": Raw("${ACME_SECRET}"),
                 "redirect_uri": base + "/api/v1/auth/callback",
                 "scopes": ["openid", "profile", "email", "groups", "org"],
                 "claims": {"user": "sub", "groups": "groups", "org_unit": "org_unit"}},
        "tenant_claim": "tenant",
    }
    cfg["tenants"] = [
        {"id": "research", "name": "Research Lab", "path_prefix": "/research",
         "hosts": ["research.test"],
         "sso": {"oidc": {"issuer": lab.issuer, "client_id": lab.client_id,
                          "client_secret": Raw("${LAB_SECRET}"),
                          "redirect_uri": base + "/research/api/v1/auth/callback"}},
         "rbac": {"groupMappings": {DEVELOPERS: "enterprise_admin"}}},
        {"id": "sales", "claim_value": "sales",
         "rbac": {"groupMappings": {"marketing": "team_lead"}}},
        {"id": "partners", "path_prefix": "/partners",
         "sso": {"saml": {"idp_metadata": write("idp.xml", partners_idp.metadata_xml),
                          "sp_entity_id": entity, "acs_url": acs, "slo_url": slo,
                          "sp_key_file": write("sp.key", key),
                          "sp_cert_file": write("sp.crt", cert),
                          "attributeMapping": {"userId": "NameID", "groups": "groups",
                                               "org_unit": "department"}}},
         "rbac": {"groupMappings": {"marketing": "org_admin"}}},
    ]
    g = start_tls_gateway(cfg, {"ACME_SECRET": op.client_secret,
                                "LAB_SECRET": lab.client_secret}, port)
    g.op, g.lab, g.partners_idp = op, lab, partners_idp
    return g


GW = gwtest.Lazy(_gateway)
STATE = {}


def cookie(b, name):
    return next((c.value for c in b.jar if c.name == name), None)


def acme_login(user, pw):
    g = GW()
    b = tls_browser(g.ctx)
    r = b.get(g.base + "/api/v1/auth/login")
    assert r.status == 302 and r.location.startswith(g.op.authorization_endpoint), r.location
    r = b.get(login(b, r.location, user, pw))
    return b, r


def userinfo(g, b, prefix=""):
    r = b.get(g.base + prefix + "/api/v1/auth/userinfo", headers={"Accept": "application/json"})
    return r.status, (json.loads(r.text) if r.text.startswith("{") else r.text)


def research_admin():
    """alice signed in at research's own IdP (enterprise_admin there): (browser, csrf)."""
    if "research" not in STATE:
        g = GW()
        b = tls_browser(g.ctx)
        r = b.get(g.base + "/research/api/v1/auth/login")
        assert r.status == 302 and r.location.startswith(g.lab.issuer + "/authorize"), \
            (r.status, r.location)
        cb = b.get(r.location)  # the scripted IdP sends the browser straight back
        assert cb.status == 302 and cb.location.startswith(g.base + "/research/api/v1/auth/callback")
        done = b.get(cb.location)
        assert done.status == 302 and done.location == g.base + "/research/", done.location
        st, info = userinfo(g, b, "/research")
        assert st == 200, info
        STATE["research"] = (b, info["csrf_token"])
    return STATE["research"]


def research_call(method, path, body=None, headers=None):
    g = GW()
    b, csrf = research_admin()
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    h.update(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    return b.request(method, g.base + "/research" + path, data=data, headers=h)


def test_each_address_signs_in_at_its_tenants_idp_with_its_mappings():
    g = GW()
    b, _ = research_admin()
    st, info = userinfo(g, b, "/research")
    assert info["tenant"] == "research" and info["role"] == "enterprise_admin", info
    assert cookie(b, RESEARCH_COOKIE) and not cookie(b, COOKIE), [c.name for c in b.jar]
    # the same person at acme's IdP is acme's team lead (acme's mapping of eng-leads)
    a, r = acme_login("alice", "alice-pw")
    assert r.status == 302, r.status
    st, info = userinfo(g, a)
    assert st == 200 and info["tenant"] == TENANT and info["role"] == "team_lead", info


def test_a_tenant_with_a_saml_idp():
    g = GW()
    md = api(g, "GET", "/partners/api/v1/auth/saml/metadata")
    assert md.status == 200 and "/partners/api/v1/auth/saml/acs" in md.text, md
    assert api(g, "GET", "/api/v1/auth/saml/metadata").status == 404  # acme has no SAML
    b = tls_browser(g.ctx)
    r = b.get(g.base + "/partners/api/v1/auth/login")
    assert r.status == 302 and r.location.startswith(g.partners_idp.sso_url + "?"), r.location
    acs, fields = saml_idp.login(b, r.location, "bob", "bob-pw")
    done = b.post(acs, fields)
    assert done.status == 302 and done.location == g.base + "/partners/", (done.status,
                                                                            done.text[:300])
    st, info = userinfo(g, b, "/partners")
    # partners maps "marketing" to org_admin; the OIDC tenants map bob otherwise
    assert st == 200 and info["tenant"] == "partners" and info["role"] == "org_admin", info
    assert info["org_unit"] == "Marketing", info


def test_host_name_routes_to_the_tenant():
    g = GW()
    r = api(g, "GET", "/api/v1/auth/login", headers={"Host": "research.test"})
    assert r.status == 302 and r.header("Location").startswith(g.lab.issuer), r.headers
    r = api(g, "GET", "/api/v1/auth/login")
    assert r.status == 302 and r.header("Location").startswith(g.op.issuer), r.headers
    r = api(g, "GET", "/api/v1/status", headers={"Host": "Research.Test:443"})
    assert r.json()["tenant"] == "research", r.json()


def test_claim_routes_a_user_to_their_tenant():
    g = GW()
    b, r = acme_login("bob", "bob-pw")
    assert r.status == 302, (r.status, r.text[:300])
    st, info = userinfo(g, b)
    # sales maps "marketing" to team_lead; acme's own mapping would have made bob a user
    assert st == 200 and info["tenant"] == "sales" and info["role"] == "team_lead", info


def test_a_claim_naming_no_tenant_is_refused():
    g = GW()
    b, r = acme_login("eve", "eve-pw")
    assert r.status == 403 and "which this gateway does not serve" in r.text, r.text[:400]
    assert not cookie(b, COOKIE)
    ev = gwtest.wait_until(lambda: [e for e in api(g, "GET", "/api/v1/audit?event=auth.login.denied",
                                                   token=ADMIN_TOKEN).json()["events"]
                                    if "nowhere" in json.dumps(e["details"])],
                           what="the refused login in acme's audit")
    assert ev and ev[0]["tenant"] == TENANT, ev


def test_credentials_are_refused_at_another_tenants_address():
    g = GW()
    for path, hdrs in (("/research/api/v1/auth/userinfo", {}),
                       ("/api/v1/auth/userinfo", {"Host": "research.test"})):
        r = api(g, "GET", path, token=ADMIN_TOKEN, headers=hdrs)
        assert r.status == 403, (path, r.status, r.text)
        assert "belongs to tenant '%s'" % TENANT in r.json()["error"]["message"], r.text
    # acme's session cookie means nothing at research's address (another cookie, another tenant)
    a, _ = acme_login("alice", "alice-pw")
    st, _ = userinfo(g, a, "/research")
    assert st == 401, st


def test_audit_chains_are_separate_and_verify():
    g = GW()
    research_admin()
    r = research_call("GET", "/api/v1/audit?limit=500")
    assert r.status == 200, r.text
    events = json.loads(r.text)["events"]
    assert events and {e["tenant"] for e in events} == {"research"}, {e["tenant"] for e in events}
    assert any(e["type"] == "auth.login" and e["actor"] == "alice" for e in events)
    v = json.loads(research_call("GET", "/api/v1/audit/verify").text)
    assert v["ok"] is True, v
    acme = api(g, "GET", "/api/v1/audit?limit=500", token=ADMIN_TOKEN).json()["events"]
    assert acme and all(e["tenant"] == TENANT for e in acme), {e["tenant"] for e in acme}
    assert api(g, "GET", "/api/v1/audit/verify", token=ADMIN_TOKEN).json()["ok"] is True


def test_tokens_carry_their_tenant():
    g = GW()
    r = research_call("POST", "/api/v1/tokens", {"id": "lab-bot", "scopes": ["*"]})
    assert r.status == 201, r.text
    tok = json.loads(r.text)["token"]
    info = api(g, "GET", "/research/api/v1/auth/userinfo", token=tok)
    assert info.status == 200 and info.json()["tenant"] == "research", info.text
    # the primary address takes every tenant's credentials, each in its own tenant
    ev = api(g, "GET", "/api/v1/audit?limit=500", token=tok).json()["events"]
    assert ev and {e["tenant"] for e in ev} == {"research"}
    # research's tokens are not acme's: acme's admin does not see them
    ids = [t["id"] for t in api(g, "GET", "/api/v1/tokens", token=ADMIN_TOKEN).json()["tokens"]]
    assert "lab-bot" not in ids, ids


def test_memory_of_the_same_names_is_separate():
    g = GW()
    r = research_call("POST", "/api/v1/agents", {"name": "lab/notes"})
    assert r.status == 201, r.text
    r = api(g, "POST", "/api/v1/agents", token=ADMIN_TOKEN, body={"name": "lab/notes"})
    assert r.status == 201, r.text  # the same name in another tenant is another agent
    put = research_call("PUT", "/api/v1/memory/lab/notes", b"research only",
                        {"Content-Type": "text/markdown"})
    assert put.status in (200, 201), put.text
    conn = http.client.HTTPSConnection("127.0.0.1", g.port, context=g.ctx, timeout=10)
    put = gwtest.http_request(g.port, "PUT", "/api/v1/memory/lab/notes", body="acme only",
                              headers={"Content-Type": "text/markdown"}, token=ADMIN_TOKEN,
                              conn=conn)
    conn.close()
    assert put.status in (200, 201), put
    mine = research_call("GET", "/api/v1/memory/lab/notes")
    theirs = api(g, "GET", "/api/v1/memory/lab/notes", token=ADMIN_TOKEN)
    assert mine.text == "research only" and theirs.text == "acme only", (mine.text, theirs.text)
    assert os.path.exists(os.path.join(g.data_dir, "tenants", "research", "memory", "lab",
                                       "notes.md"))


if __name__ == "__main__":
    if not HAVE_IDP:
        print("FAIL test_tenants: the IdP packages are missing (run tests/integration/idp/install.sh)")
        sys.exit(1)
    gwtest.main(globals())
