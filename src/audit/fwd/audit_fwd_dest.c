/* SPDX-License-Identifier: MIT
 * audit_fwd_dest.c — one SIEM destination: its worker, its cursors, its retries.
 *
 * Per tenant three positions: head (what the writer committed), sent (what the transport took)
 * and cursor (what counts as delivered; persisted in the store). A round reads the rows after
 * sent from the store (the log is the spool), formats them, adds the newest signed checkpoint
 * they reach, and sends. Over HTTP a 2xx answer delivers: cursor = sent at once. Over syslog
 * the records count as delivered once the connection was still open SETTLE_MS later; a
 * connection found closed rewinds sent to cursor, so they go again (at least once; the receiver
 * tells a repeat by its seq). A failed send waits 1 s, then twice as long each time up to
 * max_backoff_s (with jitter), and starts again from sent. Work is kicked by the writer
 * (audit_fwd_dest_committed) and otherwise runs once a second (settling, heads, liveness).
 *
 * Leadership (store_lease.h): the worker sends only while it holds the destination's lease,
 * asked again before every batch, so a node whose lock connection broke sends nothing more.
 * It takes the stored cursors afresh when it becomes leader (the stored cursor is the truth:
 * the new leader starts where the last one's deliveries were stored) and forgets them when it
 * stops leading. On a shared store the writers of other nodes do not kick it: while leading
 * it looks for new chains and heads every POLL_MS; a node that does not lead tries the lease
 * every LEASE_RETRY_MS.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"

#include <pthread.h>
#include <stdatomic.h>

#define SETTLE_MS 1000
#define IDLE_MS 1000
#define POLL_MS 200         /* a leader on a shared store looks for other nodes' commits */
#define LEASE_RETRY_MS 1000 /* a node that does not lead tries again */
#define ROUNDS 8            /* batches per tick before looking at stop */
#define TEXT_SOFT_MAX ((size_t)8 << 20) /* a batch's text stops growing past this */

struct fwd_tenant {
    char *tenant;
    int64_t head, sent, cursor;
    int64_t marked;       /* sent when the settle mark was taken (stream transports) */
    int64_t head_cp;      /* seq of the last signed checkpoint forwarded */
    int64_t oldest_ts_ms; /* ts of an undelivered event (lag), 0: none known */
    bool loaded, initial;
};

struct audit_fwd_dest_private {
    pthread_mutex_t mu; /* guards tenants and the figures below */
    struct fwd_tenant *t;
    size_t n, cap, next; /* next: round robin */
    struct gw_worker *w;
    atomic_bool stopping;
    uint64_t delivered, heads, failures;
    unsigned backoff_ms, failing_rounds;
    int64_t mark_ns; /* when the marks were taken, 0: none (worker only) */
    int64_t last_ok_ms, last_error_ms, retry_at_ms;
    char last_error[200];
    struct audit_fwd_batch b; /* worker only */
    struct store_lease *lease;
    bool shared;         /* other nodes share the store */
    atomic_bool leader;  /* this node holds the lease */
    int64_t lease_at_ns; /* a node that does not lead tries the lease again at (worker only) */
};

static struct fwd_tenant *tenant_find(struct audit_fwd_dest_private *p, const char *tenant)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->t[i].tenant, tenant))
            return &p->t[i];
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->t = gw_xrealloc(p->t, p->cap * sizeof *p->t);
    }
    p->t[p->n] = (struct fwd_tenant){.tenant = gw_xstrdup(tenant)};
    return &p->t[p->n++];
}

void audit_fwd_dest_committed(struct audit_fwd_dest *d, const char *tenant, int64_t seq)
{
    struct audit_fwd_dest_private *p = d->priv;
    if (!p->w) /* its worker did not start */
        return;
    pthread_mutex_lock(&p->mu);
    struct fwd_tenant *t = tenant_find(p, tenant);
    if (seq > t->head)
        t->head = seq;
    pthread_mutex_unlock(&p->mu);
    gw_worker_kick(p->w);
}

/* --- the batch --------------------------------------------------------------------------- */

static void batch_reset(struct audit_fwd_batch *b)
{
    gw_buf_reset(&b->text);
    b->n = 0;
}

static void batch_add(struct audit_fwd_batch *b, struct audit_fwd_rec r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->recs = gw_xrealloc(b->recs, b->cap * sizeof *b->recs);
    }
    r.len = b->text.len - r.off;
    b->recs[b->n++] = r;
}

