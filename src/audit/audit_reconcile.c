/* SPDX-License-Identifier: MIT
 * audit_reconcile.c — the JSON Lines file brought in step with the store, its source of truth.
 *
 * The writer writes a batch to the file only after the store committed it, so after a crash
 * the file is a prefix of the committed log, possibly with a torn last line; a failed write
 * leaves the same. Reconciling reads the file back from its end: lines after the last line the
 * store holds are cut (at most AUDIT_RECONCILE_SLACK bytes of them), then, per tenant, the last
 * event (or head) the file has is found, and the store's events after it are appended with
 * their signed heads, in seq order. A tenant the file does not know yet is anchored first with
 * its latest signed head and the tree's frontier, so the file verifies on its own from there.
 * A file that contradicts the store (an event the store holds differently, a signed head beyond
 * the store's end, more unmatched tail than a crash can leave) is not repaired: it is kept as
 * evidence under another name and a fresh file starts. Non-regular targets (a pipe) cannot be
 * read back: they get the anchors and whatever comes next.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <unistd.h>

#define PAGE 500
#define FLUSH_BYTES ((size_t)4 << 20)

const struct audit_file_tenant *audit_file_scan_find(const struct audit_file_scan *s,
                                                     const char *tenant)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->t[i].tenant, tenant) == 0)
            return &s->t[i];
    return NULL;
}

void audit_file_scan_release(struct audit_file_scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->t[i].tenant);
        store_audit_checkpoint_release(&s->t[i].head);
    }
    free(s->t);
    memset(s, 0, sizeof *s);
}

/* A parsed line, or NULL (too long, not JSON, not an object). */
static json_t *parse(const char *line, size_t len)
{
    if (!line || len == 0)
        return NULL;
    char msg[80];
    json_t *o = gw_json_parse(line, len, GW_JSON_MAX_DEPTH, msg, sizeof msg);
    if (json_is_object(o))
        return o;
    json_decref(o);
    return NULL;
}

static bool signed_head(const json_t *o, const struct audit_keyring *ring,
                        struct store_audit_checkpoint *out)
{
    if (!audit_json_is_checkpoint(o) || audit_checkpoint_from_json(o, out) != GW_OK)
        return false;
    const struct audit_keyring_key *k = audit_keyring_find(ring, out->key_id);
    if (k && audit_checkpoint_check(k->pub, out))
        return true;
    store_audit_checkpoint_release(out);
    return false;
}

gw_err audit_file_heads(struct audit_file *f, const struct audit_keyring *ring, char *const *want,
                        size_t n_want, struct audit_file_scan *out)
{
    memset(out, 0, sizeof *out);
    struct audit_tail *t = audit_tail_open(f->fd);
    if (!t)
        return GW_EIO;
    size_t missing = n_want;
    const char *line;
    size_t len;
    off_t off;
    int got;
    while ((n_want == 0 || missing > 0) && (got = audit_tail_prev(t, &line, &len, &off)) > 0) {
        json_t *o = parse(line, len);
        const char *tenant = gw_json_str(o, "tenant");
        struct store_audit_checkpoint cp;
        if (tenant && !audit_file_scan_find(out, tenant) && signed_head(o, ring, &cp)) {
            out->t = gw_xrealloc(out->t, (out->n + 1) * sizeof *out->t);
            out->t[out->n++] = (struct audit_file_tenant){gw_xstrdup(tenant), cp};
            for (size_t i = 0; i < n_want; i++)
                missing -= strcmp(want[i], tenant) == 0;
        }
        json_decref(o);
    }
    audit_tail_close(t);
    return GW_OK;
}

/* --- where the file stands ------------------------------------------------------------------ */

enum verdict { LINE_OTHER, LINE_COMMITTED, LINE_BEYOND, LINE_CONTRADICTS };

/* Whether the store holds event (or head) seq of h with this hash. */
static enum verdict against_store(struct audit *a, const struct audit_head *h, int64_t seq,
                                  const char *hash)
{
    if (seq > h->committed_seq)
        return LINE_BEYOND;
    if (seq == 0)
        return LINE_COMMITTED;
    if (seq == h->committed_seq)
        return strcmp(hash, h->committed_hash) == 0 ? LINE_COMMITTED : LINE_CONTRADICTS;
    struct store_audit_hash *v = NULL;
    size_t n = 0;
    enum verdict r = LINE_COMMITTED; /* a row missing from the store: the file keeps it */
    if (store_audit_hashes(a->st, h->tenant, seq, 1, &v, &n) == GW_OK && n == 1 &&
        strcmp(v[0].hash, hash) != 0)
        r = LINE_CONTRADICTS;
    store_audit_hashes_free(v, n);
    return r;
}

