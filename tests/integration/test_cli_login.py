#!/usr/bin/env python3
"""`openclaw auth login` end to end against the real OpenID provider (issue 5, item 5).

The real CLI signs in with --browser-command running idp/cli_browser.py, which plays the
browser: the gateway's /api/v1/auth/cli/authorize → /api/v1/auth/login → LemonLDAP::NG's HTML
form → the gateway's callback → the confirmation page → its POST → the CLI's loopback
listener. Then: the credential file is 0600 in a 0700 directory, `auth status` and `status`
show the user, role and org unit from the group mappings, API calls use the stored login, an
expired access token is refreshed on its own (locally expired, and expired on the gateway:
401 then retry), a reused refresh token revokes the CLI session, logout revokes it on the
gateway, and the copy-paste mode (--no-browser) reads the pasted code. The same CLI login
works unchanged when the gateway's browser login is SAML 2.0 (idp/saml_idp.py).
Refusals: non-loopback redirect_uri, wrong code_verifier, replayed and expired codes (a
replay revokes what the code produced), a GET authorize never issues a code (the POST needs
the session's CSRF token), a state that does not match is rejected by the CLI, a cancelled
confirmation, and a browser that never comes back (bounded wait). No secret reaches the
audit trail or the gateway's log.

The gateway listens on plain http on 127.0.0.1; like real browsers, the scripted browser
treats loopback as a secure origin, so the Secure session cookie travels.
Fails at once when the IdP packages are missing (scripts/deps.sh test installs them).
"""
import atexit
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "idp"))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN, Raw  # noqa: E402

import saml_idp  # noqa: E402

HAVE_LASSO = subprocess.run([saml_idp.LASSO_PYTHON, "-c", "import lasso, lxml, xmlsec"],
                            capture_output=True).returncode == 0

try:
    from browser import query_params  # noqa: E402
    from cli_browser import loopback_browser  # noqa: E402
    from oidc_provider import OidcProvider, login, pkce_pair  # noqa: E402
    HAVE_IDP = os.path.exists("/usr/share/lemonldap-ng/portal/htdocs/index.psgi")
except ImportError:  # python3-cryptography missing
    HAVE_IDP = False

BROWSER_SCRIPT = os.path.join(HERE, "idp", "cli_browser.py")
BROWSER_CMD = "%s %s" % (sys.executable, BROWSER_SCRIPT)
LOOPBACK = "http://127.0.0.1:%d/callback"


def _gateway():
    port = gwtest.free_port()
    base = "http://127.0.0.1:%d" % port
    op = OidcProvider(redirect_uris=[base + "/api/v1/auth/callback"]).start()
    atexit.register(op.cleanup)
    cfg = gwtest.seed_config(port=port)
    cfg["rbac"] = {"groupMappings": {"eng-leads": "team_lead", "mark*": "user"}}
    cfg["sso"] = {
        "oidc": {
            "issuer": op.issuer, "client_id": op.client_id,
            "client_secret": Raw("${OIDC_SECRET}"),
            "redirect_uri": base + "/api/v1/auth/callback",
            "scopes": ["openid", "profile", "email", "groups", "org"],
            "claims": {"user": "sub", "org_unit": "org_unit", "groups": "groups"},
        },
        "unmapped": "refuse",
        "sessions": {"cli_access_token_ttl_s": 600},
    }
    g = gwtest.Gateway(config=cfg, env={"OIDC_SECRET": op.client_secret}, port=port).start()
    g.op = op
    g.base = base
    return g


GW = gwtest.Lazy(_gateway)


class Home:
    """A user's machine: its own HOME and XDG_CONFIG_HOME."""

    def __init__(self):
        self.home = gwtest.tempdir("gwcli-home-")
        self.xdg = os.path.join(self.home, "xdg")
        self.creds = os.path.join(self.xdg, "openclaw", "credentials.json")
        self.report = os.path.join(self.home, "browser-report.json")

    def env(self, g, **extra):
        e = {"XDG_CONFIG_HOME": self.xdg, "CLI_BROWSER_REPORT": self.report}
        e.update(extra)
        return e

    def cli(self, g, *args, env=None, timeout=60, stdin=None):
        return gwtest.cli(*args, home=self.home, url=g.base, env=self.env(g, **(env or {})),
                          timeout=timeout, stdin=stdin)

    def login(self, g, user, pw, mode="confirm", extra_args=()):
        return self.cli(g, "auth", "login", "--browser-command", BROWSER_CMD, *extra_args,
                        env={"CLI_BROWSER_USER": user, "CLI_BROWSER_PASSWORD": pw,
                             "CLI_BROWSER_MODE": mode})

    def browser_report(self):
        with open(self.report) as f:
            return json.load(f)

    def entry(self, g):
        with open(self.creds) as f:
            return json.load(f)["gateways"].get(g.base)

    def edit_entry(self, g, **fields):
        with open(self.creds) as f:
            doc = json.load(f)
        doc["gateways"][g.base].update(fields)
        with open(self.creds, "w") as f:
            json.dump(doc, f)


