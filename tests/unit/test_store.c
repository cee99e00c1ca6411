/* SPDX-License-Identifier: MIT
 * test_store.c — unit tests of src/store (SQLite backend) against a temporary data directory.
 *
 * Covers: file/dir modes, migrations (applied once, idempotent, future version refused), meta,
 * tokens, agents, messages, audit append atomicity, head, tenants, every filter and visibility
 * mode compared with a reference matcher, cursors in both directions, paged scans with early
 * stop, checkpoints, ping, tampering through a second connection, concurrent use, a quick
 * (untimed-assertion) append throughput figure, policy versions, and the approval queue (list
 * order and filters, compare-and-set transitions raced by two threads, due scans, tenancy),
 * usage rows (batch atomicity, month sums per tenant / all tenants / one workspace),
 * budget alert claims (insert-if-absent, kept across a reopen), and the CLI sign-in (codes
 * consumed once with replay information, refresh rotation by compare-and-set, reuse
 * detection, idle purge of browser sessions only).
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"
#include "store/store_int.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

struct fx {
    char root[64];
    char data[128];
    char db[192];
    struct store *st;
};

static int setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_store"));
    snprintf(f->data, sizeof(f->data), "%s/data/nested", f->root);
    snprintf(f->db, sizeof(f->db), "%s/gateway.db", f->data);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    test_rmtree(f->root);
    free(f);
    return 0;
}

/* --- raw access through a separate connection ------------------------------------------- */

static void raw_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int e = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (e != SQLITE_OK)
        fprintf(stderr, "raw_exec: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
    assert_int_equal(e, SQLITE_OK);
}

static int64_t raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static int file_mode(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (int)(sb.st_mode & 07777);
}

/* --- lifecycle and migrations ------------------------------------------------------------ */

static void test_open_modes_and_migrations(void **state)
{
    struct fx *f = *state;
    int latest = store_sqlite_latest_version();
    int nmig = (int)store_sqlite_migration_count();
    assert_true(latest >= 1);
    assert_int_equal(store_schema_version(f->st), latest);
    assert_int_equal(file_mode(f->data), 0700);
    assert_int_equal(file_mode(f->db), 0600);
    assert_int_equal(store_ping(f->st), GW_OK);
    /* SQLite gives the -wal and -shm files the mode of the database file. */
    assert_int_equal(store_meta_put(f->st, "k", "v"), GW_OK);
    char side[256];
    snprintf(side, sizeof(side), "%s-wal", f->db);
    assert_int_equal(file_mode(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", f->db);
    assert_int_equal(file_mode(side), 0600);

    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM schema_migrations"), nmig);
    assert_int_equal(raw_int(f->db, "SELECT MAX(version) FROM schema_migrations"), latest);
    int64_t applied = raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations");
    /* WAL mode is persistent in the file header. */
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(h);

    /* Reopen twice: nothing re-applied. */
    for (int i = 0; i < 2; i++) {
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(store_open(f->data, &f->st), GW_OK);
        assert_int_equal(store_schema_version(f->st), latest);
        assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM schema_migrations"), nmig);
        assert_int_equal(raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations"),
                         applied);
        assert_int_equal(file_mode(f->db), 0600);
    }

    /* An existing file with a loose mode is tightened. */
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(chmod(f->db, 0644), 0);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(file_mode(f->db), 0600);
}

static void test_future_version_refused(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    f->st = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO schema_migrations (version, description, applied_ms) "
             "VALUES (%d, 'from the future', 1)",
             store_sqlite_latest_version() + 1);
    raw_exec(f->db, sql);
    struct store *st = (struct store *)1;
    assert_int_equal(store_open(f->data, &st), GW_ESTORE);
    assert_null(st);
    /* Removing the future row makes it openable again. */
    raw_exec(f->db, "DELETE FROM schema_migrations WHERE description = 'from the future'");
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
}

static void test_not_a_database(void **state)
{
    struct fx *f = *state;
    char dir[128], path[192];
    snprintf(dir, sizeof(dir), "%s/junk", f->root);
    snprintf(path, sizeof(path), "%s/gateway.db", dir);
    assert_int_equal(gw_mkdirs(dir, 0700), GW_OK);
    const char junk[] = "this is not an SQLite database, just some bytes...........";
    assert_int_equal(gw_file_write_atomic(path, junk, sizeof(junk), 0600), GW_OK);
    struct store *st = NULL;
    assert_int_equal(store_open(dir, &st), GW_ESTORE);
    assert_null(st);
}

static void test_ping_file_removed(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_ping(f->st), GW_OK);
    assert_int_equal(unlink(f->db), 0);
    assert_int_equal(store_ping(f->st), GW_ESTORE);
}

/* --- meta -------------------------------------------------------------------------------- */

