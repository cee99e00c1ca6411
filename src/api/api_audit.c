/* SPDX-License-Identifier: MIT
 * api_audit.c — querying, exporting and verifying the audit trail.
 *
 * Visibility comes from the caller's role, never from a parameter: enterprise_admin (or an
 * ownerless "*" token) sees the tenant, org_admin its org subtree, team_lead its team, anyone
 * else its own events. Exports stream page by page from the store with no row cap; a full
 * JSONL export (whole tenant, no filter) carries the stored signed checkpoints after the rows
 * they cover, so it verifies offline like the log file. A filtered export has gaps in the chain:
 * its rows keep their hashes, but only a full export can be verified as a chain.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "audit/audit.h"
#include "gov/gov_enforce.h"
#include "base/buf.h"
#include "base/util.h"
#include "store/store.h"

#include <errno.h>

#define PAGE 500

static void visibility(const struct auth_principal *p, struct store_audit_filter *f)
{
    /* an ownerless token only reports enterprise_admin when it holds "*" (auth_tokens.c) */
    if (strcmp(p->role, "enterprise_admin") == 0) {
        f->vis = STORE_AUDIT_VIS_ALL;
    } else if (strcmp(p->role, "org_admin") == 0 && p->org_unit) {
        f->vis = STORE_AUDIT_VIS_ORG;
        f->vis_scope = p->org_unit;
    } else if (strcmp(p->role, "team_lead") == 0 && p->team) {
        f->vis = STORE_AUDIT_VIS_TEAM;
        f->vis_scope = p->team;
    } else {
        f->vis = STORE_AUDIT_VIS_ACTOR;
        f->vis_scope = p->actor;
    }
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Fills the filter from the query string; answers 400 and returns false on a bad value. */
static bool parse_filter(struct api_call *c, struct store_audit_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->tenant = c->gc.p->tenant;
    visibility(c->gc.p, f);
    f->actor = http_query(c->r, "user");
    f->type = http_query(c->r, "event");
    f->resource = http_query(c->r, "channel");
    f->outcome = http_query(c->r, "outcome");
    f->request_id = http_query(c->r, "request_id");
    const char *names[] = {"since", "until"};
    int64_t *dst[] = {&f->since_ms, &f->until_ms};
    for (size_t i = 0; i < 2; i++) {
        const char *v = http_query(c->r, names[i]);
        if (v && !gw_time_parse(v, dst[i])) {
            http_respond_error(c->r, GW_EINVAL, "%s must be an RFC 3339 time, e.g. 2025-01-10T09:00:00Z", names[i]);
            return false;
        }
    }
    const char *strs[] = {f->actor, f->type, f->resource, f->outcome, f->request_id};
    for (size_t i = 0; i < GW_ARRAY_LEN(strs); i++) {
        if (strs[i] && strlen(strs[i]) > 256) {
            http_respond_error(c->r, GW_EINVAL, "filter values are limited to 256 characters");
            return false;
        }
    }
    return true;
}

void api_audit_query(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    struct store_audit_filter f;
    if (!parse_filter(c, &f))
        return;
    int64_t limit = 100;
    const char *l = http_query(c->r, "limit"), *cur = http_query(c->r, "cursor");
    if (l && !parse_int(l, 1, 1000, &limit)) {
        http_respond_error(c->r, GW_EINVAL, "limit must be an integer from 1 to 1000");
        return;
    }
    if (cur && !parse_int(cur, 1, INT64_MAX, &f.before_seq)) {
        http_respond_error(c->r, GW_EINVAL, "invalid cursor");
        return;
    }
    f.descending = true;
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    if (store_audit_query(c->g->store, &f, (size_t)limit, &rows, &n) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "the audit trail could not be read");
        return;
    }
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(events, audit_row_to_json(&rows[i]));
    json_t *next = n == (size_t)limit && n > 0
                       ? json_sprintf("%lld", (long long)rows[n - 1].seq) : json_null();
    store_audit_rows_free(rows, n);
    c->gc.audit.details = json_pack("{s:I}", "returned", (json_int_t)n);
    http_respond_json(c->r, 200, json_pack("{s:o,s:o}", "events", events, "next_cursor", next));
}

