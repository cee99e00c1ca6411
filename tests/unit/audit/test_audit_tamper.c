/* SPDX-License-Identifier: MIT
 * test_audit_tamper.c — what an attacker with write access to the data directory but not the
 * signing key can do to the store and to the log file, and what verification says: the full
 * list of tampering kinds of issue 12 (edit, edit with recomputed hashes, delete, insert,
 * insert with computed hashes, swap, reorder, tail cut, tail cut with its heads, head cut,
 * suffix rewrite, forged or altered head, a forged event appended), each with its exact first
 * bad event; the start-up check that refuses to sign over rows it did not sign; and the
 * reconciliation of the file with the store after a crash.
 *
 * The fixture's trail: events 1..12 committed one by one, 13..20 queued (commits of several),
 * 21..24 one by one; so both commits of one event and events inside a larger commit are hit.
 */
#include "base/prelude.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_audit_fx.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAST 24

static struct fx *fixture(bool file)
{
    struct fx *f = fx_new(file);
    fx_open_audit(f);
    record_n(f, TENANT, 12, true);
    record_n(f, TENANT, 8, false);
    record_n(f, TENANT, 4, true);
    if (file)
        record_n(f, "other-tenant", 3, true);
    return f;
}

/* --- rewriting rows in the store, as an attacker would ------------------------------------ */

static struct store_audit_row *rows_read(struct fx *f, size_t *n)
{
    struct store_audit_row *rows = NULL;
    struct store_audit_filter flt = {.tenant = TENANT, .vis = STORE_AUDIT_VIS_ALL};
    assert_int_equal(store_audit_query(f->st, &flt, 1000, &rows, n), GW_OK);
    return rows;
}

/* An integer as SQL parameter text. */
struct num {
    char s[24];
};

static struct num num(int64_t v)
{
    struct num n;
    snprintf(n.s, sizeof n.s, "%" PRId64, v);
    return n;
}

static void row_put(struct fx *f, const struct store_audit_row *r, int64_t where_seq)
{
    struct num seq = num(r->seq), where = num(where_seq);
    const char *p[] = {seq.s, r->details, r->prev_hash, r->hash, TENANT, where.s};
    db_sql(f,
           "UPDATE audit_events SET seq=$1, details=$2, prev_hash=$3, hash=$4 "
           "WHERE tenant=$5 AND seq=$6",
           6, p);
}

static void row_insert(struct fx *f, const struct store_audit_row *r)
{
    struct num seq = num(r->seq), ts = num(r->ts_ms), status = num(r->status);
    const char *p[] = {r->tenant,         seq.s,       ts.s,        r->type,       r->outcome,
                       r->actor,          status.s,    r->details,  r->prev_hash,  r->hash,
                       r->classification, r->token_id, r->resource, r->request_id, r->client_ip};
    db_sql(f,
           "INSERT INTO audit_events (tenant,seq,ts_ms,type,outcome,actor,status,details,"
           "prev_hash,hash,classification,token_id,resource,request_id,client_ip) VALUES "
           "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
           15, p);
}

static void set_details(struct store_audit_row *r, const char *d)
{
    free(r->details);
    r->details = gw_xstrdup(d);
}

static void rehash(struct store_audit_row *r)
{
    char h[65];
    audit_row_compute_hash(r, h);
    free(r->hash);
    r->hash = gw_xstrdup(h);
}

/* Rows from..LAST rewritten so that the chain links and hashes again (a suffix rewrite), with
 * row `from` edited. */
static void rewrite_suffix(struct fx *f, int64_t from)
{
    size_t n = 0;
    struct store_audit_row *rows = rows_read(f, &n);
    for (size_t i = (size_t)from - 1; i < n; i++) {
        if (rows[i].seq == from)
            set_details(&rows[i], "{\"rewritten\":true}");
        free(rows[i].prev_hash);
        rows[i].prev_hash = gw_xstrdup(rows[i - 1].hash);
        rehash(&rows[i]);
        row_put(f, &rows[i], rows[i].seq);
    }
    store_audit_rows_free(rows, n);
}

