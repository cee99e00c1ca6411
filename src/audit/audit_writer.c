/* SPDX-License-Identifier: MIT
 * audit_writer.c — struct audit: the event queue, the writer thread and its group commit.
 *
 * Submitters filter details in their own thread and post an owned copy of the event to the
 * writer, a gw_worker (base/worker.h) with a bounded queue (AUDIT_QUEUE_CAP). It hands up to
 * AUDIT_BATCH_MAX events to commit(), which first makes sure the log file is in step with the
 * store (reconciling it when a write failed or a fresh file started), then assigns per-tenant
 * seq numbers, links each event to its tenant's chain and appends it to the tenant's Merkle
 * tree, signs one head per tenant the batch extends, and commits rows, heads and completed
 * tree nodes in one store transaction. That commit is the acknowledgement: the events are
 * removed from the queue and the synchronous submitters woken with GW_OK. Only then are the
 * lines written to the file, so the file never holds an event the store does not; if that
 * write fails the file is reconciled before the next batch, and batches are refused while it
 * cannot be. A batch the store refuses leaves the heads as they were (and reloads them from the
 * store before their next use, so no seq is ever reused): synchronous submitters get GW_EAUDIT,
 * asynchronous events stay at the head of the queue and are retried after
 * AUDIT_RETRY_BACKOFF_MS. In cluster mode (several nodes on one PostgreSQL store) a batch refused
 * because another node extended one of its tenants is chained again at once after the reloaded
 * head, and the file is then reconciled from the store. Between batches the writer reopens the file
 * when reconfigured and rotates the signing key when asked. The writer thread alone touches the
 * sinks, the working heads and the signing key; everything shared with other threads is under
 * a->mu.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"

#include <stdarg.h>
#include <stdatomic.h>

#define FIELD_MAX 16384 /* longest string field kept (keeps a row far below AUDIT_MAX_LINE) */
#define FAILS_MAX 64    /* integrity failures remembered */
#define RECONCILE_RETRY_MS 1000

struct item {
    struct store_audit_row row; /* strings point into text[] (details: malloc'd canonical text) */
    struct audit_canon canon;   /* canonical text prepared by the submitter */
    char prev[65], hash[65];
    char text[];
};

struct audit_undo {
    struct audit_head *h;
    int64_t seq;
    char hash[65];
    struct audit_frontier tree;
};

static _Atomic int64_t clock_override;

int64_t audit_now_ms(void)
{
    int64_t o = atomic_load(&clock_override);
    return o > 0 ? o : gw_now_ms();
}

void audit_test_set_clock(int64_t ms)
{
    atomic_store(&clock_override, ms);
}

struct store *audit_store(const struct audit *a)
{
    return a->st;
}

const char *audit_public_key(const struct audit *a)
{
    return atomic_load(&((struct audit *)a)->pubkey)->public_key;
}

const char *audit_key_id(const struct audit *a)
{
    return atomic_load(&((struct audit *)a)->pubkey)->key_id;
}

/* Publishes the signing key's public half (kept until close: borrowed pointers stay valid). */
static void publish_key(struct audit *a)
{
    struct audit_pubkey *p = gw_xcalloc(1, sizeof *p);
    memcpy(p->public_key, a->keys.public_key, sizeof p->public_key);
    memcpy(p->key_id, a->keys.key_id, sizeof p->key_id);
    pthread_mutex_lock(&a->mu);
    p->older = atomic_load(&a->pubkey);
    audit_keyring_add(&a->ring, p->public_key);
    atomic_store(&a->pubkey, p);
    pthread_mutex_unlock(&a->mu);
}

void audit_trusted_keys(struct audit *a, struct audit_keyring *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->ring.n; i++)
        audit_keyring_add(out, a->ring.k[i].public_key);
    pthread_mutex_unlock(&a->mu);
    if (a->cluster) /* and the keys the other nodes published */
        audit_keyring_published(out, a->st);
}

int64_t audit_writing_end(struct audit *a, const char *tenant)
{
    pthread_mutex_lock(&a->mu);
    struct audit_head *h = audit_head_find(a, tenant);
    int64_t end = h ? GW_MAX(h->committed_seq, h->writing) : 0;
    pthread_mutex_unlock(&a->mu);
    return end;
}

void audit_committed_head(struct audit *a, const char *tenant, int64_t *seq, char hash[65],
                          int64_t *expected)
{
    pthread_mutex_lock(&a->mu);
    struct audit_head *h = audit_head_find(a, tenant);
    *seq = h ? h->committed_seq : 0;
    memcpy(hash, h ? h->committed_hash : AUDIT_ZERO_HASH, 65);
    if (expected)
        *expected = h ? GW_MAX(h->expected, h->committed_seq) : 0;
    pthread_mutex_unlock(&a->mu);
}

