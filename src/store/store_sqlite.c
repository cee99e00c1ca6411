/* SPDX-License-Identifier: MIT
 * store_sqlite.c — the embedded SQLite backend of the store (WAL mode, <data_dir>/gateway.db).
 *
 * Two connections to the same file:
 *   - "main", guarded by mu, serves every API operation (tokens, agents, messages, meta, audit
 *     reads and scans, checkpoints, policy versions, the approval queue). In WAL mode its reads never block the writer.
 *   - "audit", guarded by audit_mu, is used only by store_audit_append so group commits of the
 *     audit writer never queue behind API reads. Each batch is BEGIN IMMEDIATE ... COMMIT.
 *     The costs writer's batches (store_usage_append) use it too: both are background writers,
 *     and SQLite admits one writer at a time anyway.
 * Both run with synchronous=FULL: a successful commit has been fsynced (an audit event must be
 * durable before the API answers; token and agent mutations are rare, so the cost is moot).
 *
 * Every fixed statement is prepared once at open (SQLITE_PREPARE_PERSISTENT); audit queries are
 * built from the filter with only placeholders in the SQL text, never values. Errors are logged
 * with sqlite3_errmsg only (it never contains bound values).
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define DB_FILE "gateway.db"

/* --- statements -------------------------------------------------------------------------- */

#define TOKEN_COLS "id, tenant, owner, hash, scopes, created_by, created_ms, expires_ms, " \
                   "revoked_ms, last_used_ms"
#define AGENT_COLS "tenant, name, channel, memory_path, description, created_by, created_ms"
#define AUDIT_COLS "tenant, seq, ts_ms, type, outcome, actor, token_id, org_unit, team, "   \
                   "resource, request_id, client_ip, classification, status, details, "     \
                   "prev_hash, hash"
#define CP_COLS "tenant, seq, hash, ts_ms, key_id, signature"
#define APR_COLS "id, tenant, requester, approvers, action, policy, status, decided_by, comment, " \
                 "result, request_id, created_ms, expires_ms, decided_ms, executed_ms"
#define USAGE_COLS "tenant, user_id, workspace, agent, provider, model, prompt_tokens, " \
                   "completion_tokens, cost_usd, month, at_ms, request_id"
#define USAGE_GROUP "usage_records.tenant, workspace, user_id, provider, model"
#define USAGE_SUM_COLS USAGE_GROUP ", COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), " \
                       "TOTAL(cost_usd)"

enum main_stmt {
    S_PING,
    S_META_GET,
    S_META_PUT,
    S_TOKEN_INSERT,
    S_TOKEN_SET_HASH,
    S_TOKEN_REVOKE,
    S_TOKEN_TOUCH,
    S_TOKEN_LIST,
    S_AGENT_INSERT,
    S_AGENT_LIST,
    S_MESSAGE_INSERT,
    S_AUDIT_HEAD,
    S_AUDIT_TENANTS,
    S_CP_INSERT,
    S_CP_LATEST,
    S_CP_LIST,
    S_POLICY_INSERT,
    S_POLICY_LIST,
    S_APR_INSERT,
    S_APR_GET,
    S_APR_TRANSITION,
    S_APR_EXISTS,
    S_APR_LIST,
    S_APR_LIST_STATUS,
    S_APR_DUE,
    S_USAGE_MONTH,
    S_USAGE_MONTH_ALL,
    S_BUDGET_ALERT_INSERT,
    S__COUNT
};

static const char *const main_sql[S__COUNT] = {
    [S_PING] = "SELECT 1",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [S_TOKEN_INSERT] = "INSERT INTO tokens (" TOKEN_COLS ") "
                       "VALUES (?1, ?2, ?3, ?4, COALESCE(?5, '[]'), ?6, ?7, ?8, ?9, ?10)",
    [S_TOKEN_SET_HASH] = "UPDATE tokens SET hash = ?3 "
                         "WHERE tenant = ?1 AND id = ?2 AND revoked_ms = 0",
    /* Matches the row even when already revoked (changes() == 1), keeping the first time. */
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_ms = "
                       "CASE WHEN revoked_ms = 0 THEN ?3 ELSE revoked_ms END "
                       "WHERE tenant = ?1 AND id = ?2",
    [S_TOKEN_TOUCH] = "UPDATE tokens SET last_used_ms = MAX(last_used_ms, ?3) "
                      "WHERE tenant = ?1 AND id = ?2",
    [S_TOKEN_LIST] = "SELECT " TOKEN_COLS " FROM tokens ORDER BY tenant, created_ms, id",
    [S_AGENT_INSERT] = "INSERT INTO agents (" AGENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_AGENT_LIST] = "SELECT " AGENT_COLS " FROM agents ORDER BY tenant, name",
    [S_MESSAGE_INSERT] = "INSERT INTO messages (id, tenant, channel, sender, content, created_ms) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_AUDIT_HEAD] = "SELECT seq, hash FROM audit_events WHERE tenant = ?1 "
                     "ORDER BY seq DESC LIMIT 1",
    /* Loose index scan over the primary key: one probe per tenant, not one per row. */
    [S_AUDIT_TENANTS] = "WITH RECURSIVE t(tenant) AS ("
                        "  SELECT MIN(tenant) FROM audit_events"
                        "  UNION ALL"
                        "  SELECT (SELECT MIN(tenant) FROM audit_events WHERE tenant > t.tenant)"
                        "  FROM t WHERE t.tenant IS NOT NULL"
                        ") SELECT tenant FROM t WHERE tenant IS NOT NULL",
    [S_CP_INSERT] = "INSERT INTO audit_checkpoints (" CP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CP_LATEST] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = ?1 "
                    "ORDER BY seq DESC LIMIT 1",
    [S_CP_LIST] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = ?1 ORDER BY seq",
    [S_POLICY_INSERT] = "INSERT INTO policy_versions (tenant, id, version, record, created_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_POLICY_LIST] = "SELECT tenant, id, version, record FROM policy_versions "
                      "ORDER BY tenant, id, version",
    [S_APR_INSERT] = "INSERT INTO approvals (" APR_COLS ") VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [S_APR_GET] = "SELECT " APR_COLS " FROM approvals WHERE tenant = ?1 AND id = ?2",
    /* The compare-and-set: matches only while the status is still ?3 (changes() says who won).
     * NULL text and non-positive times keep the stored values. */
    [S_APR_TRANSITION] = "UPDATE approvals SET status = ?4, "
                         "decided_by = COALESCE(?5, decided_by), "
                         "comment = COALESCE(?6, comment), "
                         "action = COALESCE(?7, action), "
                         "result = COALESCE(?8, result), "
                         "decided_ms = CASE WHEN ?9 > 0 THEN ?9 ELSE decided_ms END, "
                         "executed_ms = CASE WHEN ?10 > 0 THEN ?10 ELSE executed_ms END "
                         "WHERE tenant = ?1 AND id = ?2 AND status = ?3",
    [S_APR_EXISTS] = "SELECT 1 FROM approvals WHERE tenant = ?1 AND id = ?2",
    /* rowid breaks ties of created_ms: the later insert counts as newer. */
    [S_APR_LIST] = "SELECT " APR_COLS " FROM approvals WHERE tenant = ?1 "
                   "ORDER BY created_ms DESC, rowid DESC LIMIT ?2",
    [S_APR_LIST_STATUS] = "SELECT " APR_COLS " FROM approvals WHERE tenant = ?1 AND status = ?2 "
                          "ORDER BY created_ms DESC, rowid DESC LIMIT ?3",
    [S_APR_DUE] = "SELECT " APR_COLS " FROM approvals "
                  "WHERE status = 'pending' AND expires_ms <= ?1 "
                  "ORDER BY expires_ms, rowid LIMIT ?2",
    [S_USAGE_MONTH] = "SELECT " USAGE_SUM_COLS " FROM usage_records "
                      "WHERE tenant = ?1 AND month = ?2 AND (?3 IS NULL OR workspace = ?3) "
                      "GROUP BY " USAGE_GROUP " ORDER BY " USAGE_GROUP,
    /* Every tenant: one index probe (tenant, month) per tenant, found by a loose index scan. */
    [S_USAGE_MONTH_ALL] = "WITH RECURSIVE t(tenant) AS ("
                          "  SELECT MIN(tenant) FROM usage_records"
                          "  UNION ALL"
                          "  SELECT (SELECT MIN(tenant) FROM usage_records WHERE tenant > t.tenant)"
                          "  FROM t WHERE t.tenant IS NOT NULL"
                          ") SELECT " USAGE_SUM_COLS " FROM t CROSS JOIN usage_records "
                          "ON usage_records.tenant = t.tenant "
                          "WHERE month = ?1 AND (?2 IS NULL OR workspace = ?2) "
                          "GROUP BY " USAGE_GROUP " ORDER BY " USAGE_GROUP,
    /* Insert-if-absent: changes() says whether this call was the first. */
    [S_BUDGET_ALERT_INSERT] = "INSERT INTO budget_alerts "
                              "(tenant, workspace, month, kind, sent_at_ms) "
                              "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
};

