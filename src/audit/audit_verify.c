/* SPDX-License-Identifier: MIT
 * audit_verify.c — verification of a tenant's trail, in the store or in a JSONL file, that
 * rests on signed heads and says what it relied on.
 *
 * One walk for both sources. Events come in seq order; each must carry the next seq (else the
 * first missing or repeated seq is bad). Every head must verify with a trusted key (else it is
 * forged: bad at its seq). A head confirms the events since the previous one by authenticating
 * backwards: its signed hash must be the hash recomputed from the last event's content, whose
 * prev_hash is then the authentic hash of the event before, and so on; the tree rebuilt from
 * the recomputed hashes must have its signed root. When that fails at event k, events after k
 * are authentic and k is not; the events between the previous head and k are confirmed too if
 * the tree with k's authentic hash in place has the signed root, so the first bad event is k
 * exactly; otherwise it is the first event after the previous head, the first one nothing
 * confirms. Events after the last head are not covered by a signature, which is a failure
 * too: the gateway signs every commit. Truncation shows as heads, the writer's end or the
 * caller's head beyond the last event. The result names the anchor the walk started from
 * (event 1, a head in the file, the caller's head) and counts the events a signature covers.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#define WINDOW_MAX 65536 /* events kept between two heads */
#define HEAD_PAGE 500

struct event {
    int64_t seq;
    char stored[65], computed[65], prev[65];
};

struct chain {
    char *tenant;
    int64_t expected;        /* next seq */
    char prev[65];           /* stored hash of the last event walked */
    bool broken;             /* sequence broken: events are only counted from here */
    bool started;            /* an event or an anchor was seen */
    int64_t confirmed;       /* events up to here are confirmed (or before the anchor) */
    char confirmed_hash[65]; /* the authentic hash of event `confirmed` */
    struct audit_frontier tree, tree_confirmed;
    bool tree_known;   /* tree is over every leaf from 1 */
    struct event *win; /* events confirmed+1 .. expected-1 */
    size_t n_win, cap_win;
    struct store_audit_checkpoint *pend; /* heads beyond the walk, ascending */
    size_t n_pend;
    const json_t *supplied; /* the caller's head of this tenant */
    struct store_audit_checkpoint sup;
    struct audit_frontier sup_tree;
    bool sup_tree_known, sup_checked;
    int64_t bad;
    char reason[256];
    int64_t events, heads, last_seq, signed_events, signed_through;
    bool failed_once; /* confirmation stopped being continuous */
    enum audit_anchor anchor;
    int64_t anchor_seq;
    struct audit_range ranges[AUDIT_VERIFY_RANGES];
    size_t n_ranges;
    struct chain *next;
};

struct walk {
    struct audit_keyring ring;
    struct audit_signer signers[AUDIT_VERIFY_SIGNERS];
    size_t n_signers;
    struct chain *chains;
    const struct audit_verify_opts *opts;
};

static struct chain *chain_new(const char *tenant)
{
    struct chain *c = gw_xcalloc(1, sizeof *c);
    c->tenant = gw_xstrdup(tenant ? tenant : "");
    c->expected = 1;
    memcpy(c->prev, AUDIT_ZERO_HASH, 65);
    memcpy(c->confirmed_hash, AUDIT_ZERO_HASH, 65);
    c->tree_known = true;
    return c;
}

static void chain_free(struct chain *c)
{
    for (size_t i = 0; i < c->n_pend; i++)
        store_audit_checkpoint_release(&c->pend[i]);
    store_audit_checkpoint_release(&c->sup);
    free(c->pend);
    free(c->win);
    free(c->tenant);
    free(c);
}

