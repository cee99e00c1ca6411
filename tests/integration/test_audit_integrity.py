# SPDX-License-Identifier: MIT
"""Audit integrity against the real daemon and CLI: crash trials (repeated kill -9 during
audited writes, then every check of issue 12), a forged row the restarted gateway refuses to sign
over (readyz, status, the audit.integrity_failure event, the alert webhook), inclusion and
consistency proofs through the API and the CLI (checked here too, by an independent RFC 9162
implementation), heads posted to a witness and used later to catch a truncation, key rotation,
and the lock on the data directory."""

import hashlib
import http.server
import json
import os
import random
import re
import threading
import time

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, TENANT, assert_error

# --- an independent implementation of what the documents specify ------------------------------


def event_hash(row):
    d = {k: v for k, v in row.items() if k != "hash"}
    canon = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"openclaw-audit-v1\n" + canon.encode("utf-8")).hexdigest()


def leaf(event_hash_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hash_hex)).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def inclusion_ok(index, size, lf, path, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, lf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_ok(first, second, r1, r2, path):
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not path and r1 == r2
    if first & (first - 1) == 0:
        path = [r1] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == r1 and sr == r2


# --- a receiver for witness posts and alert webhooks -----------------------------------------


class Receiver:
    def __init__(self):
        self.posts = []
        self.down = False
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if rec.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                with rec.lock:
                    rec.posts.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def bodies(self, path):
        with self.lock:
            return [b for p, _, b in self.posts if p == path]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _cfg(**audit):
    cfg = gwtest.allow_exports(gwtest.seed_config())
    cfg["audit"].update(audit)
    return cfg


def _restart(g, cfg=None, wait=True):
    g2 = gwtest.Gateway(cfg or g.config, data_dir=g.data_dir)
    return g2.start(wait=wait)


def _events(g, n, token=ENG_TOKEN, tag="e"):
    for i in range(n):
        r = g.post("/api/v1/channels/engineering/code-reviewer/messages",
                   body={"content": "%s-%d" % (tag, i)}, token=token)
        assert r.status == 202, repr(r)


def _flush(g):
    def done():
        return g.get("/api/v1/status").json().get("audit", {}).get("queue_depth") == 0
    gwtest.wait_until(done, timeout=10, what="audit queue to drain")


def _wait_status(g, path, status, timeout=10):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = g.get(path)
            if last.status == status:
                return last
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise AssertionError("%s did not answer %d: %r" % (path, status, last))


# --- the lock on the data directory ----------------------------------------------------------

def test_second_gateway_refused():
    g = gwtest.Gateway(_cfg()).start()
    try:
        g2 = gwtest.Gateway(g.config, data_dir=g.data_dir)
        g2.start(wait=False)
        g2.proc.wait(10)
        assert g2.proc.returncode != 0, "a second gateway ran on the same data directory"
        err = g2.stderr()
        assert "PID %d" % g.proc.pid in err, "the refusal does not name the holder: %r" % err
        assert g.put_memory("engineering/code-reviewer", "still mine\n", ENG_TOKEN).status == 200
    finally:
        g.stop()


# --- crash trials --------------------------------------------------------------------------

TRIALS = 6
WRITERS = 4


def _writer(g, trial, i, stop, acked, lock):
    conn = None
    n = 0
    while not stop.is_set():
        rid = "crash-%d-%d-%d" % (trial, i, n)
        kind = ("memory", "token", "message")[n % 3]
        try:
            if kind == "memory":
                r = gwtest.http_request(g.port, "PUT", "/api/v1/memory/engineering/code-reviewer",
                                        body=(rid + "\n").encode(), token=ENG_TOKEN, timeout=5,
                                        headers={"X-Request-Id": rid,
                                                 "Content-Type": "text/markdown"})
            elif kind == "token":
                r = gwtest.http_request(g.port, "POST", "/api/v1/tokens", token=ADMIN_TOKEN,
                                        body={"id": rid, "scopes": ["agents:read"]}, timeout=5,
                                        headers={"X-Request-Id": rid})
            else:
                r = gwtest.http_request(g.port, "POST",
                                        "/api/v1/channels/engineering/code-reviewer/messages",
                                        body={"content": rid}, token=ENG_TOKEN, timeout=5,
                                        headers={"X-Request-Id": rid})
        except (OSError, ValueError):
            return  # killed under us
        if r.status in (200, 201, 202):
            with lock:
                acked.append((kind, rid))
        n += 1


def _check_after_crash(g, acked):
    """Every check of issue 12 item 7 on a gateway restarted after kill -9; it is then stopped
    so that the store and the file are looked at at rest. Returns the stopped gateway."""
    v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
    assert v["ok"] is True, "store does not verify after a crash: %r" % v
    assert v["unsigned_events"] == 0 and v["signed_events"] == v["events_checked"], v
    st = g.get("/api/v1/status").json()
    assert st["components"]["audit_integrity"] == "healthy", st
    key = g.get("/api/v1/audit/public-key").json()["public_key"]
    tokens = {t["id"] for t in g.get("/api/v1/tokens", token=ADMIN_TOKEN).json()["tokens"]}
    g.stop()
    db = g.db()
    try:
        rows = {r["seq"]: r["hash"] for r in db.execute(
            "SELECT seq, hash FROM audit_events WHERE tenant=?", (TENANT,))}
        head = db.execute("SELECT seq, hash FROM audit_checkpoints WHERE tenant=? "
                          "ORDER BY seq DESC LIMIT 1", (TENANT,)).fetchone()
        rids = {r[0] for r in db.execute("SELECT request_id FROM audit_events")}
        messages = {r[0] for r in db.execute("SELECT content FROM messages")}
    finally:
        db.close()
    n = max(rows)
    assert sorted(rows) == list(range(1, n + 1)), "the store's seqs have gaps"
    assert head[0] == n and head[1] == rows[n], "the latest head is not the store's end"
    c = gwtest.cli("audit", "verify", "--file", g.audit_log_path, "--public-key", key,
                   "--expected-last-seq", str(n), "--tenant", TENANT, "--json")
    assert c.rc == 0 and c.json()["ok"] is True, "file does not verify after a crash: %r" % c
    # no phantom events, no reused seq: every event line of the file is a committed row, once
    seen = set()
    for line in g.file_audit_lines():
        if line.get("tenant") != TENANT or "prev_hash" not in line:
            continue
        s = line["seq"]
        assert s not in seen, "seq %d appears twice in the file (reused)" % s
        seen.add(s)
        assert rows.get(s) == line["hash"], "file event %d is not the store's (phantom)" % s
        assert event_hash(line) == line["hash"]
    assert seen == set(range(1, n + 1)), "the file lacks committed events: %r" % sorted(
        set(range(1, n + 1)) - seen)[:10]
    for kind, rid in acked:
        assert rid in rids, "acknowledged %s %s is not in the audit trail" % (kind, rid)
        if kind == "token":
            assert rid in tokens, "acknowledged token %s is not in the state" % rid
        if kind == "message":
            assert rid in messages, "acknowledged message %s is not in the state" % rid
    mem = open(os.path.join(g.data_dir, "memory", "engineering", "code-reviewer.md")).read()
    assert mem.startswith("crash-"), "memory document %r" % mem[:40]
    return g


def test_crash_trials():
    rnd = random.Random(int(os.environ.get("GWTEST_SEED", "12")))
    g = gwtest.Gateway(_cfg()).start()
    acked, lock = [], threading.Lock()
    try:
        for trial in range(TRIALS):
            stop = threading.Event()
            ts = [threading.Thread(target=_writer, args=(g, trial, i, stop, acked, lock))
                  for i in range(WRITERS)]
            for t in ts:
                t.start()
            time.sleep(rnd.uniform(0.2, 0.9))
            g.kill()  # SIGKILL in the middle of audited writes
            stop.set()
            for t in ts:
                t.join(10)
            g = _check_after_crash(_restart(g), acked)
            g = _restart(g)
        assert len(acked) >= 20, "too few acknowledged mutations to mean anything (%d)" % len(acked)
    finally:
        g.stop()


# --- a forged row the gateway never signs over ---------------------------------------------------

def _forge_append(g):
    """A row appended after the last one, linked and hashed as documented."""
    last = [x for x in g.file_audit_lines() if x.get("tenant") == TENANT and "prev_hash" in x][-1]
    forged = dict(last)
    forged.update(seq=last["seq"] + 1, prev_hash=last["hash"], type="token.created",
                  details={"forged": True})
    forged["hash"] = event_hash(forged)
    prev = [r for r in g.store_audit_rows() if r["seq"] == last["seq"]][0]
    cols = list(prev)
    vals = []
    for col in cols:
        if col == "ts_ms":
            vals.append(prev["ts_ms"])
        elif col == "details":
            vals.append(json.dumps(forged["details"], sort_keys=True, separators=(",", ":")))
        else:
            vals.append(forged.get(col))
    db = g.db()  # the store of either backend
    try:
        db.execute("INSERT INTO audit_events (%s) VALUES (%s)" % (",".join(cols),
                                                                 ",".join("?" * len(cols))), vals)
        db.commit()
    finally:
        db.close()
    return forged["seq"]


def test_forged_row_never_signed_over():
    rec = Receiver()
    cfg = _cfg()
    cfg["costManagement"] = {"alertWebhook": rec.url("/alerts")}
    g = gwtest.Gateway(cfg).start()
    try:
        _events(g, 5)
        _flush(g)
        g.stop()
        bad = _forge_append(g)
        db = g.db()
        heads_before = db.execute("SELECT count(*) FROM audit_checkpoints WHERE tenant=?",
                                  (TENANT,)).fetchone()[0]
        db.close()
        # verification of the store alone already names it
        g = _restart(g, wait=False)
        rz = _wait_status(g, "/readyz", 503)
        assert rz.json()["checks"]["audit_integrity"] == "failing", rz.json()
        st = g.get("/api/v1/status").json()
        assert st["components"]["audit_integrity"] == "unhealthy", st
        assert "INTEGRITY FAILURE" in g.stderr() and "event %d" % bad in g.stderr()
        gwtest.wait_until(lambda: rec.bodies("/alerts"), timeout=10, what="the integrity alert")
        alert = rec.bodies("/alerts")[0]
        assert alert["type"] == "audit.integrity_failure" and alert["first_bad_seq"] == bad, alert
        assert alert["tenant"] == TENANT
        # the gateway keeps serving and recording, but never signs over the forged row
        assert g.put_memory("engineering/code-reviewer", "after\n", ENG_TOKEN).status == 200
        _events(g, 3, tag="after")
        _flush(g)
        db = g.db()
        heads_after = db.execute("SELECT count(*) FROM audit_checkpoints WHERE tenant=?",
                                 (TENANT,)).fetchone()[0]
        failure = db.execute("SELECT details FROM audit_events WHERE type="
                             "'audit.integrity_failure'").fetchall()
        db.close()
        assert heads_after == heads_before, "a head was signed over the forged row"
        assert failure and json.loads(failure[0][0])["first_bad_seq"] == bad, failure
        v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
        assert v["ok"] is False and v["first_bad_seq"] == bad, v
        assert v["signed_through"] == bad - 1 and v["unsigned_events"] >= 5, v
        c = gwtest.cli("audit", "verify", "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 1 and c.json()["first_bad_seq"] == bad, c
    finally:
        g.stop()
        rec.close()


# --- proofs -------------------------------------------------------------------------------------

def test_proofs_api_and_cli():
    g = gwtest.Gateway(_cfg()).start()
    d = gwtest.tempdir()
    try:
        _events(g, 6)
        _flush(g)
        headf = os.path.join(d, "head.json")
        c = gwtest.cli("audit", "head", "--output", headf, url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0, c
        kept = json.load(open(headf))
        assert kept["type"] == "head" and kept["frontier"], kept
        assert os.stat(headf).st_mode & 0o077 == 0
        _events(g, 300, tag="more")  # past a stored subtree of 256 events
        _flush(g)
        head = g.get("/api/v1/audit/head", token=ADMIN_TOKEN).json()
        # inclusion, checked here independently of the gateway's code (every request is
        # audited, so each proof may be against a later head than the one read here)
        for seq in (1, 5, 200, 257, head["seq"]):
            r = g.get("/api/v1/audit/proof/inclusion/%d" % seq, token=ADMIN_TOKEN)
            assert r.status == 200, repr(r)
            p = r.json()
            rows = {x["seq"]: x for x in g.store_audit_rows()}
            assert p["tree_size"] == p["head"]["seq"] >= head["seq"], p
            assert p["event"]["seq"] == seq, p
            assert event_hash(p["event"]) == rows[seq]["hash"]
            path = [bytes.fromhex(h) for h in p["path"]]
            assert inclusion_ok(seq - 1, p["tree_size"], leaf(p["event"]["hash"]), path,
                                bytes.fromhex(p["head"]["root"])), "inclusion of %d" % seq
            assert not inclusion_ok(seq - 1, p["tree_size"], leaf(rows[seq % 6 + 1]["hash"]),
                                    path, bytes.fromhex(p["head"]["root"])) or seq % 6 + 1 == seq
        # the whole tree recomputed here has the signed root
        leaves = [leaf(rows[s]["hash"]) for s in range(1, p["head"]["seq"] + 1)]
        assert mth(leaves).hex() == p["head"]["root"], "the signed root is not the events' tree"
        # consistency from the kept head
        r = g.get("/api/v1/audit/proof/consistency?from=%d" % kept["seq"], token=ADMIN_TOKEN)
        assert r.status == 200, repr(r)
        p = r.json()
        assert consistency_ok(kept["seq"], p["to"], bytes.fromhex(kept["root"]),
                              bytes.fromhex(p["head"]["root"]),
                              [bytes.fromhex(h) for h in p["path"]])
        assert_error(g.get("/api/v1/audit/proof/consistency?from=0", token=ADMIN_TOKEN), 400)
        assert_error(g.get("/api/v1/audit/proof/inclusion/999999", token=ADMIN_TOKEN), 404)
        assert_error(g.get("/api/v1/audit/proof/inclusion/1", token=ENG_TOKEN), 403)
        # the CLI fetches, checks and saves proofs; verify --proof checks them offline
        proof = os.path.join(d, "p5.json")
        c = gwtest.cli("audit", "prove", "5", "--output", proof, url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0, c
        c = gwtest.cli("audit", "verify", "--proof", proof, url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0 and "OK" in c.out, c
        pj = json.load(open(proof))
        pj["event"]["outcome"] = "denied"
        json.dump(pj, open(proof, "w"))
        c = gwtest.cli("audit", "verify", "--proof", proof, "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 1 and c.json()["ok"] is False and "altered" in c.json()["reason"], c
        cons = os.path.join(d, "c.json")
        c = gwtest.cli("audit", "prove", "--head", headf, "--output", cons, url=g.url,
                       token=ADMIN_TOKEN)
        assert c.rc == 0, c
        c = gwtest.cli("audit", "verify", "--proof", cons, "--head", headf, url=g.url,
                       token=ADMIN_TOKEN)
        assert c.rc == 0, c
        c = gwtest.cli("audit", "verify", "--since", headf, "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0 and c.json()["consistent_with_your_head"] is True, c
        # rewrite event 3 before the kept head, hashes recomputed: the log no longer extends it
        g.stop()
        row = [r for r in g.store_audit_rows() if r["seq"] == 3][0]
        db = g.db()
        line = [x for x in g.file_audit_lines() if x.get("seq") == 3 and "prev_hash" in x][0]
        line["outcome"] = "denied"
        db.execute("UPDATE audit_events SET outcome='denied', hash=? WHERE tenant=? AND seq=3",
                   (event_hash(line), TENANT))
        db.commit()
        db.close()
        assert row["outcome"] == "ok"
        g = _restart(g, wait=False)
        _wait_status(g, "/api/v1/health", 200)
        c = gwtest.cli("audit", "verify", "--since", headf, "--json", url=g.url, token=ADMIN_TOKEN)
        j = c.json()
        assert c.rc == 1 and j["ok"] is False and j["consistent_with_your_head"] is False, c
        assert j["first_bad_seq"] == 3, j
    finally:
        g.stop()


# --- witnesses ---------------------------------------------------------------------------------

def test_witness_gets_heads_and_catches_a_truncation():
    rec = Receiver()
    g = gwtest.Gateway(_cfg(witness={"url": rec.url("/witness"), "token": "w-secret"})).start()
    try:
        _events(g, 4)
        _flush(g)
        head = g.get("/api/v1/audit/head", token=ADMIN_TOKEN).json()

        def latest():
            b = [x for x in rec.bodies("/witness") if x.get("tenant") == TENANT]
            return b[-1] if b else None
        gwtest.wait_until(lambda: latest() and latest()["seq"] >= head["seq"], timeout=10,
                          what="the witness to get the latest head")
        with rec.lock:
            auth = [h.get("Authorization") for p, h, _ in rec.posts if p == "/witness"]
        assert auth and all(a == "Bearer w-secret" for a in auth), auth
        assert any(b["signature"] == head["signature"] for b in rec.bodies("/witness")) or \
            latest()["seq"] > head["seq"]
        # the witness is down for a while: it gets the newest head once it is back
        rec.down = True
        _events(g, 3, tag="down")
        _flush(g)
        time.sleep(0.5)
        rec.down = False
        head = g.get("/api/v1/audit/head", token=ADMIN_TOKEN).json()
        gwtest.wait_until(lambda: latest() and latest()["seq"] >= head["seq"], timeout=15,
                          what="the witness to catch up")
        witnessed = os.path.join(gwtest.tempdir(), "witnessed.json")
        kept = latest()
        json.dump(kept, open(witnessed, "w"))
        g.stop()
        # the tail and its heads cut from the store and from the file, while the gateway is down:
        # the last subtree of the witnessed head's frontier (verification against a kept head
        # finds where the log parted from it to the subtree)
        cut = kept["seq"] - (kept["seq"] & -kept["seq"])
        db = g.db()
        db.execute("DELETE FROM audit_events WHERE tenant=? AND seq>?", (TENANT, cut))
        db.execute("DELETE FROM audit_checkpoints WHERE tenant=? AND seq>?", (TENANT, cut))
        db.commit()
        db.close()
        with open(g.audit_log_path) as f:
            keep = [ln for ln in f if not (json.loads(ln).get("tenant") == TENANT
                                           and json.loads(ln).get("seq", 0) > cut)]
        with open(g.audit_log_path, "w") as f:
            f.writelines(keep)
        g = _restart(g)
        v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
        assert v["ok"] is True, "nothing local shows the cut: %r" % v
        c = gwtest.cli("audit", "verify", "--since", witnessed, "--json", url=g.url,
                       token=ADMIN_TOKEN)
        # the restarted gateway appends its own start-up events after the cut, as many as have
        # committed by now: a log still shorter than the witnessed head is truncated after its
        # end; one that reaches it parts from it exactly at the cut
        v = c.json()
        assert c.rc == 1 and v["last_seq"] >= cut, c
        if v["last_seq"] < kept["seq"]:
            assert "truncated" in v["reason"] and v["first_bad_seq"] == v["last_seq"] + 1, c
        else:
            assert v["first_bad_seq"] == cut + 1, c
    finally:
        g.stop()
        rec.close()


# --- key rotation ------------------------------------------------------------------------------

def test_key_rotation():
    g = gwtest.Gateway(_cfg()).start()
    try:
        _events(g, 3)
        first = g.get("/api/v1/audit/public-key").json()
        assert len(first["keys"]) == 1
        assert_error(g.post("/api/v1/audit/keys/rotate", token=ENG_TOKEN), 403,
                     msg_contains="audit:admin")
        c = gwtest.cli("audit", "rotate-key", "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0, c
        new = c.json()["key_id"]
        assert new != first["key_id"]
        _events(g, 3, tag="rotated")
        _flush(g)
        pk = g.get("/api/v1/audit/public-key").json()
        assert pk["key_id"] == new and {k["key_id"] for k in pk["keys"]} == {first["key_id"], new}
        assert g.get("/api/v1/audit/head", token=ADMIN_TOKEN).json()["key_id"] == new
        v = g.get("/api/v1/audit/verify", token=ADMIN_TOKEN).json()
        assert v["ok"] is True, v
        # an auditor who kept only the first key follows the rotation in the file
        c = gwtest.cli("audit", "verify", "--file", g.audit_log_path, "--public-key",
                       first["public_key"], "--json", url=g.url, token=ADMIN_TOKEN)
        assert c.rc == 0 and c.json()["ok"] is True, c
        rows = g.audit_query(event="audit.key_rotated")["events"]
        assert rows and rows[0]["details"]["previous_key_id"] == first["key_id"], rows
        g.stop()
        g = _restart(g)  # the new key is the one loaded
        assert g.get("/api/v1/audit/public-key").json()["key_id"] == new
    finally:
        g.stop()


if __name__ == "__main__":
    gwtest.main(globals())