enum audit_stmt { A_BEGIN, A_INSERT, A_COMMIT, A_ROLLBACK, A_USAGE_INSERT, A__COUNT };

static const char *const audit_sql[A__COUNT] = {
    [A_BEGIN] = "BEGIN IMMEDIATE",
    [A_INSERT] = "INSERT INTO audit_events (" AUDIT_COLS ") VALUES "
                 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [A_COMMIT] = "COMMIT",
    [A_ROLLBACK] = "ROLLBACK",
    [A_USAGE_INSERT] = "INSERT INTO usage_records (" USAGE_COLS ") VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
};

struct store_sqlite {
    struct store base; /* first: struct store * <-> struct store_sqlite * */
    char *path;
    dev_t dev;
    ino_t ino;
    int version;

    pthread_mutex_t mu; /* main connection and its statements */
    sqlite3 *db;
    sqlite3_stmt *stmt[S__COUNT];

    pthread_mutex_t audit_mu; /* audit writer connection and its statements */
    sqlite3 *adb;
    sqlite3_stmt *astmt[A__COUNT];
};

static const struct store_ops sqlite_ops;

static struct store_sqlite *S(struct store *st)
{
    return (struct store_sqlite *)st;
}

static void lock(pthread_mutex_t *m)
{
    int e = pthread_mutex_lock(m);
    if (e != 0) {
        gw_error("store: pthread_mutex_lock: %s", strerror(e));
        abort();
    }
}

static void unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}

/* --- small helpers ----------------------------------------------------------------------- */

static gw_err fail(sqlite3 *db, const char *what)
{
    gw_error("store: %s: %s", what, sqlite3_errmsg(db));
    return GW_ESTORE;
}

static void finish(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

static int bind_str(sqlite3_stmt *q, int i, const char *s)
{
    return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

static int bind_i64(sqlite3_stmt *q, int i, int64_t v)
{
    return sqlite3_bind_int64(q, i, v);
}

/* malloc'd copy of a text column, NULL for SQL NULL. */
static char *col_str(sqlite3_stmt *q, int i)
{
    if (sqlite3_column_type(q, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(q, i);
    if (!t) {
        fprintf(stderr, "openclaw: out of memory reading a store column\n");
        abort();
    }
    return gw_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(q, i));
}

static bool is_conflict(sqlite3 *db)
{
    int x = sqlite3_extended_errcode(db);
    return x == SQLITE_CONSTRAINT_PRIMARYKEY || x == SQLITE_CONSTRAINT_UNIQUE;
}

/* Steps a write statement to completion. GW_ECONFLICT on a PK/UNIQUE violation when asked. */
static gw_err step_write(sqlite3 *db, sqlite3_stmt *q, const char *what, bool conflict,
                         int *changes)
{
    if (sqlite3_step(q) == SQLITE_DONE) {
        if (changes)
            *changes = sqlite3_changes(db);
        return GW_OK;
    }
    if (conflict && is_conflict(db))
        return GW_ECONFLICT;
    return fail(db, what);
}

/* Grows a malloc'd array by doubling; *cap is in elements. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    *cap = c;
    return gw_xrealloc(p, c * elem);
}

/* --- open / close ------------------------------------------------------------------------ */

static gw_err exec_simple(sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gw_error("store: %s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return GW_ESTORE;
    }
    return GW_OK;
}

static gw_err conn_open(const char *path, const char *name, sqlite3 **out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                SQLITE_OPEN_EXRESCODE;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        gw_error("store: opening %s connection: %s", name,
                 db ? sqlite3_errmsg(db) : "out of memory");
        rc = GW_ESTORE;
        goto out;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);

    /* journal_mode answers with the mode in effect: make sure WAL was accepted. */
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        rc = fail(db, "setting journal_mode=WAL");
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(q, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        gw_error("store: %s connection: journal_mode is %s, expected wal", name,
                 mode ? mode : "unknown");
        rc = GW_ESTORE;
        goto out;
    }
    rc = exec_simple(db,
                     "PRAGMA foreign_keys=ON;"
                     "PRAGMA synchronous=FULL;"
                     "PRAGMA journal_size_limit=67108864;"
                     "PRAGMA cache_size=-16384;" /* 16 MiB: the audit indexes stay hot */
                     "PRAGMA temp_store=MEMORY;",
                     "setting connection pragmas");
out:
    sqlite3_finalize(q);
    if (rc != GW_OK) {
        sqlite3_close(db);
        db = NULL;
    }
    *out = db;
    return rc;
}

static gw_err prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) !=
            SQLITE_OK) {
            gw_error("store: preparing statement %zu: %s", i, sqlite3_errmsg(db));
            return GW_ESTORE;
        }
    }
    return GW_OK;
}

