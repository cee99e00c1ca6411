/* SPDX-License-Identifier: MIT
 * audit_writer.c — struct audit: the event queue, the writer thread and its group commit.
 *
 * Submitters filter details in their own thread and post an owned copy of the event to the
 * writer, a gw_worker (base/worker.h) with a bounded queue (AUDIT_QUEUE_CAP). It hands up to
 * AUDIT_BATCH_MAX events to commit(), which assigns per-tenant seq numbers, links them to the
 * in-memory chain heads, writes the whole batch to the JSONL file (one write + fdatasync), then
 * to the store (one fsynced transaction). Only when both succeeded are the events removed from
 * the queue, the heads committed and the synchronous submitters woken with GW_OK. On failure
 * the file is cut back, the heads are restored, synchronous submitters get GW_EAUDIT and
 * asynchronous events stay at the head of the queue, retried after AUDIT_RETRY_BACKOFF_MS.
 * Between batches the writer signs checkpoints (every checkpoint_every events or each second
 * with new events, at every file start and at close) and reopens the file when reconfigured.
 * The writer thread alone touches the file and the working chain heads; everything shared with
 * submitters is under a->mu.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"

#include <stdatomic.h>

#define FIELD_MAX 16384 /* longest string field kept (keeps a row far below AUDIT_MAX_LINE) */
#define NBUCKETS 64

struct item {
    struct store_audit_row row;  /* strings point into text[] (details: malloc'd canonical text) */
    struct audit_canon canon; /* canonical text prepared by the submitter */
    char prev[65], hash[65];
    char text[];
};

struct head {
    char *tenant;
    int64_t seq;               /* working head: writer thread only */
    char hash[65];
    int64_t committed_seq;     /* durable head: written by the writer under a->mu */
    char committed_hash[65];
    int64_t cp_seq;            /* last checkpoint in the store (writer only) */
    int64_t cp_mono_ns;        /* when it was signed or tracking started (writer only) */
    struct head *next;         /* bucket chain */
};

struct undo {
    struct head *h;
    int64_t seq;
    char hash[65];
};

struct forwarder {
    const struct audit_forwarder_ops *ops;
    void *arg;
};

struct file_cfg {
    char *path;      /* NULL: no file sink */
    bool rotate_daily;
    unsigned retain_days;
};

struct audit {
    struct store *st;
    struct audit_keys keys;
    struct gw_worker *writer;  /* the "audit-writer" thread and its queue */

    pthread_rwlock_t pol_lock; /* guards pol (filtering runs in submitters) */
    struct audit_policy pol;

    pthread_mutex_t mu;
    pthread_cond_t reopen_cv;  /* reconfigure waits for the writer's reopen */
    bool closed;
    struct file_cfg cfg;       /* wanted file options (reconfigure) */
    unsigned checkpoint_every;
    uint64_t reopen_gen, reopen_done_gen;
    gw_err reopen_rc;
    bool healthy;
    struct head *buckets[NBUCKETS];
    struct head **all;         /* every head, for iteration */
    size_t n_all, cap_all;
    pthread_mutex_t fwd_mu;    /* guards fwd, n_fwd; held while the writer calls them */
    struct forwarder fwd[AUDIT_MAX_FORWARDERS];
    size_t n_fwd;

    /* writer thread only */
    struct audit_sink *file_sink, *store_sink;
    struct audit_sink *sinks[2]; /* those a batch goes to, in order */
    size_t n_sinks;
    struct head **due;           /* scratch for checkpoint runs */
    size_t cap_due;
    struct gw_buf lines;
    struct store_audit_row *rows;
    struct undo *undo;
    size_t n_undo;
    EVP_MD_CTX *md;
    bool fail_logged;
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

const struct audit_keys *audit_get_keys(const struct audit *a)
{
    return &a->keys;
}

const char *audit_public_key(const struct audit *a)
{
    return a->keys.public_key;
}

const char *audit_key_id(const struct audit *a)
{
    return a->keys.key_id;
}

/* --- chain heads ----------------------------------------------------------------------------- */

static size_t bucket_of(const char *tenant)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)tenant; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % NBUCKETS;
}

/* Caller holds a->mu or is the writer thread (the only one that inserts). */
static struct head *head_find(struct audit *a, const char *tenant)
{
    for (struct head *h = a->buckets[bucket_of(tenant)]; h; h = h->next)
        if (strcmp(h->tenant, tenant) == 0)
            return h;
    return NULL;
}

