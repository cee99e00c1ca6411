/* SPDX-License-Identifier: MIT
 * pg_db.c — the PostgreSQL backend of the store: open (pool, migrations), close, ping, the
 * meta table and the backend's table of domain operations.
 *
 * For a cluster: every node opens the same database (store.url), so what SQLite keeps in one
 * file is shared by all of them. Durability is PostgreSQL's: a commit returns once the server
 * has flushed its WAL (synchronous_commit on, the default), the counterpart of SQLite's
 * synchronous=FULL. The URL may hold a password: it is kept for reconnecting and never logged.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/pg/pg_int.h"

static const char PING[] = "SELECT 1";
static const char META_GET[] = "SELECT value FROM meta WHERE key = $1";
static const char META_PUT[] = "INSERT INTO meta (key, value) VALUES ($1, $2) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

static const struct store_ops pg_ops;

static void pg_close(struct store *st)
{
    struct store_pg *s = store_pg_of(st);
    for (size_t i = 0; i < s->n; i++) {
        PQfinish(s->conns[i].pg);
        free(s->conns[i].pending);
    }
    free(s->conns);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    if (s->url)
        explicit_bzero(s->url, strlen(s->url));
    free(s->url);
    free(s);
}

static int or_default(int v, int def)
{
    return v > 0 ? v : def;
}

gw_err store_pg_open(const struct store_options *o, struct store **out)
{
    *out = NULL;
    struct store_pg *s = gw_xcalloc(1, sizeof(*s));
    s->base.ops = &pg_ops;
    s->url = gw_xstrdup(o->url);
    s->n = (size_t)or_default(o->pool_size, STORE_DEFAULT_POOL_SIZE);
    s->connect_timeout_s = or_default(o->connect_timeout_s, STORE_DEFAULT_CONNECT_TIMEOUT_S);
    s->statement_timeout_ms = or_default(o->statement_timeout_ms,
                                         STORE_DEFAULT_STATEMENT_TIMEOUT_MS);
    s->acquire_timeout_ms = or_default(o->acquire_timeout_ms, s->statement_timeout_ms);
    s->conns = gw_xcalloc(s->n, sizeof(*s->conns));
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->freed, &ca);
    pthread_condattr_destroy(&ca);

    gw_err rc = GW_OK;
    struct store_pg_conn *c = &s->conns[0];
    c->in_use = true;
    c->pg = store_pg_connect(s, "first", false);
    if (!c->pg)
        rc = GW_ESTORE;
    if (rc == GW_OK)
        rc = store_pg_migrate(c, &s->version);
    c->in_use = false;
    if (rc == GW_OK) {
        const char *host = PQhost(c->pg);
        gw_info("store: opened PostgreSQL database %s on %s (server %d, schema version %d, "
                "pool of %zu)",
                PQdb(c->pg), !host || *host == '/' ? "a Unix socket" : host, PQserverVersion(c->pg),
                s->version, s->n);
    }
    if (rc != GW_OK) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return GW_OK;
}

static gw_err pg_ping(struct store *st)
{
    int64_t one = 0;
    gw_err rc = store_pg_get(st, PG_CALL(.sql = PING, .what = "ping"), &store_pg_i64_cols, &one);
    return rc == GW_OK && one == 1 ? GW_OK : GW_ESTORE;
}

static int pg_schema_version(struct store *st)
{
    return store_pg_of(st)->version;
}

static gw_err pg_meta_get(struct store *st, const char *key, char **value)
{
    return store_pg_get(st, PG_CALL(.sql = META_GET, .what = "meta get", PG_ARGS(PG_TEXT(key))),
                        &store_str_cols, value);
}

static gw_err pg_meta_put(struct store *st, const char *key, const char *value)
{
    return store_pg_write(st,
                          PG_CALL(.sql = META_PUT, .what = "meta put",
                                  PG_ARGS(PG_TEXT(key), PG_TEXT(value))),
                          NULL);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .ping = pg_ping,
    .schema_version = pg_schema_version,
    .meta_get = pg_meta_get,
    .meta_put = pg_meta_put,
    .tokens = &store_pg_token_ops,
    .agents = &store_pg_agent_ops,
    .audit = &store_pg_audit_ops,
    .policies = &store_pg_policy_ops,
    .approvals = &store_pg_approval_ops,
    .usage = &store_pg_usage_ops,
    .sso = &store_pg_sso_ops,
    .cli = &store_pg_cli_ops,
    .grants = &store_pg_grant_ops,
    .models = &store_pg_model_ops,
    .memory = &store_pg_memory_ops,
    .lease = &store_pg_lease_ops,
};