/* Rows k..LAST move one seq up; a copy of row k-1 becomes row k (hash and link computed when
 * computed, else copied). */
static void insert_at(struct fx *f, int64_t k, bool computed)
{
    size_t n = 0;
    struct store_audit_row *rows = rows_read(f, &n);
    db_exec(f, "UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= 0");
    for (size_t i = 0; i < n; i++) {
        int64_t old = rows[i].seq;
        rows[i].seq = old >= k ? old + 1 : old; /* the rest of the row stays as it was */
        struct num seq = num(rows[i].seq), was = num(old + 1000000);
        const char *p[] = {seq.s, TENANT, was.s};
        db_sql(f, "UPDATE audit_events SET seq=$1 WHERE tenant=$2 AND seq=$3", 3, p);
    }
    struct store_audit_row forged = rows[k - 2];
    forged.seq = k;
    forged.details = "{\"inserted\":true}";
    char h[65];
    if (computed) {
        forged.prev_hash = rows[k - 2].hash;
        audit_row_compute_hash(&forged, h);
        forged.hash = h;
    }
    row_insert(f, &forged);
    store_audit_rows_free(rows, n);
}

static void store_case(const char *what, void (*tamper)(struct fx *), int64_t bad)
{
    struct fx *f = fixture(false);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r);
    tamper(f);
    verify_store(f, &r);
    if (r.ok || r.first_bad_seq != bad)
        fail_msg("store %s: expected first bad %lld, got ok=%d bad=%lld (%s)", what, (long long)bad,
                 r.ok, (long long)r.first_bad_seq, r.reason);
    assert_true(r.unsigned_events > 0 || strstr(r.reason, "head") || strstr(r.reason, "trunc"));
    fx_free(f);
}

static void t_edit(struct fx *f)
{
    db_exec(f, "UPDATE audit_events SET details='{\"forged\":true}' WHERE seq=5");
}

static void t_edit_mid(struct fx *f)
{
    db_exec(f, "UPDATE audit_events SET outcome='denied' WHERE seq=16");
}

static void edit_rehash(struct fx *f, int64_t k)
{
    size_t n = 0;
    struct store_audit_row *rows = rows_read(f, &n);
    set_details(&rows[k - 1], "{\"forged\":true}");
    rehash(&rows[k - 1]);
    row_put(f, &rows[k - 1], k);
    store_audit_rows_free(rows, n);
}

static void t_edit_rehash(struct fx *f)
{
    edit_rehash(f, 5);
}

static void t_edit_rehash_mid(struct fx *f)
{
    edit_rehash(f, 16);
}

static void t_delete(struct fx *f)
{
    db_exec(f, "DELETE FROM audit_events WHERE seq=5");
}

static void t_delete_mid(struct fx *f)
{
    db_exec(f, "DELETE FROM audit_events WHERE seq=16");
}

static void t_insert(struct fx *f)
{
    insert_at(f, 5, false);
}

static void t_insert_computed(struct fx *f)
{
    insert_at(f, 5, true);
}

static void t_swap(struct fx *f)
{
    /* rows 5 and 6 exchange everything but their seq */
    db_exec(f, "CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq IN (5,6);"
               "UPDATE audit_events SET (ts_ms,type,outcome,actor,token_id,org_unit,team,resource,"
               " request_id,client_ip,classification,status,details,prev_hash,hash) = "
               " (SELECT ts_ms,type,outcome,actor,token_id,org_unit,team,resource,request_id,"
               "  client_ip,classification,status,details,prev_hash,hash FROM t "
               "  WHERE t.seq = 11 - audit_events.seq) WHERE seq IN (5,6);");
}

static void t_reorder(struct fx *f)
{
    /* row 5 moves after row 8: 6, 7, 8 move down one seq (one row at a time: a unique key
     * is checked row by row, in an order neither backend promises for one statement) */
    db_exec(f, "UPDATE audit_events SET seq = -5 WHERE seq = 5;"
               "UPDATE audit_events SET seq = 5 WHERE seq = 6;"
               "UPDATE audit_events SET seq = 6 WHERE seq = 7;"
               "UPDATE audit_events SET seq = 7 WHERE seq = 8;"
               "UPDATE audit_events SET seq = 8 WHERE seq = -5;");
}

