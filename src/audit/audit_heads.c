/* SPDX-License-Identifier: MIT
 * audit_heads.c — the writer's per-tenant heads, and the check each one passes when it is
 * loaded from the store.
 *
 * Every group commit stores its rows and the signed head that covers them in one transaction,
 * so a trail the gateway wrote ends exactly where its latest signed head says: same size, same
 * last hash, and the tree rebuilt from the stored nodes has the signed root. Anything else was
 * done outside the gateway: rows appended or cut, a head forged or removed, or the log file
 * holds a signed head beyond the store's end. Such a tenant is tainted: its events are still
 * recorded (sequence numbers continue after the furthest seq any signed head or row names, so
 * none is ever reused) but no head is signed over them any more, so verification keeps failing
 * at the first event no head covers. A store from before signed heads is adopted once: its
 * rows get their tree and a first signed head.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#define ADOPT_PAGE 4096

static size_t bucket_of(const char *tenant)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)tenant; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % AUDIT_BUCKETS;
}

struct audit_head *audit_head_find(struct audit *a, const char *tenant)
{
    for (struct audit_head *h = a->buckets[bucket_of(tenant)]; h; h = h->next)
        if (strcmp(h->tenant, tenant) == 0)
            return h;
    return NULL;
}

static void insert(struct audit *a, struct audit_head *h)
{
    pthread_mutex_lock(&a->mu);
    size_t b = bucket_of(h->tenant);
    h->next = a->buckets[b];
    a->buckets[b] = h;
    if (a->n_all == a->cap_all) {
        a->cap_all = a->cap_all ? 2 * a->cap_all : 8;
        a->all = gw_xrealloc(a->all, a->cap_all * sizeof *a->all);
    }
    a->all[a->n_all++] = h;
    pthread_mutex_unlock(&a->mu);
}

void audit_heads_free(struct audit *a)
{
    for (size_t i = 0; i < a->n_all; i++) {
        free(a->all[i]->tenant);
        free(a->all[i]);
    }
    free(a->all);
    a->all = NULL;
    a->n_all = a->cap_all = 0;
}

/* --- adoption of a trail from before signed heads ------------------------------------------ */

/* Builds the tree of rows 1..seq from their hashes, stores its nodes and a signed head. */
static gw_err adopt(struct audit *a, struct audit_head *h)
{
    struct audit_nodes ns = {.tenant = h->tenant};
    gw_err rc = GW_OK;
    memset(&h->tree, 0, sizeof h->tree);
    while (rc == GW_OK && h->tree.size < h->seq) {
        struct store_audit_hash *v = NULL;
        size_t n = 0;
        rc = store_audit_hashes(a->st, h->tenant, h->tree.size + 1, ADOPT_PAGE, &v, &n);
        for (size_t i = 0; rc == GW_OK && i < n; i++) {
            unsigned char leaf[AUDIT_HASH_LEN];
            if (v[i].n != h->tree.size + 1 || !audit_leaf_of_hex(v[i].hash, leaf))
                rc = GW_ECONFLICT;
            else
                audit_frontier_push(&h->tree, leaf, audit_nodes_keep, &ns);
        }
        if (rc == GW_OK && n == 0)
            rc = GW_ECONFLICT;
        store_audit_hashes_free(v, n);
    }
    struct store_audit_checkpoint head = {0};
    if (rc == GW_OK) {
        unsigned char root[AUDIT_HASH_LEN];
        char hex[2 * AUDIT_HASH_LEN + 1];
        audit_frontier_root(&h->tree, root);
        gw_hex(root, sizeof root, hex);
        rc = audit_checkpoint_sign(&a->keys, h->tenant, h->seq, h->hash, hex, audit_now_ms(),
                                   &head);
    }
    if (rc == GW_OK) {
        struct store_audit_commit c = {.heads = &head,
                                       .n_heads = 1,
                                       .nodes = ns.v,
                                       .n_nodes = ns.n};
        rc = store_audit_commit(a->st, &c);
    }
    if (rc == GW_OK)
        gw_info("audit: tenant %s: %lld events from before signed heads now have their Merkle "
                "tree and a signed head",
                h->tenant, (long long)h->seq);
    store_audit_checkpoint_release(&head);
    audit_nodes_clear(&ns);
    free(ns.v);
    return rc;
}

/* --- loading and the check ------------------------------------------------------------------- */

