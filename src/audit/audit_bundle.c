/* SPDX-License-Identifier: MIT
 * audit_bundle.c — checking a proof offline (openclaw audit verify --proof), with nothing but
 * public keys and, when the auditor kept one, an earlier head.
 *
 * An inclusion proof holds the event (whose hash is recomputed from its content), the path and
 * the signed head of the tree; a consistency proof holds the path and the signed head of the
 * larger tree, and is checked from the head the auditor kept. A head is accepted only with a
 * valid signature by a trusted key.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <stdarg.h>

static gw_err GW_PRINTF(3, 4) fail(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return GW_EINVAL; /* the proof does not hold */
}

/* A signed head from JSON, its signature checked; root into root. */
static gw_err head_of(const json_t *o, const struct audit_keyring *ring, const char *what,
                      struct store_audit_checkpoint *out, unsigned char root[AUDIT_HASH_LEN],
                      char *msg, size_t cap)
{
    if (!json_is_object(o) || audit_checkpoint_from_json(o, out) != GW_OK)
        return fail(msg, cap, "%s is not a signed head", what);
    const struct audit_keyring_key *k = audit_keyring_find(ring, out->key_id);
    gw_err rc = GW_OK;
    if (!out->root || !gw_unhex(out->root, root, AUDIT_HASH_LEN))
        rc = fail(msg, cap, "%s has no Merkle root (a checkpoint of an older gateway)", what);
    else if (!k)
        rc = fail(msg, cap, "%s is signed by key %.16s, which is not trusted", what, out->key_id);
    else if (!audit_checkpoint_check(k->pub, out))
        rc = fail(msg, cap, "%s has an invalid signature (forged or altered)", what);
    if (rc != GW_OK)
        store_audit_checkpoint_release(out);
    return rc;
}

static bool path_of(const json_t *arr, struct audit_proof *p)
{
    p->n = 0;
    if (!json_is_array(arr) || json_array_size(arr) > GW_ARRAY_LEN(p->h))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *h = json_string_value(v);
        if (!h || strlen(h) != 2 * AUDIT_HASH_LEN || !gw_unhex(h, p->h[p->n++], AUDIT_HASH_LEN))
            return false;
    }
    return true;
}

/* The leaf of the proof's event: its hash recomputed from its content. */
static gw_err event_leaf(const json_t *proof, unsigned char leaf[AUDIT_HASH_LEN], char *msg,
                         size_t cap)
{
    const json_t *ev = json_object_get(proof, "event");
    json_int_t seq = json_integer_value(json_object_get(proof, "seq"));
    if (!json_is_object(ev))
        return fail(msg, cap, "the proof carries no event");
    const char *stored = gw_json_str(ev, "hash");
    json_t *copy = json_deep_copy(ev);
    json_object_del(copy, "hash");
    char computed[65];
    audit_hash_object(copy, computed);
    json_decref(copy);
    if (json_integer_value(json_object_get(ev, "seq")) != seq)
        return fail(msg, cap, "the event is not event %lld", (long long)seq);
    if (!stored || strcmp(stored, computed) != 0)
        return fail(msg, cap, "event %lld was altered: its content does not hash to %s",
                    (long long)seq, stored ? stored : "its hash");
    audit_leaf_of_hex(computed, leaf);
    return GW_OK;
}

static bool same_tree(const struct store_audit_checkpoint *x,
                      const struct store_audit_checkpoint *y)
{
    return strcmp(x->tenant, y->tenant) == 0 && x->seq == y->seq && strcmp(x->root, y->root) == 0;
}

gw_err audit_check_proof(const json_t *proof, const json_t *trusted_head, const char *const *keys,
                         size_t n_keys, char *msg, size_t cap)
{
    struct audit_keyring ring = {0};
    for (size_t i = 0; i < n_keys; i++)
        audit_keyring_add(&ring, keys[i]);
    struct store_audit_checkpoint head = {0}, old = {0};
    unsigned char root[AUDIT_HASH_LEN], old_root[AUDIT_HASH_LEN];
    struct audit_proof *p = gw_xmalloc(sizeof *p);
    const char *type = gw_json_str(proof, "type");
    gw_err rc = head_of(json_object_get(proof, "head"), &ring, "the proof's head", &head, root, msg,
                        cap);
    if (rc == GW_OK && trusted_head)
        rc = head_of(trusted_head, &ring, "your head", &old, old_root, msg, cap);
    if (rc == GW_OK && !path_of(json_object_get(proof, "path"), p))
        rc = fail(msg, cap, "the proof's path is malformed");
    if (rc == GW_OK && trusted_head && strcmp(old.tenant, head.tenant) != 0)
        rc = fail(msg, cap, "your head is of tenant %s, the proof of %s", old.tenant, head.tenant);
    if (rc != GW_OK) {
    } else if (type && strcmp(type, "inclusion") == 0) {
        unsigned char leaf[AUDIT_HASH_LEN];
        json_int_t seq = json_integer_value(json_object_get(proof, "seq"));
        rc = event_leaf(proof, leaf, msg, cap);
        if (rc == GW_OK && !audit_inclusion_verify(seq - 1, head.seq, leaf, p, root))
            rc = fail(msg, cap, "event %lld is not in the tree of the signed head (size %lld)",
                      (long long)seq, (long long)head.seq);
        if (rc == GW_OK && trusted_head && !same_tree(&old, &head))
            rc = fail(msg, cap, "the proof is against the head of size %lld, not yours (%lld)",
                      (long long)head.seq, (long long)old.seq);
    } else if (type && strcmp(type, "consistency") == 0) {
        json_int_t from = json_integer_value(json_object_get(proof, "from"));
        if (!trusted_head)
            rc = fail(msg, cap, "a consistency proof is checked from a head you kept (--head)");
        else if (from != old.seq)
            rc = fail(msg, cap, "the proof starts at size %lld, your head is of size %lld",
                      (long long)from, (long long)old.seq);
        else if (!audit_consistency_verify(old.seq, head.seq, old_root, root, p))
            rc = fail(msg, cap,
                      "the log of size %lld does not extend your head of size %lld: "
                      "rewritten or truncated before it",
                      (long long)head.seq, (long long)old.seq);
    } else {
        rc = fail(msg, cap, "not a proof (type inclusion or consistency)");
    }
    free(p);
    store_audit_checkpoint_release(&head);
    store_audit_checkpoint_release(&old);
    audit_keyring_release(&ring);
    return rc;
}