static enum verdict judge(struct audit *a, const json_t *o)
{
    const char *type = gw_json_str(o, "type");
    if (type && strcmp(type, "key") == 0 && gw_json_str(o, "key_id"))
        return LINE_COMMITTED;
    const char *tenant = gw_json_str(o, "tenant"), *hash = gw_json_str(o, "hash");
    json_t *seq = json_object_get(o, "seq");
    if (!tenant || !hash || !json_is_integer(seq))
        return LINE_OTHER;
    const struct audit_head *h = audit_head_find(a, tenant);
    bool head = audit_json_is_checkpoint(o);
    struct store_audit_checkpoint cp;
    bool valid = head && signed_head(o, &a->ring, &cp);
    if (valid)
        store_audit_checkpoint_release(&cp);
    if (!h) /* a tenant the store never had */
        return valid ? LINE_CONTRADICTS : LINE_BEYOND;
    enum verdict v = against_store(a, h, json_integer_value(seq), hash);
    if (head && (v == LINE_BEYOND ? valid : !valid))
        return LINE_CONTRADICTS; /* a signed head the store never reached, or a forged one */
    return v;
}

struct position {
    off_t keep; /* the file's committed part ends here (-1: not found yet) */
    bool contradicts;
    int64_t *last; /* per a->all[i]: the last seq the file has, -1: not found */
    size_t missing;
};

/* Reads back from the end: where the committed part ends, and each tenant's last seq. */
static gw_err locate(struct audit *a, struct audit_file *f, struct position *p)
{
    struct audit_tail *t = audit_tail_open(f->fd);
    if (!t)
        return GW_EIO;
    size_t tail_bytes = 0;
    bool any_json = false;
    const char *line;
    size_t len;
    off_t off;
    int got;
    while ((p->keep < 0 || p->missing > 0) && (got = audit_tail_prev(t, &line, &len, &off)) > 0) {
        json_t *o = parse(line, len);
        any_json = any_json || o;
        if (p->keep < 0) {
            enum verdict v = o ? judge(a, o) : LINE_OTHER;
            if (v == LINE_CONTRADICTS || tail_bytes > AUDIT_RECONCILE_SLACK) {
                p->contradicts = true;
                json_decref(o);
                break;
            }
            if (v == LINE_COMMITTED)
                p->keep = off + (off_t)len;
            else
                tail_bytes += len + 1;
        }
        const char *tenant = p->keep >= 0 ? gw_json_str(o, "tenant") : NULL;
        json_t *seq = json_object_get(o, "seq");
        for (size_t i = 0; tenant && json_is_integer(seq) && i < a->n_all; i++) {
            if (p->last[i] < 0 && strcmp(a->all[i]->tenant, tenant) == 0) {
                p->last[i] = json_integer_value(seq);
                p->missing--;
            }
        }
        json_decref(o);
    }
    audit_tail_close(t);
    if (got < 0)
        return GW_EIO;
    if (p->keep < 0 && !p->contradicts) {
        if (any_json)
            p->contradicts = true; /* JSON lines, none of them the store's */
        else
            p->keep = 0; /* empty, or nothing but a torn line */
    }
    return GW_OK;
}

/* --- what the file lacks -----------------------------------------------------------------------
 */

static gw_err flush(struct audit_file *f, struct gw_buf *b, bool force)
{
    if (b->len == 0 || (!force && b->len < FLUSH_BYTES))
        return GW_OK;
    gw_err rc = audit_file_append(f, b->data, b->len);
    gw_buf_reset(b);
    return rc;
}

static void key_lines(struct audit *a, struct gw_buf *b)
{
    struct store_audit_key *keys = NULL;
    size_t n = 0;
    if (store_audit_key_list(a->st, &keys, &n) != GW_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *prev = NULL;
        for (size_t j = 0; keys[i].prev_key_id && j < n; j++)
            if (strcmp(keys[j].key_id, keys[i].prev_key_id) == 0)
                prev = keys[j].public_key;
        json_t *o = audit_key_to_json(&keys[i], prev);
        char *s = gw_json_compact(o);
        gw_buf_puts(b, s);
        gw_buf_puts(b, "\n");
        free(s);
        json_decref(o);
    }
    store_audit_key_list_free(keys, n);
}

/* The tenant's latest stored head with the tree's frontier when the writer has it: the first
 * line of the tenant in a file. Returns the seq it anchors (0: no head). */
static int64_t anchor(struct audit *a, const struct audit_head *h, struct gw_buf *b)
{
    struct store_audit_checkpoint cp = {0};
    if (store_checkpoint_latest(a->st, h->tenant, &cp) != GW_OK)
        return 0;
    json_t *o = audit_checkpoint_to_json(&cp);
    if (!h->tainted && cp.root && h->tree.size == cp.seq)
        json_object_set_new(o, "frontier", audit_frontier_to_json(&h->tree));
    char *s = gw_json_compact(o);
    gw_buf_puts(b, s);
    gw_buf_puts(b, "\n");
    free(s);
    json_decref(o);
    int64_t seq = cp.seq;
    store_audit_checkpoint_release(&cp);
    return seq;
}

/* Appends h's events after seq `from` up to its committed end, each commit's head after its
 * last event. */