void audit_ring_refresh(struct audit *a)
{
    struct audit_keyring r = {0};
    if (audit_keyring_published(&r, a->st) == GW_OK) {
        pthread_mutex_lock(&a->mu);
        for (size_t i = 0; i < r.n; i++)
            audit_keyring_add(&a->ring, r.k[i].public_key);
        pthread_mutex_unlock(&a->mu);
    }
    audit_keyring_release(&r);
}

static bool head_signed(struct audit *a, const struct store_audit_checkpoint *c)
{
    const struct audit_keyring_key *k = audit_keyring_find(&a->ring, c->key_id);
    if (!k && a->cluster) {
        audit_ring_refresh(a);
        k = audit_keyring_find(&a->ring, c->key_id);
    }
    return k && audit_checkpoint_check(k->pub, c);
}

#define CONSISTENT_READS 8

/* The latest signed head, then the end of the rows. Rows and heads are committed together, so
 * the rows reach at least the head; in cluster mode rows beyond it are another node's commit
 * that landed between the two reads: read again. */
static gw_err read_end(struct audit *a, const char *tenant, struct store_audit_checkpoint *cp,
                       int64_t *rows, char **last)
{
    gw_err rc = GW_OK;
    for (int i = 0; i < CONSISTENT_READS; i++) {
        store_audit_checkpoint_release(cp);
        free(*last);
        *last = NULL;
        rc = store_checkpoint_latest(a->st, tenant, cp);
        if (rc != GW_OK && rc != GW_ENOTFOUND)
            return rc;
        gw_err hr = store_audit_head(a->st, tenant, rows, last);
        if (hr != GW_OK)
            return hr;
        if (!a->cluster || rc != GW_OK || *rows <= cp->seq)
            break;
    }
    return rc;
}

/* h's state from the store: the end of its rows and the latest head; checked. */
static gw_err check(struct audit *a, struct audit_head *h, const struct audit_file_tenant *ft)
{
    int64_t rows = 0;
    char *last = NULL;
    struct store_audit_checkpoint cp = {0};
    gw_err rc = read_end(a, h->tenant, &cp, &rows, &last);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        store_audit_checkpoint_release(&cp);
        free(last);
        return rc;
    }
    h->seq = rows;
    snprintf(h->hash, sizeof h->hash, "%s", rows > 0 && last ? last : AUDIT_ZERO_HASH);
    free(last);
    memset(&h->tree, 0, sizeof h->tree);
    bool have = rc == GW_OK, bad = true;
    long long s = have ? (long long)cp.seq : 0, n = (long long)rows;
    const char *t = h->tenant;
    unsigned char root[AUDIT_HASH_LEN], want[AUDIT_HASH_LEN];
    struct audit_store_tree src = {a->st, t};
    rc = GW_OK;
    if (have && !head_signed(a, &cp))
        audit_integrity_fail(a, t, GW_MAX(s, 1),
                             "the latest signed head (seq %lld) does not verify with the "
                             "gateway's keys: forged or altered",
                             s);
    else if ((!have || !cp.root) && rows > 0 && !a->adopt)
        audit_integrity_fail(a, t, s + 1, "events %lld..%lld are covered by no signed head", s + 1,
                             n);
    else if (!have || !cp.root)
        bad = false, rc = rows > 0 ? adopt(a, h) : GW_OK;
    else if (rows > cp.seq)
        audit_integrity_fail(a, t, s + 1,
                             "events %lld..%lld follow the latest signed head (seq %lld): "
                             "added outside the gateway",
                             s + 1, n, s);
    else if (rows < cp.seq)
        audit_integrity_fail(a, t, n + 1,
                             "the latest signed head covers events up to %lld but the store "
                             "ends at %lld: events were removed",
                             s, n);
    else if (strcmp(cp.hash, h->hash) != 0)
        audit_integrity_fail(a, t, n, "event %lld is not the one its signed head names", n);
    else if (audit_frontier_build(&h->tree, rows, audit_store_subtree, &src) != GW_OK ||
             !gw_unhex(cp.root, want, sizeof want) ||
             (audit_frontier_root(&h->tree, root), memcmp(root, want, sizeof root) != 0))
        audit_integrity_fail(a, t, 1,
                             "the stored events and tree do not have the root of the signed "
                             "head at seq %lld: rewritten",
                             s);
    else
        bad = false;
    h->tainted = bad;
    store_audit_checkpoint_release(&cp);
    if (rc == GW_OK && ft && ft->head.seq > h->seq) {
        audit_integrity_fail(a, t, n + 1,
                             "the log file holds a signed head at seq %lld but the store ends "
                             "at %lld: events were removed from the store",
                             (long long)ft->head.seq, n);
        h->tainted = true;
        h->seq = ft->head.seq; /* never reuse a seq the file (and its readers) have seen */
        snprintf(h->hash, sizeof h->hash, "%s", ft->head.hash);
    }
    return rc;
}

