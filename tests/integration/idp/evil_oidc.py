#!/usr/bin/env python3
"""A scriptable, deliberately hostile OpenID provider for negative tests.

Real IdPs (LemonLDAP::NG in oidc_provider.py) only ever issue correct tokens.
To prove that the gateway REJECTS bad ID tokens through its normal login path
(callback -> token endpoint -> validation), this provider serves a discovery
document, a JWKS, an authorize endpoint that redirects straight back with a
code (no login form), and a token endpoint whose ID token is forged in the way
the test asks for.  Tokens are also available directly (mint/forge) for
Bearer-token tests on the API.

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

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
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
                evil.requests.append({"method": "POST", "path": u.path, "form": form,
                                      "authorization": self.headers.get("Authorization")})
                if u.path != "/token":
                    return self._json(404, {"error": "not_found"})
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