/* --- streamed export ----------------------------------------------------------------------- */

struct export_ctx {
    struct store *st;
    struct store_audit_filter f;
    char *strings[8];      /* owned copies of the filter strings */
    bool csv;
    bool header_sent, done;
    struct store_audit_checkpoint *cps;  /* stored checkpoints, interleaved in full JSONL exports */
    size_t n_cps, next_cp;
    struct gw_buf out;
    size_t out_pos;
};

static char *own(struct export_ctx *x, size_t i, const char *s)
{
    x->strings[i] = s ? gw_xstrdup(s) : NULL;
    return x->strings[i];
}

static void export_free(void *arg)
{
    struct export_ctx *x = arg;
    for (size_t i = 0; i < GW_ARRAY_LEN(x->strings); i++)
        free(x->strings[i]);
    gw_buf_release(&x->out);
    store_checkpoint_list_free(x->cps, x->n_cps);
    free(x);
}

static gw_err export_refill(struct export_ctx *x)
{
    gw_buf_reset(&x->out);
    x->out_pos = 0;
    if (x->csv && !x->header_sent) {
        x->header_sent = true;
        return gw_buf_puts(&x->out, audit_csv_header());
    }
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    gw_err rc = store_audit_query(x->st, &x->f, PAGE, &rows, &n);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        char *line;
        if (x->csv) {
            line = audit_row_to_csv(&rows[i]);
        } else {
            json_t *j = audit_row_to_json(&rows[i]);
            line = gw_json_compact(j);
            json_decref(j);
        }
        rc = gw_buf_puts(&x->out, line);
        if (rc == GW_OK && !x->csv)
            rc = gw_buf_puts(&x->out, "\n");
        free(line);
        /* a checkpoint signed when this row was written follows it, so the export can be
         * verified offline, signatures included */
        while (rc == GW_OK && x->next_cp < x->n_cps && x->cps[x->next_cp].seq <= rows[i].seq) {
            if (x->cps[x->next_cp].seq == rows[i].seq) {
                json_t *j = audit_checkpoint_to_json(&x->cps[x->next_cp]);
                char *cl = gw_json_compact(j);
                json_decref(j);
                rc = gw_buf_puts(&x->out, cl);
                if (rc == GW_OK)
                    rc = gw_buf_puts(&x->out, "\n");
                free(cl);
            }
            x->next_cp++;
        }
    }
    if (n > 0)
        x->f.after_seq = rows[n - 1].seq;
    if (n < PAGE)
        x->done = true;
    store_audit_rows_free(rows, n);
    return rc;
}

static ssize_t export_fill(void *arg, char *out, size_t cap)
{
    struct export_ctx *x = arg;
    while (x->out_pos >= x->out.len) {
        if (x->done && x->header_sent)
            return 0;
        if (export_refill(x) != GW_OK)
            return -1;
        if (x->out.len == 0 && x->done)
            return 0;
    }
    size_t n = GW_MIN(cap, x->out.len - x->out_pos);
    memcpy(out, x->out.data + x->out_pos, n);
    x->out_pos += n;
    return (ssize_t)n;
}

