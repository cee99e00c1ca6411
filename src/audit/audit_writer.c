/* SPDX-License-Identifier: MIT
 * audit_writer.c — struct audit: the event queue, the writer thread and its group commit.
 *
 * Submitters filter details in their own thread and enqueue an owned copy of the event into a
 * bounded FIFO (AUDIT_QUEUE_CAP). One writer thread takes up to AUDIT_BATCH_MAX events from the
 * head, assigns per-tenant seq numbers and links them to the in-memory chain heads, writes the
 * whole batch to the JSONL file (one write + fdatasync), then to the store (one fsynced
 * transaction). Only when both succeeded are the events removed from the queue, the heads
 * committed and the synchronous submitters woken with GW_OK. On failure the file is cut back,
 * the heads are restored, synchronous submitters get GW_EAUDIT and asynchronous events stay at
 * the head of the queue, retried after AUDIT_RETRY_BACKOFF_MS. Between batches the writer signs
 * checkpoints (every checkpoint_every events or each second with new events, at every file
 * start and at close). The writer thread alone touches the file and the working chain heads;
 * everything shared with submitters is under a->mu.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#define QMASK (AUDIT_QUEUE_CAP - 1)
#define FIELD_MAX 16384 /* longest string field kept (keeps a row far below AUDIT_MAX_LINE) */
#define NBUCKETS 64

_Static_assert((AUDIT_QUEUE_CAP & QMASK) == 0, "queue capacity must be a power of two");

struct waiter {
    pthread_cond_t cv;
    bool done;
    gw_err rc;
};

struct item {
    struct store_audit_row row;  /* strings point into text[] (details: malloc'd canonical text) */
    struct audit_canon canon; /* canonical text prepared by the submitter */
    uint64_t ticket;       /* enqueue order, for audit_flush */
    struct waiter *waiter; /* NULL for audit_record */
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

struct file_cfg {
    char *path;      /* NULL: no file sink */
    bool rotate_daily;
    unsigned retain_days;
};

struct audit {
    struct store *st;
    struct audit_keys keys;

    pthread_rwlock_t pol_lock; /* guards pol (filtering runs in submitters) */
    struct audit_policy pol;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;    /* the writer waits for events, reopen or stop */
    pthread_cond_t space_cv;   /* submitters wait for queue room */
    pthread_cond_t idle_cv;    /* flush and reconfigure wait for progress */
    struct item **q;           /* ring of AUDIT_QUEUE_CAP */
    size_t q_head, q_len;
    size_t in_flight;          /* the first in_flight queued items are being written */
    uint64_t tickets;
    unsigned urgent;           /* queued sync events + flush callers: no lingering */
    int64_t oldest_ns;         /* when the oldest queued event arrived (monotonic, approx.) */
    bool stopping, stopped;
    int64_t retry_at_ns;       /* backoff after a failed batch (monotonic) */
    struct file_cfg cfg;       /* wanted file options (reconfigure) */
    unsigned checkpoint_every;
    uint64_t reopen_gen, reopen_done_gen;
    gw_err reopen_rc;
    uint64_t appended, batches, failures;
    bool healthy;
    struct head *buckets[NBUCKETS];
    struct head **all;         /* every head, for iteration */
    size_t n_all, cap_all;

    /* writer thread only */
    pthread_t thread;
    struct audit_file file;
    struct gw_buf lines;
    struct store_audit_row *rows;
    struct undo *undo;
    size_t n_undo;
    struct item **batch;
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

/* --- time helpers ---------------------------------------------------------------------------- */

static void deadline_ts(struct timespec *ts, int64_t mono_ns)
{
    ts->tv_sec = (time_t)(mono_ns / 1000000000);
    ts->tv_nsec = (long)(mono_ns % 1000000000);
}

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &at);
    pthread_condattr_destroy(&at);
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

/* Signs a checkpoint of h's head into b; stores it when it covers events no stored checkpoint
 * covers yet. */
static void checkpoint_one(struct audit *a, struct head *h, struct gw_buf *b, int64_t now_ns)
{
    struct store_audit_checkpoint cp;
    if (audit_checkpoint_sign(&a->keys, h->tenant, h->seq, h->hash, audit_now_ms(), &cp) != GW_OK) {
        gw_error("audit: cannot sign a checkpoint");
        return;
    }
    if (h->seq > h->cp_seq) {
        gw_err rc = store_checkpoint_insert(a->st, &cp);
        if (rc == GW_OK || rc == GW_ECONFLICT) {
            h->cp_seq = h->seq;
        } else {
            gw_warn("audit: cannot store the checkpoint of %s at seq %lld (%s)", h->tenant,
                    (long long)h->seq, gw_err_name(rc));
        }
    }
    h->cp_mono_ns = now_ns;
    append_checkpoint_line(b, &cp);
    store_audit_checkpoint_release(&cp);
}

/* Anchors a (re)opened file: a checkpoint line for every non-empty chain. */
static gw_err write_anchors(struct audit *a)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 40);
    int64_t now = gw_mono_ns();
    for (size_t i = 0; i < a->n_all; i++)
        if (a->all[i]->seq > 0)
            checkpoint_one(a, a->all[i], &b, now);
    gw_err rc = b.len ? audit_file_append(&a->file, b.data, b.len, NULL) : GW_OK;
    gw_buf_release(&b);
    return rc;
}

