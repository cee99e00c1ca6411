#!/usr/bin/env python3
"""A scriptable, deliberately hostile OpenID provider for negative tests.

Real IdPs (LemonLDAP::NG in oidc_provider.py) only ever issue correct tokens.
To prove that the gateway REJECTS bad ID tokens through its normal login path
(callback -> token endpoint -> validation), this provider serves a discovery
document, a JWKS, an authorize endpoint that redirects straight back with a
code (no login form), and a token endpoint whose ID token is forged in the way
the test asks for.  Tokens are also available directly (mint/forge) for
Bearer-token tests on the API.

Client authentication is checked at the token and introspection endpoints: the
client secret (HTTP Basic or client_secret_post), or, once a public key is
registered with require_private_key_jwt(), only a private_key_jwt assertion
(RFC 7523): RS256 or ES256 (JOSE r||s) signature by that key, kid when one was
registered, iss = sub = client_id, aud = the token endpoint, exp in the future
and at most 5 minutes away, iat not in the future, and a jti never seen before.
Accepted assertions are kept in `assertions`, refusals in `client_auth_failures`.

The introspection endpoint (RFC 7662) answers what `introspection[token]` says
(issue_opaque() registers an active token), {"active": false} for anything else,
or HTTP `introspection_status` when that is not 200.

Needs `cryptography` (Debian: python3-cryptography; also in the pyenv Python).

    with EvilOidc(client_id="gw", redirect_uri=cb) as evil:
        evil.set_forgery("alg_none")         # next token response only
        # gateway: GET /api/v1/auth/login -> evil authorize -> callback -> token
        tok = evil.forge("expired", sub="alice")   # or mint a token directly

FORGERIES (name -> what the ID token is):
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import secrets
import socket
import threading
import time
import urllib.parse
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

FORGERIES = {
    "good": "correct RS256 token signed by the published key (control case)",
    "alg_none": 'header alg "none", empty signature',
    "alg_none_case": 'header alg "NoNe" (case trick), empty signature',
    "hs256_pubkey_pem": "HS256, HMAC key = the published RSA public key as PEM text (key confusion)",
    "hs256_pubkey_der": "HS256, HMAC key = the RSA public key DER (SubjectPublicKeyInfo)",
    "unknown_kid": "RS256 by a key whose kid is not in the JWKS",
    "no_kid": "RS256 by the right key but no kid header (JWKS has 2 keys)",
    "wrong_key_same_kid": "RS256 by an unpublished key that claims the published kid",
    "bad_signature": "RS256, signature bytes flipped",
    "tampered_payload": "payload changed after signing (groups += admins)",
    "wrong_aud": "aud is another client",
    "aud_list_extra": "aud = [client, other] without azp",
    "wrong_azp": "aud = [client, other], azp = other",
    "wrong_iss": "iss is another issuer",
    "expired": "exp 10 min in the past",
    "nbf_future": "nbf 10 min in the future",
    "iat_future": "iat 10 min in the future",
    "missing_exp": "no exp claim",
    "wrong_nonce": "nonce does not match the authorization request",
    "missing_nonce": "no nonce claim",
    "jwk_header": "signed by an attacker key that is embedded in the header (jwk)",
    "jku_header": "signed by an attacker key, header jku points to an attacker JWKS",
    "rs512_unlisted": "RS512 (algorithm outside a RS256-only allow list)",
}
__doc__ += "\n".join(f"    {k:20} {v}" for k, v in FORGERIES.items()) + "\n"


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _int_b64u(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_key(pem: str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    n = key.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": _int_b64u(n.n), "e": _int_b64u(n.e)}


def sign(header: dict, payload: dict, key=None, hmac_key: Optional[bytes] = None) -> str:
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(json.dumps(payload, separators=(",", ":")).encode()))
    alg = header.get("alg", "")
    if alg.lower() == "none":
        return signing_input + "."
    if alg.startswith("HS"):
        h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        sig = hmac.new(hmac_key, signing_input.encode(), h).digest()
    elif alg == "ES256":
        r, s_ = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
    else:
        h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), h)
    return signing_input + "." + b64u(sig)


class EvilOidc:
    def __init__(self, client_id: str = "openclaw-gateway", client_secret: str = "evil-secret",
                 redirect_uri: Optional[str] = None, port: Optional[int] = None,
                 signing_key_pem: Optional[str] = None, kid: str = "evil-1", issuer: Optional[str] = None):
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.issuer = issuer or f"http://127.0.0.1:{port}"
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.key = load_key(signing_key_pem) if signing_key_pem else new_key()
        self.kid = kid
        self.second_key, self.second_kid = new_key(), kid + "-b"  # published too (for no_kid)
        self.attacker_key = new_key()
        self.forgery = "good"
        self.forgery_count = 0
        self.codes: dict[str, dict] = {}
        self.claims = {"alice": {"email": "alice@company.com", "name": "Alice Anderson",
                                 "groups": ["CN=Developers,OU=Groups,DC=company,DC=com", "eng-leads"],
                                 "department": "Engineering", "org_unit": "R&D"},
                       "bob": {"email": "bob@company.com", "name": "Bob Brown", "groups": ["marketing"],
                               "department": "Marketing", "org_unit": "Sales & Marketing"}}
        self.default_user = "alice"
        self.requests: list[dict] = []
        self.client_key = None        # the RP's registered public key (private_key_jwt)
        self.client_kid: Optional[str] = None
        self.seen_jti: set[str] = set()
        self.assertions: list[dict] = []          # accepted: {"path", "header", "claims", "raw"}
        self.client_auth_failures: list[str] = []
        self.introspection: dict[str, dict] = {}  # token -> introspection answer
        self.introspection_status = 200
        self._lock = threading.Lock()
        self._httpd = None

    # ------------------------------------------------------------------
    def jwks(self) -> dict:
        return {"keys": [jwk(self.key, self.kid), jwk(self.second_key, self.second_kid)]}

    def discovery(self) -> dict:
        i = self.issuer
        return {"issuer": i, "authorization_endpoint": i + "/authorize", "token_endpoint": i + "/token",
                "jwks_uri": i + "/jwks", "userinfo_endpoint": i + "/userinfo",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "none", "HS256"],
                "introspection_endpoint": i + "/introspect",
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                          "private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"]}

    def base_claims(self, sub: str, nonce: Optional[str] = None, ttl: int = 300) -> dict:
        now = int(time.time())
        c = {"iss": self.issuer, "sub": sub, "aud": self.client_id, "azp": self.client_id,
             "iat": now, "nbf": now, "exp": now + ttl, "preferred_username": sub, **self.claims.get(sub, {})}
        if nonce is not None:
            c["nonce"] = nonce
        return c

    def mint(self, claims: dict, alg: str = "RS256", kid: Optional[str] = None, key=None) -> str:
        return sign({"alg": alg, "typ": "JWT", "kid": kid or self.kid}, claims, key or self.key)

    def forge(self, kind: str, sub: Optional[str] = None, nonce: Optional[str] = None) -> str:
        """An ID/access token for `sub`, broken in the way `kind` names (FORGERIES)."""
        if kind not in FORGERIES:
            raise ValueError(kind)
        c = self.base_claims(sub or self.default_user, nonce)
        now = int(time.time())
        hdr = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        pub = self.key.public_key()
        if kind == "alg_none":
            return sign({"alg": "none", "typ": "JWT"}, c)
        if kind == "alg_none_case":
            return sign({"alg": "NoNe", "typ": "JWT"}, c)
        if kind == "hs256_pubkey_pem":
            pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            return sign({"alg": "HS256", "typ": "JWT", "kid": self.kid}, c, hmac_key=pem)
        if kind == "hs256_pubkey_der":
            der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            return sign({"alg": "HS256", "typ": "JWT", "kid": self.kid}, c, hmac_key=der)
        if kind == "unknown_kid":
            return sign(dict(hdr, kid="not-published"), c, self.attacker_key)
        if kind == "no_kid":
            return sign({"alg": "RS256", "typ": "JWT"}, c, self.key)
        if kind == "wrong_key_same_kid":
            return sign(hdr, c, self.attacker_key)
        if kind == "bad_signature":
            t = sign(hdr, c, self.key)
            h, p, s = t.split(".")
            raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
            raw[10] ^= 0xFF
            return f"{h}.{p}.{b64u(bytes(raw))}"
        if kind == "tampered_payload":
            h, _, s = sign(hdr, c, self.key).split(".")
            c2 = dict(c, groups=list(c.get("groups", [])) + ["admins"])
            return f"{h}.{b64u(json.dumps(c2, separators=(',', ':')).encode())}.{s}"
        if kind == "wrong_aud":
            c["aud"] = "some-other-client"
            c["azp"] = "some-other-client"
        elif kind == "aud_list_extra":
            c["aud"] = [self.client_id, "some-other-client"]
            c.pop("azp", None)
        elif kind == "wrong_azp":
            c["aud"] = [self.client_id, "some-other-client"]
            c["azp"] = "some-other-client"
        elif kind == "wrong_iss":
            c["iss"] = "http://127.0.0.1:9/other-issuer"
        elif kind == "expired":
            c.update(iat=now - 1200, nbf=now - 1200, exp=now - 600)
        elif kind == "nbf_future":
            c.update(nbf=now + 600, exp=now + 1200)
        elif kind == "iat_future":
            c.update(iat=now + 600, nbf=now, exp=now + 1200)
        elif kind == "missing_exp":
            c.pop("exp")
        elif kind == "wrong_nonce":
            c["nonce"] = "not-the-nonce-you-sent"
        elif kind == "missing_nonce":
            c.pop("nonce", None)
        elif kind == "jwk_header":
            return sign(dict(hdr, kid="attacker", jwk=jwk(self.attacker_key, "attacker")), c, self.attacker_key)
        elif kind == "jku_header":
            return sign(dict(hdr, kid="attacker", jku=self.issuer + "/attacker-jwks"), c, self.attacker_key)
        elif kind == "rs512_unlisted":
            return sign(dict(hdr, alg="RS512"), c, self.key)
        return sign(hdr, c, self.key)

    def set_forgery(self, kind: str, count: int = 1):
        """The next `count` token responses carry an ID token forged as `kind`."""
        if kind not in FORGERIES:
            raise ValueError(kind)
        self.forgery, self.forgery_count = kind, count

    def _take_forgery(self) -> str:
        if self.forgery_count > 0:
            self.forgery_count -= 1
            k = self.forgery
            if self.forgery_count == 0:
                self.forgery = "good"
            return k
        return "good"

    # --- client authentication -------------------------------------------
    def require_private_key_jwt(self, public_key, kid: Optional[str] = None):
        """From now on the client must authenticate with assertions signed by the private key
        of public_key (an RSA or EC P-256 public key, or PEM text of one)."""
        if isinstance(public_key, (str, bytes)):
            public_key = serialization.load_pem_public_key(
                public_key.encode() if isinstance(public_key, str) else public_key)
        self.client_key, self.client_kid = public_key, kid

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "/token"

    def _check_assertion(self, form: dict, path: str) -> Optional[str]:
        """Why a private_key_jwt assertion is refused, or None (then it is recorded)."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "client_assertion_type is not jwt-bearer"
        raw = form.get("client_assertion", "")
        parts = raw.split(".")
        if len(parts) != 3:
            return "assertion is not a signed JWT"
        try:
            h = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
            c = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            sig = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except ValueError:
            return "assertion does not decode"
        want = "ES256" if isinstance(self.client_key, ec.EllipticCurvePublicKey) else "RS256"
        if h.get("alg") != want:
            return "alg %r is not the registered key's %s" % (h.get("alg"), want)
        if self.client_kid is not None and h.get("kid") != self.client_kid:
            return "kid is not the registered key's"
        signed = (parts[0] + "." + parts[1]).encode()
        try:
            if want == "ES256":
                if len(sig) != 64:
                    return "ES256 signature is not 64 bytes of r||s"
                der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
                self.client_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            else:
                self.client_key.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "bad assertion signature"
        now = time.time()
        if c.get("iss") != self.client_id or c.get("sub") != self.client_id:
            return "iss and sub must be the client_id"
        if c.get("aud") != self.token_endpoint:
            return "aud is not the token endpoint"
        exp, iat = c.get("exp"), c.get("iat")
        if not isinstance(exp, int) or exp <= now or exp > now + 300:
            return "exp missing, past or too far ahead"
        if iat is not None and (not isinstance(iat, int) or iat > now + 30):
            return "iat in the future"
        jti = c.get("jti")
        if not isinstance(jti, str) or not jti:
            return "no jti"
        with self._lock:
            if jti in self.seen_jti:
                return "jti replayed"
            self.seen_jti.add(jti)
        if form.get("client_id") not in (None, self.client_id):
            return "client_id is not the assertion's"
        self.assertions.append({"path": path, "header": h, "claims": c, "raw": raw})
        return None

    def _check_client(self, form: dict, authorization: Optional[str], path: str) -> Optional[str]:
        """Why the client's authentication is refused, or None."""
        secret_sent = bool(authorization) or "client_secret" in form
        if self.client_key is not None:
            if secret_sent:
                return "a client secret is not accepted (private_key_jwt is registered)"
            return self._check_assertion(form, path)
        if authorization and authorization.startswith("Basic "):
            try:
                cid, _, sec = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return "bad Basic header"
        else:
            cid, sec = form.get("client_id"), form.get("client_secret")
        if cid != self.client_id or sec != self.client_secret:
            return "wrong client credentials"
        return None

    def issue_opaque(self, sub: str, **over) -> str:
        """A random opaque access token whose introspection answer is active for sub (claims,
        groups included), with `over` merged into the answer (a None value drops a member)."""
        tok = secrets.token_urlsafe(32)
        now = int(time.time())
        answer = {"active": True, "iss": self.issuer, "sub": sub, "client_id": self.client_id,
                  "scope": "openid profile", "token_type": "Bearer", "iat": now, "exp": now + 300,
                  **self.claims.get(sub, {}), **over}
        self.introspection[tok] = {k: v for k, v in answer.items() if v is not None}
        return tok

    def introspected(self) -> list[str]:
        """The tokens sent to the introspection endpoint, in order."""
        return [r["form"].get("token") for r in self.requests if r.get("path") == "/introspect"]

    # ------------------------------------------------------------------
    def start(self) -> "EvilOidc":
        evil = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _json(self, code, obj, headers=None):
                b = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(b)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
                evil.requests.append({"method": "GET", "path": u.path, "query": q})
                if u.path == "/.well-known/openid-configuration":
                    return self._json(200, evil.discovery())
                if u.path == "/jwks":
                    return self._json(200, evil.jwks())
                if u.path == "/attacker-jwks":
                    return self._json(200, {"keys": [jwk(evil.attacker_key, "attacker")]})
                if u.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    evil.codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q.get("redirect_uri"),
                                        "code_challenge": q.get("code_challenge"),
                                        "user": q.get("login_hint") or evil.default_user}
                    sep = "&" if "?" in q.get("redirect_uri", "") else "?"
                    loc = q.get("redirect_uri", "") + sep + urllib.parse.urlencode(
                        {"code": code, **({"state": q["state"]} if "state" in q else {})})
                    self.send_response(302)
                    self.send_header("Location", loc)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if u.path == "/userinfo":
                    return self._json(200, {"sub": evil.default_user, **evil.claims.get(evil.default_user, {})})
                self._json(404, {"error": "not_found"})

            def do_POST(self):
                u = urllib.parse.urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode()).items()}
                authz = self.headers.get("Authorization")
                evil.requests.append({"method": "POST", "path": u.path, "form": form,
                                      "authorization": authz})
                if u.path not in ("/token", "/introspect"):
                    return self._json(404, {"error": "not_found"})
                why = evil._check_client(form, authz, u.path)
                if why:
                    evil.client_auth_failures.append(why)
                    return self._json(401, {"error": "invalid_client", "error_description": why})
                if u.path == "/introspect":
                    if evil.introspection_status != 200:
                        return self._json(evil.introspection_status, {"error": "server_error"})
                    return self._json(200, evil.introspection.get(form.get("token", ""), {"active": False}))
                st = evil.codes.pop(form.get("code", ""), None)
                if not st:
                    return self._json(400, {"error": "invalid_grant"})
                if st["code_challenge"]:
                    v = form.get("code_verifier", "")
                    if b64u(hashlib.sha256(v.encode()).digest()) != st["code_challenge"]:
                        return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                kind = evil._take_forgery()
                idt = evil.forge(kind, st["user"], st["nonce"])
                at = evil.forge("good", st["user"])
                self._json(200, {"access_token": at, "token_type": "Bearer", "expires_in": 300,
                                 "id_token": idt}, {"Cache-Control": "no-store"})

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    # Smoke check: every forgery is produced, and a good token verifies with the JWKS key.
    with EvilOidc(redirect_uri="http://127.0.0.1:1/cb") as e:
        for k in FORGERIES:
            t = e.forge(k, nonce="n")
            h = json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))
            print(f"{k:20} alg={h.get('alg'):6} kid={h.get('kid')}")
        t = e.forge("good", nonce="n")
        hp, s = t.rsplit(".", 1)
        e.key.public_key().verify(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), hp.encode(),
                                  padding.PKCS1v15(), hashes.SHA256())
        import urllib.request
        print(json.load(urllib.request.urlopen(e.issuer + "/.well-known/openid-configuration"))["issuer"])
