/* SPDX-License-Identifier: MIT
 * test_audit_proof.c — proofs computed from the store and checked offline, and the signing
 * keys: inclusion of every event in trees of several sizes (past the stored subtrees of height
 * 8), consistency between every pair of heads, proofs that fail when the event, the path or
 * the head is altered or when they do not start from the auditor's head; key rotation (new
 * heads under the new key, the old key still accepted, a file verified with the first key
 * alone, a rotation interrupted before its rename).
 */
#include "base/prelude.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_audit_fx.h"

#include <fcntl.h>
#include <unistd.h>

static void check(const json_t *proof, const json_t *kept, const char *key, bool want)
{
    const char *keys[] = {key};
    char msg[300] = "";
    gw_err rc = audit_check_proof(proof, kept, keys, 1, msg, sizeof msg);
    if ((rc == GW_OK) != want)
        fail_msg("proof %s: %s", want ? "refused" : "accepted", msg);
}

/* An inclusion proof with the event, as the API gives it. */
static json_t *inclusion(struct fx *f, int64_t seq, int64_t size)
{
    json_t *p = NULL;
    assert_int_equal(audit_prove_inclusion(f->a, TENANT, seq, size, &p), GW_OK);
    struct audit_query q = {.tenant = TENANT, .vis = AUDIT_SEE_ALL};
    json_t *ev = NULL;
    assert_int_equal(audit_event_json(f->a, &q, seq, &ev), GW_OK);
    json_object_set_new(p, "event", ev);
    return p;
}

static void test_inclusion_from_the_store(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    record_n(f, TENANT, 300, false); /* past a stored subtree of height 8 */
    record_n(f, TENANT, 3, true);
    for (int64_t seq = 1; seq <= 303; seq += seq < 10 ? 1 : 37) {
        json_t *p = inclusion(f, seq, 0);
        check(p, NULL, f->pk, true);
        json_decref(p);
    }
    json_t *p = inclusion(f, 303, 0);
    assert_int_equal(json_integer_value(json_object_get(p, "tree_size")), 303);
    json_t *ev = json_object_get(p, "event");
    json_object_set_new(ev, "outcome", json_string("denied"));
    check(p, NULL, f->pk, false); /* the event altered */
    json_decref(p);
    p = inclusion(f, 256, 0);
    json_t *path = json_object_get(p, "path");
    json_array_set_new(path, 0,
                       json_string("00000000000000000000000000000000"
                                   "00000000000000000000000000000000"));
    check(p, NULL, f->pk, false); /* the path altered */
    json_decref(p);
    p = inclusion(f, 5, 0);
    json_object_set_new(json_object_get(p, "head"), "seq", json_integer(304));
    check(p, NULL, f->pk, false); /* the head altered */
    json_decref(p);
    char other[64];
    other_pubkey(other);
    p = inclusion(f, 5, 0);
    check(p, NULL, other, false); /* a key the auditor does not trust */
    json_decref(p);
    json_t *q = NULL;
    assert_int_equal(audit_prove_inclusion(f->a, TENANT, 304, 0, &q), GW_ENOTFOUND);
    assert_int_equal(audit_prove_inclusion(f->a, TENANT, 0, 0, &q), GW_EINVAL);
    fx_free(f);
}

static void test_consistency_from_the_store(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    json_t *kept[4];
    int64_t sizes[4];
    for (int i = 0; i < 4; i++) {
        record_n(f, TENANT, i == 2 ? 260 : 3, i == 2 ? false : true);
        assert_int_equal(audit_head_json(f->a, TENANT, &kept[i]), GW_OK);
        sizes[i] = json_integer_value(json_object_get(kept[i], "seq"));
    }
    for (int i = 0; i < 4; i++) {
        for (int j = i; j < 4; j++) {
            json_t *p = NULL;
            assert_int_equal(audit_prove_consistency(f->a, TENANT, sizes[i], sizes[j], &p), GW_OK);
            check(p, kept[i], f->pk, true);
            if (i > 0)
                check(p, kept[i - 1], f->pk, false); /* not from that head */
            json_decref(p);
        }
    }
    /* the proof to a log rewritten before the kept head does not hold */
    json_t *p = NULL;
    assert_int_equal(audit_prove_consistency(f->a, TENANT, sizes[1], 0, &p), GW_OK);
    check(p, NULL, f->pk, false); /* a consistency proof needs the auditor's head */
    json_t *forged = json_deep_copy(kept[1]);
    json_object_set_new(forged, "root",
                        json_string("11111111111111111111111111111111"
                                    "11111111111111111111111111111111"));
    check(p, forged, f->pk, false); /* a head that was not signed */
    json_decref(forged);
    json_decref(p);
    for (int i = 0; i < 4; i++)
        json_decref(kept[i]);
    assert_int_equal(audit_prove_consistency(f->a, TENANT, 5, 3, &p), GW_EINVAL);
    fx_free(f);
}

