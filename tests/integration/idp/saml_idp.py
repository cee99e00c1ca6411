#!/usr/bin/env python3
"""Local SAML 2.0 identity provider for tests, built on Lasso (python3-lasso).

Two halves in one file:

* the *control* side (stdlib only, runs under any Python 3.9+): `SamlIdp`
  writes keys/metadata/users into a temp dir, spawns the server with the
  Debian interpreter (/usr/bin/python3, the only one that can `import lasso`),
  waits for it, and stops it; `login()` drives its login form.
* the *server* side (`python3 saml_idp.py serve DIR`), a ThreadingHTTPServer on
  127.0.0.1:<port> that is a real Lasso IdP:
    GET  /saml/metadata            IdP metadata (signing cert, SSO + SLO endpoints)
    GET  /saml/sso                 HTTP-Redirect AuthnRequest (POST binding too)
    POST /saml/login               the login form target (user/password)
    GET  /saml/slo                 SP-initiated LogoutRequest (HTTP-Redirect) ->
                                   LogoutResponse redirect back to the SP
    GET  /saml/idp-logout          IdP-initiated single logout for the browser's
                                   IdP session: LogoutRequest redirect to the SP
                                   (?binding=post: an auto-POST page instead)
    POST /control/variant          {"variant": NAME, "count": N} the next N
                                   Responses are deliberately broken (see VARIANTS)
    GET  /control/state            JSON: sessions, last response XML, variant

The Response to the SP is an HTML page with an auto-submitting form (HTTP-POST
binding); login() returns it as (acs_url, {"SAMLResponse":..., "RelayState":...})
so the test posts it to the gateway itself.

Standalone: `python3 saml_idp.py --selftest` (needs /usr/bin/python3 + lasso)
plays the SP with Lasso too and checks the good path, the negative variants and
both kinds of single logout.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from browser import Browser, origin  # noqa: E402

LASSO_PYTHON = os.environ.get("LASSO_PYTHON", "/usr/bin/python3")

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
B_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
B_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
PROTO = "urn:oasis:names:tc:SAML:2.0:protocol"
NAMEID_UNSPEC = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

# Deliberately broken Responses, for the SP's negative tests.
VARIANTS = {
    "good": "normal signed Response + signed Assertion",
    "unsigned": "neither Response nor Assertion signed",
    "unsigned_assertion": "Response signed, Assertion not signed",
    "tampered": "signed, then an attribute value changed (eng-leads -> admins) without re-signing",
    "tampered_nameid": "signed, then the NameID changed to 'admin' without re-signing",
    "foreign_key": "signed by a key that is not in the IdP metadata",
    "wrong_audience": "AudienceRestriction names another SP",
    "wrong_recipient": "SubjectConfirmationData Recipient is another ACS URL",
    "wrong_destination": "Response Destination is another ACS URL",
    "wrong_issuer": "Issuer (Response + Assertion) is another entity id",
    "wrong_in_response_to": "InResponseTo does not match the AuthnRequest ID",
    "expired": "Conditions/SubjectConfirmationData NotOnOrAfter 10 minutes in the past",
    "not_yet_valid": "Conditions NotBefore 10 minutes in the future",
    "status_failure": "Status is Responder/RequestDenied, no assertion",
    "response_unsigned": "Assertion signed, Response not (valid: many IdPs do this; must be ACCEPTED)",
    "resigned_good": "good Response re-signed by resign() (sanity check of the re-signing path)",
    "unsolicited": "IdP-initiated: no InResponseTo in the Response nor in SubjectConfirmationData",
    # attacker-made: no IdP key involved after the IdP signed the genuine message
    "xsw_second_assertion": "signature wrapping: an unsigned forged Assertion (NameID admin, group "
                            "admins) before the genuine signed one; Response signature dropped",
    "xsw_nested": "signature wrapping: the forged unsigned Assertion carries the genuine signed "
                  "one inside its Advice",
    "comment_nameid": "comment injection: the IdP signs NameID 'alice.evil', the attacker makes it "
                      "'alice<!---->.evil' (the signature still verifies: C14N drops comments)",
    "xxe": "a DOCTYPE with an external entity (file:///etc/hostname) used in an attribute value",
}

DEFAULT_USERS = {
    "alice": {"password": "alice-pw", "email": "alice@company.com", "displayName": "Alice Anderson",
              "groups": ["CN=Developers,OU=Groups,DC=company,DC=com", "eng-leads"],
              "department": "Engineering", "org_unit": "R&D"},
    "bob": {"password": "bob-pw", "email": "bob@company.com", "displayName": "Bob Brown",
            "groups": ["marketing"], "department": "Marketing", "org_unit": "Sales & Marketing"},
    "carol": {"password": "carol-pw", "email": "carol@company.com", "displayName": "Carol Nogroup",
              "groups": [], "department": "Finance", "org_unit": "Finance"},
}


# --------------------------------------------------------------------------
# helpers shared by both halves (stdlib only)
# --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gen_key_cert(cn: str, days: int = 30) -> tuple[str, str]:
    """(private key PEM, self-signed certificate PEM) via the openssl CLI."""
    d = tempfile.mkdtemp(prefix="samlkey-")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                        "-days", str(days), "-subj", f"/CN={cn}", "-keyout", f"{d}/k.pem",
                        "-out", f"{d}/c.pem"], check=True, capture_output=True)
        return open(f"{d}/k.pem").read(), open(f"{d}/c.pem").read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _cert_b64(cert_pem: str) -> str:
    return "".join(l for l in cert_pem.strip().splitlines() if "-----" not in l)


def _key_descriptor(cert_pem: Optional[str], use: str = "signing") -> str:
    if not cert_pem:
        return ""
    return (f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f'{_cert_b64(cert_pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')


def idp_metadata(entity_id: str, base_url: str, cert_pem: str, want_requests_signed: bool = False) -> str:
    q = html.escape
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="{NS_MD}" xmlns:ds="{NS_DS}" entityID="{q(entity_id)}">
 <md:IDPSSODescriptor WantAuthnRequestsSigned="{str(want_requests_signed).lower()}" protocolSupportEnumeration="{PROTO}">
  {_key_descriptor(cert_pem)}
  <md:SingleLogoutService Binding="{B_REDIRECT}" Location="{q(base_url)}/saml/slo"/>
  <md:NameIDFormat>{NAMEID_UNSPEC}</md:NameIDFormat>
  <md:NameIDFormat>{NAMEID_EMAIL}</md:NameIDFormat>
  <md:NameIDFormat>{NAMEID_TRANSIENT}</md:NameIDFormat>
  <md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat>
  <md:SingleSignOnService Binding="{B_REDIRECT}" Location="{q(base_url)}/saml/sso"/>
  <md:SingleSignOnService Binding="{B_POST}" Location="{q(base_url)}/saml/sso"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def sp_metadata(entity_id: str, acs_url: str, slo_url: Optional[str] = None,
                cert_pem: Optional[str] = None, requests_signed: bool = False) -> str:
    """Minimal SP metadata, for when the SP under test does not serve its own."""
    q = html.escape
    slo = f'<md:SingleLogoutService Binding="{B_REDIRECT}" Location="{q(slo_url)}"/>' if slo_url else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="{NS_MD}" xmlns:ds="{NS_DS}" entityID="{q(entity_id)}">
 <md:SPSSODescriptor AuthnRequestsSigned="{str(requests_signed).lower()}" WantAssertionsSigned="true" protocolSupportEnumeration="{PROTO}">
  {_key_descriptor(cert_pem)}
  {slo}
  <md:AssertionConsumerService index="0" isDefault="true" Binding="{B_POST}" Location="{q(acs_url)}"/>
 </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


# --------------------------------------------------------------------------
# control side
# --------------------------------------------------------------------------

class SamlIdp:
    """Start/stop the Lasso IdP server.  sp_metadata_xml: one or more SP
    metadata documents (the gateway's /saml/metadata output, or sp_metadata())."""

    def __init__(self, sp_metadata_xml: list[str] | str, port: Optional[int] = None,
                 users: Optional[dict] = None, entity_id: Optional[str] = None,
                 nameid_format: str = NAMEID_UNSPEC, assertion_ttl: int = 300,
                 workdir: Optional[str] = None):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.entity_id = entity_id or self.base_url + "/saml/metadata"
        self.sp_metadata_xml = [sp_metadata_xml] if isinstance(sp_metadata_xml, str) else list(sp_metadata_xml)
        self.users = users or DEFAULT_USERS
        self.nameid_format = nameid_format
        self.assertion_ttl = assertion_ttl
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="saml-idp-")
        self.proc: Optional[subprocess.Popen] = None
        self.startup_seconds: Optional[float] = None
        self.key_pem = self.cert_pem = None

    @property
    def metadata_url(self):
        return self.base_url + "/saml/metadata"

    @property
    def sso_url(self):
        return self.base_url + "/saml/sso"

    @property
    def slo_url(self):
        return self.base_url + "/saml/slo"

    @property
    def metadata_xml(self) -> str:
        with open(os.path.join(self.dir, "idp-metadata.xml")) as f:
            return f.read()

    def start(self, timeout: float = 20.0) -> "SamlIdp":
        self.key_pem, self.cert_pem = gen_key_cert("openclaw-test-idp")
        other_key, other_cert = gen_key_cert("evil-idp")
        files = {"idp-key.pem": self.key_pem, "idp-cert.pem": self.cert_pem,
                 "foreign-key.pem": other_key, "foreign-cert.pem": other_cert,
                 "idp-metadata.xml": idp_metadata(self.entity_id, self.base_url, self.cert_pem)}
        for i, x in enumerate(self.sp_metadata_xml):
            files[f"sp-{i}.xml"] = x
        for name, content in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(content)
        cfg = {"port": self.port, "base_url": self.base_url, "entity_id": self.entity_id,
               "sp_files": [f"sp-{i}.xml" for i in range(len(self.sp_metadata_xml))],
               "users": self.users, "nameid_format": self.nameid_format,
               "assertion_ttl": self.assertion_ttl}
        with open(os.path.join(self.dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        self.log_path = os.path.join(self.dir, "idp.log")
        log = open(self.log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([LASSO_PYTHON, os.path.abspath(__file__), "serve", self.dir],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        last = None
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"SAML IdP exited {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as r:
                    if r.status == 200:
                        self.startup_seconds = time.monotonic() - t0
                        return self
            except Exception as e:  # noqa: BLE001
                last = e
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"SAML IdP not up: {last}\n{self.log()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def log(self) -> str:
        try:
            return open(self.log_path, errors="replace").read()[-6000:]
        except OSError:
            return ""

    def _json(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def set_variant(self, variant: str, count: int = 1):
        """The next `count` Responses are built broken in the named way (VARIANTS)."""
        if variant not in VARIANTS:
            raise ValueError(variant)
        return self._json("/control/variant", {"variant": variant, "count": count})

    def state(self) -> dict:
        return self._json("/control/state")

    def settings(self) -> dict:
        return {"entity_id": self.entity_id, "metadata_url": self.metadata_url, "sso_url": self.sso_url,
                "slo_url": self.slo_url, "port": self.port, "workdir": self.dir,
                "users": {u: v["password"] for u, v in self.users.items()},
                "startup_seconds": self.startup_seconds}


def _auto_post(r) -> Optional[tuple[str, dict]]:
    for f in r.forms():
        v = f.values()
        if f.method == "post" and ("SAMLResponse" in v or "SAMLRequest" in v):
            return f.action, v
    return None


def login(session: Browser, sso_request_url: str, username: str, password: str) -> tuple[str, dict]:
    """Follow the SP's redirect to the IdP (an HTTP-Redirect AuthnRequest URL),
    submit the login form, and return the HTTP-POST binding payload the IdP
    hands the browser: (acs_url, {"SAMLResponse": ..., "RelayState": ...}).
    If the IdP session is still valid no form is shown (SSO)."""
    idp = origin(sso_request_url)
    r = session.follow(sso_request_url, stop=lambda u: origin(u) != idp)
    for _ in range(3):
        post = _auto_post(r)
        if post:
            return post
        pw = [f for f in r.forms() if f.has_password]
        if not pw:
            break
        f = pw[0]
        v = f.values()
        v.update(username=username, password=password)
        r2 = session.follow(f.action, method="POST", data=v, stop=lambda u: origin(u) != idp)
        if r2.status == 401:
            raise RuntimeError("login rejected by IdP: bad credentials")
        r = r2
    raise RuntimeError(f"SAML IdP did not produce a Response ({r.status} {r.url}): {r.text[:400]}")


def idp_logout(session: Browser, idp: SamlIdp) -> str:
    """IdP-initiated SLO: returns the SP's SLO URL carrying the LogoutRequest."""
    r = session.get(idp.base_url + "/saml/idp-logout")
    if r.status not in (302, 303) or not r.location:
        raise RuntimeError(f"no IdP-initiated logout: {r.status} {r.text[:300]}")
    return r.location


def idp_logout_post(session: Browser, idp: SamlIdp) -> tuple[str, dict]:
    """IdP-initiated SLO with the HTTP-POST binding: (the SP's SLO URL, {"SAMLRequest", ...})
    from the auto-POST page."""
    r = session.get(idp.base_url + "/saml/idp-logout?binding=post")
    post = _auto_post(r) if r.status == 200 else None
    if not post:
        raise RuntimeError(f"no IdP-initiated POST logout: {r.status} {r.text[:300]}")
    return post


# --------------------------------------------------------------------------
# server side (needs lasso)
# --------------------------------------------------------------------------

def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


LOGIN_PAGE = """<!DOCTYPE html><html><head><title>Test IdP login</title></head><body>
<h1>OpenClaw test IdP</h1>{error}
<form method="post" action="/saml/login">
<input type="hidden" name="ticket" value="{ticket}">
<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form></body></html>"""

POST_PAGE = """<!DOCTYPE html><html><head><title>Continue</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{action}">
<input type="hidden" name="{field}" value="{value}">
{relay}<noscript><button type="submit">Continue</button></noscript>
</form></body></html>"""


def resign(xml: str, key_pem_path: str, cert_pem_path: str, mutate=None,
           sign_assertion: bool = True, sign_response: bool = True) -> str:
    """Re-sign a Lasso-built Response after changing it (python3-xmlsec + lxml).

    Lasso always signs the Assertion and always overwrites Destination and
    Recipient, so variants that need a *validly signed* but wrong message
    (wrong recipient/destination, response signed but assertion not, ...) are
    made by editing the XML and signing it again with the IdP key."""
    import xmlsec
    from lxml import etree
    ns = {"ds": NS_DS, "saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": PROTO}
    root = etree.fromstring(xml.encode())
    if mutate:
        mutate(root, ns)
    key = xmlsec.Key.from_file(key_pem_path, xmlsec.KeyFormat.PEM)
    key.load_cert_from_file(cert_pem_path, xmlsec.KeyFormat.PEM)
    xmlsec.tree.add_ids(root, ["ID"])

    def redo(parent, want):
        sig = parent.find("ds:Signature", ns)
        if sig is None:
            return
        if not want:
            parent.remove(sig)
            return
        for el in sig.iterfind(".//ds:DigestValue", ns):
            el.text = ""
        sig.find("ds:SignatureValue", ns).text = ""
        ctx = xmlsec.SignatureContext()
        ctx.key = key
        ctx.sign(sig)

    for a in root.iterfind("saml:Assertion", ns):  # inner signature first
        redo(a, sign_assertion)
    redo(root, sign_response)
    return etree.tostring(root, encoding="unicode")


def forge(xml: str, variant: str, key_pem_path: str, cert_pem_path: str) -> str:
    """The attacker-made variants, from a genuine (signed) Response."""
    import copy
    from lxml import etree
    ns = {"ds": NS_DS, "saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": PROTO}
    if variant == "comment_nameid":
        def rename(root, ns):
            for el in root.iterfind(".//saml:Subject/saml:NameID", ns):
                el.text = "alice.evil"
        signed = resign(xml, key_pem_path, cert_pem_path, rename)
        return signed.replace(">alice.evil<", ">alice<!---->.evil<")
    if variant == "xxe":
        body = xml[xml.index("<samlp:Response"):] if "<samlp:Response" in xml else xml
        body = body.replace(">eng-leads<", ">&xxe;<", 1)
        return ('<?xml version="1.0"?>\n<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM '
                '"file:///etc/hostname">]>\n' + body)
    root = etree.fromstring(xml.encode())
    genuine = root.find("saml:Assertion", ns)
    evil = copy.deepcopy(genuine)
    evil.set("ID", "_evil" + secrets.token_hex(16))
    sig = evil.find("ds:Signature", ns)
    if sig is not None:
        evil.remove(sig)
    for el in evil.iterfind(".//saml:Subject/saml:NameID", ns):
        el.text = "admin"
    for el in evil.iterfind(".//saml:AttributeValue", ns):
        if el.text in ("eng-leads", "marketing"):
            el.text = "admins"
    rsig = root.find("ds:Signature", ns)
    if rsig is not None:
        root.remove(rsig)
    if variant == "xsw_second_assertion":
        genuine.addprevious(evil)
    elif variant == "xsw_nested":
        root.replace(genuine, evil)
        advice = etree.Element("{%s}Advice" % ns["saml"])
        evil.find("saml:Conditions", ns).addnext(advice)
        advice.append(genuine)
    else:
        raise ValueError(variant)
    return etree.tostring(root, encoding="unicode")


def serve(workdir: str):  # pragma: no cover - runs in the subprocess
    import http.server
    import re
    import threading
    import lasso

    cfg = json.load(open(os.path.join(workdir, "config.json")))
    P = lambda n: os.path.join(workdir, n)  # noqa: E731
    lock = threading.Lock()

    def new_server(key="idp-key.pem", cert="idp-cert.pem", metadata="idp-metadata.xml"):
        s = lasso.Server(P(metadata), P(key), None, P(cert))
        s.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
        for sp in cfg["sp_files"]:
            s.addProvider(lasso.PROVIDER_ROLE_SP, P(sp))
        return s

    state = {"sessions": {}, "pending": {}, "variant": None, "variant_count": 0,
             "last_response_xml": None, "log": []}

    def take_variant() -> str:
        with lock:
            if state["variant"] and state["variant_count"] > 0:
                state["variant_count"] -= 1
                v = state["variant"]
                if state["variant_count"] == 0:
                    state["variant"] = None
                return v
        return "good"

    def text_value(s):
        v = lasso.Saml2AttributeValue()
        t = lasso.MiscTextNode.newWithString(s)
        t.textChild = True
        v.any = [t]
        return v

    def attribute(name, values):
        a = lasso.Saml2Attribute()
        a.name = name
        a.nameFormat = lasso.SAML2_ATTRIBUTE_NAME_FORMAT_BASIC
        a.attributeValue = [text_value(x) for x in values]
        return a

    def build_response(msg: str, user: str, sess: dict) -> tuple[str, str, str, str]:
        """Returns (acs_url, SAMLResponse b64, RelayState, variant)."""
        variant = take_variant()
        server = new_server("foreign-key.pem", "foreign-cert.pem") if variant == "foreign_key" else new_server()
        login = lasso.Login(server)
        if sess.get("session_dump"):
            login.setSessionFromDump(sess["session_dump"])
        if sess.get("identity_dump"):
            login.setIdentityFromDump(sess["identity_dump"])
        login.processAuthnRequestMsg(msg)
        if variant == "status_failure":
            try:
                login.validateRequestMsg(False, False)  # sets Status RequestDenied, then raises
            except lasso.Error:
                pass
            login.buildAuthnResponseMsg()
            return login.msgUrl, login.msgBody, login.msgRelayState or "", variant
        login.validateRequestMsg(True, True)
        now = time.time()
        ttl = cfg["assertion_ttl"]
        nb, noa = now - 30, now + ttl
        if variant == "expired":
            nb, noa = now - 1200, now - 600
        elif variant == "not_yet_valid":
            nb, noa = now + 600, now + 600 + ttl
        login.buildAssertion(lasso.SAML2_AUTHN_CONTEXT_PASSWORD_PROTECTED_TRANSPORT, _iso(now), None,
                             _iso(nb), _iso(noa))
        a = login.assertion
        u = cfg["users"][user]
        req_fmt = None
        try:
            req_fmt = login.request.nameIdPolicy.format
        except AttributeError:
            pass
        fmt = req_fmt if req_fmt in (NAMEID_UNSPEC, NAMEID_EMAIL) else cfg["nameid_format"]
        if fmt in (NAMEID_UNSPEC, NAMEID_EMAIL):
            a.subject.nameID.format = fmt
            a.subject.nameID.content = u["email"] if fmt == NAMEID_EMAIL else user
        scd = a.subject.subjectConfirmation.subjectConfirmationData
        if variant == "expired":
            scd.notOnOrAfter = _iso(noa)
        if variant == "wrong_audience":
            a.conditions.audienceRestriction[0].audience = "urn:example:another-sp"
        st = lasso.Saml2AttributeStatement()
        st.attribute = [
            attribute("uid", [user]), attribute("email", [u["email"]]),
            attribute("displayName", [u["displayName"]]), attribute("groups", u["groups"]),
            attribute("department", [u["department"]]), attribute("org_unit", [u["org_unit"]]),
        ] + [attribute(k, v if isinstance(v, list) else [str(v)]) for k, v in u.items()
             if k not in ("password", "email", "displayName", "groups", "department", "org_unit")]
        st.attribute = [x for x in st.attribute if x.attributeValue]
        a.attributeStatement = [st]
        if variant == "wrong_issuer":
            a.issuer.content = "http://127.0.0.1:9/evil-idp"
            login.response.issuer.content = "http://127.0.0.1:9/evil-idp"
        if variant == "wrong_in_response_to":
            login.response.inResponseTo = "_" + secrets.token_hex(16)
            scd.inResponseTo = login.response.inResponseTo
        login.buildAuthnResponseMsg()
        body = login.msgBody
        xml = base64.b64decode(body).decode()
        evil_acs = "http://127.0.0.1:9/evil/acs"

        def set_recipient(root, ns):
            for el in root.iterfind(".//saml:SubjectConfirmationData", ns):
                el.set("Recipient", evil_acs)

        def set_destination(root, ns):
            root.set("Destination", evil_acs)

        def drop_in_response_to(root, ns):
            root.attrib.pop("InResponseTo", None)
            for el in root.iterfind(".//saml:SubjectConfirmationData", ns):
                el.attrib.pop("InResponseTo", None)

        K, C = P("idp-key.pem"), P("idp-cert.pem")
        if variant == "unsigned":
            xml = resign(xml, K, C, sign_assertion=False, sign_response=False)
        elif variant == "unsigned_assertion":
            xml = resign(xml, K, C, sign_assertion=False, sign_response=True)
        elif variant == "wrong_recipient":
            xml = resign(xml, K, C, set_recipient)
        elif variant == "wrong_destination":
            xml = resign(xml, K, C, set_destination)
        elif variant == "response_unsigned":
            xml = resign(xml, K, C, sign_assertion=True, sign_response=False)
        elif variant == "resigned_good":
            xml = resign(xml, K, C)
        elif variant == "unsolicited":
            xml = resign(xml, K, C, drop_in_response_to)
        elif variant == "tampered":
            xml2 = xml.replace(">eng-leads<", ">admins<").replace(">marketing<", ">admins<")
            assert xml2 != xml, "nothing to tamper with (user has no eng-leads/marketing group)"
            xml = xml2
        elif variant == "tampered_nameid":
            nid = a.subject.nameID.content
            xml = re.sub(r"(<saml:NameID[^>]*>)" + re.escape(nid) + "<", r"\1admin<", xml)
        elif variant in ("xsw_second_assertion", "xsw_nested", "comment_nameid", "xxe"):
            xml = forge(xml, variant, K, C)
        if xml != base64.b64decode(body).decode():
            body = base64.b64encode(xml.encode()).decode()
        with lock:
            if login.isSessionDirty:
                sess["session_dump"] = login.session.dump()
            if login.isIdentityDirty:
                sess["identity_dump"] = login.identity.dump()
            state["last_response_xml"] = xml
            state["log"].append({"t": now, "user": user, "variant": variant, "sp": login.remoteProviderId})
        return login.msgUrl, body, login.msgRelayState or "", variant

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "openclaw-test-saml-idp"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def _send(self, code, body=b"", ctype="text/html; charset=utf-8", headers=None):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, url, headers=None):
            self._send(302, "", headers=dict(headers or {}, Location=url))

        def _cookie_session(self):
            c = self.headers.get("Cookie", "")
            m = re.search(r"(?:^|;\s*)samlidp=([A-Za-z0-9_-]+)", c)
            return (m.group(1), state["sessions"].get(m.group(1))) if m else (None, None)

        def _form(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(raw or "{}")
            return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

        def _post_page(self, acs, field, value, relay, headers=None):
            r = (f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">' if relay else "")
            self._send(200, POST_PAGE.format(action=html.escape(acs), field=field,
                                             value=html.escape(value), relay=r), headers=headers)

        def _answer_sso(self, msg, user, sid, sess, headers=None):
            try:
                acs, body, relay, _ = build_response(msg, user, sess)
            except lasso.Error as e:
                return self._send(400, f"SAML error: {e}", "text/plain")
            self._post_page(acs, "SAMLResponse", body, relay, headers)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/saml/metadata":
                return self._send(200, open(P("idp-metadata.xml"), "rb").read(), "application/samlmetadata+xml")
            if url.path == "/control/state":
                with lock:
                    s = {"variant": state["variant"], "variant_count": state["variant_count"],
                         "sessions": {k: v["user"] for k, v in state["sessions"].items()},
                         "last_response_xml": state["last_response_xml"], "log": state["log"][-20:]}
                return self._send(200, json.dumps(s), "application/json")
            if url.path == "/saml/sso":
                return self._sso(url.query)
            if url.path == "/saml/slo":
                return self._slo(url.query)
            if url.path == "/saml/idp-logout":
                return self._idp_logout(urllib.parse.parse_qs(url.query).get("binding") == ["post"])
            self._send(404, "not found", "text/plain")

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            f = self._form()
            if url.path == "/control/variant":
                with lock:
                    state["variant"] = f.get("variant")
                    state["variant_count"] = int(f.get("count", 1))
                return self._send(200, json.dumps({"ok": True}), "application/json")
            if url.path == "/saml/sso" and "SAMLRequest" in f:
                return self._sso(None, post_msg=f["SAMLRequest"], relay=f.get("RelayState"))
            if url.path == "/saml/login":
                return self._login(f)
            if url.path == "/saml/slo":  # LogoutResponse from the SP after IdP-initiated SLO (POST)
                return self._slo_response(f.get("SAMLResponse", ""))
            self._send(404, "not found", "text/plain")

        def _sso(self, query, post_msg=None, relay=None):
            # For the redirect binding Lasso wants the raw query string (it
            # checks the detached signature over it); for POST the b64 message.
            msg = query if post_msg is None else post_msg
            try:
                probe = lasso.Login(new_server())
                probe.processAuthnRequestMsg(msg)
            except lasso.Error as e:
                return self._send(400, f"invalid AuthnRequest: {e}", "text/plain")
            if post_msg is not None and relay:
                msg = post_msg  # RelayState travels separately with POST; keep it
            sid, sess = self._cookie_session()
            force = bool(getattr(probe.request, "forceAuthn", False))
            if sess and not force:
                return self._answer_sso(msg, sess["user"], sid, sess)
            ticket = secrets.token_urlsafe(16)
            with lock:
                state["pending"][ticket] = {"msg": msg, "relay": relay, "t": time.time()}
            self._send(200, LOGIN_PAGE.format(error="", ticket=ticket))

        def _login(self, f):
            with lock:
                pend = state["pending"].get(f.get("ticket", ""))
            if not pend:
                return self._send(400, "unknown or expired login ticket", "text/plain")
            user, pw = f.get("username", ""), f.get("password", "")
            u = cfg["users"].get(user)
            if not u or not secrets.compare_digest(u["password"], pw):
                return self._send(401, LOGIN_PAGE.format(
                    error='<p class="error">Invalid username or password</p>', ticket=f["ticket"]))
            with lock:
                state["pending"].pop(f["ticket"], None)
                sid = secrets.token_urlsafe(24)
                sess = {"user": user, "session_dump": None, "identity_dump": None}
                state["sessions"][sid] = sess
            cookie = f"samlidp={sid}; Path=/; HttpOnly; SameSite=Lax"
            msg = pend["msg"]
            if pend.get("relay"):
                # POST binding: lasso needs the RelayState set on the profile
                pass
            return self._answer_sso(msg, user, sid, sess, headers={"Set-Cookie": cookie})

        def _slo(self, query):
            """SP-initiated LogoutRequest (HTTP-Redirect)."""
            params = urllib.parse.parse_qs(query)
            if "SAMLResponse" in params:  # LogoutResponse after IdP-initiated SLO
                return self._slo_response(query)
            logout = lasso.Logout(new_server())
            sid, sess = self._cookie_session()
            try:
                logout.processRequestMsg(query)
            except lasso.Error as e:
                return self._send(400, f"invalid LogoutRequest: {e}", "text/plain")
            # Find the IdP session holding this NameID (the SP may call without our cookie).
            nid = logout.request.nameId.content if logout.request and logout.request.nameId else None
            if not sess:
                with lock:
                    for k, v in state["sessions"].items():
                        if v.get("session_dump") and nid and nid in v["session_dump"]:
                            sid, sess = k, v
                            break
            if sess and sess.get("session_dump"):
                logout.setSessionFromDump(sess["session_dump"])
            try:
                logout.validateRequest()
            except lasso.Error as e:
                sys.stderr.write(f"validateRequest: {e}\n")
            with lock:
                if sid:
                    state["sessions"].pop(sid, None)
                state["log"].append({"t": time.time(), "slo": "sp-initiated", "nameid": nid})
            logout.buildResponseMsg()
            self._redirect(logout.msgUrl, {"Set-Cookie": "samlidp=; Path=/; Max-Age=0"})

        def _idp_logout(self, post=False):
            sid, sess = self._cookie_session()
            if not sess or not sess.get("session_dump"):
                return self._send(400, "no IdP session", "text/plain")
            logout = lasso.Logout(new_server())
            logout.setSessionFromDump(sess["session_dump"])
            sp = logout.getNextProviderId()
            logout.initRequest(sp, lasso.HTTP_METHOD_POST if post else lasso.HTTP_METHOD_REDIRECT)
            logout.buildRequestMsg()
            with lock:
                sess["logout_dump"] = logout.dump()
                state["log"].append({"t": time.time(), "slo": "idp-initiated", "sp": sp})
            if post:
                return self._post_page(logout.msgUrl, "SAMLRequest", logout.msgBody, "")
            self._redirect(logout.msgUrl)

        def _slo_response(self, msg):
            sid, sess = self._cookie_session()
            ok = False
            if sess and sess.get("logout_dump"):
                logout = lasso.Logout.newFromDump(new_server(), sess["logout_dump"])
                try:
                    logout.processResponseMsg(msg)
                    ok = True
                except lasso.Error as e:
                    sys.stderr.write(f"processResponseMsg: {e}\n")
            with lock:
                if sid:
                    state["sessions"].pop(sid, None)
                state["log"].append({"t": time.time(), "slo": "response", "ok": ok})
            self._send(200 if ok else 400, "<p>Logged out</p>" if ok else "<p>Logout failed</p>",
                       headers={"Set-Cookie": "samlidp=; Path=/; Max-Age=0"})

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", cfg["port"]), H)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=httpd.shutdown).start())
    sys.stderr.write(f"SAML IdP {cfg['entity_id']} on {cfg['base_url']}\n")
    sys.stderr.flush()
    httpd.serve_forever()


# --------------------------------------------------------------------------
# self test: Lasso as the SP (reference behaviour for the gateway's own SP)
# --------------------------------------------------------------------------

def selftest() -> dict:  # pragma: no cover
    import re
    import lasso
    out = {}
    d = tempfile.mkdtemp(prefix="saml-sp-")
    sp_port = free_port()
    sp_base = f"http://127.0.0.1:{sp_port}"
    sp_entity = sp_base + "/api/v1/auth/saml/metadata"
    acs = sp_base + "/api/v1/auth/saml/acs"
    slo = sp_base + "/api/v1/auth/saml/slo"
    sp_key, sp_cert = gen_key_cert("openclaw-sp")
    spmd = sp_metadata(sp_entity, acs, slo, sp_cert, requests_signed=True)
    for n, c in (("sp-key.pem", sp_key), ("sp-cert.pem", sp_cert), ("sp.xml", spmd)):
        open(os.path.join(d, n), "w").write(c)
    with SamlIdp(spmd) as idp:
        out["idp"] = idp.settings()
        open(os.path.join(d, "idp.xml"), "w").write(idp.metadata_xml)

        def sp_server():
            s = lasso.Server(os.path.join(d, "sp.xml"), os.path.join(d, "sp-key.pem"), None,
                             os.path.join(d, "sp-cert.pem"))
            s.addProvider(lasso.PROVIDER_ROLE_IDP, os.path.join(d, "idp.xml"))
            return s

        def authn_request_url(relay="/dashboard", force=False):
            lg = lasso.Login(sp_server())
            lg.initAuthnRequest(idp.entity_id, lasso.HTTP_METHOD_REDIRECT)
            lg.request.nameIdPolicy.format = NAMEID_UNSPEC
            lg.request.nameIdPolicy.allowCreate = True
            lg.request.protocolBinding = lasso.SAML2_METADATA_BINDING_POST
            lg.request.forceAuthn = force
            lg.msgRelayState = relay
            lg.buildAuthnRequestMsg()
            return lg.msgUrl, lg.request.iD

        def sp_consume(saml_response, expect_id):
            lg = lasso.Login(sp_server())
            lg.processAuthnResponseMsg(saml_response)  # verifies signature(s), status
            a = lg.response.assertion[0]
            if lg.response.inResponseTo != expect_id:
                raise ValueError("InResponseTo mismatch")
            lg.acceptSso()
            attrs = {}
            for st in a.attributeStatement:
                for at in st.attribute:
                    attrs[at.name] = [v.any[0].content for v in at.attributeValue]
            return {"nameid": a.subject.nameID.content, "attrs": attrs,
                    "audience": a.conditions.audienceRestriction[0].audience,
                    "recipient": a.subject.subjectConfirmation.subjectConfirmationData.recipient,
                    "not_on_or_after": a.conditions.notOnOrAfter, "not_before": a.conditions.notBefore,
                    "issuer": a.issuer.content, "destination": lg.response.destination,
                    "session_dump": lg.session.dump()}

        b = Browser()
        url, rid = authn_request_url()
        t0 = time.monotonic()
        acs_url, fields = login(b, url, "alice", "alice-pw")
        res = sp_consume(fields["SAMLResponse"], rid)
        out["good"] = {"seconds": round(time.monotonic() - t0, 3), "acs_url": acs_url,
                       "relay_state": fields.get("RelayState"),
                       **{k: v for k, v in res.items() if k != "session_dump"}}
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        out["good"]["signatures_in_response"] = len(re.findall(r"<(?:ds:)?Signature[ >]", xml))
        # SSO: second AuthnRequest from the same browser, no form
        url, rid = authn_request_url()
        acs_url, fields = login(b, url, "alice", "WRONG-but-unused")
        out["sso_second_login_nameid"] = sp_consume(fields["SAMLResponse"], rid)["nameid"]
        # wrong password
        try:
            login(Browser(), authn_request_url()[0], "alice", "nope")
            out["wrong_password"] = "ACCEPTED?!"
        except RuntimeError as e:
            out["wrong_password"] = str(e)
        # SP-initiated SLO with the session from a fresh login
        b2 = Browser()
        url, rid = authn_request_url()
        _, fields = login(b2, url, "bob", "bob-pw")
        res = sp_consume(fields["SAMLResponse"], rid)
        lo = lasso.Logout(sp_server())
        lo.setSessionFromDump(res["session_dump"])
        lo.initRequest(idp.entity_id, lasso.HTTP_METHOD_REDIRECT)
        lo.buildRequestMsg()
        r = b2.get(lo.msgUrl)
        lo2 = lasso.Logout(sp_server())
        lo2.setSessionFromDump(res["session_dump"])
        # a fresh profile cannot check InResponseTo; the gateway keeps its request id
        try:
            lo.processResponseMsg(urllib.parse.urlsplit(r.location).query)
            out["sp_initiated_slo"] = {"status": r.status, "to": r.location.split("?")[0], "ok": True}
        except lasso.Error as e:
            out["sp_initiated_slo"] = {"status": r.status, "error": str(e)}
        out["sp_initiated_slo"]["idp_sessions_after"] = list(idp.state()["sessions"].values())
        # IdP-initiated SLO
        b3 = Browser()
        url, rid = authn_request_url()
        _, fields = login(b3, url, "alice", "alice-pw")
        res = sp_consume(fields["SAMLResponse"], rid)
        sp_slo_url = idp_logout(b3, idp)
        lo = lasso.Logout(sp_server())
        lo.setSessionFromDump(res["session_dump"])
        lo.processRequestMsg(urllib.parse.urlsplit(sp_slo_url).query)
        lo.validateRequest()
        lo.buildResponseMsg()
        r = b3.get(lo.msgUrl)
        out["idp_initiated_slo"] = {"sp_slo": sp_slo_url.split("?")[0], "nameid": lo.request.nameId.content,
                                    "idp_status": r.status}
        # negative variants: what a correct SP (here Lasso) makes of them
        neg = {}
        for variant in VARIANTS:
            if variant == "good":
                continue
            idp.set_variant(variant)
            url, rid = authn_request_url()
            try:
                _, fields = login(Browser(), url, "alice", "alice-pw")
            except RuntimeError as e:
                neg[variant] = "IdP: " + str(e)[:100]
                continue
            try:
                res = sp_consume(fields["SAMLResponse"], rid)
                # Lasso does not enforce audience / recipient / time windows: the SP must.
                problems = []
                now = _iso(time.time())
                if res["audience"] != sp_entity:
                    problems.append("audience")
                if res["recipient"] != acs:
                    problems.append("recipient")
                if res["destination"] and res["destination"] != acs:
                    problems.append("destination")
                if res["issuer"] != idp.entity_id:
                    problems.append("issuer")
                if res["not_on_or_after"] and res["not_on_or_after"] <= now:
                    problems.append("expired")
                if res["not_before"] and res["not_before"] > now:
                    problems.append("not-yet-valid")
                neg[variant] = ("accepted by lasso; app-level checks reject: " + ",".join(problems)
                                if problems else "ACCEPTED (lasso + app checks)")
            except (lasso.Error, ValueError) as e:
                neg[variant] = f"rejected by lasso: {type(e).__name__}: {e}"
        out["negative"] = neg
        # replay: the same Response twice must be refused by the SP's own ID cache
        url, rid = authn_request_url()
        _, fields = login(Browser(), url, "alice", "alice-pw")
        sp_consume(fields["SAMLResponse"], rid)
        sp_consume(fields["SAMLResponse"], rid)
        out["replay"] = "lasso accepts the same Response twice: the SP must remember assertion IDs"
    shutil.rmtree(d, ignore_errors=True)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(argv[1])
        return 0
    if argv[:1] == ["--selftest"]:
        print(json.dumps(selftest(), indent=2, default=str))
        return 0
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--sp-metadata", help="file with the SP's metadata XML")
    ap.add_argument("--sp-entity-id")
    ap.add_argument("--acs-url")
    ap.add_argument("--slo-url")
    a = ap.parse_args(argv)
    if a.sp_metadata:
        md = open(a.sp_metadata).read()
    elif a.sp_entity_id and a.acs_url:
        md = sp_metadata(a.sp_entity_id, a.acs_url, a.slo_url)
    else:
        ap.error("--sp-metadata or --sp-entity-id + --acs-url")
    idp = SamlIdp(md, port=a.port)
    try:
        idp.start()
        print(json.dumps(idp.settings(), indent=2), flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        idp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
