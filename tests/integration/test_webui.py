#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web UI (issue 14): how the gateway serves it, and end-to-end tests in a real browser.

HTTP level: `/` is the application (never the JSON 404), hashed assets with their types,
a year of caching, build-time gzip and the strict headers (CSP without inline script or style,
frame-ancestors 'none', nosniff, Referrer-Policy); the HTML is not cached; /api/ and /v1/ keep
their JSON 404; a tenant path prefix is carried into the page.

Browser: tests/browser/webui.mjs drives Debian's chromium through playwright-core against a TLS
gateway that signs people in through LemonLDAP::NG (the OpenID provider of test_sso_oidc.py),
talks to the local model server (mock_llm.py) and runs the policies below, plus a gateway
without SSO for the token page. Every scenario's outcome is one test here; screenshots of each
main screen are kept under <build>/webui-artifacts. Fails (never skips) when chromium or the
npm packages are missing: scripts/deps.sh test installs them.
"""
import atexit
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "idp"))
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN  # noqa: E402
from mock_llm import MockLLM  # noqa: E402
from oidc_provider import OidcProvider, User  # noqa: E402
from test_sso_oidc import start_tls_gateway, api  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BROWSER_DIR = os.path.join(gwtest.SOURCE_DIR, "tests", "browser")
ARTIFACTS = os.path.join(gwtest.BUILD_DIR, "webui-artifacts")
USERS = [User("alice", "alice-pw", "Alice Anderson", "alice@company.com", ["eng-leads"]),
         User("bob", "bob-pw", "Bob Brown", "bob@company.com", ["marketing"])]


def _policy_bundle():
    path = os.path.join(gwtest.tempdir("gwtest-webui-"), "policies.yaml")
    bundle = [
        {"scope": "enterprise", "domain": "models",
         "content": {"allowed_providers": ["*"], "allowed_models": ["*"]}},
        {"scope": "enterprise", "domain": "actions",
         "content": {"default_autonomy": "approve",
                     "autonomous": ["memory_read", "send_message"]}},
        gwtest.EXPORT_POLICY,  # conversation exports are data exports
    ]
    with open(path, "w") as f:
        f.write(gwtest.to_yaml(bundle) + "\n")
    return path


def _sso_gateway():
    port = gwtest.free_port()
    llm = MockLLM().start()
    atexit.register(llm.stop)
    op = OidcProvider(redirect_uris=["https://127.0.0.1:%d/api/v1/auth/callback" % port],
                      users=USERS).start()
    atexit.register(op.cleanup)
    cfg = gwtest.seed_config(port=port)
    cfg["identity"] = {"org_units": ["engineering"],
                       "teams": [{"id": "platform", "org_unit": "engineering"}]}
    cfg["rbac"] = {"groupMappings": {"eng-leads": "team_lead", "marketing": "user"}}
    # who may use which namespace: the IdP sends groups, no org unit
    cfg["namespaces"]["engineering"]["members"] = {"groups": ["eng-leads"]}
    cfg["namespaces"]["marketing"]["members"] = {"groups": ["marketing"]}
    cfg["sso"] = {"oidc": {
        "issuer": op.issuer, "client_id": op.client_id,
        "client_secret": gwtest.Raw("${OIDC_SECRET}"), "auth_method": "client_secret_basic",
        "redirect_uri": "https://127.0.0.1:%d/api/v1/auth/callback" % port,
        "post_logout_redirect_uri": "https://127.0.0.1:%d/" % port,
        "scopes": ["openid", "profile", "email", "groups"],
        "claims": {"user": "sub", "groups": "groups"}, "allowed_algs": ["RS256"]},
        "unmapped": "refuse"}
    cfg["policy"] = {"bundle": _policy_bundle()}
    cfg["models"] = {"providers": [{"name": "openai", "api": "openai",
                                    "base_url": llm.url + "/v1", "api_key": "sk-test",
                                    "retries": 0, "models": [{"name": "gpt-4o",
                                                              "input_per_mtok": 2.5,
                                                              "output_per_mtok": 10}]}]}
    cfg["costManagement"] = {"budgets": {"engineering": {"monthlyUsdLimit": 50,
                                                         "onExceed": "alert"}}}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o",
         "description": "The platform team's assistant",
         "tools": ["memory_read", "memory_write", "send_message"]}]
    g = start_tls_gateway(cfg, {"OIDC_SECRET": op.client_secret}, port)
    g.op, g.llm = op, llm
    # a team policy for the "edit and get 422" flow (it may only restrict the enterprise's)
    r = api(g, "POST", "/api/v1/policies", token=ADMIN_TOKEN, body={
        "scope": "team", "scope_id": "platform", "domain": "actions",
        "content": {"default_autonomy": "approve"}, "change_reason": "platform starts strict"})
    assert r.status == 201, r
    return g


SSO = gwtest.Lazy(_sso_gateway)
PLAIN = gwtest.Lazy(lambda: gwtest.Gateway().start())


def _run_browser():
    assert os.access(CHROMIUM, os.X_OK), "chromium missing (scripts/deps.sh test installs it)"
    assert os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")), \
        "tests/browser/node_modules missing (scripts/deps.sh test runs npm ci there)"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # screenshots of this run only
    os.makedirs(ARTIFACTS)
    g, plain = SSO(), PLAIN()
    settings = {
        "gateway": g.base, "plain": plain.url, "admin_token": ADMIN_TOKEN,
        "mock": g.llm.url, "idp": g.op.issuer, "users": {u.uid: u.password for u in USERS},
        "artifacts": ARTIFACTS, "chromium": CHROMIUM,
    }
    # node's fetch checks the gateway's certificate like any client
    env = dict(os.environ, WEBUI_TEST=json.dumps(settings),
               NODE_EXTRA_CA_CERTS=g.config["gateway"]["tls_cert"])
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "webui.mjs")], cwd=BROWSER_DIR, env=env,
                       capture_output=True, text=True, timeout=600)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr[-4000:])
    path = os.path.join(ARTIFACTS, "results.json")
    assert os.path.exists(path), "the browser run wrote no results (exit %d): %s" % (
        p.returncode, p.stderr[-2000:])
    with open(path) as f:
        return {"results": json.load(f)}


BROWSER = gwtest.Lazy(_run_browser)


def scenario(name):
    res = BROWSER()["results"]
    assert name in res, "scenario %s did not run (ran: %s)" % (name, ", ".join(res))
    assert res[name]["ok"], "%s: %s" % (name, res[name]["error"])


# --------------------------------------------------------------------------------------------
# serving (HTTP level)

def _index(g, path="/"):
    r = g.get(path)
    assert r.status == 200, r
    return r


def test_root_is_the_application_with_strict_headers():
    r = _index(PLAIN())
    assert r.header("Content-Type") == "text/html; charset=utf-8", r.headers
    csp = r.header("Content-Security-Policy")
    assert csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert "default-src 'none'" in csp and "style-src 'self'" in csp, csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy") == "no-referrer"
    assert r.header("Cache-Control") == "no-cache", "the HTML must not be cached for long"
    # no inline script or style in the page itself
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), r.text
    assert "<style" not in r.text and "style=" not in r.text, r.text
    assert _index(PLAIN(), "/index.html").body == r.body


def test_assets_are_hashed_typed_cached_and_gzipped():
    r = _index(PLAIN())
    names = re.findall(r'(?:src|href)="(/ui/[^"]+)"', r.text)
    assert any(n.endswith(".js") for n in names) and any(n.endswith(".css") for n in names), names
    for n in names:
        assert re.search(r"-[A-Z0-9]{8}\.(js|css)$", n), "not a content-hashed name: " + n
        plain = PLAIN().get(n)
        assert plain.status == 200 and plain.header("Content-Encoding") is None, plain
        assert plain.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert plain.header("Vary") == "Accept-Encoding"
        ctype = plain.header("Content-Type")
        assert ctype == ("text/javascript; charset=utf-8" if n.endswith(".js")
                         else "text/css; charset=utf-8"), ctype
        z = PLAIN().get(n, headers={"Accept-Encoding": "br;q=1, gzip;q=0.8"})
        assert z.header("Content-Encoding") == "gzip", z.headers
        assert gzip.decompress(z.body) == plain.body and len(z.body) < len(plain.body)
        no = PLAIN().get(n, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert no.header("Content-Encoding") is None and no.body == plain.body
        head = PLAIN().req("HEAD", n)
        assert head.status == 200 and head.body == b"", head


def test_api_paths_keep_their_json_404_and_other_methods_are_refused():
    for path in ("/api/v1/nope", "/v1/nope", "/ui/missing-ABCDEFGH.js", "/secret.txt"):
        r = PLAIN().get(path)
        gwtest.assert_error(r, 404, "not_found")
    r = PLAIN().post("/", {"x": 1})
    assert r.status == 404, r
    gwtest.assert_error(PLAIN().get("/ui/..%2f..%2fetc%2fpasswd"), 400)


def _settled(g, name):
    """Returns once every event queued so far is written (the audit queue is in order): an
    audited request's own event is then visible."""
    rid = "settle-%s-%d" % (name, time.time_ns())
    g.get("/api/v1/agents", token=gwtest.ADMIN_TOKEN, headers={"X-Request-Id": rid})
    assert g.audit_rows_for(rid), "the audit queue did not settle"


