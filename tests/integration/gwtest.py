# SPDX-License-Identifier: MIT
"""gwtest — the black-box harness shared by tests/integration/test_*.py.

It starts the real `openclaw-gateway` binary on a free loopback port with a temporary data
directory and a generated gateway.yaml, waits for /readyz (10 s deadline), talks HTTP to it
(http.client for normal requests, raw sockets for malformed ones), runs the `openclaw` CLI and
stops the daemon with SIGTERM, checking that it exits 0. Python 3 standard library only.
Every answer http_request receives on a route of docs/openapi.json is checked against it
(apicontract.py): a test that receives a non-conforming answer fails.

A test file defines functions named test_* and ends with `gwtest.main(globals())`, which runs
them in source order, prints PASS/FAIL lines with the assertion message and a final
"N passed, N failed" line, and exits non-zero when anything failed (including a daemon that does
not shut down cleanly). Set GWTEST_KEEP=1 to keep the temporary directories for inspection.

The store's backend comes from the environment: GWTEST_STORE=postgresql with GWTEST_PG (the
conninfo tests/pg/cluster.sh prints) gives every gateway whose configuration the harness writes
a `store: {backend: postgresql, url: ...}` section and a schema of its own in that database
(one per data directory, so a restarted gateway finds its state), and `Gateway.db()` answers
from it through pgwire; otherwise each gateway keeps SQLite in its data directory.
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import apicontract
import pgwire

SOURCE_DIR = os.environ.get("OPENCLAW_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("OPENCLAW_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
GATEWAY_BIN = os.path.join(BUILD_DIR, "openclaw-gateway")
CLI_BIN = os.path.join(BUILD_DIR, "openclaw")

READY_DEADLINE_S = 10.0
STOP_DEADLINE_S = 15.0  # the daemon drains for up to 10 s
KEEP = os.environ.get("GWTEST_KEEP") == "1"

# The 14 enterprise plugins named in seed 000 ("Enterprise Plugins:" of `openclaw status`).
SEED_PLUGINS = [
    "policy-engine", "audit-enterprise", "auth-enterprise", "connector-gmail", "connector-gcal",
    "connector-jira", "connector-github", "connector-gdrive", "task-intelligence",
    "auto-response", "work-tracking", "ocip-protocol", "org-intelligence", "visualization",
]

# Token secrets used by the seed-003 style configuration (the seed's "eng-token-xxxxx" shape,
# made long enough for any minimum-length rule).
ENG_TOKEN = "eng-token-3f9a1c7e5b2d4a6c8e0f1a2b3c4d5e6f"
MKT_TOKEN = "mkt-token-8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
ADMIN_TOKEN = "admin-token-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TENANT = "acme-corp"

PG = os.environ.get("GWTEST_STORE") == "postgresql"
PG_CONNINFO = os.environ.get("GWTEST_PG", "")

_tmpdirs = []
_live = []


def _cleanup():
    for g in list(_live):
        try:
            g.kill()
        except Exception:
            pass
    if not KEEP:
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def tempdir(prefix="gwtest-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------------------------
# YAML (a tiny emitter: dicts, lists, scalars; strings double-quoted, which YAML and JSON share)

def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, Raw):
        return v.text
    return json.dumps(str(v), ensure_ascii=False)


class Raw:
    """A scalar written verbatim (e.g. "${ENG_TOKEN}" unquoted)."""

    def __init__(self, text):
        self.text = text


def to_yaml(obj, indent=0):
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
            elif isinstance(v, list) and v and any(isinstance(x, (dict, list)) for x in v):
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
            elif isinstance(v, list):
                out.append("%s%s: [%s]" % (pad, k, ", ".join(_scalar(x) for x in v)))
            elif isinstance(v, dict):
                out.append("%s%s: {}" % (pad, k))
            else:
                out.append("%s%s: %s" % (pad, k, _scalar(v)))
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                sub = to_yaml(item, indent + 1).split("\n")
                first = sub[0].lstrip()
                out.append("%s- %s" % (pad, first))
                out.extend(sub[1:])
            else:
                out.append("%s- %s" % (pad, _scalar(item)))
    else:
        out.append(pad + _scalar(obj))
    return "\n".join(x for x in out if x != "")


def seed_config(port=None, **over):
    """The seed-003 gateway.yaml shape with test-friendly limits. Keyword arguments override
    top-level sections (a dict is merged one level deep)."""
    cfg = {
        "gateway": {
            "host": "127.0.0.1",
            "port": port or 8080,
            "limits": {
                "max_body_bytes": 1048576,
                "max_header_bytes": 8192,
                "max_connections": 256,
                "max_connections_per_ip": 256,
                "header_timeout_s": 10,
                "request_timeout_s": 30,
                "idle_timeout_s": 30,
                "max_memory_bytes": 65536,
                "max_message_bytes": 65536,
            },
        },
        "tenant": {"id": TENANT, "name": "Acme Corp"},
        "auth": {
            "failed_auth_limit": 10000,
            "tokens": [
                {"id": "team-engineering", "token": ENG_TOKEN,
                 "scopes": ["channels:engineering/*", "memory:read", "memory:write"]},
                {"id": "team-marketing", "token": MKT_TOKEN,
                 "scopes": ["channels:marketing/*", "memory:read"]},
                {"id": "admin", "token": ADMIN_TOKEN, "scopes": ["*"]},
            ],
        },
        "audit": {
            "enabled": True,
            "log_path": "audit.jsonl",
            "log_level": "audit",
        },
        # tests start from no policies at all unless they say otherwise (a fresh gateway
        # writes the starter set: test_starter_policy.py)
        "policy": {"starter": False},
        "namespaces": {
            "engineering": {"shared_memory_path": "./memory/engineering/shared.md",
                            "members": {"org_units": ["engineering"]}},
            "marketing": {"shared_memory_path": "./memory/marketing/shared.md",
                          "members": {"org_units": ["marketing"]}},
        },
        "agents": [
            {"name": "engineering/code-reviewer", "channel": "engineering/code-reviewer",
             "memory_path": "./memory/engineering/code-reviewer.md"},
            {"name": "marketing/content-writer", "channel": "marketing/content-writer",
             "memory_path": "./memory/marketing/content-writer.md"},
        ],
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            merged = dict(cfg[k])
            for k2, v2 in v.items():
                if isinstance(v2, dict) and isinstance(merged.get(k2), dict):
                    m2 = dict(merged[k2])
                    m2.update(v2)
                    merged[k2] = m2
                else:
                    merged[k2] = v2
            cfg[k] = merged
        elif v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    return cfg


# The enterprise data policy that lets exports of the audit trail (confidential when it logs
# content) go to the caller: audit exports are data exports, denied without a data policy.
EXPORT_POLICY = {"scope": "enterprise", "domain": "data",
                 "content": {"allow_data_export": True,
                             "export_max_classification": "confidential"}}


def policy_bundle(entries):
    """A policy bundle file (policy.bundle) of the given entries."""
    d = tempdir("gwtest-bundle-")
    path = os.path.join(d, "policies.yaml")
    with open(path, "w") as f:
        f.write(to_yaml(list(entries)) + "\n")
    return path


def allow_exports(cfg, *more):
    """cfg with a policy bundle of EXPORT_POLICY (and more entries): for tests that export."""
    cfg.setdefault("policy", {})["bundle"] = policy_bundle([EXPORT_POLICY] + list(more))
    return cfg


# --------------------------------------------------------------------------------------------
# HTTP

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception as e:
            raise AssertionError("response is not JSON (%s): status %d body %r"
                                 % (e, self.status, self.body[:300]))

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.body[:300])


def http_request(port, method, path, body=None, headers=None, token=None, timeout=10.0,
                 conn=None):
    """One request with http.client; the path is sent exactly as given (no normalization).
    The answer is checked against docs/openapi.json (AssertionError when it does not match)."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        # a Host header given by the test replaces http.client's own (tenant routing)
        conn.putrequest(method, path, skip_accept_encoding=True,
                        skip_host=any(k.lower() == "host" for k in hdrs))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None and not any(k.lower() == "content-length" for k in hdrs):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        resp = Response(r.status, r.reason, r.getheaders(), data)
    finally:
        if own:
            conn.close()
    # every answer on a documented route must match docs/openapi.json (apicontract.py)
    apicontract.check(SOURCE_DIR, method, path, resp)
    return resp