/* --- integrity failures -------------------------------------------------------------------- */

void audit_integrity_fail(struct audit *a, const char *tenant, int64_t first_bad, const char *fmt,
                          ...)
{
    struct audit_integrity_failure f = {.first_bad_seq = first_bad};
    snprintf(f.tenant, sizeof f.tenant, "%s", tenant);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.reason, sizeof f.reason, fmt, ap);
    va_end(ap);
    gw_error("audit: INTEGRITY FAILURE of tenant %s at event %lld: %s; no head will be signed "
             "over its trail (verify reports it; see docs/AUDIT.md)",
             f.tenant, (long long)first_bad, f.reason);
    pthread_mutex_lock(&a->mu);
    if (a->n_fails < FAILS_MAX) {
        a->fails = gw_xrealloc(a->fails, (a->n_fails + 1) * sizeof *a->fails);
        a->fails[a->n_fails++] = f;
    }
    audit_alert_fn *fn = a->alert;
    void *arg = a->alert_arg;
    bool running = a->writer != NULL;
    pthread_mutex_unlock(&a->mu);
    if (fn)
        fn(arg, &f);
    if (running) { /* found after start: recorded now (at start: once the writer runs) */
        json_t *d = json_pack("{s:I,s:s}", "first_bad_seq", (json_int_t)first_bad, "reason",
                              f.reason);
        struct audit_event ev = {.type = "audit.integrity_failure",
                                 .outcome = "failed",
                                 .actor = "gateway",
                                 .resource = tenant,
                                 .details = d};
        audit_record(a, tenant, &ev);
        json_decref(d);
    }
}

size_t audit_integrity_failures(struct audit *a, struct audit_integrity_failure *out, size_t cap)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->n_fails;
    if (out && n && cap) /* a->fails is NULL while n is 0 */
        memcpy(out, a->fails, GW_MIN(n, cap) * sizeof *out);
    pthread_mutex_unlock(&a->mu);
    return n;
}

void audit_set_alert(struct audit *a, audit_alert_fn *fn, void *arg)
{
    pthread_mutex_lock(&a->mu);
    a->alert = fn;
    a->alert_arg = arg;
    size_t n = a->n_fails;
    struct audit_integrity_failure *copy = gw_xcalloc(n + 1, sizeof *copy);
    if (n)
        memcpy(copy, a->fails, n * sizeof *copy);
    pthread_mutex_unlock(&a->mu);
    for (size_t i = 0; fn && i < n; i++)
        fn(arg, &copy[i]);
    free(copy);
}

/* --- group commit (writer thread) ------------------------------------------------------------ */

static void undo_note(struct audit *a, struct audit_head *h)
{
    for (size_t i = 0; i < a->n_undo; i++)
        if (a->undo[i].h == h)
            return;
    if (a->n_undo == a->cap_undo) {
        a->cap_undo = a->cap_undo ? 2 * a->cap_undo : 8;
        a->undo = gw_xrealloc(a->undo, a->cap_undo * sizeof *a->undo);
    }
    struct audit_undo *u = &a->undo[a->n_undo++];
    u->h = h;
    u->seq = h->seq;
    memcpy(u->hash, h->hash, sizeof u->hash);
    memcpy(&u->tree, &h->tree, sizeof u->tree);
}

static void undo_apply(struct audit *a)
{
    for (size_t i = 0; i < a->n_undo; i++) {
        struct audit_undo *u = &a->undo[i];
        u->h->seq = u->seq;
        memcpy(u->h->hash, u->hash, sizeof u->hash);
        memcpy(&u->h->tree, &u->tree, sizeof u->tree);
        u->h->stale = true; /* the store decides what was kept */
    }
}

static void batch_release(struct audit *a)
{
    for (size_t i = 0; i < a->n_heads; i++)
        store_audit_checkpoint_release(&a->heads[i]);
    a->n_heads = 0;
    audit_nodes_clear(&a->nodes);
}

/* The head (tenant, loaded and current) an event extends. */
static struct audit_head *head_for(struct audit *a, const char *tenant)
{
    struct audit_head *h = audit_head_find(a, tenant);
    if (!h && audit_head_load(a, tenant, NULL, &h) != GW_OK)
        return NULL;
    int64_t before = h->seq;
    if (h->stale && audit_head_reload(a, h) != GW_OK)
        return NULL;
    a->head_moved = a->head_moved || h->seq != before; /* another node's commits: not in the file */
    return h;
}