/* Signs the checkpoints that are due (all pending ones when force); returns the monotonic time
 * of the next one due, or 0 when nothing is pending. */
static int64_t checkpoints_run(struct audit *a, bool force, unsigned every)
{
    int64_t now = gw_mono_ns(), next = 0;
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 40);
    for (size_t i = 0; i < a->n_all; i++) {
        struct head *h = a->all[i];
        if (h->seq <= h->cp_seq)
            continue;
        int64_t due_at = h->cp_mono_ns + (int64_t)AUDIT_CHECKPOINT_INTERVAL_MS * 1000000;
        if (force || h->seq - h->cp_seq >= (int64_t)every || now >= due_at) {
            checkpoint_one(a, h, &b, now);
            due_at = now + (int64_t)AUDIT_CHECKPOINT_INTERVAL_MS * 1000000;
            if (h->seq <= h->cp_seq)
                continue;
        }
        if (next == 0 || due_at < next)
            next = due_at;
    }
    if (b.len && a->file.path && audit_file_append(&a->file, b.data, b.len, NULL) != GW_OK)
        gw_warn("audit: cannot append checkpoint lines to %s: %s", a->file.path,
                strerror(a->file.err));
    gw_buf_release(&b);
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

/* Makes sure the file sink is usable for this batch: reopens a broken one, rotates. */
static gw_err file_ready(struct audit *a, int64_t now_ms)
{
    struct audit_file *f = &a->file;
    if (!f->path)
        return GW_OK;
    if (f->fd < 0) {
        if (audit_file_open(f, f->path, f->rotate_daily, f->retain_days, now_ms) != GW_OK)
            return GW_EAUDIT;
        if (write_anchors(a) != GW_OK)
            return GW_EAUDIT;
    }
    if (audit_file_rotation_due(f, now_ms)) {
        gw_err rc = audit_file_rotate(f, now_ms);
        if (rc == GW_OK)
            rc = write_anchors(a);
        else if (rc == GW_ECONFLICT) /* not rotated, the current file stays usable */
            rc = GW_OK;
        if (rc != GW_OK)
            return GW_EAUDIT;
    }
    return GW_OK;
}

