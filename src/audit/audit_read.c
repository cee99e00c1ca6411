/* SPDX-License-Identifier: MIT
 * audit_read.c — reading the committed trail for people: filtered pages (newest first), one
 * event, the latest signed head, and streamed exports (JSON Lines with the signing keys and
 * the signed heads interleaved, or CSV), straight from the store, page by page so that no
 * export holds the trail in memory.
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
        .tenant = q->tenant,
        .vis = store_vis[q->vis],
        .vis_scope = q->scope,
        .actor = q->actor,
        .type = q->type,
        .resource = q->resource,
        .outcome = q->outcome,
        .request_id = q->request_id,
        .since_ms = q->since_ms,
        .until_ms = q->until_ms,
    };
}

gw_err audit_page(struct audit *a, const struct audit_query *q, int64_t before_seq, size_t limit,
                  json_t **events, int64_t *next)
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

gw_err audit_event_json(struct audit *a, const struct audit_query *q, int64_t seq, json_t **out)
{
    struct store_audit_filter f;
    filter_of(q, &f);
    f.after_seq = seq - 1;
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    *out = NULL;
    gw_err rc = seq < 1 ? GW_EINVAL : store_audit_query(audit_store(a), &f, 1, &rows, &n);
    if (rc == GW_OK && (n != 1 || rows[0].seq != seq))
        rc = GW_ENOTFOUND;
    if (rc == GW_OK)
        *out = audit_row_to_json(&rows[0]);
    store_audit_rows_free(rows, n);
    return rc;
}

gw_err audit_head_json(struct audit *a, const char *tenant, json_t **out)
{
    struct store_audit_checkpoint cp = {0};
    *out = NULL;
    gw_err rc = audit_head(a, tenant, &cp);
    struct audit_frontier *f = gw_xmalloc(sizeof *f);
    struct audit_store_tree src = {audit_store(a), tenant};
    if (rc == GW_OK) {
        *out = audit_checkpoint_to_json(&cp);
        /* with the frontier a kept head can start a later offline check (docs/AUDIT.md) */
        if (cp.root && audit_frontier_build(f, cp.seq, audit_store_subtree, &src) == GW_OK)
            json_object_set_new(*out, "frontier", audit_frontier_to_json(f));
    }
    free(f);
    store_audit_checkpoint_release(&cp);
    return rc;
}

/* --- streamed export --------------------------------------------------------------------- */

struct audit_export {
    struct store *st;
    struct store_audit_filter f;
    char *strings[7]; /* owned copies of the query's strings */
    bool csv, header_sent, done;
    bool heads;                         /* full JSON Lines exports: keys and heads */
    struct store_audit_checkpoint *cps; /* a page of heads */
    size_t n_cps, next_cp;
    int64_t cps_after;
    bool cps_done;
    struct gw_buf out;
    size_t out_pos;
    struct audit *keys; /* the key lines go first, then NULL */
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
    x->heads = !x->csv && whole_tenant(q);
    x->cps_done = !x->heads;
    x->keys = a;
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

/* The heads that follow row seq (their page read as needed). */
static gw_err heads_after(struct audit_export *x, int64_t seq)
{
    gw_err rc = GW_OK;
    while (rc == GW_OK && !x->cps_done) {
        if (x->next_cp == x->n_cps) {
            store_checkpoint_list_free(x->cps, x->n_cps);
            x->cps = NULL;
            x->next_cp = x->n_cps = 0;
            rc = store_checkpoint_page(x->st, x->f.tenant, x->cps_after, EXPORT_PAGE, &x->cps,
                                       &x->n_cps);
            x->cps_done = rc != GW_OK || x->n_cps == 0;
            if (x->cps_done)
                break;
            x->cps_after = x->cps[x->n_cps - 1].seq;
        }
        if (x->cps[x->next_cp].seq > seq)
            break;
        if (x->cps[x->next_cp].seq == seq)
            rc = put_json_line(&x->out, audit_checkpoint_to_json(&x->cps[x->next_cp]));
        x->next_cp++;
    }
    return rc == GW_OK ? GW_OK : GW_ESTORE;
}

static gw_err refill(struct audit_export *x)
{
    gw_buf_reset(&x->out);
    x->out_pos = 0;
    if (!x->header_sent) {
        x->header_sent = true;
        return gw_buf_puts(&x->out, audit_csv_header());
    }
    if (x->heads && x->keys) { /* the keys first: an old key's holder can follow rotations */
        json_t *keys = NULL;
        gw_err rc = audit_keys_json(x->keys, &keys);
        x->keys = NULL;
        size_t i;
        json_t *k;
        json_array_foreach(keys, i, k) {
            json_object_set_new(k, "type", json_string("key"));
            if (rc == GW_OK)
                rc = put_json_line(&x->out, json_incref(k));
        }
        json_decref(keys);
        return rc;
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
        /* the head signed with this row follows it, so the export verifies offline */
        if (rc == GW_OK)
            rc = heads_after(x, rows[i].seq);
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