static void test_meta(void **state)
{
    struct fx *f = *state;
    char *v = (char *)"untouched";
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_ENOTFOUND);
    assert_null(v);
    assert_int_equal(store_meta_put(f->st, "bootstrap_done", "1"), GW_OK);
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_OK);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(store_meta_put(f->st, "bootstrap_done", "2'; DROP TABLE meta; --"), GW_OK);
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_OK);
    assert_string_equal(v, "2'; DROP TABLE meta; --");
    free(v);
    assert_int_equal(store_meta_put(f->st, "empty", ""), GW_OK);
    assert_int_equal(store_meta_get(f->st, "empty", &v), GW_OK);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(store_meta_put(f->st, "k", NULL), GW_EINVAL);
}

/* --- tokens ------------------------------------------------------------------------------ */

static struct store_token tok(const char *tenant, const char *id, const char *owner,
                              const char *hash, int64_t created)
{
    struct store_token t = {
        .id = (char *)id,
        .tenant = (char *)tenant,
        .owner = (char *)owner,
        .hash = (char *)hash,
        .scopes = (char *)"[\"memory:read\",\"channels:write\"]",
        .created_by = (char *)"admin",
        .created_ms = created,
        .expires_ms = created + 1000,
    };
    return t;
}

static const struct store_token *find_tok(const struct store_token *l, size_t n,
                                          const char *tenant, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].tenant, tenant) && !strcmp(l[i].id, id))
            return &l[i];
    return NULL;
}