/* Chains the batch into the heads, its trees and its lines. */
static gw_err chain(struct audit *a, void *const *items, size_t n, bool lines)
{
    for (size_t i = 0; i < n; i++) {
        struct item *it = items[i];
        struct audit_head *h = head_for(a, it->row.tenant);
        if (!h)
            return GW_EAUDIT;
        undo_note(a, h);
        it->row.seq = ++h->seq;
        memcpy(it->prev, h->hash, sizeof it->prev);
        it->row.prev_hash = it->prev;
        /* Hash, and the line: the canonical text with "hash" appended as the last member. */
        audit_canon_finish(&it->canon, it->prev, it->row.seq, it->row.ts_ms, a->md, it->hash,
                           lines ? &a->lines : NULL);
        it->row.hash = it->hash;
        memcpy(h->hash, it->hash, sizeof h->hash);
        a->rows[i] = it->row;
        if (h->tainted)
            continue;
        unsigned char leaf[AUDIT_HASH_LEN];
        audit_leaf_of_hex(it->hash, leaf);
        a->nodes.tenant = h->tenant;
        audit_frontier_push(&h->tree, leaf, audit_nodes_keep, &a->nodes);
    }
    return GW_OK;
}

/* A signed head for every untainted tenant the batch extends, and their lines. */
static gw_err sign_heads(struct audit *a, bool lines)
{
    int64_t now = audit_now_ms();
    for (size_t i = 0; i < a->n_undo; i++) {
        struct audit_head *h = a->undo[i].h;
        if (h->tainted)
            continue;
        unsigned char root[AUDIT_HASH_LEN];
        char hex[2 * AUDIT_HASH_LEN + 1];
        audit_frontier_root(&h->tree, root);
        gw_hex(root, sizeof root, hex);
        struct store_audit_checkpoint *c = &a->heads[a->n_heads];
        if (audit_checkpoint_sign(&a->keys, h->tenant, h->seq, h->hash, hex, now, c) != GW_OK)
            return GW_EAUDIT;
        a->n_heads++;
        if (lines)
            audit_head_line(&a->lines, c);
    }
    return GW_OK;
}

/* Tells verifiers how far the store may reach while the commit is under way. */
static void writing(struct audit *a, bool on)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n_undo; i++)
        a->undo[i].h->writing = on ? a->undo[i].h->seq : 0;
    pthread_mutex_unlock(&a->mu);
}

/* Chains items[0..n) and commits them to the store; GW_ECONFLICT: a head was stale (the store
 * holds another node's events after it), nothing was written. */
static gw_err try_commit(struct audit *a, void *const *items, size_t n, bool file)
{
    gw_err rc = chain(a, items, n, file);
    if (rc == GW_OK)
        rc = sign_heads(a, file);
    a->n_past_end = 0; /* a tainted chain may have lost its tail in the store: go on after it */
    for (size_t i = 0; i < a->n_undo; i++)
        if (a->undo[i].h->tainted)
            a->past_end[a->n_past_end++] = a->undo[i].h->tenant;
    struct audit_batch b = {.rows = a->rows,
                            .n = n,
                            .past_end = a->past_end,
                            .n_past_end = a->n_past_end,
                            .heads = a->heads,
                            .n_heads = a->n_heads,
                            .nodes = a->nodes.v,
                            .n_nodes = a->nodes.n};
    writing(a, true);
    if (rc == GW_OK)
        rc = a->store_sink->ops->append(a->store_sink, &b);
    writing(a, false);
    return rc;
}

/* Chains items[0..n), commits them to the store and writes them to the file. GW_OK: committed
 * (the file may still have failed: then a->file_dirty); else nothing was kept and *failed says
 * where it failed. */
