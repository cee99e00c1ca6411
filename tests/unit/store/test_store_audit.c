/* SPDX-License-Identifier: MIT
 * test_store_audit.c — unit tests of the store's audit rows and checkpoints (SQLite backend).
 *
 * Covers: append atomicity, head, tenants, every filter and visibility mode compared with a
 * reference matcher, cursors in both directions, paged scans with early stop, checkpoints,
 * tampering through a second connection, concurrent reads and appends, and a quick
 * (untimed-assertion) append throughput figure.
 */
#include "base/prelude.h"
#include "test_store.h"

#include <pthread.h>

/* --- audit fixtures ---------------------------------------------------------------------- */

static const char *const actors[] = {"alice", "bob", "carol", "token:t1", "anonymous"};
static const char *const orgs[] = {"eng",      "eng/platform", "eng/platform/db", "engineering",
                                   "sales/eu", NULL,           "e_g/x",           "eng%/y"};
static const char *const teams[] = {"t-red", "t-blue", NULL};
static const char *const types[] = {"message.sent",  "message.read",  "memory.write",
                                    "token.created", "token.revoked", "messages.purged",
                                    "auth.denied"};
static const char *const outcomes[] = {"ok", "denied", "error", "ok", "failed"};
static const char *const resources[] = {"general", "random", NULL, "tok_1"};

static char *dup_or_null(const char *s)
{
    return s ? gw_xstrdup(s) : NULL;
}

/* Row i (0-based) of a tenant's synthetic chain; every field malloc'd. */
static void make_row(struct store_audit_row *r, const char *tenant, int64_t seq, size_t details_len)
{
    size_t i = (size_t)(seq - 1);
    memset(r, 0, sizeof(*r));
    r->tenant = gw_xstrdup(tenant);
    r->seq = seq;
    r->ts_ms = 1000 + (int64_t)i * 10;
    r->type = gw_xstrdup(types[i % GW_ARRAY_LEN(types)]);
    r->outcome = gw_xstrdup(outcomes[i % GW_ARRAY_LEN(outcomes)]);
    r->actor = gw_xstrdup(actors[i % GW_ARRAY_LEN(actors)]);
    r->token_id = i % 2 ? NULL : gw_xstrdup("t1");
    r->org_unit = dup_or_null(orgs[i % GW_ARRAY_LEN(orgs)]);
    r->team = dup_or_null(teams[i % GW_ARRAY_LEN(teams)]);
    r->resource = dup_or_null(resources[(i / 2) % GW_ARRAY_LEN(resources)]);
    r->request_id = gw_xasprintf("req-%zu", i / 3);
    r->client_ip = i % 3 == 1 ? NULL : gw_xstrdup("192.0.2.7");
    r->classification = gw_xstrdup("internal");
    r->status = i % 4 == 1 ? 403 : 200;
    char *pad = gw_xmalloc(details_len + 1);
    memset(pad, 'x', details_len);
    pad[details_len] = '\0';
    r->details = gw_xasprintf("{\"i\":%zu,\"pad\":\"%s\"}", i, pad);
    free(pad);
    char buf[80];
    snprintf(buf, sizeof(buf), "%064" PRId64, seq - 1);
    r->prev_hash = gw_xstrdup(buf);
    snprintf(buf, sizeof(buf), "%064" PRId64, seq);
    r->hash = gw_xstrdup(buf);
}

static void append_range(struct store *st, const char *tenant, int64_t from, int64_t to,
                         size_t batch, size_t details_len)
{
    struct store_audit_row *rows = gw_xcalloc(batch, sizeof(*rows));
    for (int64_t seq = from; seq <= to;) {
        size_t n = 0;
        while (n < batch && seq <= to)
            make_row(&rows[n++], tenant, seq++, details_len);
        assert_int_equal(store_audit_append(st, rows, n), GW_OK);
        for (size_t i = 0; i < n; i++)
            store_audit_row_release(&rows[i]);
    }
    free(rows);
}