def api(g, method, path, token=None, body=None, headers=None):
    return gwtest.http_request(g.port, method, path, body=body, token=token, headers=headers)


def token_call(g, **form):
    return api(g, "POST", "/api/v1/auth/cli/token", body=form)


def authorize_url(g, redirect_uri, challenge, state="st-1", **extra):
    q = {"redirect_uri": redirect_uri, "code_challenge": challenge,
         "code_challenge_method": "S256", "state": state}
    q.update(extra)
    return g.base + "/api/v1/auth/cli/authorize?" + urllib.parse.urlencode(q)


def signed_in_browser(g, user="alice", pw="alice-pw"):
    """A browser with a gateway session (signed in through the IdP)."""
    b = loopback_browser()
    r = b.get(g.base + "/api/v1/auth/login")
    assert r.status == 302, (r.status, r.text[:300])
    cb = login(b, r.location, user, pw)
    r = b.get(cb)
    assert r.status == 302, (r.status, r.text[:300])
    return b


def confirm_form(b, url):
    page = b.get(url)
    assert page.status == 200 and not page.location, (page.status, page.location, page.text[:300])
    return page, page.form(has_password=False)


def obtain_code(g, b, redirect_uri, challenge, state="st-1"):
    """Confirm in a signed-in browser; the code the gateway hands to the loopback URL."""
    _, form = confirm_form(b, authorize_url(g, redirect_uri, challenge, state))
    vals = form.values()
    vals["action"] = "confirm"
    r = b.post(form.action, vals)
    assert r.status == 302 and r.location.startswith(redirect_uri), (r.status, r.text[:300])
    q = query_params(r.location)
    assert q["state"] == state, q
    return q["code"]


def audit(g, **params):
    q = urllib.parse.urlencode(dict(params, limit=500))
    r = api(g, "GET", "/api/v1/audit?" + q, token=ADMIN_TOKEN)
    assert r.status == 200, r
    return r.json()["events"]


def wait_audit(g, pred, what, event):
    end = time.time() + 5
    while True:
        ev = [e for e in audit(g, event=event) if e["type"] == event and pred(e)]
        if ev or time.time() > end:
            assert ev, "no audit event: " + what
            return ev
        time.sleep(0.1)


STATE = {}


# --- the loopback login, end to end ------------------------------------------------------------

def test_login_through_the_browser_and_the_idp():
    g = GW()
    h = Home()
    r = h.login(g, "alice", "alice-pw")
    rep = h.browser_report()
    assert r.rc == 0, (r.rc, r.out, r.err, rep)
    assert "Logged in to %s as alice" % g.base in r.out, r.out
    assert "Role:          team_lead" in r.out and "Org Unit:      R&D" in r.out, r.out
    assert "Opening a browser" in r.err and "/api/v1/auth/cli/authorize?" in r.err, r.err
    page = rep["confirm_page"]
    assert "Sign in the openclaw CLI on this computer as" in page and "alice" in page, page
    assert "team_lead" in page and "127.0.0.1" in page, page
    assert rep["loopback_status"] == 200 and "signed in" in rep["loopback_page"], rep
    for secret in ("oca_", "ocr_"):
        assert secret not in r.out and secret not in r.err, "tokens are never printed"
    STATE["alice"] = h


def test_credential_file_is_private():
    g = GW()
    h = STATE["alice"]
    st = os.stat(h.creds)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(h.creds)).st_mode) == 0o700
    e = h.entry(g)
    assert e["access_token"].startswith("oca_") and e["refresh_token"].startswith("ocr_"), e
    assert e["user"] == "alice" and e["role"] == "team_lead" and e["method"] == "loopback", e
    assert e["expires_at"] > time.time() + 500, e
    leftovers = [n for n in os.listdir(os.path.dirname(h.creds)) if ".tmp." in n]
    assert not leftovers, leftovers
    db = g.db()
    n = db.execute("SELECT COUNT(*) FROM sessions WHERE hash = ? OR refresh_hash = ?",
                   (e["access_token"], e["refresh_token"])).fetchone()[0]
    row = db.execute("SELECT kind, user_id FROM sessions WHERE hash = ?",
                     (hashlib.sha256(e["access_token"].encode()).hexdigest(),)).fetchone()
    db.close()
    assert n == 0 and row and tuple(row) == ("cli", "alice"), "only hashes are stored"


