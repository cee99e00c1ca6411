#!/usr/bin/env python3
"""TLS: gateway.tls with tls_cert/tls_key serves HTTPS (verified against the test's own CA
certificate), answers plain HTTP on the same port with a 400 that says so, and still
authenticates and audits."""
import os
import socket
import ssl
import sys
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest
from gwtest import ADMIN_TOKEN


def https(port, ctx, method, path, token=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
    h = {"Authorization": "Bearer " + token} if token else {}
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("X-Request-Id"), body


def _tls_gateway():
    d = gwtest.tempdir()
    key, crt = gwtest.make_cert(d)
    cfg = gwtest.seed_config()
    cfg["gateway"].update({"tls": True, "tls_cert": crt, "tls_key": key})
    g = gwtest.Gateway(config=cfg).start(wait=False)
    ctx = ssl.create_default_context(cafile=crt)
    end = time.time() + 10
    while True:
        try:
            if https(g.port, ctx, "GET", "/readyz")[0] == 200:
                break
        except OSError:
            pass
        assert time.time() < end and g.alive(), "TLS gateway not ready: %s" % g.stderr()[-1000:]
        time.sleep(0.05)
    g.ctx = ctx
    return g


GW = gwtest.Lazy(_tls_gateway)


def test_https_health_and_request_id():
    g = GW()
    ctx = g.ctx
    status, rid, body = https(g.port, ctx, "GET", "/healthz")
    assert status == 200 and rid, (status, rid, body)


def test_https_authenticated_request():
    g = GW()
    ctx = g.ctx
    status, _, body = https(g.port, ctx, "GET", "/api/v1/auth/userinfo", token=ADMIN_TOKEN)
    assert status == 200 and b'"role":"enterprise_admin"' in body, (status, body)
    status, _, _ = https(g.port, ctx, "GET", "/api/v1/auth/userinfo", token="wrong-token-123")
    assert status == 401


def test_plain_http_gets_a_400_that_says_so():
    g = GW()
    r = gwtest.http_request(g.port, "GET", "/healthz", timeout=3,
                            headers={"Host": "localhost:%d" % g.port})
    e = gwtest.assert_error(r, 400, "invalid_request", msg_contains="this port speaks HTTPS")
    assert "https://localhost:%d/" % g.port in e["message"], e
    assert r.header("Connection") == "close", r.headers
    # a request split over several writes, and a POST with a body, get the same answer
    raw = g.raw(b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    parsed = gwtest.parse_raw_response(raw)
    assert parsed and parsed[0] == 400 and b"speaks HTTPS" in parsed[2], raw[:300]
    # HTTPS on the same port still works afterwards
    assert https(g.port, g.ctx, "GET", "/healthz")[0] == 200


def test_slow_and_silent_clients():
    """The first byte decides: a TLS client that waits before its handshake is still served,
    and a connection that sends nothing does not hold anything up."""
    g = GW()
    silent = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    slow = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    time.sleep(0.6)
    tls = g.ctx.wrap_socket(slow, server_hostname="localhost")
    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    got = b""
    while True:
        b = tls.recv(4096)
        if not b:
            break
        got += b
    tls.close()
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    assert https(g.port, g.ctx, "GET", "/healthz")[0] == 200
    silent.close()


def test_wrong_ca_is_rejected_by_client():
    g = GW()
    other = ssl.create_default_context()  # system CAs only: the self-signed cert must fail
    try:
        https(g.port, other, "GET", "/healthz")
        verified = True
    except ssl.SSLError:
        verified = False
    assert not verified, "a certificate from an unknown CA was accepted"


if __name__ == "__main__":
    gwtest.main(globals())
