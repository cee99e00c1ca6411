#!/usr/bin/env python3
"""Local OpenID Connect provider for tests: LemonLDAP::NG (Debian 12 package).

The portal (a PSGI app) runs under `plackup` on 127.0.0.1:<free port> as the
current user, with every file (ini, lmConf-N.json, SQLite user DB, sessions,
caches, signing keys) in a private temporary directory.  Nothing under /etc or
/var is read or written (LLNG_DEFAULTCONFFILE points LLNG at our ini).

Users come from a SQLite table through LLNG's DBI authentication backend, so
any number of users with any attributes can be created before start().  The
"groups" claim is a multi-valued attribute (LLNG separator "; ") released as
a JSON array.

    with OidcProvider(redirect_uris=["http://127.0.0.1:8080/api/v1/auth/callback"]) as op:
        op.issuer, op.client_id, op.client_secret, op.discovery_url
        b = Browser()
        final = login(b, authorize_url, "alice", "alice-pw")   # -> RP callback URL with ?code=

Standalone: `python3 oidc_provider.py [--port N] [--redirect-uri URI]` starts
it and prints the settings as JSON until interrupted; `python3 oidc_provider.py
--selftest` runs the full authorization-code + PKCE flow once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser, origin, query_params  # noqa: E402

PSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi"
TEMPLATES = "/usr/share/lemonldap-ng/portal/templates"
PLACKUP = "/usr/bin/plackup"
SEP = "; "  # LLNG multiValuesSeparator

NULL_CAPTCHA_PM = """package OpenClawTest::NullCaptcha;
use strict;
use Mouse;
extends 'Lemonldap::NG::Portal::Main::Plugin';
sub init          { 1 }
sub init_captcha  { 1 }
sub check_captcha { 1 }
1;
"""


@dataclass
class User:
    uid: str
    password: str
    name: str
    email: str
    groups: list[str] = field(default_factory=list)
    department: str = ""
    org_unit: str = ""
    extra: dict = field(default_factory=dict)  # more columns -> same-named claims


DEFAULT_USERS = [
    User("alice", "alice-pw", "Alice Anderson", "alice@company.com",
         ["CN=Developers,OU=Groups,DC=company,DC=com", "eng-leads"],
         department="Engineering", org_unit="R&D"),
    User("bob", "bob-pw", "Bob Brown", "bob@company.com", ["marketing"],
         department="Marketing", org_unit="Sales & Marketing"),
    User("carol", "carol-pw", "Carol Nogroup", "carol@company.com", [],
         department="Finance", org_unit="Finance"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gen_rsa_key(bits: int = 2048) -> tuple[str, str]:
    """Return (private PEM, public PEM) using the openssl CLI (always present)."""
    priv = subprocess.run(["openssl", "genrsa", "-traditional", str(bits)],
                          check=True, capture_output=True, text=True).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout"], input=priv,
                         check=True, capture_output=True, text=True).stdout
    return priv, pub


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def b64url_json(seg: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def jwt_parts(token: str) -> tuple[dict, dict]:
    """Decode (header, payload) WITHOUT verifying.  For test assertions only."""
    h, p, _ = token.split(".")
    return b64url_json(h), b64url_json(p)


class OidcProvider:
    def __init__(self, port: Optional[int] = None, redirect_uris: Optional[list[str]] = None,
                 users: Optional[list[User]] = None, client_id: str = "openclaw-gateway",
                 client_secret: Optional[str] = None, require_pkce: bool = True,
                 bypass_consent: bool = True, id_token_ttl: int = 3600,
                 post_logout_redirect_uris: Optional[list[str]] = None,
                 public_client_id: Optional[str] = "openclaw-cli",
                 public_redirect_uris: Optional[list[str]] = None,
                 log_level: str = "warn", workdir: Optional[str] = None,
                 access_token_jwt: bool = True):
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uris = redirect_uris or ["http://127.0.0.1:8080/api/v1/auth/callback"]
        self.post_logout_redirect_uris = post_logout_redirect_uris or [
            origin(u) + "/" for u in self.redirect_uris]
        self.users = list(users or DEFAULT_USERS)
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        # Public client (no secret, PKCE mandatory) for `openclaw auth login`
        # loopback redirects.  LLNG 2.16 compares redirect_uri EXACTLY (no
        # RFC 8252 "any loopback port" rule), so the CLI must use this port.
        self.public_client_id = public_client_id
        self.public_redirect_uris = public_redirect_uris or [f"http://127.0.0.1:{free_port()}/callback"]
        self.require_pkce = require_pkce
        self.bypass_consent = bypass_consent
        self.id_token_ttl = id_token_ttl
        self.access_token_jwt = access_token_jwt  # False: opaque access tokens (session ids)
        self.log_level = log_level
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="llng-oidc-")
        self.proc: Optional[subprocess.Popen] = None
        self.cfg_num = 0
        self.keys: list[tuple[str, str, str]] = []  # (kid, priv, pub); last one is active
        self.startup_seconds: Optional[float] = None

    # ---- derived URLs -------------------------------------------------
    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return self.issuer + "/oauth2/authorize"

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "/oauth2/token"

    @property
    def jwks_uri(self) -> str:
        return self.issuer + "/oauth2/jwks"

    @property
    def userinfo_endpoint(self) -> str:
        return self.issuer + "/oauth2/userinfo"

    @property
    def end_session_endpoint(self) -> str:
        return self.issuer + "/oauth2/logout"

    # ---- files --------------------------------------------------------
    def _write_users(self):
        db = os.path.join(self.dir, "users.db")
        extra_cols = sorted({k for u in self.users for k in u.extra})
        with contextlib.closing(sqlite3.connect(db)) as c:
            c.execute("DROP TABLE IF EXISTS users")
            cols = ", ".join(f'"{k}" TEXT' for k in extra_cols)
            c.execute("CREATE TABLE users (uid TEXT PRIMARY KEY, password TEXT, cn TEXT, mail TEXT,"
                      " department TEXT, org_unit TEXT, memberof TEXT" + (", " + cols if cols else "") + ")")
            for u in self.users:
                row = [u.uid, u.password, u.name, u.email, u.department, u.org_unit, SEP.join(u.groups)]
                row += [str(u.extra.get(k, "")) for k in extra_cols]
                c.execute(f"INSERT INTO users VALUES ({','.join('?' * len(row))})", row)
            c.commit()
        return db, extra_cols

    def _write_perl_stub(self):
        # LLNG 2.16 always loads a captcha module at start-up; the stock one
        # needs Image::Magick (libimage-magick-perl, ~40 MB of deps).  Captcha
        # is disabled anyway, so load this no-op plugin instead.
        d = os.path.join(self.dir, "perl", "OpenClawTest")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "NullCaptcha.pm"), "w") as f:
            f.write(NULL_CAPTCHA_PM)

    def _write_ini(self):
        ini = f"""[all]