def test_auth_status_shows_the_identity():
    g = GW()
    h = STATE["alice"]
    r = h.cli(g, "auth", "status")
    assert r.rc == 0, (r.rc, r.out, r.err)
    for want in ("User:          alice", "Role:          team_lead", "Tenant:        acme-corp",
                 "Org Unit:      R&D", "Email:         alice@company.com",
                 "single sign-on in a browser (loopback)", h.creds):
        assert want in r.out, (want, r.out)
    j = h.cli(g, "auth", "status", "--json")
    assert j.rc == 0, j.err
    d = j.json()
    assert d["logged_in"] and d["verified"] and d["user"] == "alice", d
    assert d["role"] == "team_lead" and d["org_unit"] == "R&D" and d["session_id"], d
    assert "oca_" not in j.out and "ocr_" not in j.out


def test_openclaw_status_shows_the_real_user():
    g = GW()
    h = STATE["alice"]
    r = h.cli(g, "status")
    assert r.rc == 0, (r.rc, r.out, r.err)
    for want in ("User:        alice", "Role:        team_lead", "Tenant:      acme-corp",
                 "Org Unit:    R&D"):
        assert want in r.out, (want, r.out)
    r = h.cli(g, "config", "show")
    assert "openclaw auth login" in r.out, r.out


def test_api_calls_use_the_stored_login():
    g = GW()
    h = STATE["alice"]
    r = h.cli(g, "agents", "list", "--json")
    assert r.rc == 0, (r.rc, r.err)
    tok = h.entry(g)["access_token"]
    r = api(g, "GET", "/api/v1/auth/userinfo", token=tok)
    assert r.status == 200, r
    me = r.json()
    assert me["user"] == "alice" and me["auth_method"] == "cli" and me["session_id"], me
    assert "csrf_token" not in me, "a bearer token needs no CSRF token"
    # bearer requests that change something need no CSRF token
    r = api(g, "POST", "/api/v1/tokens", token=tok, body={"scopes": ["memory:read"]})
    assert r.status == 201, r
    r = api(g, "GET", "/api/v1/auth/sessions?user=alice", token=ADMIN_TOKEN)
    kinds = {s["id"]: s["kind"] for s in r.json()["sessions"]}
    assert kinds.get(me["session_id"]) == "cli", kinds
    # an explicit token still wins over the stored login
    r = h.cli(g, "status", env={"OPENCLAW_TOKEN": gwtest.ENG_TOKEN})
    assert "User:        token:team-engineering" in r.out, r.out


def test_expired_access_token_is_refreshed_before_the_request():
    g = GW()
    h = STATE["alice"]
    old = h.entry(g)
    h.edit_entry(g, expires_at=int(time.time()) - 5)
    r = h.cli(g, "auth", "status")
    assert r.rc == 0, (r.rc, r.out, r.err)
    new = h.entry(g)
    assert new["access_token"] != old["access_token"], "rotated"
    assert new["refresh_token"] != old["refresh_token"], "rotated"
    assert new["expires_at"] > time.time() + 500 and new["session_id"] == old["session_id"]
    assert stat.S_IMODE(os.stat(h.creds).st_mode) == 0o600
    assert api(g, "GET", "/api/v1/auth/userinfo", token=old["access_token"]).status == 401
    wait_audit(g, lambda e: e["resource"] == old["session_id"], "auth.cli.refresh",
               event="auth.cli.refresh")


def test_access_token_expired_on_the_gateway_is_refreshed_after_401():
    g = GW()
    h = STATE["alice"]
    old = h.entry(g)
    db = g.db()
    db.execute("UPDATE sessions SET access_expires_ms = 1 WHERE id = ?", (old["session_id"],))
    db.commit()
    db.close()
    r = api(g, "GET", "/api/v1/auth/userinfo", token=old["access_token"])
    assert r.status == 401 and "access token expired" in r.json()["error"]["message"], r
    r = h.cli(g, "agents", "list")
    assert r.rc == 0, (r.rc, r.out, r.err)
    new = h.entry(g)
    assert new["access_token"] != old["access_token"], "refreshed after the 401"
    assert api(g, "GET", "/api/v1/auth/userinfo", token=new["access_token"]).status == 200