/* The semantics of struct store_audit_filter, independently of SQL. */
static bool ref_match(const struct store_audit_row *r, const struct store_audit_filter *f)
{
    if (strcmp(r->tenant, f->tenant) != 0)
        return false;
    switch (f->vis) {
    case STORE_AUDIT_VIS_ALL:
        break;
    case STORE_AUDIT_VIS_ORG: {
        size_t n = strlen(f->vis_scope);
        while (n > 0 && f->vis_scope[n - 1] == '/')
            n--;
        if (!r->org_unit)
            return false;
        if (!(strlen(r->org_unit) == n && !strncmp(r->org_unit, f->vis_scope, n)) &&
            !(!strncmp(r->org_unit, f->vis_scope, n) && r->org_unit[n] == '/'))
            return false;
        break;
    }
    case STORE_AUDIT_VIS_TEAM:
        if (!r->team || strcmp(r->team, f->vis_scope))
            return false;
        break;
    case STORE_AUDIT_VIS_ACTOR:
        if (strcmp(r->actor, f->vis_scope))
            return false;
        break;
    }
    if (f->actor && strcmp(r->actor, f->actor))
        return false;
    if (f->type) {
        size_t n = strlen(f->type);
        if (n && f->type[n - 1] == '*') {
            if (strncmp(r->type, f->type, n - 1))
                return false;
        } else if (strcmp(r->type, f->type)) {
            return false;
        }
    }
    if (f->resource && (!r->resource || strcmp(r->resource, f->resource)))
        return false;
    if (f->outcome && strcmp(r->outcome, f->outcome))
        return false;
    if (f->request_id && (!r->request_id || strcmp(r->request_id, f->request_id)))
        return false;
    if (f->since_ms && r->ts_ms < f->since_ms)
        return false;
    if (f->until_ms && r->ts_ms > f->until_ms)
        return false;
    if (f->after_seq > 0 && r->seq <= f->after_seq)
        return false;
    if (f->before_seq > 0 && r->seq >= f->before_seq)
        return false;
    return true;
}

#define N_ACME 240
#define N_GLOBEX 60

struct dataset {
    struct store_audit_row rows[N_ACME + N_GLOBEX];
    size_t n;
};

static struct dataset *load_dataset(struct store *st)
{
    struct dataset *d = gw_xcalloc(1, sizeof(*d));
    /* interleaved batches of both tenants, various batch sizes */
    int64_t a = 1, g = 1;
    size_t k = 0;
    while (a <= N_ACME || g <= N_GLOBEX) {
        size_t ba = 1 + k % 17, bg = 1 + k % 5;
        struct store_audit_row batch[32];
        size_t n = 0;
        for (size_t i = 0; i < ba && a <= N_ACME; i++)
            make_row(&batch[n++], "acme", a++, 40);
        for (size_t i = 0; i < bg && g <= N_GLOBEX; i++)
            make_row(&batch[n++], "globex", g++, 40);
        assert_int_equal(store_audit_append(st, batch, n), GW_OK);
        memcpy(&d->rows[d->n], batch, n * sizeof(batch[0]));
        d->n += n;
        k++;
    }
    return d;
}

static void free_dataset(struct dataset *d)
{
    for (size_t i = 0; i < d->n; i++)
        store_audit_row_release(&d->rows[i]);
    free(d);
}

static int cmp_seq_asc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Expected seqs (in the filter's order); returns the count. */
static size_t expected(const struct dataset *d, const struct store_audit_filter *f, int64_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        if (ref_match(&d->rows[i], f))
            out[n++] = d->rows[i].seq;
    qsort(out, n, sizeof(*out), cmp_seq_asc);
    if (f->descending)
        for (size_t i = 0; i < n / 2; i++) {
            int64_t t = out[i];
            out[i] = out[n - 1 - i];
            out[n - 1 - i] = t;
        }
    return n;
}

static void assert_row_equal(const struct store_audit_row *a, const struct store_audit_row *b)
{
#define STR_EQ(field)                                                                              \
    do {                                                                                           \
        if (!a->field || !b->field)                                                                \
            assert_true(a->field == b->field);                                                     \
        else                                                                                       \
            assert_string_equal(a->field, b->field);                                               \
    } while (0)
    STR_EQ(tenant);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->ts_ms, b->ts_ms);
    STR_EQ(type);
    STR_EQ(outcome);
    STR_EQ(actor);
    STR_EQ(token_id);
    STR_EQ(org_unit);
    STR_EQ(team);
    STR_EQ(resource);
    STR_EQ(request_id);
    STR_EQ(client_ip);
    STR_EQ(classification);
    assert_int_equal(a->status, b->status);
    STR_EQ(details);
    STR_EQ(prev_hash);
    STR_EQ(hash);
#undef STR_EQ
}

