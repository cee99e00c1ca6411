/* SPDX-License-Identifier: MIT
 * audit_merkle.c — the Merkle tree over a tenant's events, in the shape of RFC 6962 / 9162.
 *
 * Leaf i is event seq i+1; its hash is SHA-256(0x00 || the event's hash as 32 bytes) and an
 * inner node is SHA-256(0x01 || left || right), so a leaf can never pass for a node. The tree of
 * n leaves splits at the largest power of two below n (RFC 6962 §2.1), its root over no leaf is
 * SHA-256 of nothing. The writer keeps a frontier per tenant (the roots of the complete subtrees
 * of the binary decomposition of the size: at most 64 hashes), so appending a leaf costs two
 * hashes on average and a root a few; it stores the subtrees whose height is a multiple of
 * AUDIT_TREE_STRIDE, from which any subtree, and so any proof, is computed with at most one
 * range read per proof element. Proofs and their verification follow RFC 9162 §2.1.3-2.1.4.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/util.h"

#include <openssl/evp.h>

static void sha(const unsigned char *a, size_t na, const unsigned char *b, size_t nb,
                const unsigned char *c, size_t nc, unsigned char out[AUDIT_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, na) != 1 || (nb && EVP_DigestUpdate(ctx, b, nb) != 1) ||
        (nc && EVP_DigestUpdate(ctx, c, nc) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1) {
        fprintf(stderr, "audit: SHA-256 unavailable\n");
        abort();
    }
    EVP_MD_CTX_free(ctx);
}

void audit_leaf_hash(const unsigned char event[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN])
{
    static const unsigned char zero = 0x00;
    sha(&zero, 1, event, AUDIT_HASH_LEN, NULL, 0, out);
}

void audit_node_hash(const unsigned char l[AUDIT_HASH_LEN], const unsigned char r[AUDIT_HASH_LEN],
                     unsigned char out[AUDIT_HASH_LEN])
{
    static const unsigned char one = 0x01;
    sha(&one, 1, l, AUDIT_HASH_LEN, r, AUDIT_HASH_LEN, out);
}

bool audit_leaf_of_hex(const char *event_hash, unsigned char out[AUDIT_HASH_LEN])
{
    unsigned char ev[AUDIT_HASH_LEN];
    if (!event_hash || !gw_unhex(event_hash, ev, sizeof ev))
        return false;
    audit_leaf_hash(ev, out);
    return true;
}

/* --- the frontier ------------------------------------------------------------------------ */

void audit_frontier_push(struct audit_frontier *f, const unsigned char leaf[AUDIT_HASH_LEN],
                         audit_node_fn *emit, void *arg)
{
    unsigned char carry[AUDIT_HASH_LEN];
    memcpy(carry, leaf, sizeof carry);
    int64_t index = f->size;
    int level = 0;
    /* the bits set at the bottom of the old size are the subtrees this leaf completes */
    while ((uint64_t)f->size >> level & 1) {
        audit_node_hash(f->h[level], carry, carry);
        level++;
        if (emit && level % AUDIT_TREE_STRIDE == 0)
            emit(arg, level, index >> level, carry);
    }
    memcpy(f->h[level], carry, sizeof carry);
    f->size++;
}

void audit_frontier_root(const struct audit_frontier *f, unsigned char out[AUDIT_HASH_LEN])
{
    if (f->size == 0) {
        sha(NULL, 0, NULL, 0, NULL, 0, out);
        return;
    }
    bool have = false;
    for (int level = 0; level < AUDIT_TREE_LEVELS; level++) {
        if (!((uint64_t)f->size >> level & 1))
            continue;
        if (have)
            audit_node_hash(f->h[level], out, out);
        else
            memcpy(out, f->h[level], AUDIT_HASH_LEN);
        have = true;
    }
}

void audit_nodes_keep(void *arg, int level, int64_t idx, const unsigned char hash[AUDIT_HASH_LEN])
{
    struct audit_nodes *ns = arg;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = gw_xrealloc(ns->v, ns->cap * sizeof *ns->v);
    }
    char *hex = gw_xmalloc(2 * AUDIT_HASH_LEN + 1);
    gw_hex(hash, AUDIT_HASH_LEN, hex);
    ns->v[ns->n++] = (struct store_audit_node){ns->tenant, level, idx, hex};
}

