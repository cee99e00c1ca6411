#!/usr/bin/env python3
"""The OpenAPI contract (docs/openapi.json): it names exactly the routes of the route table
(`openclaw-gateway --list-routes`), in path order, with well-formed operations; the gateway
serves the same bytes at GET /api/v1/openapi.json, public and cacheable (ETag, 304); and the
validation hook of gwtest (apicontract.py) refuses answers that do not match it. Every other
integration test validates the answers it receives through that hook."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apicontract  # noqa: E402
import gwtest  # noqa: E402
from gwtest import ADMIN_TOKEN  # noqa: E402

DOC_PATH = os.path.join(gwtest.SOURCE_DIR, "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "patch")


def doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def routes():
    """{(METHOD, pattern with "{}"): access} of the running build's route table."""
    r = subprocess.run([gwtest.GATEWAY_BIN, "--list-routes"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        method, pattern, access = line.split()
        out[(method, pattern)] = access
    return out


def pattern(path, op):
    """The route table's pattern of a documented path: "{}" per variable, "{*}" for the one
    that takes the rest of the path (x-openclaw-rest)."""
    rest = apicontract.rest_parameter(op)
    return re.sub(r"\{([^}/]+)\}", lambda m: "{*}" if m.group(1) == rest else "{}", path)


def documented(d):
    """{(METHOD, pattern): operation} of the document."""
    out = {}
    for path, item in d["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                out[(method.upper(), pattern(path, op))] = op
    return out


GW = gwtest.Lazy(lambda: gwtest.Gateway().start())


def test_document_and_route_table_name_the_same_routes():
    table, ops = routes(), documented(doc())
    missing = sorted(set(table) - set(ops))
    extra = sorted(set(ops) - set(table))
    assert not missing, "routes missing from docs/openapi.json (see docs/API.md, 'The OpenAPI " \
        "document'): %s" % missing
    assert not extra, "docs/openapi.json names routes the gateway does not have: %s" % extra


def test_paths_are_in_order_and_operations_well_formed():
    d = doc()
    assert d["openapi"].startswith("3.1."), d["openapi"]
    paths = list(d["paths"])
    assert paths == sorted(paths), "paths are not in sorted order (keep the file ordered by path)"
    table = routes()
    seen = set()
    for path, item in d["paths"].items():
        names = re.findall(r"\{([^}/]+)\}", path)
        for method, op in item.items():
            where = "%s %s" % (method.upper(), path)
            assert method in METHODS, "%s: not an HTTP method" % where
            assert op.get("operationId") and op["operationId"] not in seen, \
                "%s: operationId missing or repeated" % where
            seen.add(op["operationId"])
            for k in ("summary", "responses", "security"):
                assert k in op, "%s: no %s" % (where, k)
            declared = [p["name"] for p in op.get("parameters", []) if p.get("in") == "path"]
            assert sorted(declared) == sorted(names), \
                "%s: path parameters %s, declared %s" % (where, names, declared)
            assert any(s.startswith("2") or s.startswith("3") for s in op["responses"]), \
                "%s: no success response" % where
            access = table.get((method.upper(), pattern(path, op)))
            anonymous = op["security"] == [] or {} in op["security"]
            if access == "public":
                assert anonymous, "%s is public: its security must allow no credential" % where
            elif access == "auth":
                assert op["security"] and not anonymous, "%s needs a credential" % where


def test_every_reference_resolves():
    d = doc()
    c = apicontract.Contract(d)
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(d)
    assert len(refs) > 50, "suspiciously few references: %d" % len(refs)
    for r in sorted(set(refs)):
        try:
            c.resolve({"$ref": r})
        except (KeyError, AssertionError) as e:
            raise AssertionError("%s does not resolve (%s)" % (r, e))


def test_served_document_is_the_repositorys_and_cacheable():
    g = GW()
    with open(DOC_PATH, "rb") as f:
        want = f.read()
    r = g.get("/api/v1/openapi.json")  # no credential: public
    assert r.status == 200 and r.body == want, "served document differs from docs/openapi.json"
    assert r.header("Content-Type") == "application/json", r.headers
    etag = r.header("ETag")
    assert etag and re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
    assert r.header("Cache-Control") == "public, no-cache", r.header("Cache-Control")
    for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
        r2 = g.get("/api/v1/openapi.json", headers={"If-None-Match": inm})
        assert r2.status == 304 and r2.body == b"" and r2.header("ETag") == etag, (inm, r2)
    r3 = g.get("/api/v1/openapi.json", headers={"If-None-Match": '"0123"'})
    assert r3.status == 200 and r3.body == want
    r4 = g.req("HEAD", "/api/v1/openapi.json")
    assert r4.status == 200 and r4.body == b"" and r4.header("ETag") == etag
    # public and not audited, like the health endpoints
    rid = r.header("X-Request-Id")
    assert not g.audit_rows_for(rid, wait_s=0.3), "the document request was audited"
    r5 = g.post("/api/v1/openapi.json", body={}, token=ADMIN_TOKEN)
    gwtest.assert_error(r5, 405, "method_not_allowed")


def _answer(status, body, ctype="application/json", headers=()):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return gwtest.Response(status, "", [("Content-Type", ctype)] + list(headers), raw)


def _refused(method, path, resp, why):
    try:
        apicontract.check(gwtest.SOURCE_DIR, method, path, resp)
    except AssertionError as e:
        assert why in str(e), "refused, but not for %r: %s" % (why, e)
        return
    raise AssertionError("a non-conforming answer was accepted: %s %s %r" % (method, path, resp))


def test_the_hook_refuses_answers_that_do_not_match():
    tok = {"id": "t", "tenant": "acme-corp", "owner": None, "scopes": ["*"], "source": "api",
           "created_by": None, "created_at": None, "expires_at": None, "revoked_at": None,
           "last_used_at": None}
    ok = _answer(200, {"tokens": [tok]})
    apicontract.check(gwtest.SOURCE_DIR, "GET", "/api/v1/tokens", ok)  # conforms
    apicontract.check(gwtest.SOURCE_DIR, "GET", "/acme/api/v1/tokens?x=1", ok)  # tenant prefix
    _refused("GET", "/api/v1/tokens", _answer(200, {"tokens": "none"}), "expected array")
    _refused("GET", "/api/v1/tokens", _answer(200, {"tokens": [dict(tok, source="file")]}),
             "is not one of")
    bad = dict(tok)
    del bad["scopes"]
    _refused("GET", "/api/v1/tokens", _answer(200, {"tokens": [bad]}), "member 'scopes' missing")
    _refused("GET", "/api/v1/tokens", _answer(200, "<p>hi</p>", "text/html"),
             "Content-Type 'text/html' not documented")
    _refused("POST", "/api/v1/tokens", _answer(200, {"tokens": []}), "status not documented")
    # an error must be in the envelope of its family
    _refused("GET", "/api/v1/agents", _answer(404, {"error": "nope"}), "expected object")
    _refused("GET", "/v1/models", _answer(401, {"error": {"code": "unauthenticated",
                                                          "message": "m", "request_id": "r"}}),
             "member 'type' missing")
    # a '{*}' route's rest parameter takes the rest of the path, slashes and all
    for path in ("/v1/models/local/llama", "/acme/v1/models/openclaw/eng/bot"):
        _refused("GET", path, _answer(404, {"error": {"code": "not_found", "message": "m",
                                                      "request_id": "r"}}),
                 "member 'type' missing")
    _refused("GET", "/api/v1/openapi.json", _answer(200, {"openapi": "3.1.0", "paths": {}}),
             "header ETag missing")
    # streams: each event against the schema of its name
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]}
    sse = "data: %s\n\ndata: [DONE]\n\n" % json.dumps(chunk)
    apicontract.check(gwtest.SOURCE_DIR, "POST", "/v1/chat/completions",
                      _answer(200, sse.encode(), "text/event-stream"))
    _refused("POST", "/v1/chat/completions",
             _answer(200, sse.replace('"index": 0', '"index": "0"').encode(), "text/event-stream"),
             "event message")
    _refused("POST", "/api/v1/channels/ns/bot/messages",
             _answer(200, b'event: delta\ndata: {"text":"a"}\n\nevent: bogus\ndata: {}\n\n',
                     "text/event-stream"), "event 'bogus' not documented")
    # a route that is not documented is not checked (the route test above finds it)
    apicontract.check(gwtest.SOURCE_DIR, "GET", "/api/v1/nothing-here", _answer(200, "x"))


def test_real_answers_conform():
    """A few answers of each family, fetched here, pass the hook (it runs inside http_request);
    the rest of the suite covers the other routes."""
    g = GW()
    assert g.get("/api/v1/status", token=ADMIN_TOKEN).status == 200
    assert g.get("/api/v1/auth/userinfo", token=ADMIN_TOKEN).status == 200
    assert g.get("/api/v1/audit/head", token=ADMIN_TOKEN).status == 200
    assert g.get("/v1/models", token="wrong-token-0123456789").status == 401
    assert g.get("/api/v1/tokens", token="wrong-token-0123456789").status == 401


if __name__ == "__main__":
    gwtest.main(globals())