static void GW_PRINTF(3, 4) chain_fail(struct chain *c, int64_t seq, const char *fmt, ...)
{
    if (c->bad != 0 && c->bad <= seq)
        return;
    c->bad = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

static void unsigned_range(struct chain *c, int64_t from, int64_t to)
{
    if (from > to)
        return;
    if (c->n_ranges && c->ranges[c->n_ranges - 1].to + 1 >= from) {
        c->ranges[c->n_ranges - 1].to = GW_MAX(to, c->ranges[c->n_ranges - 1].to);
        return;
    }
    if (c->n_ranges < AUDIT_VERIFY_RANGES) {
        c->ranges[c->n_ranges].from = from;
        c->ranges[c->n_ranges++].to = to;
    }
}

static void leaf_push(struct audit_frontier *t, const char *hex)
{
    unsigned char leaf[AUDIT_HASH_LEN];
    if (!audit_leaf_of_hex(hex, leaf))
        memset(leaf, 0, sizeof leaf); /* not a hash: a leaf no signed root can have */
    audit_frontier_push(t, leaf, NULL, NULL);
}

static bool root_is(const struct audit_frontier *t, const char *root_hex)
{
    unsigned char root[AUDIT_HASH_LEN], want[AUDIT_HASH_LEN];
    audit_frontier_root(t, root);
    return root_hex && strlen(root_hex) == 2 * AUDIT_HASH_LEN &&
           gw_unhex(root_hex, want, sizeof want) && memcmp(root, want, sizeof root) == 0;
}

/* --- confirming the window against a head --------------------------------------------------- */

/* The window (events confirmed+1 .. h->seq) against the head h at the walk's position; what
 * says "your head" or "the signed head" in reasons. */
static void confirm(struct chain *c, const struct store_audit_checkpoint *h, const char *what)
{
    const char *want = h->hash;
    size_t k = c->n_win;
    while (k > 0 && strcmp(c->win[k - 1].computed, want) == 0)
        want = c->win[--k].prev;
    int64_t first = c->confirmed + 1, last = h->seq;
    bool chain_ok = k == 0 && strcmp(want, c->confirmed_hash) == 0;
    if (chain_ok && (!h->root || !c->tree_known || root_is(&c->tree, h->root))) {
        c->signed_events += (int64_t)c->n_win;
    } else if (chain_ok) {
        chain_fail(c, GW_MAX(last, 1),
                   "%s at seq %lld does not have the root of the events "
                   "it names (the tree was rewritten)",
                   what, (long long)last);
        unsigned_range(c, first, last);
        c->tree_known = false;
    } else if (k == 0) {
        chain_fail(c, first, "event %lld does not continue the signed head at seq %lld",
                   (long long)first, (long long)c->confirmed);
        unsigned_range(c, first, last);
        c->tree_known = false;
    } else {
        /* event bad is not what the head signed; the ones after it are (backwards) */
        const struct event *e = &c->win[k - 1];
        int64_t bad = e->seq;
        bool exact = k == 1 && strcmp(e->prev, c->confirmed_hash) == 0;
        if (!exact && c->tree_known && h->root) {
            struct audit_frontier t = c->tree_confirmed;
            for (size_t i = 0; i < c->n_win; i++)
                leaf_push(&t, i == k - 1 ? want : c->win[i].computed);
            exact = root_is(&t, h->root);
            if (exact)
                c->tree = t;
        }
        if (!exact)
            c->tree_known = false;
        int64_t from = exact ? bad : first;
        if (strcmp(e->computed, e->stored) != 0)
            chain_fail(c, from, "event %lld modified (its content does not match its hash)%s",
                       (long long)bad,
                       exact ? ""
                             : "; the events before it since the last "
                               "head cannot be confirmed either");
        else
            chain_fail(c, from,
                       "event %lld is not the event %s at seq %lld covers (edited "
                       "with a recomputed hash, inserted or rewritten)%s",
                       (long long)bad, what, (long long)last,
                       exact ? "" : "; events from here cannot be confirmed");
        c->signed_events += last - bad + (exact ? bad - first : 0);
        unsigned_range(c, from, bad);
    }
    if (!chain_ok || (h->root && c->tree_known && !root_is(&c->tree, h->root)))
        c->failed_once = true;
    if (!c->failed_once)
        c->signed_through = last;
    c->confirmed = last;
    snprintf(c->confirmed_hash, sizeof c->confirmed_hash, "%s", h->hash);
    c->tree_confirmed = c->tree;
    c->n_win = 0;
}

/* A head whose signature was checked, at or beyond the walk's position. */
static void head_at(struct chain *c, const struct store_audit_checkpoint *h, const char *what)
{
    int64_t pos = c->expected - 1;
    if (c->broken)
        return;
    if (h->seq > pos) { /* later: when the walk gets there */
        c->pend = gw_xrealloc(c->pend, (c->n_pend + 1) * sizeof *c->pend);
        size_t i = c->n_pend++;
        while (i > 0 && c->pend[i - 1].seq > h->seq) {
            c->pend[i] = c->pend[i - 1];
            i--;
        }
        struct store_audit_checkpoint *p = &c->pend[i];
        memset(p, 0, sizeof *p);
        p->tenant = gw_xstrdup(h->tenant);
        p->seq = h->seq;
        p->hash = gw_xstrdup(h->hash);
        p->root = h->root ? gw_xstrdup(h->root) : NULL;
        return;
    }
    if (h->seq == pos && h->seq > c->confirmed)
        confirm(c, h, what);
    else if (h->seq == c->confirmed && strcmp(h->hash, c->confirmed_hash) != 0)
        chain_fail(c, GW_MAX(h->seq, 1),
                   "%s at seq %lld names another event %lld than the "
                   "signed head before it",
                   what, (long long)h->seq, (long long)h->seq);
}

static bool head_trusted(struct walk *w, struct chain *c, const struct store_audit_checkpoint *h)
{
    const struct audit_keyring_key *k = audit_keyring_find(&w->ring, h->key_id);
    if (!k) {
        chain_fail(c, GW_MAX(h->seq, 1),
                   "the head at seq %lld is signed by key %.16s, which "
                   "is not trusted (forged, or a key you do not hold)",
                   (long long)h->seq, h->key_id ? h->key_id : "?");
        return false;
    }
    if (!audit_checkpoint_check(k->pub, h)) {
        chain_fail(c, GW_MAX(h->seq, 1),
                   "the head at seq %lld has an invalid signature "
                   "(forged or altered)",
                   (long long)h->seq);
        return false;
    }
    c->heads++;
    size_t i = 0;
    while (i < w->n_signers && strcmp(w->signers[i].key_id, k->key_id) != 0)
        i++;
    if (i == w->n_signers && i < AUDIT_VERIFY_SIGNERS)
        memcpy(w->signers[w->n_signers++].key_id, k->key_id, sizeof k->key_id);
    return true;
}

/* The walk's signers into r, named by the nodes that published their keys (store). */
static void signers_of(struct audit_verify_result *r, const struct walk *w, struct store *st)
{
    struct store_audit_key *keys = NULL;
    size_t n = 0;
    if (st && store_audit_key_list(st, &keys, &n) != GW_OK)
        n = 0;
    r->n_signers = w->n_signers;
    memcpy(r->signers, w->signers, w->n_signers * sizeof *w->signers);
    for (size_t i = 0; i < r->n_signers; i++)
        for (size_t j = 0; j < n; j++)
            if (keys[j].node_id && strcmp(keys[j].key_id, r->signers[i].key_id) == 0)
                snprintf(r->signers[i].node_id, sizeof r->signers[i].node_id, "%s",
                         keys[j].node_id);
    store_audit_key_list_free(keys, n);
}

/* The first event of the leftmost complete subtree in which two trees of the same size
 * differ (0: none): where a log and the head the auditor kept part ways. */
static int64_t first_difference(const struct audit_frontier *a, const struct audit_frontier *b)
{
    int64_t start = 0;
    for (int level = AUDIT_TREE_LEVELS - 1; level >= 0; level--) {
        if (!((uint64_t)a->size >> level & 1))
            continue;
        if (memcmp(a->h[level], b->h[level], AUDIT_HASH_LEN) != 0)
            return start + 1;
        start += (int64_t)1 << level;
    }
    return 0;
}

/* The caller's head: matched when the walk stands at its size. With both frontiers known, a
 * log that parted from it is found to the first differing subtree of the head's frontier
 * (the log's own heads may be signed over the other branch: the gateway cannot know of a cut
 * tail it was never shown). */
static void supplied_at(struct chain *c)
{
    if (!c->supplied || c->sup_checked || c->broken || c->expected - 1 != c->sup.seq)
        return;
    c->sup_checked = true;
    int64_t apart = c->tree_known && c->sup_tree_known ? first_difference(&c->tree, &c->sup_tree)
                                                       : -1;
    if (apart > 0) {
        chain_fail(c, apart,
                   "events from %lld on are not the log your head at seq %lld covers "
                   "(rewritten, or cut and written again)",
                   (long long)apart, (long long)c->sup.seq);
        unsigned_range(c, apart, c->sup.seq);
        c->failed_once = true;
    } else if (c->sup.seq > c->confirmed) {
        confirm(c, &c->sup, "your head");
    } else if (strcmp(c->sup.hash, c->confirmed_hash) != 0 ||
               (c->tree_known && !root_is(&c->tree, c->sup.root))) {
        chain_fail(c, GW_MAX(c->sup.seq, 1),
                   "the log does not match your head at seq %lld "
                   "(rewritten before it)",
                   (long long)c->sup.seq);
    }
}

/* --- events -------------------------------------------------------------------------------------
 */

static void event(struct chain *c, int64_t seq, const char *prev, const char *stored,
                  const char *computed)
{
    c->events++;
    c->started = true;
    c->last_seq = GW_MAX(c->last_seq, seq);
    if (c->broken) {
        unsigned_range(c, seq, seq);
        return;
    }
    if (seq != c->expected) {
        c->broken = true;
        if (seq > c->expected)
            chain_fail(c, c->expected,
                       "expected event %lld, found %lld: missing (deleted), "
                       "reordered or cut before",
                       (long long)c->expected, (long long)seq);
        else
            chain_fail(c, seq,
                       "event %lld appears again after event %lld: inserted or "
                       "reordered",
                       (long long)seq, (long long)c->expected - 1);
        unsigned_range(c, GW_MIN(seq, c->confirmed + 1), c->expected - 1);
        unsigned_range(c, seq, seq);
        return;
    }
    if (c->n_win == WINDOW_MAX) {
        c->broken = true;
        chain_fail(c, c->confirmed + 1,
                   "more than %d events follow seq %lld without a signed "
                   "head",
                   WINDOW_MAX, (long long)c->confirmed);
        unsigned_range(c, c->confirmed + 1, seq);
        return;
    }
    if (c->n_win == c->cap_win) {
        c->cap_win = c->cap_win ? 2 * c->cap_win : 64;
        c->win = gw_xrealloc(c->win, c->cap_win * sizeof *c->win);
    }
    struct event *e = &c->win[c->n_win++];
    e->seq = seq;
    snprintf(e->stored, sizeof e->stored, "%s", stored);
    snprintf(e->computed, sizeof e->computed, "%s", computed);
    snprintf(e->prev, sizeof e->prev, "%s", prev);
    snprintf(c->prev, sizeof c->prev, "%s", stored);
    leaf_push(&c->tree, computed);
    c->expected = seq + 1;
    while (c->n_pend && c->pend[0].seq <= seq) {
        struct store_audit_checkpoint p = c->pend[0];
        memmove(c->pend, c->pend + 1, --c->n_pend * sizeof *c->pend);
        if (p.seq == seq)
            head_at(c, &p, "the signed head");
        store_audit_checkpoint_release(&p);
    }
    supplied_at(c);
}

/* A head that starts the walk: the first line of a tenant in a file, or the caller's head. */
static void anchor(struct chain *c, const struct store_audit_checkpoint *h, const json_t *frontier,
                   enum audit_anchor kind)
{
    c->started = true;
    c->anchor = kind;
    c->anchor_seq = h->seq;
    c->expected = h->seq + 1;
    c->confirmed = c->signed_through = h->seq;
    snprintf(c->confirmed_hash, sizeof c->confirmed_hash, "%s", h->hash);
    snprintf(c->prev, sizeof c->prev, "%s", h->hash);
    c->tree_known = h->root && audit_frontier_from_json(frontier, h->seq, h->root, &c->tree);
    if (!c->tree_known)
        memset(&c->tree, 0, sizeof c->tree);
    c->tree_confirmed = c->tree;
}

/* --- the result ------------------------------------------------------------------------------ */

static void chain_finish(struct chain *c, int64_t expected_last, const char *what)
{
    if (c->supplied && !c->sup_checked) {
        if (c->last_seq < c->sup.seq && !c->broken)
            chain_fail(c, c->last_seq + 1,
                       "truncated: the log ends at seq %lld but your head "
                       "is at seq %lld",
                       (long long)c->last_seq, (long long)c->sup.seq);
        else if (c->anchor_seq > c->sup.seq && c->bad == 0)
            snprintf(c->reason, sizeof c->reason,
                     "the log starts after your head (at seq "
                     "%lld, yours is %lld): it cannot be checked against it here",
                     (long long)c->anchor_seq, (long long)c->sup.seq);
    }
    if (c->n_pend)
        chain_fail(c, c->last_seq + 1,
                   "truncated: the log ends at seq %lld but a signed head "
                   "at seq %lld covers more",
                   (long long)c->last_seq, (long long)c->pend[c->n_pend - 1].seq);
    if (expected_last > c->last_seq && !c->n_pend)
        chain_fail(c, c->last_seq + 1, "truncated: the log ends at seq %lld but %s is seq %lld",
                   (long long)c->last_seq, what, (long long)expected_last);
    if (c->n_win) {
        if (!c->broken) /* else the break says why no head confirms them */
            chain_fail(c, c->confirmed + 1,
                       "events %lld..%lld are not covered by a signed "
                       "head (added outside the gateway, or the log was cut before its head)",
                       (long long)c->confirmed + 1, (long long)c->win[c->n_win - 1].seq);
        unsigned_range(c, c->confirmed + 1, c->win[c->n_win - 1].seq);
    }
}

static void result_of(struct audit_verify_result *r, struct chain *chains, bool name_tenant,
                      int64_t expected_last)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    r->roots_checked = true;
    r->expected_last = expected_last;
    for (struct chain *c = chains; c; c = c->next) {
        r->events_checked += c->events;
        r->checkpoints_checked += c->heads;
        r->signed_events += c->signed_events;
        r->last_seq = GW_MAX(r->last_seq, c->last_seq);
        r->roots_checked = r->roots_checked && c->tree_known;
        if (c == chains || c->anchor > r->anchor) {
            r->anchor = c->anchor;
            r->anchor_seq = c->anchor_seq;
        }
        if (c == chains)
            r->signed_through = c->signed_through;
        for (size_t i = 0; i < c->n_ranges && r->n_unsigned_ranges < AUDIT_VERIFY_RANGES; i++)
            r->unsigned_ranges[r->n_unsigned_ranges++] = c->ranges[i];
        bool failed = c->bad || (c->reason[0] && !c->sup_checked && c->supplied);
        if (failed && (r->ok || (c->bad && c->bad < r->first_bad_seq))) {
            r->ok = false;
            r->first_bad_seq = c->bad;
            if (name_tenant)
                snprintf(r->reason, sizeof r->reason, "tenant %.64s: %.180s", c->tenant, c->reason);
            else
                snprintf(r->reason, sizeof r->reason, "%s", c->reason);
        }
    }
    r->unsigned_events = r->events_checked - r->signed_events;
}

