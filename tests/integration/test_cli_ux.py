# SPDX-License-Identifier: MIT
"""What the `openclaw` CLI says when something is not right, end to end: "did you mean" for
commands, subcommands and options; the hint when no token is configured; a URL that answers but
is not an OpenClaw gateway (an HTML error page, HTML or foreign JSON on /api/v1/status); a
gateway that accepts connections but never answers (a local socket server) told apart from one
that cannot be reached, for API calls and agent turns; TLS with a private CA (--cacert,
OPENCLAW_CA_BUNDLE, config ca_bundle) and each certificate problem named (untrusted issuer,
expired, another host name, a port without TLS); `admin reload` with the errors of a refused
file; and the generated bash completion, run in bash."""

import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import gwtest
from gwtest import ADMIN_TOKEN, cli

GW = gwtest.Lazy(lambda: gwtest.Gateway(gwtest.seed_config()).start())


# --- did you mean, and hints ----------------------------------------------------------------

def test_did_you_mean_for_commands_subcommands_and_options():
    for args, want in ((("tokns", "list"), "unknown command 'tokns' (did you mean tokens?)"),
                       (("agents", "regster", "a/b"),
                        "unknown agents subcommand 'regster' (did you mean register?)"),
                       (("tokens", "create", "--scpoe", "x"),
                        "unknown option --scpoe (did you mean --scope?)"),
                       (("--jsno", "status"), "unknown option --jsno (did you mean --json?)"),
                       (("config", "set", "gatway_url", "http://x"),
                        "(did you mean gateway_url?)")):
        r = cli(*args, url="http://127.0.0.1:1")
        assert r.rc == 2 and want in r.err, (args, r)
    r = cli("frobnicate", url="http://127.0.0.1:1")
    assert r.rc == 2 and "did you mean" not in r.err, r


def test_no_token_is_a_hint_not_a_riddle():
    g = GW()
    r = cli("agents", "list", url=g.url)
    assert r.rc == 3, r
    assert "hint: no token: run `openclaw auth login` or set OPENCLAW_TOKEN" in r.err, r.err
    # a token that is wrong gets the gateway's error, not the no-token hint
    r = cli("agents", "list", url=g.url, token="wrong-token-" + "x" * 20)
    assert r.rc == 3 and "hint: no token" not in r.err, r.err