static const struct store_audit_row *dataset_row(const struct dataset *d, const char *tenant,
                                                 int64_t seq)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->rows[i].seq == seq && !strcmp(d->rows[i].tenant, tenant))
            return &d->rows[i];
    return NULL;
}

static void check_query(struct store *st, const struct dataset *d,
                        const struct store_audit_filter *f, size_t limit)
{
    int64_t exp[N_ACME + N_GLOBEX];
    size_t nexp = expected(d, f, exp);
    if (nexp > limit)
        nexp = limit;
    struct store_audit_row *rows = NULL;
    size_t n = 99;
    assert_int_equal(store_audit_query(st, f, limit, &rows, &n), GW_OK);
    if (n != nexp)
        fprintf(stderr,
                "filter vis=%d scope=%s actor=%s type=%s res=%s out=%s req=%s since=%" PRId64
                " until=%" PRId64 " after=%" PRId64 " before=%" PRId64
                " desc=%d: got %zu want %zu\n",
                (int)f->vis, f->vis_scope ? f->vis_scope : "-", f->actor ? f->actor : "-",
                f->type ? f->type : "-", f->resource ? f->resource : "-",
                f->outcome ? f->outcome : "-", f->request_id ? f->request_id : "-", f->since_ms,
                f->until_ms, f->after_seq, f->before_seq, f->descending, n, nexp);
    assert_int_equal(n, nexp);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].seq, exp[i]);
        assert_row_equal(&rows[i], dataset_row(d, f->tenant, exp[i]));
    }
    store_audit_rows_free(rows, n);
}

/* --- audit tests ------------------------------------------------------------------------- */

static void test_audit_head_tenants(void **state)
{
    struct fx *f = *state;
    int64_t seq = 99;
    char *hash = (char *)"x";
    assert_int_equal(store_audit_head(f->st, "acme", &seq, &hash), GW_OK);
    assert_int_equal(seq, 0);
    assert_null(hash);
    char **tenants = NULL;
    size_t nt = 9;
    assert_int_equal(store_audit_tenants(f->st, &tenants, &nt), GW_OK);
    assert_int_equal(nt, 0);
    free(tenants);

    struct dataset *d = load_dataset(f->st);
    assert_int_equal(store_audit_head(f->st, "acme", &seq, &hash), GW_OK);
    assert_int_equal(seq, N_ACME);
    char want[80];
    snprintf(want, sizeof(want), "%064d", N_ACME);
    assert_string_equal(hash, want);
    free(hash);
    assert_int_equal(store_audit_head(f->st, "globex", &seq, &hash), GW_OK);
    assert_int_equal(seq, N_GLOBEX);
    free(hash);
    assert_int_equal(store_audit_head(f->st, "initech", &seq, &hash), GW_OK);
    assert_int_equal(seq, 0);
    assert_null(hash);

    assert_int_equal(store_audit_tenants(f->st, &tenants, &nt), GW_OK);
    assert_int_equal(nt, 2);
    assert_string_equal(tenants[0], "acme");
    assert_string_equal(tenants[1], "globex");
    for (size_t i = 0; i < nt; i++)
        free(tenants[i]);
    free(tenants);
    free_dataset(d);
}

static void test_audit_append_atomic(void **state)
{
    struct fx *f = *state;
    append_range(f->st, "acme", 1, 10, 4, 10);
    struct store_audit_row rows[3];
    make_row(&rows[0], "acme", 11, 10);
    make_row(&rows[1], "acme", 12, 10);
    make_row(&rows[2], "acme", 11, 10); /* duplicate seq inside the batch */
    assert_int_equal(store_audit_append(f->st, rows, 3), GW_ESTORE);
    free(rows[2].type);
    rows[2].type = NULL; /* NOT NULL violation */
    rows[2].seq = 13;
    assert_int_equal(store_audit_append(f->st, rows, 3), GW_ESTORE);
    for (size_t i = 0; i < 3; i++)
        store_audit_row_release(&rows[i]);

    int64_t seq = 0;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, "acme", &seq, &hash), GW_OK);
    assert_int_equal(seq, 10);
    free(hash);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM audit_events"), 10);

    /* the writer connection is usable after a failed batch */
    append_range(f->st, "acme", 11, 12, 4, 10);
    assert_int_equal(store_audit_head(f->st, "acme", &seq, &hash), GW_OK);
    assert_int_equal(seq, 12);
    free(hash);
    assert_int_equal(store_audit_append(f->st, NULL, 0), GW_OK);
}