/* Creates the database file 0600 before SQLite does (SQLite gives its -wal and -shm files the
 * mode of the database file) and tightens an existing file that is group/other accessible. */
static gw_err create_db_file(const char *path, dev_t *dev, ino_t *ino)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gw_error("store: cannot create %s: %s", path, strerror(errno));
        return GW_EIO;
    }
    gw_err rc = GW_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        gw_error("store: stat %s: %s", path, strerror(errno));
        rc = GW_EIO;
        goto out;
    }
    *dev = sb.st_dev;
    *ino = sb.st_ino;
    if ((sb.st_mode & 07777) != 0600) {
        if (sb.st_size > 0)
            gw_warn("store: %s had mode %04o, setting 0600", path, (unsigned)(sb.st_mode & 07777));
        if (fchmod(fd, 0600) != 0) {
            gw_error("store: chmod %s: %s", path, strerror(errno));
            rc = GW_EIO;
        }
    }
out:
    close(fd);
    return rc;
}

static void sqlite_close(struct store *st)
{
    struct store_sqlite *s = S(st);
    for (size_t i = 0; i < A__COUNT; i++)
        sqlite3_finalize(s->astmt[i]);
    for (size_t i = 0; i < S__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->adb && sqlite3_close(s->adb) != SQLITE_OK)
        gw_error("store: closing audit connection: %s", sqlite3_errmsg(s->adb));
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        gw_error("store: closing main connection: %s", sqlite3_errmsg(s->db));
    pthread_mutex_destroy(&s->audit_mu);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

gw_err store_sqlite_open(const char *data_dir, struct store **out)
{
    *out = NULL;
    if (sqlite3_threadsafe() == 0) {
        gw_error("store: the SQLite library was built without thread support");
        return GW_ESTORE;
    }
    if (gw_mkdirs(data_dir, 0700) != GW_OK) {
        gw_error("store: cannot create data directory %s: %s", data_dir, strerror(errno));
        return GW_EIO;
    }
    struct stat sb;
    if (stat(data_dir, &sb) == 0 && (sb.st_mode & 077))
        gw_warn("store: data directory %s is accessible to group/other (mode %04o)", data_dir,
                (unsigned)(sb.st_mode & 07777));

    struct store_sqlite *s = gw_xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->audit_mu, NULL);
    s->path = gw_xasprintf("%s/%s", data_dir, DB_FILE);

    gw_err rc = create_db_file(s->path, &s->dev, &s->ino);
    if (rc != GW_OK)
        goto out;
    rc = conn_open(s->path, "main", &s->db);
    if (rc != GW_OK)
        goto out;
    rc = store_sqlite_migrate(s->db, &s->version);
    if (rc != GW_OK)
        goto out;
    rc = prepare_all(s->db, main_sql, s->stmt, S__COUNT);
    if (rc != GW_OK)
        goto out;
    rc = conn_open(s->path, "audit", &s->adb);
    if (rc != GW_OK)
        goto out;
    rc = prepare_all(s->adb, audit_sql, s->astmt, A__COUNT);
    if (rc != GW_OK)
        goto out;
    gw_info("store: opened %s (sqlite %s, schema version %d)", s->path, sqlite3_libversion(),
            s->version);
out:
    if (rc != GW_OK) {
        sqlite_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return GW_OK;
}

static gw_err sqlite_ping(struct store *st)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_PING];
    if (sqlite3_step(q) != SQLITE_ROW)
        rc = fail(s->db, "ping");
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK)
        return rc;
    struct stat sb;
    if (stat(s->path, &sb) != 0) {
        gw_error("store: database file %s: %s", s->path, strerror(errno));
        return GW_ESTORE;
    }
    if (sb.st_dev != s->dev || sb.st_ino != s->ino) {
        gw_error("store: database file %s was replaced while open", s->path);
        return GW_ESTORE;
    }
    return GW_OK;
}

static int sqlite_schema_version(struct store *st)
{
    return S(st)->version;
}

/* --- meta -------------------------------------------------------------------------------- */

static gw_err sqlite_meta_get(struct store *st, const char *key, char **value)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_META_GET];
    if (bind_str(q, 1, key) != SQLITE_OK) {
        rc = fail(s->db, "meta get");
        goto out;
    }
    int e = sqlite3_step(q);
    if (e == SQLITE_ROW)
        *value = col_str(q, 0);
    else if (e == SQLITE_DONE)
        rc = GW_ENOTFOUND;
    else
        rc = fail(s->db, "meta get");