static const char *const anchor_names[] = {
    [AUDIT_ANCHOR_GENESIS] = "genesis",
    [AUDIT_ANCHOR_FILE_HEAD] = "file_head",
    [AUDIT_ANCHOR_SUPPLIED] = "supplied_head",
};

json_t *audit_verify_result_json(const struct audit_verify_result *r)
{
    json_t *ranges = json_array();
    for (size_t i = 0; i < r->n_unsigned_ranges; i++)
        json_array_append_new(ranges, json_pack("[I,I]", (json_int_t)r->unsigned_ranges[i].from,
                                                (json_int_t)r->unsigned_ranges[i].to));
    json_t *signers = json_array();
    for (size_t i = 0; i < r->n_signers; i++)
        json_array_append_new(signers,
                              json_pack("{s:s,s:s?}", "key_id", r->signers[i].key_id, "node_id",
                                        r->signers[i].node_id[0] ? r->signers[i].node_id : NULL));
    return json_pack("{s:b,s:o,s:I,s:I,s:I,s:s,s:{s:s,s:I},s:I,s:I,s:I,s:o,s:b,s:o,s:o}", "ok",
                     r->ok, "first_bad_seq",
                     !r->ok && r->first_bad_seq > 0 ? json_integer(r->first_bad_seq) : json_null(),
                     "events_checked", (json_int_t)r->events_checked, "checkpoints_checked",
                     (json_int_t)r->checkpoints_checked, "last_seq", (json_int_t)r->last_seq,
                     "reason", r->reason, "anchor", "kind", anchor_names[r->anchor], "seq",
                     (json_int_t)r->anchor_seq, "signed_events", (json_int_t)r->signed_events,
                     "unsigned_events", (json_int_t)r->unsigned_events, "signed_through",
                     (json_int_t)r->signed_through, "unsigned_ranges", ranges, "roots_checked",
                     r->roots_checked, "expected_last_seq",
                     r->expected_last > 0 ? json_integer(r->expected_last) : json_null(), "signers",
                     signers);
}

