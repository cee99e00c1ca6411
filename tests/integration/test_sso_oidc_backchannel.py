#!/usr/bin/env python3
"""OpenID Connect: how the relying party authenticates to the IdP, and IdP access tokens checked
by token introspection (issue 5).

private_key_jwt: the hostile provider (tests/integration/idp/evil_oidc.py) registers the
gateway's public key and refuses anything but a valid assertion (signature by that key, kid,
iss = sub = client_id, aud = token endpoint, exp, fresh jti), so logins through RS256 and ES256
keys succeed only when the assertion is right; the provider's own checks are shown to refuse
forged, unsigned, replayed and mis-addressed assertions; a bad key file is a configuration error.

Introspection (RFC 7662), bearer_validation: introspection, with the same provider (scripted
answers, calls counted, client authenticated by private_key_jwt there too) and with
LemonLDAP::NG's real /oauth2/introspect issuing opaque tokens (groups from userinfo): active
tokens are accepted with the role of their groups; inactive, expired, other-issuer, other-audience
and other-client tokens get 401; results are cached; an IdP failure is a 502 and is not cached;
gateway, configured and CLI tokens never reach the IdP.
"""
import atexit
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "idp"))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN  # noqa: E402
from test_sso_oidc import (HAVE_IDP, api, evil_login, sso_config, start_tls_gateway,  # noqa: E402
                           tls_browser, userinfo, wait_audit)

if HAVE_IDP:
    from cryptography.hazmat.primitives import serialization  # noqa: E402
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
    from browser import Browser, query_params  # noqa: E402
    from evil_oidc import ASSERTION_TYPE, EvilOidc, sign  # noqa: E402
    from oidc_provider import OidcProvider, login, logout, pkce_pair  # noqa: E402

CLIENT = "openclaw-gateway"


def new_client_key(alg):
    """A fresh client key and its PEM (RSA in the traditional format, EC in PKCS#8)."""
    if alg == "RS256":
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        k = ec.generate_private_key(ec.SECP256R1())
        fmt = serialization.PrivateFormat.PKCS8
    return k, k.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def write_file(data, name="client.key"):
    p = os.path.join(gwtest.tempdir(), name)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, 0o600)
    return p


def private_key_jwt_config(port, evil, key_path, kid=None, **oidc):
    o = {"auth_method": "private_key_jwt", "client_key_file": key_path,
         "bearer_validation": "introspection", **oidc}
    if kid:
        o["client_key_id"] = kid
    cfg = sso_config(port, evil.issuer if evil else "http://127.0.0.1:9", CLIENT, o)
    del cfg["sso"]["oidc"]["client_secret"]
    del cfg["sso"]["oidc"]["accept_bearer_jwt"]
    return cfg


def _gateway_pk(alg, kid, **oidc):
    port = gwtest.free_port()
    evil = EvilOidc(client_id=CLIENT).start()
    atexit.register(evil.stop)
    key, pem = new_client_key(alg)
    evil.require_private_key_jwt(key.public_key(), kid)
    g = start_tls_gateway(private_key_jwt_config(port, evil, write_file(pem), kid, **oidc), {},
                          port)
    g.evil, g.client_key, g.kid, g.pem = evil, key, kid, pem
    return g


def _gateway_pk_rs():
    return _gateway_pk("RS256", "gw-rs-1")


def _gateway_pk_es():
    return _gateway_pk("ES256", None, introspection_cache_s=0)


def _gateway_llng():
    port = gwtest.free_port()
    op = OidcProvider(redirect_uris=["https://127.0.0.1:%d/api/v1/auth/callback" % port],
                      access_token_jwt=False).start()
    atexit.register(op.stop)
    cfg = sso_config(port, op.issuer, op.client_id,
                     {"bearer_validation": "introspection", "userinfo": True})
    del cfg["sso"]["oidc"]["accept_bearer_jwt"]
    g = start_tls_gateway(cfg, {"OIDC_SECRET": op.client_secret}, port)
    g.op = op
    return g


PK_RS = gwtest.Lazy(_gateway_pk_rs)
PK_ES = gwtest.Lazy(_gateway_pk_es)
LLNG = gwtest.Lazy(_gateway_llng)


