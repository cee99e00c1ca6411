/* SPDX-License-Identifier: MIT
 * test_audit.c — the audit trail against the real store: serialization, chaining, group commit
 * with a signed head per commit, failure semantics (a broken file, a store that refuses a
 * batch, a file that fails after the commit), forwarders, filtering, daily rotation, CSV,
 * several tenants at once. Tampering is test_audit_tamper.c, the tree test_audit_merkle.c,
 * proofs and keys test_audit_proof.c.
 */
#include "base/prelude.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_audit_fx.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

/* --- serialization --------------------------------------------------------------------------- */

static void test_row_canonical_and_hash(void **state)
{
    (void)state;
    struct store_audit_row r = {
        .tenant = "t",
        .seq = 1,
        .ts_ms = 1736501000123,
        .type = "message.sent",
        .outcome = "ok",
        .actor = "alice",
        .classification = "internal",
        .status = 202,
        .details = "{\"b\":1,\"a\":\"x\"}",
        .prev_hash = AUDIT_ZERO_HASH,
    };
    char *c = audit_row_canonical(&r);
    assert_string_equal(c,
                        "{\"actor\":\"alice\",\"classification\":\"internal\",\"client_ip\":null,"
                        "\"details\":{\"a\":\"x\",\"b\":1},\"org_unit\":null,\"outcome\":\"ok\","
                        "\"prev_hash\":\"" AUDIT_ZERO_HASH
                        "\",\"request_id\":null,\"resource\":null,"
                        "\"seq\":1,\"status\":202,\"team\":null,\"tenant\":\"t\",\"token_id\":null,"
                        "\"ts\":\"2025-01-10T09:23:20.123Z\",\"type\":\"message.sent\"}");
    char *msg = gw_xasprintf("openclaw-audit-v1\n%s", c);
    char want[65], got[65];
    gw_sha256_hex(msg, strlen(msg), want);
    audit_row_compute_hash(&r, got);
    assert_string_equal(got, want);
    free(msg);
    free(c);

    /* JSON round trip: from_json(to_json(r)) hashes the same. */
    r.hash = got;
    json_t *o = audit_row_to_json(&r);
    assert_string_equal(gw_json_str(o, "hash"), got);
    assert_true(json_is_null(json_object_get(o, "team")));
    struct store_audit_row back;
    assert_int_equal(audit_row_from_json(o, &back), GW_OK);
    char again[65];
    audit_row_compute_hash(&back, again);
    assert_string_equal(again, got);
    assert_string_equal(back.details, "{\"a\":\"x\",\"b\":1}");
    assert_int_equal(back.ts_ms, r.ts_ms);
    assert_null(back.team);
    store_audit_row_release(&back);
    json_decref(o);
}

/* The writer's canonical text (assembled around prev_hash, seq, ts) equals jansson's. */
static void test_canon_pieces_match_jansson(void **state)
{
    (void)state;
    const char *details[] = {
        "{}",
        "{\"a\":[1,2.5,{\"z\":null}],\"u\":\"h\u00e9 \u2603\",\"q\":\"\\\"\\n\\u0001/\"}",
        "{\"seq\":0,\"status\":1,\"prev_hash\":\"x\"}",
    };
    struct store_audit_row r = {
        .tenant = "t\"1",
        .type = "a.b",
        .outcome = "ok",
        .actor = "\u00e9l\u00e8ve \t\x01",
        .token_id = NULL,
        .org_unit = "org/x",
        .team = NULL,
        .resource = "</script>",
        .request_id = "r",
        .client_ip = "::1",
        .classification = "internal",
        .status = -5,
    };
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    for (size_t i = 0; i < GW_ARRAY_LEN(details); i++) {
        json_t *d = json_loads(details[i], 0, NULL);
        assert_non_null(d);
        char *dc = gw_json_canonical(d);
        json_decref(d);
        struct audit_canon c;
        audit_canon_build(&r, dc, &c);
        r.details = dc;
        r.seq = (int64_t)i * 1000003 + 1;
        r.ts_ms = 1736501000123 + (int64_t)i;
        r.prev_hash = i ? "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
                        : AUDIT_ZERO_HASH;
        struct gw_buf line;
        gw_buf_init(&line, 1 << 20);
        char h1[65], h2[65];
        audit_canon_finish(&c, r.prev_hash, r.seq, r.ts_ms, md, h1, &line);
        audit_row_compute_hash(&r, h2);
        assert_string_equal(h1, h2);
        char *canon = audit_row_canonical(&r);
        assert_int_equal(strncmp(line.data, canon, strlen(canon) - 1), 0);
        json_t *o = json_loadb(line.data, line.len, 0, NULL);
        assert_non_null(o);
        assert_string_equal(gw_json_str(o, "hash"), h1);
        json_object_del(o, "hash");
        char h3[65];
        audit_hash_object(o, h3);
        assert_string_equal(h3, h1);
        json_decref(o);
        free(canon);
        gw_buf_release(&line);
        free(c.text);
        free(dc);
    }
    EVP_MD_CTX_free(md);
}