/* Loads a tenant's head from the store (first event of a tenant since start). Writer only, or
 * audit_open before the writer exists. Inserts under a->mu. */
static gw_err head_load(struct audit *a, const char *tenant, struct head **out)
{
    int64_t seq = 0;
    char *hash = NULL;
    gw_err rc = store_audit_head(a->st, tenant, &seq, &hash);
    if (rc != GW_OK)
        return rc;
    struct head *h = gw_xcalloc(1, sizeof *h);
    h->tenant = gw_xstrdup(tenant);
    h->seq = seq;
    snprintf(h->hash, sizeof h->hash, "%s", seq > 0 && hash ? hash : AUDIT_ZERO_HASH);
    free(hash);
    h->committed_seq = h->seq;
    memcpy(h->committed_hash, h->hash, sizeof h->hash);
    struct store_audit_checkpoint cp;
    if (store_checkpoint_latest(a->st, tenant, &cp) == GW_OK) {
        h->cp_seq = cp.seq;
        if (cp.seq > seq)
            gw_error("audit: the store's chain of tenant %s ends at seq %lld but a signed "
                     "checkpoint covers seq %lld: rows were removed (verify will report it)",
                     tenant, (long long)seq, (long long)cp.seq);
        store_audit_checkpoint_release(&cp);
    }
    h->cp_mono_ns = gw_mono_ns();
    pthread_mutex_lock(&a->mu);
    size_t b = bucket_of(tenant);
    h->next = a->buckets[b];
    a->buckets[b] = h;
    if (a->n_all == a->cap_all) {
        a->cap_all = a->cap_all ? 2 * a->cap_all : 8;
        a->all = gw_xrealloc(a->all, a->cap_all * sizeof *a->all);
    }
    a->all[a->n_all++] = h;
    pthread_mutex_unlock(&a->mu);
    *out = h;
    return GW_OK;
}

void audit_committed_head(struct audit *a, const char *tenant, int64_t *seq, char hash[65])
{
    pthread_mutex_lock(&a->mu);
    struct head *h = head_find(a, tenant);
    *seq = h ? h->committed_seq : 0;
    memcpy(hash, h ? h->committed_hash : AUDIT_ZERO_HASH, 65);
    pthread_mutex_unlock(&a->mu);
}

/* --- checkpoints (writer thread) ------------------------------------------------------------- */

static void append_checkpoint_line(struct gw_buf *b, const struct store_audit_checkpoint *cp)
{
    json_t *o = audit_checkpoint_to_json(cp);
    char *s = gw_json_compact(o);
    json_decref(o);
    gw_buf_puts(b, s);
    gw_buf_append(b, "\n", 1);
    free(s);
}

/* Signs a checkpoint of each of heads[0..n) and gives them to every sink; a head's stored
 * checkpoint moves on when the store kept it. The first sink error is returned (*failed). */
static gw_err checkpoints_sign(struct audit *a, struct head **heads, size_t n, int64_t now_ns,
                               const struct audit_sink **failed)
{
    struct store_audit_checkpoint *cps = gw_xcalloc(n, sizeof *cps);
    bool *flags = gw_xcalloc(2 * n, sizeof *flags);
    struct gw_buf lines;
    gw_buf_init(&lines, (size_t)1 << 40);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct head *h = heads[i];
        if (audit_checkpoint_sign(&a->keys, h->tenant, h->seq, h->hash, audit_now_ms(),
                                  &cps[k]) != GW_OK) {
            gw_error("audit: cannot sign a checkpoint");
            continue;
        }
        flags[k] = h->seq > h->cp_seq;
        h->cp_mono_ns = now_ns;
        append_checkpoint_line(&lines, &cps[k]);
        heads[k++] = h;
    }
    struct audit_checkpoint_set set = {cps, flags, flags + n, k, lines.data, lines.len};
    gw_err rc = GW_OK;
    for (size_t i = 0; k && i < a->n_sinks; i++) {
        gw_err r = a->sinks[i]->ops->checkpoints(a->sinks[i], &set);
        if (r != GW_OK && rc == GW_OK) {
            rc = r;
            *failed = a->sinks[i];
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (set.kept[i])
            heads[i]->cp_seq = cps[i].seq;
        store_audit_checkpoint_release(&cps[i]);
    }
    gw_buf_release(&lines);
    free(flags);
    free(cps);
    return rc;
}