void audit_nodes_clear(struct audit_nodes *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i].hash);
    ns->n = 0;
}

size_t audit_frontier_count(int64_t size)
{
    return (size_t)__builtin_popcountll((unsigned long long)size);
}

gw_err audit_frontier_build(struct audit_frontier *f, int64_t size, audit_subtree_fn *get,
                            void *arg)
{
    memset(f, 0, sizeof *f);
    int64_t start = 0;
    for (int level = AUDIT_TREE_LEVELS - 1; level >= 0; level--) {
        if (!((uint64_t)size >> level & 1))
            continue;
        gw_err rc = get(arg, level, start >> level, f->h[level]);
        if (rc != GW_OK)
            return rc;
        start += (int64_t)1 << level;
    }
    f->size = size;
    return GW_OK;
}

/* --- proofs (RFC 6962 §2.1.1-2.1.2) ----------------------------------------------------------- */

static int64_t split_of(int64_t n) /* the largest power of two below n (n > 1) */
{
    int64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* Hash of leaves [lo, hi), lo aligned: complete subtrees come from get, the rest is split. */
static gw_err range_hash(audit_subtree_fn *get, void *arg, int64_t lo, int64_t hi,
                         unsigned char out[AUDIT_HASH_LEN])
{
    int64_t n = hi - lo;
    if ((n & (n - 1)) == 0) {
        int level = __builtin_ctzll((unsigned long long)n);
        return get(arg, level, lo >> level, out);
    }
    int64_t k = split_of(n);
    unsigned char l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];
    gw_err rc = range_hash(get, arg, lo, lo + k, l);
    if (rc == GW_OK)
        rc = range_hash(get, arg, lo + k, hi, r);
    if (rc == GW_OK)
        audit_node_hash(l, r, out);
    return rc;
}

static gw_err path_push(struct audit_proof *p, audit_subtree_fn *get, void *arg, int64_t lo,
                        int64_t hi)
{
    if (p->n == AUDIT_TREE_LEVELS * 2)
        return GW_EINTERNAL;
    return range_hash(get, arg, lo, hi, p->h[p->n++]);
}

/* PATH(m, D[lo:hi]) with m absolute: the siblings from the leaf up. */
static gw_err inclusion_path(struct audit_proof *p, audit_subtree_fn *get, void *arg, int64_t m,
                             int64_t lo, int64_t hi)
{
    if (hi - lo <= 1)
        return GW_OK;
    int64_t k = split_of(hi - lo);
    gw_err rc;
    if (m < lo + k) {
        rc = inclusion_path(p, get, arg, m, lo, lo + k);
        return rc == GW_OK ? path_push(p, get, arg, lo + k, hi) : rc;
    }
    rc = inclusion_path(p, get, arg, m, lo + k, hi);
    return rc == GW_OK ? path_push(p, get, arg, lo, lo + k) : rc;
}

/* SUBPROOF(m, D[lo:hi], b) with m relative to lo. */
static gw_err subproof(struct audit_proof *p, audit_subtree_fn *get, void *arg, int64_t m,
                       int64_t lo, int64_t hi, bool b)
{
    int64_t n = hi - lo;
    if (m == n)
        return b ? GW_OK : path_push(p, get, arg, lo, hi);
    int64_t k = split_of(n);
    gw_err rc;
    if (m <= k) {
        rc = subproof(p, get, arg, m, lo, lo + k, b);
        return rc == GW_OK ? path_push(p, get, arg, lo + k, hi) : rc;
    }
    rc = subproof(p, get, arg, m - k, lo + k, hi, false);
    return rc == GW_OK ? path_push(p, get, arg, lo, lo + k) : rc;
}

gw_err audit_proof_inclusion(int64_t index, int64_t size, audit_subtree_fn *get, void *arg,
                             struct audit_proof *out)
{
    memset(out, 0, sizeof *out);
    if (index < 0 || index >= size)
        return GW_EINVAL;
    return inclusion_path(out, get, arg, index, 0, size);
}