out:
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_meta_put(struct store *st, const char *key, const char *value)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_META_PUT];
    if ((bind_str(q, 1, key) | bind_str(q, 2, value)) != SQLITE_OK)
        rc = fail(s->db, "meta put");
    else
        rc = step_write(s->db, q, "meta put", false, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

/* --- tokens ------------------------------------------------------------------------------ */

static gw_err sqlite_token_insert(struct store *st, const struct store_token *t)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_TOKEN_INSERT];
    int b = bind_str(q, 1, t->id) | bind_str(q, 2, t->tenant) | bind_str(q, 3, t->owner) |
            bind_str(q, 4, t->hash) | bind_str(q, 5, t->scopes) | bind_str(q, 6, t->created_by) |
            bind_i64(q, 7, t->created_ms) | bind_i64(q, 8, t->expires_ms) |
            bind_i64(q, 9, t->revoked_ms) | bind_i64(q, 10, t->last_used_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "token insert");
    else
        rc = step_write(s->db, q, "token insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

/* UPDATE tokens ... WHERE tenant = ?1 AND id = ?2 with ?3 = text or integer. */
static gw_err token_update(struct store_sqlite *s, enum main_stmt which, const char *what,
                           const char *tenant, const char *id, const char *text, int64_t num)
{
    gw_err rc = GW_OK;
    int changes = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[which];
    int b = bind_str(q, 1, tenant) | bind_str(q, 2, id) |
            (text ? bind_str(q, 3, text) : bind_i64(q, 3, num));
    if (b != SQLITE_OK)
        rc = fail(s->db, what);
    else
        rc = step_write(s->db, q, what, true, &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_token_set_hash(struct store *st, const char *tenant, const char *id,
                                    const char *hash)
{
    return token_update(S(st), S_TOKEN_SET_HASH, "token set_hash", tenant, id, hash, 0);
}

static gw_err sqlite_token_revoke(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    return token_update(S(st), S_TOKEN_REVOKE, "token revoke", tenant, id, NULL, ms);
}

static gw_err sqlite_token_touch(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    return token_update(S(st), S_TOKEN_TOUCH, "token touch", tenant, id, NULL, ms);
}

static gw_err sqlite_token_list(struct store *st, struct store_token **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    struct store_token *list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_TOKEN_LIST];
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        struct store_token *t = &list[len++];
        t->id = col_str(q, 0);
        t->tenant = col_str(q, 1);
        t->owner = col_str(q, 2);
        t->hash = col_str(q, 3);
        t->scopes = col_str(q, 4);
        t->created_by = col_str(q, 5);
        t->created_ms = sqlite3_column_int64(q, 6);
        t->expires_ms = sqlite3_column_int64(q, 7);
        t->revoked_ms = sqlite3_column_int64(q, 8);
        t->last_used_ms = sqlite3_column_int64(q, 9);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "token list");
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_token_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

/* --- agents ------------------------------------------------------------------------------ */

static gw_err sqlite_agent_insert(struct store *st, const struct store_agent *a)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_AGENT_INSERT];
    int b = bind_str(q, 1, a->tenant) | bind_str(q, 2, a->name) | bind_str(q, 3, a->channel) |
            bind_str(q, 4, a->memory_path) | bind_str(q, 5, a->description) |
            bind_str(q, 6, a->created_by) | bind_i64(q, 7, a->created_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "agent insert");
    else
        rc = step_write(s->db, q, "agent insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_agent_list(struct store *st, struct store_agent **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    struct store_agent *list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_AGENT_LIST];
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        struct store_agent *a = &list[len++];
        a->tenant = col_str(q, 0);
        a->name = col_str(q, 1);
        a->channel = col_str(q, 2);
        a->memory_path = col_str(q, 3);
        a->description = col_str(q, 4);
        a->created_by = col_str(q, 5);
        a->created_ms = sqlite3_column_int64(q, 6);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "agent list");
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_agent_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

/* Rare (an administrator removing an agent): prepared per call. */
static gw_err sqlite_agent_delete(struct store *st, const char *tenant, const char *name)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    sqlite3_stmt *q = NULL;
    lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "DELETE FROM agents WHERE tenant = ? AND name = ?", -1, &q,
                           NULL) != SQLITE_OK ||
        (bind_str(q, 1, tenant) | bind_str(q, 2, name)) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_DONE)
        rc = fail(s->db, "agent delete");
    else if (sqlite3_changes(s->db) == 0)
        rc = GW_ENOTFOUND;
    sqlite3_finalize(q);
    unlock(&s->mu);
    return rc;
}

/* --- messages ---------------------------------------------------------------------------- */

static gw_err sqlite_message_insert(struct store *st, const struct store_message *m)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_MESSAGE_INSERT];
    int b = bind_str(q, 1, m->id) | bind_str(q, 2, m->tenant) | bind_str(q, 3, m->channel) |
            bind_str(q, 4, m->sender) | bind_str(q, 5, m->content) |
            bind_i64(q, 6, m->created_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "message insert");
    else
        rc = step_write(s->db, q, "message insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

/* --- conversations ---------------------------------------------------------------------- */

static gw_err sqlite_conversation_open(struct store *st, const char *tenant, const char *user,
                                       const char *channel, const char *session, int64_t now_ms,
                                       char *id)
{
    struct store_sqlite *s = S(st);
    char fresh[STORE_CONV_ID_LEN], hex[25];
    gw_random_hex(hex, 12);
    snprintf(fresh, sizeof(fresh), "cnv_%s", hex);
    sqlite3_stmt *ins = NULL, *sel = NULL;
    gw_err rc = GW_OK;
    lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO conversations (id, tenant, user_id, channel, "
                           "session, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "SELECT id FROM conversations WHERE tenant = ? AND user_id = ? AND "
                           "channel = ? AND session = ?", -1, &sel, NULL) != SQLITE_OK) {
        rc = fail(s->db, "conversation open: prepare");
        goto out;
    }
    if ((bind_str(ins, 1, fresh) | bind_str(ins, 2, tenant) | bind_str(ins, 3, user) |
         bind_str(ins, 4, channel) | bind_str(ins, 5, session) | bind_i64(ins, 6, now_ms) |
         bind_i64(ins, 7, now_ms)) != SQLITE_OK ||
        sqlite3_step(ins) != SQLITE_DONE) {
        rc = fail(s->db, "conversation open: insert");
        goto out;
    }
    if ((bind_str(sel, 1, tenant) | bind_str(sel, 2, user) | bind_str(sel, 3, channel) |
         bind_str(sel, 4, session)) != SQLITE_OK || sqlite3_step(sel) != SQLITE_ROW) {
        rc = fail(s->db, "conversation open: select");
        goto out;
    }
    snprintf(id, STORE_CONV_ID_LEN, "%s", (const char *)sqlite3_column_text(sel, 0));
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_conversation_append(struct store *st, const char *id,
                                         const char *const *messages, size_t n, int64_t now_ms)
{
    struct store_sqlite *s = S(st);
    sqlite3_stmt *ins = NULL, *upd = NULL;
    gw_err rc = GW_OK;
    lock(&s->mu);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = fail(s->db, "conversation append: begin");
        unlock(&s->mu);
        return rc;
    }
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO conversation_messages (conversation_id, seq, message, "
                           "created_ms) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM "
                           "conversation_messages WHERE conversation_id = ?1), ?2, ?3)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE conversations SET updated_ms = ? WHERE id = ?", -1,
                           &upd, NULL) != SQLITE_OK) {
        rc = fail(s->db, "conversation append: prepare");
        goto out;
    }
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        if ((bind_str(ins, 1, id) | bind_str(ins, 2, messages[i]) | bind_i64(ins, 3, now_ms)) !=
                SQLITE_OK ||
            sqlite3_step(ins) != SQLITE_DONE)
            rc = fail(s->db, "conversation append: insert");
        sqlite3_reset(ins);
    }
    if (rc == GW_OK && ((bind_i64(upd, 1, now_ms) | bind_str(upd, 2, id)) != SQLITE_OK ||
                        sqlite3_step(upd) != SQLITE_DONE))
        rc = fail(s->db, "conversation append: touch");
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_exec(s->db, rc == GW_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_conversation_tail(struct store *st, const char *id, size_t max,
                                       char ***messages, size_t *n)
{
    struct store_sqlite *s = S(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    char **list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT message FROM (SELECT seq, message FROM conversation_messages "
                           "WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK ||
        (bind_str(q, 1, id) | bind_i64(q, 2, (int64_t)max)) != SQLITE_OK) {
        rc = fail(s->db, "conversation tail");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        list[len++] = col_str(q, 0);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "conversation tail");
out:
    sqlite3_finalize(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_strv_free(list, len);
        return rc;
    }
    *messages = list;
    *n = len;
    return GW_OK;
}

/* --- audit: append ----------------------------------------------------------------------- */

static gw_err sqlite_audit_append(struct store *st, const struct audit_row *rows, size_t n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->audit_mu);
    sqlite3 *db = s->adb;
    sqlite3_stmt *begin = s->astmt[A_BEGIN], *ins = s->astmt[A_INSERT];
    int e = sqlite3_step(begin);
    sqlite3_reset(begin);
    if (e != SQLITE_DONE) {
        rc = fail(db, "audit append: begin");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct audit_row *r = &rows[i];
        int b = bind_str(ins, 1, r->tenant) | bind_i64(ins, 2, r->seq) |
                bind_i64(ins, 3, r->ts_ms) | bind_str(ins, 4, r->type) |
                bind_str(ins, 5, r->outcome) | bind_str(ins, 6, r->actor) |
                bind_str(ins, 7, r->token_id) | bind_str(ins, 8, r->org_unit) |
                bind_str(ins, 9, r->team) | bind_str(ins, 10, r->resource) |
                bind_str(ins, 11, r->request_id) | bind_str(ins, 12, r->client_ip) |
                bind_str(ins, 13, r->classification) | sqlite3_bind_int(ins, 14, r->status) |
                bind_str(ins, 15, r->details) | bind_str(ins, 16, r->prev_hash) |
                bind_str(ins, 17, r->hash);
        if (b != SQLITE_OK) {
            rc = fail(db, "audit append: bind");
        } else if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = fail(db, "audit append: insert");
        }
        finish(ins);
        if (rc != GW_OK)
            goto out;
    }
    sqlite3_stmt *commit = s->astmt[A_COMMIT];
    e = sqlite3_step(commit);
    sqlite3_reset(commit);
    if (e != SQLITE_DONE)
        rc = fail(db, "audit append: commit");
out:
    if (rc != GW_OK && !sqlite3_get_autocommit(db)) {
        sqlite3_stmt *rb = s->astmt[A_ROLLBACK];
        if (sqlite3_step(rb) != SQLITE_DONE)
            fail(db, "audit append: rollback");
        sqlite3_reset(rb);
    }
    unlock(&s->audit_mu);
    return rc;
}