/* A rewritten event: the gateway's own proof no longer holds against the auditor's head. */
static void test_consistency_detects_a_rewrite(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    record_n(f, TENANT, 6, true);
    json_t *kept = NULL;
    assert_int_equal(audit_head_json(f->a, TENANT, &kept), GW_OK);
    record_n(f, TENANT, 4, true);
    /* the attacker rewrites event 3 and its stored hash */
    db_exec(f, "UPDATE audit_events SET hash='" AUDIT_ZERO_HASH "' WHERE seq=3");
    json_t *p = NULL;
    assert_int_equal(audit_prove_consistency(f->a, TENANT, 6, 0, &p), GW_OK);
    check(p, kept, f->pk, false);
    json_decref(p);
    json_decref(kept);
    fx_free(f);
}

static void test_key_rotation(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_open_audit(f);
    record_n(f, TENANT, 3, true);
    char first[64], id[17];
    snprintf(first, sizeof first, "%s", f->pk);
    json_t *kept = NULL;
    assert_int_equal(audit_head_json(f->a, TENANT, &kept), GW_OK);
    assert_int_equal(audit_rotate_key(f->a, id), GW_OK);
    assert_string_not_equal(audit_public_key(f->a), first);
    assert_string_equal(audit_key_id(f->a), id);
    record_n(f, TENANT, 3, true);
    struct store_audit_checkpoint cp;
    assert_int_equal(audit_head(f->a, TENANT, &cp), GW_OK);
    assert_string_equal(cp.key_id, id); /* new heads under the new key */
    store_audit_checkpoint_release(&cp);
    struct audit_verify_result r;
    verify_store(f, &r);
    expect_ok(&r); /* old heads still accepted */
    json_t *keys = NULL;
    assert_int_equal(audit_keys_json(f->a, &keys), GW_OK);
    assert_int_equal(json_array_size(keys), 2); /* both published */
    json_decref(keys);
    /* an auditor with only the first key follows the rotation in the file */
    fx_close_audit(f);
    assert_int_equal(verify_file(f->log, first, TENANT, 6, &r), GW_OK);
    expect_ok(&r);
    assert_int_equal(r.signed_events, 6);
    /* and a consistency proof from a head signed by the old key */
    fx_open_audit(f);
    json_t *p = NULL;
    assert_int_equal(audit_prove_consistency(f->a, TENANT, 3, 0, &p), GW_OK);
    const char *both[] = {first, f->pk};
    char msg[200];
    assert_int_equal(audit_check_proof(p, kept, both, 2, msg, sizeof msg), GW_OK);
    json_decref(p);
    json_decref(kept);
    /* a rotation interrupted after its statement was stored: finished at the next start */
    char next_id[17];
    struct store_audit_key rec;
    EVP_PKEY *next = NULL;
    fx_close_audit(f);
    struct audit_keys k;
    assert_int_equal(audit_keys_load(&k, f->dir, f->st), GW_OK);
    assert_int_equal(audit_keys_prepare(&k, &rec, &next), GW_OK);
    assert_int_equal(store_audit_key_insert(f->st, &rec), GW_OK);
    snprintf(next_id, sizeof next_id, "%s", rec.key_id);
    store_audit_key_release(&rec);
    EVP_PKEY_free(next);
    audit_keys_release(&k);
    fx_open_audit(f);
    assert_string_equal(audit_key_id(f->a), next_id);
    record_n(f, TENANT, 1, true);
    verify_store(f, &r);
    expect_ok(&r);
    /* one that was not stored is forgotten */
    fx_close_audit(f);
    assert_int_equal(audit_keys_load(&k, f->dir, f->st), GW_OK);
    assert_int_equal(audit_keys_prepare(&k, &rec, &next), GW_OK);
    store_audit_key_release(&rec);
    EVP_PKEY_free(next);
    audit_keys_release(&k);
    fx_open_audit(f);
    assert_string_equal(audit_key_id(f->a), next_id);
    char *npath = gw_xasprintf("%s/audit_ed25519.pem.next", f->dir);
    assert_int_not_equal(access(npath, F_OK), 0);
    free(npath);
    fx_free(f);
}

/* A statement signed by one side only, or naming another predecessor, is not followed. */
static void test_key_statements(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_open_audit(f);
    char id[17], first[64];
    snprintf(first, sizeof first, "%s", f->pk);
    assert_int_equal(audit_rotate_key(f->a, id), GW_OK);
    struct store_audit_key *v = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_key_list(f->st, &v, &n), GW_OK);
    assert_int_equal(n, 2);
    struct audit_keyring ring = {0};
    assert_true(audit_keyring_add(&ring, first));
    assert_true(audit_keyring_follow(&ring, &v[1], first));
    assert_non_null(audit_keyring_find(&ring, id));
    audit_keyring_release(&ring);
    assert_true(audit_keyring_add(&ring, first));
    v[1].sig_new[3] = v[1].sig_new[3] == 'A' ? 'B' : 'A';
    assert_false(audit_keyring_follow(&ring, &v[1], first));
    audit_keyring_release(&ring);
    store_audit_key_list_free(v, n);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inclusion_from_the_store),
        cmocka_unit_test(test_consistency_from_the_store),
        cmocka_unit_test(test_consistency_detects_a_rewrite),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_key_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