/* --- the caller's head ------------------------------------------------------------------------ */

static gw_err take_supplied(struct walk *w, struct chain *c)
{
    const json_t *h = w->opts ? w->opts->head : NULL;
    if (!h)
        return GW_OK;
    if (audit_checkpoint_from_json(h, &c->sup) != GW_OK || !c->sup.root)
        return GW_EINVAL;
    if (strcmp(c->sup.tenant, c->tenant) != 0) {
        store_audit_checkpoint_release(&c->sup);
        return GW_OK; /* another tenant's: not ours to check */
    }
    if (!head_trusted(w, c, &c->sup)) {
        store_audit_checkpoint_release(&c->sup);
        return GW_OK; /* the failure is recorded */
    }
    c->heads--; /* counted with the log's heads only */
    c->supplied = h;
    c->sup_tree_known = audit_frontier_from_json(json_object_get(h, "frontier"), c->sup.seq,
                                                 c->sup.root, &c->sup_tree);
    return GW_OK;
}

/* The walk may start from the caller's head when the log starts right after it. */
static void start_from_supplied(struct chain *c, int64_t first_seq)
{
    if (c->supplied && !c->started && first_seq == c->sup.seq + 1 && c->sup.seq > 0) {
        anchor(c, &c->sup, json_object_get(c->supplied, "frontier"), AUDIT_ANCHOR_SUPPLIED);
        c->sup_checked = true;
    }
}