gw_err audit_head_load(struct audit *a, const char *tenant, const struct audit_file_tenant *ft,
                       struct audit_head **out)
{
    struct audit_head *h = gw_xcalloc(1, sizeof *h);
    h->tenant = gw_xstrdup(tenant);
    gw_err rc = check(a, h, ft);
    if (rc != GW_OK) {
        free(h->tenant);
        free(h);
        return rc;
    }
    h->committed_seq = h->expected = h->seq;
    memcpy(h->committed_hash, h->hash, sizeof h->hash);
    insert(a, h);
    *out = h;
    return GW_OK;
}

/* Cluster mode: h, whose frontier at h->seq is intact, brought to the store's latest signed head:
 * the events other nodes appended since are read once and pushed into the frontier, which must
 * then have the head's size, last hash and root, signed by a published key. GW_ECONFLICT when
 * anything differs (the caller checks the whole trail instead). */
static gw_err catch_up(struct audit *a, struct audit_head *h)
{
    struct store_audit_checkpoint cp = {0};
    gw_err rc = store_checkpoint_latest(a->st, h->tenant, &cp);
    if (rc == GW_ENOTFOUND)
        return h->seq == 0 ? GW_OK : GW_ECONFLICT;
    if (rc == GW_OK && (cp.seq < h->seq || !cp.root || !head_signed(a, &cp)))
        rc = GW_ECONFLICT;
    struct audit_frontier t = h->tree;
    char last[65];
    memcpy(last, h->hash, sizeof last);
    while (rc == GW_OK && t.size < cp.seq) {
        struct store_audit_hash *v = NULL;
        size_t n = 0;
        int64_t want = GW_MIN(cp.seq - t.size, (int64_t)ADOPT_PAGE);
        rc = store_audit_hashes(a->st, h->tenant, t.size + 1, (size_t)want, &v, &n);
        for (size_t i = 0; rc == GW_OK && i < n; i++) {
            unsigned char leaf[AUDIT_HASH_LEN];
            if (v[i].n != t.size + 1 || !audit_leaf_of_hex(v[i].hash, leaf)) {
                rc = GW_ECONFLICT;
            } else {
                audit_frontier_push(&t, leaf, NULL, NULL);
                snprintf(last, sizeof last, "%s", v[i].hash);
            }
        }
        if (rc == GW_OK && n == 0)
            rc = GW_ECONFLICT;
        store_audit_hashes_free(v, n);
    }
    unsigned char root[AUDIT_HASH_LEN], want_root[AUDIT_HASH_LEN];
    if (rc == GW_OK) {
        audit_frontier_root(&t, root);
        if (strcmp(last, cp.hash) != 0 || !gw_unhex(cp.root, want_root, sizeof want_root) ||
            memcmp(root, want_root, sizeof root) != 0)
            rc = GW_ECONFLICT;
    }
    if (rc == GW_OK) {
        h->tree = t;
        h->seq = cp.seq;
        memcpy(h->hash, last, sizeof h->hash);
    }
    store_audit_checkpoint_release(&cp);
    return rc;
}

gw_err audit_head_reload(struct audit *a, struct audit_head *h)
{
    gw_err rc = GW_OK;
    if (h->tainted) { /* nothing is signed: only never fall behind the store's end */
        int64_t rows = 0;
        char *last = NULL;
        rc = store_audit_head(a->st, h->tenant, &rows, &last);
        if (rc == GW_OK && rows > h->seq) {
            h->seq = rows;
            snprintf(h->hash, sizeof h->hash, "%s", last ? last : AUDIT_ZERO_HASH);
        }
        free(last);
    } else if (!a->cluster || h->tree.size != h->seq || catch_up(a, h) != GW_OK) {
        rc = check(a, h, NULL);
    }
    if (rc == GW_OK) {
        h->stale = false;
        pthread_mutex_lock(&a->mu);
        h->committed_seq = h->seq;
        memcpy(h->committed_hash, h->hash, sizeof h->hash);
        pthread_mutex_unlock(&a->mu);
    }
    return rc;
}