def test_ui_requests_are_not_audited():
    # by request id: the browser of an earlier test may still be fetching (and 404ing) paths
    rid = "ui-page-%d" % time.time_ns()
    r = PLAIN().get("/", headers={"X-Request-Id": rid})
    assert r.status == 200, r
    _settled(PLAIN(), "after")
    assert PLAIN().audit_rows_for(rid, wait_s=0) == [], "the page load was audited"


def test_status_tells_the_page_how_to_sign_in():
    st = PLAIN().get("/api/v1/status").json()
    assert st["sso"] == {"enabled": False, "protocols": [], "default": None}, st["sso"]
    st = api(SSO(), "GET", "/api/v1/status").json()
    assert st["sso"] == {"enabled": True, "protocols": ["oidc"], "default": "oidc"}, st["sso"]


def test_tenant_prefix_is_carried_into_the_page():
    cfg = gwtest.seed_config()
    cfg["tenants"] = [{"id": "research", "name": "Research", "path_prefix": "/research"}]
    g = gwtest.Gateway(cfg).start()
    try:
        r = g.get("/research/")
        assert r.status == 200, r
        assert '<meta name="openclaw-base" content="/research">' in r.text, r.text
        src = re.search(r'src="(/research/ui/[^"]+\.js)"', r.text)
        assert src, r.text
        assert g.get(src.group(1)).status == 200
    finally:
        g.stop()