static void test_tokens(void **state)
{
    struct fx *f = *state;
    struct store_token a = tok("acme", "t1", "alice", "h1", 100);
    struct store_token b = tok("acme", "t2", NULL, "h2", 200);
    struct store_token c = tok("globex", "t1", "bob", "h3", 300);
    assert_int_equal(store_token_insert(f->st, &a), GW_OK);
    assert_int_equal(store_token_insert(f->st, &b), GW_OK);
    assert_int_equal(store_token_insert(f->st, &c), GW_OK); /* same id, other tenant */

    struct store_token dup_id = tok("acme", "t1", "x", "h-other", 1);
    assert_int_equal(store_token_insert(f->st, &dup_id), GW_ECONFLICT);
    struct store_token dup_hash = tok("acme", "t9", "x", "h2", 1);
    assert_int_equal(store_token_insert(f->st, &dup_hash), GW_ECONFLICT);
    struct store_token no_hash = tok("acme", "t8", "x", NULL, 1);
    assert_int_equal(store_token_insert(f->st, &no_hash), GW_EINVAL);

    /* rotation */
    assert_int_equal(store_token_set_hash(f->st, "acme", "t1", "h1b"), GW_OK);
    assert_int_equal(store_token_set_hash(f->st, "acme", "t1", "h3"), GW_ECONFLICT);
    assert_int_equal(store_token_set_hash(f->st, "acme", "nope", "h9"), GW_ENOTFOUND);
    assert_int_equal(store_token_set_hash(f->st, "initech", "t1", "h9"), GW_ENOTFOUND);

    /* touch keeps the max */
    assert_int_equal(store_token_touch(f->st, "acme", "t1", 5000), GW_OK);
    assert_int_equal(store_token_touch(f->st, "acme", "t1", 4000), GW_OK);
    assert_int_equal(store_token_touch(f->st, "acme", "nope", 4000), GW_ENOTFOUND);

    /* revoke: twice is OK and keeps the first time; absent is not found */
    assert_int_equal(store_token_revoke(f->st, "acme", "t2", 7000), GW_OK);
    assert_int_equal(store_token_revoke(f->st, "acme", "t2", 8000), GW_OK);
    assert_int_equal(store_token_revoke(f->st, "acme", "nope", 8000), GW_ENOTFOUND);
    assert_int_equal(store_token_set_hash(f->st, "acme", "t2", "h2b"), GW_ENOTFOUND);

    struct store_token *l = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    const struct store_token *t1 = find_tok(l, n, "acme", "t1");
    const struct store_token *t2 = find_tok(l, n, "acme", "t2");
    const struct store_token *g1 = find_tok(l, n, "globex", "t1");
    assert_non_null(t1);
    assert_non_null(t2);
    assert_non_null(g1);
    assert_string_equal(t1->hash, "h1b");
    assert_string_equal(t1->owner, "alice");
    assert_string_equal(t1->scopes, "[\"memory:read\",\"channels:write\"]");
    assert_string_equal(t1->created_by, "admin");
    assert_int_equal(t1->created_ms, 100);
    assert_int_equal(t1->expires_ms, 1100);
    assert_int_equal(t1->revoked_ms, 0);
    assert_int_equal(t1->last_used_ms, 5000);
    assert_null(t2->owner);
    assert_string_equal(t2->hash, "h2");
    assert_int_equal(t2->revoked_ms, 7000);
    assert_int_equal(t2->last_used_ms, 0);
    assert_string_equal(g1->hash, "h3");
    store_token_list_free(l, n);

    /* mutations survive a reopen */
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(store_token_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(find_tok(l, n, "acme", "t1")->hash, "h1b");
    store_token_list_free(l, n);
}

/* --- agents and messages ----------------------------------------------------------------- */

static void test_agents(void **state)
{
    struct fx *f = *state;
    struct store_agent a = {
        .tenant = (char *)"acme",
        .name = (char *)"support/triage",
        .channel = (char *)"support",
        .memory_path = (char *)"/var/lib/openclaw/acme/support/triage",
        .description = (char *)"first line",
        .created_by = (char *)"alice",
        .created_ms = 42,
    };
    assert_int_equal(store_agent_insert(f->st, &a), GW_OK);
    assert_int_equal(store_agent_insert(f->st, &a), GW_ECONFLICT);
    struct store_agent b = {.tenant = (char *)"acme", .name = (char *)"eng/bot", .created_ms = 7};
    assert_int_equal(store_agent_insert(f->st, &b), GW_OK);
    struct store_agent c = a;
    c.tenant = (char *)"globex";
    assert_int_equal(store_agent_insert(f->st, &c), GW_OK);

    struct store_agent *l = NULL;
    size_t n = 0;
    assert_int_equal(store_agent_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    /* ordered by tenant, name */
    assert_string_equal(l[0].tenant, "acme");
    assert_string_equal(l[0].name, "eng/bot");
    assert_null(l[0].channel);
    assert_null(l[0].memory_path);
    assert_null(l[0].description);
    assert_null(l[0].created_by);
    assert_int_equal(l[0].created_ms, 7);
    assert_string_equal(l[1].name, "support/triage");
    assert_string_equal(l[1].channel, "support");
    assert_string_equal(l[1].memory_path, "/var/lib/openclaw/acme/support/triage");
    assert_string_equal(l[1].description, "first line");
    assert_string_equal(l[1].created_by, "alice");
    assert_int_equal(l[1].created_ms, 42);
    assert_string_equal(l[2].tenant, "globex");
    store_agent_list_free(l, n);
}

static void test_messages(void **state)
{
    struct fx *f = *state;
    struct store_message m = {
        .id = (char *)"m1",
        .tenant = (char *)"acme",
        .channel = (char *)"general",
        .sender = (char *)"alice",
        .content = (char *)"hello 'world'",
        .created_ms = 1234,
    };
    assert_int_equal(store_message_insert(f->st, &m), GW_OK);
    assert_int_equal(store_message_insert(f->st, &m), GW_ECONFLICT);
    m.id = (char *)"m2";
    m.sender = NULL;
    assert_int_equal(store_message_insert(f->st, &m), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM messages WHERE tenant = 'acme' "
                                    "AND channel = 'general' AND created_ms = 1234"),
                     2);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM messages WHERE sender IS NULL"), 1);
}

/* --- audit fixtures ---------------------------------------------------------------------- */

static const char *const actors[] = {"alice", "bob", "carol", "token:t1", "anonymous"};
static const char *const orgs[] = {"eng", "eng/platform", "eng/platform/db", "engineering",
                                   "sales/eu", NULL, "e_g/x", "eng%/y"};
static const char *const teams[] = {"t-red", "t-blue", NULL};
static const char *const types[] = {"message.sent", "message.read", "memory.write",
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
#define STR_EQ(field)                                                                          \
    do {                                                                                       \
        if (!a->field || !b->field)                                                            \
            assert_true(a->field == b->field);                                                 \
        else                                                                                   \
            assert_string_equal(a->field, b->field);                                           \
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

static void check_query(struct store *st, const struct dataset *d, const struct store_audit_filter *f,
                        size_t limit)
{
    int64_t exp[N_ACME + N_GLOBEX];
    size_t nexp = expected(d, f, exp);
    if (nexp > limit)
        nexp = limit;
    struct store_audit_row *rows = NULL;
    size_t n = 99;
    assert_int_equal(store_audit_query(st, f, limit, &rows, &n), GW_OK);
    if (n != nexp)
        fprintf(stderr, "filter vis=%d scope=%s actor=%s type=%s res=%s out=%s req=%s since=%" PRId64
                " until=%" PRId64 " after=%" PRId64 " before=%" PRId64 " desc=%d: got %zu want %zu\n",
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
        {STORE_AUDIT_VIS_ALL, NULL},          {STORE_AUDIT_VIS_ORG, "eng"},   {STORE_AUDIT_VIS_ORG, "eng/"},
        {STORE_AUDIT_VIS_ORG, "eng/platform"}, {STORE_AUDIT_VIS_ORG, "e_g"},  {STORE_AUDIT_VIS_ORG, "eng%"},
        {STORE_AUDIT_VIS_ORG, "sales"},       {STORE_AUDIT_VIS_ORG, "nope"},  {STORE_AUDIT_VIS_TEAM, "t-red"},
        {STORE_AUDIT_VIS_TEAM, "t-blue"},     {STORE_AUDIT_VIS_ACTOR, "bob"}, {STORE_AUDIT_VIS_ACTOR, "zed"},
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
    struct store_audit_filter org = {.tenant = "acme", .vis = STORE_AUDIT_VIS_ORG, .vis_scope = "eng"};
    size_t n = expected(d, &org, exp);
    size_t want = 0;
    for (size_t i = 0; i < N_ACME; i++) {
        const char *o = orgs[i % GW_ARRAY_LEN(orgs)];
        if (o && (!strcmp(o, "eng") || !strncmp(o, "eng/", 4)))
            want++;
    }
    assert_int_equal(n, want);
    assert_true(n > 0);
    struct store_audit_filter wild = {.tenant = "acme", .vis = STORE_AUDIT_VIS_ORG, .vis_scope = "e_g"};
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
    struct store_audit_checkpoint other = {.tenant = (char *)"globex", .seq = 999,
                                     .hash = (char *)"h", .ts_ms = 1,
                                     .key_id = (char *)"k", .signature = (char *)"s"};
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

/* --- policies ---------------------------------------------------------------------------- */

static void test_policies(void **state)
{
    struct fx *f = *state;
    /* inserted out of order: the list sorts by tenant, id, version */
    assert_int_equal(store_policy_insert(f->st, "globex", "p1", 1, "{\"g\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 2, "{\"a\":2}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 1, "{\"a\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p0", 1, "{\"z\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 10, "{\"a\":10}"), GW_OK);

    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 2, "{\"other\":1}"), GW_ECONFLICT);
    assert_int_equal(store_policy_insert(f->st, NULL, "p1", 3, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", NULL, 3, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 3, NULL), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 0, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_list(f->st, NULL, NULL), GW_EINVAL);

    struct store_policy_version *l = NULL;
    size_t n = 0;
    assert_int_equal(store_policy_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 5);
    static const struct {
        const char *tenant, *id;
        int64_t version;
        const char *record;
    } want[] = {
        {"acme", "p0", 1, "{\"z\":1}"},  {"acme", "p1", 1, "{\"a\":1}"},
        {"acme", "p1", 2, "{\"a\":2}"},  {"acme", "p1", 10, "{\"a\":10}"}, /* numeric order */
        {"globex", "p1", 1, "{\"g\":1}"},
    };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l[i].tenant, want[i].tenant);
        assert_string_equal(l[i].id, want[i].id);
        assert_int_equal(l[i].version, want[i].version);
        assert_string_equal(l[i].record, want[i].record);
    }
    store_policy_list_free(l, n);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM policy_versions WHERE created_ms > 0"),
                     5);

    /* durable across a reopen */
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(store_policy_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 5);
    assert_string_equal(l[3].record, "{\"a\":10}");
    store_policy_list_free(l, n);
}

/* --- approval queue ---------------------------------------------------------------------- */

static struct store_approval apr(const char *tenant, const char *id, const char *status,
                                 int64_t created_ms, int64_t expires_ms)
{
    struct store_approval a = {
        .id = (char *)id,
        .tenant = (char *)tenant,
        .requester = (char *)"alice",
        .approvers = (char *)"{\"roles\":[\"admin\"],\"team_lead_of\":null,\"users\":[]}",
        .action = (char *)"{\"kind\":\"tool_call\",\"tool\":\"deploy\"}",
        .policy = (char *)"{\"id\":\"pol1\",\"version\":3}",
        .status = (char *)status,
        .request_id = (char *)"req-1",
        .created_ms = created_ms,
        .expires_ms = expires_ms,
    };
    return a;
}

static void test_approvals_insert_get_list(void **state)
{
    struct fx *f = *state;
    struct store_approval a = apr("acme", "apr_1", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &a), GW_ECONFLICT);
    struct store_approval bad = a;
    bad.id = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad = a;
    bad.id = (char *)"apr_bad";
    bad.tenant = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.tenant = (char *)"acme";
    bad.requester = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.requester = (char *)"alice";
    bad.action = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.action = (char *)"{}";
    bad.status = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    assert_int_equal(store_approval_insert(f->st, NULL), GW_EINVAL);

    struct store_approval g;
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.id, "apr_1");
    assert_string_equal(g.tenant, "acme");
    assert_string_equal(g.requester, "alice");
    assert_string_equal(g.approvers, a.approvers);
    assert_string_equal(g.action, a.action);
    assert_string_equal(g.policy, a.policy);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    assert_null(g.comment);
    assert_null(g.result);
    assert_string_equal(g.request_id, "req-1");
    assert_int_equal(g.created_ms, 100);
    assert_int_equal(g.expires_ms, 1000);
    assert_int_equal(g.decided_ms, 0);
    assert_int_equal(g.executed_ms, 0);
    store_approval_release(&g);
    assert_null(g.id);

    assert_int_equal(store_approval_get(f->st, "acme", "apr_nope", &g), GW_ENOTFOUND);
    assert_null(g.id);
    assert_int_equal(store_approval_get(f->st, "globex", "apr_1", &g), GW_ENOTFOUND);
    assert_int_equal(store_approval_get(f->st, NULL, "apr_1", &g), GW_EINVAL);

    /* more rows: created 300, 200, 200 (tie: the later insert is newer), other tenant */
    struct store_approval b = apr("acme", "apr_2", "rejected", 300, 3000);
    struct store_approval c = apr("acme", "apr_3", "pending", 200, 2000);
    struct store_approval d = apr("acme", "apr_4", "pending", 200, 2000);
    struct store_approval e = apr("globex", "apr_5", "pending", 999, 9999);
    assert_int_equal(store_approval_insert(f->st, &b), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &c), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &d), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &e), GW_OK);
    /* ids are global: the same id in another tenant conflicts */
    struct store_approval dup = apr("globex", "apr_1", "pending", 1, 2);
    assert_int_equal(store_approval_insert(f->st, &dup), GW_ECONFLICT);

    struct store_approval *l = NULL;
    size_t n = 0;
    assert_int_equal(store_approval_list(f->st, "acme", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_2");
    assert_string_equal(l[1].id, "apr_4");
    assert_string_equal(l[2].id, "apr_3");
    assert_string_equal(l[3].id, "apr_1");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l[i].tenant, "acme");
    assert_string_equal(l[0].status, "rejected");
    assert_string_equal(l[0].action, b.action);
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", "pending", 100, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].id, "apr_4");
    assert_string_equal(l[1].id, "apr_3");
    assert_string_equal(l[2].id, "apr_1");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", "pending", 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "apr_4");
    assert_string_equal(l[1].id, "apr_3");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", NULL, 1, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "apr_2");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", NULL, 0, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_null(l);
    assert_int_equal(store_approval_list(f->st, "acme", "executed", 10, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "globex", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "apr_5");
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_list(f->st, "initech", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_list(f->st, NULL, NULL, 100, &l, &n), GW_EINVAL);

    /* durable across a reopen */
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_2", &g), GW_OK);
    assert_string_equal(g.status, "rejected");
    store_approval_release(&g);
}

static void test_approval_transition(void **state)
{
    struct fx *f = *state;
    struct store_approval a = apr("acme", "apr_1", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    struct store_approval other = apr("globex", "apr_g", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &other), GW_OK);

    struct store_approval_change inval = {.from = "pending"};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &inval), GW_EINVAL);
    inval = (struct store_approval_change){.to = "executing"};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &inval), GW_EINVAL);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", NULL), GW_EINVAL);
    assert_int_equal(store_approval_transition(f->st, NULL, "apr_1", &inval), GW_EINVAL);

    /* absent, and present in another tenant only: not found, nothing changes */
    struct store_approval_change ch = {.from = "pending", .to = "executing",
                                       .decided_by = "bob", .decided_ms = 500};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_nope", &ch), GW_ENOTFOUND);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_g", &ch), GW_ENOTFOUND);
    assert_int_equal(store_approval_transition(f->st, "globex", "apr_1", &ch), GW_ENOTFOUND);
    struct store_approval g;
    assert_int_equal(store_approval_get(f->st, "globex", "apr_g", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    store_approval_release(&g);

    /* wrong `from`: conflict, nothing changes */
    struct store_approval_change wrong = {.from = "executing", .to = "executed",
                                          .result = "{\"x\":1}", .executed_ms = 9};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &wrong), GW_ECONFLICT);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.result);
    assert_int_equal(g.executed_ms, 0);
    store_approval_release(&g);

    /* pending -> executing with an edited action, a comment and the decider */
    ch.comment = "ok, with a smaller batch";
    ch.action = "{\"kind\":\"tool_call\",\"tool\":\"deploy\",\"args\":{\"batch\":1}}";
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &ch), GW_OK);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &ch), GW_ECONFLICT);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "executing");
    assert_string_equal(g.decided_by, "bob");
    assert_string_equal(g.comment, "ok, with a smaller batch");
    assert_string_equal(g.action, ch.action);
    assert_null(g.result);
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 0);
    /* untouched fields */
    assert_string_equal(g.requester, "alice");
    assert_string_equal(g.approvers, a.approvers);
    assert_string_equal(g.policy, a.policy);
    assert_string_equal(g.request_id, "req-1");
    assert_int_equal(g.created_ms, 100);
    assert_int_equal(g.expires_ms, 1000);
    store_approval_release(&g);

    /* executing -> executed: NULL strings and zero times keep the stored values */
    struct store_approval_change done = {.from = "executing", .to = "executed",
                                         .result = "{\"ok\":true}", .executed_ms = 700};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &done), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "executed");
    assert_string_equal(g.decided_by, "bob");
    assert_string_equal(g.comment, "ok, with a smaller batch");
    assert_string_equal(g.action, ch.action);
    assert_string_equal(g.result, "{\"ok\":true}");
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 700);
    store_approval_release(&g);

    /* negative times are "not given" too; a self-transition with replacements is allowed */
    struct store_approval_change fix = {.from = "executed", .to = "executed",
                                        .comment = "note", .decided_ms = -1, .executed_ms = 0};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &fix), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.comment, "note");
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 700);
    store_approval_release(&g);

    /* the other tenant's row was never touched */
    assert_int_equal(store_approval_get(f->st, "globex", "apr_g", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    assert_null(g.comment);
    assert_string_equal(g.action, other.action);
    assert_int_equal(g.decided_ms, 0);
    store_approval_release(&g);
}

struct racer {
    struct store *st;
    pthread_barrier_t *go;
    const char *id;
    const char *name;
    gw_err rc;
};

static void *racer_main(void *p)
{
    struct racer *r = p;
    struct store_approval_change ch = {.from = "pending", .to = "executing",
                                       .decided_by = r->name, .decided_ms = 1};
    pthread_barrier_wait(r->go);
    r->rc = store_approval_transition(r->st, "acme", r->id, &ch);
    return NULL;
}

static void test_approval_transition_race(void **state)
{
    struct fx *f = *state;
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
    /* Odd rounds race through a second handle (its own connection): the CAS must hold in SQL,
     * not only under one handle's mutex. */
    struct store *st2 = NULL;
    assert_int_equal(store_open(f->data, &st2), GW_OK);
    int wins[2] = {0, 0};
    for (int i = 0; i < 100; i++) {
        char id[32];
        snprintf(id, sizeof(id), "apr_race_%d", i);
        struct store_approval a = apr("acme", id, "pending", i + 1, 1000);
        assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
        struct racer r[2] = {
            {.st = f->st, .go = &go, .id = id, .name = "approver-a", .rc = GW_EINTERNAL},
            {.st = i % 2 ? st2 : f->st, .go = &go, .id = id, .name = "approver-b",
             .rc = GW_EINTERNAL},
        };
        pthread_t th[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_create(&th[k], NULL, racer_main, &r[k]), 0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_join(th[k], NULL), 0);
        int winner = -1;
        for (int k = 0; k < 2; k++) {
            if (r[k].rc == GW_OK) {
                assert_int_equal(winner, -1); /* never two winners */
                winner = k;
            } else {
                assert_int_equal(r[k].rc, GW_ECONFLICT);
            }
        }
        assert_true(winner >= 0); /* and always one */
        wins[winner]++;
        struct store_approval g;
        assert_int_equal(store_approval_get(f->st, "acme", id, &g), GW_OK);
        assert_string_equal(g.status, "executing");
        assert_string_equal(g.decided_by, r[winner].name);
        store_approval_release(&g);
    }
    assert_int_equal(wins[0] + wins[1], 100);
    store_close(st2);
    pthread_barrier_destroy(&go);
}

static void test_approval_due(void **state)
{
    struct fx *f = *state;
    struct {
        const char *tenant, *id, *status;
        int64_t expires_ms;
    } rows[] = {
        {"acme", "apr_a", "pending", 300},   {"globex", "apr_b", "pending", 100},
        {"acme", "apr_c", "pending", 500},   {"acme", "apr_d", "rejected", 50},
        {"acme", "apr_e", "executing", 60},  {"globex", "apr_f", "pending", 200},
        {"acme", "apr_g", "pending", 501},   {"globex", "apr_h", "expired", 10},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        struct store_approval a =
            apr(rows[i].tenant, rows[i].id, rows[i].status, (int64_t)i + 1, rows[i].expires_ms);
        assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    }
    struct store_approval *l = NULL;
    size_t n = 0;
    assert_int_equal(store_approval_due(f->st, 500, 100, &l, &n), GW_OK); /* inclusive */
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_b");
    assert_string_equal(l[0].tenant, "globex");
    assert_string_equal(l[1].id, "apr_f");
    assert_string_equal(l[2].id, "apr_a");
    assert_string_equal(l[2].tenant, "acme");
    assert_string_equal(l[3].id, "apr_c");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l[i].status, "pending");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_due(f->st, 500, 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "apr_b");
    assert_string_equal(l[1].id, "apr_f");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_due(f->st, 500, 0, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_approval_due(f->st, 99, 100, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_due(f->st, 500, 10, NULL, &n), GW_EINVAL);

    /* once expired (CAS), no longer due */
    struct store_approval_change ch = {.from = "pending", .to = "expired"};
    assert_int_equal(store_approval_transition(f->st, "globex", "apr_b", &ch), GW_OK);
    assert_int_equal(store_approval_due(f->st, 1000, 100, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_f");
    assert_string_equal(l[3].id, "apr_g");
    store_approval_list_free(l, n);
}

/* --- usage metering and budget alerts ------------------------------------------------------- */

static struct store_usage_row usage(const char *tenant, const char *user, const char *ws,
                                    const char *provider, const char *model, int64_t pt,
                                    int64_t ct, double usd, const char *month, int64_t at)
{
    struct store_usage_row r = {.tenant = tenant, .user_id = user, .workspace = ws,
                                .agent = NULL, .provider = provider, .model = model,
                                .prompt_tokens = pt, .completion_tokens = ct, .cost_usd = usd,
                                .month = month, .at_ms = at, .request_id = "req-1"};
    return r;
}

static void test_usage_append_and_month(void **state)
{
    struct fx *f = *state;
    struct store_usage_row rows[] = {
        usage("acme", "alice", "dev", "openai", "gpt-4o", 100, 10, 0.5, "2026-11", 1),
        usage("acme", "alice", "dev", "openai", "gpt-4o", 200, 20, 0.25, "2026-11", 2),
        usage("acme", "bob", "dev", "openai", "gpt-4o", 1, 2, 1.0, "2026-11", 3),
        usage("acme", NULL, "public", "anthropic", "claude", 5, 6, 2.0, "2026-11", 4),
        usage("acme", "alice", "dev", "openai", "gpt-4o", 7, 7, 9.0, "2026-10", 5),
        usage("globex", "carol", "dev", "openai", "gpt-4o", 3, 4, 4.0, "2026-11", 6),
    };
    rows[1].agent = "dev/helper";
    rows[1].request_id = NULL;
    assert_int_equal(store_usage_append(f->st, rows, GW_ARRAY_LEN(rows)), GW_OK);
    assert_int_equal(store_usage_append(f->st, rows, 0), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 6);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records WHERE agent IS NOT NULL"),
                     1);

    struct store_usage_sum *l = NULL;
    size_t n = 0;
    assert_int_equal(store_usage_month(f->st, "acme", "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 3); /* ordered by workspace, user (NULL first), provider, model */
    assert_string_equal(l[0].workspace, "dev");
    assert_string_equal(l[0].user_id, "alice");
    assert_int_equal(l[0].requests, 2);
    assert_int_equal(l[0].prompt_tokens, 300);
    assert_int_equal(l[0].completion_tokens, 30);
    assert_true(l[0].cost_usd > 0.7499 && l[0].cost_usd < 0.7501);
    assert_string_equal(l[0].tenant, "acme");
    assert_string_equal(l[0].provider, "openai");
    assert_string_equal(l[0].model, "gpt-4o");
    assert_string_equal(l[1].user_id, "bob");
    assert_string_equal(l[2].workspace, "public");
    assert_null(l[2].user_id);
    assert_string_equal(l[2].provider, "anthropic");
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", "2026-11", "public", &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].workspace, "public");
    store_usage_sums_free(l, n);

    /* every tenant */
    assert_int_equal(store_usage_month(f->st, NULL, "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[3].tenant, "globex");
    assert_string_equal(l[3].user_id, "carol");
    store_usage_sums_free(l, n);
    assert_int_equal(store_usage_month(f->st, NULL, "2026-11", "dev", &l, &n), GW_OK);
    assert_int_equal(n, 3);
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", "2026-10", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_true(l[0].cost_usd == 9.0);
    store_usage_sums_free(l, n);
    assert_int_equal(store_usage_month(f->st, "nobody", "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", NULL, NULL, &l, &n), GW_EINVAL);
    struct store_usage_row bad = rows[0];
    bad.month = NULL;
    assert_int_equal(store_usage_append(f->st, &bad, 1), GW_EINVAL);
    assert_int_equal(store_usage_append(f->st, NULL, 1), GW_EINVAL);
}

static void test_usage_append_atomic(void **state)
{
    struct fx *f = *state;
    struct store_usage_row ok = usage("acme", "alice", "dev", "openai", "m", 1, 1, 0.1,
                                      "2026-11", 1);
    assert_int_equal(store_usage_append(f->st, &ok, 1), GW_OK);
    /* a trigger makes the third row of a batch fail: nothing of the batch stays */
    raw_exec(f->db, "CREATE TRIGGER no_bad BEFORE INSERT ON usage_records "
                    "WHEN NEW.model = 'bad' BEGIN SELECT RAISE(ABORT, 'bad'); END;");
    struct store_usage_row batch[] = {ok, ok, ok};
    batch[2].model = "bad";
    assert_int_equal(store_usage_append(f->st, batch, 3), GW_ESTORE);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 1);
    /* the connection is usable again (audit appends share it) */
    assert_int_equal(store_usage_append(f->st, batch, 2), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 3);
}

static void test_budget_alerts(void **state)
{
    struct fx *f = *state;
    bool fresh = false;
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "threshold", 10,
                                               &fresh), GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "threshold", 20,
                                               &fresh), GW_OK);
    assert_false(fresh);
    assert_int_equal(raw_int(f->db, "SELECT sent_at_ms FROM budget_alerts"), 10);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "exceeded", 30,
                                               &fresh), GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-12", "threshold", 40,
                                               &fresh), GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "globex", "dev", "2026-11", "threshold",
                                               50, &fresh), GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "ops", "2026-11", "threshold", 60,
                                               &fresh), GW_OK);
    assert_true(fresh);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts"), 5);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "other", 1,
                                               &fresh), GW_EINVAL);
    assert_int_equal(store_budget_alert_insert(f->st, NULL, "dev", "2026-11", "threshold", 1,
                                               &fresh), GW_EINVAL);
    /* remembered across a reopen */
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "exceeded", 70,
                                               &fresh), GW_OK);
    assert_false(fresh);
}

