# SPDX-License-Identifier: MIT
"""Daemon basics: health/readiness/status, request ids, the error envelope, --check-config,
${ENV} substitution, reload (SIGHUP and API) without dropping requests, defaults, SIGTERM."""

import os
import re
import signal
import threading
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, MKT_TOKEN, TENANT, assert_error

GW = gwtest.Lazy(lambda: gwtest.Gateway(gwtest.seed_config()).start())


def _project_version():
    with open(os.path.join(gwtest.SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(\s*\w+\s+VERSION\s+([0-9.]+)", f.read())
    return m.group(1) if m else None


def test_health_endpoints_no_auth():
    g = GW()
    for p in ("/healthz", "/api/v1/health"):
        r = g.get(p)
        assert r.status == 200, "%s: %r" % (p, r)
        assert r.json() == {"status": "ok"}, "%s body %r" % (p, r.json())
        assert r.header("X-Request-Id"), "%s without X-Request-Id" % p


def test_readyz():
    g = GW()
    r = g.get("/readyz")
    assert r.status == 200, repr(r)
    j = r.json()
    assert j.get("ready") is True, "readyz body %r" % j
    assert j.get("checks", {}).get("store") == "ok", "readyz checks %r" % j
    assert j.get("checks", {}).get("audit") == "ok", "readyz checks %r" % j


def test_status_shape_and_plugins():
    g = GW()
    r = g.get("/api/v1/status")
    assert r.status == 200, repr(r)
    j = r.json()
    v = _project_version()
    assert j.get("version") == v, "status.version %r, CMake project version %r" % (j.get("version"), v)
    assert isinstance(j.get("uptime_seconds"), int) and j["uptime_seconds"] >= 0, \
        "uptime_seconds %r" % j.get("uptime_seconds")
    assert j.get("tenant") == TENANT, "status.tenant %r (config says %r)" % (j.get("tenant"), TENANT)
    comps = j.get("components")
    assert isinstance(comps, dict), "components %r" % comps
    for c in ("store", "audit", "http"):
        assert comps.get(c) == "healthy", "component %s = %r" % (c, comps.get(c))
    a = j.get("audit")
    assert isinstance(a, dict), "status.audit %r" % a
    for k in ("appended", "queue_depth", "batches", "failures"):
        assert isinstance(a.get(k), int), "status.audit.%s = %r" % (k, a.get(k))
    plugins = j.get("plugins")
    assert isinstance(plugins, list), "plugins %r" % plugins
    names = [p.get("name") for p in plugins]
    assert sorted(names) == sorted(gwtest.SEED_PLUGINS), \
        "plugin names %r differ from the 14 of seed 000" % names
    states = {p["name"]: p.get("state") for p in plugins}
    assert states["audit-enterprise"] == "active", "audit-enterprise state %r" % states["audit-enterprise"]
    assert any(s == "unavailable" for s in states.values()), \
        "no plugin reported unavailable: %r (this build has no connectors)" % states
    # Truthfulness: nothing in this build talks to Gmail/Jira/... or runs those engines
    # (docs/API.md has no route for them), so they must not claim "active".
    for n in ("connector-gmail", "connector-gcal", "connector-jira", "connector-github",
              "connector-gdrive", "task-intelligence", "auto-response", "work-tracking",
              "ocip-protocol", "org-intelligence", "visualization"):
        assert states[n] != "active", "plugin %s claims active but this build does not run it" % n
    assert "principal" not in j, "anonymous status must not carry a principal: %r" % j.get("principal")


def test_status_with_token_has_principal():
    g = GW()
    r = g.get("/api/v1/status", token=ENG_TOKEN)
    assert r.status == 200, repr(r)
    p = r.json().get("principal")
    assert isinstance(p, dict), "status with bearer token lacks principal: %r" % r.json()
    assert p.get("token_id") == "team-engineering", "principal %r" % p
    assert p.get("tenant") == TENANT, "principal tenant %r" % p


def test_userinfo():
    g = GW()
    r = g.get("/api/v1/auth/userinfo", token=ENG_TOKEN)
    assert r.status == 200, repr(r)
    j = r.json()
    for k in ("user", "email", "name", "role", "tenant", "org_unit", "team", "token_id", "scopes",
              "permissions"):
        assert k in j, "userinfo lacks %r: %r" % (k, j)
    assert j["user"] == "token:team-engineering", "user %r" % j["user"]
    assert j["tenant"] == TENANT
    assert sorted(j["scopes"]) == sorted(["channels:engineering/*", "memory:read", "memory:write"]), \
        "scopes %r" % j["scopes"]


def test_request_id_everywhere():
    g = GW()
    cases = [("GET", "/healthz", None), ("GET", "/api/v1/status", None),
             ("GET", "/api/v1/no-such-route", None), ("GET", "/nothing/here", None),
             ("GET", "/api/v1/tokens", None), ("GET", "/api/v1/tokens", "bogus-token-123"),
             ("GET", "/api/v1/tokens", ENG_TOKEN), ("DELETE", "/api/v1/health", None)]
    seen = set()
    for m, p, tok in cases:
        r = g.req(m, p, token=tok)
        rid = r.header("X-Request-Id")
        assert rid, "%s %s -> %d without X-Request-Id" % (m, p, r.status)
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), "generated request id %r" % rid
        assert rid not in seen, "request id %r reused" % rid
        seen.add(rid)


def test_client_request_id_echoed_or_replaced():
    g = GW()
    r = g.get("/api/v1/health", headers={"X-Request-Id": "client-req.42_x"})
    assert r.header("X-Request-Id") == "client-req.42_x", "valid client id not echoed: %r" % r.header("X-Request-Id")
    for bad in ("has space", "a" * 65, "semi;colon", "<script>"):
        r = g.get("/api/v1/health", headers={"X-Request-Id": bad})
        rid = r.header("X-Request-Id")
        assert rid and rid != bad and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), \
            "invalid client id %r must be replaced, got %r" % (bad, rid)


def test_error_envelope_404_401_403_405():
    g = GW()
    assert_error(g.get("/api/v1/no-such-route", token=ADMIN_TOKEN), 404, "not_found")
    assert_error(g.get("/definitely/not/here"), 404, "not_found")
    r = g.get("/api/v1/tokens")
    assert_error(r, 401, "unauthenticated")
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer"), \
        "401 without WWW-Authenticate: Bearer (%r)" % r.header("WWW-Authenticate")
    assert_error(g.get("/api/v1/tokens", token=ENG_TOKEN), 403, "forbidden", msg_contains="tokens:read")
    r = g.req("DELETE", "/api/v1/health")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in (r.header("Allow") or ""), "405 without Allow listing GET: %r" % r.header("Allow")


def test_error_envelope_uses_client_request_id():
    g = GW()
    r = g.get("/api/v1/nope", headers={"X-Request-Id": "trace-404-abc"})
    e = assert_error(r, 404, "not_found")
    assert e["request_id"] == "trace-404-abc", "envelope request_id %r" % e["request_id"]


# --- --check-config ---------------------------------------------------------------------------

GOOD_YAML = """\
gateway:
  port: 8080
auth:
  tokens:
    - id: team-engineering
      token: "eng-token-xxxxx-long-enough-0123456789"
      scopes: ["channels:engineering/*", "memory:read", "memory:write"]
audit:
  enabled: true
  log_path: audit.jsonl
  log_level: audit
"""


def _write(text, name="gateway.yaml"):
    d = gwtest.tempdir()
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def _expect_invalid(text, line, what, env=None):
    p = _write(text)
    rc, out, err = gwtest.check_config(p, env=env)
    assert rc == 78, "%s: --check-config exit %d (want 78); stderr %r" % (what, rc, err[-500:])
    pat = re.escape(p) + r":%d:" % line
    alt = re.escape(os.path.basename(p)) + r":%d:" % line
    assert re.search(pat, err) or re.search(alt, err), \
        "%s: stderr lacks '%s:%d: message': %r" % (what, p, line, err[-800:])


def test_check_config_good():
    p = _write(GOOD_YAML)
    rc, out, err = gwtest.check_config(p)
    assert rc == 0, "good config rejected (exit %d): %r" % (rc, err[-800:])


def test_check_config_seed003_example():
    # The seed's own example (TLS paths removed: they do not exist here).
    text = GOOD_YAML.replace("audit:\n", "namespaces:\n  engineering:\n"
                             "    shared_memory_path: ./memory/engineering/shared.md\n"
                             "  marketing:\n    shared_memory_path: ./memory/marketing/shared.md\n"
                             "audit:\n")
    rc, out, err = gwtest.check_config(_write(text))
    assert rc == 0, "seed 003 shaped config rejected (exit %d): %r" % (rc, err[-800:])


def test_check_config_unknown_key():
    text = GOOD_YAML.replace("  port: 8080\n", "  port: 8080\n  prot: 9090\n")
    _expect_invalid(text, 3, "unknown key gateway.prot")


def test_check_config_bad_port():
    _expect_invalid(GOOD_YAML.replace("port: 8080", "port: 70000"), 2, "port 70000")
    _expect_invalid(GOOD_YAML.replace("port: 8080", "port: eighty"), 2, "port 'eighty'")


def test_check_config_yaml_syntax_error():
    text = GOOD_YAML.replace('      scopes: ["channels:engineering/*", "memory:read", "memory:write"]',
                             '      scopes: ["channels:engineering/*", "memory:read"')
    # the unterminated flow sequence is reported where the parser gives up: accept lines 7-9
    p = _write(text)
    rc, out, err = gwtest.check_config(p)
    assert rc == 78, "YAML syntax error: exit %d; stderr %r" % (rc, err[-500:])
    assert re.search(re.escape(os.path.basename(p)) + r":\d+:", err), \
        "YAML syntax error without file:line: %r" % err[-500:]
    p = _write("gateway:\n  port: 8080\n   host: x\n")
    rc, out, err = gwtest.check_config(p)
    assert rc == 78, "bad indentation: exit %d; %r" % (rc, err)
    assert re.search(re.escape(os.path.basename(p)) + r":3:", err), "bad indentation not at line 3: %r" % err


def test_check_config_missing_env():
    text = GOOD_YAML.replace('"eng-token-xxxxx-long-enough-0123456789"', '"${GWTEST_SURELY_UNSET_VAR}"')
    env = {"GWTEST_SURELY_UNSET_VAR": ""}
    os.environ.pop("GWTEST_SURELY_UNSET_VAR", None)
    p = _write(text)
    rc, out, err = gwtest.check_config(p)
    assert rc == 78, "missing ${ENV}: exit %d; %r" % (rc, err[-500:])
    assert re.search(re.escape(os.path.basename(p)) + r":6:", err), "missing ${ENV} not reported at line 6: %r" % err
    assert "GWTEST_SURELY_UNSET_VAR" in err, "message does not name the variable: %r" % err
    # with the variable set it is valid, and ${VAR:-default} needs no variable
    rc, out, err = gwtest.check_config(p, env={"GWTEST_SURELY_UNSET_VAR": "x" * 40})
    assert rc == 0, "with the variable set: exit %d %r" % (rc, err)
    del env
    p2 = _write(GOOD_YAML.replace('"eng-token-xxxxx-long-enough-0123456789"',
                                  '"${GWTEST_SURELY_UNSET_VAR:-default-token-value-0123456789}"'))
    rc, out, err = gwtest.check_config(p2)
    assert rc == 0, "${VAR:-default} rejected: exit %d %r" % (rc, err)


def test_env_substitution_token_authenticates():
    secret = "env-supplied-token-" + os.urandom(12).hex()
    cfg = gwtest.seed_config()
    cfg["auth"]["tokens"].append({"id": "from-env", "token": "${GWTEST_ENV_TOKEN}", "scopes": ["agents:read"]})
    g = gwtest.Gateway(cfg, env={"GWTEST_ENV_TOKEN": secret}).start()
    try:
        r = g.get("/api/v1/auth/userinfo", token=secret)
        assert r.status == 200, "token from ${ENV} does not authenticate: %r" % r
        assert r.json().get("token_id") == "from-env", repr(r.json())
        r = g.get("/api/v1/auth/userinfo", token="${GWTEST_ENV_TOKEN}")
        assert r.status == 401, "the literal ${...} text must not be a valid token: %r" % r
    finally:
        g.stop()


# --- reload -----------------------------------------------------------------------------------

def _hammer(g, stop, results, token):
    import http.client
    conn = None
    n = 0
    while not stop.is_set() and n < 20000:
        n += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=5)
            r = gwtest.http_request(g.port, "GET", "/api/v1/auth/userinfo", token=token, conn=conn)
            results.append(r.status)
            if r.header("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:
            results.append("%s: %s" % (type(e).__name__, e))
            try:
                conn.close()
            except Exception:
                pass
            conn = None
    if conn:
        conn.close()


def test_sighup_reload_adds_token_without_dropping_requests():
    cfg = gwtest.seed_config()
    g = gwtest.Gateway(cfg).start()
    try:
        new_secret = "hup-token-" + os.urandom(16).hex()
        assert g.get("/api/v1/auth/userinfo", token=new_secret).status == 401
        stop = threading.Event()
        results = []
        threads = [threading.Thread(target=_hammer, args=(g, stop, results, ENG_TOKEN)) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        cfg["auth"]["tokens"].append({"id": "added-by-hup", "token": new_secret, "scopes": ["agents:read"]})
        g.write_config(cfg)
        pid_before = g.proc.pid
        g.sighup()
        ok = gwtest.wait_until(lambda: g.get("/api/v1/auth/userinfo", token=new_secret).status == 200,
                               timeout=5, what="new token to work after SIGHUP")
        time.sleep(0.3)
        for _ in range(3):  # a few more reloads while the load runs
            g.sighup()
            time.sleep(0.2)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(10)
        assert ok and g.alive() and g.proc.pid == pid_before, "daemon restarted or died"
        bad = [x for x in results if x != 200]
        assert results, "the request loop did not run"
        assert not bad, "%d of %d requests failed during reload: %r" % (len(bad), len(results), bad[:5])
        r = g.get("/api/v1/auth/userinfo", token=ENG_TOKEN)
        assert r.status == 200, "old token broken after reload: %r" % r
    finally:
        g.stop()


def test_api_reload_and_invalid_reload_keeps_running_config():
    cfg = gwtest.seed_config()
    g = gwtest.Gateway(cfg).start()
    try:
        assert_error(g.post("/api/v1/admin/reload", token=ENG_TOKEN), 403, "forbidden", msg_contains="admin:reload")
        secret = "api-reload-" + os.urandom(16).hex()
        cfg["auth"]["tokens"].append({"id": "added-by-api", "token": secret, "scopes": ["agents:read"]})
        g.write_config(cfg)
        r = g.post("/api/v1/admin/reload", token=ADMIN_TOKEN)
        assert r.status == 200, "reload: %r" % r
        j = r.json()
        listed = g.get("/api/v1/tokens", token=ADMIN_TOKEN).json()["tokens"]
        active = [t for t in listed if not t.get("revoked_at")]
        n_cfg = len([t for t in active if t.get("source") == "config"])
        assert n_cfg == 4, "config tokens after reload: %r" % [t["id"] for t in active]
        assert j.get("reloaded") is True and j.get("tokens") in (4, len(active)), \
            "reload body %r (4 config tokens, %d active in all)" % (j, len(active))
        for k in ("agents", "roles"):
            assert isinstance(j.get(k), int), "reload body lacks %s: %r" % (k, j)
        assert g.get("/api/v1/auth/userinfo", token=secret).status == 200, "reloaded token does not work"
        # an invalid file: 400 with the errors, running config unchanged
        with open(g.config_path, "a") as f:
            f.write("bogus_top_level_key: 1\n")
        r = g.post("/api/v1/admin/reload", token=ADMIN_TOKEN)
        e = assert_error(r, 400, ("invalid_request", "invalid_config"))
        assert "bogus_top_level_key" in e["message"] or "bogus_top_level_key" in r.text, \
            "400 does not name the bad key: %r" % r.json()
        assert g.get("/api/v1/auth/userinfo", token=secret).status == 200, "invalid reload dropped config"
        g.sighup()  # SIGHUP with the invalid file: keeps running, old config stays
        time.sleep(0.5)
        assert g.alive(), "SIGHUP with an invalid config killed the daemon"
        assert g.get("/api/v1/auth/userinfo", token=secret).status == 200
        assert g.get("/readyz").status == 200
    finally:
        g.stop()


def test_runs_on_defaults_without_config_and_bootstrap_token_once():
    g = gwtest.Gateway(no_config=True).start()
    try:
        out = gwtest.wait_until(lambda: g.bootstrap_token() and g.stdout(), timeout=3,
                                what="'Bootstrap admin token:' on stdout")
        tok = g.bootstrap_token()
        assert "Listening on http://127.0.0.1:%d" % g.port in out, "no Listening line: %r" % out
        r = g.get("/api/v1/auth/userinfo", token=tok)
        assert r.status == 200, "bootstrap token rejected: %r" % r
        assert "*" in r.json().get("scopes", []), "bootstrap token scopes %r" % r.json().get("scopes")
        assert g.get("/api/v1/tokens", token=tok).status == 200
        assert tok not in g.stderr(), "bootstrap secret leaked to stderr"
        j = g.get("/api/v1/status").json()
        assert j.get("tenant") == "default", "default tenant %r" % j.get("tenant")
        log = ""
        for root, _, files in os.walk(g.data_dir):
            for fn in files:
                if fn.endswith(".jsonl"):
                    with open(os.path.join(root, fn), errors="replace") as f:
                        log += f.read()
        assert tok not in log, "bootstrap secret in the audit log"
    finally:
        g.stop()
    # second start on the same data dir: no new bootstrap token, old one still valid
    g2 = gwtest.Gateway(no_config=True, data_dir=g.data_dir).start()
    try:
        time.sleep(0.2)
        assert g2.bootstrap_token() is None, "bootstrap token printed again on a non-empty data dir"
        assert g2.get("/api/v1/auth/userinfo", token=tok).status == 200, "bootstrap token lost on restart"
    finally:
        g2.stop()


def test_sigterm_exits_zero_and_drains():
    g = gwtest.Gateway(gwtest.seed_config()).start()
    assert g.get("/api/v1/health").status == 200
    t0 = time.time()
    code = g.stop(check=False)
    assert code == 0, "SIGTERM exit %r; stderr %s" % (code, g.stderr()[-800:])
    assert time.time() - t0 < 5, "shutdown took %.1f s" % (time.time() - t0)


def test_sigterm_with_a_drain_grace_says_draining_and_still_serves():
    cfg = gwtest.seed_config()
    cfg["gateway"]["drain_grace_ms"] = 1500
    g = gwtest.Gateway(cfg).start()
    assert g.get("/readyz").status == 200
    t0 = time.time()
    g.signal(signal.SIGTERM)
    r = gwtest.wait_until(lambda: g.get("/readyz").status == 503 and g.get("/readyz"), 1,
                          what="/readyz 503 after SIGTERM")
    assert r.json()["draining"] is True and r.json()["ready"] is False, r.text
    # a load balancer still has this node until its health check fails: requests are served
    assert g.get("/api/v1/auth/userinfo", token=ADMIN_TOKEN).status == 200
    assert g.proc.poll() is None, "the listener closed before the grace ended"
    g.proc.wait(gwtest.STOP_DEADLINE_S)
    assert g.proc.returncode == 0, g.stderr()[-800:]
    assert time.time() - t0 >= 1.4, "the grace ended after %.2f s" % (time.time() - t0)
    assert "answers 503 for 1500 ms" in g.stderr(), g.stderr()[-800:]


def test_a_second_sigterm_ends_the_grace():
    cfg = gwtest.seed_config()
    cfg["gateway"]["drain_grace_ms"] = 60000
    g = gwtest.Gateway(cfg).start()
    g.signal(signal.SIGTERM)
    gwtest.wait_until(lambda: g.get("/readyz").status == 503, 1, what="draining")
    t0 = time.time()
    g.signal(signal.SIGTERM)
    g.proc.wait(gwtest.STOP_DEADLINE_S)
    assert g.proc.returncode == 0 and time.time() - t0 < 5, g.stderr()[-800:]


if __name__ == "__main__":
    gwtest.main(globals())