static void add_row(struct audit_fwd_dest *d, const struct store_audit_row *row)
{
    struct audit_fwd_batch *b = &d->priv->b;
    struct audit_fwd_rec r = {.tenant = row->tenant,
                              .seq = row->seq,
                              .ts_ms = row->ts_ms,
                              .msgid = row->type,
                              .severity = audit_fwd_severity(row->outcome),
                              .off = b->text.len};
    d->cfg.fmt->event(&d->env, row, &b->text);
    batch_add(b, r);
}

static void add_head(struct audit_fwd_dest *d, const struct store_audit_checkpoint *c)
{
    struct audit_fwd_batch *b = &d->priv->b;
    struct audit_fwd_rec r = {.tenant = c->tenant,
                              .seq = c->seq,
                              .head = true,
                              .ts_ms = c->ts_ms,
                              .msgid = "audit.checkpoint",
                              .severity = 6,
                              .off = b->text.len};
    d->cfg.fmt->head(&d->env, c, &b->text);
    batch_add(b, r);
}

/* --- cursors ----------------------------------------------------------------------------- */

/* The tenant's stored cursor (worker thread, first sight). A destination with start: now
 * begins a chain it finds at start at its head. */
static gw_err load(struct audit_fwd_dest *d, struct fwd_tenant *snap)
{
    int64_t cursor = 0;
    gw_err rc = store_audit_cursor_get(d->st, d->cfg.name, snap->tenant, &cursor);
    if (rc != GW_OK)
        return rc;
    if (cursor == 0 && d->cfg.from_now && snap->initial && snap->head > 0) {
        cursor = snap->head;
        rc = store_lease_cursor_set(d->priv->lease, snap->tenant, cursor, gw_now_ms());
    }
    struct audit_fwd_dest_private *p = d->priv;
    pthread_mutex_lock(&p->mu);
    struct fwd_tenant *t = tenant_find(p, snap->tenant);
    t->cursor = t->sent = cursor;
    if (t->head < cursor) /* rows the writer has not told about (or were cut) */
        t->head = cursor;
    t->loaded = true;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void persist(struct audit_fwd_dest *d, const char *tenant, int64_t seq)
{
    if (store_lease_cursor_set(d->priv->lease, tenant, seq, gw_now_ms()) != GW_OK)
        gw_warn("siem %s: cannot store the cursor of %s at %" PRId64 " (the events after the "
                "stored one go again from the next leader or after a restart)",
                d->cfg.name, tenant, seq);
}

/* Stream transports: what the connection had taken when the mark was set counts as delivered
 * once the connection is still open SETTLE_MS later (so a busy destination settles every
 * second, not only when idle); a connection found closed sends everything since the cursor
 * again. */
static void settle(struct audit_fwd_dest *d, int64_t now_ns)
{
    struct audit_fwd_dest_private *p = d->priv;
    if (!d->cfg.tr->alive)
        return;
    pthread_mutex_lock(&p->mu);
    bool unsettled = false;
    for (size_t i = 0; i < p->n; i++)
        unsettled = unsettled || p->t[i].sent > p->t[i].cursor;
    pthread_mutex_unlock(&p->mu);
    if (!unsettled && !d->conn)
        return;
    bool alive = d->cfg.tr->alive(d);
    bool due = p->mark_ns && now_ns - p->mark_ns >= (int64_t)SETTLE_MS * 1000000;
    if (alive && p->mark_ns && !due)
        return;
    size_t rewound = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        struct fwd_tenant *t = &p->t[i];
        if (!alive) {
            rewound += (size_t)(t->sent - t->cursor);
            t->sent = t->marked = t->cursor;
            continue;
        }
        if (due && t->marked > t->cursor) {
            p->delivered += (uint64_t)(t->marked - t->cursor);
            t->cursor = t->marked;
            t->oldest_ts_ms = t->cursor < t->head ? t->oldest_ts_ms : 0;
            char *tenant = gw_xstrdup(t->tenant);
            int64_t seq = t->cursor;
            pthread_mutex_unlock(&p->mu);
            persist(d, tenant, seq);
            free(tenant);
            pthread_mutex_lock(&p->mu);
            t = &p->t[i]; /* the array may have grown meanwhile */
        }
        t->marked = t->sent; /* the next mark */
    }
    p->mark_ns = alive && unsettled ? now_ns : 0;
    pthread_mutex_unlock(&p->mu);
    if (rewound)
        gw_warn("siem %s: the connection closed; %zu events it took go again", d->cfg.name,
                rewound);
}

