/* SPDX-License-Identifier: MIT
 * test_audit.c — the audit trail against the real store: chaining, group commit, failure
 * semantics (a broken file sink, a store that refuses a batch), forwarders, filtering,
 * checkpoints, rotation, CSV, and verification of the store and of JSONL files under each kind
 * of tampering (edit, delete, insert, reorder, truncate), with the exact first bad seq.
 */
#include "base/prelude.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "store/store.h"

#define TENANT "acme-corp"

struct fx {
    char dir[64];
    char *log;
    struct store *st;
    struct audit *a;
    struct audit_options o;
    const char *pii[4];
};

static void fx_open_audit(struct fx *f)
{
    assert_int_equal(audit_open(f->st, &f->o, &f->a), GW_OK);
}

static struct fx *fx_new(bool with_file)
{
    struct fx *f = gw_xcalloc(1, sizeof *f);
    assert_true(test_tmpdir(f->dir, sizeof f->dir, "test_audit"));
    f->log = gw_xasprintf("%s/log/audit.jsonl", f->dir);
    assert_int_equal(store_open(f->dir, &f->st), GW_OK);
    f->o.data_dir = f->dir;
    f->o.enabled = with_file;
    f->o.log_path = with_file ? f->log : NULL;
    f->o.log_content = true;
    f->o.checkpoint_every = 1000;
    return f;
}

static void fx_close_audit(struct fx *f)
{
    audit_close(f->a);
    f->a = NULL;
}

static void fx_free(struct fx *f)
{
    if (f->a)
        audit_close(f->a);
    store_close(f->st);
    test_rmtree(f->dir);
    free(f->log);
    free(f);
}

static struct audit_event ev_basic(const char *type, json_t *details)
{
    struct audit_event ev = {
        .type = type, .outcome = "ok", .actor = "token:team-engineering",
        .token_id = "team-engineering", .resource = "engineering/code-reviewer",
        .request_id = "req-1", .client_ip = "127.0.0.1", .status = 202, .details = details,
    };
    return ev;
}

static void record_n(struct fx *f, const char *tenant, int n, bool sync)
{
    for (int i = 0; i < n; i++) {
        json_t *d = json_pack("{s:i, s:s}", "i", i, "content", "hello");
        struct audit_event ev = ev_basic("message.sent", d);
        gw_err rc = sync ? audit_record_sync(f->a, tenant, &ev) : audit_record(f->a, tenant, &ev);
        assert_int_equal(rc, GW_OK);
        json_decref(d);
    }
    if (!sync)
        assert_int_equal(audit_flush(f->a), GW_OK);
}

