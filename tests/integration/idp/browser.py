"""Minimal stdlib "browser" for driving identity-provider login pages.

No third-party dependency: urllib + http.cookiejar + html.parser.  Redirects
are followed by hand so a caller can stop as soon as the IdP sends the user
back to the relying party (whose callback is usually not listening in a test).

Usage:
    b = Browser()
    r = b.get(url)                 # one request, no redirect following
    r = b.follow(url, stop=pred)   # follow redirects until pred(url) is true
    form = r.form(has_password=True)
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Optional

try:  # run from tests/integration: the gateway's answers must match docs/openapi.json
    import apicontract
except ImportError:
    apicontract = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


class _Form:
    def __init__(self, action: str, method: str, attrs: dict):
        self.action = action
        self.method = (method or "get").lower()
        self.attrs = attrs
        self.fields: list[tuple[str, str, str]] = []  # (name, value, type)

    @property
    def has_password(self) -> bool:
        return any(t == "password" for _, _, t in self.fields)

    def values(self) -> dict:
        out = {}
        for name, value, typ in self.fields:
            if typ in ("submit", "button", "image", "reset"):
                continue
            if typ in ("checkbox", "radio") and value is None:
                continue
            out.setdefault(name, value or "")
        return out

    def __repr__(self):
        return f"<form {self.method} {self.action} {self.fields}>"


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._cur: Optional[_Form] = None
        self._textarea: Optional[str] = None
        self._textbuf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._cur = _Form(a.get("action", ""), a.get("method", "get"), a)
            self.forms.append(self._cur)
        elif self._cur is not None and tag == "input" and a.get("name"):
            typ = a.get("type", "text").lower()
            val = a.get("value", "")
            if typ in ("checkbox", "radio") and "checked" not in a:
                val = None
            self._cur.fields.append((a["name"], val, typ))
        elif self._cur is not None and tag == "button" and a.get("name"):
            self._cur.fields.append((a["name"], a.get("value", ""), "button"))
        elif self._cur is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._textbuf = []

    def handle_data(self, data):
        if self._textarea is not None:
            self._textbuf.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None
        elif tag == "textarea" and self._textarea is not None and self._cur is not None:
            self._cur.fields.append((self._textarea, "".join(self._textbuf), "textarea"))
            self._textarea = None


@dataclass
class Response:
    url: str
    status: int
    headers: dict
    body: bytes
    history: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> Optional[str]:
        loc = self.headers.get("location")
        return urllib.parse.urljoin(self.url, loc) if loc else None

    def forms(self) -> list[_Form]:
        p = _FormParser()
        p.feed(self.text)
        for f in p.forms:
            f.action = urllib.parse.urljoin(self.url, f.action or self.url)
        return p.forms

    def form(self, has_password: Optional[bool] = None, name: Optional[str] = None) -> _Form:
        for f in self.forms():
            if has_password is not None and f.has_password != has_password:
                continue
            if name is not None and f.attrs.get("name") != name and f.attrs.get("id") != name:
                continue
            return f
        raise LookupError(f"no matching form on {self.url} (status {self.status}):\n{self.text[:2000]}")


class Browser:
    """Cookie-keeping HTTP client that never follows redirects on its own."""

    def __init__(self, timeout: float = 15.0, user_agent: str = "openclaw-idp-test/1"):
        self.jar = http.cookiejar.CookieJar()
        self.timeout = timeout
        self.user_agent = user_agent
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, method: str, url: str, data: Optional[dict | bytes] = None,
                headers: Optional[dict] = None) -> Response:
        body = None
        hdrs = {"User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        if headers:
            hdrs.update(headers)
        if isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif data is not None:
            body = data
        req = urllib.request.Request(url, data=body, headers=hdrs, method=method.upper())
        try:
            with self._opener.open(req, timeout=self.timeout) as r:
                resp = Response(r.geturl(), r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            resp = Response(url, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
        if apicontract:
            apicontract.check_parts(method.upper(), url, resp.status, resp.headers.items(),
                                    resp.body)
        return resp

    def get(self, url, headers=None) -> Response:
        return self.request("GET", url, headers=headers)

    def post(self, url, data, headers=None) -> Response:
        return self.request("POST", url, data=data, headers=headers)

    def follow(self, url: str, method: str = "GET", data=None,
               stop: Optional[Callable[[str], bool]] = None, max_hops: int = 15) -> Response:
        """Request url and follow 30x redirects.  Stops (without requesting it)
        when stop(next_url) is true; the returned Response then has that URL
        in .location and status 30x.  Raises on a redirect loop."""
        history = []
        r = self.request(method, url, data=data)
        seen: dict[str, int] = {}
        while r.status in (301, 302, 303, 307, 308) and r.location:
            nxt = r.location
            history.append(r)
            if stop and stop(nxt):
                r.history = history
                return r
            seen[nxt] = seen.get(nxt, 0) + 1
            if len(history) > max_hops or seen[nxt] > 2:
                raise RuntimeError("redirect loop: " + " -> ".join(h.url for h in history))
            if r.status in (307, 308):
                r = self.request(method, nxt, data=data)
            else:
                r = self.request("GET", nxt)
        r.history = history
        return r


def origin(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def query_params(url: str) -> dict:
    p = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qs(p.query)
    if p.fragment:
        q.update(urllib.parse.parse_qs(p.fragment))
    return {k: v[0] for k, v in q.items()}