/* --- store -------------------------------------------------------------------------------------
 */

struct store_walk {
    struct walk *w;
    struct chain *c;
    struct store *st;
    int64_t end;              /* the writer's end when the walk started */
    int64_t beyond, n_beyond; /* rows after it: the first one, how many */
    struct store_audit_checkpoint *cps;
    size_t ncp, icp;
    int64_t cp_after;
    bool cps_done;
    gw_err rc;
};

/* Feeds the stored heads with seq <= upto. */
static void store_heads(struct store_walk *s, int64_t upto)
{
    while (!s->cps_done) {
        if (s->icp == s->ncp) {
            store_checkpoint_list_free(s->cps, s->ncp);
            s->cps = NULL;
            s->icp = s->ncp = 0;
            s->rc = store_checkpoint_page(s->st, s->c->tenant, s->cp_after, HEAD_PAGE, &s->cps,
                                          &s->ncp);
            s->cps_done = s->rc != GW_OK || s->ncp == 0;
            if (s->cps_done)
                return;
            s->cp_after = s->cps[s->ncp - 1].seq;
        }
        const struct store_audit_checkpoint *h = &s->cps[s->icp];
        if (h->seq > upto)
            return;
        s->icp++;
        /* beyond the end read at the start: a commit since (its signature holds), or forged */
        bool trusted = h->seq > 0 && head_trusted(s->w, s->c, h);
        if (trusted && h->seq <= s->end)
            head_at(s->c, h, "the signed head");
    }
}

