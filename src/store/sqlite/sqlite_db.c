/* SPDX-License-Identifier: MIT
 * sqlite_db.c — the embedded SQLite backend of the store: <data_dir>/gateway.db in WAL mode,
 * its two connections, the meta table and the backend's table of domain operations.
 *
 * Two connections to the same file:
 *   - "main", guarded by its mutex, serves every API operation (tokens, agents, messages, meta,
 *     audit reads and scans, checkpoints, policy versions, the approval queue, sessions). In
 *     WAL mode its reads never block the writer.
 *   - "writer" is used only by store_audit_append, so group commits of the audit writer never
 *     queue behind API reads. Each batch is BEGIN IMMEDIATE ... COMMIT. The costs writer's
 *     batches (store_usage_append) use it too: both are background writers, and SQLite admits
 *     one writer at a time anyway.
 * Both run with synchronous=FULL: a successful commit has been fsynced (an audit event must be
 * durable before the API answers; token and agent mutations are rare, so the cost is moot).
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/sqlite/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define DB_FILE "gateway.db"

static const char PING[] = "SELECT 1";
static const char META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static const char META_PUT[] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

static const struct store_ops sqlite_ops;

/* --- open / close ------------------------------------------------------------------------ */

static gw_err conn_open(struct store_sqlite_conn *c, const char *path, const char *name)
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
        rc = store_sqlite_fail(db, "setting journal_mode=WAL");
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(q, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        gw_error("store: %s connection: journal_mode is %s, expected wal", name,
                 mode ? mode : "unknown");
        rc = GW_ESTORE;
        goto out;
    }
    rc = store_sqlite_exec(db,
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
    c->db = db;
    return rc;
}

static void conn_close(struct store_sqlite_conn *c, const char *name)
{
    for (size_t i = 0; i < STORE_SQLITE_CACHE; i++)
        sqlite3_finalize(c->cache[i].q);
    if (c->db && sqlite3_close(c->db) != SQLITE_OK)
        gw_error("store: closing %s connection: %s", name, sqlite3_errmsg(c->db));
    pthread_mutex_destroy(&c->mu);
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
    struct store_sqlite *s = store_sqlite_of(st);
    conn_close(&s->writer, "writer");
    conn_close(&s->main, "main");
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
    pthread_mutex_init(&s->main.mu, NULL);
    pthread_mutex_init(&s->writer.mu, NULL);
    s->path = gw_xasprintf("%s/%s", data_dir, DB_FILE);

    gw_err rc = create_db_file(s->path, &s->dev, &s->ino);
    if (rc != GW_OK)
        goto out;
    rc = conn_open(&s->main, s->path, "main");
    if (rc != GW_OK)
        goto out;
    rc = store_sqlite_migrate(s->main.db, &s->version);
    if (rc != GW_OK)
        goto out;
    rc = conn_open(&s->writer, s->path, "writer");
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
    struct store_sqlite *s = store_sqlite_of(st);
    int64_t one = 0;
    gw_err rc = store_sqlite_get(st, SQ_CALL(.sql = PING, .what = "ping"), &store_sqlite_i64_cols,
                                 &one);
    if (rc != GW_OK)
        return GW_ESTORE;
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
    return store_sqlite_of(st)->version;
}

/* --- meta -------------------------------------------------------------------------------- */

static gw_err sqlite_meta_get(struct store *st, const char *key, char **value)
{
    return store_sqlite_get(st, SQ_CALL(.sql = META_GET, .what = "meta get", SQ_ARGS(SQ_TEXT(key))),
                            &store_str_cols, value);
}

static gw_err sqlite_meta_put(struct store *st, const char *key, const char *value)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = META_PUT, .what = "meta put",
                                      SQ_ARGS(SQ_TEXT(key), SQ_TEXT(value))),
                              NULL);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .ping = sqlite_ping,
    .schema_version = sqlite_schema_version,
    .meta_get = sqlite_meta_get,
    .meta_put = sqlite_meta_put,
    .tokens = &store_sqlite_token_ops,
    .agents = &store_sqlite_agent_ops,
    .audit = &store_sqlite_audit_ops,
    .policies = &store_sqlite_policy_ops,
    .approvals = &store_sqlite_approval_ops,
    .usage = &store_sqlite_usage_ops,
    .sso = &store_sqlite_sso_ops,
    .cli = &store_sqlite_cli_ops,
    .grants = &store_sqlite_grant_ops,
    .models = &store_sqlite_model_ops,
    .memory = &store_sqlite_memory_ops,
};