/* The writer's scratch array of heads, as large as the number of chains. */
static struct head **due_heads(struct audit *a)
{
    if (a->cap_due < a->n_all) {
        a->cap_due = a->n_all;
        a->due = gw_xrealloc(a->due, a->cap_due * sizeof *a->due);
    }
    return a->due;
}

/* Anchors a fresh file: a checkpoint of every non-empty chain. */
static gw_err write_anchors(struct audit *a, const struct audit_sink **failed)
{
    struct head **due = due_heads(a);
    size_t n = 0;
    for (size_t i = 0; i < a->n_all; i++)
        if (a->all[i]->seq > 0)
            due[n++] = a->all[i];
    return n ? checkpoints_sign(a, due, n, gw_mono_ns(), failed) : GW_OK;
}

/* Signs the checkpoints that are due (all pending ones when force); returns the monotonic time
 * of the next one due, or 0 when nothing is pending. */
static int64_t checkpoints_run(struct audit *a, bool force, unsigned every)
{
    const int64_t interval = (int64_t)AUDIT_CHECKPOINT_INTERVAL_MS * 1000000;
    int64_t now = gw_mono_ns(), next = 0;
    struct head **due = due_heads(a);
    size_t n = 0;
    for (size_t i = 0; i < a->n_all; i++) {
        struct head *h = a->all[i];
        if (h->seq > h->cp_seq &&
            (force || h->seq - h->cp_seq >= (int64_t)every || now >= h->cp_mono_ns + interval))
            due[n++] = h;
    }
    const struct audit_sink *failed = NULL;
    if (n && checkpoints_sign(a, due, n, now, &failed) != GW_OK)
        gw_warn("audit: cannot append checkpoint lines to the %s sink: %s", failed->ops->name,
                failed->ops->error(failed));
    for (size_t i = 0; i < a->n_all; i++) {
        struct head *h = a->all[i];
        if (h->seq > h->cp_seq && (next == 0 || h->cp_mono_ns + interval < next))
            next = h->cp_mono_ns + interval;
    }
    return next;
}

/* --- group commit (writer thread) ------------------------------------------------------------ */

static void undo_note(struct audit *a, struct head *h)
{
    for (size_t i = 0; i < a->n_undo; i++)
        if (a->undo[i].h == h)
            return;
    struct undo *u = &a->undo[a->n_undo++];
    u->h = h;
    u->seq = h->seq;
    memcpy(u->hash, h->hash, sizeof u->hash);
}

static void undo_apply(struct audit *a)
{
    for (size_t i = 0; i < a->n_undo; i++) {
        a->undo[i].h->seq = a->undo[i].seq;
        memcpy(a->undo[i].h->hash, a->undo[i].hash, sizeof a->undo[i].hash);
    }
}

/* The sinks a batch goes to, in order: the file when one is configured, then the store. */
static void sinks_update(struct audit *a)
{
    a->n_sinks = 0;
    if (audit_file_sink_enabled(a->file_sink))
        a->sinks[a->n_sinks++] = a->file_sink;
    a->sinks[a->n_sinks++] = a->store_sink;
}

/* Chains items[0..n) and appends them to every sink; on failure nothing of the batch is kept
 * (sinks rolled back, heads restored) and *failed says where it failed. */