gw_err audit_proof_consistency(int64_t size1, int64_t size2, audit_subtree_fn *get, void *arg,
                               struct audit_proof *out)
{
    memset(out, 0, sizeof *out);
    if (size1 < 0 || size1 > size2)
        return GW_EINVAL;
    if (size1 == 0 || size1 == size2)
        return GW_OK;
    return subproof(out, get, arg, size1, 0, size2, true);
}

gw_err audit_range_root(int64_t size, audit_subtree_fn *get, void *arg,
                        unsigned char out[AUDIT_HASH_LEN])
{
    if (size == 0) {
        sha(NULL, 0, NULL, 0, NULL, 0, out);
        return GW_OK;
    }
    return range_hash(get, arg, 0, size, out);
}

/* --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ---------------------------------------------- */

bool audit_inclusion_verify(int64_t index, int64_t size, const unsigned char leaf[AUDIT_HASH_LEN],
                            const struct audit_proof *p, const unsigned char root[AUDIT_HASH_LEN])
{
    if (index < 0 || index >= size)
        return false;
    uint64_t fn = (uint64_t)index, sn = (uint64_t)size - 1;
    unsigned char r[AUDIT_HASH_LEN];
    memcpy(r, leaf, sizeof r);
    for (size_t i = 0; i < p->n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            audit_node_hash(p->h[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            audit_node_hash(r, p->h[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, sizeof r) == 0;
}

bool audit_consistency_verify(int64_t size1, int64_t size2,
                              const unsigned char root1[AUDIT_HASH_LEN],
                              const unsigned char root2[AUDIT_HASH_LEN],
                              const struct audit_proof *p)
{
    if (size1 < 0 || size1 > size2)
        return false;
    if (size1 == size2)
        return p->n == 0 && memcmp(root1, root2, AUDIT_HASH_LEN) == 0;
    if (size1 == 0)
        return p->n == 0;
    /* the proof, with root1 in front when the first tree is a complete subtree */
    const unsigned char(*c)[AUDIT_HASH_LEN] = p->h;
    size_t n = p->n;
    bool pow2 = (size1 & (size1 - 1)) == 0;
    if (n == 0 && !pow2)
        return false;
    uint64_t fn = (uint64_t)size1 - 1, sn = (uint64_t)size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[AUDIT_HASH_LEN], sr[AUDIT_HASH_LEN];
    memcpy(fr, pow2 ? root1 : c[0], AUDIT_HASH_LEN);
    memcpy(sr, fr, AUDIT_HASH_LEN);
    for (size_t i = pow2 ? 0 : 1; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            audit_node_hash(c[i], fr, fr);
            audit_node_hash(c[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            audit_node_hash(sr, c[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root1, AUDIT_HASH_LEN) == 0 &&
           memcmp(sr, root2, AUDIT_HASH_LEN) == 0;
}

/* --- the frontier in JSON (anchors and saved heads) ------------------------------------------ */

json_t *audit_frontier_to_json(const struct audit_frontier *f)
{
    json_t *a = json_array();
    for (int level = AUDIT_TREE_LEVELS - 1; level >= 0; level--) {
        if (!((uint64_t)f->size >> level & 1))
            continue;
        char hex[2 * AUDIT_HASH_LEN + 1];
        gw_hex(f->h[level], AUDIT_HASH_LEN, hex);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

bool audit_frontier_from_json(const json_t *arr, int64_t size, const char *root_hex,
                              struct audit_frontier *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_array(arr) || size < 0 || json_array_size(arr) != audit_frontier_count(size))
        return false;
    size_t i = 0;
    for (int level = AUDIT_TREE_LEVELS - 1; level >= 0; level--) {
        if (!((uint64_t)size >> level & 1))
            continue;
        const char *h = json_string_value(json_array_get(arr, i++));
        if (!h || strlen(h) != 2 * AUDIT_HASH_LEN || !gw_unhex(h, out->h[level], AUDIT_HASH_LEN))
            return false;
    }
    out->size = size;
    unsigned char root[AUDIT_HASH_LEN], want[AUDIT_HASH_LEN];
    audit_frontier_root(out, root);
    return root_hex && strlen(root_hex) == 2 * AUDIT_HASH_LEN &&
           gw_unhex(root_hex, want, sizeof want) && memcmp(root, want, sizeof root) == 0;
}
