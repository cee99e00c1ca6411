# SPDX-License-Identifier: MIT
"""siem_receivers — what the SIEM forwarding tests (test_siem.py) deliver to.

- HttpsReceiver: a local HTTPS server (the test's own certificate) speaking the wire formats of
  the SaaS SIEMs that cannot be reached from here: Splunk HEC (/services/collector/event,
  "Authorization: Splunk <token>", answers {"text":"Success","code":0}), the Elasticsearch bulk
  API (/_bulk, "Authorization: ApiKey <key>", per-item results, 409 for an _id it has) and a
  generic webhook ("Authorization: Bearer <key>"). It can go down (its socket closed:
  connection refused) and come back on the same port.
- Rsyslog: a real rsyslogd (Debian's) receiving over TCP or TLS (imtcp, gtls), writing every
  message's raw text to a file.
- Parsers and checks for each format's rules (CEF and LEEF headers and escaping, RFC 5424, the
  HEC envelope, ECS and OCSF required fields). Python 3 standard library only.
"""
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import gwtest


def make_cert(d):
    return gwtest.make_cert(d, "siem")


# --- HTTPS ----------------------------------------------------------------------------------

class HttpsReceiver:
    """Records every accepted record per path: self.got[path] is a list of (kind, record)."""

    def __init__(self, key, crt, api_key):
        self.key, self.crt, self.api_key = key, crt, api_key
        self.port = gwtest.free_port()
        self.got = {}
        self.errors = []
        self.bulk_ids = set()
        self.lock = threading.Lock()
        self.server = None
        self.conns = []

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def records(self, path):
        with self.lock:
            return list(self.got.get(path, []))

    def start(self):
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = recv.handle(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.crt, self.key)

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def get_request(self):
                sock, addr = self.socket.accept()
                recv.conns.append(sock)
                return ctx.wrap_socket(sock, server_side=True), addr

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Down: the listening socket and every open connection are closed; new connections
        are refused."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conns = []

    def fail(self, msg):
        with self.lock:
            self.errors.append(msg)

    def handle(self, path, headers, body):
        auth = headers.get("Authorization", "")
        scheme = {"/services/collector/event": "Splunk", "/_bulk": "ApiKey"}.get(path, "Bearer")
        if auth != "%s %s" % (scheme, self.api_key):
            self.fail("%s: Authorization %r" % (path, auth[:20]))
            return 401, {"text": "Invalid authorization", "code": 3}
        text = body.decode("utf-8")
        if path == "/services/collector/event":
            recs = hec_split(text)
            answer = {"text": "Success", "code": 0}
        elif path == "/_bulk":
            assert headers.get("Content-Type") == "application/x-ndjson", headers
            recs, items = [], []
            lines = text.split("\n")
            if lines[-1] != "":
                self.fail("bulk body does not end with a newline")
            for action, doc in zip(lines[0:-1:2], lines[1:-1:2]):
                a = json.loads(action)["create"]
                d = json.loads(doc)
                dup = a["_id"] in self.bulk_ids
                self.bulk_ids.add(a["_id"])
                items.append({"create": {"_index": a["_index"], "_id": a["_id"],
                                         "status": 409 if dup else 201}})
                if a["_id"] != d["event"]["id"]:
                    self.fail("bulk _id %s is not event.id %s" % (a["_id"], d["event"]["id"]))
                if not dup:
                    recs.append(doc)
            answer = {"took": 1, "errors": any(i["create"]["status"] != 201 for i in items),
                      "items": items}
        else:
            recs = text.split("\n")
            if recs[-1] != "":
                self.fail("%s: body does not end with a newline" % path)
            recs = recs[:-1]
            answer = {"ok": True}
        with self.lock:
            self.got.setdefault(path, []).extend(recs)
        return 200, answer


def hec_split(text):
    """HEC batches are JSON objects one after the other."""
    dec, i, out = json.JSONDecoder(), 0, []
    while i < len(text):
        while i < len(text) and text[i] in " \n":
            i += 1
        if i < len(text):
            obj, i = dec.raw_decode(text, i)
            out.append(json.dumps(obj))
    return out


# --- rsyslog --------------------------------------------------------------------------------