static void test_csv_injection(void **state)
{
    (void)state;
    struct store_audit_row r = {
        .tenant = "t",
        .seq = 3,
        .ts_ms = 0,
        .type = "=HYPERLINK(\"x\")",
        .outcome = "ok",
        .actor = "+cmd",
        .token_id = "-2",
        .org_unit = "@SUM(A1)",
        .team = "\tx",
        .resource = "\rr",
        .request_id = "plain",
        .client_ip = NULL,
        .classification = "a,b",
        .status = 0,
        .details = "{\"k\":\"v,\\\"q\\\"\"}",
        .prev_hash = "p",
        .hash = "h",
    };
    assert_string_equal(
        audit_csv_header(),
        "seq,ts,tenant,type,outcome,actor,token_id,org_unit,team,resource,request_id,client_ip,"
        "classification,status,details,prev_hash,hash\n");
    char *s = audit_row_to_csv(&r);
    assert_string_equal(
        s, "3,1970-01-01T00:00:00.000Z,t,\"'=HYPERLINK(\"\"x\"\")\",ok,'+cmd,'-2,'@SUM(A1),'\tx,"
           "\"'\rr\",plain,,\"a,b\",0,\"{\"\"k\"\":\"\"v,\\\"\"q\\\"\"\"\"}\",p,h\n");
    free(s);
}

/* --- chain in the store ------------------------------------------------------------------------
 */

/* The root of events 1..n recomputed here from the stored hashes. */
static void root_of_store(struct fx *f, int64_t n, char out[65])
{
    struct audit_frontier t = {0};
    struct store_audit_hash *v = NULL;
    size_t got = 0;
    assert_int_equal(store_audit_hashes(f->st, TENANT, 1, (size_t)n, &v, &got), GW_OK);
    assert_int_equal(got, (size_t)n);
    for (size_t i = 0; i < got; i++) {
        unsigned char leaf[AUDIT_HASH_LEN];
        assert_true(audit_leaf_of_hex(v[i].hash, leaf));
        audit_frontier_push(&t, leaf, NULL, NULL);
    }
    store_audit_hashes_free(v, got);
    unsigned char root[AUDIT_HASH_LEN];
    audit_frontier_root(&t, root);
    gw_hex(root, sizeof root, out);
}

