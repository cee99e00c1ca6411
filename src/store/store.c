/* SPDX-License-Identifier: MIT
 * store.c — the store's lifecycle and meta operations, and the row helpers every domain uses.
 *
 * Callers only ever see store.h and the domain headers. The store_<domain>.c files beside this
 * one check the arguments whose validity does not depend on the backend (required strings
 * present, output pointers set), then forward to the backend's table for that domain. The
 * backends are SQLite (src/store/sqlite/, the default) and PostgreSQL (src/store/pg/);
 * store_open_with picks one from the store section of the configuration. Releasing a row only
 * frees malloc'd strings, so it is backend independent: one walk over the row's column list
 * (store_int.h) does it for every struct.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "store/store_int.h"

/* --- rows ------------------------------------------------------------------------------- */

static const struct store_col str_col[] = {{"value", STORE_COL_TEXT, 0}};
const struct store_cols store_str_cols = {sizeof(char *), 1, str_col};

void store_row_release(const struct store_cols *c, void *row)
{
    if (!row)
        return;
    for (size_t i = 0; i < c->n; i++) {
        char **s = (char **)((char *)row + c->col[i].offset);
        if (c->col[i].type == STORE_COL_SECRET && *s)
            explicit_bzero(*s, strlen(*s));
        if (c->col[i].type == STORE_COL_TEXT || c->col[i].type == STORE_COL_SECRET)
            free(*s);
    }
    memset(row, 0, c->size);
}

void store_rows_free(const struct store_cols *c, void *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        store_row_release(c, (char *)rows + i * c->size);
    free(rows);
}

void store_strv_free(char **v, size_t n)
{
    store_rows_free(&store_str_cols, v, n);
}

void store_org_subtree(const char *ou, char *owned[3])
{
    owned[0] = owned[1] = owned[2] = NULL;
    if (!ou)
        return;
    size_t n = strlen(ou);
    while (n > 1 && ou[n - 1] == '/')
        n--;
    owned[0] = gw_xstrndup(ou, n);
    owned[1] = gw_xasprintf("%s/", owned[0]);
    owned[2] = gw_xasprintf("%s0", owned[0]);
}

/* --- lifecycle ------------------------------------------------------------------------- */

gw_err store_open(const char *data_dir, struct store **out)
{
    return store_open_with(data_dir, NULL, out);
}

gw_err store_open_with(const char *data_dir, const struct store_options *o, struct store **out)
{
    if (!out)
        return GW_EINVAL;
    *out = NULL;
    if (o && o->backend && strcmp(o->backend, "postgresql") == 0)
        return o->url && *o->url ? store_pg_open(o, out) : GW_EINVAL;
    if (o && o->backend && strcmp(o->backend, "sqlite") != 0)
        return GW_EINVAL;
    if (!data_dir || !*data_dir)
        return GW_EINVAL;
    return store_sqlite_open(data_dir, out);
}

const char *store_backend(const struct store *st)
{
    return st->ops->name;
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

gw_err store_ping(struct store *st)
{
    return st->ops->ping(st);
}

int store_schema_version(struct store *st)
{
    return st->ops->schema_version(st);
}

/* --- meta ------------------------------------------------------------------------------ */

gw_err store_meta_get(struct store *st, const char *key, char **value)
{
    if (!key || !value)
        return GW_EINVAL;
    *value = NULL;
    return st->ops->meta_get(st, key, value);
}

gw_err store_meta_put(struct store *st, const char *key, const char *value)
{
    if (!key || !value)
        return GW_EINVAL;
    return st->ops->meta_put(st, key, value);
}