static int store_row(const struct store_audit_row *row, void *ctx)
{
    struct store_walk *s = ctx;
    if (row->seq > s->end) { /* committed since the walk started, or not by the writer */
        s->beyond = s->beyond ? s->beyond : row->seq;
        s->n_beyond++;
        return 0;
    }
    char computed[65];
    audit_row_compute_hash(row, computed);
    event(s->c, row->seq, row->prev_hash ? row->prev_hash : "", row->hash ? row->hash : "",
          computed);
    store_heads(s, row->seq);
    return s->rc != GW_OK;
}

/* Cluster mode: the size of the tenant's latest signed head in the store; other nodes' commits
 * reach it (rows and head are one transaction). 0 otherwise. */
static int64_t cluster_end(struct audit *a, const char *tenant)
{
    struct store_audit_checkpoint cp = {0};
    int64_t seq = 0;
    if (a->cluster && store_checkpoint_latest(audit_store(a), tenant, &cp) == GW_OK)
        seq = cp.seq;
    store_audit_checkpoint_release(&cp);
    return seq;
}

gw_err audit_verify_store(struct audit *a, const char *tenant, const struct audit_verify_opts *opts,
                          struct audit_verify_result *r)
{
    memset(r, 0, sizeof *r);
    if (!a || !tenant)
        return GW_EINVAL;
    /* Read the durable end first: the store holds at least that much from now on. */
    int64_t end, expected;
    char end_hash[65];
    audit_committed_head(a, tenant, &end, end_hash, &expected);
    end = GW_MAX(end, cluster_end(a, tenant));
    struct walk w = {.opts = opts};
    audit_trusted_keys(a, &w.ring);
    struct chain *c = chain_new(tenant);
    gw_err rc = take_supplied(&w, c);
    struct store_walk s = {.w = &w, .c = c, .st = audit_store(a), .end = end};
    struct store_audit_filter f = {.tenant = tenant, .vis = STORE_AUDIT_VIS_ALL};
    if (rc == GW_OK)
        rc = store_audit_scan(s.st, &f, store_row, &s);
    if (rc == GW_OK) {
        store_heads(&s, INT64_MAX);
        rc = s.rc;
    }
    /* rows up to it may be a commit under way (here, or on another node) */
    int64_t now = GW_MAX(audit_writing_end(a, tenant), cluster_end(a, tenant));
    if (rc == GW_OK && s.beyond > now) {
        chain_fail(c, s.beyond,
                   "events from %lld on follow the writer's end (%lld): added "
                   "outside the gateway",
                   (long long)s.beyond, (long long)now);
        unsigned_range(c, s.beyond, s.beyond + s.n_beyond - 1);
        c->events += s.n_beyond;
        c->last_seq = GW_MAX(c->last_seq, s.beyond + s.n_beyond - 1);
    }
    if (rc == GW_OK) {
        int64_t want = GW_MAX(expected, opts ? opts->expected_last_seq : 0);
        chain_finish(c, want, expected > end ? "the log file's signed head" : "the writer's end");
        result_of(r, c, false, want);
        signers_of(r, &w, s.st);
    }
    store_checkpoint_list_free(s.cps, s.ncp);
    chain_free(c);
    audit_keyring_release(&w.ring);
    return rc;
}