static gw_err commit(struct audit *a, void *const *items, size_t n,
                     const struct audit_sink **failed)
{
    a->n_undo = 0;
    batch_release(a);
    gw_buf_reset(&a->lines);
    bool file = audit_file_sink_enabled(a->file_sink);
    if (file) {
        bool fresh = false;
        *failed = a->file_sink;
        if (a->file_sink->ops->ready(a->file_sink, audit_now_ms(), &fresh) != GW_OK)
            return GW_EAUDIT;
        a->file_dirty = a->file_dirty || fresh;
        if (a->file_dirty && audit_reconcile(a) != GW_OK)
            return GW_EAUDIT;
    }
    *failed = a->store_sink;
    gw_err rc = GW_ECONFLICT;
    a->head_moved = false;
    for (int attempt = 0; rc == GW_ECONFLICT && attempt < AUDIT_STALE_RETRIES; attempt++) {
        if (attempt > 0) { /* a stale head (cluster mode): chain the batch again after it */
            undo_apply(a);
            a->n_undo = 0;
            batch_release(a);
            gw_buf_reset(&a->lines);
        }
        rc = try_commit(a, items, n, file);
        if (!a->cluster)
            break;
    }
    if (rc != GW_OK) {
        undo_apply(a);
        return GW_EAUDIT;
    }
    struct audit_batch b = {.lines = a->lines.data, .len = a->lines.len};
    if (file && a->head_moved) {
        a->file_behind = true; /* reconciled from the store, other nodes' events included */
    } else if (file && a->file_sink->ops->append(a->file_sink, &b) != GW_OK) {
        gw_error("audit: cannot write to the audit log (%s): the events are committed in the "
                 "store; the file is brought up to date before the next batch",
                 a->file_sink->ops->error(a->file_sink));
        a->file_dirty = true;
    }
    return GW_OK;
}

static void item_free(struct item *it)
{
    free(it->canon.text);
    free(it->row.details);
    free(it);
}

/* Writer thread, a->mu not held: applies the wanted file options. */
static gw_err reopen(struct audit *a, const struct audit_file_cfg *c)
{
    gw_err rc = audit_file_sink_configure(a->file_sink, c->path, c->rotate_daily, c->retain_days,
                                          audit_now_ms());
    a->file_dirty = c->path != NULL;
    if (rc == GW_OK && c->path)
        rc = audit_reconcile(a);
    if (rc != GW_OK)
        gw_error("audit: cannot open the audit log %s: %s", c->path,
                 a->file_sink->ops->error(a->file_sink));
    return rc;
}

/* Writer thread: a new signing key (audit_rotate_key). */
static gw_err rotate(struct audit *a)
{
    struct store_audit_key rec;
    EVP_PKEY *next = NULL;
    char old_pub[AUDIT_PUBKEY_B64_LEN + 1];
    memcpy(old_pub, a->keys.public_key, sizeof old_pub);
    gw_err rc = audit_keys_prepare(&a->keys, &rec, &next);
    if (rc == GW_OK && (rc = store_audit_key_insert(a->st, &rec)) != GW_OK)
        EVP_PKEY_free(next); /* <pem>.next stays; the next start removes it: the store lacks it */
    if (rc == GW_OK)
        rc = audit_keys_switch(&a->keys, next);
    if (rc == GW_OK) {
        publish_key(a);
        gw_info("audit: signing key %s replaces %s (both stay published)", rec.key_id,
                rec.prev_key_id);
        if (audit_file_sink_enabled(a->file_sink)) {
            json_t *line = audit_key_to_json(&rec, old_pub);
            char *s = gw_json_compact(line);
            struct gw_buf b;
            gw_buf_init(&b, (size_t)1 << 20);
            gw_buf_puts(&b, s);
            gw_buf_puts(&b, "\n");
            struct audit_batch kb = {.lines = b.data, .len = b.len};
            if (a->file_sink->ops->append(a->file_sink, &kb) != GW_OK)
                a->file_dirty = true;
            gw_buf_release(&b);
            free(s);
            json_decref(line);
        }
    }
    store_audit_key_release(&rec);
    return rc;
}

/* --- the writer's callbacks (base/worker.h) ------------------------------------------------- */

static gw_err writer_process(void *ctx, void *const *items, size_t n)
{
    struct audit *a = ctx;
    const struct audit_sink *failed = NULL;
    gw_err rc = commit(a, items, n, &failed);
    pthread_mutex_lock(&a->mu);
    if (rc == GW_OK) {
        for (size_t i = 0; i < a->n_undo; i++) {
            struct audit_head *h = a->undo[i].h;
            h->committed_seq = h->seq;
            memcpy(h->committed_hash, h->hash, sizeof h->hash);
        }
    }
    if (a->file_behind) { /* now that the committed ends include the batch */
        pthread_mutex_unlock(&a->mu);
        a->file_behind = false;
        a->file_dirty = a->file_dirty || audit_reconcile(a) != GW_OK;
        pthread_mutex_lock(&a->mu);
    }
    a->healthy = rc == GW_OK && !a->file_dirty;
    pthread_mutex_unlock(&a->mu);
    if (rc != GW_OK && !a->fail_logged) {
        gw_error("audit: cannot write audit events (%s: %s); mutating requests fail with 503 "
                 "until it recovers",
                 failed->ops->name, failed->ops->error(failed));
        a->fail_logged = true;
    } else if (rc == GW_OK && a->fail_logged && !a->file_dirty) {
        gw_info("audit: audit trail writable again");
        a->fail_logged = false;
    }
    pthread_mutex_lock(&a->fwd_mu);
    for (size_t f = 0; rc == GW_OK && f < a->n_fwd; f++)
        for (size_t i = 0; i < a->n_undo; i++)
            a->fwd[f].ops->committed(a->fwd[f].arg, a->undo[i].h->tenant, a->undo[i].h->seq);
    pthread_mutex_unlock(&a->fwd_mu);
    batch_release(a);
    return rc;
}