/* --- leadership ---------------------------------------------------------------------------- */

/* Drops every position and a stream's connection (its unsettled records with it): whoever
 * leads next reads the stored cursors. */
static void forget(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    if (d->cfg.tr->close)
        d->cfg.tr->close(d);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        struct fwd_tenant *t = &p->t[i];
        t->loaded = false;
        t->sent = t->cursor = t->marked = 0;
        t->oldest_ts_ms = 0;
    }
    p->mark_ns = 0;
    p->backoff_ms = p->failing_rounds = 0;
    p->retry_at_ms = 0;
    pthread_mutex_unlock(&p->mu);
}

/* Chains other nodes started (a shared store): they join the round robin. */
static void discover(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    char **tenants = NULL;
    size_t n = 0;
    if (store_audit_tenants(d->st, &tenants, &n) != GW_OK)
        return;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < n; i++)
        tenant_find(p, tenants[i]);
    pthread_mutex_unlock(&p->mu);
    store_strv_free(tenants, n);
}

/* Whether this node leads the destination now: asks the store (one round trip while leading;
 * at most every LEASE_RETRY_MS otherwise). Losing the lease forgets every position. */
static bool lead(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    bool was = atomic_load(&p->leader), held = false;
    if (!was && gw_mono_ns() < p->lease_at_ns)
        return false;
    if (store_lease_hold(p->lease, &held) != GW_OK)
        held = false;
    if (!held)
        p->lease_at_ns = gw_mono_ns() + (int64_t)LEASE_RETRY_MS * 1000000;
    if (held == was)
        return held;
    atomic_store(&p->leader, held);
    if (held) {
        if (p->shared)
            gw_info("siem %s: this node (%s) leads the destination now", d->cfg.name, d->env.node);
        discover(d);
    } else {
        gw_warn("siem %s: this node (%s) lost the lead of the destination; it stops sending",
                d->cfg.name, d->env.node);
        forget(d);
    }
    return held;
}

/* --- a round ----------------------------------------------------------------------------- */

static void failed(struct audit_fwd_dest *d, const char *why)
{
    struct audit_fwd_dest_private *p = d->priv;
    unsigned max = d->cfg.max_backoff_s * 1000u;
    pthread_mutex_lock(&p->mu);
    p->backoff_ms = p->backoff_ms ? GW_MIN(p->backoff_ms * 2, max) : GW_MIN(1000u, max);
    unsigned jitter = 0;
    gw_random(&jitter, sizeof jitter);
    unsigned wait = p->backoff_ms - (p->backoff_ms / 5) + jitter % (p->backoff_ms / 5 + 1);
    p->failures++;
    p->last_error_ms = gw_now_ms();
    p->retry_at_ms = p->last_error_ms + wait;
    bool first = p->failing_rounds++ == 0;
    snprintf(p->last_error, sizeof p->last_error, "%s", why);
    pthread_mutex_unlock(&p->mu);
    if (first)
        gw_warn("siem %s: delivery failed (%s); retrying with backoff up to %u s", d->cfg.name, why,
                d->cfg.max_backoff_s);
}

static void succeeded(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    pthread_mutex_lock(&p->mu);
    bool recovered = p->failing_rounds > 0;
    p->failing_rounds = 0;
    p->backoff_ms = 0;
    p->retry_at_ms = 0;
    p->last_ok_ms = gw_now_ms();
    pthread_mutex_unlock(&p->mu);
    if (recovered)
        gw_info("siem %s: delivering again", d->cfg.name);
}

/* The newest signed checkpoint of tenant if it covers only what upto reaches and was not
 * forwarded yet. */
static bool due_head(struct audit_fwd_dest *d, const char *tenant, int64_t upto, int64_t done,
                     struct store_audit_checkpoint *cp)
{
    if (store_checkpoint_latest(d->st, tenant, cp) != GW_OK)
        return false;
    if (cp->seq <= upto && cp->seq > done)
        return true;
    store_audit_checkpoint_release(cp);
    return false;
}