class Rsyslog:
    """rsyslogd -n with imtcp on a free port (TLS with gtls when tls), writing %rawmsg%."""

    def __init__(self, tls=False, key=None, crt=None):
        self.dir = gwtest.tempdir("gwtest-rsyslog-")
        self.port = gwtest.free_port()
        self.out = os.path.join(self.dir, "received.log")
        self.proc = None
        glob = ('global(workDirectory="%s" maxMessageSize="128k"'
                ' parser.escapeControlCharactersOnReceive="off"' % self.dir)
        mod = 'module(load="imtcp"'
        if tls:
            glob += (' defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="%s"'
                     ' defaultNetstreamDriverCertFile="%s" defaultNetstreamDriverKeyFile="%s"'
                     % (crt, crt, key))
            mod += ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"'
        conf = "\n".join([
            glob + ")", mod + ")",
            'input(type="imtcp" port="%d" address="127.0.0.1")' % self.port,
            'template(name="raw" type="string" string="%rawmsg%\\n")',
            'action(type="omfile" file="%s" template="raw" asyncWriting="off" '
            'flushOnTXEnd="on")' % self.out, ""])
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/sbin/rsyslogd", "-n", "-f", self.conf, "-i",
             os.path.join(self.dir, "rsyslogd.pid")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr"), "ab"))
        gwtest.wait_until(self._listening, 10, what="rsyslogd listening on %d" % self.port)
        return self

    def _listening(self):
        assert self.proc.poll() is None, "rsyslogd exited: %s" % open(
            os.path.join(self.dir, "stderr")).read()[-500:]
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def lines(self):
        try:
            with open(self.out, encoding="utf-8") as f:
                return [l for l in f.read().split("\n") if l]
        except FileNotFoundError:
            return []


RFC5424 = re.compile(r'^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) '
                     r'\[openclaw@32473 tenant="([^"]*)" seq="(\d+)"( head="1")?\] (.*)$')


def parse_syslog(line):
    """(pri, timestamp, host, app, procid, msgid, tenant, seq, head, msg) of one RFC 5424
    message, or an AssertionError naming what is wrong."""
    m = RFC5424.match(line)
    assert m, "not an RFC 5424 message with our structured data: %r" % line[:200]
    pri = int(m.group(1))
    assert pri < 192, pri
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", m.group(2)), m.group(2)
    assert m.group(4) == "openclaw-gateway" and len(m.group(6)) <= 32, line[:200]
    return (pri, m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7),
            int(m.group(8)), bool(m.group(9)), m.group(10))


# --- format checks --------------------------------------------------------------------------

def _unescape(s, i):
    n = s[i + 1]
    return {"n": "\n", "r": "\r", "t": "\t"}.get(n, n), i + 2


def _header(line, count):
    """The first count '|'-separated header fields (\\ and \\| escaped) and where the rest
    starts."""
    fields, cur, i = [], "", 0
    while len(fields) < count:
        c = line[i]
        if c == "\\":
            assert line[i + 1] in "\\|", "bad header escape at %d: %r" % (i, line[i:i + 10])
            cur, i = cur + line[i + 1], i + 2
        elif c == "|":
            fields.append(cur)
            cur, i = "", i + 1
        else:
            cur, i = cur + c, i + 1
    return fields, i


def parse_cef(line):
    """The 7 header fields and the extension of a CEF:0 line, unescaped; fails on any
    character the specification requires escaped."""
    assert "\n" not in line and "\r" not in line, "raw line break in %r" % line[:100]
    assert line.startswith("CEF:0|"), line[:40]
    fields, i = _header(line, 7)
    ext, out = line[i:], {}
    m = re.match(r"([A-Za-z0-9_]+)=", ext)
    assert m, "extension does not start with a key: %r" % ext[:40]
    key, val, j = m.group(1), [], m.end()
    while j < len(ext):
        c = ext[j]
        if c == "\\":
            assert ext[j + 1] in "\\=nr", "bad extension escape %r" % ext[j:j + 5]
            ch, j = _unescape(ext, j)
            val.append(ch)
            continue
        assert c != "=", "unescaped '=' in the value of %s: %r" % (key, ext[j - 20:j + 5])
        m = re.match(r" ([A-Za-z0-9_]+)=", ext[j:])
        if m:
            assert key not in out, "key %s twice" % key
            out[key] = "".join(val)
            key, val, j = m.group(1), [], j + m.end()
            continue
        val.append(c)
        j += 1
    out[key] = "".join(val)
    assert fields[1:3] == ["OpenClaw", "Enterprise Gateway"], fields
    assert 0 <= int(fields[6]) <= 10, fields[6]
    # custom fields carry their labels
    for k in list(out):
        if re.match(r"^(cs\d|cn\d|flexString\d)$", k):
            assert k + "Label" in out, "%s without its label" % k
    return fields, out