static void writer_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    item_free(item);
}

/* Under the queue lock: timestamps follow queue order. */
static void writer_stamp(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    ((struct item *)item)->row.ts_ms = audit_now_ms();
}

/* After each batch and when kicked: a wanted reopen or key rotation; a file left behind by a
 * failed write is brought up to date even when no event comes. */
static int64_t writer_tick(void *ctx)
{
    struct audit *a = ctx;
    pthread_mutex_lock(&a->mu);
    if (a->reopen_gen != a->reopen_done_gen) {
        uint64_t gen = a->reopen_gen;
        struct audit_file_cfg c = {a->cfg.path ? gw_xstrdup(a->cfg.path) : NULL,
                                   a->cfg.rotate_daily, a->cfg.retain_days};
        pthread_mutex_unlock(&a->mu);
        gw_err rc = reopen(a, &c);
        free(c.path);
        pthread_mutex_lock(&a->mu);
        a->reopen_done_gen = gen;
        a->reopen_rc = rc;
        a->healthy = rc == GW_OK;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        gw_worker_retry_now(a->writer); /* queued events: against the new sink right away */
        pthread_mutex_lock(&a->mu);
    }
    if (a->rotate_gen != a->rotate_done_gen) {
        uint64_t gen = a->rotate_gen;
        pthread_mutex_unlock(&a->mu);
        gw_err rc = rotate(a);
        pthread_mutex_lock(&a->mu);
        a->rotate_done_gen = gen;
        a->rotate_rc = rc;
        pthread_cond_broadcast(&a->cv);
    }
    bool dirty = a->file_dirty && audit_file_sink_enabled(a->file_sink);
    pthread_mutex_unlock(&a->mu);
    if (!dirty)
        return 0;
    gw_err rc = audit_reconcile(a);
    pthread_mutex_lock(&a->mu);
    a->healthy = rc == GW_OK;
    pthread_mutex_unlock(&a->mu);
    return rc == GW_OK ? 0 : gw_mono_ns() + (int64_t)RECONCILE_RETRY_MS * 1000000;
}

static const struct gw_worker_ops writer_ops = {
    .name = "audit-writer",
    .what = "audit events",
    .queue_cap = AUDIT_QUEUE_CAP,
    .batch_max = AUDIT_BATCH_MAX,
    .linger_ms = AUDIT_LINGER_MS,
    .linger_items = AUDIT_LINGER_EVENTS,
    .full_wait_ms = AUDIT_FULL_WAIT_MS,
    .retry_ms = AUDIT_RETRY_BACKOFF_MS,
    .process = writer_process,
    .release = writer_release,
    .stamp = writer_stamp,
    .tick = writer_tick,
};

/* --- lifecycle ---------------------------------------------------------------------------------
 */

static void cfg_from_options(struct audit_file_cfg *c, const struct audit_options *o)
{
    free(c->path);
    c->path = o->enabled && o->log_path && *o->log_path ? gw_xstrdup(o->log_path) : NULL;
    c->rotate_daily = o->rotate_daily;
    c->retain_days = o->retain_days;
}

#define META_SIGNED "audit.signed_heads"

/* Every tenant's head, checked against the store's signed heads and the file's. */
static gw_err load_heads(struct audit *a)
{
    char *mark = NULL;
    a->adopt = store_meta_get(a->st, META_SIGNED, &mark) == GW_ENOTFOUND;
    free(mark);
    char **tenants = NULL;
    size_t nt = 0;
    gw_err rc = store_audit_tenants(a->st, &tenants, &nt);
    struct audit_file_scan scan = {0};
    struct audit_file *f = audit_file_sink_file(a->file_sink);
    if (rc == GW_OK && f->fd >= 0 && f->regular &&
        audit_file_heads(f, &a->ring, tenants, nt, &scan) != GW_OK)
        gw_warn("audit: cannot read the audit log %s back: %s", f->path, strerror(f->err));
    for (size_t i = 0; rc == GW_OK && i < nt; i++) {
        struct audit_head *h;
        rc = audit_head_load(a, tenants[i], audit_file_scan_find(&scan, tenants[i]), &h);
    }
    for (size_t i = 0; rc == GW_OK && i < scan.n; i++) { /* in the file, gone from the store */
        struct audit_head *h;
        if (!audit_head_find(a, scan.t[i].tenant))
            rc = audit_head_load(a, scan.t[i].tenant, &scan.t[i], &h);
    }
    if (rc == GW_OK && a->adopt)
        rc = store_meta_put(a->st, META_SIGNED, "1");
    a->adopt = false;
    audit_file_scan_release(&scan);
    store_strv_free(tenants, nt);
    return rc;
}

