#!/usr/bin/env python3
"""A scripted browser for `openclaw auth login --browser-command` (tests only).

The CLI runs `<this script> <authorize URL>`. The script plays the user's browser with the
stdlib helper of browser.py: it opens the gateway's /api/v1/auth/cli/authorize URL, follows
the gateway to the identity provider (LemonLDAP::NG), signs in through its HTML form, comes
back through the gateway's callback to the confirmation page, submits it, and finally
requests the loopback URL the gateway redirects to, where the CLI is waiting.

Like a real browser (Chromium, Firefox), it treats http://127.0.0.1 as a secure origin, so
the gateway's Secure cookies travel to a plain-http gateway on loopback.

Environment:
  CLI_BROWSER_USER, CLI_BROWSER_PASSWORD   the IdP account (required unless MODE=idle/fail)
  CLI_BROWSER_PROTOCOL oidc (default: LemonLDAP::NG's form) | saml (saml_idp.py's form and
                       its auto-POST to the gateway's ACS)
  CLI_BROWSER_MODE     confirm (default) | cancel | tamper-state | idle (does nothing) |
                       fail (exits 3 at once, as a missing browser would)
  CLI_BROWSER_REPORT   a file that receives a JSON report of what the browser saw
"""
import http.cookiejar
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser, origin, query_params  # noqa: E402
from oidc_provider import login  # noqa: E402


def loopback_browser():
    b = Browser()
    b.jar.set_policy(http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
    return b


def run(url, mode, report):
    if mode == "fail":
        return 3
    if mode == "idle":
        return 0
    b = loopback_browser()
    loopback = query_params(url)["redirect_uri"]
    gateway = origin(url)
    user, pw = os.environ["CLI_BROWSER_USER"], os.environ["CLI_BROWSER_PASSWORD"]
    if os.environ.get("CLI_BROWSER_PROTOCOL") == "saml":
        import saml_idp
        # authorize → /auth/login → the IdP (HTTP-Redirect) → its form → the auto-POST form
        to_idp = b.follow(url, stop=lambda u: not u.startswith(gateway))
        acs, fields = saml_idp.login(b, to_idp.location, user, pw)
        back = b.post(acs, fields).location  # the ACS: session cookie, 302 to authorize
    else:
        # authorize → /auth/login → the IdP's form → back at the gateway's callback
        back = login(b, url, user, pw, rp_prefix=gateway + "/api/v1/auth/callback")
    # (session cookie) → authorize again → the confirmation page
    page = b.follow(back, stop=lambda u: u.startswith(loopback))
    report["confirm_status"] = page.status
    report["confirm_page"] = page.text
    if page.location:
        report["redirected_without_confirmation"] = page.location
        return 4
    form = page.form(has_password=False)
    values = form.values()
    values["action"] = "cancel" if mode == "cancel" else "confirm"
    r = b.follow(form.action, method="POST", data=values, stop=lambda u: u.startswith(loopback))
    report["confirm_post_status"] = r.status
    target = r.location
    if not target or not target.startswith(loopback):
        report["confirm_post_body"] = r.text
        return 5
    if mode == "tamper-state":
        q = query_params(target)
        q["state"] = "not-" + q.get("state", "")
        target = loopback + "?" + urllib.parse.urlencode(q)
    report["loopback_url_has_code"] = "code" in query_params(target)
    done = b.get(target)
    report["loopback_status"] = done.status
    report["loopback_page"] = done.text
    return 0


def main():
    url = sys.argv[-1]
    mode = os.environ.get("CLI_BROWSER_MODE", "confirm")
    report = {"url": url, "mode": mode}
    try:
        rc = run(url, mode, report)
    except Exception as e:  # the report says what went wrong
        report["exception"] = repr(e)
        rc = 6
    path = os.environ.get("CLI_BROWSER_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f)
    return rc


if __name__ == "__main__":
    sys.exit(main())