def me(g, token):
    return api(g, "GET", "/api/v1/auth/userinfo", token=token)


def message(r):
    return r.json()["error"]["message"] if r.text.startswith("{") else r.text


def secrets_stay_out(g, *secret):
    """None of the secrets is in the daemon's log or its audit log."""
    with open(g.stderr_path) as f:
        log = f.read()
    with open(g.audit_log_path) as f:
        log += f.read()
    leaked = [s[:12] + "..." for s in secret if s and s in log]
    assert not leaked, "secrets in the logs: %s" % leaked


# --- private_key_jwt ------------------------------------------------------------------------

def check_login_assertion(g, alg):
    evil = g.evil
    n = len(evil.assertions)
    b, r = evil_login(g, "good")
    assert r.status == 302, (r.status, r.text[:300], evil.client_auth_failures)
    assert userinfo(g, b)[1]["user"] == "alice"
    new = [a for a in evil.assertions[n:] if a["path"] == "/token"]
    assert len(new) == 1, new
    h, c = new[0]["header"], new[0]["claims"]
    want = {"alg": alg, "typ": "JWT"}
    if g.kid:
        want["kid"] = g.kid
    assert h == want, h
    assert c["iss"] == c["sub"] == CLIENT and c["aud"] == evil.token_endpoint, c
    assert c["exp"] - c["iat"] == 60 and abs(c["iat"] - time.time()) < 30, c
    assert len(c["jti"]) >= 32, c
    req = [q for q in evil.requests if q["path"] == "/token"][-1]
    assert req["authorization"] is None and "client_secret" not in req["form"], req
    assert req["form"]["client_id"] == CLIENT
    assert req["form"]["client_assertion_type"] == ASSERTION_TYPE
    # the next login signs a new assertion (the provider refuses a replayed jti)
    b2, r2 = evil_login(g, "good")
    assert r2.status == 302, (r2.status, r2.text[:300], evil.client_auth_failures)
    assert evil.assertions[-1]["claims"]["jti"] != c["jti"]
    assert not evil.client_auth_failures, evil.client_auth_failures
    return new[0]["raw"]


def test_private_key_jwt_rs256_login():
    g = PK_RS()
    raw = check_login_assertion(g, "RS256")
    secrets_stay_out(g, raw, g.pem.decode().splitlines()[1])


def test_private_key_jwt_es256_login():
    # the provider accepts only JOSE r||s signatures (64 bytes), never DER
    check_login_assertion(PK_ES(), "ES256")


def post_form(url, form):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_provider_refuses_forged_assertions():
    """The provider's checks can fail, so the logins above prove the assertions are right."""
    g = PK_RS()
    evil = g.evil
    now = int(time.time())

    def assertion(key=None, alg="RS256", kid="gw-rs-1", drop=(), **claims):
        c = {"iss": CLIENT, "sub": CLIENT, "aud": evil.token_endpoint,
             "jti": secrets.token_urlsafe(24), "iat": now, "exp": now + 60, **claims}
        for k in drop:
            c.pop(k)
        h = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
        return sign(h, c, key or g.client_key)

    base = {"grant_type": "authorization_code", "code": "no-such-code",
            "redirect_uri": "https://127.0.0.1/cb", "client_assertion_type": ASSERTION_TYPE}
    # control: a right assertion passes client authentication (then the code fails)
    good = assertion()
    st, j = post_form(evil.token_endpoint, dict(base, client_assertion=good))
    assert st == 400 and j["error"] == "invalid_grant", (st, j)
    cases = {
        "unsigned": (assertion(alg="none"), "alg"),
        "another key": (assertion(key=rsa.generate_private_key(public_exponent=65537,
                                                                key_size=2048)), "signature"),
        "tampered": (good.rsplit(".", 2)[0] + "." + assertion().split(".")[1] + "." +
                     good.rsplit(".", 1)[1], "signature"),
        "aud is the issuer": (assertion(aud=evil.issuer), "aud"),
        "sub is not the client": (assertion(sub="someone-else"), "iss and sub"),
        "expired": (assertion(exp=now - 10), "exp"),
        "lives too long": (assertion(exp=now + 3600), "exp"),
        "no jti": (assertion(drop=("jti",)), "jti"),
        "replayed": (good, "replayed"),
        "other kid": (assertion(kid="gw-rs-2"), "kid"),
    }
    bad = []
    for what, (tok, words) in cases.items():
        st, j = post_form(evil.token_endpoint, dict(base, client_assertion=tok))
        if st != 401 or j.get("error") != "invalid_client" or words not in j.get("error_description", ""):
            bad.append("%s: %s %s" % (what, st, j))
    st, j = post_form(evil.token_endpoint, dict(base, client_id=CLIENT,
                                                 client_secret=evil.client_secret))
    if st != 401:
        bad.append("client secret accepted: %s" % st)
    assert not bad, "\n".join(bad)
    # and the gateway's login fails when the provider has another key for it
    saved = (evil.client_key, evil.client_kid)
    evil.require_private_key_jwt(rsa.generate_private_key(public_exponent=65537,
                                                          key_size=2048).public_key(), g.kid)
    try:
        b, r = evil_login(g, "good")
        assert r.status == 401 and "invalid_client" in r.text, (r.status, r.text[:300])
    finally:
        evil.client_key, evil.client_kid = saved
        evil.client_auth_failures.clear()