static sqlite3 *db_open(struct fx *f)
{
    char *path = gw_xasprintf("%s/gateway.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    free(path);
    return db;
}

static void db_exec(struct fx *f, const char *sql)
{
    sqlite3 *db = db_open(f);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("sqlite: %s (%s)", err ? err : "?", sql);
    sqlite3_close(db);
}

static void verify_store(struct fx *f, struct audit_verify_result *r)
{
    assert_int_equal(audit_verify_store(f->a, TENANT, r), GW_OK);
}

/* --- file helpers ------------------------------------------------------------------------- */

struct lines {
    char **v;
    size_t n;
};

static struct lines lines_read(const char *path)
{
    struct lines l = {0};
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(gw_file_read(path, 64u << 20, &data, &len), GW_OK);
    char *save = NULL;
    for (char *s = strtok_r(data, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
        l.v = gw_xrealloc(l.v, (l.n + 1) * sizeof *l.v);
        l.v[l.n++] = gw_xstrdup(s);
    }
    free(data);
    return l;
}

static void lines_write(const char *path, const struct lines *l)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < l->n; i++)
        fprintf(fp, "%s\n", l->v[i]);
    fclose(fp);
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static bool line_is_checkpoint(const char *s)
{
    return strstr(s, "\"signature\"") && !strstr(s, "\"prev_hash\"");
}

/* Index of the event line with this seq. */
static size_t line_of_seq(const struct lines *l, int64_t seq)
{
    for (size_t i = 0; i < l->n; i++) {
        if (line_is_checkpoint(l->v[i]))
            continue;
        json_t *o = json_loads(l->v[i], 0, NULL);
        assert_non_null(o);
        int64_t s = json_integer_value(json_object_get(o, "seq"));
        json_decref(o);
        if (s == seq)
            return i;
    }
    fail_msg("no line for seq %lld", (long long)seq);
    return 0;
}

static void lines_delete(struct lines *l, size_t i)
{
    free(l->v[i]);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
    l->n--;
}

/* --- serialization --------------------------------------------------------------------------- */

static void test_row_canonical_and_hash(void **state)
{
    (void)state;
    struct store_audit_row r = {
        .tenant = "t", .seq = 1, .ts_ms = 1736501000123, .type = "message.sent",
        .outcome = "ok", .actor = "alice", .classification = "internal", .status = 202,
        .details = "{\"b\":1,\"a\":\"x\"}", .prev_hash = AUDIT_ZERO_HASH,
    };
    char *c = audit_row_canonical(&r);
    assert_string_equal(c,
        "{\"actor\":\"alice\",\"classification\":\"internal\",\"client_ip\":null,"
        "\"details\":{\"a\":\"x\",\"b\":1},\"org_unit\":null,\"outcome\":\"ok\","
        "\"prev_hash\":\"" AUDIT_ZERO_HASH "\",\"request_id\":null,\"resource\":null,"
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
        "{}", "{\"a\":[1,2.5,{\"z\":null}],\"u\":\"h\u00e9 \u2603\",\"q\":\"\\\"\\n\\u0001/\"}",
        "{\"seq\":0,\"status\":1,\"prev_hash\":\"x\"}",
    };
    struct store_audit_row r = {
        .tenant = "t\"1", .type = "a.b", .outcome = "ok", .actor = "\u00e9l\u00e8ve \t\x01",
        .token_id = NULL, .org_unit = "org/x", .team = NULL, .resource = "</script>",
        .request_id = "r", .client_ip = "::1", .classification = "internal", .status = -5,
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
        .tenant = "t", .seq = 3, .ts_ms = 0, .type = "=HYPERLINK(\"x\")", .outcome = "ok",
        .actor = "+cmd", .token_id = "-2", .org_unit = "@SUM(A1)", .team = "\tx",
        .resource = "\rr", .request_id = "plain", .client_ip = NULL,
        .classification = "a,b", .status = 0, .details = "{\"k\":\"v,\\\"q\\\"\"}",
        .prev_hash = "p", .hash = "h",
    };
    assert_string_equal(audit_csv_header(),
        "seq,ts,tenant,type,outcome,actor,token_id,org_unit,team,resource,request_id,client_ip,"
        "classification,status,details,prev_hash,hash\n");
    char *s = audit_row_to_csv(&r);
    assert_string_equal(s,
        "3,1970-01-01T00:00:00.000Z,t,\"'=HYPERLINK(\"\"x\"\")\",ok,'+cmd,'-2,'@SUM(A1),'\tx,"
        "\"'\rr\",plain,,\"a,b\",0,\"{\"\"k\"\":\"\"v,\\\"\"q\\\"\"\"\"}\",p,h\n");
    free(s);
}

/* --- chain in the store ------------------------------------------------------------------------ */

static void test_chain_verifies(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    f->o.checkpoint_every = 10;
    fx_open_audit(f);
    record_n(f, TENANT, 25, true);
    record_n(f, TENANT, 25, false);
    struct audit_verify_result r;
    verify_store(f, &r);
    assert_true(r.ok);
    assert_int_equal(r.first_bad_seq, 0);
    assert_int_equal(r.events_checked, 50);
    assert_int_equal(r.last_seq, 50);
    assert_true(r.checkpoints_checked >= 2); /* the last one may still be in flight */

    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_int_equal(s.appended, 50);
    assert_true(s.healthy);
    assert_int_equal(s.failures, 0);

    /* The freshly signed head matches the last row and verifies with the public key. */
    struct store_audit_checkpoint cp;
    assert_int_equal(audit_head(f->a, TENANT, &cp), GW_OK);
    assert_int_equal(cp.seq, 50);
    int64_t seq;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    assert_string_equal(cp.hash, hash);
    free(hash);
    unsigned char pub[32];
    assert_true(audit_pubkey_decode(audit_public_key(f->a), pub));
    assert_true(audit_checkpoint_check(pub, &cp));
    cp.seq++;
    assert_false(audit_checkpoint_check(pub, &cp));
    store_audit_checkpoint_release(&cp);

    /* Close signs a final checkpoint; a restart continues the chain. */
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    struct store_audit_checkpoint last;
    assert_int_equal(store_checkpoint_latest(f->st, TENANT, &last), GW_OK);
    assert_int_equal(last.seq, 50);
    store_audit_checkpoint_release(&last);
    fx_open_audit(f);
    assert_string_equal(audit_public_key(f->a), pk); /* key loaded, not recreated */
    record_n(f, TENANT, 5, true);
    verify_store(f, &r);
    assert_true(r.ok);
    assert_int_equal(r.last_seq, 55);
    fx_close_audit(f);
    assert_int_equal(audit_verify_file(f->log, pk, TENANT, 55, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 55);
    assert_true(r.checkpoints_checked >= 2);
    free(pk);

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

static void test_checkpoint_timer(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    record_n(f, TENANT, 3, true);
    struct store_audit_checkpoint cp;
    gw_err rc = GW_ENOTFOUND;
    for (int i = 0; i < 40 && (rc = store_checkpoint_latest(f->st, TENANT, &cp)) != GW_OK; i++)
        usleep(100 * 1000); /* due one second after tracking started */
    assert_int_equal(rc, GW_OK);
    assert_int_equal(cp.seq, 3);
    assert_string_equal(cp.key_id, audit_key_id(f->a));
    store_audit_checkpoint_release(&cp);
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

/* Tampering with the store through a second SQLite connection. */
static struct fx *store_fixture(int n)
{
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    record_n(f, TENANT, n, false);
    return f;
}

static void expect_bad(struct audit_verify_result *r, int64_t seq)
{
    if (r->ok || r->first_bad_seq != seq)
        fail_msg("expected first bad seq %lld, got ok=%d bad=%lld (%s)", (long long)seq, r->ok,
                 (long long)r->first_bad_seq, r->reason);
    assert_true(r->reason[0] != '\0');
}

static void test_store_tamper_update(void **state)
{
    (void)state;
    struct fx *f = store_fixture(20);
    struct audit_verify_result r;
    db_exec(f, "UPDATE audit_events SET details='{\"i\":99}' WHERE seq=7");
    verify_store(f, &r);
    expect_bad(&r, 7);
    assert_non_null(strstr(r.reason, "modified"));
    db_exec(f, "UPDATE audit_events SET outcome='denied' WHERE seq=4");
    verify_store(f, &r);
    expect_bad(&r, 4);
    fx_free(f);
}

static void test_store_tamper_delete(void **state)
{
    (void)state;
    struct fx *f = store_fixture(20);
    struct audit_verify_result r;
    db_exec(f, "DELETE FROM audit_events WHERE seq=11");
    verify_store(f, &r);
    expect_bad(&r, 11);
    assert_non_null(strstr(r.reason, "missing"));
    fx_free(f);
}

static void test_store_tamper_insert(void **state)
{
    (void)state;
    struct fx *f = store_fixture(20);
    struct audit_verify_result r;
    db_exec(f, "INSERT INTO audit_events (tenant,seq,ts_ms,type,outcome,actor,status,details,"
               "prev_hash,hash) VALUES ('" TENANT "',21,1,'token.created','ok','mallory',200,"
               "'{}','" AUDIT_ZERO_HASH "','" AUDIT_ZERO_HASH "')");
    verify_store(f, &r);
    expect_bad(&r, 21);
    assert_int_equal(r.last_seq, 21);
    /* Even with the right prev_hash, a forged row does not hash to its stored hash... */
    db_exec(f, "UPDATE audit_events SET prev_hash=(SELECT hash FROM audit_events WHERE seq=20) "
               "WHERE seq=21");
    verify_store(f, &r);
    expect_bad(&r, 21);
    fx_free(f);
}

static void test_store_tamper_reorder(void **state)
{
    (void)state;
    struct fx *f = store_fixture(20);
    struct audit_verify_result r;
    /* Swap the contents (everything but the key) of rows 5 and 9. */
    db_exec(f,
        "CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq IN (5,9);"
        "UPDATE audit_events SET (ts_ms,type,outcome,actor,token_id,org_unit,team,resource,"
        " request_id,client_ip,classification,status,details,prev_hash,hash) = "
        " (SELECT ts_ms,type,outcome,actor,token_id,org_unit,team,resource,request_id,client_ip,"
        "  classification,status,details,prev_hash,hash FROM t WHERE t.seq = 14 - audit_events.seq)"
        " WHERE seq IN (5,9);");
    verify_store(f, &r);
    expect_bad(&r, 5);
    fx_free(f);
}

static void test_store_tamper_truncate(void **state)
{
    (void)state;
    struct fx *f = store_fixture(20);
    struct audit_verify_result r;
    db_exec(f, "DELETE FROM audit_events WHERE seq>=18");
    verify_store(f, &r); /* against the writer's in-memory head */
    expect_bad(&r, 18);
    assert_non_null(strstr(r.reason, "truncated"));
    assert_int_equal(r.last_seq, 17);
    /* After a restart the head comes from the store; the checkpoint signed at close (20)
     * still reveals the missing tail. */
    fx_close_audit(f);
    db_exec(f, "DELETE FROM audit_events WHERE seq>=18");
    fx_open_audit(f);
    verify_store(f, &r);
    expect_bad(&r, 18);
    fx_free(f);
}

static void test_store_checkpoint_forged(void **state)
{
    (void)state;
    struct fx *f = store_fixture(10);
    fx_close_audit(f); /* checkpoint at 10 */
    fx_open_audit(f);
    struct audit_verify_result r;
    verify_store(f, &r);
    assert_true(r.ok);
    assert_true(r.checkpoints_checked >= 1);
    db_exec(f, "UPDATE audit_checkpoints SET ts_ms = ts_ms + 1 WHERE seq=10");
    verify_store(f, &r);
    expect_bad(&r, 10);
    assert_non_null(strstr(r.reason, "signature"));
    fx_free(f);
}

/* --- JSONL file ---------------------------------------------------------------------------------- */

struct file_case {
    struct fx *f;
    char *pk;
    struct lines l;
};

static struct file_case file_fixture(int n)
{
    struct file_case c = {0};
    c.f = fx_new(true);
    fx_open_audit(c.f);
    record_n(c.f, TENANT, n / 2, true);
    record_n(c.f, "other-tenant", 3, true);
    record_n(c.f, TENANT, n - n / 2, false);
    c.pk = gw_xstrdup(audit_public_key(c.f->a));
    fx_close_audit(c.f);
    c.l = lines_read(c.f->log);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(c.f->log, c.pk, TENANT, n, &r), GW_OK);
    if (!r.ok)
        fail_msg("untouched file does not verify: %s", r.reason);
    assert_int_equal(r.events_checked, n);
    assert_int_equal(r.last_seq, n);
    assert_int_equal(audit_verify_file(c.f->log, c.pk, NULL, 0, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, n + 3);
    return c;
}

static void file_case_free(struct file_case *c)
{
    lines_free(&c->l);
    free(c->pk);
    fx_free(c->f);
}

static void file_expect_bad(struct file_case *c, int64_t expected_last, int64_t seq)
{
    lines_write(c->f->log, &c->l);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(c->f->log, c->pk, TENANT, expected_last, &r), GW_OK);
    expect_bad(&r, seq);
}

static void test_file_tamper_edit(void **state)
{
    (void)state;
    struct file_case c = file_fixture(20);
    size_t i = line_of_seq(&c.l, 7);
    char *p = strstr(c.l.v[i], "\"outcome\":\"ok\"");
    assert_non_null(p);
    memcpy(p, "\"outcome\":\"no\"", 14);
    file_expect_bad(&c, 20, 7);
    file_case_free(&c);
}

static void test_file_tamper_delete(void **state)
{
    (void)state;
    struct file_case c = file_fixture(20);
    lines_delete(&c.l, line_of_seq(&c.l, 7));
    file_expect_bad(&c, 20, 7);
    file_case_free(&c);
}

static void test_file_tamper_duplicate(void **state)
{
    (void)state;
    struct file_case c = file_fixture(20);
    size_t i = line_of_seq(&c.l, 7);
    c.l.v = gw_xrealloc(c.l.v, (c.l.n + 1) * sizeof *c.l.v);
    memmove(&c.l.v[i + 1], &c.l.v[i], (c.l.n - i) * sizeof *c.l.v);
    c.l.v[i + 1] = gw_xstrdup(c.l.v[i]);
    c.l.n++;
    file_expect_bad(&c, 20, 7); /* the inserted copy is named, not the position after it */
    file_case_free(&c);
}

static void test_file_tamper_swap(void **state)
{
    (void)state;
    struct file_case c = file_fixture(20);
    size_t i = line_of_seq(&c.l, 5), j = line_of_seq(&c.l, 9);
    char *t = c.l.v[i];
    c.l.v[i] = c.l.v[j];
    c.l.v[j] = t;
    file_expect_bad(&c, 20, 5);
    file_case_free(&c);
}

static void test_file_tamper_truncate(void **state)
{
    (void)state;
    struct file_case c = file_fixture(20);
    size_t i = line_of_seq(&c.l, 18);
    while (c.l.n > i)
        lines_delete(&c.l, c.l.n - 1);
    file_expect_bad(&c, 20, 18);
    file_case_free(&c);
}

static void test_file_malformed_and_long_lines(void **state)
{
    (void)state;
    struct file_case c = file_fixture(10);
    size_t i = line_of_seq(&c.l, 4);
    free(c.l.v[i]);
    c.l.v[i] = gw_xstrdup("{\"tenant\": \"" TENANT "\", broken");
    file_expect_bad(&c, 10, 4);
    free(c.l.v[i]);
    c.l.v[i] = gw_xmalloc(AUDIT_MAX_LINE + 10);
    memset(c.l.v[i], 'x', AUDIT_MAX_LINE + 9);
    c.l.v[i][AUDIT_MAX_LINE + 9] = '\0';
    file_expect_bad(&c, 10, 4);
    file_case_free(&c);
}

/* The public key of a fresh Ed25519 key pair, base64url. */
static void other_pubkey(char out[64])
{
    unsigned char raw[32];
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    size_t len = sizeof raw;
    assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &len), 1);
    EVP_PKEY_free(pk);
    gw_b64url(raw, sizeof raw, out);
}

static void test_file_wrong_key(void **state)
{
    (void)state;
    struct file_case c = file_fixture(10);
    char b64[64];
    other_pubkey(b64);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(c.f->log, b64, TENANT, 0, &r), GW_OK);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "key"));
    assert_int_equal(audit_verify_file(c.f->log, "not-a-key", TENANT, 0, &r), GW_EINVAL);
    /* A checkpoint line whose signature was altered. */
    for (size_t i = 0; i < c.l.n; i++) {
        if (!line_is_checkpoint(c.l.v[i]) || !strstr(c.l.v[i], "\"tenant\":\"" TENANT "\""))
            continue;
        char *sig = strstr(c.l.v[i], "\"signature\":\"");
        assert_non_null(sig);
        sig += 13;
        *sig = *sig == 'A' ? 'B' : 'A';
        break;
    }
    lines_write(c.f->log, &c.l);
    assert_int_equal(audit_verify_file(c.f->log, c.pk, TENANT, 0, &r), GW_OK);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "signature"));
    file_case_free(&c);
}

