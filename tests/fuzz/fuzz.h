/* SPDX-License-Identifier: MIT
 * fuzz.h — what the libFuzzer targets share: the entry points' prototypes, a check that
 * crashes (so that libFuzzer keeps the input), the input as a C string, a scratch directory
 * and self-signed certificates for the targets that need key material.
 */
#ifndef GW_FUZZ_H
#define GW_FUZZ_H

#include "base/prelude.h"
#include "base/mem.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: a failure is a finding, reported like a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string (malloc'd): what the server hands over (a header, a
 * path, a query) can never contain a NUL, so a string stops at the first one. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    return gw_xstrndup((const char *)data, size);
}

/* A private directory "<$TMPDIR>/<name>.XXXXXX" (out: PATH_MAX bytes); the target removes it
 * at exit (a crash leaves it behind). */
static inline void fuzz_tmpdir(char *out, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
    FUZZ_CHECK(mkdtemp(out) != NULL);
}

/* A self-signed certificate of k (CN=fuzz, valid for a day). */
static inline X509 *fuzz_cert(EVP_PKEY *k)
{
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"fuzz", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    FUZZ_CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    return x;
}

#endif