def cef_labelled(ext):
    """{label: value} of the cs/cn/flexString fields."""
    return {ext[k + "Label"]: v for k, v in ext.items()
            if re.match(r"^(cs\d|cn\d|flexString\d)$", k)}


def parse_leef(line):
    """Header fields and attributes of a LEEF 2.0 line (tab delimiter named as x09)."""
    assert "\n" not in line and "\r" not in line, "raw line break in %r" % line[:100]
    assert line.startswith("LEEF:2.0|"), line[:40]
    fields, i = _header(line, 6)
    assert fields[0] == "LEEF:2.0" and fields[1:3] == ["OpenClaw", "Enterprise Gateway"], fields
    assert fields[5] == "x09", "delimiter field %r" % fields[5]
    attrs = {}
    for a in line[i:].split("\t"):
        k, eq, v = a.partition("=")
        assert eq and re.match(r"^[A-Za-z][A-Za-z0-9]*$", k), "bad attribute %r" % a[:40]
        val, j = [], 0
        while j < len(v):
            if v[j] == "\\":
                assert v[j + 1] in "\\tnr", "bad escape %r" % v[j:j + 5]
                ch, j = _unescape(v, j)
                val.append(ch)
            else:
                val.append(v[j])
                j += 1
        assert k not in attrs, "attribute %s twice" % k
        attrs[k] = "".join(val)
    assert attrs.get("devTimeFormat") == "yyyy-MM-dd'T'HH:mm:ss.SSSX", attrs
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", attrs["devTime"]), attrs
    assert 1 <= int(attrs["sev"]) <= 10
    return fields, attrs


def check_hec(rec):
    o = json.loads(rec)
    for k in ("time", "host", "source", "sourcetype", "event", "fields"):
        assert k in o, "HEC envelope without %s: %r" % (k, rec[:200])
    assert isinstance(o["time"], (int, float)) and o["time"] > 1e9, o["time"]
    assert o["sourcetype"] in ("openclaw:audit", "openclaw:audit:head"), o["sourcetype"]
    assert isinstance(o["event"], dict) and set(o["fields"]) == {"tenant", "seq"}, o
    assert all(isinstance(v, (str, int)) for v in o["fields"].values()), o["fields"]
    assert o["event"]["seq"] == o["fields"]["seq"], o
    return o


ECS_CATEGORIES = {"api", "authentication", "configuration", "iam"}
ECS_TYPES = {"access", "change", "denied", "info", "start"}


def check_ecs(rec):
    o = json.loads(rec)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["@timestamp"]), o
    assert o["ecs"]["version"].startswith("8."), o["ecs"]
    ev = o["event"]
    assert ev["kind"] in ("event", "state") and ev["dataset"] == "openclaw.audit", ev
    assert set(ev["category"]) <= ECS_CATEGORIES and set(ev["type"]) <= ECS_TYPES, ev
    assert isinstance(ev["sequence"], int) and ev["id"] and ev["action"], ev
    if ev["kind"] == "event":
        assert ev["outcome"] in ("success", "failure", "unknown"), ev
        assert o["user"]["name"] and o["organization"]["id"], o
        assert ev["id"] == "%s:%d" % (o["organization"]["id"], ev["sequence"]), ev
    return o


def check_ocsf(rec):
    o = json.loads(rec)
    for k in ("time", "class_uid", "category_uid", "activity_id", "type_uid", "severity_id",
              "metadata"):
        assert k in o, "OCSF event without %s" % k
    assert o["type_uid"] == o["class_uid"] * 100 + o["activity_id"], o
    assert o["category_uid"] == o["class_uid"] // 1000, o
    md = o["metadata"]
    assert md["version"] and md["product"]["name"] and md["product"]["vendor_name"], md
    assert isinstance(md["sequence"], int) and md["tenant_uid"], md
    if o["class_uid"] == 6003:
        assert o["activity_id"] in (1, 2, 3, 4, 99), o
        assert o["actor"]["user"]["name"] and o["api"]["operation"], o
        assert "src_endpoint" in o, o
    elif o["class_uid"] == 3002:
        assert o["activity_id"] in (1, 2, 99) and o["user"]["name"], o
    else:
        assert o["class_uid"] == 0 and "checkpoint" in o["unmapped"], o
    assert o["status_id"] in (1, 2) if o["class_uid"] else True
    return o
