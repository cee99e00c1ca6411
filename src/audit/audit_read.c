/* SPDX-License-Identifier: MIT
 * audit_read.c — reading the committed trail for people: filtered pages (newest first) and
 * streamed exports (JSON Lines with the signed checkpoints interleaved, or CSV), straight from
 * the store, page by page so that no export holds the trail in memory.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/mem.h"

#define EXPORT_PAGE 500
#define EXPORT_BUFFER ((size_t)64 << 20) /* one page of rows, however large their details */

static const enum store_audit_visibility store_vis[] = {
    [AUDIT_SEE_ALL] = STORE_AUDIT_VIS_ALL,
    [AUDIT_SEE_ORG] = STORE_AUDIT_VIS_ORG,
    [AUDIT_SEE_TEAM] = STORE_AUDIT_VIS_TEAM,
    [AUDIT_SEE_OWN] = STORE_AUDIT_VIS_ACTOR,
};

static void filter_of(const struct audit_query *q, struct store_audit_filter *f)
{
    *f = (struct store_audit_filter){
        .tenant = q->tenant, .vis = store_vis[q->vis], .vis_scope = q->scope,
        .actor = q->actor, .type = q->type, .resource = q->resource, .outcome = q->outcome,
        .request_id = q->request_id, .since_ms = q->since_ms, .until_ms = q->until_ms,
    };
}

gw_err audit_page(struct audit *a, const struct audit_query *q, int64_t before_seq,
                  size_t limit, json_t **events, int64_t *next)
{
    struct store_audit_filter f;
    filter_of(q, &f);
    f.before_seq = before_seq;
    f.descending = true;
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    *events = NULL;
    *next = 0;
    gw_err rc = store_audit_query(audit_store(a), &f, limit, &rows, &n);
    if (rc != GW_OK)
        return rc;
    *events = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(*events, audit_row_to_json(&rows[i]));
    if (n == limit && n > 0)
        *next = rows[n - 1].seq;
    store_audit_rows_free(rows, n);
    return GW_OK;
}

gw_err audit_head_json(struct audit *a, const char *tenant, json_t **out)
{
    struct store_audit_checkpoint cp = {0};
    gw_err rc = audit_head(a, tenant, &cp);
    *out = rc == GW_OK ? audit_checkpoint_to_json(&cp) : NULL;
    store_audit_checkpoint_release(&cp);
    return rc;
}

/* --- streamed export --------------------------------------------------------------------- */

struct audit_export {
    struct store *st;
    struct store_audit_filter f;
    char *strings[7];                    /* owned copies of the query's strings */
    bool csv, header_sent, done;
    struct store_audit_checkpoint *cps;  /* full JSON Lines exports: interleaved */
    size_t n_cps, next_cp;
    struct gw_buf out;
    size_t out_pos;
};

static const char *own(struct audit_export *x, size_t i, const char *s)
{
    x->strings[i] = s ? gw_xstrdup(s) : NULL;
    return x->strings[i];
}

static bool whole_tenant(const struct audit_query *q)
{
    return q->vis == AUDIT_SEE_ALL && !q->actor && !q->type && !q->resource && !q->outcome &&
           !q->request_id && !q->since_ms && !q->until_ms;
}

struct audit_export *audit_export_open(struct audit *a, const struct audit_query *q,
                                       enum audit_export_format fmt)
{
    struct audit_export *x = gw_xcalloc(1, sizeof(*x));
    x->st = audit_store(a);
    x->csv = fmt == AUDIT_EXPORT_CSV;
    x->header_sent = !x->csv;
    struct audit_query copy = *q;
    copy.tenant = own(x, 0, q->tenant);
    copy.scope = own(x, 1, q->scope);
    copy.actor = own(x, 2, q->actor);
    copy.type = own(x, 3, q->type);
    copy.resource = own(x, 4, q->resource);
    copy.outcome = own(x, 5, q->outcome);
    copy.request_id = own(x, 6, q->request_id);
    filter_of(&copy, &x->f);
    gw_buf_init(&x->out, EXPORT_BUFFER);
    /* without its checkpoints a full export still verifies as a chain, unsigned */
    if (!x->csv && whole_tenant(q) &&
        store_checkpoint_list(x->st, x->f.tenant, &x->cps, &x->n_cps) != GW_OK) {
        x->cps = NULL;
        x->n_cps = 0;
    }
    return x;
}

void audit_export_close(struct audit_export *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < GW_ARRAY_LEN(x->strings); i++)
        free(x->strings[i]);
    gw_buf_release(&x->out);
    store_checkpoint_list_free(x->cps, x->n_cps);
    free(x);
}

static gw_err put_json_line(struct gw_buf *b, json_t *j)
{
    char *line = gw_json_compact(j);
    json_decref(j);
    gw_err rc = gw_buf_puts(b, line);
    if (rc == GW_OK)
        rc = gw_buf_puts(b, "\n");
    free(line);
    return rc;
}

static gw_err refill(struct audit_export *x)
{
    gw_buf_reset(&x->out);
    x->out_pos = 0;
    if (!x->header_sent) {
        x->header_sent = true;
        return gw_buf_puts(&x->out, audit_csv_header());
    }
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    gw_err rc = store_audit_query(x->st, &x->f, EXPORT_PAGE, &rows, &n);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        if (x->csv) {
            char *line = audit_row_to_csv(&rows[i]);
            rc = gw_buf_puts(&x->out, line);
            free(line);
            continue;
        }
        rc = put_json_line(&x->out, audit_row_to_json(&rows[i]));
        /* a checkpoint signed when this row was written follows it, so the export can be
         * verified offline, signatures included */
        for (; rc == GW_OK && x->next_cp < x->n_cps && x->cps[x->next_cp].seq <= rows[i].seq;
             x->next_cp++)
            if (x->cps[x->next_cp].seq == rows[i].seq)
                rc = put_json_line(&x->out, audit_checkpoint_to_json(&x->cps[x->next_cp]));
    }
    if (n > 0)
        x->f.after_seq = rows[n - 1].seq;
    if (n < EXPORT_PAGE)
        x->done = true;
    store_audit_rows_free(rows, n);
    return rc;
}

ssize_t audit_export_read(struct audit_export *x, char *out, size_t cap)
{
    while (x->out_pos >= x->out.len) {
        if (x->done && x->header_sent)
            return 0;
        if (refill(x) != GW_OK)
            return -1;
        if (x->out.len == 0 && x->done)
            return 0;
    }
    size_t n = GW_MIN(cap, x->out.len - x->out_pos);
    memcpy(out, x->out.data + x->out_pos, n);
    x->out_pos += n;
    return (ssize_t)n;
}
