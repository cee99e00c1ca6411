/* SPDX-License-Identifier: MIT
 * pg_models.c — run-time model providers, models and agents' models (schema 12) in
 * PostgreSQL, with sqlite_models.c's semantics. A provider is inserted with its first models,
 * and deleted with all of its models, in one transaction, so no model outlives its run-time
 * provider on any node. An agent's model is an upsert on its key. Read once at start; changes
 * are rare.
 */
#include "base/prelude.h"
#include "store/pg/pg_int.h"

#define PROVIDER_COLS STORE_COL_NAMES(STORE_MODEL_PROVIDER_COLUMNS)
#define ENTRY_COLS STORE_COL_NAMES(STORE_MODEL_ENTRY_COLUMNS)
#define AGENT_COLS STORE_COL_NAMES(STORE_AGENT_MODEL_COLUMNS)

static const char PROVIDER_LIST[] = "SELECT " PROVIDER_COLS " FROM model_providers "
                                    "ORDER BY tenant, name";
static const char PROVIDER_INSERT[] = "INSERT INTO model_providers (" PROVIDER_COLS ") "
                                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/* $1..$9 are the row's columns in table order */
static const char PROVIDER_UPDATE[] = "UPDATE model_providers SET spec = $3, api_key = $4, "
                                      "enabled = $5, updated_by = $8, updated_ms = $9 "
                                      "WHERE tenant = $1 AND name = $2";
static const char PROVIDER_DELETE[] = "DELETE FROM model_providers WHERE tenant = $1 AND "
                                      "name = $2";
static const char PROVIDER_MODELS_DELETE[] = "DELETE FROM model_entries WHERE tenant = $1 AND "
                                             "provider = $2";
static const char ENTRY_LIST[] = "SELECT " ENTRY_COLS " FROM model_entries "
                                 "ORDER BY tenant, provider, name";
static const char ENTRY_INSERT[] = "INSERT INTO model_entries (" ENTRY_COLS ") "
                                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char ENTRY_UPDATE[] = "UPDATE model_entries SET upstream = $4, input_per_mtok = $5, "
                                   "output_per_mtok = $6, enabled = $7, updated_by = $10, "
                                   "updated_ms = $11 "
                                   "WHERE tenant = $1 AND provider = $2 AND name = $3";
static const char ENTRY_DELETE[] = "DELETE FROM model_entries WHERE tenant = $1 AND "
                                   "provider = $2 AND name = $3";
static const char AGENT_LIST[] = "SELECT " AGENT_COLS " FROM agent_models ORDER BY tenant, agent";
/* SQLite's INSERT OR REPLACE: every column but the key replaced */
static const char AGENT_PUT[] = "INSERT INTO agent_models (" AGENT_COLS ") "
                                "VALUES ($1, $2, $3, $4, $5) "
                                "ON CONFLICT (tenant, agent) DO UPDATE SET model = excluded.model, "
                                "set_by = excluded.set_by, set_ms = excluded.set_ms";
static const char AGENT_DELETE[] = "DELETE FROM agent_models WHERE tenant = $1 AND agent = $2";

/* A write that must change one row: GW_ENOTFOUND when it changed none. */
static gw_err write_one(struct store *st, const struct store_pg_call *call)
{
    int changes = 0;
    gw_err rc = store_pg_write(st, call, &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

static gw_err provider_list(struct store *st, struct store_model_provider **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = PROVIDER_LIST, .what = "model provider list"),
                         &store_model_provider_cols, out, n);
}

static gw_err provider_insert(struct store *st, const struct store_model_provider *p,
                              const struct store_model_entry *models, size_t n)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "model provider insert");
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_begin(c, "model provider insert: begin");
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = PROVIDER_INSERT, .what = "model provider insert",
                                  .cols = &store_model_provider_cols, .row = p, .conflict = true),
                          NULL);
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_pg_run(c,
                          PG_CALL(.sql = ENTRY_INSERT, .what = "model insert",
                                  .cols = &store_model_entry_cols, .row = &models[i],
                                  .conflict = true),
                          NULL);
    rc = store_pg_end(c, rc, "model provider insert: commit");
    store_pg_release(s, c);
    return rc;
}

static gw_err provider_update(struct store *st, const struct store_model_provider *p)
{
    return write_one(st, PG_CALL(.sql = PROVIDER_UPDATE, .what = "model provider update",
                                 .cols = &store_model_provider_cols, .row = p));
}

static gw_err provider_delete(struct store *st, const char *tenant, const char *name)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "model provider delete");
    if (!c)
        return GW_ESTORE;
    int changes = 0;
    gw_err rc = store_pg_begin(c, "model provider delete: begin");
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = PROVIDER_DELETE, .what = "model provider delete",
                                  PG_ARGS(PG_TEXT(tenant), PG_TEXT(name))),
                          &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = PROVIDER_MODELS_DELETE,
                                  .what = "model provider delete: models",
                                  PG_ARGS(PG_TEXT(tenant), PG_TEXT(name))),
                          NULL);
    rc = store_pg_end(c, rc, "model provider delete: commit");
    store_pg_release(s, c);
    return rc;
}

static gw_err entry_list(struct store *st, struct store_model_entry **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = ENTRY_LIST, .what = "model list"),
                         &store_model_entry_cols, out, n);
}

static gw_err entry_insert(struct store *st, const struct store_model_entry *m)
{
    return store_pg_insert(st, ENTRY_INSERT, "model insert", &store_model_entry_cols, m);
}

static gw_err entry_update(struct store *st, const struct store_model_entry *m)
{
    return write_one(st, PG_CALL(.sql = ENTRY_UPDATE, .what = "model update",
                                 .cols = &store_model_entry_cols, .row = m));
}

static gw_err entry_delete(struct store *st, const char *tenant, const char *provider,
                           const char *name)
{
    return write_one(st, PG_CALL(.sql = ENTRY_DELETE, .what = "model delete",
                                 PG_ARGS(PG_TEXT(tenant), PG_TEXT(provider), PG_TEXT(name))));
}

static gw_err agent_list(struct store *st, struct store_agent_model **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = AGENT_LIST, .what = "agent model list"),
                         &store_agent_model_cols, out, n);
}

static gw_err agent_put(struct store *st, const struct store_agent_model *a)
{
    return store_pg_write(st,
                          PG_CALL(.sql = AGENT_PUT, .what = "agent model put",
                                  .cols = &store_agent_model_cols, .row = a),
                          NULL);
}

static gw_err agent_delete(struct store *st, const char *tenant, const char *agent)
{
    return write_one(st, PG_CALL(.sql = AGENT_DELETE, .what = "agent model delete",
                                 PG_ARGS(PG_TEXT(tenant), PG_TEXT(agent))));
}

const struct store_model_ops store_pg_model_ops = {
    .provider_list = provider_list,
    .provider_insert = provider_insert,
    .provider_update = provider_update,
    .provider_delete = provider_delete,
    .entry_list = entry_list,
    .entry_insert = entry_insert,
    .entry_update = entry_update,
    .entry_delete = entry_delete,
    .agent_list = agent_list,
    .agent_put = agent_put,
    .agent_delete = agent_delete,
};
