/* SPDX-License-Identifier: MIT
 * store_audit_sql.c — the SELECT of a filtered audit read, for every backend: built from a
 * struct store_audit_filter with only placeholders in the SQL text ("?" for SQLite, "$n" for
 * PostgreSQL), never values.
 *
 * Prefixes and org scopes become byte ranges instead of LIKE, so no wildcard in a scope or a
 * prefix can widen a match and the (tenant, column, seq) indexes stay usable; both backends
 * compare text bytewise (SQLite's BINARY collation, PostgreSQL's COLLATE "C" columns).
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store_int.h"

#define AUDIT_COLS STORE_COL_NAMES(STORE_AUDIT_ROW_COLUMNS)

static void q_sql(struct store_audit_sql *q, const char *text)
{
    size_t n = strlen(text);
    if (q->len + n >= sizeof(q->sql)) {
        q->overflow = true;
        return;
    }
    memcpy(q->sql + q->len, text, n + 1);
    q->len += n;
}

/* The placeholder of the next argument, then the argument. */
static void q_arg(struct store_audit_sql *q, struct store_audit_sql_arg a)
{
    if (q->nargs >= STORE_AUDIT_SQL_MAX_ARGS) {
        q->overflow = true;
        return;
    }
    q->args[q->nargs++] = a;
    char ph[16];
    if (q->dollar)
        snprintf(ph, sizeof ph, "$%zu", q->nargs);
    else
        snprintf(ph, sizeof ph, "?");
    q_sql(q, ph);
}

static void q_text(struct store_audit_sql *q, const char *v)
{
    q_arg(q, (struct store_audit_sql_arg){.text = true, .s = v});
}

/* Keeps a computed string alive until store_audit_sql_release and binds it. */
static void q_owned(struct store_audit_sql *q, char *v)
{
    if (q->nowned >= STORE_AUDIT_SQL_MAX_OWNED) {
        free(v);
        q->overflow = true;
        return;
    }
    q->owned[q->nowned++] = v;
    q_text(q, v);
}

/* "AND col = ?" when v is set. */
static void q_eq(struct store_audit_sql *q, const char *col, const char *v)
{
    if (!v)
        return;
    q_sql(q, " AND ");
    q_sql(q, col);
    q_sql(q, " = ");
    q_text(q, v);
}

/* "<cond> ?" with an integer. */
static void q_int(struct store_audit_sql *q, const char *cond, int64_t v)
{
    q_sql(q, cond);
    q_arg(q, (struct store_audit_sql_arg){.i = v});
}

/* Smallest byte string greater than every string starting with prefix, or NULL when none
 * exists (prefix made only of 0xff bytes). */
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

static void where_visible(struct store_audit_sql *q, const struct store_audit_filter *f)
{
    switch (f->vis) {
    case STORE_AUDIT_VIS_ALL:
        break;
    case STORE_AUDIT_VIS_ORG: {
        /* org_unit == scope, or org_unit in [scope + "/", scope + "0"): '0' follows '/'. */
        size_t n = strlen(f->vis_scope);
        while (n > 0 && f->vis_scope[n - 1] == '/')
            n--;
        char *scope = gw_xstrndup(f->vis_scope, n);
        q_sql(q, " AND (org_unit = ");
        q_owned(q, scope);
        q_sql(q, " OR (org_unit >= ");
        q_owned(q, gw_xasprintf("%s/", scope));
        q_sql(q, " AND org_unit < ");
        q_owned(q, gw_xasprintf("%s0", scope));
        q_sql(q, "))");
        break;
    }
    case STORE_AUDIT_VIS_TEAM:
        q_eq(q, "team", f->vis_scope);
        break;
    case STORE_AUDIT_VIS_ACTOR:
        q_eq(q, "actor", f->vis_scope);
        break;
    }
}

static void where_type(struct store_audit_sql *q, const char *type)
{
    size_t n = strlen(type);
    if (n == 0 || type[n - 1] != '*') {
        q_eq(q, "type", type);
        return;
    }
    char *succ = prefix_successor(type, n - 1);
    if (n > 1) {
        q_sql(q, " AND type >= ");
        q_owned(q, gw_xstrndup(type, n - 1));
    }
    if (succ) {
        q_sql(q, " AND type < ");
        q_owned(q, succ);
    }
}

void store_audit_sql_select(struct store_audit_sql *q, const struct store_audit_filter *f,
                            int64_t after, bool force_after, bool descending, int64_t limit)
{
    q_sql(q, "SELECT " AUDIT_COLS " FROM audit_events WHERE tenant = ");
    q_text(q, f->tenant);
    where_visible(q, f);
    q_eq(q, "actor", f->actor);
    if (f->type)
        where_type(q, f->type);
    q_eq(q, "resource", f->resource);
    q_eq(q, "outcome", f->outcome);
    q_eq(q, "request_id", f->request_id);
    if (f->since_ms != 0)
        q_int(q, " AND ts_ms >= ", f->since_ms);
    if (f->until_ms != 0)
        q_int(q, " AND ts_ms <= ", f->until_ms);
    if (after > 0 || force_after)
        q_int(q, " AND seq > ", after);
    if (f->before_seq > 0)
        q_int(q, " AND seq < ", f->before_seq);
    q_int(q, descending ? " ORDER BY seq DESC LIMIT " : " ORDER BY seq ASC LIMIT ", limit);
}

gw_err store_audit_sql_check(struct store_audit_sql *q)
{
    if (!q->overflow)
        return GW_OK;
    store_audit_sql_release(q);
    gw_error("store: audit query: statement too large");
    return GW_EINTERNAL;
}

void store_audit_sql_release(struct store_audit_sql *q)
{
    for (int i = 0; i < q->nowned; i++)
        free(q->owned[i]);
    q->nowned = 0;
}

gw_err store_audit_scan_pages(struct store *st, const struct store_audit_filter *f,
                              store_audit_row_fn *fn, void *ctx, store_audit_page_fn *page)
{
    int64_t cursor = f->after_seq;
    for (bool first = true;; first = false) {
        struct store_audit_row *rows = NULL;
        size_t n = 0;
        gw_err rc = page(st, f, cursor, !first, &rows, &n);
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
    }
}