static void test_chain_verifies(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    record_n(f, TENANT, 25, true);
    record_n(f, TENANT, 25, false);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 50);
    assert_int_equal(r.last_seq, 50);
    assert_int_equal(r.signed_events, 50);
    assert_int_equal(r.unsigned_events, 0);
    assert_int_equal(r.signed_through, 50);
    assert_true(r.roots_checked);
    assert_int_equal(r.anchor, AUDIT_ANCHOR_GENESIS);
    assert_true(r.checkpoints_checked >= 26); /* one head per synchronous event, and more */

    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_int_equal(s.appended, 50);
    assert_true(s.healthy);
    assert_true(s.integrity_ok);
    assert_int_equal(s.failures, 0);

    /* The latest head covers the last row, has the root of the 50 events and its signature. */
    struct store_audit_checkpoint cp;
    assert_int_equal(audit_head(f->a, TENANT, &cp), GW_OK);
    assert_int_equal(cp.seq, 50);
    int64_t seq;
    char *hash = NULL, root[65];
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    assert_string_equal(cp.hash, hash);
    free(hash);
    root_of_store(f, 50, root);
    assert_string_equal(cp.root, root);
    unsigned char pub[32];
    assert_true(audit_pubkey_decode(audit_public_key(f->a), pub));
    assert_true(audit_checkpoint_check(pub, &cp));
    cp.seq++;
    assert_false(audit_checkpoint_check(pub, &cp));
    cp.seq--;
    cp.root[0] = cp.root[0] == 'a' ? 'b' : 'a';
    assert_false(audit_checkpoint_check(pub, &cp));
    store_audit_checkpoint_release(&cp);

    /* A restart continues the chain and the tree. */
    fx_close_audit(f);
    char pk[64];
    snprintf(pk, sizeof pk, "%s", f->pk);
    fx_open_audit(f);
    assert_string_equal(audit_public_key(f->a), pk); /* key loaded, not recreated */
    record_n(f, TENANT, 5, true);
    verify_store(f, &r);
    expect_ok(&r);
    assert_int_equal(r.last_seq, 55);
    assert_int_equal(audit_head(f->a, TENANT, &cp), GW_OK);
    root_of_store(f, 55, root);
    assert_string_equal(cp.root, root);
    store_audit_checkpoint_release(&cp);
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, pk, TENANT, 55, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 55);
    assert_int_equal(r.signed_events, 55);
    assert_true(r.checkpoints_checked >= 31);

    /* Key files are private. */
    struct stat st;
    char *kp = gw_xasprintf("%s/audit_ed25519.pem", f->dir);
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(kp);
    kp = gw_xasprintf("%s/audit_pii.key", f->dir);
    assert_int_equal(stat(kp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    free(kp);
    assert_int_equal(stat(f->log, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    fx_free(f);
}

/* Every commit stores the head of each tenant it extends, in the same transaction. */
static void test_head_per_commit(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    record_n(f, TENANT, 3, true);
    record_n(f, "t2", 2, true);
    struct store_audit_checkpoint *v = NULL;
    size_t n = 0;
    assert_int_equal(store_checkpoint_list(f->st, TENANT, &v, &n), GW_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        char root[65];
        assert_int_equal(v[i].seq, (int64_t)i + 1);
        assert_non_null(v[i].root);
        root_of_store(f, v[i].seq, root);
        assert_string_equal(v[i].root, root);
        assert_string_equal(v[i].key_id, audit_key_id(f->a));
    }
    store_checkpoint_list_free(v, n);
    assert_int_equal(store_checkpoint_list(f->st, "t2", &v, &n), GW_OK);
    assert_int_equal(n, 2);
    store_checkpoint_list_free(v, n);
    fx_free(f);
}

static void test_invalid_events(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    struct audit_event ev = ev_basic("x", NULL);
    assert_int_equal(audit_record_sync(f->a, NULL, &ev), GW_EINVAL);
    assert_int_equal(audit_record_sync(f->a, "a\nb", &ev), GW_EINVAL);
    ev.type = NULL;
    assert_int_equal(audit_record(f->a, TENANT, &ev), GW_EINVAL);
    fx_free(f);
}

/* --- failure semantics ---------------------------------------------------------------------------
 */

static void test_sync_fails_on_broken_disk(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    f->o.log_path = "/dev/full";
    fx_open_audit(f);
    json_t *d = json_pack("{s:s}", "token", "t1");
    struct audit_event ev = ev_basic("token.created", d);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    assert_int_equal(gw_err_http_status(GW_EAUDIT), 503);
    json_decref(d);
    int64_t seq = -1;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    assert_int_equal(seq, 0);
    free(hash);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_false(s.healthy);
    assert_true(s.failures >= 1);
    assert_int_equal(s.appended, 0);
    fx_free(f);
}

static void test_unopenable_file_does_not_abort(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    char *plain = gw_xasprintf("%s/plain", f->dir);
    assert_int_equal(gw_file_write_atomic(plain, "x", 1, 0600), GW_OK);
    char *bad = gw_xasprintf("%s/x/audit.jsonl", plain); /* under a regular file */
    free(plain);
    f->o.log_path = bad;
    fx_open_audit(f);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_false(s.healthy);
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    f->o.log_path = f->log;
    assert_int_equal(audit_reconfigure(f->a, &f->o), GW_OK);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    free(bad);
    fx_free(f);
}

static void test_async_survives_failure(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    f->o.log_path = "/dev/full";
    fx_open_audit(f);
    for (int i = 0; i < 5; i++) {
        struct audit_event ev = ev_basic("memory.read", NULL);
        assert_int_equal(audit_record(f->a, TENANT, &ev), GW_OK);
    }
    assert_int_equal(audit_flush(f->a), GW_EAUDIT);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_int_equal(s.queue_depth, 5);
    assert_false(s.healthy);
    usleep(450 * 1000); /* a couple of retries, all failing, none spinning */
    audit_get_stats(f->a, &s);
    assert_true(s.failures >= 2 && s.failures <= 6);
    int64_t seq = -1;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    assert_int_equal(seq, 0);
    free(hash);

    f->o.log_path = f->log;
    assert_int_equal(audit_reconfigure(f->a, &f->o), GW_OK);
    assert_int_equal(audit_flush(f->a), GW_OK);
    audit_get_stats(f->a, &s);
    assert_int_equal(s.queue_depth, 0);
    assert_int_equal(s.appended, 5);
    assert_true(s.healthy);
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    assert_int_equal(seq, 5);
    free(hash);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, f->pk, TENANT, 5, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 5);
    fx_free(f);
}

/* The store refuses a batch: nothing reaches the file, which is written after the commit. */
static void test_store_refusal_leaves_the_file_clean(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    record_n(f, TENANT, 2, true);
    if (fx_pg(f))
        db_exec(f, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$BEGIN RAISE EXCEPTION 'refused'; END$$;"
                   "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION refuse()");
    else
        db_exec(f, "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'refused'); END");
    struct stat before, after;
    assert_int_equal(stat(f->log, &before), 0);
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    assert_int_equal(stat(f->log, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    db_exec(f, fx_pg(f) ? "DROP TRIGGER refuse ON audit_events" : "DROP TRIGGER refuse");
    /* the seq the refused batch used is not skipped: the store decides */
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    assert_int_equal(r.last_seq, 3);
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, f->pk, TENANT, 3, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 3);
    fx_free(f);
}

/* The file fails after the store committed: the batch is acknowledged (it is durable in the
 * source of truth), the file is brought up to date before the next batch. */
static void test_file_failure_after_commit(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    record_n(f, TENANT, 2, true);
    /* the writer's descriptor closed under it: its next write fails (EBADF) after the commit */
    struct audit_file *af = audit_file_sink_file(f->a->file_sink);
    int saved = dup(af->fd);
    close(af->fd);
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK); /* committed */
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_false(s.healthy); /* the file is behind */
    assert_int_equal(dup2(saved, af->fd), af->fd);
    close(saved);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK); /* reconciles first */
    audit_get_stats(f->a, &s);
    assert_true(s.healthy);
    fx_close_audit(f);
    struct audit_verify_result r;
    assert_int_equal(verify_file(f->log, f->pk, TENANT, 4, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 4);
    fx_free(f);
}

struct heard {
    char tenant[32];
    int64_t seq;
    int calls;
};

static void heard_committed(void *arg, const char *tenant, int64_t seq)
{
    struct heard *h = arg;
    snprintf(h->tenant, sizeof h->tenant, "%s", tenant);
    h->seq = seq;
    h->calls++;
}

static const struct audit_forwarder_ops heard_ops = {"test", heard_committed};

static void test_forwarder_hears_commits(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    struct heard h = {0};
    assert_int_equal(audit_forwarder_add(f->a, &heard_ops, &h), GW_OK);
    record_n(f, TENANT, 3, true);
    assert_string_equal(h.tenant, TENANT);
    assert_int_equal(h.seq, 3);
    assert_int_equal(h.calls, 3); /* one committed batch each (synchronous events) */
    f->o.log_path = "/dev/full";  /* failed batches are not announced */
    f->o.enabled = true;
    assert_int_equal(audit_reconfigure(f->a, &f->o), GW_EAUDIT); /* no room for anchors */
    audit_forwarder_remove(f->a, &h);
    assert_int_equal(audit_forwarder_add(f->a, &heard_ops, &h), GW_OK);
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    assert_int_equal(h.calls, 3);
    fx_free(f);
}

/* --- filtering -----------------------------------------------------------------------------------
 */

static json_t *stored_details(struct fx *f, int64_t seq)
{
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    struct store_audit_filter flt = {.tenant = TENANT,
                                     .vis = STORE_AUDIT_VIS_ALL,
                                     .after_seq = seq - 1};
    assert_int_equal(store_audit_query(f->st, &flt, 1, &rows, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].seq, seq);
    json_t *d = json_loads(rows[0].details, 0, NULL);
    store_audit_rows_free(rows, n);
    assert_non_null(d);
    return d;
}

static void test_filter_pii_and_content(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    f->pii[0] = "email";
    f->pii[1] = "phone";
    f->pii[2] = NULL;
    f->o.pii_fields = f->pii;
    f->o.pii_handling = CFG_PII_HASH;
    f->o.log_content = false;
    fx_open_audit(f);
    json_t *d = json_pack("{s:s, s:i, s:s, s:{s:i}, s:s, s:[i]}", "email", "alice@example.com",
                          "phone", 5551234, "content", "hello", "message", "x", 1, "keep", "v",
                          "body", 1);
    struct audit_event ev = ev_basic("message.sent", d);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    assert_string_equal(gw_json_str(d, "email"), "alice@example.com"); /* caller's untouched */

    char *kp = gw_xasprintf("%s/audit_pii.key", f->dir);
    char *key = NULL;
    size_t klen = 0;
    assert_int_equal(gw_file_read(kp, 64, &key, &klen), GW_OK);
    assert_int_equal(klen, 32);
    unsigned char mac[32];
    char hex[65], want[80];
    gw_hmac_sha256(key, 32, "alice@example.com", 17, mac);
    gw_hex(mac, 32, hex);
    snprintf(want, sizeof want, "hmac-sha256:%s", hex);
    json_t *s = stored_details(f, 1);
    assert_string_equal(gw_json_str(s, "email"), want);
    gw_hmac_sha256(key, 32, "5551234", 7, mac);
    gw_hex(mac, 32, hex);
    snprintf(want, sizeof want, "hmac-sha256:%s", hex);
    assert_string_equal(gw_json_str(s, "phone"), want);
    char *c = gw_json_canonical(json_object_get(s, "content"));
    assert_string_equal(c, "{\"length\":5,\"omitted\":true}");
    free(c);
    c = gw_json_canonical(json_object_get(s, "message"));
    assert_string_equal(c, "{\"length\":7,\"omitted\":true}");
    free(c);
    c = gw_json_canonical(json_object_get(s, "body"));
    assert_string_equal(c, "{\"length\":3,\"omitted\":true}");
    free(c);
    assert_string_equal(gw_json_str(s, "keep"), "v");
    json_decref(s);

    /* omit handling and content kept after a reload */
    f->o.pii_handling = CFG_PII_OMIT;
    f->o.log_content = true;
    assert_int_equal(audit_reconfigure(f->a, &f->o), GW_OK);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    s = stored_details(f, 2);
    assert_null(json_object_get(s, "email"));
    assert_null(json_object_get(s, "phone"));
    assert_string_equal(gw_json_str(s, "content"), "hello");
    json_decref(s);
    json_decref(d);

    /* Awkward details round-trip exactly: reals, unicode, nesting, a non-object. */
    d = json_loads("{\"f\":0.1,\"g\":1e300,\"u\":\"h\\u00e9llo \\u2603 \\ud83d\\ude00\","
                   "\"n\":null,\"a\":[1,2.5,{\"z\":[]}],\"ctl\":\"\\t\\u0001\"}",
                   0, NULL);
    assert_non_null(d);
    ev.details = d;
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    json_decref(d);
    d = json_integer(42);
    ev.details = d;
    ev.actor = "bad \xff\xfe utf8";
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    json_decref(d);
    s = stored_details(f, 4);
    assert_int_equal(json_integer_value(json_object_get(s, "value")), 42);
    json_decref(s);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, f->pk, TENANT, 4, &r), GW_OK);
    expect_ok(&r);
    free(key);
    free(kp);
    fx_free(f);
}

