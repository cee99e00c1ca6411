/* SPDX-License-Identifier: MIT
 * audit_proof.c — proofs at scale: a tenant's trail of N events (default 10^6) written through
 * the real audit writer (queued appends, group commit, a signed head per commit), then the
 * time to produce an inclusion proof of a random event and a consistency proof between two
 * random heads from the store (what GET /api/v1/audit/proof/... does), to check them offline
 * (signature included, what `openclaw audit verify --proof` does) and the Merkle part alone,
 * their sizes, the latest head with its frontier, and the start-up check of the trail (opening
 * the audit trail on the N events). Medians and p99 over SAMPLES random picks.
 * Usage: audit_proof [events] [dir|-]   (an existing dir with the events is reused)
 */
#include "base/prelude.h"
#include "audit/audit.h"
#include "audit/audit_int.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

#include <limits.h>
#include "../tests/unit/test_tmp.h" /* scratch directories under $TMPDIR */

#include <unistd.h>

#define SAMPLES 2000
#define TENANT "acme-corp"

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, int64_t *ns, size_t n)
{
    qsort(ns, n, sizeof *ns, cmp64);
    printf("%-44s median %8.1f us   p99 %8.1f us   (%zu samples)\n", what, (double)ns[n / 2] / 1e3,
           (double)ns[n * 99 / 100] / 1e3, n);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill(struct audit *a, int64_t have, int64_t want)
{
    json_t *d = json_pack("{s:s,s:i}", "path", "engineering/code-reviewer", "bytes", 512);
    int64_t t0 = gw_mono_ns();
    for (int64_t i = have; i < want; i++) {
        char rid[40];
        snprintf(rid, sizeof rid, "bench-%lld", (long long)i);
        struct audit_event ev = {.type = "memory.read",
                                 .outcome = "ok",
                                 .actor = "user@company.com",
                                 .resource = "engineering/x",
                                 .request_id = rid,
                                 .status = 200,
                                 .details = d};
        if (audit_record(a, TENANT, &ev) != GW_OK) {
            fprintf(stderr, "append failed\n");
            exit(1);
        }
    }
    audit_flush(a);
    json_decref(d);
    if (want > have)
        printf("wrote %lld events in %.1f s\n", (long long)(want - have),
               (double)(gw_mono_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
    int64_t events = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
    char tmpl[PATH_MAX];
    const char *dir = argc > 2 && strcmp(argv[2], "-") != 0
                          ? argv[2]
                          : (test_tmpdir(tmpl, sizeof tmpl, "audit-proof") ? tmpl : NULL);
    if (events < 2 || !dir) {
        fprintf(stderr, "usage: audit_proof [events >= 2] [dir|-]\n");
        return 2;
    }
    gw_mkdirs(dir, 0700);
    struct store *st = NULL;
    struct audit *a = NULL;
    struct audit_options o = {.data_dir = dir, .log_content = true};
    if (store_open(dir, &st) != GW_OK || audit_open(st, &o, &a) != GW_OK)
        return 1;
    int64_t have = 0;
    char hash[65];
    audit_committed_head(a, TENANT, &have, hash, NULL);
    fill(a, have, events);
    audit_close(a);

    /* the start-up check: the latest head against the store's end and its tree */
    int64_t t0 = gw_mono_ns();
    if (audit_open(st, &o, &a) != GW_OK)
        return 1;
    printf("%-44s %8.1f ms\n", "audit_open (start-up check of the trail)",
           (double)(gw_mono_ns() - t0) / 1e6);
    struct store_audit_checkpoint *heads = NULL;
    size_t nh = 0;
    t0 = gw_mono_ns();
    json_t *latest = NULL;
    if (audit_head_json(a, TENANT, &latest) != GW_OK)
        return 1;
    printf("%-44s %8.1f ms\n", "latest head with its frontier", (double)(gw_mono_ns() - t0) / 1e6);
    int64_t size = json_integer_value(json_object_get(latest, "seq"));
    if (store_checkpoint_page(st, TENANT, 0, 1000000, &heads, &nh) != GW_OK || nh < 2)
        return 1;
    printf("events %lld, signed heads %zu (one per group commit)\n", (long long)size, nh);

    const char *keys[] = {audit_public_key(a)};
    int64_t *gen = gw_xcalloc(SAMPLES, sizeof *gen), *chk = gw_xcalloc(SAMPLES, sizeof *chk);
    int64_t *math = gw_xcalloc(SAMPLES, sizeof *math);
    uint64_t seed = 88172645463325252ull;
    size_t bytes = 0, hashes = 0;
    struct audit_query q = {.tenant = TENANT, .vis = AUDIT_SEE_ALL};
    for (size_t i = 0; i < SAMPLES; i++) {
        int64_t seq = 1 + (int64_t)(rnd(&seed) % (uint64_t)size);
        json_t *p = NULL, *ev = NULL;
        t0 = gw_mono_ns();
        if (audit_prove_inclusion(a, TENANT, seq, size, &p) != GW_OK ||
            audit_event_json(a, &q, seq, &ev) != GW_OK)
            return 1;
        json_object_set_new(p, "event", ev);
        gen[i] = gw_mono_ns() - t0;
        char msg[200];
        t0 = gw_mono_ns();
        if (audit_check_proof(p, NULL, keys, 1, msg, sizeof msg) != GW_OK) {
            fprintf(stderr, "inclusion of %lld does not hold: %s\n", (long long)seq, msg);
            return 1;
        }
        chk[i] = gw_mono_ns() - t0;
        struct audit_proof pr = {0};
        json_t *path = json_object_get(p, "path");
        for (size_t k = 0; k < json_array_size(path); k++)
            gw_unhex(json_string_value(json_array_get(path, k)), pr.h[pr.n++], AUDIT_HASH_LEN);
        unsigned char lf[AUDIT_HASH_LEN], root[AUDIT_HASH_LEN];
        audit_leaf_of_hex(gw_json_str(ev, "hash"), lf);
        gw_unhex(gw_json_str(json_object_get(p, "head"), "root"), root, sizeof root);
        t0 = gw_mono_ns();
        bool ok = audit_inclusion_verify(seq - 1, size, lf, &pr, root);
        math[i] = gw_mono_ns() - t0;
        if (!ok)
            return 1;
        char *s = gw_json_compact(p);
        bytes += strlen(s);
        hashes += pr.n;
        free(s);
        json_decref(p);
    }
    report("inclusion proof from the store (+ event)", gen, SAMPLES);
    report("inclusion check (signature + path)", chk, SAMPLES);
    report("inclusion check (Merkle path only)", math, SAMPLES);
    printf("inclusion proof: %.1f hashes, %.0f bytes of JSON on average (event included)\n",
           (double)hashes / SAMPLES, (double)bytes / SAMPLES);

    bytes = hashes = 0;
    for (size_t i = 0; i < SAMPLES; i++) {
        const struct store_audit_checkpoint *h1 = &heads[rnd(&seed) % (nh - 1)];
        json_t *kept = audit_checkpoint_to_json(h1), *p = NULL;
        t0 = gw_mono_ns();
        if (audit_prove_consistency(a, TENANT, h1->seq, size, &p) != GW_OK)
            return 1;
        gen[i] = gw_mono_ns() - t0;
        char msg[200];
        t0 = gw_mono_ns();
        if (audit_check_proof(p, kept, keys, 1, msg, sizeof msg) != GW_OK) {
            fprintf(stderr, "consistency from %lld does not hold: %s\n", (long long)h1->seq, msg);
            return 1;
        }
        chk[i] = gw_mono_ns() - t0;
        char *s = gw_json_compact(p);
        bytes += strlen(s);
        hashes += json_array_size(json_object_get(p, "path"));
        free(s);
        json_decref(p);
        json_decref(kept);
    }
    report("consistency proof from the store", gen, SAMPLES);
    report("consistency check (two signatures + path)", chk, SAMPLES);
    printf("consistency proof: %.1f hashes, %.0f bytes of JSON on average\n",
           (double)hashes / SAMPLES, (double)bytes / SAMPLES);

    store_checkpoint_list_free(heads, nh);
    json_decref(latest);
    free(gen);
    free(chk);
    free(math);
    audit_close(a);
    store_close(st);
    return 0;
}