/* --- audit: reads ------------------------------------------------------------------------ */

static gw_err sqlite_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_AUDIT_HEAD];
    if (bind_str(q, 1, tenant) != SQLITE_OK) {
        rc = fail(s->db, "audit head");
        goto out;
    }
    int e = sqlite3_step(q);
    if (e == SQLITE_ROW) {
        *seq = sqlite3_column_int64(q, 0);
        *hash = col_str(q, 1);
    } else if (e != SQLITE_DONE) {
        rc = fail(s->db, "audit head");
    }
out:
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_audit_tenants(struct store *st, char ***out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    char **list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_AUDIT_TENANTS];
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        list[len++] = col_str(q, 0);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "audit tenants");
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        for (size_t i = 0; i < len; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

/* A SELECT on audit_events built from a filter: the SQL text holds only placeholders; the
 * values (borrowed from the filter, or owned copies for computed bounds) are bound later. */
#define QUERY_MAX_ARGS 24
#define QUERY_MAX_OWNED 8

struct query {
    char sql[2048];
    size_t len;
    bool overflow;
    int nargs;
    struct {
        const char *s; /* NULL: integer */
        int64_t i;
    } args[QUERY_MAX_ARGS];
    int nowned;
    char *owned[QUERY_MAX_OWNED];
};

static void q_sql(struct query *q, const char *text)
{
    size_t n = strlen(text);
    if (q->len + n >= sizeof(q->sql)) {
        q->overflow = true;
        return;
    }
    memcpy(q->sql + q->len, text, n + 1);
    q->len += n;
}

static void q_text(struct query *q, const char *v)
{
    if (q->nargs >= QUERY_MAX_ARGS) {
        q->overflow = true;
        return;
    }
    q->args[q->nargs].s = v;
    q->args[q->nargs].i = 0;
    q->nargs++;
}

static void q_int(struct query *q, int64_t v)
{
    if (q->nargs >= QUERY_MAX_ARGS) {
        q->overflow = true;
        return;
    }
    q->args[q->nargs].s = NULL;
    q->args[q->nargs].i = v;
    q->nargs++;
}

/* Keeps a computed string alive until q_release and binds it. */
static void q_owned(struct query *q, char *v)
{
    if (q->nowned >= QUERY_MAX_OWNED) {
        free(v);
        q->overflow = true;
        return;
    }
    q->owned[q->nowned++] = v;
    q_text(q, v);
}

static void q_release(struct query *q)
{
    for (int i = 0; i < q->nowned; i++)
        free(q->owned[i]);
    q->nowned = 0;
}

/* "AND col = ?" when v is set. */
static void q_eq(struct query *q, const char *col, const char *v)
{
    if (!v)
        return;
    q_sql(q, " AND ");
    q_sql(q, col);
    q_sql(q, " = ?");
    q_text(q, v);
}

/* Smallest byte string greater than every string starting with prefix, or NULL when none
 * exists (prefix made only of 0xff bytes). Comparison is memcmp (the BINARY collation). */
static char *prefix_successor(const char *prefix, size_t len)
{
    while (len > 0 && (unsigned char)prefix[len - 1] == 0xff)
        len--;
    if (len == 0)
        return NULL;
    char *succ = gw_xstrndup(prefix, len);
    succ[len - 1] = (char)((unsigned char)succ[len - 1] + 1);
    return succ;
}

/* The WHERE clause of f. Ranges on byte strings replace LIKE, so no wildcard in a scope or a
 * prefix can widen the match, and the indexes stay usable. after/before: seq bounds (0 = none)
 * unless force_after, which always adds seq > after (scan cursor). */
static void build_where(struct query *q, const struct audit_filter *f, int64_t after,
                        bool force_after, int64_t before)
{
    q_sql(q, " WHERE tenant = ?");
    q_text(q, f->tenant);

    switch (f->vis) {
    case AUDIT_VIS_ALL:
        break;
    case AUDIT_VIS_ORG: {
        /* org_unit == scope, or org_unit in [scope + "/", scope + "0"): '0' follows '/'. */
        size_t n = strlen(f->vis_scope);
        while (n > 0 && f->vis_scope[n - 1] == '/')
            n--;
        char *scope = gw_xstrndup(f->vis_scope, n);
        q_sql(q, " AND (org_unit = ? OR (org_unit >= ? AND org_unit < ?))");
        q_owned(q, scope);
        q_owned(q, gw_xasprintf("%s/", scope));
        q_owned(q, gw_xasprintf("%s0", scope));
        break;
    }
    case AUDIT_VIS_TEAM:
        q_eq(q, "team", f->vis_scope);
        break;
    case AUDIT_VIS_ACTOR:
        q_eq(q, "actor", f->vis_scope);
        break;
    }

    q_eq(q, "actor", f->actor);
    if (f->type) {
        size_t n = strlen(f->type);
        if (n > 0 && f->type[n - 1] == '*') {
            char *succ = prefix_successor(f->type, n - 1);
            if (n > 1) {
                q_sql(q, " AND type >= ?");
                q_owned(q, gw_xstrndup(f->type, n - 1));
            }
            if (succ) {
                q_sql(q, " AND type < ?");
                q_owned(q, succ);
            }
        } else {
            q_eq(q, "type", f->type);
        }
    }
    q_eq(q, "resource", f->resource);
    q_eq(q, "outcome", f->outcome);
    q_eq(q, "request_id", f->request_id);
    if (f->since_ms != 0) {
        q_sql(q, " AND ts_ms >= ?");
        q_int(q, f->since_ms);
    }
    if (f->until_ms != 0) {
        q_sql(q, " AND ts_ms <= ?");
        q_int(q, f->until_ms);
    }
    if (after > 0 || force_after) {
        q_sql(q, " AND seq > ?");
        q_int(q, after);
    }
    if (before > 0) {
        q_sql(q, " AND seq < ?");
        q_int(q, before);
    }
}

static void read_audit_row(sqlite3_stmt *q, struct audit_row *r)
{
    r->tenant = col_str(q, 0);
    r->seq = sqlite3_column_int64(q, 1);
    r->ts_ms = sqlite3_column_int64(q, 2);
    r->type = col_str(q, 3);
    r->outcome = col_str(q, 4);
    r->actor = col_str(q, 5);
    r->token_id = col_str(q, 6);
    r->org_unit = col_str(q, 7);
    r->team = col_str(q, 8);
    r->resource = col_str(q, 9);
    r->request_id = col_str(q, 10);
    r->client_ip = col_str(q, 11);
    r->classification = col_str(q, 12);
    r->status = sqlite3_column_int(q, 13);
    r->details = col_str(q, 14);
    r->prev_hash = col_str(q, 15);
    r->hash = col_str(q, 16);
}

/* Runs q on the main connection (caller holds mu) and collects the rows. */
static gw_err run_audit_query(struct store_sqlite *s, const struct query *q,
                              struct audit_row **out, size_t *n)
{
    if (q->overflow) {
        gw_error("store: audit query: statement too large");
        return GW_EINTERNAL;
    }
    sqlite3_stmt *stmt = NULL;
    struct audit_row *rows = NULL;
    size_t len = 0, cap = 0;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v3(s->db, q->sql, (int)q->len, 0, &stmt, NULL) != SQLITE_OK) {
        rc = fail(s->db, "audit query: prepare");
        goto out;
    }
    int b = SQLITE_OK;
    for (int i = 0; i < q->nargs; i++)
        b |= q->args[i].s ? bind_str(stmt, i + 1, q->args[i].s)
                          : bind_i64(stmt, i + 1, q->args[i].i);
    if (b != SQLITE_OK) {
        rc = fail(s->db, "audit query: bind");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(stmt)) == SQLITE_ROW) {
        rows = grow(rows, &cap, len + 1, sizeof(*rows));
        memset(&rows[len], 0, sizeof(rows[len]));
        read_audit_row(stmt, &rows[len++]);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "audit query");