static void test_file_export_without_checkpoints(void **state)
{
    (void)state;
    /* An export: the store's rows through audit_row_to_json, one per line, no checkpoints. */
    struct fx *f = store_fixture(12);
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    struct store_audit_filter flt = {.tenant = TENANT, .vis = STORE_AUDIT_VIS_ALL};
    assert_int_equal(store_audit_query(f->st, &flt, 100, &rows, &n), GW_OK);
    assert_int_equal(n, 12);
    char *path = gw_xasprintf("%s/export.jsonl", f->dir);
    FILE *fp = fopen(path, "w");
    for (size_t i = 0; i < n; i++) {
        json_t *o = audit_row_to_json(&rows[i]);
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(fp, "%s\n", s);
        free(s);
        json_decref(o);
    }
    fclose(fp);
    store_audit_rows_free(rows, n);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(path, audit_public_key(f->a), TENANT, 12, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 12);
    assert_int_equal(audit_verify_file(path, audit_public_key(f->a), TENANT, 13, &r), GW_OK);
    expect_bad(&r, 13);
    free(path);
    fx_free(f);
}

/* --- failure semantics --------------------------------------------------------------------------- */

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
    char *bad = gw_xasprintf("%s/gateway.db/x/audit.jsonl", f->dir); /* under a regular file */
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
    assert_true(r.ok);
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    assert_int_equal(audit_verify_file(f->log, pk, TENANT, 5, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 5);
    free(pk);
    fx_free(f);
}