static gw_err commit(struct audit *a, void *const *items, size_t n,
                     const struct audit_sink **failed)
{
    a->n_undo = 0;
    gw_buf_reset(&a->lines);
    bool lines = false;
    int64_t now_ms = audit_now_ms();
    for (size_t i = 0; i < a->n_sinks; i++) {
        struct audit_sink *s = a->sinks[i];
        bool fresh = false;
        lines = lines || s->ops->wants_lines;
        *failed = s;
        if (s->ops->ready && (s->ops->ready(s, now_ms, &fresh) != GW_OK ||
                              (fresh && write_anchors(a, failed) != GW_OK)))
            return GW_EAUDIT;
    }
    *failed = a->store_sink; /* a new chain's head comes from the store */
    for (size_t i = 0; i < n; i++) {
        struct item *it = items[i];
        struct head *h = head_find(a, it->row.tenant);
        if (!h && head_load(a, it->row.tenant, &h) != GW_OK) {
            undo_apply(a);
            return GW_EAUDIT;
        }
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
    }
    struct audit_batch b = {a->rows, n, lines ? a->lines.data : NULL, a->lines.len};
    for (size_t i = 0; i < a->n_sinks; i++) {
        if (a->sinks[i]->ops->append(a->sinks[i], &b) == GW_OK)
            continue;
        *failed = a->sinks[i];
        while (i-- > 0)
            if (a->sinks[i]->ops->rollback)
                a->sinks[i]->ops->rollback(a->sinks[i]);
        undo_apply(a);
        return GW_EAUDIT;
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
static gw_err reopen(struct audit *a, const struct file_cfg *c)
{
    gw_err rc = audit_file_sink_configure(a->file_sink, c->path, c->rotate_daily,
                                          c->retain_days, audit_now_ms());
    sinks_update(a);
    const struct audit_sink *failed = NULL;
    if (rc == GW_OK && c->path)
        rc = write_anchors(a, &failed);
    if (rc != GW_OK)
        gw_error("audit: cannot open the audit log %s: %s", c->path,
                 a->file_sink->ops->error(a->file_sink));
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
            struct head *h = a->undo[i].h;
            h->committed_seq = h->seq;
            memcpy(h->committed_hash, h->hash, sizeof h->hash);
        }
    }
    a->healthy = rc == GW_OK;
    pthread_mutex_unlock(&a->mu);
    if (rc != GW_OK && !a->fail_logged) {
        gw_error("audit: cannot write audit events (%s: %s); mutating requests fail with 503 "
                 "until it recovers", failed->ops->name, failed->ops->error(failed));
        a->fail_logged = true;
    } else if (rc == GW_OK && a->fail_logged) {
        gw_info("audit: audit trail writable again");
        a->fail_logged = false;
    }
    pthread_mutex_lock(&a->fwd_mu);
    for (size_t f = 0; rc == GW_OK && f < a->n_fwd; f++)
        for (size_t i = 0; i < a->n_undo; i++)
            a->fwd[f].ops->committed(a->fwd[f].arg, a->undo[i].h->tenant, a->undo[i].h->seq);
    pthread_mutex_unlock(&a->fwd_mu);
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

/* After each batch and when kicked: a wanted reopen, then the checkpoints that are due. */
static int64_t writer_tick(void *ctx)
{
    struct audit *a = ctx;
    pthread_mutex_lock(&a->mu);
    if (a->reopen_gen != a->reopen_done_gen) {
        uint64_t gen = a->reopen_gen;
        struct file_cfg c = {a->cfg.path ? gw_xstrdup(a->cfg.path) : NULL, a->cfg.rotate_daily,
                             a->cfg.retain_days};
        pthread_mutex_unlock(&a->mu);
        gw_err rc = reopen(a, &c);
        free(c.path);
        pthread_mutex_lock(&a->mu);
        a->reopen_done_gen = gen;
        a->reopen_rc = rc;
        a->healthy = rc == GW_OK;
        pthread_cond_broadcast(&a->reopen_cv);
        pthread_mutex_unlock(&a->mu);
        gw_worker_retry_now(a->writer); /* queued events: against the new sink right away */
        pthread_mutex_lock(&a->mu);
    }
    unsigned every = a->checkpoint_every;
    pthread_mutex_unlock(&a->mu);
    return checkpoints_run(a, false, every);
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

/* --- lifecycle --------------------------------------------------------------------------------- */

static void cfg_from_options(struct file_cfg *c, const struct audit_options *o)
{
    free(c->path);
    c->path = o->enabled && o->log_path && *o->log_path ? gw_xstrdup(o->log_path) : NULL;
    c->rotate_daily = o->rotate_daily;
    c->retain_days = o->retain_days;
}

gw_err audit_open(struct store *st, const struct audit_options *o, struct audit **out)
{
    *out = NULL;
    if (!st || !o || !o->data_dir)
        return GW_EINVAL;
    struct audit *a = gw_xcalloc(1, sizeof *a);
    a->st = st;
    gw_mkdirs(o->data_dir, 0700);
    gw_err rc = audit_keys_load(&a->keys, o->data_dir);
    if (rc != GW_OK) {
        free(a);
        return rc;
    }
    pthread_rwlock_init(&a->pol_lock, NULL);
    audit_policy_init(&a->pol, o, a->keys.pii_key);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->fwd_mu, NULL);
    pthread_cond_init(&a->reopen_cv, NULL);
    a->rows = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->rows);
    a->undo = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->undo);
    gw_buf_init(&a->lines, (size_t)1 << 40);
    a->md = EVP_MD_CTX_new();
    if (!a->md)
        abort();
    a->healthy = true;
    a->checkpoint_every = o->checkpoint_every ? o->checkpoint_every : 1000;
    a->file_sink = audit_file_sink_new();
    a->store_sink = audit_store_sink_new(st);
    sinks_update(a);
    cfg_from_options(&a->cfg, o);

    char **tenants = NULL;
    size_t nt = 0;
    rc = store_audit_tenants(st, &tenants, &nt);
    for (size_t i = 0; rc == GW_OK && i < nt; i++) {
        struct head *h;
        rc = head_load(a, tenants[i], &h);
    }
    for (size_t i = 0; i < nt; i++)
        free(tenants[i]);
    free(tenants);
    if (rc != GW_OK) {
        gw_error("audit: cannot read the chain heads from the store (%s)", gw_err_name(rc));
        audit_close(a);
        return rc;
    }
    /* A file that cannot be opened does not stop the gateway: the sink is unhealthy and every
     * batch fails (503 for mutations) until it can be opened again. */
    if (reopen(a, &a->cfg) != GW_OK)
        a->healthy = false;
    rc = gw_worker_start(&writer_ops, a, &a->writer);
    if (rc != GW_OK) {
        audit_close(a);
        return rc;
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
    pthread_cond_broadcast(&a->reopen_cv);
    pthread_mutex_unlock(&a->mu);
    if (a->writer) { /* writes what is queued; then the writer's state is ours */
        gw_worker_stop(a->writer);
        checkpoints_run(a, true, 1);
    }
    a->file_sink->ops->close(a->file_sink);
    a->store_sink->ops->close(a->store_sink);
    for (size_t i = 0; i < a->n_all; i++) {
        free(a->all[i]->tenant);
        free(a->all[i]);
    }
    free(a->all);
    free(a->due);
    free(a->rows);
    free(a->undo);
    gw_buf_release(&a->lines);
    EVP_MD_CTX_free(a->md);
    free(a->cfg.path);
    audit_policy_release(&a->pol);
    pthread_rwlock_destroy(&a->pol_lock);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->fwd_mu);
    pthread_cond_destroy(&a->reopen_cv);
    audit_keys_release(&a->keys);
    free(a);
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
    a->checkpoint_every = o->checkpoint_every ? o->checkpoint_every : 1000;
    uint64_t gen = ++a->reopen_gen;
    pthread_mutex_unlock(&a->mu);
    gw_worker_kick(a->writer);
    pthread_mutex_lock(&a->mu);
    while (a->reopen_done_gen < gen && !a->closed)
        pthread_cond_wait(&a->reopen_cv, &a->mu);
    gw_err rc = a->reopen_done_gen >= gen ? a->reopen_rc : GW_EAUDIT;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* --- submission ---------------------------------------------------------------------------- */