static gw_err fill(struct audit *a, struct audit_file *f, const struct audit_head *h, int64_t from,
                   struct gw_buf *b)
{
    struct store_audit_filter flt = {.tenant = h->tenant, .vis = STORE_AUDIT_VIS_ALL};
    struct store_audit_checkpoint *cps = NULL;
    size_t ncp = 0, icp = 0;
    int64_t cp_after = from;
    bool cps_done = false;
    gw_err rc = GW_OK;
    for (int64_t cursor = from; rc == GW_OK && cursor < h->committed_seq;) {
        struct store_audit_row *rows = NULL;
        size_t n = 0;
        flt.after_seq = cursor;
        rc = store_audit_query(a->st, &flt, PAGE, &rows, &n);
        for (size_t i = 0; rc == GW_OK && i < n && rows[i].seq <= h->committed_seq; i++) {
            audit_row_line(b, &rows[i]);
            cursor = rows[i].seq;
            while (!cps_done) {
                if (icp == ncp) {
                    store_checkpoint_list_free(cps, ncp);
                    cps = NULL;
                    icp = ncp = 0;
                    rc = store_checkpoint_page(a->st, h->tenant, cp_after, PAGE, &cps, &ncp);
                    cps_done = rc != GW_OK || ncp == 0;
                    if (cps_done)
                        break;
                    cp_after = cps[ncp - 1].seq;
                }
                if (cps[icp].seq > cursor)
                    break;
                if (cps[icp].seq == cursor)
                    audit_head_line(b, &cps[icp]);
                icp++;
            }
            if (rc == GW_OK)
                rc = flush(f, b, false);
        }
        if (rc == GW_OK && (n < PAGE || (n && rows[n - 1].seq >= h->committed_seq)))
            cursor = h->committed_seq; /* the end (rows cut out of the store stay missing) */
        store_audit_rows_free(rows, n);
    }
    store_checkpoint_list_free(cps, ncp);
    return rc;
}

gw_err audit_reconcile(struct audit *a)
{
    struct audit_file *f = audit_file_sink_file(a->file_sink);
    if (f->fd < 0)
        return GW_EAUDIT;
    if (a->cluster) /* the file gets the heads other nodes signed */
        audit_ring_refresh(a);
    struct position p = {.keep = -1, .last = gw_xcalloc(a->n_all + 1, sizeof *p.last)};
    for (size_t i = 0; i < a->n_all; i++) {
        p.last[i] = a->all[i]->committed_seq > 0 ? -1 : 0;
        p.missing += a->all[i]->committed_seq > 0;
    }
    gw_err rc = GW_OK;
    off_t size = f->regular ? lseek(f->fd, 0, SEEK_END) : 0;
    if (f->regular)
        rc = locate(a, f, &p);
    else
        p.keep = 0; /* a pipe: nothing to read back, anchors only */
    if (rc == GW_OK && p.contradicts) {
        rc = audit_file_set_aside(f, "diverged", audit_now_ms());
        for (size_t i = 0; i < a->n_all; i++)
            p.last[i] = a->all[i]->committed_seq > 0 ? -1 : 0;
        size = p.keep = 0;
    }
    if (rc == GW_OK && f->regular && p.keep < size) {
        char c = 0;
        if (pread(f->fd, &c, 1, p.keep) == 1 && c == '\n')
            p.keep++;
        if (p.keep < size) {
            gw_warn("audit: %s: cut %lld bytes after the last line the store holds (a torn or "
                    "uncommitted tail)",
                    f->path, (long long)(size - p.keep));
            rc = audit_file_truncate(f, p.keep);
        }
    }
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 40);
    if (rc == GW_OK && p.keep > 0 && f->regular) {
        char c = 0;
        if (pread(f->fd, &c, 1, p.keep - 1) == 1 && c != '\n')
            gw_buf_puts(&b, "\n"); /* a last line the crash left without its end */
    }
    if (rc == GW_OK && p.keep == 0)
        key_lines(a, &b);
    size_t appended = 0;
    for (size_t i = 0; rc == GW_OK && i < a->n_all; i++) {
        const struct audit_head *h = a->all[i];
        /* a tenant a fresh file does not know starts at its head; one missing from a file
         * that has lines lost them all in the crash (it would have an anchor otherwise) */
        int64_t from = p.last[i] >= 0 ? p.last[i] : p.keep == 0 ? anchor(a, h, &b) : 0;
        if (from < h->committed_seq)
            appended += (size_t)(h->committed_seq - from);
        rc = from < h->committed_seq ? fill(a, f, h, from, &b) : GW_OK;
    }
    if (rc == GW_OK)
        rc = flush(f, &b, true);
    if (rc == GW_OK)
        rc = audit_file_sync(f);
    if (rc == GW_OK && appended)
        gw_info("audit: %s: appended %zu committed events it lacked", f->path, appended);
    if (rc == GW_OK)
        a->file_dirty = false;
    gw_buf_release(&b);
    free(p.last);
    return rc;
}