def test_parallel_commands_refresh_once():
    g = GW()
    h = STATE["alice"]
    before = h.entry(g)
    h.edit_entry(g, expires_at=int(time.time()) - 5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    env.update(HOME=h.home, XDG_CONFIG_HOME=h.xdg, OPENCLAW_GATEWAY_URL=g.base)
    procs = [subprocess.Popen([gwtest.CLI_BIN, "agents", "list"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    results = [(p.wait(30), p.stderr.read().decode()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(rc == 0 for rc, _ in results), results
    after = h.entry(g)
    assert after["session_id"] == before["session_id"] and after["access_token"] != \
        before["access_token"], "one refresh, adopted by the others"
    assert api(g, "GET", "/api/v1/auth/userinfo", token=after["access_token"]).status == 200
    assert not [e for e in audit(g, event="auth.cli.refresh.reused")
                if e["resource"] == before["session_id"]], "no refresh token was spent twice"


def test_refresh_token_reuse_revokes_the_cli_session():
    g = GW()
    h = STATE["alice"]
    e = h.entry(g)
    # someone copied the refresh token and used it first
    r = token_call(g, grant_type="refresh_token", refresh_token=e["refresh_token"])
    assert r.status == 200, r
    thief = r.json()
    assert thief["refresh_token"] != e["refresh_token"]
    assert api(g, "GET", "/api/v1/auth/userinfo", token=thief["access_token"]).status == 200
    # the old (rotated) refresh token comes back: reuse → the whole CLI session ends
    r = token_call(g, grant_type="refresh_token", refresh_token=e["refresh_token"])
    assert r.status == 401 and "already used" in r.json()["error"]["message"], r
    assert api(g, "GET", "/api/v1/auth/userinfo", token=thief["access_token"]).status == 401
    r = token_call(g, grant_type="refresh_token", refresh_token=thief["refresh_token"])
    assert r.status == 401, r
    ev = wait_audit(g, lambda e2: e2["resource"] == e["session_id"], "auth.cli.refresh.reused",
                    event="auth.cli.refresh.reused")
    assert ev[0]["details"]["revoked_session"] == e["session_id"], ev[0]
    # the CLI notices on its next call: the login ended, its entry is removed, exit 3
    h.edit_entry(g, expires_at=int(time.time()) - 5)
    r = h.cli(g, "agents", "list")
    assert r.rc == 3 and "run openclaw auth login" in r.err, (r.rc, r.err)
    assert h.entry(g) is None
    r = h.cli(g, "auth", "status")
    assert r.rc == 3 and "Not logged in" in r.out, (r.rc, r.out)


def test_logout_revokes_on_the_gateway():
    g = GW()
    h = Home()
    r = h.login(g, "bob", "bob-pw")
    assert r.rc == 0, (r.rc, r.out, r.err)
    assert "Role:          user" in r.out and "Sales & Marketing" in r.out, r.out
    first = h.entry(g)
    # logging in again replaces the login, and ends the one it replaces on the gateway
    r = h.login(g, "bob", "bob-pw")
    assert r.rc == 0, (r.rc, r.out, r.err)
    e = h.entry(g)
    assert e["session_id"] != first["session_id"]
    assert api(g, "GET", "/api/v1/auth/userinfo", token=first["access_token"]).status == 401
    r = h.cli(g, "auth", "logout")
    assert r.rc == 0 and "revoked" in r.out, (r.rc, r.out, r.err)
    assert h.entry(g) is None
    assert api(g, "GET", "/api/v1/auth/userinfo", token=e["access_token"]).status == 401
    r = token_call(g, grant_type="refresh_token", refresh_token=e["refresh_token"])
    assert r.status == 401, r
    wait_audit(g, lambda x: x["resource"] == e["session_id"], "auth.cli.revoked",
               event="auth.cli.revoked")
    r = h.cli(g, "auth", "logout")
    assert r.rc == 0 and "Not logged in" in r.out, (r.rc, r.out)


def test_logout_endpoint_accepts_the_cli_bearer():
    g = GW()
    b = signed_in_browser(g, "bob", "bob-pw")
    v, c = pkce_pair()
    code = obtain_code(g, b, LOOPBACK % 40001, c)
    t = token_call(g, grant_type="authorization_code", code=code, code_verifier=v,
                   redirect_uri=LOOPBACK % 40001).json()
    r = api(g, "POST", "/api/v1/auth/logout", token=t["access_token"])
    assert r.status == 200 and r.json()["session_id"] == t["session_id"], r
    assert api(g, "GET", "/api/v1/auth/userinfo", token=t["access_token"]).status == 401


def test_copy_paste_mode_without_a_browser():
    g = GW()
    h = Home()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    env.update(HOME=h.home, XDG_CONFIG_HOME=h.xdg, OPENCLAW_GATEWAY_URL=g.base)
    p = subprocess.Popen([gwtest.CLI_BIN, "auth", "login", "--no-browser"], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url, seen = None, b""
        end = time.time() + 10
        while url is None and time.time() < end:
            seen += p.stderr.read1(4096)
            m = re.search(rb"(http://\S+/api/v1/auth/cli/authorize\?\S+)", seen)
            url = m.group(1).decode() if m else None
        assert url, seen
        assert query_params(url)["redirect_uri"] == "urn:ietf:wg:oauth:2.0:oob", url
        # another device: sign in, confirm, read the code off the page
        b = loopback_browser()
        cb = login(b, url, "alice", "alice-pw", rp_prefix=g.base + "/api/v1/auth/callback")
        page = b.follow(cb)
        form = page.form(has_password=False)
        vals = form.values()
        vals["action"] = "confirm"
        shown = b.post(form.action, vals)
        assert shown.status == 200, (shown.status, shown.text[:300])
        code = re.search(r'<code id="code">([A-Za-z0-9_-]+)</code>', shown.text).group(1)
        out, err = p.communicate(("  %s \n" % code).encode(), timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, (p.returncode, out, err)
    assert b"Logged in to" in out and b"alice" in out, out
    e = h.entry(g)
    assert e["method"] == "copy-paste" and e["user"] == "alice", e
    assert stat.S_IMODE(os.stat(h.creds).st_mode) == 0o600


# --- refusals ------------------------------------------------------------------------------------

def test_non_loopback_redirect_uris_are_refused():
    g = GW()
    b = signed_in_browser(g)
    _, c = pkce_pair()
    bad = ["http://evil.example/callback", "https://127.0.0.1:4000/callback",
           "http://127.0.0.1/callback", "http://127.0.0.1:4000/other",
           "http://127.0.0.1:4000/callback?x=1", "http://127.0.0.1:4000/callback#f",
           "http://127.0.0.1:4000@evil.example/callback", "http://localhost.evil.example:80/callback",
           "http://127.0.0.1:0/callback", "http://127.0.0.1:65536/callback",
           "http://127.0.0.2:4000/callback", "http://127.0.0.1:04000/callback",
           "urn:ietf:wg:oauth:2.0:oob:auto", ""]
    for uri in bad:
        r = b.get(authorize_url(g, uri, c))
        assert r.status == 400 and not r.location, (uri, r.status, r.location)
        assert "redirect_uri" in r.text, (uri, r.text[:300])
    for uri in ("http://[::1]:4000/callback", "http://localhost:4000/callback",
                "urn:ietf:wg:oauth:2.0:oob"):
        assert b.get(authorize_url(g, uri, c)).status == 200, uri
    # PKCE is required, S256 only; parameters must not repeat
    url = authorize_url(g, LOOPBACK % 4000, c)
    assert b.get(url.replace("S256", "plain")).status == 400
    assert b.get(url.replace("code_challenge=", "code_challenge=x")).status == 400
    assert b.get(url + "&state=again").status == 400
    ev = wait_audit(g, lambda e: "redirect_uri" in str(e.get("details")),
                    "auth.cli.authorize.failed", event="auth.cli.authorize.failed")
    assert ev


def test_get_authorize_never_issues_a_code():
    g = GW()
    _, c = pkce_pair()
    url = authorize_url(g, LOOPBACK % 4001, c)
    # no session: to the login, and back to this URL afterwards
    r = loopback_browser().get(url)
    assert r.status == 302 and "/api/v1/auth/login?return_to=" in r.location, r.location
    assert urllib.parse.unquote(query_params(r.location)["return_to"]) == url[len(g.base):] or \
        query_params(r.location)["return_to"] == url[len(g.base):], r.location
    b = signed_in_browser(g)
    page, form = confirm_form(b, url)
    assert "code=" not in page.text and page.headers.get("x-frame-options") == "DENY", page.headers
    assert "frame-ancestors 'none'" in page.headers.get("content-security-policy", "")
    vals = form.values()
    vals["action"] = "confirm"
    no_csrf = {k: v for k, v in vals.items() if k != "csrf_token"}
    r = b.post(form.action, no_csrf)
    assert r.status == 403 and not r.location, (r.status, r.location)
    r = b.post(form.action, dict(vals, csrf_token="A" * 43))
    assert r.status == 403 and not r.location, (r.status, r.location)
    # another user's CSRF token does not fit this session
    _, bob_form = confirm_form(signed_in_browser(g, "bob", "bob-pw"), url)
    r = b.post(form.action, dict(vals, csrf_token=bob_form.values()["csrf_token"]))
    assert r.status == 403, r.status
    # a hostile page can post the form, but without the cookie there is no session
    r = loopback_browser().post(form.action, vals)
    assert r.status == 401 and not r.location, r.status
    r = b.post(form.action, vals)
    assert r.status == 302 and query_params(r.location).get("code"), (r.status, r.location)
    wait_audit(g, lambda e: "CSRF" in str(e.get("details")), "auth.cli.authorize.denied",
               event="auth.cli.authorize.denied")


def test_wrong_code_verifier_is_refused_and_burns_the_code():
    g = GW()
    b = signed_in_browser(g)
    v, c = pkce_pair()
    code = obtain_code(g, b, LOOPBACK % 4002, c)
    r = token_call(g, grant_type="authorization_code", code=code, code_verifier=pkce_pair()[0],
                   redirect_uri=LOOPBACK % 4002)
    assert r.status == 401 and "code_verifier" in r.json()["error"]["message"], r
    r = token_call(g, grant_type="authorization_code", code=code, code_verifier=v,
                   redirect_uri=LOOPBACK % 4002)
    assert r.status == 401, r
    # the redirect_uri must be the one the code was issued for
    code = obtain_code(g, b, LOOPBACK % 4002, c)
    r = token_call(g, grant_type="authorization_code", code=code, code_verifier=v,
                   redirect_uri=LOOPBACK % 4003)
    assert r.status == 401 and "redirect_uri" in r.json()["error"]["message"], r
    ev = wait_audit(g, lambda e: "code_verifier" in str(e.get("details")),
                    "auth.cli.token.failed", event="auth.cli.token.failed")
    assert ev[0]["details"]["user"] == "alice", ev[0]


def test_code_replay_is_refused_and_revokes_the_session():
    g = GW()
    b = signed_in_browser(g)
    v, c = pkce_pair()
    code = obtain_code(g, b, LOOPBACK % 4004, c)
    form = dict(grant_type="authorization_code", code=code, code_verifier=v,
                redirect_uri=LOOPBACK % 4004)
    r = token_call(g, **form)
    assert r.status == 200, r
    t = r.json()
    assert t["token_type"] == "Bearer" and t["user"] == "alice" and t["role"] == "team_lead", t
    assert 590 <= t["expires_in"] <= 600 and t["tenant"] == gwtest.TENANT, t
    r = token_call(g, **form)
    assert r.status == 401 and "already used" in r.json()["error"]["message"], r
    assert api(g, "GET", "/api/v1/auth/userinfo", token=t["access_token"]).status == 401
    wait_audit(g, lambda e: e["resource"] == t["session_id"], "auth.cli.code.replayed",
               event="auth.cli.code.replayed")
    # also as a form body
    r = api(g, "POST", "/api/v1/auth/cli/token", body=urllib.parse.urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 401, r


def test_expired_code_is_refused():
    g = GW()
    b = signed_in_browser(g)
    v, c = pkce_pair()
    code = obtain_code(g, b, LOOPBACK % 4005, c)
    db = g.db()
    db.execute("UPDATE cli_auth_codes SET expires_ms = 1 WHERE code_hash = ?",
               (hashlib.sha256(code.encode()).hexdigest(),))
    db.commit()
    db.close()
    r = token_call(g, grant_type="authorization_code", code=code, code_verifier=v,
                   redirect_uri=LOOPBACK % 4005)
    assert r.status == 401 and "expired" in r.json()["error"]["message"], r


def test_malformed_token_requests():
    g = GW()
    assert token_call(g, grant_type="password", username="a").status == 400
    assert token_call(g, grant_type="authorization_code", code="x", code_verifier="y",
                      redirect_uri=LOOPBACK % 1).status == 400
    assert token_call(g, grant_type="refresh_token", refresh_token="ocr_nope").status == 400
    r = token_call(g, grant_type="refresh_token", refresh_token="ocr_" + "A" * 43)
    assert r.status == 401, r
    r = api(g, "POST", "/api/v1/auth/cli/token", body="grant_type=a&grant_type=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400, r
    r = api(g, "GET", "/api/v1/auth/userinfo", token="oca_" + "B" * 43)
    assert r.status == 401, r


def test_cli_rejects_a_state_that_does_not_match():
    g = GW()
    h = Home()
    r = h.login(g, "alice", "alice-pw", mode="tamper-state")
    assert r.rc == 1 and "different state" in r.err, (r.rc, r.err, h.browser_report())
    assert h.browser_report()["loopback_status"] == 400
    assert not os.path.exists(h.creds) or h.entry(g) is None, "nothing saved"


def test_cli_reports_a_cancelled_sign_in():
    g = GW()
    h = Home()
    r = h.login(g, "alice", "alice-pw", mode="cancel")
    assert r.rc == 1 and "access_denied" in r.err, (r.rc, r.err, h.browser_report())
    assert not os.path.exists(h.creds) or h.entry(g) is None


def test_cli_wait_for_the_browser_is_bounded():
    g = GW()
    h = Home()
    t0 = time.time()
    r = h.login(g, "alice", "alice-pw", mode="fail", extra_args=("--login-timeout", "2"))
    assert r.rc == 1 and "did not come back within 2 seconds" in r.err, (r.rc, r.err)
    assert "browser command failed" in r.err, r.err
    assert time.time() - t0 < 15
    r = h.cli(g, "auth", "login", "--login-timeout", "0")
    assert r.rc == 2, r.rc


def _saml_gateway():
    """A gateway whose browser login is SAML 2.0 (saml_idp.py, Lasso in the IdP role)."""
    assert HAVE_LASSO, "python3-lasso is missing (run tests/integration/idp/install.sh)"
    port = gwtest.free_port()
    base = "http://127.0.0.1:%d" % port
    entity, acs, slo = (base + "/api/v1/auth/saml/" + x for x in ("metadata", "acs", "slo"))
    d = gwtest.tempdir()
    key, cert = saml_idp.gen_key_cert("openclaw-gateway-sp")
    idp = saml_idp.SamlIdp(saml_idp.sp_metadata(entity, acs, slo, cert, requests_signed=True))
    idp.start()
    atexit.register(idp.cleanup)
    files = {}
    for name, text in (("idp.xml", idp.metadata_xml), ("sp.key", key), ("sp.crt", cert)):
        files[name] = os.path.join(d, name)
        with open(files[name], "w") as f:
            f.write(text)
    cfg = gwtest.seed_config(port=port)
    cfg["rbac"] = {"groupMappings": {"eng-leads": "team_lead", "mark*": "user"}}
    cfg["sso"] = {
        "saml": {"idp_metadata": files["idp.xml"], "sp_entity_id": entity, "acs_url": acs,
                 "slo_url": slo, "sp_key_file": files["sp.key"], "sp_cert_file": files["sp.crt"],
                 "attributeMapping": {"userId": "NameID", "email": "email",
                                      "name": "displayName", "groups": "groups",
                                      "org_unit": "department"}},
        "unmapped": "refuse",
    }
    g = gwtest.Gateway(config=cfg, port=port).start()
    g.base = base
    md = api(g, "GET", "/api/v1/auth/saml/metadata")
    assert md.status == 200, md
    with open(os.path.join(idp.dir, "sp-0.xml"), "w") as f:
        f.write(md.text)
    return g


SAML = gwtest.Lazy(_saml_gateway)


def test_login_through_a_saml_idp_works_unchanged():
    g = SAML()
    h = Home()
    r = h.cli(g, "auth", "login", "--browser-command", BROWSER_CMD,
              env={"CLI_BROWSER_USER": "bob", "CLI_BROWSER_PASSWORD": "bob-pw",
                   "CLI_BROWSER_PROTOCOL": "saml"})
    assert r.rc == 0, (r.rc, r.out, r.err, h.browser_report())
    assert "Logged in to %s as bob" % g.base in r.out, r.out
    assert "Role:          user" in r.out and "Org Unit:      Marketing" in r.out, r.out
    r = h.cli(g, "status")
    assert r.rc == 0 and "User:        bob" in r.out, (r.rc, r.out, r.err)
    before = h.entry(g)
    h.edit_entry(g, expires_at=int(time.time()) - 5)
    r = h.cli(g, "auth", "status")
    assert r.rc == 0 and "User:          bob" in r.out, (r.rc, r.out, r.err)
    assert h.entry(g)["access_token"] != before["access_token"], "refreshed"
    r = h.cli(g, "auth", "logout")
    assert r.rc == 0 and "revoked" in r.out, (r.rc, r.out, r.err)


PLAIN = gwtest.Lazy(lambda: gwtest.Gateway(gwtest.seed_config()).start())


def test_cli_says_at_once_when_the_gateway_cannot_sign_it_in():
    g = PLAIN()  # no sso section
    h = Home()
    t0 = time.time()
    r = gwtest.cli("auth", "login", "--no-browser", home=h.home, url="http://127.0.0.1:%d" % g.port,
                   env={"XDG_CONFIG_HOME": h.xdg})
    assert r.rc == 5 and "single sign-on is not configured" in r.err, (r.rc, r.err)
    assert "cannot sign the CLI in" in r.err and "Code:" not in r.err, r.err
    r = gwtest.cli("auth", "login", "--browser-command", "false", home=h.home,
                   url="http://127.0.0.1:%d" % gwtest.free_port(), env={"XDG_CONFIG_HOME": h.xdg})
    assert r.rc == 7 and "cannot connect to the gateway" in r.err, (r.rc, r.err)
    assert time.time() - t0 < 10, "no wait for a browser"


def test_sessions_list_and_revoke_with_the_cli():
    g = GW()
    h = Home()
    assert h.login(g, "bob", "bob-pw").rc == 0
    mine = h.entry(g)["session_id"]
    # bob's own sessions through his stored login: the table marks the one in use
    r = h.cli(g, "sessions", "list")
    assert r.rc == 0, (r.rc, r.out, r.err)
    head = r.out.splitlines()[0].split()
    assert head[:3] == ["ID", "KIND", "USER"] and head[-1] == "CURRENT", r.out
    row = [ln.split() for ln in r.out.splitlines() if ln.startswith(mine)]
    assert row and row[0][1] == "cli" and row[0][2] == "bob" and row[0][-1] == "yes", r.out
    # an administrator lists them; bob may not list alice's
    r = gwtest.cli("sessions", "list", "--user", "bob", "--json", url=g.base, token=ADMIN_TOKEN)
    assert r.rc == 0 and mine in {x["id"] for x in r.json()["sessions"]}, (r.rc, r.out, r.err)
    r = h.cli(g, "sessions", "list", "--user", "alice")
    assert r.rc == 4 and "only an administrator" in r.err, (r.rc, r.err)
    # bob ends another sign-in of his by its id
    h2 = Home()
    assert h2.login(g, "bob", "bob-pw").rc == 0
    other = h2.entry(g)["session_id"]
    r = h.cli(g, "sessions", "revoke", other)
    assert r.rc == 0 and r.out.strip() == "Session %s revoked" % other, (r.rc, r.out, r.err)
    assert h2.cli(g, "auth", "status").rc == 3, "the revoked sign-in still works"
    assert h.cli(g, "auth", "status").rc == 0, "revoking another session ended this one"
    r = h.cli(g, "sessions", "revoke", "no-such-session")
    assert r.rc == 5 and "no session" in r.err, (r.rc, r.err)
    # an administrator ends every session of bob
    r = gwtest.cli("sessions", "revoke", "--user", "bob", url=g.base, token=ADMIN_TOKEN)
    assert r.rc == 0 and re.match(r"Revoked [1-9]\d* sessions? of bob$", r.out.strip()), \
        (r.rc, r.out, r.err)
    r = h.cli(g, "auth", "status")
    assert r.rc == 3, (r.rc, r.out, r.err)
    types = {e["type"] for e in audit(g, event="auth.session.*")}
    assert "auth.session.revoked" in types, types


def test_no_secrets_in_the_audit_trail_or_the_log():
    g = GW()
    v, c = pkce_pair()
    b = signed_in_browser(g)
    code = obtain_code(g, b, LOOPBACK % 4006, c)
    t = token_call(g, grant_type="authorization_code", code=code, code_verifier=v,
                   redirect_uri=LOOPBACK % 4006).json()
    r = token_call(g, grant_type="refresh_token", refresh_token=t["refresh_token"])
    assert r.status == 200, r
    types = {e["type"] for e in audit(g, event="auth.cli.*")}
    for want in ("auth.cli.authorize", "auth.cli.authorized", "auth.cli.token",
                 "auth.cli.refresh", "auth.cli.token.failed", "auth.cli.refresh.reused",
                 "auth.cli.code.replayed", "auth.cli.revoked", "auth.cli.authorize.failed",
                 "auth.cli.authorize.denied"):
        assert want in types, (want, sorted(types))
    with open(g.audit_log_path) as f:
        trail = f.read()
    with open(g.stderr_path) as f:
        log = f.read()
    for secret in (code, v, c, t["access_token"], t["refresh_token"], r.json()["access_token"]):
        assert secret not in trail and secret not in log, "a secret leaked"
    assert "oca_" not in trail and "ocr_" not in trail


if __name__ == "__main__":
    if not HAVE_IDP:
        print("FAIL test_cli_login: the IdP packages are missing (run tests/integration/idp/install.sh)")
        sys.exit(1)
    gwtest.main(globals())