/* Replaces bytes that are not well-formed UTF-8 by '?' (JSON strings must be UTF-8). */
static void utf8_fix(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                 : (c & 0xF8) == 0xF0 ? 3 : 9;
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

static gw_err enqueue(struct audit *a, const char *tenant, const struct audit_event *ev,
                      bool sync)
{
    if (!a || !tenant || !*tenant || strchr(tenant, '\n') || strlen(tenant) >= FIELD_MAX ||
        !ev || !ev->type || !ev->outcome)
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
    int64_t seq;
    char hash[65];
    audit_committed_head(a, tenant, &seq, hash);
    if (seq == 0) { /* a tenant the writer has not seen: ask the store */
        char *h = NULL;
        if (store_audit_head(a->st, tenant, &seq, &h) != GW_OK)
            return GW_ESTORE;
        snprintf(hash, sizeof hash, "%s", seq > 0 && h ? h : AUDIT_ZERO_HASH);
        free(h);
    }
    return audit_checkpoint_sign(&a->keys, tenant, seq, hash, audit_now_ms(), out);
}

gw_err audit_forwarder_add(struct audit *a, const struct audit_forwarder_ops *ops, void *fwd)
{
    if (!a || !ops || !ops->committed)
        return GW_EINVAL;
    pthread_mutex_lock(&a->fwd_mu);
    gw_err rc = a->n_fwd < AUDIT_MAX_FORWARDERS ? GW_OK : GW_ETOOBIG;
    if (rc == GW_OK)
        a->fwd[a->n_fwd++] = (struct forwarder){ops, fwd};
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
