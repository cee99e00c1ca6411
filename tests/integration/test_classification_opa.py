# SPDX-License-Identifier: MIT
"""Classification overrides and the optional Open Policy Agent (docs/API.md "Classification
overrides", "Open Policy Agent (optional)", "Tools and approvals"; docs/POLICY.md
"Classification"): an administrator overrides the level of a memory document in either
direction with a reason, the override wins over the content detectors for tool calls on that
document, plain users cannot override but can read, removal restores the detectors, and every
change is audited; with policy.opa_url set, tool decisions are also sent to a (local, fake) OPA
whose answer is combined with the built-in one (the stricter wins) and which fails closed on a
timeout, a non-2xx answer, a malformed body or a missing result."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import gwtest
from gwtest import ADMIN_TOKEN, TENANT, assert_error

ALICE = "alice@acme.test"   # enterprise_admin (no team)
BOB = "bob@acme.test"       # team_lead of platform
CAROL = "carol@acme.test"   # user, team platform (engineering/platform)
DAVE = "dave@acme.test"     # user, team platform

TOK = {
    ALICE: "co-alice-token-5b0c6e1f2a3d4c5b6a798081a2b3c4d5",
    BOB: "co-bob-token-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    CAROL: "co-carol-token-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
    DAVE: "co-dave-token-4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
}
ROLES = {ALICE: "enterprise_admin", BOB: "team_lead", CAROL: "user", DAVE: "user"}
# plain users get only the engineering channels (so a marketing item is out of their reach)
USER_SCOPES = ["channels:engineering/*", "memory:read", "memory:write", "policies:read",
               "audit:read"]

OPA_AGENTS = ["opa-allow", "opa-deny", "opa-approve", "opa-slow", "opa-500", "opa-bad",
              "opa-empty", "opa-builtin", "opa-input"]

SSN = "123-45-6789"          # national id detector -> confidential
EMAIL = "jane.doe@example.com"  # e-mail detector -> internal


def _identity():
    return {
        "org_units": ["engineering", "engineering/platform", "marketing"],
        "teams": [{"id": "platform", "org_unit": "engineering/platform"}],
        "users": [
            {"id": ALICE, "email": ALICE, "role": "enterprise_admin"},
            {"id": BOB, "email": BOB, "role": "team_lead", "team": "platform"},
            {"id": CAROL, "email": CAROL, "role": "user", "team": "platform"},
            {"id": DAVE, "email": DAVE, "role": "user", "team": "platform"},
        ],
    }


def _config(policy=None, agents=()):
    cfg = gwtest.seed_config()
    cfg["identity"] = _identity()
    for user, secret in TOK.items():
        scopes = USER_SCOPES if ROLES[user] == "user" else ["*"]
        cfg["auth"]["tokens"].append({"id": "co-" + user.split("@")[0], "token": secret,
                                      "scopes": scopes, "owner": user})
    for a in agents:
        cfg["agents"].append({"name": "engineering/" + a, "channel": "engineering/" + a})
    if policy:
        cfg["policy"].update(policy)
    return cfg


# --------------------------------------------------------------------------------------------
# A fake OPA (data API): records the last request, answers according to OPA_STATE["mode"].

OPA_STATE = {"mode": "allow", "last": None, "path": None, "method": None, "ctype": None,
             "calls": 0}
OPA_LOCK = threading.Lock()


class _OpaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _answer(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the gateway gave up (timeout)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            doc = json.loads(raw.decode("utf-8"))
        except Exception:
            doc = {"_unparsable": raw[:500].decode("utf-8", "replace")}
        with OPA_LOCK:
            OPA_STATE["last"] = doc
            OPA_STATE["path"] = self.path
            OPA_STATE["method"] = self.command
            OPA_STATE["ctype"] = self.headers.get("Content-Type")
            OPA_STATE["calls"] += 1
            mode = OPA_STATE["mode"]
        if mode == "allow":
            self._answer(200, json.dumps({"result": {"allow": True}}))
        elif mode == "approval":
            self._answer(200, json.dumps({"result": {"allow": True, "require_approval": True,
                                                     "reason": "opa says ask"}}))
        elif mode == "deny":
            self._answer(200, json.dumps({"result": {"allow": False, "reason": "opa says no"}}))
        elif mode == "slow":
            time.sleep(2.0)
            self._answer(200, json.dumps({"result": {"allow": True}}))
        elif mode == "error":
            self._answer(500, json.dumps({"code": "internal_error", "message": "boom"}))
        elif mode == "malformed":
            self._answer(200, "this is { not json", ctype="text/plain")
        elif mode == "missing":
            self._answer(200, "{}")
        elif mode == "badtype":
            self._answer(200, json.dumps({"result": {"allow": "true"}}))
        elif mode == "nullresult":
            self._answer(200, json.dumps({"result": None}))
        else:
            self._answer(500, "unknown mode")


class _Opa:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _OpaHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1/data/openclaw/allow" % self.port


def _opa_mode(mode):
    with OPA_LOCK:
        OPA_STATE["mode"] = mode
        OPA_STATE["last"] = None
        OPA_STATE["path"] = None
        calls = OPA_STATE["calls"]
    return calls


def _opa_calls():
    with OPA_LOCK:
        return OPA_STATE["calls"]


# --------------------------------------------------------------------------------------------
# Daemons

# Enterprise actions policy: memory tools run autonomously; send_message falls to the default
# autonomy (approve). Plain users and admins have no other policy unless a test adds one.
ENT_ACTIONS = {"default_autonomy": "approve", "blocked": ["shell_exec"],
               "autonomous": ["memory_read", "memory_write"]}


def _seed_policy(g):
    r = g.post("/api/v1/policies", token=TOK[ALICE],
               body={"scope": "enterprise", "domain": "actions", "content": ENT_ACTIONS,
                     "change_reason": "classification/OPA test baseline"})
    assert r.status == 201, "enterprise actions policy: %r" % r


def _make_main():
    g = gwtest.Gateway(_config()).start()
    _seed_policy(g)
    return g


def _make_opa():
    opa = _Opa()
    OPA_STATE["server"] = opa
    g = gwtest.Gateway(_config({"opa_url": opa.url, "opa_timeout_ms": 300},
                               agents=OPA_AGENTS)).start()
    _opa_mode("allow")
    _seed_policy(g)
    return g


GW = gwtest.Lazy(_make_main)
GWO = gwtest.Lazy(_make_opa)
STATE = {}

# --------------------------------------------------------------------------------------------
# helpers

_rid_n = [0]


def _rid(tag):
    _rid_n[0] += 1
    return "co-%s-%d-%d" % (tag, os.getpid() % 10000, _rid_n[0])


def _ok(r, status, what):
    assert r.status == status, "%s: expected %d, got %r" % (what, status, r)
    return r.json()


def _cls_path(item):
    return "/api/v1/classification/" + item


def _put_cls(g, who, item, body, rid=None):
    hdrs = {"X-Request-Id": rid} if rid else None
    return g.req("PUT", _cls_path(item), body=body, token=TOK.get(who, who), headers=hdrs)


def _get_cls(g, who, item):
    return g.get(_cls_path(item), token=TOK.get(who, who))


def _del_cls(g, who, item, reason="no longer needed", rid=None):
    hdrs = {"X-Request-Id": rid} if rid else None
    q = "" if reason is None else "?reason=" + quote(reason)
    return g.req("DELETE", _cls_path(item) + q, token=TOK.get(who, who), headers=hdrs)


def _invoke(g, who, tool, args, rid=None, timeout=10.0):
    hdrs = {"X-Request-Id": rid} if rid else None
    return g.post("/api/v1/tools/invoke", body={"tool": tool, "args": args},
                  token=TOK.get(who, who), headers=hdrs, timeout=timeout)


def _mw(agent, content, ns="engineering"):
    return {"namespace": ns, "agent": agent, "content": content}


def _memory(g, agent, ns="engineering"):
    return g.get("/api/v1/memory/%s/%s" % (ns, agent), token=ADMIN_TOKEN)


def _rows(g, rid, want=None, wait_s=3.0):
    """Audit rows of this request id; polls until want(rows) (some rows are asynchronous)."""
    end = time.time() + wait_s
    while True:
        rows = g.audit_query(request_id=rid, limit=100)["events"]
        if (want(rows) if want else rows) or time.time() > end:
            return rows
        time.sleep(0.05)


def _tool_rows(g, rid):
    rows = _rows(g, rid, want=lambda rs: any(x["type"].startswith("tool.") for x in rs))
    return [x for x in rows if x["type"].startswith("tool.")], rows


def _tool_classification(g, who, agent, content, ns="engineering"):
    """Runs memory_write and returns the classification(s) of its tool.* audit rows."""
    rid = _rid("cls")
    r = _invoke(g, who, "memory_write", _mw(agent, content, ns), rid=rid)
    j = _ok(r, 200, "memory_write on %s/%s" % (ns, agent))
    assert j.get("status") == "executed", "memory_write not executed: %r" % j
    trows, rows = _tool_rows(g, rid)
    assert trows, "no tool.* audit row for request %s (rows: %r)" % (
        rid, [x["type"] for x in rows])
    return sorted(set(x.get("classification") for x in trows)), j


# --------------------------------------------------------------------------------------------
# 1. Classification overrides

ITEM = "engineering/code-reviewer"


def test_override_put_and_get():
    g = GW()
    # before: default (internal), no override
    j = _ok(_get_cls(g, ALICE, ITEM), 200, "GET classification before any override")
    assert j.get("item") == ITEM and j.get("source") == "default", "before: %r" % j
    assert j.get("level") == "internal", "default level %r, expected internal" % j
    rid = _rid("ovr-put")
    r = _put_cls(g, ALICE, ITEM, {"level": "restricted", "reason": "holds incident notes"},
                 rid=rid)
    j = _ok(r, 200, "enterprise_admin PUT override")
    for k in ("item", "level", "previous", "reason", "override_by", "override_at"):
        assert k in j, "PUT response lacks %r: %r" % (k, j)
    assert j["item"] == ITEM and j["level"] == "restricted", repr(j)
    assert j["previous"] is None, "first override: previous %r, expected null" % j["previous"]
    assert j["reason"] == "holds incident notes", repr(j)
    assert j["override_by"] == ALICE, "override_by %r, expected %r" % (j["override_by"], ALICE)
    assert isinstance(j["override_at"], str) and j["override_at"][:2] == "20", repr(j)
    STATE["put1"] = rid
    g2 = _ok(_get_cls(g, ALICE, ITEM), 200, "GET after override")
    assert g2.get("source") == "override" and g2.get("level") == "restricted", repr(g2)
    assert g2.get("reason") == "holds incident notes" and g2.get("override_by") == ALICE, repr(g2)
    assert g2.get("item") == ITEM and g2.get("override_at"), repr(g2)


def test_override_raises_tool_classification():
    g = GW()
    levels, _ = _tool_classification(g, ALICE, "code-reviewer", "harmless review notes")
    assert levels == ["restricted"], \
        "harmless content on an item overridden to restricted classified %r" % levels
    # reads of the document carry the override too
    rid = _rid("cls-read")
    r = _invoke(g, ALICE, "memory_read", {"namespace": "engineering", "agent": "code-reviewer"},
                rid=rid)
    j = _ok(r, 200, "memory_read of the overridden item")
    assert j.get("result", {}).get("content") == "harmless review notes", repr(j)
    trows, _ = _tool_rows(g, rid)
    levels = sorted(set(x.get("classification") for x in trows))
    assert levels == ["restricted"], "memory_read of an item overridden to restricted: %r" % levels
    # the override is per document: the namespace's shared memory stays internal
    levels, _ = _tool_classification(g, ALICE, "shared", "harmless shared notes")
    assert levels == ["internal"], "a document without override classified %r" % levels
    # the GET of the item is unchanged by tool calls
    j = _ok(_get_cls(g, ALICE, ITEM), 200, "GET after tool call")
    assert j.get("level") == "restricted" and j.get("source") == "override", repr(j)


def test_override_lowering_wins_over_detectors():
    g = GW()
    rid = _rid("ovr-lower")
    j = _ok(_put_cls(g, ALICE, ITEM, {"level": "public", "reason": "published changelog"},
                     rid=rid), 200, "lowering override")
    assert j.get("level") == "public" and j.get("previous") == "restricted", \
        "lowering: level/previous %r" % j
    STATE["put2"] = rid
    content = "contact %s, ssn %s" % (EMAIL, SSN)
    levels, _ = _tool_classification(g, ALICE, "code-reviewer", content)
    assert levels == ["public"], \
        "override public + detector content (e-mail, SSN) classified %r, expected public" % levels
    # the memory was really written (the override does not block anything)
    r = _memory(g, "code-reviewer")
    assert r.status == 200 and EMAIL in r.text, "memory after lowering: %r" % r


def test_override_input_validation():
    g = GW()
    r = _put_cls(g, ALICE, ITEM, {"level": "confidential"})
    assert_error(r, 400, "invalid_request")
    r = _put_cls(g, ALICE, ITEM, {"level": "confidential", "reason": ""})
    assert_error(r, 400, "invalid_request")
    r = _put_cls(g, ALICE, ITEM, {"level": "top-secret", "reason": "x"})
    assert_error(r, 400, "invalid_request")
    r = _put_cls(g, ALICE, ITEM, {"reason": "no level"})
    assert_error(r, 400, "invalid_request")
    r = g.req("PUT", _cls_path(ITEM), body=b"{not json", token=TOK[ALICE],
              headers={"Content-Type": "application/json"})
    assert_error(r, 400, ["invalid_json", "invalid_request"])
    # nothing changed
    j = _ok(_get_cls(g, ALICE, ITEM), 200, "GET after refused writes")
    assert j.get("level") == "public" and j.get("source") == "override", repr(j)
    # bad names: 400
    r = _put_cls(g, ALICE, "engineering/Bad..Name", {"level": "public", "reason": "x"})
    assert r.status in (400, 404), "bad agent name: %r" % r


def test_override_unknown_agent_404():
    g = GW()
    # docs/API.md error table: 404 for an unknown agent (no override on a phantom document)
    bad = []
    for what, r in (("PUT", _put_cls(g, ALICE, "engineering/no-such-agent",
                                     {"level": "public", "reason": "x"})),
                    ("GET", _get_cls(g, ALICE, "engineering/no-such-agent")),
                    ("PUT other namespace", _put_cls(g, ALICE, "nosuchns/whatever",
                                                     {"level": "public", "reason": "x"}))):
        if r.status != 404:
            bad.append("%s -> %r" % (what, r))
    assert not bad, "unknown agent not refused with 404: " + "; ".join(bad)


def test_override_shared_memory():
    g = GW()
    j = _ok(_put_cls(g, ALICE, "engineering/shared", {"level": "confidential",
                                                      "reason": "team-wide notes"}),
            200, "override on the namespace's shared memory")
    assert j.get("item") == "engineering/shared" and j.get("level") == "confidential", repr(j)
    levels, _ = _tool_classification(g, ALICE, "shared", "nothing special")
    assert levels == ["confidential"], "shared memory write classified %r" % levels
    _ok(_del_cls(g, ALICE, "engineering/shared"), 200, "clear shared override")


def test_plain_user_cannot_override_but_reads():
    g = GW()
    r = _put_cls(g, CAROL, ITEM, {"level": "internal", "reason": "I want to"})
    assert_error(r, 403, "forbidden")
    r = _del_cls(g, CAROL, ITEM)
    assert_error(r, 403, "forbidden")
    # the override is unchanged after the refused writes, and the user may read it
    j = _ok(_get_cls(g, CAROL, ITEM), 200, "plain user with channel scope GETs classification")
    assert j.get("level") == "public" and j.get("source") == "override", repr(j)
    assert j.get("item") == ITEM, repr(j)
    # no channel scope for marketing: 403
    r = _get_cls(g, CAROL, "marketing/content-writer")
    assert_error(r, 403, "forbidden")
    # refused writes left no classification.overridden row by carol
    rows = [e for e in g.audit_query(event="classification.*", limit=1000)["events"]
            if e.get("actor") == CAROL and e.get("outcome") == "ok"
            and e.get("type") in ("classification.overridden", "classification.cleared")]
    assert not rows, "refused override audited as ok: %r" % rows


def test_delete_override_restores_default():
    g = GW()
    r = _del_cls(g, ALICE, ITEM, reason=None)
    assert_error(r, 400, "invalid_request")
    rid = _rid("ovr-del")
    r = _del_cls(g, ALICE, ITEM, reason="back to detectors", rid=rid)
    _ok(r, 200, "DELETE override")
    STATE["del"] = rid
    j = _ok(_get_cls(g, ALICE, ITEM), 200, "GET after DELETE")
    assert j.get("source") == "default", "after DELETE source %r" % j
    assert j.get("level") == "internal", "after DELETE level %r" % j
    assert "override_by" not in j or j.get("override_by") is None, repr(j)
    # detectors apply again: SSN -> confidential; plain -> internal
    levels, _ = _tool_classification(g, ALICE, "code-reviewer", "ssn " + SSN)
    assert levels == ["confidential"], "after DELETE an SSN classified %r" % levels
    levels, _ = _tool_classification(g, ALICE, "code-reviewer", "harmless")
    assert levels == ["internal"], "after DELETE harmless content classified %r" % levels


def test_override_changes_are_audited():
    g = GW()
    assert all(k in STATE for k in ("put1", "put2", "del")), "earlier tests did not run: %r" % STATE
    expect = [(STATE["put1"], "classification.overridden", "restricted"),
              (STATE["put2"], "classification.overridden", "public"),
              (STATE["del"], "classification.cleared", None)]
    for rid, typ, level in expect:
        rows = _rows(g, rid)
        types = [x["type"] for x in rows]
        assert typ in types, "request %s: audit types %r, expected %s" % (rid, types, typ)
        row = [x for x in rows if x["type"] == typ][0]
        assert row.get("actor") == ALICE, "%s actor %r" % (typ, row.get("actor"))
        assert row.get("resource") == ITEM, "%s resource %r" % (typ, row.get("resource"))
        assert row.get("outcome") == "ok", "%s outcome %r" % (typ, row.get("outcome"))
        det = row.get("details") or {}
        if level is not None:
            assert det.get("level") == level, "%s details %r" % (typ, det)
            assert det.get("reason"), "%s details without reason %r" % (typ, det)
    # the whole history by event type
    # the whole history by event type (refused attempts may be audited too, not as "ok")
    ov = [e for e in g.audit_query(event="classification.overridden", limit=1000)["events"]
          if e.get("resource") == ITEM and e.get("outcome") == "ok"]
    cl = [e for e in g.audit_query(event="classification.cleared", limit=1000)["events"]
          if e.get("resource") == ITEM and e.get("outcome") == "ok"]
    assert len(ov) == 2 and len(cl) == 1, \
        "expected 2 overridden + 1 cleared ok rows for %s, got %d + %d" % (ITEM, len(ov), len(cl))
    assert [e["details"].get("level") for e in ov] == ["public", "restricted"], \
        "overridden rows (newest first) %r" % [e.get("details") for e in ov]
    v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
    assert v.get("ok") is True, "audit chain verify: %r" % v


# --------------------------------------------------------------------------------------------
# 2. Open Policy Agent

def _opa_invoke(g, who, agent, content="opa test content", tool="memory_write", rid=None,
                timeout=10.0):
    args = _mw(agent, content) if tool != "memory_read" else {"namespace": "engineering",
                                                              "agent": agent}
    return _invoke(g, who, tool, args, rid=rid or _rid("opa"), timeout=timeout)


def test_opa_allow_executes():
    g = GWO()
    before = _opa_mode("allow")
    r = _opa_invoke(g, CAROL, "opa-allow", "written with OPA's blessing")
    j = _ok(r, 200, "OPA allow + built-in allow")
    assert j.get("status") == "executed", repr(j)
    assert _opa_calls() > before, "OPA was not consulted for an allowed tool call"
    r = _memory(g, "opa-allow")
    assert r.status == 200 and "blessing" in r.text, "memory after allowed write: %r" % r
    with OPA_LOCK:
        assert OPA_STATE["method"] == "POST", "OPA called with %r" % OPA_STATE["method"]
        assert OPA_STATE["path"] == "/v1/data/openclaw/allow", "OPA path %r" % OPA_STATE["path"]
        ct = OPA_STATE["ctype"] or ""
        assert ct.startswith("application/json"), "OPA request Content-Type %r" % ct


def test_opa_input_document():
    g = GWO()
    _opa_mode("allow")
    r = _opa_invoke(g, CAROL, "opa-input", "input document probe")
    _ok(r, 200, "invoke for input check")
    with OPA_LOCK:
        doc = OPA_STATE["last"]
    assert isinstance(doc, dict) and isinstance(doc.get("input"), dict), \
        "OPA request body is not {\"input\":{...}}: %r" % (doc,)
    inp = doc["input"]
    for k in ("principal", "action", "resource", "classification", "context",
              "effective_policy", "builtin_decision"):
        assert k in inp, "OPA input lacks %r: %s" % (k, json.dumps(inp)[:800])
    p = inp["principal"]
    assert isinstance(p, dict), "principal %r" % (p,)
    for k in ("tenant", "user", "role", "org_unit", "team", "scope_chain"):
        assert k in p, "principal lacks %r: %r" % (k, p)
    assert p["user"] == CAROL, "principal.user %r" % p["user"]
    assert p["role"] == "user", "principal.role %r" % p["role"]
    assert p["team"] == "platform", "principal.team %r" % p["team"]
    assert p["tenant"] == TENANT, "principal.tenant %r" % p["tenant"]
    assert p["org_unit"] == "engineering/platform", "principal.org_unit %r" % p["org_unit"]
    assert isinstance(p["scope_chain"], list) and p["scope_chain"], \
        "principal.scope_chain %r" % p["scope_chain"]
    assert inp["action"] == "tool_call", "action %r" % inp["action"]
    assert inp["resource"] == "memory_write", "resource %r (expected the tool name)" % inp["resource"]
    assert inp["classification"] == "internal", "classification %r" % inp["classification"]
    assert isinstance(inp["context"], dict), "context %r" % (inp["context"],)
    ep = inp["effective_policy"]
    assert isinstance(ep, dict) and ep, "effective_policy %r" % (ep,)
    assert ep.get("default_autonomy") == "approve" or \
        (isinstance(ep.get("policy"), dict) and ep["policy"].get("default_autonomy") == "approve"), \
        "effective_policy does not carry the actions policy: %s" % json.dumps(ep)[:500]
    bd = inp["builtin_decision"]
    assert isinstance(bd, dict) and bd.get("decision", bd.get("effect")) == "allow", \
        "builtin_decision %r" % (bd,)
    # classification in the input follows the detectors
    _opa_invoke(g, CAROL, "opa-input", "ssn " + SSN)
    with OPA_LOCK:
        c2 = (OPA_STATE["last"] or {}).get("input", {}).get("classification")
    assert c2 == "confidential", "classification sent to OPA for an SSN: %r" % c2
    # and an override: OPA sees the overridden level, not the detectors'
    _ok(_put_cls(g, ALICE, "engineering/opa-input", {"level": "restricted",
                                                     "reason": "OPA must see this"}),
        200, "override on the OPA daemon")
    _ok(_opa_invoke(g, CAROL, "opa-input", "harmless"), 200, "invoke after override")
    with OPA_LOCK:
        c3 = (OPA_STATE["last"] or {}).get("input", {}).get("classification")
    assert c3 == "restricted", "classification sent to OPA for an overridden item: %r" % c3


def test_opa_deny_refuses():
    g = GWO()
    _opa_mode("deny")
    rid = _rid("opa-deny")
    r = _opa_invoke(g, CAROL, "opa-deny", "must not land", rid=rid)
    e = assert_error(r, 403, "forbidden")
    assert "opa says no" in e["message"], "403 message %r lacks OPA's reason" % e["message"]
    assert _memory(g, "opa-deny").status == 404, "OPA-denied memory_write wrote the memory"
    rows = _rows(g, rid, want=lambda rs: any(x["type"].startswith("tool.") for x in rs))
    types = [x["type"] for x in rows]
    assert "tool.invoked" not in types and "tool.denied" in types, "audit rows %r" % types


def test_opa_require_approval_parks():
    g = GWO()
    _opa_mode("approval")
    r = _opa_invoke(g, CAROL, "opa-approve", "needs a human")
    j = _ok(r, 202, "OPA require_approval")
    assert j.get("status") == "pending_approval" and str(j.get("approval_id", "")).startswith("apr_"), \
        repr(j)
    assert _memory(g, "opa-approve").status == 404, "parked action ran"
    STATE["opa_apr"] = j["approval_id"]
    assert "opa says ask" in json.dumps(j.get("decision")), \
        "the parked decision does not carry OPA's reason: %r" % (j.get("decision"),)
    r = g.get("/api/v1/approvals/" + j["approval_id"], token=TOK[CAROL])
    item = _ok(r, 200, "requester sees the parked item")
    assert item.get("status") == "pending", repr(item)


def _fail_closed(g, mode, agent):
    _opa_mode(mode)
    t0 = time.time()
    r = _opa_invoke(g, CAROL, agent, "fail closed " + mode, timeout=15.0)
    dt = time.time() - t0
    e = assert_error(r, 403, "forbidden")
    assert "opa" in e["message"].lower(), \
        "OPA %s: 403 message %r does not mention OPA" % (mode, e["message"])
    assert _memory(g, agent).status == 404, "OPA %s: memory was written" % mode
    return dt, e


def test_opa_timeout_fails_closed():
    g = GWO()
    dt, _ = _fail_closed(g, "slow", "opa-slow")
    assert dt < 1.8, "a 300 ms opa_timeout_ms took %.2f s to deny" % dt


def test_opa_http_500_fails_closed():
    _fail_closed(GWO(), "error", "opa-500")


def test_opa_malformed_fails_closed():
    _fail_closed(GWO(), "malformed", "opa-bad")


def test_opa_missing_result_fails_closed():
    _fail_closed(GWO(), "missing", "opa-empty")


def test_opa_non_boolean_allow_fails_closed():
    g = GWO()
    _fail_closed(g, "badtype", "opa-bad")
    _fail_closed(g, "nullresult", "opa-empty")


def _make_unreachable():
    port = gwtest.free_port()  # nothing listens there
    return gwtest.Gateway(_config({"opa_url": "http://127.0.0.1:%d/v1/data/openclaw/allow" % port,
                                   "opa_timeout_ms": 300}, agents=["opa-down"])).start()


GWU = gwtest.Lazy(_make_unreachable)


def test_opa_unreachable_fails_closed():
    g = GWU()
    _seed_policy(g)
    r = _invoke(g, CAROL, "memory_write", _mw("opa-down", "nobody home"))
    e = assert_error(r, 403, "forbidden")
    assert "opa" in e["message"].lower(), "403 message %r does not mention OPA" % e["message"]
    assert _memory(g, "opa-down").status == 404, "memory written with OPA unreachable"


def test_opa_config_validation():
    d = gwtest.tempdir("gwtest-opa-cfg-")
    cases = [({"opa_url": "ftp://127.0.0.1/x"}, False),
             ({"opa_url": "http://127.0.0.1:8181/v1/data/openclaw/allow",
               "opa_timeout_ms": 5}, False),
             ({"opa_url": "http://127.0.0.1:8181/v1/data/openclaw/allow",
               "opa_timeout_ms": 20000}, False),
             ({"opa_url": "http://127.0.0.1:8181/v1/data/openclaw/allow",
               "opa_timeout_ms": 300}, True)]
    for i, (pol, good) in enumerate(cases):
        path = os.path.join(d, "gw%d.yaml" % i)
        with open(path, "w") as f:
            f.write(gwtest.to_yaml(_config(pol)) + "\n")
        rc, out, err = gwtest.check_config(path)
        assert (rc == 0) == good, "policy %r: --check-config rc %d (expected %s): %s" % (
            pol, rc, "ok" if good else "refused", (out + err)[-400:])


def test_opa_allow_cannot_loosen_builtin_deny():
    g = GWO()
    _opa_mode("allow")
    # built-in deny for dave only: his user policy blocks memory_write
    r = g.post("/api/v1/policies", token=TOK[BOB],
               body={"scope": "user", "scope_id": DAVE, "domain": "actions",
                     "content": {"blocked": ["memory_write"]}, "change_reason": "read-only"})
    _ok(r, 201, "team lead blocks memory_write for dave")
    r = _opa_invoke(g, DAVE, "opa-builtin", "OPA allows but the built-in denies")
    e = assert_error(r, 403, "forbidden")
    assert "denied by policy" in e["message"], "403 message %r" % e["message"]
    assert _memory(g, "opa-builtin").status == 404, "OPA allow loosened a built-in deny"
    # built-in require_approval (send_message falls to default approve) + OPA allow -> 202
    r = _invoke(g, CAROL, "send_message", _mw("opa-builtin", "hello"))
    j = _ok(r, 202, "built-in approve + OPA allow")
    assert j.get("status") == "pending_approval", repr(j)
    # and OPA allow with built-in allow still executes (sanity: carol, not dave)
    r = _opa_invoke(g, CAROL, "opa-builtin", "carol may")
    _ok(r, 200, "carol's memory_write with OPA allow")


def test_opa_recovers_after_failures():
    g = GWO()
    _opa_mode("allow")
    r = _opa_invoke(g, CAROL, "opa-allow", "after the failures")
    j = _ok(r, 200, "OPA allow after failure modes")
    assert j.get("status") == "executed", repr(j)


if __name__ == "__main__":
    gwtest.main(globals())