/* Sends the batch and moves the tenant's positions: 1 sent, 0 nothing to do, -1 failed. */
static int deliver(struct audit_fwd_dest *d, const char *tenant, int64_t last, int64_t cp_seq,
                   size_t events)
{
    struct audit_fwd_dest_private *p = d->priv;
    char why[200] = "";
    gw_err rc = d->cfg.tr->send(d, &p->b, why, sizeof why);
    if (rc != GW_OK) {
        failed(d, why[0] ? why : gw_err_message(rc));
        return -1;
    }
    succeeded(d);
    bool at_once = d->cfg.tr->alive == NULL;
    pthread_mutex_lock(&p->mu);
    struct fwd_tenant *t = tenant_find(p, tenant);
    if (last > t->sent)
        t->sent = last;
    if (cp_seq > t->head_cp)
        t->head_cp = cp_seq;
    if (cp_seq)
        p->heads++;
    if (at_once && t->sent > t->cursor) {
        p->delivered += events;
        t->cursor = t->sent;
        t->oldest_ts_ms = t->cursor < t->head ? t->oldest_ts_ms : 0;
    }
    int64_t cursor = t->cursor;
    if (!at_once && !p->mark_ns) { /* what the connection took so far settles in a second */
        for (size_t i = 0; i < p->n; i++)
            p->t[i].marked = p->t[i].sent;
        p->mark_ns = gw_mono_ns();
    }
    pthread_mutex_unlock(&p->mu);
    if (at_once && events)
        persist(d, tenant, cursor);
    return 1;
}

/* One batch for the tenant: 1 sent, 0 nothing to do, -1 failed. */
static int round_for(struct audit_fwd_dest *d, struct fwd_tenant *snap, bool heads_only)
{
    struct audit_fwd_dest_private *p = d->priv;
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    if (!heads_only && snap->sent < snap->head) {
        struct store_audit_filter f = {.tenant = snap->tenant,
                                       .vis = STORE_AUDIT_VIS_ALL,
                                       .after_seq = snap->sent};
        if (store_audit_query(d->st, &f, d->cfg.batch, &rows, &n) != GW_OK) {
            failed(d, "the store cannot be read");
            return -1;
        }
    }
    if (!heads_only && n == 0) { /* the writer's head is ahead of the store: believe the store */
        pthread_mutex_lock(&p->mu);
        struct fwd_tenant *t = tenant_find(p, snap->tenant);
        if (t->head == snap->head && t->sent == snap->sent)
            t->head = t->sent;
        pthread_mutex_unlock(&p->mu);
    }
    batch_reset(&p->b);
    size_t k = 0;
    for (; k < n && (k == 0 || p->b.text.len < TEXT_SOFT_MAX); k++)
        add_row(d, &rows[k]);
    int64_t last = k ? rows[k - 1].seq : snap->sent;
    if (k) {
        pthread_mutex_lock(&p->mu);
        struct fwd_tenant *t = tenant_find(p, snap->tenant);
        if (t->sent == t->cursor || t->oldest_ts_ms == 0)
            t->oldest_ts_ms = rows[0].ts_ms;
        if (last > t->head) /* the writer's word came later than the rows */
            t->head = last;
        pthread_mutex_unlock(&p->mu);
    }
    struct store_audit_checkpoint cp = {0};
    int64_t cp_seq = 0;
    if (due_head(d, snap->tenant, last, snap->head_cp, &cp)) {
        add_head(d, &cp);
        cp_seq = cp.seq;
    }
    /* the lease once more before each batch: a deposed node sends nothing */
    int r = p->b.n && lead(d) ? deliver(d, snap->tenant, last, cp_seq, k) : 0;
    store_audit_checkpoint_release(&cp); /* the records point into cp and rows until here */
    store_audit_rows_free(rows, n);
    return r;
}

/* A copy of the i-th tenant counted from the round-robin start; false past the last. */
static bool pick(struct audit_fwd_dest_private *p, struct fwd_tenant *out, size_t i)
{
    pthread_mutex_lock(&p->mu);
    bool found = false;
    if (i < p->n) {
        struct fwd_tenant *t = &p->t[(p->next + i) % p->n];
        *out = *t;
        out->tenant = gw_xstrdup(t->tenant);
        found = true;
    }
    pthread_mutex_unlock(&p->mu);
    return found;
}

/* The store's head of the tenant, for commits the writer's word did not reach (a destination
 * started while the trail was being written): true when it is ahead of what was known. */