/* --- CLI sign-in: codes, CLI sessions, refresh rotation (schema 8) ---------------------- */

static void test_cli_codes_single_use(void **state)
{
    struct fx *f = *state;
    struct store_cli_code c = {
        .code_hash = "c1", .tenant = "acme", .user_id = "alice", .identity = "{\"role\":\"user\"}",
        .browser_session = "b1", .challenge = "ch", .redirect_uri = "http://127.0.0.1:9/callback",
        .created_ms = 100, .expires_ms = 60100,
    };
    assert_int_equal(store_cli_code_insert(f->st, &c), GW_OK);
    struct store_cli_code got;
    assert_int_equal(store_cli_code_consume(f->st, "nope", 200, &got), GW_ENOTFOUND);
    assert_int_equal(store_cli_code_consume(f->st, "c1", 200, &got), GW_OK);
    assert_int_equal(got.consumed_ms, 0); /* first use */
    assert_string_equal(got.user_id, "alice");
    assert_string_equal(got.challenge, "ch");
    assert_string_equal(got.browser_session, "b1");
    assert_null(got.cli_session);
    store_cli_code_release(&got);
    assert_int_equal(store_cli_code_link(f->st, "c1", "s1"), GW_OK);
    /* a replay sees the first use and the session it produced */
    assert_int_equal(store_cli_code_consume(f->st, "c1", 300, &got), GW_OK);
    assert_int_equal(got.consumed_ms, 200);
    assert_string_equal(got.cli_session, "s1");
    store_cli_code_release(&got);
    /* purge keeps codes ten minutes past their expiry */
    assert_int_equal(store_cli_purge(f->st, 60100 + 599000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_auth_codes"), 1);
    assert_int_equal(store_cli_purge(f->st, 60100 + 600000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_auth_codes"), 0);
}

static void test_cli_sessions_rotate_and_detect_reuse(void **state)
{
    struct fx *f = *state;
    int64_t now = gw_now_ms();
    struct store_session s = {
        .id = "s1", .hash = "a1", .tenant = "acme", .user_id = "alice", .identity = "{}",
        .created_ms = now, .last_seen_ms = now - 86400000, .expires_ms = now + 3600000,
        .kind = "cli", .refresh_hash = "r1", .access_expires_ms = now + 60000,
    };
    assert_int_equal(store_session_insert(f->st, &s), GW_OK);
    struct store_session b = {
        .id = "b1", .hash = "bh", .tenant = "acme", .user_id = "alice", .created_ms = now,
        .last_seen_ms = now - 86400000, .expires_ms = now + 3600000,
    };
    assert_int_equal(store_session_insert(f->st, &b), GW_OK);
    struct store_session got;
    assert_int_equal(store_session_get(f->st, "bh", &got), GW_OK);
    assert_string_equal(got.kind, "browser"); /* the default kind */
    store_session_release(&got);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_OK);
    assert_string_equal(got.id, "s1");
    assert_string_equal(got.kind, "cli");
    assert_int_equal(got.access_expires_ms, now + 60000);
    store_session_release(&got);
    assert_int_equal(store_cli_refresh_find(f->st, "zz", &got), GW_ENOTFOUND);
    store_session_release(&got);

    struct store_cli_rotation r = {
        .id = "s1", .old_refresh_hash = "r1", .access_hash = "a2", .refresh_hash = "r2",
        .access_expires_ms = now + 120000, .expires_ms = now + 7200000, .now_ms = now,
    };
    assert_int_equal(store_cli_rotate(f->st, &r), GW_OK);
    /* the same refresh token a second time: compare-and-set fails, nothing changes */
    r.access_hash = "a3";
    r.refresh_hash = "r3";
    assert_int_equal(store_cli_rotate(f->st, &r), GW_ECONFLICT);
    assert_int_equal(store_session_get(f->st, "a2", &got), GW_OK);
    assert_string_equal(got.refresh_hash, "r2");
    assert_int_equal(got.expires_ms, now + 7200000);
    store_session_release(&got);
    assert_int_equal(store_session_get(f->st, "a1", &got), GW_ENOTFOUND);
    store_session_release(&got);
    /* the rotated token is recognized as used, naming its session */
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ECONFLICT);
    assert_string_equal(got.id, "s1");
    assert_string_equal(got.tenant, "acme");
    assert_string_equal(got.user_id, "alice");
    store_session_release(&got);

    /* idle limits apply to browser sessions only */
    assert_int_equal(store_sso_purge(f->st, now, now - 3600000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE id = 's1'"), 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE id = 'b1'"), 0);
    /* a revoked session still reveals a reused token until the purge */
    assert_int_equal(store_session_delete(f->st, "acme", "s1", NULL), GW_OK);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ECONFLICT);
    assert_null(got.user_id);
    store_session_release(&got);
    assert_int_equal(store_cli_purge(f->st, now), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_refresh_used"), 0);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ENOTFOUND);
    store_session_release(&got);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_modes_and_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_codes_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_sessions_rotate_and_detect_reuse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_future_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_file_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_head_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_query_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tamper_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reads_and_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_throughput, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approvals_insert_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_transition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_transition_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_append_and_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_append_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_alerts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