out:
    sqlite3_finalize(stmt);
    if (rc != GW_OK) {
        store_audit_rows_free(rows, len);
        return rc;
    }
    *out = rows;
    *n = len;
    return GW_OK;
}

static gw_err sqlite_audit_query(struct store *st, const struct audit_filter *f, size_t limit,
                                 struct audit_row **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    struct query q = {0};
    q_sql(&q, "SELECT " AUDIT_COLS " FROM audit_events");
    build_where(&q, f, f->after_seq, false, f->before_seq);
    q_sql(&q, f->descending ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq ASC LIMIT ?");
    q_int(&q, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    lock(&s->mu);
    gw_err rc = run_audit_query(s, &q, out, n);
    unlock(&s->mu);
    q_release(&q);
    return rc;
}

static gw_err sqlite_audit_scan(struct store *st, const struct audit_filter *f,
                                store_audit_row_fn *fn, void *ctx)
{
    struct store_sqlite *s = S(st);
    int64_t cursor = f->after_seq;
    bool first = true;
    for (;;) {
        struct query q = {0};
        q_sql(&q, "SELECT " AUDIT_COLS " FROM audit_events");
        build_where(&q, f, cursor, !first, f->before_seq);
        q_sql(&q, " ORDER BY seq ASC LIMIT ?");
        q_int(&q, STORE_SCAN_PAGE);
        struct audit_row *rows = NULL;
        size_t n = 0;
        /* The mutex is held for one page only: API requests interleave with a long export. */
        lock(&s->mu);
        gw_err rc = run_audit_query(s, &q, &rows, &n);
        unlock(&s->mu);
        q_release(&q);
        if (rc != GW_OK)
            return rc;
        bool stop = false;
        for (size_t i = 0; i < n && !stop; i++)
            stop = fn(&rows[i], ctx) != 0;
        if (n > 0)
            cursor = rows[n - 1].seq;
        store_audit_rows_free(rows, n);
        if (stop || n < STORE_SCAN_PAGE)
            return GW_OK;
        first = false;
    }
}

/* --- checkpoints ------------------------------------------------------------------------- */

static gw_err sqlite_checkpoint_insert(struct store *st, const struct audit_checkpoint *c)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_CP_INSERT];
    int b = bind_str(q, 1, c->tenant) | bind_i64(q, 2, c->seq) | bind_str(q, 3, c->hash) |
            bind_i64(q, 4, c->ts_ms) | bind_str(q, 5, c->key_id) | bind_str(q, 6, c->signature);
    if (b != SQLITE_OK)
        rc = fail(s->db, "checkpoint insert");
    else
        rc = step_write(s->db, q, "checkpoint insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

static void read_checkpoint(sqlite3_stmt *q, struct audit_checkpoint *c)
{
    c->tenant = col_str(q, 0);
    c->seq = sqlite3_column_int64(q, 1);
    c->hash = col_str(q, 2);
    c->ts_ms = sqlite3_column_int64(q, 3);
    c->key_id = col_str(q, 4);
    c->signature = col_str(q, 5);
}

static gw_err sqlite_checkpoint_latest(struct store *st, const char *tenant,
                                       struct audit_checkpoint *out)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_CP_LATEST];
    if (bind_str(q, 1, tenant) != SQLITE_OK) {
        rc = fail(s->db, "checkpoint latest");
        goto out;
    }
    int e = sqlite3_step(q);
    if (e == SQLITE_ROW)
        read_checkpoint(q, out);
    else if (e == SQLITE_DONE)
        rc = GW_ENOTFOUND;
    else
        rc = fail(s->db, "checkpoint latest");
out:
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_checkpoint_list(struct store *st, const char *tenant,
                                     struct audit_checkpoint **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    struct audit_checkpoint *list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_CP_LIST];
    if (bind_str(q, 1, tenant) != SQLITE_OK) {
        rc = fail(s->db, "checkpoint list");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        read_checkpoint(q, &list[len++]);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "checkpoint list");
out:
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_checkpoint_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

/* --- policies --------------------------------------------------------------------------- */

static gw_err sqlite_policy_insert(struct store *st, const char *tenant, const char *id,
                                   int64_t version, const char *record_json)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_POLICY_INSERT];
    int b = bind_str(q, 1, tenant) | bind_str(q, 2, id) | bind_i64(q, 3, version) |
            bind_str(q, 4, record_json) | bind_i64(q, 5, gw_now_ms());
    if (b != SQLITE_OK)
        rc = fail(s->db, "policy insert");
    else
        rc = step_write(s->db, q, "policy insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_policy_list(struct store *st, struct store_policy_version **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    struct store_policy_version *list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_POLICY_LIST];
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        struct store_policy_version *v = &list[len++];
        v->tenant = col_str(q, 0);
        v->id = col_str(q, 1);
        v->version = sqlite3_column_int64(q, 2);
        v->record = col_str(q, 3);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "policy list");
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_policy_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