class _Foreign(http.server.BaseHTTPRequestHandler):
    """A web server that is not a gateway: an HTML 404 page everywhere; /api/v1/status answers
    200 with HTML, or with JSON of another service under /json/."""

    def do_GET(self):
        if self.path.endswith("/api/v1/status"):
            json_status = self.path.startswith("/json/")
            body = b'{"ok": true}' if json_status else b"<html><body>Welcome</body></html>"
            ctype = "application/json" if json_status else "text/html"
            self.send_response(200)
        else:
            body, ctype = b"<html><body><h1>404 Not Found</h1></body></html>", "text/html"
            self.send_response(404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


def test_a_url_that_is_not_a_gateway_is_named():
    srv, url = _serve(_Foreign)
    try:
        r = cli("agents", "list", url=url, token=ADMIN_TOKEN)
        assert r.rc == 5, r
        assert "error: HTTP 404" in r.err, r.err
        assert ("hint: %s answered HTTP 404 with text/html, not the JSON of an OpenClaw gateway"
                % url) in r.err and "check the gateway URL" in r.err, r.err
        r = cli("status", url=url, token=ADMIN_TOKEN)
        assert r.rc == 1 and "not an OpenClaw gateway's JSON (text/html" in r.err, r
        r = cli("status", url=url + "/json", token=ADMIN_TOKEN)
        assert r.rc == 1 and "answered, but not as an OpenClaw gateway does" in r.err, r
    finally:
        srv.shutdown()
    # the real gateway's own 404 (JSON envelope) gets no such hint
    r = cli("agents", "delete", "engineering/no-such-agent", url=GW().url, token=ADMIN_TOKEN)
    assert r.rc == 5 and "hint:" not in r.err, r


# --- timeouts ---------------------------------------------------------------------------------

class _Silent:
    """Accepts connections and reads, never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_silent_gateway_is_a_timeout_not_an_unreachable_one():
    s = _Silent()
    url = "http://127.0.0.1:%d" % s.port
    try:
        t0 = time.time()
        r = cli("--timeout", "2", "agents", "list", url=url, token=ADMIN_TOKEN)
        took = time.time() - t0
        assert r.rc == 7, r
        assert "the gateway did not answer within 2 s" in r.err, r.err
        assert "cannot connect" not in r.err, r.err
        assert 1.5 < took < 10, took
        r = cli("--timeout", "2", "status", url=url, token=ADMIN_TOKEN)
        assert r.rc == 7 and "Unreachable (the gateway did not answer within 2 s" in r.out, r
        # an agent turn says that the turn may still finish
        r = cli("send", "engineering/code-reviewer", "hi", "--timeout", "2", url=url,
                token=ADMIN_TOKEN)
        assert r.rc == 7 and "did not answer within 2 s; the agent's turn may still finish" \
            in r.err, r.err
    finally:
        s.close()
    # nothing listening: cannot connect
    r = cli("agents", "list", url="http://127.0.0.1:%d" % gwtest.free_port(), token=ADMIN_TOKEN)
    assert r.rc == 7 and "cannot connect to the gateway" in r.err, r
    assert "did not answer" not in r.err, r.err


def test_defaults_api_calls_30_s_agent_turns_300_s():
    r = cli("config", "show", "--json", url="http://127.0.0.1:1")
    assert r.rc == 0, r
    j = r.json()
    assert j["timeout"] == 30 and j["turn_timeout"] == 300, j
    j = cli("config", "show", "--json", "--timeout", "45", url="http://127.0.0.1:1").json()
    assert j["timeout"] == 45 and j["turn_timeout"] == 45, j


# --- TLS with a private CA ------------------------------------------------------------------

def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def _pki():
    d = gwtest.tempdir("gwcli-pki-")
    p = {k: os.path.join(d, k) for k in ("ca.key", "ca.crt", "srv.key", "srv.crt", "old.key",
                                         "old.crt", "other.key", "other.crt")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", p["ca.key"], "-out", p["ca.crt"], "-days", "2",
             "-subj", "/CN=OpenClaw Test Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign")

    def leaf(name, san, days):
        csr = os.path.join(d, name + ".csr")
        _openssl("req", "-new", *ec, "-keyout", p[name + ".key"], "-out", csr,
                 "-subj", "/CN=gateway", "-addext", "subjectAltName=" + san)
        _openssl("x509", "-req", "-in", csr, "-CA", p["ca.crt"], "-CAkey", p["ca.key"],
                 "-days", days, "-copy_extensions", "copy", "-out", p[name + ".crt"])
    leaf("srv", "IP:127.0.0.1,DNS:localhost", "2")
    leaf("old", "IP:127.0.0.1", "-1")                 # expired yesterday
    leaf("other", "DNS:gateway.example.com", "2")     # issued for another name
    return p


PKI = gwtest.Lazy(_pki)


def _tls_gateway(name):
    p = PKI()
    cfg = gwtest.seed_config()
    cfg["gateway"].update({"tls": True, "tls_cert": p[name + ".crt"],
                           "tls_key": p[name + ".key"]})
    g = gwtest.Gateway(config=cfg).start(wait=False)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    end = time.time() + 10
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", g.port), timeout=2)
            ctx.wrap_socket(c).close()
            break
        except OSError:
            assert time.time() < end and g.alive(), g.stderr()[-1000:]
            time.sleep(0.05)
    g.https = "https://127.0.0.1:%d" % g.port
    return g


TLS = gwtest.Lazy(lambda: _tls_gateway("srv"))
TLS_OLD = gwtest.Lazy(lambda: _tls_gateway("old"))
TLS_OTHER = gwtest.Lazy(lambda: _tls_gateway("other"))


def test_private_ca_untrusted_then_trusted_three_ways():
    g, p = TLS(), PKI()
    r = cli("status", url=g.https, token=ADMIN_TOKEN)
    assert r.rc == 7, r
    assert "unable to get local issuer certificate" in r.out + r.err, r
    assert "--cacert FILE, OPENCLAW_CA_BUNDLE=FILE or `openclaw config set ca_bundle FILE`" \
        in r.out + r.err, r
    r = cli("agents", "list", url=g.https, token=ADMIN_TOKEN)
    assert r.rc == 7 and r.err.startswith("error: %s: TLS: " % g.https), r.err
    # --cacert
    r = cli("status", "--cacert", p["ca.crt"], url=g.https, token=ADMIN_TOKEN)
    assert r.rc == 0 and "Status:      Connected" in r.out, r
    # OPENCLAW_CA_BUNDLE
    r = cli("agents", "list", "--json", url=g.https, token=ADMIN_TOKEN,
            env={"OPENCLAW_CA_BUNDLE": p["ca.crt"]})
    assert r.rc == 0 and "agents" in r.json(), r
    # the config file's ca_bundle, set with a relative path and stored absolute
    home = gwtest.tempdir("gwcli-home-")
    r = subprocess.run([gwtest.CLI_BIN, "config", "set", "ca_bundle", "ca.crt"],
                       cwd=os.path.dirname(p["ca.crt"]), capture_output=True, text=True,
                       env=dict(os.environ, HOME=home))
    assert r.returncode == 0, r
    r = cli("config", "get", "ca_bundle", home=home)
    assert r.out.strip() == p["ca.crt"], r
    r = cli("status", home=home, url=g.https, token=ADMIN_TOKEN)
    assert r.rc == 0 and "Connected" in r.out, r
    r = cli("config", "show", home=home, url=g.https)
    assert re.search(r"^CA bundle:\s+%s\s+\(config ca_bundle\)$" % re.escape(p["ca.crt"]),
                     r.out, re.M), r.out
    # a CA bundle that does not vouch for the gateway is named
    r = cli("status", "--cacert", p["old.crt"], url=g.https, token=ADMIN_TOKEN)
    assert r.rc == 7 and "the CA bundle %s (from --cacert) does not vouch for it" % p["old.crt"] \
        in r.out + r.err, r
    # an unreadable bundle is a usage error before any request
    r = cli("status", "--cacert", "/nonexistent/ca.pem", url=g.https)
    assert r.rc == 2 and "cannot read the CA bundle /nonexistent/ca.pem" in r.err, r


def test_each_certificate_problem_is_named():
    p = PKI()
    r = cli("agents", "list", "--cacert", p["ca.crt"], url=TLS_OLD().https, token=ADMIN_TOKEN)
    assert r.rc == 7 and "certificate has expired" in r.err, r.err
    assert "--cacert FILE" not in r.err, "an expired certificate is not a CA problem"
    r = cli("agents", "list", "--cacert", p["ca.crt"], url=TLS_OTHER().https, token=ADMIN_TOKEN)
    assert r.rc == 7 and "not valid for this host name" in r.err, r.err
    # https:// to a port without TLS, and http:// to a TLS port
    r = cli("agents", "list", url="https://127.0.0.1:%d" % GW().port, token=ADMIN_TOKEN)
    assert r.rc == 7 and "TLS: the handshake with the gateway failed" in r.err, r.err
    r = cli("agents", "list", url="http://127.0.0.1:%d" % TLS().port, token=ADMIN_TOKEN)
    assert r.rc != 0, r
    assert "https://" in r.err or "TLS" in r.err, \
        "plain http to a TLS port does not point at https: %r" % r.err


# --- admin reload -----------------------------------------------------------------------------

def test_admin_reload_and_the_errors_of_a_refused_file():
    g = gwtest.Gateway(gwtest.seed_config()).start()
    try:
        r = cli("admin", "reload", url=g.url, token=ADMIN_TOKEN)
        assert r.rc == 0, r
        assert re.match(r"Configuration reloaded: [0-9]+ tokens, [0-9]+ agents, [0-9]+ roles$",
                        r.out.strip()), r.out
        good = open(g.config_path).read()
        g.write_config(good.replace("max_body_bytes:", "max_body_byte:") +
                       "no_such_section: 1\n")
        r = cli("admin", "reload", url=g.url, token=ADMIN_TOKEN)
        assert r.rc == 5, r
        assert r.err.startswith("error: ") and "the running one stays" in r.err, r.err
        errs = [ln for ln in r.err.splitlines() if ln.startswith("  - ")]
        assert len(errs) >= 2, r.err
        assert all(re.match(r"  - .*gateway\.yaml:\d+", ln) for ln in errs), errs
        assert any("max_body_byte" in ln for ln in errs) and \
            any("no_such_section" in ln for ln in errs), errs
        r = cli("admin", "reload", url=g.url, token=gwtest.ENG_TOKEN)
        assert r.rc == 4, r
        g.write_config(good)
        assert cli("admin", "reload", url=g.url, token=ADMIN_TOKEN).rc == 0
    finally:
        g.stop()


# --- bash completion --------------------------------------------------------------------------

def _complete(line):
    """COMPREPLY of the installed completion script for the words of line (the last word is
    the one being completed)."""
    words = line.split(" ")
    script = os.path.join(gwtest.SOURCE_DIR, "share", "bash-completion", "completions",
                          "openclaw")
    prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _openclaw; '
            'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", prog, "bash", script] + words, capture_output=True,
                       text=True, cwd=os.path.dirname(PKI()["ca.crt"]))
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x]


def test_bash_completion_completes_from_the_command_table():
    cases = [("openclaw to", ["tokens", "tools"]),
             ("openclaw sess", ["sessions"]),
             ("openclaw sessions re", ["revoke"]),
             ("openclaw --json admin ", ["reload"]),
             ("openclaw tokens create --sc", ["--scope"]),
             ("openclaw chat eng/bot --no", ["--no-history"]),
             ("openclaw status --ca", ["--cacert"]),
             ("openclaw status --cacert ca.c", ["ca.crt"]),  # a file name
             ("openclaw --gateway http://x sta", ["stats", "status"]),  # an option's value
             ("openclaw help sess", ["sessions"]),
             ("openclaw agents delete eng/", [])]
    for line, want in cases:
        got = sorted(_complete(line))
        assert got == want, "completing %r: %r, want %r" % (line, got, want)


if __name__ == "__main__":
    gwtest.main(globals())