def openssl_key(*args):
    return subprocess.run(["openssl", "genpkey", *args], check=True, capture_output=True).stdout


def test_bad_client_key_file_is_a_config_error():
    rs = "must be an RSA key of at least 2048 bits (RS256) or an EC key on P-256 (ES256)"
    unusable = "holds no unencrypted PEM private key"
    k1024 = openssl_key("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")
    cases = [
        ("RSA 1024", k1024, rs),
        ("EC P-384", openssl_key("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"), rs),
        ("Ed25519", openssl_key("-algorithm", "ED25519"), rs),
        ("encrypted", openssl_key("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                                  "-aes256", "-pass", "pass:secret"), unusable),
        ("a public key", subprocess.run(["openssl", "pkey", "-pubout"], input=k1024, check=True,
                                        capture_output=True).stdout, unusable),
        ("missing", None, "does not exist"),
        ("good RSA", new_client_key("RS256")[1], None),
        ("good EC", new_client_key("ES256")[1], None),
    ]
    bad = []
    for what, pem, words in cases:
        path = write_file(pem) if pem else "/nonexistent/client.key"
        cfg_path = write_file((gwtest.to_yaml(private_key_jwt_config(8080, None, path)) +
                               "\n").encode(), "gateway.yaml")
        rc, out, err = gwtest.check_config(cfg_path)
        body = pem.decode().splitlines()[1] if pem else None
        if words is None and rc != 0:
            bad.append("%s: rc %d: %s" % (what, rc, err[-300:]))
        elif words is not None and (rc != 78 or words not in err or "sso.oidc.client_key_file"
                                    not in err):
            bad.append("%s: rc %d: %s" % (what, rc, err[-300:]))
        if body and body in out + err:
            bad.append("%s: the key appears in the output" % what)
    assert not bad, "\n".join(bad)


# --- introspection with the scriptable provider -------------------------------------------

def test_introspection_accepts_an_active_token():
    g = PK_RS()
    evil = g.evil
    tok = evil.issue_opaque("alice")
    n = len(evil.assertions)
    r = me(g, tok)
    assert r.status == 200, r
    j = r.json()
    assert j["user"] == "alice" and j["role"] == "team_lead", j  # groups → eng-leads
    assert j["auth_method"] == "bearer_introspection" and j["email"] == "alice@company.com", j
    assert evil.introspected().count(tok) == 1
    # the introspection call is authenticated like the token call (private_key_jwt)
    used = [a for a in evil.assertions[n:] if a["path"] == "/introspect"]
    assert len(used) == 1 and used[0]["claims"]["aud"] == evil.token_endpoint, used
    req = [q for q in evil.requests if q["path"] == "/introspect"][-1]
    assert req["form"]["token_type_hint"] == "access_token" and not req["authorization"], req
    r = me(g, evil.issue_opaque("bob"))
    assert r.status == 200 and r.json()["role"] == "user", r  # through the glob "mark*"
    evil.claims["mallory"] = {"email": "m@company.com", "groups": ["nobody"]}
    r = me(g, evil.issue_opaque("mallory"))
    assert r.status == 403 and "no role mapping for your groups: nobody" in message(r), r
    # a token for our audience issued to another client of the IdP (the CLI) is ours
    r = me(g, evil.issue_opaque("alice", aud=["someone", CLIENT], client_id="openclaw-cli"))
    assert r.status == 200, r
    # the API works with it, not just userinfo
    r = api(g, "GET", "/api/v1/agents", token=tok)
    assert r.status == 200, r
    secrets_stay_out(g, tok)


def test_introspection_refuses_inactive_expired_and_foreign_tokens():
    g = PK_RS()
    evil = g.evil
    now = int(time.time())
    cases = [
        ("unknown to the IdP", secrets.token_urlsafe(32), "not active"),
        ("inactive", evil.issue_opaque("alice", active=False), "not active"),
        ("expired", evil.issue_opaque("alice", iat=now - 1200, exp=now - 600), "expired"),
        ("other issuer", evil.issue_opaque("alice", iss="http://127.0.0.1:9/other"), "issuer"),
        ("other audience", evil.issue_opaque("alice", aud="another-api"), "audience"),
        ("other client", evil.issue_opaque("alice", client_id="another-app"), "another client"),
        ("no audience, no client", evil.issue_opaque("alice", client_id=None), "neither"),
        ("not yet valid", evil.issue_opaque("alice", nbf=now + 600), "not yet valid"),
        # a JWT with a good signature, which the IdP says is not active: introspection decides
        ("signed but revoked JWT", evil.forge("good", sub="alice"), "not active"),
    ]
    bad = []
    for what, tok, words in cases:
        r = me(g, tok)
        if r.status != 401 or words not in message(r):
            bad.append("%s: %s %s" % (what, r.status, r.text[:200]))
        if evil.introspected().count(tok) != 1:
            bad.append("%s: introspected %d times" % (what, evil.introspected().count(tok)))
    assert not bad, "\n".join(bad)
    ev = wait_audit(g, lambda e: "not active" in str(e.get("details")), "auth.failed",
                    type="auth.failed")
    assert ev
    secrets_stay_out(g, *[t for _, t, _ in cases])


def test_introspection_results_are_cached():
    g = PK_RS()
    evil = g.evil
    tok = evil.issue_opaque("alice")
    for _ in range(5):
        assert me(g, tok).status == 200
    assert evil.introspected().count(tok) == 1
    unknown = secrets.token_urlsafe(32)
    for _ in range(4):
        assert me(g, unknown).status == 401
    assert evil.introspected().count(unknown) == 1
    # a cached answer is used until introspection_cache_s (60 s here): revoking at the IdP
    # shows after that, never beyond the token's exp
    evil.introspection[tok]["active"] = False
    assert me(g, tok).status == 200
    short = evil.issue_opaque("alice", exp=int(time.time()) + 1)
    assert me(g, short).status == 200
    time.sleep(2.2)
    assert me(g, short).status == 200  # exp passed, within the clock skew: asked again
    assert evil.introspected().count(short) == 2


def test_introspection_cache_can_be_off():
    g = PK_ES()  # introspection_cache_s: 0
    evil = g.evil
    tok = evil.issue_opaque("bob")
    assert me(g, tok).status == 200
    assert me(g, tok).status == 200
    evil.introspection[tok]["active"] = False  # revoked at the IdP: effective at once
    r = me(g, tok)
    assert r.status == 401 and "not active" in message(r), r
    assert evil.introspected().count(tok) == 3


def test_introspection_failure_is_502_and_not_cached():
    g = PK_RS()
    evil = g.evil
    tok = evil.issue_opaque("bob")
    evil.introspection_status = 503
    try:
        r = me(g, tok)
    finally:
        evil.introspection_status = 200
    assert r.status == 502 and "introspection endpoint answered HTTP 503" in message(r), r
    r = me(g, tok)
    assert r.status == 200 and r.json()["user"] == "bob", r
    assert evil.introspected().count(tok) == 2
    # our own client authentication refused: a 502 that names it, for the operator
    saved = (evil.client_key, evil.client_kid)
    evil.require_private_key_jwt(ec.generate_private_key(ec.SECP256R1()).public_key())
    try:
        r = me(g, evil.issue_opaque("bob"))
    finally:
        evil.client_key, evil.client_kid = saved
        evil.client_auth_failures.clear()
    assert r.status == 502 and "HTTP 401, invalid_client" in message(r), r


def test_gateway_and_cli_tokens_never_reach_the_idp():
    g = PK_RS()
    evil = g.evil
    before = len(evil.introspected())
    assert me(g, ADMIN_TOKEN).status == 200  # a configured token, no prefix
    r = api(g, "POST", "/api/v1/tokens", token=ADMIN_TOKEN,
            body={"id": "svc-intro", "scopes": ["memory:read"]})
    assert r.status == 201, r
    ocw = r.json()["token"]
    assert ocw.startswith("ocw_") and me(g, ocw).status == 200
    assert api(g, "DELETE", "/api/v1/tokens/svc-intro", token=ADMIN_TOKEN).status == 200
    r = me(g, ocw)
    assert r.status == 401 and "revoked" in message(r), r
    fake = secrets.token_urlsafe(32)
    for prefix in ("ocw_", "oca_", "ocr_", "ocs_"):
        r = me(g, prefix + fake)
        assert r.status == 401, (prefix, r)
    sent = evil.introspected()[before:]
    assert not sent, "gateway or CLI tokens were sent to the IdP: %s" % [t[:8] for t in sent]
    # control: anything else is the IdP's to judge
    me(g, "not-ours-" + fake)
    assert evil.introspected()[before:] == ["not-ours-" + fake]


# --- introspection with LemonLDAP::NG (opaque tokens) -------------------------------------

def llng_token(op, user, pw, public=False):
    verifier, challenge = pkce_pair()
    b = Browser()
    kw = {"client_id": op.public_client_id, "redirect_uri": op.public_redirect_uris[0]} \
        if public else {}
    cb = login(b, op.authorize_url(code_challenge=challenge, **kw), user, pw)
    tok = op.exchange_code(query_params(cb)["code"], code_verifier=verifier,
                           auth="none" if public else "client_secret_basic", **kw)
    assert tok["status"] == 200, tok
    return b, tok


def test_llng_introspection_accepts_an_opaque_token():
    g = LLNG()
    _, tok = llng_token(g.op, "alice", "alice-pw")
    at = tok["access_token"]
    assert "." not in at, "LLNG issues opaque access tokens here"
    r = me(g, at)
    assert r.status == 200, r
    j = r.json()
    # LLNG's introspection answer has no groups: they come from userinfo, called with the token
    assert j["user"] == "alice" and j["role"] == "team_lead", j
    assert j["auth_method"] == "bearer_introspection" and "eng-leads" in j["groups"], j
    assert j["email"] == "alice@company.com", j
    assert api(g, "GET", "/api/v1/agents", token=at).status == 200
    # the browser login still works next to it
    b = tls_browser(g.ctx)
    r = b.get(g.base + "/api/v1/auth/login")
    assert r.status == 302 and r.location.startswith(g.op.authorization_endpoint), r.status
    secrets_stay_out(g, at, g.op.client_secret)


def test_llng_introspection_refuses_what_is_not_ours_or_not_active():
    g = LLNG()
    op = g.op
    r = me(g, secrets.token_hex(32))
    assert r.status == 401 and "not active" in message(r), r
    # active at the IdP, but issued to its other client (the public CLI client)
    _, tok = llng_token(op, "alice", "alice-pw", public=True)
    r = me(g, tok["access_token"])
    assert r.status == 401 and "another client" in message(r), r
    # signed out at the IdP: its tokens are no longer active
    b, tok = llng_token(op, "bob", "bob-pw")
    logout(b, op.end_session_endpoint + "?" + urllib.parse.urlencode(
        {"id_token_hint": tok["id_token"], "post_logout_redirect_uri": op.post_logout_redirect_uris[0],
         "state": "bye"}))
    r = me(g, tok["access_token"])
    assert r.status == 401 and "not active" in message(r), r


if __name__ == "__main__":
    if not HAVE_IDP:
        print("FAIL test_sso_oidc_backchannel: the IdP packages are missing "
              "(run tests/integration/idp/install.sh)")
        sys.exit(1)
    gwtest.main(globals())