/* --- approval queue ---------------------------------------------------------------------- */

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static void read_approval(sqlite3_stmt *q, struct store_approval *a)
{
    a->id = col_str(q, 0);
    a->tenant = col_str(q, 1);
    a->requester = col_str(q, 2);
    a->approvers = col_str(q, 3);
    a->action = col_str(q, 4);
    a->policy = col_str(q, 5);
    a->status = col_str(q, 6);
    a->decided_by = col_str(q, 7);
    a->comment = col_str(q, 8);
    a->result = col_str(q, 9);
    a->request_id = col_str(q, 10);
    a->created_ms = sqlite3_column_int64(q, 11);
    a->expires_ms = sqlite3_column_int64(q, 12);
    a->decided_ms = sqlite3_column_int64(q, 13);
    a->executed_ms = sqlite3_column_int64(q, 14);
}

static gw_err sqlite_approval_insert(struct store *st, const struct store_approval *a)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_APR_INSERT];
    int b = bind_str(q, 1, a->id) | bind_str(q, 2, a->tenant) | bind_str(q, 3, a->requester) |
            bind_str(q, 4, a->approvers) | bind_str(q, 5, a->action) |
            bind_str(q, 6, a->policy) | bind_str(q, 7, a->status) |
            bind_str(q, 8, a->decided_by) | bind_str(q, 9, a->comment) |
            bind_str(q, 10, a->result) | bind_str(q, 11, a->request_id) |
            bind_i64(q, 12, a->created_ms) | bind_i64(q, 13, a->expires_ms) |
            bind_i64(q, 14, a->decided_ms) | bind_i64(q, 15, a->executed_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "approval insert");
    else
        rc = step_write(s->db, q, "approval insert", true, NULL);
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_approval_get(struct store *st, const char *tenant, const char *id,
                                  struct store_approval *out)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_APR_GET];
    if ((bind_str(q, 1, tenant) | bind_str(q, 2, id)) != SQLITE_OK) {
        rc = fail(s->db, "approval get");
        goto out;
    }
    int e = sqlite3_step(q);
    if (e == SQLITE_ROW)
        read_approval(q, out);
    else if (e == SQLITE_DONE)
        rc = GW_ENOTFOUND;
    else
        rc = fail(s->db, "approval get");
out:
    finish(q);
    unlock(&s->mu);
    return rc;
}

/* The CAS is the single UPDATE (atomic on its own, in every connection and process); when it
 * matched nothing, a lookup under the same lock tells a lost race (GW_ECONFLICT) from an
 * absent approval (GW_ENOTFOUND). Approvals are never deleted, so the answer cannot flip. */
static gw_err sqlite_approval_transition(struct store *st, const char *tenant, const char *id,
                                         const struct store_approval_change *ch)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    int changes = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_APR_TRANSITION];
    int b = bind_str(q, 1, tenant) | bind_str(q, 2, id) | bind_str(q, 3, ch->from) |
            bind_str(q, 4, ch->to) | bind_str(q, 5, ch->decided_by) |
            bind_str(q, 6, ch->comment) | bind_str(q, 7, ch->action) |
            bind_str(q, 8, ch->result) | bind_i64(q, 9, ch->decided_ms) |
            bind_i64(q, 10, ch->executed_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "approval transition");
    else
        rc = step_write(s->db, q, "approval transition", false, &changes);
    finish(q);
    if (rc != GW_OK || changes > 0)
        goto out;
    q = s->stmt[S_APR_EXISTS];
    if ((bind_str(q, 1, tenant) | bind_str(q, 2, id)) != SQLITE_OK) {
        rc = fail(s->db, "approval transition: lookup");
    } else {
        int e = sqlite3_step(q);
        if (e == SQLITE_ROW)
            rc = GW_ECONFLICT;
        else if (e == SQLITE_DONE)
            rc = GW_ENOTFOUND;
        else
            rc = fail(s->db, "approval transition: lookup");
    }
    finish(q);
out:
    unlock(&s->mu);
    return rc;
}

/* Steps a bound approval SELECT to completion into a malloc'd array (caller holds s->mu). */
static gw_err approval_rows(struct store_sqlite *s, sqlite3_stmt *q, const char *what,
                            struct store_approval **out, size_t *n)
{
    struct store_approval *list = NULL;
    size_t len = 0, cap = 0;
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        memset(&list[len], 0, sizeof(list[len]));
        read_approval(q, &list[len++]);
    }
    if (e != SQLITE_DONE) {
        store_approval_list_free(list, len);
        return fail(s->db, what);
    }
    *out = list;
    *n = len;
    return GW_OK;
}

static gw_err sqlite_approval_list(struct store *st, const char *tenant, const char *status,
                                   size_t limit, struct store_approval **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[status ? S_APR_LIST_STATUS : S_APR_LIST];
    int b = status ? bind_str(q, 1, tenant) | bind_str(q, 2, status) |
                         bind_i64(q, 3, limit_i64(limit))
                   : bind_str(q, 1, tenant) | bind_i64(q, 2, limit_i64(limit));
    if (b != SQLITE_OK)
        rc = fail(s->db, "approval list");
    else
        rc = approval_rows(s, q, "approval list", out, n);
    finish(q);
    unlock(&s->mu);
    return rc;
}