/* --- rotation ------------------------------------------------------------------------------------
 */

static void touch(const char *path)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
}

static void test_rotation_and_retention(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    int64_t day1;
    assert_true(gw_time_parse("2030-01-01T12:00:00Z", &day1));
    audit_test_set_clock(day1);
    f->o.rotate_daily = true;
    f->o.retain_days = 3;
    fx_open_audit(f);
    char *old = gw_xasprintf("%s.2029-12-01", f->log);
    char *recent = gw_xasprintf("%s.2029-12-31", f->log);
    char *other = gw_xasprintf("%s.notes", f->log);
    touch(old);
    touch(recent);
    touch(other);
    record_n(f, TENANT, 5, true);
    audit_test_set_clock(day1 + 12 * 3600 * 1000LL + 1000); /* 2030-01-02T00:00:01Z */
    record_n(f, TENANT, 5, true);
    const char *pk = f->pk;
    fx_close_audit(f);
    audit_test_set_clock(0);

    char *rotated = gw_xasprintf("%s.2030-01-01", f->log);
    struct audit_verify_result r;
    assert_int_equal(verify_file(rotated, pk, TENANT, 5, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 5);
    struct lines l = lines_read(f->log);
    assert_true(l.n >= 8);
    assert_non_null(strstr(l.v[0], "\"type\":\"key\"")); /* the signing keys, then */
    assert_true(line_is_head(l.v[1])); /* the anchor: the head before its first event */
    assert_non_null(strstr(l.v[1], "\"seq\":5"));
    assert_non_null(strstr(l.v[1], "\"frontier\""));
    assert_non_null(strstr(l.v[2], "\"seq\":6"));
    lines_free(&l);
    assert_int_equal(verify_file(f->log, pk, TENANT, 10, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 5);
    assert_int_equal(r.last_seq, 10);
    assert_int_equal(r.anchor, AUDIT_ANCHOR_FILE_HEAD);
    assert_int_equal(r.anchor_seq, 5);
    assert_true(r.roots_checked); /* the anchor's frontier lets the roots be recomputed */
    char wrong[64];
    other_pubkey(wrong);
    assert_int_equal(verify_file(f->log, wrong, TENANT, 10, &r), GW_OK);
    expect_bad(&r, 5); /* the anchor does not verify */
    assert_non_null(strstr(r.reason, "key"));
    struct stat st;
    assert_int_not_equal(stat(old, &st), 0);
    assert_int_equal(stat(recent, &st), 0);
    assert_int_equal(stat(other, &st), 0);
    free(old);
    free(recent);
    free(other);
    free(rotated);
    fx_free(f);
}

/* --- multi-tenant and concurrency ----------------------------------------------------------------
 */

struct thr {
    struct fx *f;
    const char *tenant;
    int n;
};

static void *thr_main(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < t->n; i++) {
        struct audit_event ev = ev_basic("message.sent", NULL);
        if (audit_record_sync(t->f->a, t->tenant, &ev) != GW_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_tenants(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    pthread_t th[4];
    struct thr t[4] = {{f, TENANT, 200}, {f, "t2", 200}, {f, TENANT, 200}, {f, "t2", 200}};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, thr_main, &t[i]);
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    assert_int_equal(r.last_seq, 400);
    assert_int_equal(audit_verify_store(f->a, "t2", NULL, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 400);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_int_equal(s.appended, 800);
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, f->pk, NULL, 0, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, 800);
    assert_int_equal(verify_file(f->log, f->pk, "t2", 400, &r), GW_OK);
    expect_ok(&r);
    fx_free(f);
}

static void test_throughput(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    const int n = 100000;
    json_t *d = json_pack("{s:s, s:s}", "message_id", "msg_0123456789", "channel", "eng/review");
    struct audit_event ev = ev_basic("memory.read", d);
    int64_t t0 = gw_mono_ns();
    for (int i = 0; i < n; i++)
        assert_int_equal(audit_record(f->a, TENANT, &ev), GW_OK);
    assert_int_equal(audit_flush(f->a), GW_OK);
    int64_t t1 = gw_mono_ns();
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    print_message("audit_record (async, file + store, group commit): %d events in %.2f s = "
                  "%.0f events/s, %llu batches (%.0f events/batch)\n",
                  n, (double)(t1 - t0) / 1e9, n / ((double)(t1 - t0) / 1e9),
                  (unsigned long long)s.batches, (double)n / (double)s.batches);
    json_decref(d);
    assert_int_equal(s.appended, (uint64_t)n);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_canonical_and_hash),
        cmocka_unit_test(test_canon_pieces_match_jansson),
        cmocka_unit_test(test_csv_injection),
        cmocka_unit_test(test_chain_verifies),
        cmocka_unit_test(test_head_per_commit),
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_sync_fails_on_broken_disk),
        cmocka_unit_test(test_unopenable_file_does_not_abort),
        cmocka_unit_test(test_async_survives_failure),
        cmocka_unit_test(test_store_refusal_leaves_the_file_clean),
        cmocka_unit_test(test_file_failure_after_commit),
        cmocka_unit_test(test_forwarder_hears_commits),
        cmocka_unit_test(test_filter_pii_and_content),
        cmocka_unit_test(test_rotation_and_retention),
        cmocka_unit_test(test_concurrent_tenants),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