/* --- files -------------------------------------------------------------------------------------
 */

struct reader {
    int fd;
    char *buf;
    size_t cap, start, end, scanned;
    bool eof;
};

enum { LINE_EOF = 0, LINE_OK = 1, LINE_TOO_LONG = -1, LINE_IO = -2 };

static int next_line(struct reader *rd, char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(rd->buf + rd->scanned, '\n', rd->end - rd->scanned);
        if (nl) {
            *line = rd->buf + rd->start;
            *len = (size_t)(nl - *line);
            rd->start = rd->scanned = (size_t)(nl - rd->buf) + 1;
            return *len > AUDIT_MAX_LINE ? LINE_TOO_LONG : LINE_OK;
        }
        rd->scanned = rd->end;
        if (rd->end - rd->start > AUDIT_MAX_LINE)
            return LINE_TOO_LONG;
        if (rd->eof) {
            if (rd->start == rd->end)
                return LINE_EOF;
            *line = rd->buf + rd->start;
            *len = rd->end - rd->start;
            rd->start = rd->scanned = rd->end;
            return LINE_OK;
        }
        if (rd->start > 0) {
            memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
            rd->end -= rd->start;
            rd->scanned -= rd->start;
            rd->start = 0;
        }
        ssize_t n = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return LINE_IO;
        if (n == 0)
            rd->eof = true;
        rd->end += (size_t)n;
    }
}

static struct chain *chain_get(struct walk *w, const char *tenant)
{
    struct chain **pp = &w->chains;
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->tenant, tenant) == 0)
            return *pp;
    *pp = chain_new(tenant);
    take_supplied(w, *pp);
    return *pp;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* A key line: a rotation statement that extends the trusted keys. */
static void key_line(struct walk *w, const json_t *obj)
{
    struct store_audit_key k;
    char *prev = NULL;
    if (audit_key_from_json(obj, &k, &prev) == GW_OK)
        audit_keyring_follow(&w->ring, &k, prev);
    store_audit_key_release(&k);
    free(prev);
}

static void head_line(struct walk *w, struct chain *c, const json_t *obj, size_t lineno)
{
    struct store_audit_checkpoint cp;
    if (audit_checkpoint_from_json(obj, &cp) != GW_OK) {
        chain_fail(c, c->expected, "line %zu is a malformed head", lineno);
        c->broken = true;
        return;
    }
    bool trusted = head_trusted(w, c, &cp);
    if (!c->started && cp.seq > 0) {
        /* the first line of the tenant: the file starts here (rotated or reopened files). A
         * forged one still positions the walk, so the report names it, not every event. */
        if (c->supplied && c->sup.seq == cp.seq && strcmp(c->sup.hash, cp.hash) == 0)
            c->sup_checked = true;
        anchor(c, &cp, json_object_get(obj, "frontier"),
               c->sup_checked ? AUDIT_ANCHOR_SUPPLIED : AUDIT_ANCHOR_FILE_HEAD);
        supplied_at(c);
    } else if (trusted) {
        head_at(c, &cp, "the signed head");
    }
    store_audit_checkpoint_release(&cp);
}