static gw_err sqlite_approval_due(struct store *st, int64_t now_ms, size_t limit,
                                  struct store_approval **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_APR_DUE];
    if ((bind_i64(q, 1, now_ms) | bind_i64(q, 2, limit_i64(limit))) != SQLITE_OK)
        rc = fail(s->db, "approval due");
    else
        rc = approval_rows(s, q, "approval due", out, n);
    finish(q);
    unlock(&s->mu);
    return rc;
}

/* --- usage metering and budget alerts ------------------------------------------------------ */

/* One transaction on the writer connection (shared with the audit writer). */
static gw_err sqlite_usage_append(struct store *st, const struct store_usage_row *rows, size_t n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    lock(&s->audit_mu);
    sqlite3 *db = s->adb;
    sqlite3_stmt *begin = s->astmt[A_BEGIN], *ins = s->astmt[A_USAGE_INSERT];
    int e = sqlite3_step(begin);
    sqlite3_reset(begin);
    if (e != SQLITE_DONE) {
        rc = fail(db, "usage append: begin");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_usage_row *r = &rows[i];
        int b = bind_str(ins, 1, r->tenant) | bind_str(ins, 2, r->user_id) |
                bind_str(ins, 3, r->workspace) | bind_str(ins, 4, r->agent) |
                bind_str(ins, 5, r->provider) | bind_str(ins, 6, r->model) |
                bind_i64(ins, 7, r->prompt_tokens) | bind_i64(ins, 8, r->completion_tokens) |
                sqlite3_bind_double(ins, 9, r->cost_usd) | bind_str(ins, 10, r->month) |
                bind_i64(ins, 11, r->at_ms) | bind_str(ins, 12, r->request_id);
        if (b != SQLITE_OK)
            rc = fail(db, "usage append: bind");
        else if (sqlite3_step(ins) != SQLITE_DONE)
            rc = fail(db, "usage append: insert");
        finish(ins);
        if (rc != GW_OK)
            goto out;
    }
    sqlite3_stmt *commit = s->astmt[A_COMMIT];
    e = sqlite3_step(commit);
    sqlite3_reset(commit);
    if (e != SQLITE_DONE)
        rc = fail(db, "usage append: commit");
out:
    if (rc != GW_OK && !sqlite3_get_autocommit(db)) {
        sqlite3_stmt *rb = s->astmt[A_ROLLBACK];
        if (sqlite3_step(rb) != SQLITE_DONE)
            fail(db, "usage append: rollback");
        sqlite3_reset(rb);
    }
    unlock(&s->audit_mu);
    return rc;
}

static gw_err sqlite_usage_month(struct store *st, const char *tenant, const char *month,
                                 const char *workspace, struct store_usage_sum **out, size_t *n)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    struct store_usage_sum *list = NULL;
    size_t len = 0, cap = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[tenant ? S_USAGE_MONTH : S_USAGE_MONTH_ALL];
    int b = tenant ? bind_str(q, 1, tenant) | bind_str(q, 2, month) | bind_str(q, 3, workspace)
                   : bind_str(q, 1, month) | bind_str(q, 2, workspace);
    if (b != SQLITE_OK) {
        rc = fail(s->db, "usage month");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        list = grow(list, &cap, len + 1, sizeof(*list));
        struct store_usage_sum *u = &list[len++];
        u->tenant = col_str(q, 0);
        u->workspace = col_str(q, 1);
        u->user_id = col_str(q, 2);
        u->provider = col_str(q, 3);
        u->model = col_str(q, 4);
        u->requests = sqlite3_column_int64(q, 5);
        u->prompt_tokens = sqlite3_column_int64(q, 6);
        u->completion_tokens = sqlite3_column_int64(q, 7);
        u->cost_usd = sqlite3_column_double(q, 8);
    }
    if (e != SQLITE_DONE)
        rc = fail(s->db, "usage month");
out:
    finish(q);
    unlock(&s->mu);
    if (rc != GW_OK) {
        store_usage_sums_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

static gw_err sqlite_budget_alert_insert(struct store *st, const char *tenant,
                                         const char *workspace, const char *month,
                                         const char *kind, int64_t sent_at_ms, bool *inserted)
{
    struct store_sqlite *s = S(st);
    gw_err rc = GW_OK;
    int changes = 0;
    lock(&s->mu);
    sqlite3_stmt *q = s->stmt[S_BUDGET_ALERT_INSERT];
    int b = bind_str(q, 1, tenant) | bind_str(q, 2, workspace) | bind_str(q, 3, month) |
            bind_str(q, 4, kind) | bind_i64(q, 5, sent_at_ms);
    if (b != SQLITE_OK)
        rc = fail(s->db, "budget alert insert");
    else
        rc = step_write(s->db, q, "budget alert insert", false, &changes);
    finish(q);
    unlock(&s->mu);
    *inserted = rc == GW_OK && changes > 0;
    return rc;
}

sqlite3 *store_sqlite_main_lock(struct store *st)
{
    lock(&S(st)->mu);
    return S(st)->db;
}

void store_sqlite_main_unlock(struct store *st)
{
    unlock(&S(st)->mu);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .sso = &store_sqlite_sso_ops,
    .grants = &store_sqlite_grant_ops,
    .cli = &store_sqlite_cli_ops,
    .close = sqlite_close,
    .ping = sqlite_ping,
    .schema_version = sqlite_schema_version,
    .meta_get = sqlite_meta_get,
    .meta_put = sqlite_meta_put,
    .token_insert = sqlite_token_insert,
    .token_set_hash = sqlite_token_set_hash,
    .token_revoke = sqlite_token_revoke,
    .token_touch = sqlite_token_touch,
    .token_list = sqlite_token_list,
    .agent_insert = sqlite_agent_insert,
    .agent_list = sqlite_agent_list,
    .agent_delete = sqlite_agent_delete,
    .message_insert = sqlite_message_insert,
    .audit_append = sqlite_audit_append,
    .audit_head = sqlite_audit_head,
    .audit_tenants = sqlite_audit_tenants,
    .audit_query = sqlite_audit_query,
    .audit_scan = sqlite_audit_scan,
    .checkpoint_insert = sqlite_checkpoint_insert,
    .checkpoint_latest = sqlite_checkpoint_latest,
    .checkpoint_list = sqlite_checkpoint_list,
    .policy_insert = sqlite_policy_insert,
    .policy_list = sqlite_policy_list,
    .approval_insert = sqlite_approval_insert,
    .approval_get = sqlite_approval_get,
    .approval_transition = sqlite_approval_transition,
    .approval_list = sqlite_approval_list,
    .approval_due = sqlite_approval_due,
    .conversation_open = sqlite_conversation_open,
    .conversation_append = sqlite_conversation_append,
    .conversation_tail = sqlite_conversation_tail,
    .usage_append = sqlite_usage_append,
    .usage_month = sqlite_usage_month,
    .budget_alert_insert = sqlite_budget_alert_insert,
};