static void test_store_refusal_leaves_the_file_clean(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    record_n(f, TENANT, 2, true);
    /* the store (the last sink) refuses the next batch: the file, written first, is cut back */
    db_exec(f, "CREATE TRIGGER refuse BEFORE INSERT ON audit_events "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END");
    struct stat before, after;
    assert_int_equal(stat(f->log, &before), 0);
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    assert_int_equal(stat(f->log, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    db_exec(f, "DROP TRIGGER refuse");
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_OK);
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(f->log, pk, TENANT, 3, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 3);
    free(pk);
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
    f->o.log_path = "/dev/full"; /* failed batches are not announced */
    f->o.enabled = true;
    assert_int_equal(audit_reconfigure(f->a, &f->o), GW_EAUDIT); /* no room for anchors */
    struct audit_event ev = ev_basic("token.created", NULL);
    assert_int_equal(audit_record_sync(f->a, TENANT, &ev), GW_EAUDIT);
    assert_int_equal(h.calls, 3);
    fx_free(f);
}

/* --- filtering ----------------------------------------------------------------------------------- */

static json_t *stored_details(struct fx *f, int64_t seq)
{
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    struct store_audit_filter flt = {.tenant = TENANT, .vis = STORE_AUDIT_VIS_ALL,
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
                          "phone", 5551234, "content", "hello", "message", "x", 1, "keep",
                          "v", "body", 1);
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
                   "\"n\":null,\"a\":[1,2.5,{\"z\":[]}],\"ctl\":\"\\t\\u0001\"}", 0, NULL);
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
    assert_true(r.ok);
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    assert_int_equal(audit_verify_file(f->log, pk, TENANT, 4, &r), GW_OK);
    if (!r.ok)
        fail_msg("%s", r.reason);
    free(pk);
    free(key);
    free(kp);
    fx_free(f);
}

/* --- rotation ------------------------------------------------------------------------------------ */

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
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    audit_test_set_clock(0);

    char *rotated = gw_xasprintf("%s.2030-01-01", f->log);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(rotated, pk, TENANT, 5, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 5);
    struct lines l = lines_read(f->log);
    assert_true(l.n >= 6);
    assert_true(line_is_checkpoint(l.v[0])); /* anchored on the head before its first event */
    assert_non_null(strstr(l.v[0], "\"seq\":5"));
    assert_non_null(strstr(l.v[1], "\"seq\":6"));
    lines_free(&l);
    assert_int_equal(audit_verify_file(f->log, pk, TENANT, 10, &r), GW_OK);
    if (!r.ok)
        fail_msg("%s", r.reason);
    assert_int_equal(r.events_checked, 5);
    assert_int_equal(r.last_seq, 10);
    char wrong[64];
    other_pubkey(wrong);
    assert_int_equal(audit_verify_file(f->log, wrong, TENANT, 10, &r), GW_OK);
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
    free(pk);
    fx_free(f);
}