static void t_tail_cut(struct fx *f)
{
    db_exec(f, "DELETE FROM audit_events WHERE seq > 20");
}

static void t_tail_cut_heads(struct fx *f)
{
    db_exec(f, "DELETE FROM audit_events WHERE seq > 20;"
               "DELETE FROM audit_checkpoints WHERE seq > 20;");
}

static void t_head_cut(struct fx *f)
{
    db_exec(f, "DELETE FROM audit_events WHERE seq <= 3");
}

static void t_suffix_rewrite(struct fx *f)
{
    rewrite_suffix(f, 5);
}

static void t_head_altered(struct fx *f)
{
    db_exec(f, "UPDATE audit_checkpoints SET ts_ms = ts_ms + 1 WHERE seq = 8");
}

static void t_head_forged(struct fx *f)
{
    /* a head for a longer log, signed by nobody the gateway trusts */
    db_exec(f, "INSERT INTO audit_checkpoints (tenant,seq,hash,ts_ms,key_id,signature,root) "
               "SELECT tenant, 30, hash, ts_ms, key_id, signature, root FROM audit_checkpoints "
               "WHERE seq = 24");
}

static void t_appended(struct fx *f)
{
    size_t n = 0;
    struct store_audit_row *rows = rows_read(f, &n);
    struct store_audit_row forged = rows[n - 1];
    forged.seq = LAST + 1;
    forged.prev_hash = rows[n - 1].hash;
    forged.details = "{\"forged\":true}";
    char h[65];
    audit_row_compute_hash(&forged, h);
    forged.hash = h;
    row_insert(f, &forged);
    store_audit_rows_free(rows, n);
}

static void test_store_tampering(void **state)
{
    (void)state;
    store_case("edit", t_edit, 5);
    store_case("edit inside a commit", t_edit_mid, 16);
    store_case("edit with a recomputed hash", t_edit_rehash, 5);
    store_case("edit with a recomputed hash inside a commit", t_edit_rehash_mid, 16);
    store_case("delete", t_delete, 5);
    store_case("delete inside a commit", t_delete_mid, 16);
    store_case("insert", t_insert, 5);
    store_case("insert with computed hashes", t_insert_computed, 5);
    store_case("swap", t_swap, 5);
    store_case("reorder", t_reorder, 5);
    store_case("tail cut", t_tail_cut, 21);
    store_case("tail cut with its heads (writer running)", t_tail_cut_heads, 21);
    store_case("head cut", t_head_cut, 1);
    store_case("suffix rewrite", t_suffix_rewrite, 5);
    store_case("altered head", t_head_altered, 8);
    store_case("forged head", t_head_forged, 30);
    store_case("forged event appended", t_appended, LAST + 1);
}

/* A rewrite that leaves nothing of a commit intact is found to the commit: the first event
 * after the last head that still holds. */
static void test_store_rewrite_inside_a_commit(void **state)
{
    (void)state;
    struct fx *f = fixture(false);
    struct store_audit_checkpoint *v = NULL;
    size_t n = 0;
    assert_int_equal(store_checkpoint_list(f->st, TENANT, &v, &n), GW_OK);
    int64_t before = 0; /* the last head before event 16 */
    for (size_t i = 0; i < n; i++)
        if (v[i].seq < 16)
            before = v[i].seq;
    store_checkpoint_list_free(v, n);
    assert_true(before >= 12 && before < 16);
    rewrite_suffix(f, 16);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_bad(&r, before + 1);
    assert_int_equal(r.signed_through, before);
    fx_free(f);
}

/* Tail cut with its heads after a restart: the store alone looks complete (the limit of a
 * verifier without an outside head); a head kept by an auditor, or the log file's, says not. */