gw_err audit_open(struct store *st, const struct audit_options *o, struct audit **out)
{
    *out = NULL;
    if (!st || !o || !o->data_dir)
        return GW_EINVAL;
    struct audit *a = gw_xcalloc(1, sizeof *a);
    a->st = st;
    a->cluster = o->cluster;
    a->node_id = o->cluster && o->node_id ? gw_xstrdup(o->node_id) : NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->fwd_mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    pthread_rwlock_init(&a->pol_lock, NULL);
    gw_mkdirs(o->data_dir, 0700);
    gw_err rc = audit_keys_load(&a->keys, o->data_dir, st);
    if (rc == GW_OK && a->node_id)
        a->keys.node_id = gw_xstrdup(a->node_id);
    if (rc == GW_OK)
        rc = audit_keys_sync(&a->keys, st, &a->ring);
    if (rc == GW_OK && a->cluster)
        rc = audit_keyring_published(&a->ring, st);
    if (rc != GW_OK) {
        gw_error("audit: cannot load the signing keys (%s)", gw_err_name(rc));
        audit_keys_release(&a->keys);
        audit_keyring_release(&a->ring);
        free(a->node_id);
        pthread_rwlock_destroy(&a->pol_lock);
        pthread_mutex_destroy(&a->mu);
        pthread_mutex_destroy(&a->fwd_mu);
        pthread_cond_destroy(&a->cv);
        free(a);
        return rc;
    }
    publish_key(a);
    audit_policy_init(&a->pol, o, a->keys.pii_key);
    a->rows = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->rows);
    a->heads = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->heads);
    a->past_end = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->past_end);
    gw_buf_init(&a->lines, (size_t)1 << 40);
    a->md = EVP_MD_CTX_new();
    if (!a->md)
        abort();
    a->healthy = true;
    a->file_sink = audit_file_sink_new();
    a->store_sink = audit_store_sink_new(st);
    cfg_from_options(&a->cfg, o);

    /* A file that cannot be opened does not stop the gateway: the sink is unhealthy and every
     * batch fails (503 for mutations) until it can be opened again. */
    bool file_ok = audit_file_sink_configure(a->file_sink, a->cfg.path, a->cfg.rotate_daily,
                                             a->cfg.retain_days, audit_now_ms()) == GW_OK;
    if (!file_ok)
        gw_error("audit: cannot open the audit log %s: %s", a->cfg.path,
                 a->file_sink->ops->error(a->file_sink));
    rc = load_heads(a);
    if (rc != GW_OK) {
        gw_error("audit: cannot read the chain heads from the store (%s)", gw_err_name(rc));
        audit_close(a);
        return rc;
    }
    a->file_dirty = a->cfg.path != NULL;
    if (!file_ok || (a->file_dirty && audit_reconcile(a) != GW_OK))
        a->healthy = false;
    rc = gw_worker_start(&writer_ops, a, &a->writer);
    if (rc != GW_OK) {
        audit_close(a);
        return rc;
    }
    struct audit_integrity_failure fails[FAILS_MAX];
    size_t nf = GW_MIN(audit_integrity_failures(a, fails, FAILS_MAX), (size_t)FAILS_MAX);
    for (size_t i = 0; i < nf; i++) {
        json_t *d = json_pack("{s:I,s:s}", "first_bad_seq", (json_int_t)fails[i].first_bad_seq,
                              "reason", fails[i].reason);
        struct audit_event ev = {.type = "audit.integrity_failure",
                                 .outcome = "failed",
                                 .actor = "gateway",
                                 .resource = fails[i].tenant,
                                 .details = d};
        audit_record(a, fails[i].tenant, &ev);
        json_decref(d);
    }
    *out = a;
    return GW_OK;
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->closed = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->writer) /* writes what is queued; then the writer's state is ours */
        gw_worker_stop(a->writer);
    a->file_sink->ops->close(a->file_sink);
    a->store_sink->ops->close(a->store_sink);
    batch_release(a);
    audit_heads_free(a);
    free(a->rows);
    free(a->heads);
    free(a->past_end);
    free(a->nodes.v);
    free(a->undo);
    free(a->fails);
    gw_buf_release(&a->lines);
    EVP_MD_CTX_free(a->md);
    free(a->cfg.path);
    audit_policy_release(&a->pol);
    pthread_rwlock_destroy(&a->pol_lock);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->fwd_mu);
    pthread_cond_destroy(&a->cv);
    for (struct audit_pubkey *p = atomic_load(&a->pubkey), *o; p; p = o) {
        o = p->older;
        free(p);
    }
    audit_keyring_release(&a->ring);
    audit_keys_release(&a->keys);
    free(a->node_id);
    free(a);
}