/* --- multi-tenant and concurrency ---------------------------------------------------------------- */

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
    f->o.checkpoint_every = 50;
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
    assert_true(r.ok);
    assert_int_equal(r.last_seq, 400);
    assert_int_equal(audit_verify_store(f->a, "t2", &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 400);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_int_equal(s.appended, 800);
    char *pk = gw_xstrdup(audit_public_key(f->a));
    fx_close_audit(f);
    assert_int_equal(audit_verify_file(f->log, pk, NULL, 0, &r), GW_OK);
    assert_true(r.ok);
    assert_int_equal(r.events_checked, 800);
    assert_int_equal(audit_verify_file(f->log, pk, "t2", 400, &r), GW_OK);
    assert_true(r.ok);
    free(pk);
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
        cmocka_unit_test(test_checkpoint_timer),
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_store_tamper_update),
        cmocka_unit_test(test_store_tamper_delete),
        cmocka_unit_test(test_store_tamper_insert),
        cmocka_unit_test(test_store_tamper_reorder),
        cmocka_unit_test(test_store_tamper_truncate),
        cmocka_unit_test(test_store_checkpoint_forged),
        cmocka_unit_test(test_file_tamper_edit),
        cmocka_unit_test(test_file_tamper_delete),
        cmocka_unit_test(test_file_tamper_duplicate),
        cmocka_unit_test(test_file_tamper_swap),
        cmocka_unit_test(test_file_tamper_truncate),
        cmocka_unit_test(test_file_malformed_and_long_lines),
        cmocka_unit_test(test_file_wrong_key),
        cmocka_unit_test(test_file_export_without_checkpoints),
        cmocka_unit_test(test_sync_fails_on_broken_disk),
        cmocka_unit_test(test_unopenable_file_does_not_abort),
        cmocka_unit_test(test_async_survives_failure),
        cmocka_unit_test(test_store_refusal_leaves_the_file_clean),
        cmocka_unit_test(test_forwarder_hears_commits),
        cmocka_unit_test(test_filter_pii_and_content),
        cmocka_unit_test(test_rotation_and_retention),
        cmocka_unit_test(test_concurrent_tenants),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