static void test_store_tail_cut_after_restart(void **state)
{
    (void)state;
    struct fx *f = fixture(false);
    json_t *kept = NULL;
    assert_int_equal(audit_head_json(f->a, TENANT, &kept), GW_OK);
    fx_close_audit(f);
    t_tail_cut_heads(f);
    fx_open_audit(f);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r); /* nothing local contradicts it */
    struct audit_verify_opts o = {.head = kept};
    assert_int_equal(audit_verify_store(f->a, TENANT, &o, &r), GW_OK);
    expect_bad(&r, 21);
    json_decref(kept);
    fx_free(f);

    f = fixture(true);
    fx_close_audit(f);
    t_tail_cut_heads(f);
    fx_open_audit(f);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_false(s.integrity_ok); /* the file's signed head at 24 is beyond the store */
    verify_store(f, &r);
    expect_bad(&r, 21);
    /* the next event does not reuse 21..24, which the file and its readers have seen (on
     * PostgreSQL the claim of a chain continued past the store's end, schema 17) */
    record_n(f, TENANT, 1, true);
    int64_t seq;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, TENANT, &seq, &hash), GW_OK);
    free(hash);
    assert_int_equal(seq, LAST + 2); /* 25: the integrity failure event, 26: ours */
    fx_free(f);
}

/* --- the start-up check ------------------------------------------------------------------------
 */

struct alerts {
    int n;
    int64_t bad;
    char tenant[128];
};

static void on_alert(void *arg, const struct audit_integrity_failure *fl)
{
    struct alerts *a = arg;
    a->n++;
    a->bad = fl->first_bad_seq;
    snprintf(a->tenant, sizeof a->tenant, "%s", fl->tenant);
}

static size_t heads_of(struct fx *f, const char *tenant)
{
    struct store_audit_checkpoint *v = NULL;
    size_t n = 0;
    assert_int_equal(store_checkpoint_list(f->st, tenant, &v, &n), GW_OK);
    store_checkpoint_list_free(v, n);
    return n;
}

static void test_start_refuses_to_sign_over_forged_rows(void **state)
{
    (void)state;
    struct fx *f = fixture(false);
    record_n(f, "t2", 2, true);
    fx_close_audit(f);
    t_appended(f); /* a row with its hash computed as documented, linked to the last one */
    fx_open_audit(f);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_false(s.integrity_ok);
    struct audit_integrity_failure fl[4];
    assert_int_equal(audit_integrity_failures(f->a, fl, 4), 1);
    assert_string_equal(fl[0].tenant, TENANT);
    assert_int_equal(fl[0].first_bad_seq, LAST + 1);
    struct alerts al = {0};
    audit_set_alert(f->a, on_alert, &al); /* told of what was found before it was installed */
    assert_int_equal(al.n, 1);
    assert_int_equal(al.bad, LAST + 1);

    size_t heads = heads_of(f, TENANT), heads2 = heads_of(f, "t2");
    record_n(f, TENANT, 3, true);
    record_n(f, "t2", 3, true);
    assert_int_equal(heads_of(f, TENANT), heads);    /* never signed over the forged row */
    assert_int_equal(heads_of(f, "t2"), heads2 + 3); /* other tenants are signed as before */
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_bad(&r, LAST + 1);
    assert_int_equal(r.signed_through, LAST);
    assert_int_equal(r.unsigned_events, r.events_checked - LAST);
    assert_int_equal(audit_verify_store(f->a, "t2", NULL, &r), GW_OK);
    expect_ok(&r);
    /* the failure is itself an event */
    struct store_audit_filter flt = {.tenant = TENANT,
                                     .vis = STORE_AUDIT_VIS_ALL,
                                     .type = "audit.integrity_failure"};
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_query(f->st, &flt, 10, &rows, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(rows[0].details, "\"first_bad_seq\":25"));
    store_audit_rows_free(rows, n);
    /* and a restart keeps failing at the same event */
    fx_close_audit(f);
    fx_open_audit(f);
    verify_store(f, &r);
    expect_bad(&r, LAST + 1);
    audit_get_stats(f->a, &s);
    assert_false(s.integrity_ok);
    audit_set_alert(f->a, NULL, NULL);
    fx_free(f);
}

