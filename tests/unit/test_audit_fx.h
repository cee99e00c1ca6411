/* SPDX-License-Identifier: MIT
 * test_audit_fx.h — the audit trail's test fixture, shared by tests/unit/audit/: a data
 * directory with a real store (on the backend the environment names, test_backend.h) and a
 * real writer, events recorded synchronously (one commit each) or queued, raw SQL on a
 * connection of its own to tamper with the store, the log file as lines, and verification
 * helpers that name the first bad event they expected.
 */
#ifndef GW_TEST_AUDIT_FX_H
#define GW_TEST_AUDIT_FX_H

#include "test_backend.h"
#include "test_tmp.h"

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

#define TENANT "acme-corp"

struct fx {
    char dir[64];
    char *log;
    struct store *st;
    struct audit *a;
    struct audit_options o;
    const char *pii[4];
    char pk[64];     /* the signing key's public half when the fixture last opened */
    char schema[32]; /* PostgreSQL: this test's schema */
    char url[1024];  /* PostgreSQL: its URL ("" with SQLite) */
};

static inline bool fx_pg(const struct fx *f)
{
    return f->url[0] != '\0';
}

static inline void fx_open_audit(struct fx *f)
{
    assert_int_equal(audit_open(f->st, &f->o, &f->a), GW_OK);
    snprintf(f->pk, sizeof f->pk, "%s", audit_public_key(f->a));
}

static inline struct fx *fx_new(bool with_file)
{
    struct fx *f = gw_xcalloc(1, sizeof *f);
    assert_true(test_tmpdir(f->dir, sizeof f->dir, "test_audit"));
    f->log = gw_xasprintf("%s/log/audit.jsonl", f->dir);
    test_schema_new(f->schema, sizeof f->schema, f->url, sizeof f->url);
    assert_int_equal(test_store_open(f->dir, f->url, &f->st), GW_OK);
    f->o.data_dir = f->dir;
    f->o.enabled = with_file;
    f->o.log_path = with_file ? f->log : NULL;
    f->o.log_content = true;
    return f;
}

static inline void fx_close_audit(struct fx *f)
{
    audit_close(f->a);
    f->a = NULL;
}

static inline void fx_free(struct fx *f)
{
    if (f->a)
        audit_close(f->a);
    store_close(f->st);
    test_schema_drop(f->schema);
    test_rmtree(f->dir);
    free(f->log);
    free(f);
}

static inline struct audit_event ev_basic(const char *type, json_t *details)
{
    struct audit_event ev = {
        .type = type,
        .outcome = "ok",
        .actor = "token:team-engineering",
        .token_id = "team-engineering",
        .resource = "engineering/code-reviewer",
        .request_id = "req-1",
        .client_ip = "127.0.0.1",
        .status = 202,
        .details = details,
    };
    return ev;
}

/* n events; sync: one commit each; else queued and flushed (commits of several). */
static inline void record_n(struct fx *f, const char *tenant, int n, bool sync)
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

/* sql with n text parameters ($1..$n) on the store, behind the gateway's back (test_sql). */
static inline void db_sql(struct fx *f, const char *sql, int n, const char *const *params)
{
    char *path = gw_xasprintf("%s/gateway.db", f->dir);
    test_sql(f->url, path, sql, n, params);
    free(path);
}

static inline void db_exec(struct fx *f, const char *sql)
{
    db_sql(f, sql, 0, NULL);
}

static inline void verify_store(struct fx *f, struct audit_verify_result *r)
{
    assert_int_equal(audit_verify_store(f->a, TENANT, NULL, r), GW_OK);
}

static inline void expect_bad(const struct audit_verify_result *r, int64_t seq)
{
    if (r->ok || r->first_bad_seq != seq)
        fail_msg("expected first bad seq %lld, got ok=%d bad=%lld (%s)", (long long)seq, r->ok,
                 (long long)r->first_bad_seq, r->reason);
    assert_true(r->reason[0] != '\0');
}

static inline void expect_ok(const struct audit_verify_result *r)
{
    if (!r->ok)
        fail_msg("expected ok, got bad=%lld (%s)", (long long)r->first_bad_seq, r->reason);
}

/* Offline check of a file with one key, a tenant and an expected end. */
static inline gw_err verify_file(const char *path, const char *key, const char *tenant,
                                 int64_t expected_last, struct audit_verify_result *r)
{
    const char *keys[] = {key};
    struct audit_verify_opts o = {keys, 1, tenant, expected_last, NULL};
    return audit_verify_file(path, &o, r);
}

/* --- the log file as lines ------------------------------------------------------------------- */

struct lines {
    char **v;
    size_t n;
};

static inline struct lines lines_read(const char *path)
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

static inline void lines_write(const char *path, const struct lines *l)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < l->n; i++)
        fprintf(fp, "%s\n", l->v[i]);
    fclose(fp);
}

static inline void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static inline bool line_is_head(const char *s)
{
    return strstr(s, "\"signature\"") && !strstr(s, "\"prev_hash\"");
}

static inline bool line_is_event(const char *s)
{
    return strstr(s, "\"prev_hash\"") != NULL;
}

static inline int64_t line_seq(const char *s)
{
    json_t *o = json_loads(s, 0, NULL);
    assert_non_null(o);
    int64_t v = json_integer_value(json_object_get(o, "seq"));
    json_decref(o);
    return v;
}

/* Index of the event line with this seq (of the tenant TENANT). */
static inline size_t line_of_seq(const struct lines *l, int64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (line_is_event(l->v[i]) && strstr(l->v[i], "\"tenant\":\"" TENANT "\"") &&
            line_seq(l->v[i]) == seq)
            return i;
    fail_msg("no line for seq %lld", (long long)seq);
    return 0;
}

/* Index of the head line of TENANT with this size. */
static inline size_t head_of_seq(const struct lines *l, int64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (line_is_head(l->v[i]) && strstr(l->v[i], "\"tenant\":\"" TENANT "\"") &&
            line_seq(l->v[i]) == seq)
            return i;
    fail_msg("no head line for seq %lld", (long long)seq);
    return 0;
}

static inline void lines_delete(struct lines *l, size_t i)
{
    free(l->v[i]);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
    l->n--;
}

static inline void lines_insert(struct lines *l, size_t i, char *s)
{
    l->v = gw_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof *l->v);
    l->v[i] = s;
    l->n++;
}

/* A line object rewritten: fn edits it (with "hash" recomputed when rehash). */
static inline void line_edit(struct lines *l, size_t i, void (*fn)(json_t *o), bool rehash)
{
    json_t *o = json_loads(l->v[i], 0, NULL);
    assert_non_null(o);
    fn(o);
    if (rehash) {
        json_object_del(o, "hash");
        char h[65];
        audit_hash_object(o, h);
        json_object_set_new(o, "hash", json_string(h));
    }
    free(l->v[i]);
    l->v[i] = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
}

/* The public key of a fresh Ed25519 key pair, base64url. */
static inline void other_pubkey(char out[64])
{
    unsigned char raw[32];
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    size_t len = sizeof raw;
    assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &len), 1);
    EVP_PKEY_free(pk);
    gw_b64url(raw, sizeof raw, out);
}

#endif