void api_audit_export(struct api_call *c)
{
    if (!api_require(c, "audit:export"))
        return;
    struct store_audit_filter f;
    if (!parse_filter(c, &f))
        return;
    const char *fmt = http_query(c->r, "format");
    if (!fmt)
        fmt = c->gc.cfg->audit_export_format && strcmp(c->gc.cfg->audit_export_format, "csv") == 0
                  ? "csv" : "jsonl";
    bool csv = strcmp(fmt, "csv") == 0;
    if (!csv && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "json") != 0) {
        http_respond_error(c->r, GW_EINVAL, "format must be jsonl or csv");
        return;
    }
    const char *dest = http_query(c->r, "destination");
    if (dest && strcmp(dest, "internal") != 0 && strcmp(dest, "external") != 0) {
        http_respond_error(c->r, GW_EINVAL, "destination must be internal or external");
        return;
    }
    /* a data export: the data policy decides; with content the trail carries what users and
     * models wrote, so it counts as confidential, metadata alone as internal */
    char msg[POL_REASON_MAX + 100];
    int level = c->gc.cfg->audit_log_content ? POL_LEVEL_CONFIDENTIAL : POL_LEVEL_INTERNAL;
    gw_err rc = gov_export_check(&c->gc, "audit", level, dest && !strcmp(dest, "external"),
                                 msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        return;
    }
    /* the export itself is audited first, so it appears in what it exports when unfiltered */
    json_t *details = json_pack("{s:s,s:s?,s:s?,s:s?}", "format", csv ? "csv" : "jsonl",
                                "user", f.actor, "event", f.type, "channel", f.resource);
    if (!api_audit_sync(c, "audit.exported", NULL, 200, details))
        return;
    struct export_ctx *x = gw_xcalloc(1, sizeof(*x));
    x->st = c->g->store;
    x->csv = csv;
    x->header_sent = !csv;
    x->f = f;
    x->f.tenant = own(x, 0, f.tenant);
    x->f.vis_scope = own(x, 1, f.vis_scope);
    x->f.actor = own(x, 2, f.actor);
    x->f.type = own(x, 3, f.type);
    x->f.resource = own(x, 4, f.resource);
    x->f.outcome = own(x, 5, f.outcome);
    x->f.request_id = own(x, 6, f.request_id);
    x->f.descending = false;
    gw_buf_init(&x->out, 64 * 1024 * 1024);
    bool full = f.vis == STORE_AUDIT_VIS_ALL && !f.actor && !f.type && !f.resource && !f.outcome &&
                !f.request_id && !f.since_ms && !f.until_ms;
    if (!csv && full && store_checkpoint_list(x->st, f.tenant, &x->cps, &x->n_cps) != GW_OK) {
        x->cps = NULL;
        x->n_cps = 0;
    }
    const char *hdrs[] = {csv ? "Content-Disposition: attachment; filename=\"audit-export.csv\""
                              : "Content-Disposition: attachment; filename=\"audit-export.jsonl\"",
                          NULL};
    http_respond_stream(c->r, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                        export_fill, export_free, x, hdrs);
}

void api_audit_verify(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    struct audit_verify_result res;
    if (audit_verify_store(c->g->audit, c->gc.p->tenant, &res) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "the audit trail could not be read");
        return;
    }
    json_t *body = json_pack("{s:b,s:o,s:I,s:I,s:I,s:s}", "ok", res.ok, "first_bad_seq",
                             res.ok ? json_null() : json_integer(res.first_bad_seq),
                             "events_checked", (json_int_t)res.events_checked,
                             "checkpoints_checked", (json_int_t)res.checkpoints_checked,
                             "last_seq", (json_int_t)res.last_seq, "tenant", c->gc.p->tenant);
    if (!res.ok)
        json_object_set_new(body, "reason", json_string(res.reason));
    c->gc.audit.details = json_pack("{s:b,s:I}", "ok", res.ok, "first_bad_seq",
                                 (json_int_t)res.first_bad_seq);
    http_respond_json(c->r, 200, body);
}

void api_audit_head(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    struct store_audit_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    if (audit_head(c->g->audit, c->gc.p->tenant, &cp) != GW_OK) {
        http_respond_error(c->r, GW_EAUDIT, "the audit head could not be signed");
        return;
    }
    http_respond_json(c->r, 200, audit_checkpoint_to_json(&cp));
    store_audit_checkpoint_release(&cp);
}