static void test_audit_query_filters(void **state)
{
    struct fx *f = *state;
    struct dataset *d = load_dataset(f->st);

    static const struct {
        enum store_audit_visibility vis;
        const char *scope;
    } vis[] = {
        {STORE_AUDIT_VIS_ALL, NULL},     {STORE_AUDIT_VIS_ORG, "eng"},
        {STORE_AUDIT_VIS_ORG, "eng/"},   {STORE_AUDIT_VIS_ORG, "eng/platform"},
        {STORE_AUDIT_VIS_ORG, "e_g"},    {STORE_AUDIT_VIS_ORG, "eng%"},
        {STORE_AUDIT_VIS_ORG, "sales"},  {STORE_AUDIT_VIS_ORG, "nope"},
        {STORE_AUDIT_VIS_TEAM, "t-red"}, {STORE_AUDIT_VIS_TEAM, "t-blue"},
        {STORE_AUDIT_VIS_ACTOR, "bob"},  {STORE_AUDIT_VIS_ACTOR, "zed"},
    };
    struct store_audit_filter extra[] = {
        {0},
        {.actor = "alice"},
        {.type = "message.sent"},
        {.type = "message.*"},
        {.type = "message*"},
        {.type = "*"},
        {.type = "tok*"},
        {.type = "message.%"},
        {.resource = "general"},
        {.outcome = "denied"},
        {.request_id = "req-10"},
        {.since_ms = 1500},
        {.until_ms = 1800},
        {.since_ms = 1200, .until_ms = 2000},
        {.since_ms = 1210, .until_ms = 1210},
        {.after_seq = 50},
        {.before_seq = 100},
        {.after_seq = 20, .before_seq = 60},
        {.actor = "carol", .type = "m*", .outcome = "ok", .since_ms = 1100},
        {.resource = "random", .request_id = "req-3"},
    };
    size_t checked = 0;
    for (size_t v = 0; v < GW_ARRAY_LEN(vis); v++) {
        for (size_t e = 0; e < GW_ARRAY_LEN(extra); e++) {
            for (int desc = 0; desc < 2; desc++) {
                struct store_audit_filter flt = extra[e];
                flt.tenant = "acme";
                flt.vis = vis[v].vis;
                flt.vis_scope = vis[v].scope;
                flt.descending = desc;
                check_query(f->st, d, &flt, 1000);
                check_query(f->st, d, &flt, 3);
                checked += 2;
            }
        }
    }
    /* Spot checks that the reference matcher itself means what the brief says. */
    int64_t exp[N_ACME + N_GLOBEX];
    struct store_audit_filter org = {.tenant = "acme",
                                     .vis = STORE_AUDIT_VIS_ORG,
                                     .vis_scope = "eng"};
    size_t n = expected(d, &org, exp);
    size_t want = 0;
    for (size_t i = 0; i < N_ACME; i++) {
        const char *o = orgs[i % GW_ARRAY_LEN(orgs)];
        if (o && (!strcmp(o, "eng") || !strncmp(o, "eng/", 4)))
            want++;
    }
    assert_int_equal(n, want);
    assert_true(n > 0);
    struct store_audit_filter wild = {.tenant = "acme",
                                      .vis = STORE_AUDIT_VIS_ORG,
                                      .vis_scope = "e_g"};
    struct store_audit_row *rows = NULL;
    assert_int_equal(store_audit_query(f->st, &wild, 1000, &rows, &n), GW_OK);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].org_unit, "e_g/x");
    assert_true(n > 0);
    store_audit_rows_free(rows, n);

    /* other tenant, unknown tenant */
    struct store_audit_filter g = {.tenant = "globex"};
    check_query(f->st, d, &g, 1000);
    g.tenant = "initech";
    check_query(f->st, d, &g, 1000);

    /* invalid filters and limit 0 */
    struct store_audit_filter bad = {.tenant = NULL};
    assert_int_equal(store_audit_query(f->st, &bad, 10, &rows, &n), GW_EINVAL);
    bad.tenant = "acme";
    bad.vis = STORE_AUDIT_VIS_TEAM;
    assert_int_equal(store_audit_query(f->st, &bad, 10, &rows, &n), GW_EINVAL);
    struct store_audit_filter all = {.tenant = "acme"};
    assert_int_equal(store_audit_query(f->st, &all, 0, &rows, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_null(rows);
    print_message("checked %zu filter combinations\n", checked);
    free_dataset(d);
}

static void test_audit_cursors(void **state)
{
    struct fx *f = *state;
    struct dataset *d = load_dataset(f->st);
    int64_t exp[N_ACME + N_GLOBEX];

    for (int desc = 0; desc < 2; desc++) {
        struct store_audit_filter flt = {.tenant = "acme", .type = "message.*", .descending = desc};
        size_t nexp = expected(d, &flt, exp);
        assert_true(nexp > 14);
        size_t got = 0;
        for (int pages = 0; pages < 100; pages++) {
            struct store_audit_row *rows = NULL;
            size_t n = 0;
            assert_int_equal(store_audit_query(f->st, &flt, 7, &rows, &n), GW_OK);
            for (size_t i = 0; i < n; i++) {
                assert_true(got < nexp);
                assert_int_equal(rows[i].seq, exp[got++]);
            }
            if (n > 0) {
                if (desc)
                    flt.before_seq = rows[n - 1].seq;
                else
                    flt.after_seq = rows[n - 1].seq;
            }
            store_audit_rows_free(rows, n);
            if (n < 7)
                break;
        }
        assert_int_equal(got, nexp);
    }
    free_dataset(d);
}

struct scan_ctx {
    struct store *st;
    size_t count;
    size_t stop_at;
    int64_t last;
    bool ordered;
};

static int scan_cb(const struct store_audit_row *r, void *arg)
{
    struct scan_ctx *c = arg;
    if (r->seq <= c->last)
        c->ordered = false;
    c->last = r->seq;
    c->count++;
    if (c->count % 1000 == 1) {
        /* The main mutex is not held while fn runs: store calls from fn must not deadlock. */
        int64_t seq = 0;
        char *hash = NULL;
        if (store_audit_head(c->st, r->tenant, &seq, &hash) != GW_OK || seq == 0)
            c->ordered = false;
        free(hash);
    }
    return c->stop_at && c->count >= c->stop_at;
}

static void test_audit_scan(void **state)
{
    struct fx *f = *state;
    const int64_t total = 3000;
    append_range(f->st, "big", 1, total, 64, 40);
    append_range(f->st, "small", 1, 10, 64, 40);

    struct store_audit_filter flt = {.tenant = "big"};
    struct scan_ctx c = {.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, (size_t)total);
    assert_int_equal(c.last, total);
    assert_true(c.ordered);

    /* descending is ignored by scan (always ascending) */
    flt.descending = true;
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, (size_t)total);
    assert_true(c.ordered);
    flt.descending = false;

    /* early stop in the second page */
    c = (struct scan_ctx){.st = f->st, .ordered = true, .stop_at = 1500};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, 1500);
    assert_int_equal(c.last, 1500);

    /* early stop exactly at a page boundary */
    c = (struct scan_ctx){.st = f->st, .ordered = true, .stop_at = STORE_SCAN_PAGE};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, STORE_SCAN_PAGE);

    /* filters apply across pages */
    flt.actor = "alice";
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, (size_t)(total / (int64_t)GW_ARRAY_LEN(actors)));
    assert_true(c.ordered);
    flt.actor = NULL;

    /* starting cursor and upper bound */
    flt.after_seq = 2500;
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, 500);
    flt.after_seq = 0;
    flt.before_seq = 1201;
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, 1200);
    assert_int_equal(c.last, 1200);

    /* exactly one page of rows */
    flt.before_seq = STORE_SCAN_PAGE + 1;
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &flt, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, STORE_SCAN_PAGE);

    /* empty */
    struct store_audit_filter none = {.tenant = "nobody"};
    c = (struct scan_ctx){.st = f->st, .ordered = true};
    assert_int_equal(store_audit_scan(f->st, &none, scan_cb, &c), GW_OK);
    assert_int_equal(c.count, 0);
    assert_int_equal(store_audit_scan(f->st, &none, NULL, &c), GW_EINVAL);
}

