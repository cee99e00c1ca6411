# SPDX-License-Identifier: MIT
"""Limits and hostile input: body/header caps, header floods, slow clients, the connection
limit, malformed JSON. Afterwards the daemon must still be alive and healthy."""

import json
import re
import socket
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, assert_error, parse_raw_response

MAX_BODY = 65536
MAX_HEADER = 8192
HEADER_TIMEOUT = 2
MAX_CONN = 8


def _make():
    cfg = gwtest.seed_config(gateway={"limits": {
        "max_body_bytes": MAX_BODY, "max_header_bytes": MAX_HEADER,
        "max_connections": MAX_CONN, "max_connections_per_ip": MAX_CONN,
        "header_timeout_s": HEADER_TIMEOUT, "request_timeout_s": 5, "idle_timeout_s": 5,
        "max_memory_bytes": 32768, "max_message_bytes": 16384}})
    return gwtest.Gateway(cfg).start()


GW = gwtest.Lazy(_make)
MSG_PATH = "/api/v1/channels/engineering/code-reviewer/messages"


def _head(method, path, extra=b"", token=ENG_TOKEN, host=b"127.0.0.1"):
    h = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(), host)
    if token:
        h += b"Authorization: Bearer " + token.encode() + b"\r\n"
    return h + extra


def test_body_over_limit_content_length_413():
    g = GW()
    body = json.dumps({"content": "x" * (MAX_BODY + 10)}).encode()
    r = g.post(MSG_PATH, body=body, token=ENG_TOKEN, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    # Announced but not sent: the server must answer from Content-Length alone, not wait.
    req = _head("POST", MSG_PATH, b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY * 4))
    got = g.raw(req + b'{"content":"', read_all=False, timeout=5)
    p = parse_raw_response(got)
    assert p and p[0] == 413, "Content-Length above the cap: %r" % got[:200]


