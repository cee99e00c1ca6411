/* SPDX-License-Identifier: MIT
 * audit_proof.c — inclusion and consistency proofs computed from the store.
 *
 * A complete subtree of height h is read as one range: below AUDIT_TREE_STRIDE from the events'
 * hashes (at most 2^(STRIDE-1) of them), above from the stored nodes of the nearest stored
 * height below it (at most 2^(STRIDE-1) nodes). A proof needs about 2·log2(n) subtrees, so at
 * 10^6 events it costs some forty small range reads. A node the store lacks (a trail written
 * before the tree, or removed) is computed from its two halves instead. The hashes are read as
 * stored: a proof over tampered rows simply fails its check against the signed head.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/util.h"

#define MAX_LEVEL 62

/* Folds n (a power of two) hashes pairwise into one, in place. */
static void fold(unsigned char (*h)[AUDIT_HASH_LEN], size_t n, unsigned char out[AUDIT_HASH_LEN])
{
    for (; n > 1; n /= 2)
        for (size_t i = 0; i < n / 2; i++)
            audit_node_hash(h[2 * i], h[2 * i + 1], h[i]);
    memcpy(out, h[0], AUDIT_HASH_LEN);
}

/* The 2^(level-base) hashes under (level, idx) from one read: stored nodes of height base, or
 * events (base 0); false when the store lacks one. */
static bool read_range(const struct audit_store_tree *src, int level, int base, int64_t idx,
                       unsigned char (*h)[AUDIT_HASH_LEN])
{
    size_t count = (size_t)1 << (level - base);
    int64_t first = idx << (level - base);
    struct store_audit_hash *v = NULL;
    size_t n = 0;
    gw_err rc = base ? store_audit_nodes(src->st, src->tenant, base, first, count, &v, &n)
                     : store_audit_hashes(src->st, src->tenant, first + 1, count, &v, &n);
    bool ok = rc == GW_OK && n == count;
    for (size_t i = 0; ok && i < n; i++) {
        ok = v[i].n == first + (int64_t)i + (base ? 0 : 1);
        if (ok && base)
            ok = strlen(v[i].hash) == 2 * AUDIT_HASH_LEN &&
                 gw_unhex(v[i].hash, h[i], AUDIT_HASH_LEN);
        else if (ok)
            ok = audit_leaf_of_hex(v[i].hash, h[i]);
    }
    store_audit_hashes_free(v, n);
    return ok;
}

gw_err audit_store_subtree(void *arg, int level, int64_t idx, unsigned char out[AUDIT_HASH_LEN])
{
    const struct audit_store_tree *src = arg;
    if (level < 0 || level > MAX_LEVEL || idx < 0)
        return GW_EINVAL;
    int base = level - level % AUDIT_TREE_STRIDE;
    unsigned char(*h)[AUDIT_HASH_LEN] = gw_xmalloc(((size_t)1 << (level - base)) * AUDIT_HASH_LEN);
    gw_err rc = GW_OK;
    if (read_range(src, level, base, idx, h)) {
        fold(h, (size_t)1 << (level - base), out);
    } else if (level == 0) {
        rc = GW_ENOTFOUND; /* the event is not in the store */
    } else {
        unsigned char l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];
        rc = audit_store_subtree(arg, level - 1, 2 * idx, l);
        if (rc == GW_OK)
            rc = audit_store_subtree(arg, level - 1, 2 * idx + 1, r);
        if (rc == GW_OK)
            audit_node_hash(l, r, out);
    }
    free(h);
    return rc;
}

/* The stored signed head of exactly `size` events (0: the latest); it must have a root. */
static gw_err head_of(struct audit *a, const char *tenant, int64_t size,
                      struct store_audit_checkpoint *out)
{
    gw_err rc;
    memset(out, 0, sizeof *out);
    if (size == 0) {
        rc = store_checkpoint_latest(a->st, tenant, out);
    } else {
        struct store_audit_checkpoint *v = NULL;
        size_t n = 0;
        rc = store_checkpoint_page(a->st, tenant, size - 1, 1, &v, &n);
        if (rc == GW_OK && n == 1 && v[0].seq == size) {
            *out = v[0];
            memset(&v[0], 0, sizeof v[0]);
        } else if (rc == GW_OK) {
            rc = GW_ENOTFOUND;
        }
        store_checkpoint_list_free(v, n);
    }
    if (rc == GW_OK && !out->root) {
        store_audit_checkpoint_release(out);
        rc = GW_ENOTFOUND;
    }
    return rc;
}

static json_t *path_json(const struct audit_proof *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < p->n; i++) {
        char hex[2 * AUDIT_HASH_LEN + 1];
        gw_hex(p->h[i], AUDIT_HASH_LEN, hex);
        json_array_append_new(arr, json_string(hex));
    }
    return arr;
}

gw_err audit_prove_inclusion(struct audit *a, const char *tenant, int64_t seq, int64_t size,
                             json_t **out)
{
    *out = NULL;
    if (!tenant || seq < 1 || size < 0 || (size && seq > size))
        return GW_EINVAL;
    gw_err rc = audit_flush(a);
    struct store_audit_checkpoint head;
    if (rc != GW_OK || (rc = head_of(a, tenant, size, &head)) != GW_OK)
        return rc;
    struct audit_store_tree src = {a->st, tenant};
    struct audit_proof *p = gw_xmalloc(sizeof *p);
    unsigned char leaf[AUDIT_HASH_LEN];
    char leaf_hex[2 * AUDIT_HASH_LEN + 1];
    rc = seq > head.seq ? GW_ENOTFOUND : audit_store_subtree(&src, 0, seq - 1, leaf);
    if (rc == GW_OK)
        rc = audit_proof_inclusion(seq - 1, head.seq, audit_store_subtree, &src, p);
    if (rc == GW_OK) {
        gw_hex(leaf, sizeof leaf, leaf_hex);
        *out = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:o,s:o}", "type", "inclusion", "tenant", tenant,
                         "seq", (json_int_t)seq, "leaf_index", (json_int_t)(seq - 1), "tree_size",
                         (json_int_t)head.seq, "leaf_hash", leaf_hex, "path", path_json(p), "head",
                         audit_checkpoint_to_json(&head));
    }
    free(p);
    store_audit_checkpoint_release(&head);
    return rc;
}

gw_err audit_prove_consistency(struct audit *a, const char *tenant, int64_t from, int64_t to,
                               json_t **out)
{
    *out = NULL;
    if (!tenant || from < 1 || to < 0 || (to && from > to))
        return GW_EINVAL;
    gw_err rc = audit_flush(a);
    struct store_audit_checkpoint head;
    if (rc != GW_OK || (rc = head_of(a, tenant, to, &head)) != GW_OK)
        return rc;
    struct audit_store_tree src = {a->st, tenant};
    struct audit_proof *p = gw_xmalloc(sizeof *p);
    rc = from > head.seq ? GW_EINVAL
                         : audit_proof_consistency(from, head.seq, audit_store_subtree, &src, p);
    if (rc == GW_OK)
        *out = json_pack("{s:s,s:s,s:I,s:I,s:o,s:o}", "type", "consistency", "tenant", tenant,
                         "from", (json_int_t)from, "to", (json_int_t)head.seq, "path", path_json(p),
                         "head", audit_checkpoint_to_json(&head));
    free(p);
    store_audit_checkpoint_release(&head);
    return rc;
}