static void test_start_detects_rewritten_tail_and_forged_head(void **state)
{
    (void)state;
    struct fx *f = fixture(false);
    fx_close_audit(f);
    edit_rehash(f, LAST); /* the last row, with its hash recomputed */
    fx_open_audit(f);
    struct audit_integrity_failure fl;
    assert_int_equal(audit_integrity_failures(f->a, &fl, 1), 1);
    assert_int_equal(fl.first_bad_seq, LAST);
    fx_close_audit(f);
    db_exec(f, "DELETE FROM audit_events WHERE tenant='" TENANT "'");
    db_exec(f, "DELETE FROM audit_checkpoints");
    fx_free(f);

    f = fixture(false);
    fx_close_audit(f);
    db_exec(f, "UPDATE audit_checkpoints SET ts_ms = ts_ms + 1 WHERE seq = 24");
    fx_open_audit(f);
    assert_int_equal(audit_integrity_failures(f->a, &fl, 1), 1);
    assert_non_null(strstr(fl.reason, "forged or altered"));
    fx_free(f);
}

/* --- the log file --------------------------------------------------------------------------------
 */

struct file_case {
    struct fx *f;
    struct lines l;
};

static struct file_case file_fixture(void)
{
    struct file_case c = {0};
    c.f = fixture(true);
    fx_close_audit(c.f);
    c.l = lines_read(c.f->log);
    struct audit_verify_result r;
    assert_int_equal(verify_file(c.f->log, c.f->pk, TENANT, LAST, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, LAST);
    assert_int_equal(r.signed_events, LAST);
    assert_int_equal(verify_file(c.f->log, c.f->pk, NULL, 0, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, LAST + 3);
    return c;
}

static void file_check(struct file_case *c, const char *what, int64_t expected_last, int64_t bad)
{
    lines_write(c->f->log, &c->l);
    struct audit_verify_result r;
    assert_int_equal(verify_file(c->f->log, c->f->pk, TENANT, expected_last, &r), GW_OK);
    if (r.ok || r.first_bad_seq != bad)
        fail_msg("file %s: expected first bad %lld, got ok=%d bad=%lld (%s)", what, (long long)bad,
                 r.ok, (long long)r.first_bad_seq, r.reason);
    lines_free(&c->l);
    c->l = lines_read(c->f->log);
}

static void file_case_free(struct file_case *c)
{
    lines_free(&c->l);
    fx_free(c->f);
}

static void e_outcome(json_t *o)
{
    json_object_set_new(o, "outcome", json_string("denied"));
}

static void e_inserted(json_t *o)
{
    json_object_set_new(o, "details", json_pack("{s:b}", "inserted", 1));
}

static void e_root(json_t *o)
{
    json_object_set_new(o, "root",
                        json_string("00000000000000000000000000000000"
                                    "00000000000000000000000000000000"));
}

/* Each case starts from a fresh copy of the file. */
#define FRESH(c) (lines_free(&(c)->l), (c)->l = lines_read(saved))

static void test_file_tampering(void **state)
{
    (void)state;
    struct file_case c = file_fixture();
    char *saved = gw_xasprintf("%s.orig", c.f->log);
    lines_write(saved, &c.l);

    line_edit(&c.l, line_of_seq(&c.l, 5), e_outcome, false);
    file_check(&c, "edit", LAST, 5);
    FRESH(&c);
    line_edit(&c.l, line_of_seq(&c.l, 5), e_outcome, true);
    file_check(&c, "edit with a recomputed hash", LAST, 5);
    FRESH(&c);
    line_edit(&c.l, line_of_seq(&c.l, 16), e_outcome, true);
    file_check(&c, "edit with a recomputed hash inside a commit", LAST, 16);
    FRESH(&c);
    lines_delete(&c.l, line_of_seq(&c.l, 5));
    file_check(&c, "delete", LAST, 5);
    FRESH(&c);
    { /* insert: a copy of event 4 as a second event 5, before the genuine one */
        size_t i = line_of_seq(&c.l, 5);
        lines_insert(&c.l, i, gw_xstrdup(c.l.v[line_of_seq(&c.l, 4)]));
        line_edit(&c.l, i, e_inserted, false);
        json_t *o = json_loads(c.l.v[i], 0, NULL);
        json_object_set_new(o, "seq", json_integer(5));
        free(c.l.v[i]);
        c.l.v[i] = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    file_check(&c, "insert", LAST, 5);
    FRESH(&c);
    { /* insert with computed hashes: linked to event 4 and hashed as documented */
        size_t i = line_of_seq(&c.l, 5);
        json_t *four = json_loads(c.l.v[line_of_seq(&c.l, 4)], 0, NULL);
        json_t *o = json_deep_copy(four);
        json_object_set_new(o, "seq", json_integer(5));
        json_object_set(o, "prev_hash", json_object_get(four, "hash"));
        char *s = json_dumps(o, JSON_COMPACT);
        lines_insert(&c.l, i, s);
        line_edit(&c.l, i, e_inserted, true);
        json_decref(o);
        json_decref(four);
    }
    file_check(&c, "insert with computed hashes", LAST, 5);
    FRESH(&c);
    {
        size_t i = line_of_seq(&c.l, 5), j = line_of_seq(&c.l, 6);
        char *t = c.l.v[i];
        c.l.v[i] = c.l.v[j];
        c.l.v[j] = t;
    }
    file_check(&c, "swap", LAST, 5);
    FRESH(&c);
    {
        size_t i = line_of_seq(&c.l, 5);
        char *moved = c.l.v[i];
        memmove(&c.l.v[i], &c.l.v[i + 1], (c.l.n - i - 1) * sizeof *c.l.v);
        c.l.v[c.l.n - 1] = moved;
    }
    file_check(&c, "reorder", LAST, 5);
    FRESH(&c);
    for (size_t i = c.l.n; i-- > 0;) /* events after 20 cut, their heads kept */
        if (line_is_event(c.l.v[i]) && strstr(c.l.v[i], TENANT) && line_seq(c.l.v[i]) > 20)
            lines_delete(&c.l, i);
    file_check(&c, "tail cut", 0, 21);
    FRESH(&c);
    { /* tail cut with its heads: everything of the tenant after its head at 20 */
        size_t h = head_of_seq(&c.l, 20);
        for (size_t i = c.l.n; i-- > h + 1;)
            if (strstr(c.l.v[i], "\"tenant\":\"" TENANT "\""))
                lines_delete(&c.l, i);
    }
    file_check(&c, "tail cut with its heads (the gateway's head expected)", LAST, 21);
    FRESH(&c);
    { /* head cut: the events before 5 and their heads removed */
        size_t i = line_of_seq(&c.l, 5);
        for (size_t k = i; k-- > 0;)
            if (strstr(c.l.v[k], "\"tenant\":\"" TENANT "\""))
                lines_delete(&c.l, k);
    }
    file_check(&c, "head cut", LAST, 1);
    FRESH(&c);
    { /* suffix rewrite from 5: every later event relinked and rehashed */
        char prev[65] = "";
        for (size_t i = 0; i < c.l.n; i++) {
            if (!line_is_event(c.l.v[i]) || !strstr(c.l.v[i], "\"tenant\":\"" TENANT "\""))
                continue;
            json_t *o = json_loads(c.l.v[i], 0, NULL);
            int64_t seq = json_integer_value(json_object_get(o, "seq"));
            if (seq >= 5) {
                if (seq == 5)
                    json_object_set_new(o, "outcome", json_string("denied"));
                json_object_set_new(o, "prev_hash", json_string(prev));
                json_object_del(o, "hash");
                char h[65];
                audit_hash_object(o, h);
                json_object_set_new(o, "hash", json_string(h));
                free(c.l.v[i]);
                c.l.v[i] = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
            }
            snprintf(prev, sizeof prev, "%s", gw_json_str(o, "hash"));
            json_decref(o);
        }
    }
    file_check(&c, "suffix rewrite", LAST, 5);
    FRESH(&c);
    line_edit(&c.l, head_of_seq(&c.l, 8), e_root, false);
    file_check(&c, "altered head", LAST, 8);
    FRESH(&c);
    { /* a forged event appended after the last one, linked and hashed as documented */
        json_t *last = json_loads(c.l.v[line_of_seq(&c.l, LAST)], 0, NULL);
        json_t *o = json_deep_copy(last);
        json_object_set_new(o, "seq", json_integer(LAST + 1));
        json_object_set(o, "prev_hash", json_object_get(last, "hash"));
        lines_insert(&c.l, c.l.n, json_dumps(o, JSON_COMPACT));
        line_edit(&c.l, c.l.n - 1, e_inserted, true);
        json_decref(o);
        json_decref(last);
    }
    file_check(&c, "forged event appended", LAST, LAST + 1);
    unlink(saved);
    free(saved);
    file_case_free(&c);
}

/* The walk says where it started; a head the auditor kept catches a cut before a mid-file
 * head, and a cut tail the file alone cannot show. */
static void test_file_anchor_and_kept_head(void **state)
{
    (void)state;
    struct fx *f = fixture(true);
    json_t *early = NULL, *late = NULL;
    assert_int_equal(audit_head_json(f->a, TENANT, &late), GW_OK); /* at 24 */
    fx_close_audit(f);
    struct lines l = lines_read(f->log);
    size_t h = head_of_seq(&l, 8);
    early = json_loads(l.v[head_of_seq(&l, 3)], 0, NULL);
    for (size_t k = h; k-- > 0;) /* everything before the head at 8 */
        if (!strstr(l.v[k], "\"type\":\"key\""))
            lines_delete(&l, k);
    lines_write(f->log, &l);
    struct audit_verify_result r;
    assert_int_equal(verify_file(f->log, f->pk, TENANT, LAST, &r), GW_OK);
    expect_ok(&r); /* a rotated file looks the same */
    assert_int_equal(r.anchor, AUDIT_ANCHOR_FILE_HEAD);
    assert_int_equal(r.anchor_seq, 8);
    assert_int_equal(r.events_checked, LAST - 8);
    const char *keys[] = {f->pk};
    struct audit_verify_opts o = {keys, 1, TENANT, LAST, early};
    assert_int_equal(audit_verify_file(f->log, &o, &r), GW_OK);
    assert_false(r.ok); /* the kept head at 3 cannot be checked: the file starts at 8 */
    assert_non_null(strstr(r.reason, "your head"));
    /* the tail cut with its heads: the file alone looks complete, the kept head does not */
    size_t cut = head_of_seq(&l, 20);
    for (size_t k = l.n; k-- > cut + 1;)
        if (strstr(l.v[k], "\"tenant\":\"" TENANT "\""))
            lines_delete(&l, k);
    lines_write(f->log, &l);
    assert_int_equal(verify_file(f->log, f->pk, TENANT, 0, &r), GW_OK);
    expect_ok(&r);
    o.head = late;
    o.expected_last_seq = 0;
    assert_int_equal(audit_verify_file(f->log, &o, &r), GW_OK);
    expect_bad(&r, 21);
    lines_free(&l);
    json_decref(early);
    json_decref(late);
    fx_free(f);
}

static void test_file_wrong_key_and_malformed(void **state)
{
    (void)state;
    struct file_case c = file_fixture();
    char wrong[64];
    other_pubkey(wrong);
    struct audit_verify_result r;
    assert_int_equal(verify_file(c.f->log, wrong, TENANT, 0, &r), GW_OK);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "not trusted"));
    assert_int_equal(verify_file(c.f->log, "not-a-key", TENANT, 0, &r), GW_EINVAL);
    size_t i = line_of_seq(&c.l, 4);
    char *orig = c.l.v[i];
    c.l.v[i] = gw_xstrdup("{\"tenant\": \"" TENANT "\", broken");
    file_check(&c, "malformed line", LAST, 4);
    free(c.l.v[i]);
    c.l.v[i] = orig;
    i = line_of_seq(&c.l, 6);
    free(c.l.v[i]);
    c.l.v[i] = gw_xmalloc(AUDIT_MAX_LINE + 10);
    memset(c.l.v[i], 'x', AUDIT_MAX_LINE + 9);
    c.l.v[i][AUDIT_MAX_LINE + 9] = '\0';
    file_check(&c, "overlong line", LAST, 6);
    file_case_free(&c);
}

/* --- reconciliation of the file with the store ------------------------------------------- */

static void append_raw(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* What a crash of the old writer (file first) left: lines the store never committed, one of
 * them torn. They are cut; the sequence numbers they used are not reused for other events in
 * the file, and the file verifies. */
static void test_reconcile_cuts_uncommitted_tail(void **state)
{
    (void)state;
    struct fx *f = fixture(true);
    fx_close_audit(f);
    struct lines l = lines_read(f->log);
    char *phantom = gw_xstrdup(l.v[line_of_seq(&l, LAST)]);
    lines_free(&l);
    char *p = strstr(phantom, "\"seq\":24");
    assert_non_null(p);
    memcpy(p, "\"seq\":25", 8);
    append_raw(f->log, phantom);
    append_raw(f->log, "\n{\"tenant\":\"" TENANT "\",\"seq\":26,\"pre");
    free(phantom);
    fx_open_audit(f);
    record_n(f, TENANT, 1, true); /* the real seq 25 */
    fx_close_audit(f);
    struct audit_verify_result r;
    assert_int_equal(verify_file(f->log, f->pk, TENANT, LAST + 1, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, LAST + 1);
    fx_free(f);
}

/* What a crash between the store's commit and the file's write leaves: a file that lacks the
 * last commits. They are appended from the store, with their heads. */
static void test_reconcile_appends_missing(void **state)
{
    (void)state;
    struct fx *f = fixture(true);
    fx_close_audit(f);
    struct lines l = lines_read(f->log);
    size_t cut = line_of_seq(&l, 19);
    while (l.n > cut)
        lines_delete(&l, l.n - 1);
    lines_write(f->log, &l);
    lines_free(&l);
    fx_open_audit(f);
    struct audit_stats s;
    audit_get_stats(f->a, &s);
    assert_true(s.healthy);
    assert_true(s.integrity_ok);
    fx_close_audit(f);
    struct audit_verify_result r;
    assert_int_equal(verify_file(f->log, f->pk, TENANT, LAST, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, LAST);
    assert_int_equal(verify_file(f->log, f->pk, NULL, 0, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.events_checked, LAST + 3);
    fx_free(f);
}

/* A file whose end contradicts the store is not repaired: it is kept aside as evidence and a
 * fresh file, anchored on the store's heads, starts. */
static void test_reconcile_sets_a_contradicting_file_aside(void **state)
{
    (void)state;
    struct fx *f = fixture(true);
    fx_close_audit(f);
    struct lines l = lines_read(f->log);
    for (size_t i = l.n; i-- > 0;) /* the tail: the other tenant's and ours, edited */
        if (strstr(l.v[i], "other-tenant"))
            lines_delete(&l, i);
    line_edit(&l, line_of_seq(&l, LAST), e_outcome, true);
    line_edit(&l, head_of_seq(&l, LAST), e_root, false);
    lines_write(f->log, &l);
    lines_free(&l);
    fx_open_audit(f);
    record_n(f, TENANT, 1, true);
    fx_close_audit(f);
    struct audit_verify_result r;
    assert_int_equal(verify_file(f->log, f->pk, TENANT, LAST + 1, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.anchor, AUDIT_ANCHOR_FILE_HEAD);
    assert_int_equal(r.anchor_seq, LAST);
    char *dir = gw_xasprintf("%s/log", f->dir);
    char cmd_found = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, "audit.jsonl.diverged-"))
            cmd_found = 1;
    if (d)
        closedir(d);
    assert_true(cmd_found);
    free(dir);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_tampering),
        cmocka_unit_test(test_store_rewrite_inside_a_commit),
        cmocka_unit_test(test_store_tail_cut_after_restart),
        cmocka_unit_test(test_start_refuses_to_sign_over_forged_rows),
        cmocka_unit_test(test_start_detects_rewritten_tail_and_forged_head),
        cmocka_unit_test(test_file_tampering),
        cmocka_unit_test(test_file_anchor_and_kept_head),
        cmocka_unit_test(test_file_wrong_key_and_malformed),
        cmocka_unit_test(test_reconcile_cuts_uncommitted_tail),
        cmocka_unit_test(test_reconcile_appends_missing),
        cmocka_unit_test(test_reconcile_sets_a_contradicting_file_aside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