static bool refresh_head(struct audit_fwd_dest *d, const char *tenant)
{
    int64_t seq = 0;
    char *hash = NULL;
    if (store_audit_head(d->st, tenant, &seq, &hash) != GW_OK)
        return false;
    free(hash);
    struct audit_fwd_dest_private *p = d->priv;
    pthread_mutex_lock(&p->mu);
    struct fwd_tenant *t = tenant_find(p, tenant);
    bool ahead = seq > t->head;
    if (ahead)
        t->head = seq;
    pthread_mutex_unlock(&p->mu);
    return ahead;
}

static int64_t dest_tick(void *ctx)
{
    struct audit_fwd_dest *d = ctx;
    struct audit_fwd_dest_private *p = d->priv;
    if (atomic_load(&p->stopping))
        return 0;
    int64_t now_ns = gw_mono_ns(), now_ms = gw_now_ms();
    pthread_mutex_lock(&p->mu);
    int64_t retry_at = p->retry_at_ms;
    pthread_mutex_unlock(&p->mu);
    if (retry_at && now_ms < retry_at) /* kicked during the backoff: wait it out */
        return now_ns + (retry_at - now_ms) * 1000000;
    if (!lead(d))
        return p->lease_at_ns;
    settle(d, now_ns);
    bool more = false;
    for (int round = 0; round < ROUNDS && !atomic_load(&p->stopping); round++) {
        bool sent = false;
        struct fwd_tenant snap;
        for (size_t i = 0; pick(p, &snap, i); i++) {
            int r = 0;
            bool leading = atomic_load(&p->leader); /* the last batch may have lost the lease */
            if (leading && !snap.loaded && load(d, &snap) != GW_OK)
                r = (failed(d, "the store cannot be read"), -1);
            else if (leading && snap.loaded && snap.sent < snap.head)
                r = round_for(d, &snap, false);
            free(snap.tenant);
            if (r < 0)
                goto backoff;
            sent = sent || r > 0;
        }
        pthread_mutex_lock(&p->mu);
        p->next++;
        more = false;
        for (size_t i = 0; i < p->n; i++)
            more = more || !p->t[i].loaded || p->t[i].sent < p->t[i].head;
        pthread_mutex_unlock(&p->mu);
        if (!sent && !more)
            break;
        if (!atomic_load(&p->leader))
            return p->lease_at_ns;
    }
    if (!more) { /* idle: a commit nobody told about, and the heads signed since */
        struct fwd_tenant snap;
        if (p->shared)
            discover(d);
        for (size_t i = 0; pick(p, &snap, i); i++) {
            bool ahead = refresh_head(d, snap.tenant);
            more = more || ahead;
            int r = snap.loaded ? round_for(d, &snap, true) : 0;
            free(snap.tenant);
            if (r < 0)
                goto backoff;
        }
        if (!atomic_load(&p->leader))
            return p->lease_at_ns;
    }
    if (d->cfg.tr->alive) {
        pthread_mutex_lock(&p->mu);
        bool unsettled = false;
        for (size_t i = 0; i < p->n; i++)
            unsettled = unsettled || p->t[i].sent > p->t[i].cursor;
        pthread_mutex_unlock(&p->mu);
        if (unsettled && !more)
            return (p->mark_ns ? p->mark_ns : gw_mono_ns()) + (int64_t)SETTLE_MS * 1000000;
    }
    return gw_mono_ns() + (more ? 0 : (int64_t)(p->shared ? POLL_MS : IDLE_MS) * 1000000);
backoff:
    pthread_mutex_lock(&p->mu);
    retry_at = p->retry_at_ms;
    pthread_mutex_unlock(&p->mu);
    return gw_mono_ns() + GW_MAX(retry_at - gw_now_ms(), 1) * 1000000;
}

/* The worker carries no items: it runs on kicks and ticks only. */
static gw_err no_process(void *ctx, void *const *items, size_t n)
{
    GW_UNUSED(ctx);
    GW_UNUSED(items);
    GW_UNUSED(n);
    return GW_OK;
}

static void no_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    GW_UNUSED(item);
}

static const struct gw_worker_ops dest_ops = {
    .name = "siem-forward",
    .what = "SIEM deliveries",
    .queue_cap = 1,
    .batch_max = 1,
    .process = no_process,
    .release = no_release,
    .tick = dest_tick,
};

