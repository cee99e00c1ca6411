/* SPDX-License-Identifier: MIT
 * fuzz_saml_redirect.c — the signature check of an HTTP-Redirect SAML logout message
 * (auth_saml_redirect_signature_ok, src/auth/auth_saml_check.c): query parsing, parameter
 * repetition, percent-decoding, the SigAlg allow-list, base64 and the RSA verification by the
 * IdP's certificate (an RSA key made at start).
 *
 * The first input byte chooses how the rest is used:
 *   even: the rest is the query string as the browser sends it;
 *   odd:  a signed-query generator, so that the success path is reached: the rest is the
 *         "SAMLRequest=…[&RelayState=…]" part, and "&SigAlg=<rsa-sha256>&Signature=<sig>" is
 *         appended, signed with the IdP key the way saml-bindings 3.4.4.1 says.
 * Checks: an accepted query yields the unsigned part, the message first; a refused one says
 * why.
 */
#include "base/prelude.h"
#include "auth/auth_int.h"
#include "base/buf.h"
#include "base/util.h"
#include "config/config.h"
#include "fuzz.h"

#define SIG_ALG "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define SIG_ALG_ENC "http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"

static EVP_PKEY *idp_key;
static char *certs[2];
static struct cfg_saml saml = {.idp_certs = certs, .n_idp_certs = 1};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    idp_key = EVP_RSA_gen(1024); /* small for speed: the check does not look at the size */
    X509 *x = fuzz_cert(idp_key);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    certs[0] = gw_xmalloc((size_t)len * 2 + 4);
    gw_b64(der, (size_t)len, certs[0]);
    OPENSSL_free(der);
    X509_free(x);
    return 0;
}

/* base64 with '+', '/' and '=' percent-encoded, as a query value. */
static void put_b64_value(struct gw_buf *b, const unsigned char *raw, size_t n)
{
    char *text = gw_xmalloc(n * 2 + 4);
    gw_b64(raw, n, text);
    for (const char *p = text; *p; p++) {
        if (*p == '+' || *p == '/' || *p == '=')
            gw_buf_printf(b, "%%%02X", (unsigned char)*p);
        else
            gw_buf_append(b, p, 1);
    }
    free(text);
}

static char *signed_query(const char *signed_part)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    gw_buf_printf(&b, "%s&SigAlg=%s", signed_part, SIG_ALG_ENC);
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FUZZ_CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, idp_key) == 1 &&
               EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)b.data, b.len) == 1);
    EVP_MD_CTX_free(ctx);
    gw_buf_puts(&b, "&Signature=");
    put_b64_value(&b, sig, siglen);
    return gw_buf_detach(&b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *in = fuzz_cstr(data + 1, size - 1);
    char *query = data[0] & 1 ? signed_query(in) : gw_xstrdup(in);
    char *unsigned_query = NULL, msg[256] = "";
    if (auth_saml_redirect_signature_ok(&saml, query, "SAMLRequest", &unsigned_query, msg,
                                        sizeof(msg))) {
        FUZZ_CHECK(unsigned_query && strncmp(unsigned_query, "SAMLRequest=", 12) == 0);
    } else {
        FUZZ_CHECK(!unsigned_query && msg[0]);
    }
    free(unsigned_query);
    free(query);
    free(in);
    return 0;
}