/* With a->mu held (released on return): asks the writer to run a request (*gen bumped) and
 * waits until it did; its result. */
static gw_err writer_request(struct audit *a, uint64_t *gen, const uint64_t *done,
                             const gw_err *result)
{
    uint64_t want = ++*gen;
    pthread_mutex_unlock(&a->mu);
    gw_worker_kick(a->writer);
    pthread_mutex_lock(&a->mu);
    while (*done < want && !a->closed)
        pthread_cond_wait(&a->cv, &a->mu);
    gw_err rc = *done >= want ? *result : GW_EAUDIT;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

gw_err audit_reconfigure(struct audit *a, const struct audit_options *o)
{
    pthread_rwlock_wrlock(&a->pol_lock);
    audit_policy_release(&a->pol);
    audit_policy_init(&a->pol, o, a->keys.pii_key);
    pthread_rwlock_unlock(&a->pol_lock);

    pthread_mutex_lock(&a->mu);
    if (a->closed) {
        pthread_mutex_unlock(&a->mu);
        return GW_EAUDIT;
    }
    cfg_from_options(&a->cfg, o);
    return writer_request(a, &a->reopen_gen, &a->reopen_done_gen, &a->reopen_rc);
}

gw_err audit_rotate_key(struct audit *a, char key_id[17])
{
    pthread_mutex_lock(&a->mu);
    if (a->closed) {
        pthread_mutex_unlock(&a->mu);
        return GW_EAUDIT;
    }
    gw_err rc = writer_request(a, &a->rotate_gen, &a->rotate_done_gen, &a->rotate_rc);
    snprintf(key_id, 17, "%s", audit_key_id(a));
    return rc;
}

gw_err audit_keys_json(struct audit *a, json_t **out)
{
    struct store_audit_key *keys = NULL;
    size_t n = 0;
    *out = NULL;
    gw_err rc = store_audit_key_list(a->st, &keys, &n);
    if (rc != GW_OK)
        return rc;
    struct audit_keyring ring;
    audit_trusted_keys(a, &ring);
    *out = json_array();
    for (size_t i = 0; i < n; i++) { /* only the line of keys this gateway trusts */
        if (!audit_keyring_find(&ring, keys[i].key_id))
            continue;
        const char *prev_pub = NULL;
        for (size_t j = 0; keys[i].prev_key_id && j < n; j++)
            if (strcmp(keys[j].key_id, keys[i].prev_key_id) == 0)
                prev_pub = keys[j].public_key;
        json_t *k = audit_key_to_json(&keys[i], prev_pub);
        json_object_del(k, "type");
        json_array_append_new(*out, k);
    }
    audit_keyring_release(&ring);
    store_audit_key_list_free(keys, n);
    return GW_OK;
}
/* --- submission ---------------------------------------------------------------------------- */

/* Replaces bytes that are not well-formed UTF-8 by '?' (JSON strings must be UTF-8). */
static void utf8_fix(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80             ? 0
                   : (c & 0xE0) == 0xC0 ? 1
                   : (c & 0xF0) == 0xE0 ? 2
                   : (c & 0xF8) == 0xF0 ? 3
                                        : 9;
        bool ok = n != 9 && !(c == 0xC0 || c == 0xC1 || c > 0xF4);
        for (size_t i = 1; ok && i <= n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 2 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)))
            ok = false; /* overlong or surrogate */
        if (ok && n == 3 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)))
            ok = false;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

static size_t field_len(const char *s)
{
    return s ? strnlen(s, FIELD_MAX) + 1 : 0;
}

static char *field_put(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strnlen(s, FIELD_MAX);
    char *out = *cursor;
    memcpy(out, s, n);
    out[n] = '\0';
    utf8_fix(out);
    *cursor += n + 1;
    return out;
}