gw_err audit_fwd_dest_start(struct audit_fwd_dest *d, char **tenants, size_t n)
{
    struct audit_fwd_dest_private *p = gw_xcalloc(1, sizeof *p);
    d->priv = p;
    pthread_mutex_init(&p->mu, NULL);
    gw_buf_init(&p->b.text, (size_t)32 << 20);
    gw_err rc = store_lease_open(d->st, d->cfg.name, d->env.node, &p->lease);
    if (rc != GW_OK)
        return rc;
    p->shared = store_lease_shared(p->lease);
    for (size_t i = 0; i < n; i++) {
        int64_t head = 0;
        char *hash = NULL;
        store_audit_head(d->st, tenants[i], &head, &hash);
        free(hash);
        struct fwd_tenant *t = tenant_find(p, tenants[i]);
        t->head = head;
        t->initial = true;
    }
    rc = gw_worker_start(&dest_ops, d, &p->w);
    if (rc == GW_OK)
        gw_worker_kick(p->w);
    return rc;
}

void audit_fwd_dest_stop(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    if (!p)
        return;
    atomic_store(&p->stopping, true);
    if (p->w)
        gw_worker_stop(p->w);
    if (d->cfg.tr->close)
        d->cfg.tr->close(d);
    store_lease_close(p->lease); /* the next node may lead from here */
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i].tenant);
    free(p->t);
    free(p->b.recs);
    gw_buf_release(&p->b.text);
    pthread_mutex_destroy(&p->mu);
    free(p);
    d->priv = NULL;
}

bool audit_fwd_dest_failing(struct audit_fwd_dest *d)
{
    struct audit_fwd_dest_private *p = d->priv;
    pthread_mutex_lock(&p->mu);
    bool failing = p->failing_rounds > 0;
    pthread_mutex_unlock(&p->mu);
    return failing;
}

json_t *audit_fwd_dest_status(struct audit_fwd_dest *d, const char *tenant)
{
    struct audit_fwd_dest_private *p = d->priv;
    int64_t now = gw_now_ms();
    char ts[40];
    pthread_mutex_lock(&p->mu);
    bool leader = atomic_load(&p->leader);
    json_t *tenants = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct fwd_tenant *t = &p->t[i];
        if (!leader || (tenant && strcmp(tenant, t->tenant) != 0)) /* positions: the leader's */
            continue;
        int64_t lag = t->head > t->cursor ? t->head - t->cursor : 0;
        int64_t lag_s = lag && t->oldest_ts_ms ? GW_MAX(now - t->oldest_ts_ms, 0) / 1000 : 0;
        json_array_append_new(tenants, json_pack("{s:s,s:I,s:I,s:I,s:I}", "tenant", t->tenant,
                                                 "cursor", (json_int_t)t->cursor, "head",
                                                 (json_int_t)t->head, "lag_events", (json_int_t)lag,
                                                 "lag_seconds", (json_int_t)lag_s));
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o}", "name", d->cfg.name, "format",
                          d->cfg.fmt->name, "transport", d->cfg.tr->name, "endpoint",
                          d->cfg.endpoint, "state", p->failing_rounds ? "retrying" : "ok",
                          "delivered", (json_int_t)p->delivered, "heads_delivered",
                          (json_int_t)p->heads, "failures", (json_int_t)p->failures, "tenants",
                          tenants);
    if (p->failing_rounds) {
        gw_time_iso8601(p->last_error_ms, ts, sizeof ts);
        json_object_set_new(o, "last_error", json_string(p->last_error));
        json_object_set_new(o, "last_error_at", json_string(ts));
        json_object_set_new(o, "retry_in_ms",
                            json_integer(GW_MAX(p->retry_at_ms - now, (int64_t)0)));
    }
    if (p->last_ok_ms) {
        gw_time_iso8601(p->last_ok_ms, ts, sizeof ts);
        json_object_set_new(o, "last_delivery_at", json_string(ts));
    }
    pthread_mutex_unlock(&p->mu);
    char *node = NULL;
    if (!leader && store_lease_holder(d->st, d->cfg.name, &node) != GW_OK)
        node = NULL;
    json_object_set_new(o, "leader", json_boolean(leader));
    json_object_set_new(o, "leader_node",
                        leader ? json_string(d->env.node)
                        : node ? json_string(node)
                               : json_null());
    free(node);
    return o;
}