static void test_audit_tamper_visible(void **state)
{
    struct fx *f = *state;
    append_range(f->st, "acme", 1, 5, 5, 10);
    /* No trigger forbids editing: the hash chain (src/audit) is what detects it. */
    raw_exec(f->db, "UPDATE audit_events SET details = '{\"forged\":true}' "
                    "WHERE tenant = 'acme' AND seq = 2");
    raw_exec(f->db, "DELETE FROM audit_events WHERE tenant = 'acme' AND seq = 4");
    struct store_audit_filter flt = {.tenant = "acme"};
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_query(f->st, &flt, 100, &rows, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(rows[1].details, "{\"forged\":true}");
    assert_int_equal(rows[3].seq, 5);
    store_audit_rows_free(rows, n);
}

/* --- checkpoints ------------------------------------------------------------------------- */

static void test_checkpoints(void **state)
{
    struct fx *f = *state;
    struct store_audit_checkpoint cp;
    assert_int_equal(store_checkpoint_latest(f->st, "acme", &cp), GW_ENOTFOUND);
    struct store_audit_checkpoint *l = NULL;
    size_t n = 9;
    assert_int_equal(store_checkpoint_list(f->st, "acme", &l, &n), GW_OK);
    assert_int_equal(n, 0);
    free(l);

    const int64_t seqs[] = {100, 300, 200};
    for (size_t i = 0; i < GW_ARRAY_LEN(seqs); i++) {
        char hash[80], sig[40];
        snprintf(hash, sizeof(hash), "%064" PRId64, seqs[i]);
        snprintf(sig, sizeof(sig), "sig-%" PRId64, seqs[i]);
        struct store_audit_checkpoint c = {
            .tenant = (char *)"acme",
            .seq = seqs[i],
            .hash = hash,
            .ts_ms = 10 * seqs[i],
            .key_id = (char *)"0123456789abcdef",
            .signature = sig,
        };
        assert_int_equal(store_checkpoint_insert(f->st, &c), GW_OK);
        assert_int_equal(store_checkpoint_insert(f->st, &c), GW_ECONFLICT);
    }
    struct store_audit_checkpoint other = {.tenant = (char *)"globex",
                                           .seq = 999,
                                           .hash = (char *)"h",
                                           .ts_ms = 1,
                                           .key_id = (char *)"k",
                                           .signature = (char *)"s"};
    assert_int_equal(store_checkpoint_insert(f->st, &other), GW_OK);

    assert_int_equal(store_checkpoint_latest(f->st, "acme", &cp), GW_OK);
    assert_string_equal(cp.tenant, "acme");
    assert_int_equal(cp.seq, 300);
    assert_int_equal(cp.ts_ms, 3000);
    assert_string_equal(cp.signature, "sig-300");
    assert_string_equal(cp.key_id, "0123456789abcdef");
    store_audit_checkpoint_release(&cp);

    assert_int_equal(store_checkpoint_list(f->st, "acme", &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(l[0].seq, 100);
    assert_int_equal(l[1].seq, 200);
    assert_int_equal(l[2].seq, 300);
    assert_string_equal(l[1].signature, "sig-200");
    store_checkpoint_list_free(l, n);
}

/* A group commit: rows, heads and tree nodes land together or not at all; the tree and the
 * hashes read back by range; the signing keys' line. */
static void test_audit_commit_heads_nodes_keys(void **state)
{
    struct fx *f = *state;
    struct store_audit_row rows[3];
    for (int i = 0; i < 3; i++)
        make_row(&rows[i], "acme", i + 1, 10);
    char h3[80];
    snprintf(h3, sizeof(h3), "%064d", 3);
    struct store_audit_checkpoint head = {.tenant = (char *)"acme",
                                          .seq = 3,
                                          .hash = h3,
                                          .ts_ms = 5,
                                          .key_id = (char *)"k1",
                                          .signature = (char *)"sig",
                                          .root = (char *)"r3"};
    struct store_audit_node nodes[2] = {{(char *)"acme", 8, 0, (char *)"n0"},
                                        {(char *)"acme", 8, 0, (char *)"n0bis"}};
    struct store_audit_commit c =
        {.rows = rows, .n_rows = 3, .heads = &head, .n_heads = 1, .nodes = nodes, .n_nodes = 1};
    /* a refused part (a row already there) takes the whole commit back */
    raw_exec(f->db, "INSERT INTO audit_events (tenant,seq,ts_ms,type,outcome,actor,status,"
                    "details,prev_hash,hash) VALUES ('acme',3,1,'x','ok','a',0,'{}','p','h')");
    /* SQLite: the duplicate key; PostgreSQL: its claim already sees the chain end moved */
    gw_err rc = store_audit_commit(f->st, &c);
    assert_true(rc == GW_ESTORE || rc == GW_ECONFLICT);
    struct store_audit_checkpoint cp;
    assert_int_equal(store_checkpoint_latest(f->st, "acme", &cp), GW_ENOTFOUND);
    struct store_audit_hash *v = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_nodes(f->st, "acme", 8, 0, 4, &v, &n), GW_OK);
    assert_int_equal(n, 0);
    raw_exec(f->db, "DELETE FROM audit_events");
    assert_int_equal(store_audit_commit(f->st, &c), GW_OK);
    assert_int_equal(store_checkpoint_latest(f->st, "acme", &cp), GW_OK);
    assert_string_equal(cp.root, "r3");
    store_audit_checkpoint_release(&cp);
    /* a node written again (a writer that restarted) replaces it */
    c = (struct store_audit_commit){.nodes = &nodes[1], .n_nodes = 1};
    assert_int_equal(store_audit_commit(f->st, &c), GW_OK);
    assert_int_equal(store_audit_nodes(f->st, "acme", 8, 0, 4, &v, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].n, 0);
    assert_string_equal(v[0].hash, "n0bis");
    store_audit_hashes_free(v, n);
    assert_int_equal(store_audit_hashes(f->st, "acme", 2, 5, &v, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].n, 2);
    assert_string_equal(v[1].hash, rows[2].hash);
    store_audit_hashes_free(v, n);
    assert_int_equal(store_audit_hashes(f->st, "acme", 0, 5, &v, &n), GW_EINVAL);
    struct store_audit_checkpoint *page = NULL;
    assert_int_equal(store_checkpoint_page(f->st, "acme", 2, 10, &page, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(page[0].seq, 3);
    store_checkpoint_list_free(page, n);
    for (int i = 0; i < 3; i++)
        store_audit_row_release(&rows[i]);

    struct store_audit_key k1 = {.key_id = (char *)"k1",
                                 .public_key = (char *)"p1",
                                 .ts_ms = 1,
                                 .sig_new = (char *)"s1"};
    struct store_audit_key k2 = {.key_id = (char *)"k2",
                                 .public_key = (char *)"p2",
                                 .prev_key_id = (char *)"k1",
                                 .ts_ms = 2,
                                 .sig_prev = (char *)"sp",
                                 .sig_new = (char *)"s2"};
    assert_int_equal(store_audit_key_insert(f->st, &k2), GW_OK);
    assert_int_equal(store_audit_key_insert(f->st, &k1), GW_OK);
    assert_int_equal(store_audit_key_insert(f->st, &k1), GW_ECONFLICT);
    k2.sig_prev = NULL;
    assert_int_equal(store_audit_key_insert(f->st, &k2), GW_EINVAL); /* a successor unsigned */
    struct store_audit_key *keys = NULL;
    assert_int_equal(store_audit_key_list(f->st, &keys, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0].key_id, "k1"); /* in the order they were introduced */
    assert_string_equal(keys[1].prev_key_id, "k1");
    store_audit_key_list_free(keys, n);
}

/* --- forwarding cursors ------------------------------------------------------------------ */

/* One cursor per (destination, tenant), 0 until stored, never moved backwards. */
static void test_forwarding_cursors(void **state)
{
    struct fx *f = *state;
    int64_t seq = -1;
    assert_int_equal(store_audit_cursor_get(f->st, "splunk", "acme", &seq), GW_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(store_audit_cursor_set(f->st, "splunk", "acme", 500, 10), GW_OK);
    assert_int_equal(store_audit_cursor_set(f->st, "splunk", "globex", 7, 10), GW_OK);
    assert_int_equal(store_audit_cursor_set(f->st, "splunk", "acme", 300, 20), GW_OK);
    assert_int_equal(store_audit_cursor_get(f->st, "splunk", "acme", &seq), GW_OK);
    assert_int_equal(seq, 500);
    assert_int_equal(store_audit_cursor_set(f->st, "splunk", "acme", 1000, 30), GW_OK);
    assert_int_equal(store_audit_cursor_get(f->st, "splunk", "acme", &seq), GW_OK);
    assert_int_equal(seq, 1000);
    assert_int_equal(store_audit_cursor_get(f->st, "splunk", "globex", &seq), GW_OK);
    assert_int_equal(seq, 7);
    assert_int_equal(store_audit_cursor_get(f->st, "elastic", "acme", &seq), GW_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(store_audit_cursor_set(f->st, "splunk", "acme", -1, 40), GW_EINVAL);
}

/* --- concurrency and throughput ---------------------------------------------------------- */

struct writer_arg {
    struct store *st;
    int failures;
};

static void *writer_main(void *p)
{
    struct writer_arg *w = p;
    struct store_audit_row rows[20];
    for (int64_t seq = 1; seq <= 2000;) {
        size_t n = 0;
        while (n < 20)
            make_row(&rows[n++], "conc", seq++, 200);
        if (store_audit_append(w->st, rows, n) != GW_OK)
            w->failures++;
        for (size_t i = 0; i < n; i++)
            store_audit_row_release(&rows[i]);
    }
    return NULL;
}

static void test_concurrent_reads_and_appends(void **state)
{
    struct fx *f = *state;
    struct store_token t = tok("acme", "t1", "alice", "h1", 1);
    assert_int_equal(store_token_insert(f->st, &t), GW_OK);
    struct writer_arg w = {.st = f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    int64_t last = 0;
    for (int i = 0; i < 300; i++) {
        struct store_audit_filter flt = {.tenant = "conc", .descending = true};
        struct store_audit_row *rows = NULL;
        size_t n = 0;
        assert_int_equal(store_audit_query(f->st, &flt, 5, &rows, &n), GW_OK);
        if (n > 0) {
            assert_true(rows[0].seq >= last); /* never goes backwards */
            last = rows[0].seq;
        }
        store_audit_rows_free(rows, n);
        assert_int_equal(store_token_touch(f->st, "acme", "t1", i + 1), GW_OK);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(w.failures, 0);
    int64_t seq = 0;
    char *hash = NULL;
    assert_int_equal(store_audit_head(f->st, "conc", &seq, &hash), GW_OK);
    assert_int_equal(seq, 2000);
    free(hash);
}

static void test_append_throughput(void **state)
{
    struct fx *f = *state;
    const size_t total = 20000, batch = 64;
    /* Rows are prepared up front so only store_audit_append is timed. */
    struct store_audit_row *rows = gw_xcalloc(total, sizeof(*rows));
    for (size_t i = 0; i < total; i++)
        make_row(&rows[i], "bench", (int64_t)i + 1, 300);
    int64_t t0 = gw_mono_ns();
    for (size_t i = 0; i < total; i += batch)
        assert_int_equal(store_audit_append(f->st, &rows[i], GW_MIN(batch, total - i)), GW_OK);
    int64_t dt = gw_mono_ns() - t0;
    print_message("audit append: %zu rows in batches of %zu: %.0f ms, %.0f rows/s "
                  "(synchronous=FULL, %zu-byte details)\n",
                  total, batch, (double)dt / 1e6, (double)total * 1e9 / (double)dt,
                  strlen(rows[0].details));
    for (size_t i = 0; i < total; i++)
        store_audit_row_release(&rows[i]);
    free(rows);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM audit_events"), (int64_t)total);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_audit_head_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_query_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tamper_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_commit_heads_nodes_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarding_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reads_and_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_throughput, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