def test_body_over_limit_chunked_413():
    g = GW()
    req = _head("POST", MSG_PATH, b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"a" * 8192
    chunks = [req + b'2\r\n{"\r\n'] + [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * ((MAX_BODY // 8192) + 4) + [b"0\r\n\r\n"]
    got = gwtest.raw_exchange(g.port, None, chunks=chunks, timeout=5)
    p = parse_raw_response(got)
    assert p and p[0] == 413, "chunked body above the cap: %r" % got[:300]


def test_body_at_limit_is_not_413():
    g = GW()
    # a JSON body just under max_body_bytes is parsed (the message cap then gives its own 413)
    body = json.dumps({"content": "y" * 1000}).encode()
    r = g.post(MSG_PATH, body=body, token=ENG_TOKEN, headers={"Content-Type": "application/json"})
    assert r.status == 202, "normal message: %r" % r


def test_headers_over_limit_431():
    g = GW()
    big = b"X-Big: " + b"b" * (MAX_HEADER + 100) + b"\r\n"
    got = g.raw(_head("GET", "/api/v1/health", big) + b"\r\n", timeout=5)
    p = parse_raw_response(got)
    assert p is not None, "no HTTP response to an oversized header (connection just closed)"
    assert p[0] == 431, "oversized header: status %r (want 431): %r" % (p[0], got[:300])
    j = json.loads(p[2].decode() or "{}") if p[2] else {}
    assert j.get("error", {}).get("code") == "headers_too_large", "431 body %r" % p[2][:200]


def test_header_flood_1000_headers():
    g = GW()
    flood = b"".join(b"X-H-%d: v\r\n" % i for i in range(1000))
    got = g.raw(_head("GET", "/api/v1/health", flood) + b"\r\n", timeout=5)
    p = parse_raw_response(got)
    assert p is not None, "no HTTP response to a 1000-header request"
    assert p[0] in (431, 400), "1000 headers: status %r" % p[0]
    assert g.alive(), "daemon died on a header flood"


def test_slow_header_client_408_or_closed():
    g = GW()
    s = socket.create_connection(("127.0.0.1", g.port), timeout=1)
    start = time.time()
    data = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 40
    got = b""
    closed = False
    i = 0
    try:
        while time.time() - start < HEADER_TIMEOUT + 6 and i < len(data):
            try:
                s.sendall(data[i:i + 1])
            except OSError:
                closed = True
                break
            i += 1
            try:
                b = s.recv(4096)
                if b == b"":
                    closed = True
                    break
                got += b
                break
            except socket.timeout:
                pass  # recv waited 1 s: this is the one-byte-per-second pace
            except OSError:
                closed = True
                break
    finally:
        s.close()
    elapsed = time.time() - start
    assert got or closed, "slow client still connected after %.1f s" % elapsed
    assert elapsed <= HEADER_TIMEOUT + 2 + 1.5, \
        "slow client cut after %.1f s, header_timeout_s is %d" % (elapsed, HEADER_TIMEOUT)
    if got:
        p = parse_raw_response(got)
        assert p and p[0] == 408, "slow client got %r" % got[:200]


REQUEST_TIMEOUT = 5


def test_slow_body_client_408_or_closed():
    g = GW()
    s = socket.create_connection(("127.0.0.1", g.port), timeout=1)
    start = time.time()
    got, closed, i = b"", False, 0
    try:
        s.sendall(_head("POST", MSG_PATH, b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"))
        limit = REQUEST_TIMEOUT + HEADER_TIMEOUT + 6
        while time.time() - start < limit and i < 200:
            try:
                s.sendall(b" ")
            except OSError:
                closed = True
                break
            i += 1
            try:
                b = s.recv(4096)
                if b == b"":
                    closed = True
                    break
                got += b
                break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
    finally:
        s.close()
    elapsed = time.time() - start
    assert got or closed, "slow body still accepted after %.1f s" % elapsed
    assert elapsed <= REQUEST_TIMEOUT + HEADER_TIMEOUT + 2 + 1.5, \
        "slow body cut after %.1f s (request_timeout_s %d)" % (elapsed, REQUEST_TIMEOUT)
    if got:
        p = parse_raw_response(got)
        assert p and p[0] == 408, "slow body got %r" % got[:200]


def test_connection_limit():
    g = GW()
    socks = []
    try:
        for _ in range(MAX_CONN):
            socks.append(socket.create_connection(("127.0.0.1", g.port), timeout=3))
        time.sleep(0.3)
        extra_status = None
        try:
            got = gwtest.raw_exchange(g.port, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
        except OSError:
            got = b""
        p = parse_raw_response(got)
        extra_status = p[0] if p else None
        assert extra_status in (None, 503), \
            "connection %d beyond max_connections=%d got %r" % (MAX_CONN + 1, MAX_CONN, got[:200])
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)
    r = gwtest.wait_until(lambda: _health_ok(g), timeout=5, what="health after closing the idle sockets")
    assert r


def _health_ok(g):
    try:
        return g.get("/api/v1/health", timeout=2).status == 200
    except OSError:
        return False


def _post_raw_json(g, body, ctype="application/json"):
    return g.post(MSG_PATH, body=body, token=ENG_TOKEN, headers={"Content-Type": ctype})


def test_malformed_json_400_with_line_and_column():
    g = GW()
    r = _post_raw_json(g, b'{\n  "content": "hello",\n  "oops": \n}')
    e = assert_error(r, 400, "invalid_json")
    msg = e["message"].lower()
    assert re.search(r"line\D{0,3}4", msg) and re.search(r"col", msg), \
        "invalid_json message without line 4 / column: %r" % e["message"]


def test_deeply_nested_json_400():
    g = GW()
    r = _post_raw_json(g, b"[" * 60000)  # below max_body_bytes, far above any sane depth
    assert_error(r, 400, "invalid_json")
    r = _post_raw_json(g, b'{"content":' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert r.status == 400, "5000-deep array: %r" % r
    assert g.alive()


def test_invalid_utf8_400():
    g = GW()
    for bad in (b'{"content":"\xff\xfe"}', b'{"content":"\xc0\xaf"}', b'{"content":"\xed\xa0\x80"}'):
        r = _post_raw_json(g, bad)
        assert r.status == 400, "invalid UTF-8 %r accepted: %r" % (bad, r)
        assert_error(r, 400, ("invalid_json", "invalid_request"))


def test_duplicate_keys_400():
    g = GW()
    r = _post_raw_json(g, b'{"content":"a","content":"b"}')
    e = assert_error(r, 400, ("invalid_json", "invalid_request"))
    assert "content" in e["message"] or "duplicate" in e["message"].lower(), "message %r" % e["message"]


def test_json_edge_cases_400():
    g = GW()
    for bad in (b'{"content":"a"} trailing', b'{"content":"a\\u0000b"}', b"", b'"just a string"',
                b'{"content": 1e400}', b"{'content':'a'}", b'{"content":"a",}'):
        r = _post_raw_json(g, bad)
        assert r.status == 400, "bad JSON %r accepted: %r" % (bad, r)


def test_wrong_content_type_415():
    g = GW()
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
        r = _post_raw_json(g, b'{"content":"hi"}', ctype=ct)
        assert_error(r, 415, "unsupported_media_type")
    r = g.post(MSG_PATH, body=b'{"content":"hi"}', token=ENG_TOKEN)  # no Content-Type at all
    assert r.status == 415, "missing Content-Type: %r" % r
    r = _post_raw_json(g, b'{"content":"hi"}', ctype="application/json; charset=utf-8")
    assert r.status == 202, "application/json with charset must be accepted: %r" % r


def test_message_cap_413():
    g = GW()
    r = _post_raw_json(g, json.dumps({"content": "m" * 20000}).encode())
    assert_error(r, 413, "payload_too_large")


def test_garbage_request_lines():
    g = GW()
    for raw in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                b"POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"):
        got = g.raw(raw, timeout=3)
        p = parse_raw_response(got)
        if p is not None:
            assert 400 <= p[0] < 600 and p[0] != 500, "garbage %r answered %d" % (raw[:40], p[0])
    assert g.alive(), "daemon died on garbage input"


def test_still_healthy_after_abuse():
    g = GW()
    assert g.alive(), "daemon process is gone"
    assert _health_ok(g), "health not 200 after the abuse tests"
    r = g.get("/api/v1/auth/userinfo", token=ADMIN_TOKEN)
    assert r.status == 200, "authenticated request after abuse: %r" % r
    assert g.get("/readyz").status == 200


if __name__ == "__main__":
    gwtest.main(globals())