static struct item *item_new(struct audit *a, const char *tenant, const struct audit_event *ev)
{
    const char *actor = ev->actor ? ev->actor : "anonymous";
    const char *cls = ev->classification ? ev->classification : "internal";
    size_t len = field_len(tenant) + field_len(ev->type) + field_len(ev->outcome) +
                 field_len(actor) + field_len(ev->token_id) + field_len(ev->org_unit) +
                 field_len(ev->team) + field_len(ev->resource) + field_len(ev->request_id) +
                 field_len(ev->client_ip) + field_len(cls);
    struct item *it = gw_xcalloc(1, sizeof *it + len);
    char *c = it->text;
    it->row.tenant = field_put(&c, tenant);
    it->row.type = field_put(&c, ev->type);
    it->row.outcome = field_put(&c, ev->outcome);
    it->row.actor = field_put(&c, actor);
    it->row.token_id = field_put(&c, ev->token_id);
    it->row.org_unit = field_put(&c, ev->org_unit);
    it->row.team = field_put(&c, ev->team);
    it->row.resource = field_put(&c, ev->resource);
    it->row.request_id = field_put(&c, ev->request_id);
    it->row.client_ip = field_put(&c, ev->client_ip);
    it->row.classification = field_put(&c, cls);
    it->row.status = ev->status;
    pthread_rwlock_rdlock(&a->pol_lock);
    it->row.details = audit_details_text(&a->pol, ev->details);
    pthread_rwlock_unlock(&a->pol_lock);
    audit_canon_build(&it->row, it->row.details, &it->canon);
    return it;
}

static gw_err enqueue(struct audit *a, const char *tenant, const struct audit_event *ev, bool sync)
{
    if (!a || !tenant || !*tenant || strchr(tenant, '\n') || strlen(tenant) >= FIELD_MAX || !ev ||
        !ev->type || !ev->outcome)
        return GW_EINVAL;
    struct item *it = item_new(a, tenant, ev);
    if (sync) /* the item is the writer's whatever the outcome */
        return gw_worker_post_wait(a->writer, it) == GW_OK ? GW_OK : GW_EAUDIT;
    if (gw_worker_post(a->writer, it) == GW_OK)
        return GW_OK;
    item_free(it);
    return GW_EAUDIT;
}

gw_err audit_record_sync(struct audit *a, const char *tenant, const struct audit_event *ev)
{
    return enqueue(a, tenant, ev, true);
}

gw_err audit_record(struct audit *a, const char *tenant, const struct audit_event *ev)
{
    return enqueue(a, tenant, ev, false);
}

gw_err audit_flush(struct audit *a)
{
    return gw_worker_flush(a->writer) == GW_OK ? GW_OK : GW_EAUDIT;
}

void audit_get_stats(struct audit *a, struct audit_stats *s)
{
    struct gw_worker_stats ws;
    gw_worker_get_stats(a->writer, &ws);
    s->appended = ws.processed;
    s->batches = ws.batches;
    s->failures = ws.failures;
    s->queue_depth = ws.queued;
    pthread_mutex_lock(&a->mu);
    s->healthy = a->healthy;
    s->integrity_ok = a->n_fails == 0;
    pthread_mutex_unlock(&a->mu);
}

gw_err audit_head(struct audit *a, const char *tenant, struct store_audit_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    if (!tenant || strchr(tenant, '\n'))
        return GW_EINVAL;
    gw_err rc = audit_flush(a);
    if (rc != GW_OK)
        return rc;
    rc = store_checkpoint_latest(a->st, tenant, out);
    return rc == GW_OK || rc == GW_ENOTFOUND ? rc : GW_ESTORE;
}

gw_err audit_forwarder_add(struct audit *a, const struct audit_forwarder_ops *ops, void *fwd)
{
    if (!a || !ops || !ops->committed)
        return GW_EINVAL;
    pthread_mutex_lock(&a->fwd_mu);
    gw_err rc = a->n_fwd < AUDIT_MAX_FORWARDERS ? GW_OK : GW_ETOOBIG;
    if (rc == GW_OK)
        a->fwd[a->n_fwd++] = (struct audit_forwarder){ops, fwd};
    pthread_mutex_unlock(&a->fwd_mu);
    return rc;
}

void audit_forwarder_remove(struct audit *a, void *fwd)
{
    pthread_mutex_lock(&a->fwd_mu);
    size_t k = 0;
    for (size_t i = 0; i < a->n_fwd; i++)
        if (a->fwd[i].arg != fwd)
            a->fwd[k++] = a->fwd[i];
    a->n_fwd = k;
    pthread_mutex_unlock(&a->fwd_mu);
}