static gw_err commit(struct audit *a, struct item **items, size_t n, const char **why)
{
    gw_err rc;
    bool use_file = a->file.path != NULL;
    a->n_undo = 0;
    gw_buf_reset(&a->lines);
    *why = "file";
    if (file_ready(a, audit_now_ms()) != GW_OK)
        return GW_EAUDIT;
    *why = "store";
    for (size_t i = 0; i < n; i++) {
        struct item *it = items[i];
        struct head *h = head_find(a, it->row.tenant);
        if (!h && (rc = head_load(a, it->row.tenant, &h)) != GW_OK) {
            undo_apply(a);
            return GW_EAUDIT;
        }
        undo_note(a, h);
        it->row.seq = ++h->seq;
        memcpy(it->prev, h->hash, sizeof it->prev);
        it->row.prev_hash = it->prev;
        /* Hash, and the line: the canonical text with "hash" appended as the last member. */
        audit_canon_finish(&it->canon, it->prev, it->row.seq, it->row.ts_ms, a->md, it->hash,
                           use_file ? &a->lines : NULL);
        it->row.hash = it->hash;
        memcpy(h->hash, it->hash, sizeof h->hash);
        a->rows[i] = it->row;
    }
    off_t offset = 0;
    if (use_file) {
        *why = "file";
        if (audit_file_append(&a->file, a->lines.data, a->lines.len, &offset) != GW_OK) {
            undo_apply(a);
            return GW_EAUDIT;
        }
    }
    *why = "store";
    rc = store_audit_append(a->st, a->rows, n);
    if (rc != GW_OK) {
        if (use_file)
            audit_file_truncate(&a->file, offset);
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

static void waiter_done(struct waiter *w, gw_err rc)
{
    w->rc = rc;
    w->done = true;
    pthread_cond_signal(&w->cv);
}

/* Under a->mu: settles the first n queued items after a commit attempt. */
static void settle(struct audit *a, size_t n, gw_err rc)
{
    if (rc == GW_OK) {
        for (size_t i = 0; i < n; i++) {
            struct item *it = a->q[(a->q_head + i) & QMASK];
            if (it->waiter)
                waiter_done(it->waiter, GW_OK);
            item_free(it);
        }
        a->q_head = (a->q_head + n) & QMASK;
        a->q_len -= n;
        for (size_t i = 0; i < a->n_undo; i++) {
            struct head *h = a->undo[i].h;
            h->committed_seq = h->seq;
            memcpy(h->committed_hash, h->hash, sizeof h->hash);
        }
        a->appended += n;
        a->batches++;
        a->healthy = true;
        a->retry_at_ns = 0;
    } else {
        /* Drop the synchronous events (their submitters get the error), keep the asynchronous
         * ones in order at the head of the queue. */
        size_t slot = n; /* kept items are packed at the end of the batch's slots */
        for (size_t i = n; i-- > 0;) {
            struct item *it = a->q[(a->q_head + i) & QMASK];
            if (it->waiter) {
                waiter_done(it->waiter, rc);
                item_free(it);
            } else {
                a->q[(a->q_head + --slot) & QMASK] = it;
            }
        }
        a->q_head = (a->q_head + slot) & QMASK; /* skip the dropped ones */
        a->q_len -= slot;
        a->failures++;
        a->healthy = false;
        a->retry_at_ns = gw_mono_ns() + (int64_t)AUDIT_RETRY_BACKOFF_MS * 1000000;
    }
    a->in_flight = 0;
    pthread_cond_broadcast(&a->space_cv);
    pthread_cond_broadcast(&a->idle_cv);
}

/* Under a->mu, at shutdown after a failure: nothing more can be written. */
static void drop_all(struct audit *a)
{
    if (a->q_len)
        gw_error("audit: %zu queued audit events could not be written at shutdown", a->q_len);
    while (a->q_len) {
        struct item *it = a->q[a->q_head];
        if (it->waiter)
            waiter_done(it->waiter, GW_EAUDIT);
        item_free(it);
        a->q_head = (a->q_head + 1) & QMASK;
        a->q_len--;
    }
    pthread_cond_broadcast(&a->idle_cv);
}

/* Writer thread, a->mu not held: applies the wanted file options. */
static gw_err reopen(struct audit *a, const struct file_cfg *c)
{
    audit_file_release(&a->file);
    if (!c->path)
        return GW_OK;
    gw_err rc = audit_file_open(&a->file, c->path, c->rotate_daily, c->retain_days,
                                audit_now_ms());
    if (rc == GW_OK)
        rc = write_anchors(a);
    if (rc != GW_OK)
        gw_error("audit: cannot open the audit log %s: %s", c->path, strerror(a->file.err));
    return rc;
}

static void *writer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "audit-writer"); /* visible in top, perf, gdb */
    struct audit *a = arg;
    int64_t next_cp = 0;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->reopen_gen != a->reopen_done_gen) {
            uint64_t gen = a->reopen_gen;
            struct file_cfg c = {a->cfg.path ? gw_xstrdup(a->cfg.path) : NULL,
                                 a->cfg.rotate_daily, a->cfg.retain_days};
            pthread_mutex_unlock(&a->mu);
            gw_err rc = reopen(a, &c);
            free(c.path);
            pthread_mutex_lock(&a->mu);
            a->reopen_done_gen = gen;
            a->reopen_rc = rc;
            a->healthy = rc == GW_OK;
            a->retry_at_ns = 0; /* retry queued events against the new sink right away */
            pthread_cond_broadcast(&a->idle_cv);
            continue;
        }
        int64_t now = gw_mono_ns();
        /* Events nobody waits for linger a moment so that one commit (two fsyncs) carries
         * several of them: at low concurrency every read would otherwise pay its own. */
        int64_t linger_until = a->oldest_ns + (int64_t)AUDIT_LINGER_MS * 1000000;
        bool linger = a->q_len > 0 && a->q_len < AUDIT_LINGER_EVENTS && a->urgent == 0 &&
                      !a->stopping && now < linger_until;
        if (linger) {
            struct timespec ts;
            deadline_ts(&ts, linger_until);
            pthread_cond_timedwait(&a->work_cv, &a->mu, &ts);
            continue;
        }
        if (a->q_len > 0 && (a->stopping || now >= a->retry_at_ns)) {
            size_t n = GW_MIN(a->q_len, (size_t)AUDIT_BATCH_MAX);
            for (size_t i = 0; i < n; i++)
                a->batch[i] = a->q[(a->q_head + i) & QMASK];
            a->in_flight = n;
            pthread_mutex_unlock(&a->mu);
            const char *why = "";
            gw_err rc = commit(a, a->batch, n, &why);
            pthread_mutex_lock(&a->mu);
            settle(a, n, rc);
            a->oldest_ns = gw_mono_ns(); /* what is left arrived during this commit */
            if (rc != GW_OK) {
                if (!a->fail_logged) {
                    gw_error("audit: cannot write audit events (%s: %s); mutating requests "
                             "fail with 503 until it recovers",
                             why, *why == 'f' ? strerror(a->file.err) : "append failed");
                    a->fail_logged = true;
                }
                if (a->stopping)
                    drop_all(a);
                continue;
            }
            if (a->fail_logged) {
                gw_info("audit: audit trail writable again");
                a->fail_logged = false;
            }
            unsigned every = a->checkpoint_every;
            pthread_mutex_unlock(&a->mu);
            next_cp = checkpoints_run(a, false, every);
            pthread_mutex_lock(&a->mu);
            continue;
        }
        if (a->stopping && a->q_len == 0)
            break;
        if (next_cp && now >= next_cp) {
            unsigned every = a->checkpoint_every;
            pthread_mutex_unlock(&a->mu);
            next_cp = checkpoints_run(a, false, every);
            pthread_mutex_lock(&a->mu);
            continue;
        }
        int64_t wake = next_cp;
        if (a->q_len > 0 && (wake == 0 || a->retry_at_ns < wake))
            wake = a->retry_at_ns;
        if (wake) {
            struct timespec ts;
            deadline_ts(&ts, wake);
            pthread_cond_timedwait(&a->work_cv, &a->mu, &ts);
        } else {
            pthread_cond_wait(&a->work_cv, &a->mu);
        }
    }
    pthread_mutex_unlock(&a->mu);
    checkpoints_run(a, true, 1);
    audit_file_release(&a->file);
    pthread_mutex_lock(&a->mu);
    a->stopped = true;
    pthread_cond_broadcast(&a->idle_cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

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
    cond_init_mono(&a->work_cv);
    cond_init_mono(&a->space_cv);
    cond_init_mono(&a->idle_cv);
    a->q = gw_xcalloc(AUDIT_QUEUE_CAP, sizeof *a->q);
    a->batch = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->batch);
    a->rows = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->rows);
    a->undo = gw_xcalloc(AUDIT_BATCH_MAX, sizeof *a->undo);
    gw_buf_init(&a->lines, (size_t)1 << 40);
    a->md = EVP_MD_CTX_new();
    if (!a->md)
        abort();
    a->healthy = true;
    a->checkpoint_every = o->checkpoint_every ? o->checkpoint_every : 1000;
    audit_file_init(&a->file);
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
        a->stopped = true; /* nothing to join */
        audit_close(a);
        return rc;
    }
    /* A file that cannot be opened does not stop the gateway: the sink is unhealthy and every
     * batch fails (503 for mutations) until it can be opened again. */
    if (reopen(a, &a->cfg) != GW_OK)
        a->healthy = false;
    if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
        a->stopped = true;
        audit_close(a);
        return GW_EINTERNAL;
    }
    *out = a;
    return GW_OK;
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    bool running = !a->stopped;
    a->stopping = true;
    pthread_cond_broadcast(&a->work_cv);
    pthread_cond_broadcast(&a->space_cv);
    pthread_mutex_unlock(&a->mu);
    if (running)
        pthread_join(a->thread, NULL);
    else
        audit_file_release(&a->file);
    for (size_t i = 0; i < a->n_all; i++) {
        free(a->all[i]->tenant);
        free(a->all[i]);
    }
    free(a->all);
    free(a->q);
    free(a->batch);
    free(a->rows);
    free(a->undo);
    gw_buf_release(&a->lines);
    EVP_MD_CTX_free(a->md);
    free(a->cfg.path);
    audit_policy_release(&a->pol);
    pthread_rwlock_destroy(&a->pol_lock);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->work_cv);
    pthread_cond_destroy(&a->space_cv);
    pthread_cond_destroy(&a->idle_cv);
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
    if (a->stopping) {
        pthread_mutex_unlock(&a->mu);
        return GW_EAUDIT;
    }
    cfg_from_options(&a->cfg, o);
    a->checkpoint_every = o->checkpoint_every ? o->checkpoint_every : 1000;
    uint64_t gen = ++a->reopen_gen;
    pthread_cond_signal(&a->work_cv);
    while (a->reopen_done_gen < gen && !a->stopped)
        pthread_cond_wait(&a->idle_cv, &a->mu);
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
                      struct waiter *w)
{
    if (!a || !tenant || !*tenant || strchr(tenant, '\n') || strlen(tenant) >= FIELD_MAX ||
        !ev || !ev->type || !ev->outcome)
        return GW_EINVAL;
    struct item *it = item_new(a, tenant, ev);
    it->waiter = w;
    gw_err rc = GW_OK;
    pthread_mutex_lock(&a->mu);
    if (a->q_len == AUDIT_QUEUE_CAP && !a->stopping) {
        struct timespec ts;
        deadline_ts(&ts, gw_mono_ns() + (int64_t)AUDIT_FULL_WAIT_MS * 1000000);
        while (a->q_len == AUDIT_QUEUE_CAP && !a->stopping)
            if (pthread_cond_timedwait(&a->space_cv, &a->mu, &ts) == ETIMEDOUT)
                break;
    }
    if (a->stopping || a->q_len == AUDIT_QUEUE_CAP) {
        pthread_mutex_unlock(&a->mu);
        item_free(it);
        return GW_EAUDIT;
    }
    it->row.ts_ms = audit_now_ms(); /* under the lock: timestamps follow queue order */
    it->ticket = ++a->tickets;
    a->q[(a->q_head + a->q_len) & QMASK] = it;
    if (a->q_len++ == 0)
        a->oldest_ns = gw_mono_ns();
    if (w)
        a->urgent++;
    /* an async event alone need not wake the writer: it lingers for company (see writer) */
    if (w || a->q_len == 1 || a->q_len >= AUDIT_LINGER_EVENTS)
        pthread_cond_signal(&a->work_cv);
    if (w) {
        while (!w->done)
            pthread_cond_wait(&w->cv, &a->mu);
        a->urgent--;
        rc = w->rc;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

gw_err audit_record_sync(struct audit *a, const char *tenant, const struct audit_event *ev)
{
    struct waiter w = {.done = false, .rc = GW_EAUDIT};
    pthread_cond_init(&w.cv, NULL);
    gw_err rc = enqueue(a, tenant, ev, &w);
    pthread_cond_destroy(&w.cv);
    return rc;
}

gw_err audit_record(struct audit *a, const char *tenant, const struct audit_event *ev)
{
    return enqueue(a, tenant, ev, NULL);
}

gw_err audit_flush(struct audit *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t target = a->tickets, failures = a->failures;
    gw_err rc = GW_OK;
    a->urgent++;
    pthread_cond_signal(&a->work_cv);
    while (a->q_len > 0 && a->q[a->q_head]->ticket <= target) {
        /* The oldest pending event is ours, so any failed batch since we started held it. */
        if (a->failures != failures || a->stopped) {
            rc = GW_EAUDIT;
            break;
        }
        pthread_cond_wait(&a->idle_cv, &a->mu);
    }
    a->urgent--;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void audit_get_stats(struct audit *a, struct audit_stats *s)
{
    pthread_mutex_lock(&a->mu);
    s->appended = a->appended;
    s->batches = a->batches;
    s->failures = a->failures;
    s->queue_depth = a->q_len;
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