def raw_exchange(port, data, timeout=5.0, read_all=True, chunks=None, delay=0.0):
    """Sends raw bytes (or a list of chunks with delay between them) and returns what came
    back before the server closed the connection or the timeout hit. Send errors are ignored
    (a server may reject early and close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        parts = chunks if chunks is not None else [data]
        for p in parts:
            try:
                s.sendall(p)
            except OSError:
                break
            if delay:
                time.sleep(delay)
        try:
            s.shutdown(socket.SHUT_WR) if read_all else None
        except OSError:
            pass
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not b:
                break
            got += b
            if not read_all and b"\r\n\r\n" in got:
                break
    finally:
        s.close()
    return got


def parse_raw_response(data):
    """(status, headers dict lowercased, body) of the first response in data, or None."""
    if not data or not data.startswith(b"HTTP/"):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except Exception:
        return None
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return status, hdrs, body


def assert_error(resp, status, code=None, msg_contains=None):
    """Checks status and the {"error":{"code","message","request_id"}} envelope."""
    assert resp.status == status, "expected HTTP %d, got %r" % (status, resp)
    j = resp.json()
    assert isinstance(j, dict) and isinstance(j.get("error"), dict), \
        "error envelope missing: %r" % (j,)
    e = j["error"]
    for k in ("code", "message", "request_id"):
        assert isinstance(e.get(k), str) and e.get(k), "error.%s missing/empty in %r" % (k, j)
    if code is not None:
        codes = code if isinstance(code, (list, tuple)) else [code]
        assert e["code"] in codes, "error.code %r, expected %r (%r)" % (e["code"], code, j)
    rid = resp.header("X-Request-Id")
    assert rid and e["request_id"] == rid, \
        "error.request_id %r != X-Request-Id header %r" % (e["request_id"], rid)
    if msg_contains is not None:
        assert msg_contains in e["message"], \
            "error.message %r does not mention %r" % (e["message"], msg_contains)
    return e


# --------------------------------------------------------------------------------------------
# The daemon

class Gateway:
    def __init__(self, config=None, config_text=None, data_dir=None, env=None, port=None,
                 no_config=False, extra_args=None, write_config=True):
        self.port = port or free_port()
        self.dir = tempdir()
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.config_path = None if no_config else os.path.join(self.dir, "gateway.yaml")
        if config is None and config_text is None and not no_config:
            config = seed_config()
        if isinstance(config, dict):
            config.setdefault("gateway", {})["port"] = self.port
        self.config = config
        if self.config_path and write_config:
            self.write_config(config if config_text is None else config_text)
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.extra_args = list(extra_args or [])
        self.proc = None
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.exit_code = None

    # config ----------------------------------------------------------------------------
    def write_config(self, config):
        config = self.with_store(config)
        text = config if isinstance(config, str) else to_yaml(config) + "\n"
        if isinstance(config, dict):
            self.config = config
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    @property
    def audit_log_path(self):
        p = None
        if isinstance(self.config, dict):
            p = self.config.get("audit", {}).get("log_path")
        if not p:
            return None
        return p if os.path.isabs(p) else os.path.join(self.data_dir, p)

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "gateway.db")

    # PostgreSQL --------------------------------------------------------------------------
    @property
    def pg_schema(self):
        """This data directory's schema in the test database, created on first use."""
        marker = os.path.join(self.data_dir, ".gwtest-pg-schema")
        try:
            with open(marker) as f:
                return f.read().strip()
        except OSError:
            pass
        name = "g_" + os.urandom(8).hex()
        c = pgwire.connect(PG_CONNINFO)
        try:
            c.execute("CREATE SCHEMA " + name)
        finally:
            c.close()
        with open(marker, "w") as f:
            f.write(name)
        return name

    @property
    def store_url(self):
        return "%s options='-csearch_path=%s'" % (PG_CONNINFO, self.pg_schema)

    def with_store(self, config):
        """config (a dict or YAML text) with this gateway's store section, on PostgreSQL."""
        if not PG:
            return config
        if isinstance(config, dict):
            if "store" not in config:
                config = dict(config)
                config["store"] = {"backend": "postgresql", "url": self.store_url}
            return config
        lines = [ln for ln in config.splitlines() if ln.strip() and not ln.startswith("#")]
        if lines and re.match(r"^[A-Za-z_]\w*:", lines[0]) and \
                not re.search(r"^store:", config, re.M):
            config = config.rstrip("\n") + "\nstore:\n  backend: postgresql\n  url: %s\n" % (
                json.dumps(self.store_url))
        return config

    # process ---------------------------------------------------------------------------
    def argv(self):
        a = [GATEWAY_BIN]
        if self.config_path:
            a += ["--config", self.config_path]
        a += ["--data-dir", self.data_dir, "--port", str(self.port)] + self.extra_args
        return a

    def start(self, wait=True):
        assert os.access(GATEWAY_BIN, os.X_OK), "gateway binary not built: %s" % GATEWAY_BIN
        self.out_f = open(self.stdout_path, "ab")
        self.err_f = open(self.stderr_path, "ab")
        self.t_start = time.time()
        self.proc = subprocess.Popen(self.argv(), stdout=self.out_f, stderr=self.err_f,
                                     stdin=subprocess.DEVNULL, env=self.env, cwd=self.dir)
        _live.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, deadline_s=READY_DEADLINE_S):
        end = time.time() + deadline_s
        last = None
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("gateway exited with %s before ready; stderr: %s"
                                     % (self.proc.returncode, self.stderr()[-2000:]))
            try:
                r = http_request(self.port, "GET", "/readyz", timeout=2)
                last = r
                if r.status == 200:
                    return self
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("gateway not ready within %.0f s (last: %r); stderr: %s"
                             % (deadline_s, last, self.stderr()[-2000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stdout(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def bootstrap_token(self):
        m = re.search(r"Bootstrap admin token: (\S+)", self.stdout())
        return m.group(1) if m else None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, check=True):
        """SIGTERM, wait, and (with check) assert exit status 0."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if self in _live:
                    _live.remove(self)
                raise AssertionError("gateway did not exit within %.0f s of SIGTERM"
                                     % STOP_DEADLINE_S)
        self.exit_code = self.proc.returncode
        if self in _live:
            _live.remove(self)
        for f in (getattr(self, "out_f", None), getattr(self, "err_f", None)):
            if f:
                f.close()
        if check:
            assert self.exit_code == 0, "gateway exited %s after SIGTERM; stderr: %s" % (
                self.exit_code, self.stderr()[-2000:])
        return self.exit_code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in _live:
            _live.remove(self)

    # HTTP ------------------------------------------------------------------------------
    def req(self, method, path, body=None, token=None, headers=None, timeout=10.0, conn=None):
        return http_request(self.port, method, path, body=body, headers=headers, token=token,
                            timeout=timeout, conn=conn)

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.req("POST", path, body=body, token=token, **kw)

    def put_memory(self, path, text, token, content_type="text/markdown; charset=utf-8"):
        data = text.encode("utf-8") if isinstance(text, str) else text
        return self.req("PUT", "/api/v1/memory/" + path, body=data, token=token,
                        headers={"Content-Type": content_type})

    def raw(self, data, **kw):
        return raw_exchange(self.port, data, **kw)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # audit -----------------------------------------------------------------------------
    def audit_query(self, token=ADMIN_TOKEN, **params):
        from urllib.parse import urlencode
        q = urlencode({k: v for k, v in params.items() if v is not None})
        r = self.get("/api/v1/audit" + ("?" + q if q else ""), token=token)
        assert r.status == 200, "audit query %s failed: %r" % (q, r)
        return r.json()

    def audit_rows_for(self, request_id, token=ADMIN_TOKEN, wait_s=3.0):
        """Rows with this request_id (reads are audited asynchronously: poll a little)."""
        end = time.time() + wait_s
        while True:
            j = self.audit_query(token=token, request_id=request_id, limit=100)
            if j["events"] or time.time() > end:
                return j["events"]
            time.sleep(0.05)

    def db(self):
        if PG:
            return pgwire.connect(PG_CONNINFO, search_path=self.pg_schema)
        c = sqlite3.connect(self.db_path, timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def store_audit_rows(self):
        c = self.db()
        try:
            return [dict(r) for r in c.execute(
                "SELECT * FROM audit_events WHERE tenant=? ORDER BY seq", (TENANT,))]
        finally:
            c.close()

    def file_audit_lines(self):
        p = self.audit_log_path
        with open(p, "rb") as f:
            return [json.loads(ln) for ln in f.read().splitlines() if ln.strip()]


def check_config(path, env=None, timeout=10):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([GATEWAY_BIN, "--check-config", "--config", path], env=e,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# CLI

class CliResult:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def json(self):
        try:
            return json.loads(self.out)
        except Exception as e:
            raise AssertionError("CLI %s: stdout is not JSON (%s): %r stderr %r"
                                 % (" ".join(self.argv[1:]), e, self.out[:500], self.err[:500]))

    def __repr__(self):
        return "<cli %s rc=%d out=%r err=%r>" % (" ".join(self.argv[1:]), self.rc,
                                                 self.out[:400], self.err[:400])


def cli(*args, home=None, url=None, token=None, env=None, timeout=30, stdin=None):
    """Runs build/openclaw with HOME set to a temp dir (unless given) and the gateway URL/token
    passed through OPENCLAW_GATEWAY_URL / OPENCLAW_TOKEN."""
    assert os.access(CLI_BIN, os.X_OK), "CLI binary not built: %s" % CLI_BIN
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("OPENCLAW_") and k != "XDG_CONFIG_HOME"}
    e["HOME"] = home or tempdir("gwcli-home-")
    if url:
        e["OPENCLAW_GATEWAY_URL"] = url
    if token:
        e["OPENCLAW_TOKEN"] = token
    if env:
        e.update(env)
    argv = [CLI_BIN] + [str(a) for a in args]
    p = subprocess.run(argv, env=e, capture_output=True, timeout=timeout,
                       input=stdin.encode() if isinstance(stdin, str) else stdin)
    return CliResult(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                     p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# Runner

class Lazy:
    """A per-file shared fixture created on first use and torn down by main()."""
    _all = []

    def __init__(self, factory):
        self.factory = factory
        self.value = None
        self.error = None
        Lazy._all.append(self)

    def get(self):
        if self.error is not None:
            raise AssertionError("fixture failed earlier: %s" % self.error)
        if self.value is None:
            try:
                self.value = self.factory()
            except Exception as e:
                self.error = e
                raise
        return self.value

    def __call__(self):
        return self.get()


def make_cert(d, name="tls"):
    """A self-signed P-256 certificate for localhost and 127.0.0.1 in d: (key path, cert path)."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return key, crt


def wait_until(fn, timeout=5.0, interval=0.05, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, last))


def main(ns):
    tests = [v for k, v in ns.items() if k.startswith("test_") and callable(v)]
    tests.sort(key=lambda f: f.__code__.co_firstlineno)
    only = os.environ.get("GWTEST_ONLY")
    if only:
        tests = [t for t in tests if re.search(only, t.__name__)]
    name = os.path.basename(sys.argv[0])
    passed = failed = 0
    t0 = time.time()
    for t in tests:
        t1 = time.time()
        try:
            t()
            passed += 1
            print("PASS %s (%.2fs)" % (t.__name__, time.time() - t1), flush=True)
        except Exception as e:
            failed += 1
            kind = "" if isinstance(e, AssertionError) else type(e).__name__ + ": "
            print("FAIL %s (%.2fs): %s%s" % (t.__name__, time.time() - t1, kind, e), flush=True)
            if os.environ.get("GWTEST_TRACE") == "1":
                traceback.print_exc()
    # Tear down shared daemons: each must exit 0 on SIGTERM.
    for fx in Lazy._all:
        g = fx.value
        if isinstance(g, Gateway):
            try:
                g.stop(check=True)
                passed += 1
                print("PASS shutdown[%s] (SIGTERM -> exit 0)" % fx.factory.__name__, flush=True)
            except Exception as e:
                failed += 1
                print("FAIL shutdown[%s]: %s" % (fx.factory.__name__, e), flush=True)
    for g in list(_live):
        g.kill()
    print("%s: %d passed, %d failed (%.1fs)" % (name, passed, failed, time.time() - t0),
          flush=True)
    sys.exit(1 if failed or not tests else 0)
