/* SPDX-License-Identifier: MIT
 * config_store.c — the store section: which backend keeps the gateway's state (issue 15).
 *
 * store.backend is sqlite (the default: <data_dir>/gateway.db) or postgresql, which needs
 * store.url, a libpq connection URI (postgresql://user:password@host:port/db?sslmode=...) or
 * key=value string; take the password from ${ENV} (DATABASE_URL). The URL is never quoted in
 * messages. Seed 001's audit.backend and audit.connectionString are read as store.backend and
 * store.url (config_seed.c). The section takes effect at start; a reload keeps the store open.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum { ST_BACKEND, ST_URL, ST_POOL, ST_CONNECT, ST_STATEMENT, ST__N };
const char *const cfg_keys_store[] = {
    [ST_BACKEND] = "backend",
    [ST_URL] = "url",
    [ST_POOL] = "pool_size",
    [ST_CONNECT] = "connect_timeout_s",
    [ST_STATEMENT] = "statement_timeout_ms",
    [ST__N] = NULL,
};

#define URL_MAX 4096

/* A URI of libpq's schemes, or a key=value string; no control characters. */
static bool url_ok(const char *s)
{
    if (strlen(s) > URL_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return false;
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0 ||
           (strchr(s, '=') && !strstr(s, "://"));
}

void cfg_load_store(struct cfg_loader *L, const struct cfg_node *n)
{
    static const char *const backends[] = {"sqlite", "postgresql", NULL};
    struct cfg_store *s = &L->c->store;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[ST__N];
    if (!cfg_map_slots(e, n, "store", cfg_keys_store, v, NULL))
        return;
    cfg_get_enum(e, v[ST_BACKEND], "store.backend", backends, &s->backend);
    cfg_get_uint(e, v[ST_POOL], "store.pool_size", 1, 256, &s->pool_size);
    cfg_get_uint(e, v[ST_CONNECT], "store.connect_timeout_s", 1, 300, &s->connect_timeout_s);
    cfg_get_uint(e, v[ST_STATEMENT], "store.statement_timeout_ms", 100, 3600000,
                 &s->statement_timeout_ms);
    bool pg = s->backend && strcmp(s->backend, "postgresql") == 0;
    if (!cfg_get_str(e, v[ST_URL], "store.url", &s->url))
        return;
    int line = v[ST_URL] ? v[ST_URL]->line : v[ST_BACKEND] ? v[ST_BACKEND]->line : n->line;
    if (pg && (!s->url || !*s->url))
        cfg_err(e, line,
                "store.url is required with store.backend postgresql (a libpq URI such "
                "as \"${DATABASE_URL}\")");
    else if (!pg && s->url)
        cfg_err(e, line,
                "store.url is only read with store.backend postgresql (sqlite keeps "
                "its file in the data directory)");
    else if (pg && !url_ok(s->url))
        cfg_err(e, line,
                "store.url must be a postgresql:// (or postgres://) URI or a key=value "
                "connection string, without control characters, at most %d bytes",
                URL_MAX);
}

void cfg_store_free(struct cfg_store *s)
{
    free(s->backend);
    if (s->url)
        explicit_bzero(s->url, strlen(s->url));
    free(s->url);
}