logLevel = {self.log_level}
logger = Lemonldap::NG::Common::Logger::Std
userLogger = Lemonldap::NG::Common::Logger::Std
checkTime = 1

[configuration]
type = File
dirName = {self.dir}/conf

[portal]
staticPrefix = /static
templateDir = {TEMPLATES}
languages = en
"""
        with open(os.path.join(self.dir, "lemonldap-ng.ini"), "w") as f:
            f.write(ini)

    def _conf(self) -> dict:
        db, extra_cols = os.path.join(self.dir, "users.db"), sorted({k for u in self.users for k in u.extra})
        kid, priv, pub = self.keys[-1]
        d = self.dir

        def storage(sub):
            return {"Directory": f"{d}/{sub}", "LockDirectory": f"{d}/{sub}/lock",
                    "generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"}

        claims = {
            "email": "mail", "name": "cn", "preferred_username": "uid",
            "groups": "memberof;string;always",
            "department": "department", "org_unit": "org_unit",
        }
        for k in extra_cols:
            claims[k] = k
        rps = {
            "gateway": {
                "oidcRPMetaDataOptionsDisplayName": "OpenClaw Gateway",
                "oidcRPMetaDataOptionsClientID": self.client_id,
                "oidcRPMetaDataOptionsClientSecret": self.client_secret,
                "oidcRPMetaDataOptionsPublic": 0,
                "oidcRPMetaDataOptionsRedirectUris": " ".join(self.redirect_uris),
                "oidcRPMetaDataOptionsPostLogoutRedirectUris": " ".join(self.post_logout_redirect_uris),
                "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256",
                "oidcRPMetaDataOptionsAccessTokenSignAlg": "RS256",
                "oidcRPMetaDataOptionsAccessTokenJWT": 1 if self.access_token_jwt else 0,
                "oidcRPMetaDataOptionsIDTokenExpiration": self.id_token_ttl,
                "oidcRPMetaDataOptionsIDTokenForceClaims": 1,
                "oidcRPMetaDataOptionsAccessTokenClaims": 1,
                "oidcRPMetaDataOptionsBypassConsent": 1 if self.bypass_consent else 0,
                "oidcRPMetaDataOptionsRequirePKCE": 1 if self.require_pkce else 0,
                "oidcRPMetaDataOptionsRefreshToken": 1,
                "oidcRPMetaDataOptionsUserIDAttr": "uid",
            },
        }
        exported = {"gateway": dict(claims)}
        # extra columns (e.g. a tenant) are released with the "org" scope
        extra_claims = {"gateway": {"groups": "groups",
                                    "org": " ".join(["department", "org_unit"] + extra_cols)}}
        if self.public_client_id:
            rps["cli"] = dict(rps["gateway"])
            rps["cli"].update({
                "oidcRPMetaDataOptionsDisplayName": "OpenClaw CLI",
                "oidcRPMetaDataOptionsClientID": self.public_client_id,
                "oidcRPMetaDataOptionsClientSecret": "",
                "oidcRPMetaDataOptionsPublic": 1,
                "oidcRPMetaDataOptionsRequirePKCE": 1,
                "oidcRPMetaDataOptionsRedirectUris": " ".join(self.public_redirect_uris),
            })
            exported["cli"] = dict(claims)
            extra_claims["cli"] = extra_claims["gateway"]
        return {
            "cfgNum": self.cfg_num, "cfgAuthor": "openclaw-tests", "cfgDate": int(time.time()),
            "cfgLog": "generated by tests/integration/idp/oidc_provider.py",
            "portal": self.issuer + "/",
            "domain": "127.0.0.1",
            "cookieName": "llngsso", "securedCookie": 0, "httpOnly": 1,
            "globalStorage": "Apache::Session::File", "globalStorageOptions": storage("sessions"),
            "persistentStorage": "Apache::Session::File", "persistentStorageOptions": storage("psessions"),
            "localSessionStorage": "Cache::FileCache",
            "localSessionStorageOptions": {"cache_root": f"{d}/cache", "namespace": "llng-sessions",
                                           "default_expires_in": 600, "directory_umask": "007",
                                           "cache_depth": 3},
            "authentication": "DBI", "userDB": "Same", "passwordDB": "Null", "registerDB": "Null",
            "dbiAuthChain": f"dbi:SQLite:dbname={db}", "dbiAuthUser": "", "dbiAuthPassword": "",
            "dbiAuthTable": "users", "dbiUserTable": "users",
            "dbiAuthLoginCol": "uid", "dbiAuthPasswordCol": "password", "dbiAuthPasswordHash": "",
            "dbiExportedVars": {"uid": "uid", "cn": "cn", "mail": "mail", "department": "department",
                                "org_unit": "org_unit", "memberof": "memberof",
                                **{k: k for k in extra_cols}},
            "exportedVars": {},
            "whatToTrace": "uid",
            "requireToken": 1,
            "loginHistoryEnabled": 0,
            "notification": 0,
            "captcha": "OpenClawTest::NullCaptcha",
            "captcha_login_enabled": 0, "captcha_mail_enabled": 0, "captcha_register_enabled": 0,
            "portalDisplayRegister": 0, "portalDisplayResetPassword": 0,
            "issuerDBOpenIDConnectActivation": 1,
            "issuerDBOpenIDConnectPath": "^/oauth2/",
            "issuerDBOpenIDConnectRule": 1,
            "oidcServiceMetaDataIssuer": self.issuer,
            "oidcServicePrivateKeySig": priv,
            "oidcServicePublicKeySig": pub,
            "oidcServiceKeyIdSig": kid,
            "oidcServiceAllowAuthorizationCodeFlow": 1,
            "oidcServiceAllowImplicitFlow": 0,
            "oidcServiceAllowHybridFlow": 0,
            "oidcServiceIDTokenExpiration": self.id_token_ttl,
            "oidcRPMetaDataOptions": rps,
            "oidcRPMetaDataExportedVars": exported,
            "oidcRPMetaDataOptionsExtraClaims": extra_claims,
            "locationRules": {}, "exportedHeaders": {},
        }

    def _write_conf(self):
        self.cfg_num += 1
        conf_dir = os.path.join(self.dir, "conf")
        os.makedirs(conf_dir, exist_ok=True)
        tmp = os.path.join(conf_dir, f".lmConf-{self.cfg_num}.tmp")
        with open(tmp, "w") as f:
            json.dump(self._conf(), f, indent=1)
        os.replace(tmp, os.path.join(conf_dir, f"lmConf-{self.cfg_num}.json"))

    # ---- lifecycle ----------------------------------------------------
    def start(self, timeout: float = 30.0) -> "OidcProvider":
        for sub in ("sessions/lock", "psessions/lock", "cache", "conf"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        if not self.keys:
            self.keys.append(("key-1",) + gen_rsa_key())
        self._write_users()
        self._write_perl_stub()
        self._write_ini()
        self._write_conf()
        env = dict(os.environ, LLNG_DEFAULTCONFFILE=os.path.join(self.dir, "lemonldap-ng.ini"),
                   PERL5LIB=os.path.join(self.dir, "perl"))
        self.log_path = os.path.join(self.dir, "portal.log")
        log = open(self.log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [PLACKUP, "-E", "deployment", "-s", "HTTP::Server::PSGI", "--host", "127.0.0.1",
             "--port", str(self.port), PSGI],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        log.close()
        deadline = t0 + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"plackup exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.discovery_url, timeout=2) as r:
                    if r.status == 200 and json.load(r).get("issuer") == self.issuer:
                        self.startup_seconds = time.monotonic() - t0
                        return self
            except Exception as e:  # noqa: BLE001
                last = e
                if getattr(e, "code", None) == 500 and "Initialization failed" in self._raw_log():
                    break  # configuration / missing Perl module: no point waiting
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"LemonLDAP::NG did not come up on {self.issuer}: {last}\n{self.log()}")

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

    def _raw_log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return ""
        # First distinct error lines (the root cause comes first), then the tail.
        errs, seen = [], set()
        for ln in lines:
            key = ln.split("] ", 2)[-1]
            if ("[error]" in ln or "[warn]" in ln or "line " in ln) and key not in seen:
                seen.add(key)
                errs.append(ln)
        return "\n".join(errs[:30] + ["..."] + lines[-20:])

    # ---- runtime changes (LLNG re-reads its config within checkTime=1s) ----
    def _reload(self, wait: float = 2.5):
        self._write_conf()
        time.sleep(wait)  # checkTime = 1 s; the next request after that sees cfgNum+1

    def rotate_key(self) -> str:
        """Replace the signing key with a fresh one (new kid).  LLNG 2.16
        publishes exactly one key in its JWKS, so the old kid disappears."""
        kid = f"key-{len(self.keys) + 1}"
        self.keys.append((kid,) + gen_rsa_key())
        self._reload()
        return kid

    def set_users(self, users: list[User]):
        """Replace the user table (takes effect immediately: DBI is queried per login)."""
        self.users = list(users)
        self._write_users()

    # ---- convenience for tests -----------------------------------------
    def settings(self) -> dict:
        return {
            "issuer": self.issuer, "discovery_url": self.discovery_url,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint, "jwks_uri": self.jwks_uri,
            "userinfo_endpoint": self.userinfo_endpoint,
            "end_session_endpoint": self.end_session_endpoint,
            "client_id": self.client_id, "client_secret": self.client_secret,
            "public_client_id": self.public_client_id,
            "redirect_uris": self.redirect_uris, "port": self.port, "workdir": self.dir,
            "users": {u.uid: u.password for u in self.users},
            "startup_seconds": self.startup_seconds,
        }

    def authorize_url(self, redirect_uri: Optional[str] = None, scope: str = "openid profile email groups org",
                      state: Optional[str] = None, nonce: Optional[str] = None,
                      code_challenge: Optional[str] = None, client_id: Optional[str] = None,
                      **extra) -> str:
        q = {"response_type": "code", "client_id": client_id or self.client_id,
             "redirect_uri": redirect_uri or self.redirect_uris[0], "scope": scope,
             "state": state or secrets.token_urlsafe(16), "nonce": nonce or secrets.token_urlsafe(16)}
        if code_challenge:
            q.update(code_challenge=code_challenge, code_challenge_method="S256")
        q.update(extra)
        return self.authorization_endpoint + "?" + urllib.parse.urlencode(q)

    def exchange_code(self, code: str, redirect_uri: Optional[str] = None,
                      code_verifier: Optional[str] = None, auth: str = "client_secret_basic",
                      client_id: Optional[str] = None, client_secret: Optional[str] = None) -> dict:
        """Token request as a relying party would make it (auth: client_secret_basic,
        client_secret_post or none).  Returns (status, json)."""
        cid = client_id or self.client_id
        sec = self.client_secret if client_secret is None else client_secret
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or self.redirect_uris[0]}
        if code_verifier:
            form["code_verifier"] = code_verifier
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if auth == "client_secret_basic":
            cred = f"{urllib.parse.quote(cid, safe='')}:{urllib.parse.quote(sec, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        elif auth == "client_secret_post":
            form.update(client_id=cid, client_secret=sec)
        else:
            form["client_id"] = cid
        req = urllib.request.Request(self.token_endpoint, data=urllib.parse.urlencode(form).encode(),
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return {"status": r.status, **json.load(r)}
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return {"status": e.code, **json.loads(body)}
            except ValueError:
                return {"status": e.code, "raw": body.decode("utf-8", "replace")}


def login(session: Browser, authorize_url: str, username: str, password: str,
          rp_prefix: Optional[str] = None) -> str:
    """Drive the IdP: GET authorize -> login form -> POST credentials -> (consent)
    -> redirect to the relying party.  Returns the RP URL the IdP redirected to
    (it is NOT requested).  rp_prefix defaults to the authorize URL's redirect_uri.
    Raises LookupError if the IdP shows a page without the expected form (e.g. a
    wrong password re-displays the form: then a RuntimeError with the IdP's message)."""
    q = query_params(authorize_url)
    rp_prefix = rp_prefix or q.get("redirect_uri")
    idp = origin(authorize_url)

    def at_rp(url: str) -> bool:
        return (url.startswith(rp_prefix) if rp_prefix else origin(url) != idp)

    r = session.follow(authorize_url, stop=at_rp)
    for _ in range(4):
        if r.location and at_rp(r.location):
            return r.location
        forms = r.forms()
        pw = [f for f in forms if f.has_password]
        if pw:
            f = pw[0]
            vals = f.values()
            if getattr(session, "_llng_posted", None) == r.url:
                raise RuntimeError("login rejected by IdP: " + _alert(r.text))
            user_field = next((n for n, _, t in f.fields if t in ("text", "email") and
                               n.lower() in ("user", "username", "login", "uid", "email")), "user")
            pw_field = next(n for n, _, t in f.fields if t == "password")
            vals[user_field] = username
            vals[pw_field] = password
            session._llng_posted = r.url
            r = session.follow(f.action, method=f.method.upper(), data=vals, stop=at_rp)
            continue
        # consent page or auto-submit page: submit the first POST form that
        # carries a confirm/accept field or hidden fields only.
        consent = [f for f in forms if f.method == "post"]
        if consent:
            f = consent[0]
            vals = f.values()
            vals.setdefault("confirm", "1")
            r = session.follow(f.action, method="POST", data=vals, stop=at_rp)
            continue
        break
    raise RuntimeError(f"IdP did not redirect to the RP; last page {r.url} ({r.status}): "
                       + _alert(r.text))


_LLNG_CONSTANTS = "/usr/share/perl5/Lemonldap/NG/Portal/Main/Constants.pm"


def _llng_error_names() -> dict:
    import re
    try:
        with open(_LLNG_CONSTANTS) as f:
            return {int(n): name for name, n in re.findall(r"(PE_[A-Z0-9_]+)\s*=>\s*(-?\d+)", f.read())}
    except OSError:
        return {}


def _alert(text: str) -> str:
    """Best-effort error text from an IdP page.  LLNG pages carry only a
    message number (<span trmsg="N">, translated by JavaScript): map it to the
    PE_* constant name (5 = PE_BADCREDENTIALS, 108 = PE_UNAUTHORIZEDURL...)."""
    import re
    m = re.search(r'message-negative[^>]*>\s*<span trmsg="(-?\d+)"', text) or \
        re.search(r'<span trmsg="(-?\d+)"', text)
    if m:
        n = int(m.group(1))
        return f"{_llng_error_names().get(n, 'LLNG error')} ({n})"
    m = re.search(r'class="[^"]*(?:alert-danger|error)[^"]*"[^>]*>(.*?)</', text, re.S)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else text[:500]


def logout(session: Browser, end_session_url: str, rp_prefix: Optional[str] = None) -> Optional[str]:
    """RP-initiated logout: GET end_session (id_token_hint, post_logout_redirect_uri,
    state), confirm on the IdP's page, return the post-logout redirect URL (not
    requested) or None if the IdP showed its own "logged out" page instead."""
    q = query_params(end_session_url)
    rp_prefix = rp_prefix or q.get("post_logout_redirect_uri")
    stop = (lambda u: u.startswith(rp_prefix)) if rp_prefix else None
    r = session.follow(end_session_url, stop=stop)
    for _ in range(3):
        if r.location and stop and stop(r.location):
            return r.location
        posts = [f for f in r.forms() if f.method == "post" and not f.has_password]
        if not posts:
            return None
        f = posts[0]
        r = session.follow(f.action, method="POST", data=f.values(), stop=stop)
    return r.location


def selftest(op: OidcProvider) -> dict:
    """Full authorization-code + PKCE round trip for alice; returns the ID token claims."""
    out = {}
    disc = json.load(urllib.request.urlopen(op.discovery_url, timeout=5))
    assert disc["issuer"] == op.issuer, disc
    assert "S256" in disc.get("code_challenge_methods_supported", ["S256"]), disc
    out["discovery"] = {k: disc.get(k) for k in (
        "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
        "end_session_endpoint", "token_endpoint_auth_methods_supported",
        "id_token_signing_alg_values_supported", "code_challenge_methods_supported")}
    jwks = json.load(urllib.request.urlopen(op.jwks_uri, timeout=5))
    out["jwks_kids"] = [k.get("kid") for k in jwks["keys"]]
    for auth in ("client_secret_basic", "client_secret_post"):
        b = Browser()
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(12)
        state = secrets.token_urlsafe(12)
        t0 = time.monotonic()
        final = login(b, op.authorize_url(code_challenge=challenge, nonce=nonce, state=state), "alice", "alice-pw")
        p = query_params(final)
        assert p.get("state") == state, final
        tok = op.exchange_code(p["code"], code_verifier=verifier, auth=auth)
        assert tok["status"] == 200, tok
        hdr, claims = jwt_parts(tok["id_token"])
        assert hdr["alg"] == "RS256" and hdr.get("kid") in out["jwks_kids"], hdr
        assert claims["nonce"] == nonce and claims["aud"] in (op.client_id, [op.client_id]), claims
        assert "eng-leads" in claims["groups"], claims
        out[auth] = {"seconds": round(time.monotonic() - t0, 3), "id_token_header": hdr, "claims": claims}
        # replaying the code must fail
        again = op.exchange_code(p["code"], code_verifier=verifier, auth=auth)
        out[auth]["code_replay_status"] = again["status"]
    # PKCE enforced: no verifier -> error
    b = Browser()
    verifier, challenge = pkce_pair()
    p = query_params(login(b, op.authorize_url(code_challenge=challenge), "bob", "bob-pw"))
    out["pkce_wrong_verifier"] = op.exchange_code(p["code"], code_verifier=pkce_pair()[0])["status"]
    # userinfo with the access token of a fresh login (bob)
    b = Browser()
    verifier, challenge = pkce_pair()
    p = query_params(login(b, op.authorize_url(code_challenge=challenge), "bob", "bob-pw"))
    tok = op.exchange_code(p["code"], code_verifier=verifier)
    req = urllib.request.Request(op.userinfo_endpoint, headers={"Authorization": "Bearer " + tok["access_token"]})
    out["userinfo_bob"] = json.load(urllib.request.urlopen(req, timeout=5))
    out["access_token_header"], out["access_token_claims"] = jwt_parts(tok["access_token"])
    # wrong password
    try:
        login(Browser(), op.authorize_url(code_challenge=challenge), "alice", "nope")
        out["wrong_password"] = "ACCEPTED?!"
    except RuntimeError as e:
        out["wrong_password"] = str(e)[:120]
    # silent re-authentication with the IdP session cookie (SSO)
    t0 = time.monotonic()
    r = b.follow(op.authorize_url(code_challenge=challenge), stop=lambda u: u.startswith(op.redirect_uris[0]))
    out["sso_second_login_has_code"] = "code" in query_params(r.location or "")
    # public client (CLI) with loopback redirect, no secret, PKCE
    if op.public_client_id:
        ru = op.public_redirect_uris[0]
        verifier, challenge = pkce_pair()
        p = query_params(login(Browser(), op.authorize_url(client_id=op.public_client_id, redirect_uri=ru,
                                                             code_challenge=challenge), "bob", "bob-pw"))
        tok = op.exchange_code(p["code"], redirect_uri=ru, code_verifier=verifier, auth="none",
                               client_id=op.public_client_id)
        out["public_client_token_status"] = tok["status"]
    # RP-initiated logout, then the IdP session must be gone (login form again)
    b = Browser()
    verifier, challenge = pkce_pair()
    p = query_params(login(b, op.authorize_url(code_challenge=challenge), "alice", "alice-pw"))
    tok = op.exchange_code(p["code"], code_verifier=verifier)
    plr = op.post_logout_redirect_uris[0]
    lo = logout(b, op.end_session_endpoint + "?" + urllib.parse.urlencode(
        {"id_token_hint": tok["id_token"], "post_logout_redirect_uri": plr, "state": "bye"}))
    out["logout_redirect"] = lo
    r = b.follow(op.authorize_url(code_challenge=challenge), stop=lambda u: u.startswith(op.redirect_uris[0]))
    out["after_logout_login_form_shown"] = any(f.has_password for f in r.forms())
    # key rotation
    old = out["jwks_kids"]
    new_kid = op.rotate_key()
    jwks = json.load(urllib.request.urlopen(op.jwks_uri, timeout=5))
    verifier, challenge = pkce_pair()
    p = query_params(login(Browser(), op.authorize_url(code_challenge=challenge), "alice", "alice-pw"))
    tok = op.exchange_code(p["code"], code_verifier=verifier)
    out["rotation"] = {"old_kids": old, "new_kid": new_kid, "jwks_kids_after": [k.get("kid") for k in jwks["keys"]],
                       "id_token_kid_after": jwt_parts(tok["id_token"])[0].get("kid")}
    return out


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--redirect-uri", action="append")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--log-level", default="warn")
    a = ap.parse_args(argv)
    op = OidcProvider(port=a.port, redirect_uris=a.redirect_uri, log_level=a.log_level)
    try:
        op.start()
        print(json.dumps(op.settings(), indent=2), flush=True)
        if a.selftest:
            print(json.dumps(selftest(op), indent=2, default=str))
            return 0
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        op.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