/* One parsed line of the file; false stops the walk (malformed). */
static bool file_line(struct walk *w, struct chain **current, json_t *obj, size_t lineno)
{
    const char *type = gw_json_str(obj, "type");
    if (type && strcmp(type, "key") == 0 && !json_object_get(obj, "prev_hash")) {
        key_line(w, obj);
        return true;
    }
    const char *t = gw_json_str(obj, "tenant");
    const char *want = w->opts ? w->opts->tenant : NULL;
    if (!t) {
        chain_fail(*current, (*current)->expected, "line %zu has no tenant", lineno);
        return false;
    }
    if (want && strcmp(t, want) != 0)
        return true;
    struct chain *c = *current = chain_get(w, t);
    if (audit_json_is_checkpoint(obj)) {
        head_line(w, c, obj, lineno);
        return true;
    }
    json_t *seq = json_object_get(obj, "seq");
    const char *prev = gw_json_str(obj, "prev_hash"), *hash = gw_json_str(obj, "hash");
    if (!json_is_integer(seq) || !prev || !hash) {
        chain_fail(c, c->expected, "line %zu is not an audit event (seq, prev_hash, hash)", lineno);
        return false;
    }
    start_from_supplied(c, json_integer_value(seq));
    char computed[65] = "";
    char *stored = gw_xstrdup(hash);
    json_object_del(obj, "hash");
    audit_hash_object(obj, computed);
    event(c, json_integer_value(seq), prev, stored, computed);
    free(stored);
    return true;
}

static gw_err walk_file(struct walk *w, int fd)
{
    struct reader rd = {.fd = fd, .cap = 2 * AUDIT_MAX_LINE + 2};
    rd.buf = gw_xmalloc(rd.cap);
    const char *want = w->opts ? w->opts->tenant : NULL;
    struct chain *current = chain_get(w, want ? want : "");
    gw_err rc = GW_OK;
    size_t lineno = 0;
    char *line;
    size_t len;
    for (;;) {
        int got = next_line(&rd, &line, &len);
        if (got == LINE_EOF)
            break;
        lineno++;
        if (got == LINE_IO) {
            rc = GW_EIO;
            break;
        }
        if (got == LINE_TOO_LONG) {
            chain_fail(current, current->expected, "line %zu is longer than %u bytes", lineno,
                       AUDIT_MAX_LINE);
            break;
        }
        if (blank(line, len))
            continue;
        char msg[128];
        json_t *obj = gw_json_parse(line, len, GW_JSON_MAX_DEPTH, msg, sizeof msg);
        if (!json_is_object(obj)) {
            chain_fail(current, current->expected, "line %zu is not a JSON object%s%s", lineno,
                       obj ? "" : ": ", obj ? "" : msg);
            json_decref(obj);
            break;
        }
        bool go_on = file_line(w, &current, obj, lineno);
        json_decref(obj);
        if (!go_on)
            break;
    }
    free(rd.buf);
    return rc;
}

gw_err audit_verify_file(const char *path, const struct audit_verify_opts *opts,
                         struct audit_verify_result *r)
{
    memset(r, 0, sizeof *r);
    struct walk w = {.opts = opts};
    for (size_t i = 0; opts && i < opts->n_keys; i++)
        if (!audit_keyring_add(&w.ring, opts->keys[i])) {
            audit_keyring_release(&w.ring);
            return GW_EINVAL;
        }
    struct store_audit_checkpoint probe = {0};
    bool head_ok = !opts || !opts->head ||
                   (audit_checkpoint_from_json(opts->head, &probe) == GW_OK && probe.root);
    store_audit_checkpoint_release(&probe);
    if (!path || w.ring.n == 0 || !head_ok) {
        audit_keyring_release(&w.ring);
        return GW_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        audit_keyring_release(&w.ring);
        return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
    }
    gw_err rc = walk_file(&w, fd);
    close(fd);
    if (rc == GW_OK) {
        /* Drop the placeholder chain of an unfiltered file that never named it. */
        struct chain *c0 = w.chains;
        if (!opts->tenant && c0 && !c0->started && c0->bad == 0 && c0->next) {
            w.chains = c0->next;
            chain_free(c0);
        }
        for (struct chain *c = w.chains; c; c = c->next)
            chain_finish(c, opts->expected_last_seq, "the expected last seq");
        result_of(r, w.chains, !opts->tenant && w.chains && w.chains->next,
                  opts->expected_last_seq);
        signers_of(r, &w, NULL);
    }
    while (w.chains) {
        struct chain *c = w.chains;
        w.chains = c->next;
        chain_free(c);
    }
    audit_keyring_release(&w.ring);
    return rc;
}