# --------------------------------------------------------------------------------------------
# in the browser (tests/browser/webui.mjs)

def test_browser_sso_sign_in_lands_in_the_chat():
    scenario("sso_sign_in")


def test_browser_admin_token_sign_in_beside_sso():
    scenario("admin_sign_in")


def test_browser_answer_streams_in():
    scenario("chat_streams")


def test_browser_stop_generation():
    scenario("stop_generation")


def test_browser_gateway_errors_in_plain_words():
    scenario("errors_plain_words")


def test_browser_agent_answer_xss_renders_as_text():
    scenario("xss_agent_answer")


def test_browser_visualization_inline_in_an_answer():
    scenario("viz_inline")


def test_browser_parked_action_approved_in_the_inbox():
    scenario("approval_parked_and_approved")


def test_browser_conversations_reopen_continue_export_delete():
    scenario("conversations")


def test_browser_long_conversation_in_pages():
    scenario("conversation_pages")


def test_browser_dependency_graph():
    scenario("viz_graph")


def test_browser_eisenhower_matrix():
    scenario("viz_matrix")


def test_browser_mind_map():
    scenario("viz_mindmap")


def test_browser_admin_tokens_create_and_revoke():
    scenario("admin_tokens")


def test_browser_admin_namespace_grants():
    scenario("admin_namespaces")


def test_browser_admin_providers_and_models():
    scenario("admin_models")


def test_browser_admin_policy_edit_422_and_explain():
    scenario("admin_policy")


def test_browser_admin_audit_verify():
    scenario("admin_audit")


def test_browser_token_page_without_sso():
    scenario("token_sign_in")


def test_browser_expired_session_keeps_the_draft():
    scenario("expired_session_keeps_draft")


def test_browser_sign_out_local_and_idp():
    scenario("sign_out")


def test_browser_accessibility_of_every_main_screen():
    scenario("a11y")


def test_browser_phone_viewport_and_dark_theme():
    scenario("phone_and_dark")


def test_browser_screenshots_kept():
    BROWSER()
    shots = [f for f in os.listdir(ARTIFACTS) if f.endswith(".png")]
    for name in ("signin-token", "chat", "chat-conversations", "approvals", "canvas-graph",
                 "canvas-matrix", "canvas-mindmap", "admin-audit", "admin-tokens", "admin-costs",
                 "admin-policies", "admin-namespaces", "admin-models", "admin-sessions", "admin-status",
                 "chat-phone", "chat-dark"):
        assert name + ".png" in shots, "screenshot %s missing (have %s)" % (name, shots)


if __name__ == "__main__":
    gwtest.main(globals())
