/* SPDX-License-Identifier: MIT
 * fuzz_config.c — the YAML configuration loader (cfg_load, src/config) on any gateway.yaml.
 *
 * Each input is written to <dir>/gateway.yaml and loaded with <dir>/data as the data
 * directory, like `openclaw-gateway --check-config`. The data directory holds the files a
 * configuration may name by relative path (IdP metadata, SP key and certificate, an OIDC
 * private key, a secret file, an API key file), made at start, so that the SSO and model
 * sections get past their file checks. The variables of gateway.example.yaml are set.
 * Checks: a refused file comes with at least one message, an accepted one with none.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "config/config.h"
#include "fuzz.h"

#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

static char dir[PATH_MAX], data_dir[PATH_MAX + 8], cfg_path[PATH_MAX + 16];

static void put(const char *name, const char *text, size_t len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    FILE *f = fopen(path, "w");
    FUZZ_CHECK(f && fwrite(text, 1, len, f) == len && fclose(f) == 0);
}

static void put_pem(const char *name, EVP_PKEY *k, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    FUZZ_CHECK(x ? PEM_write_bio_X509(b, x)
                 : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
    char *text;
    long len = BIO_get_mem_data(b, &text);
    put(name, text, (size_t)len);
    BIO_free(b);
}

static void make_files(void)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
    FUZZ_CHECK(rsa && ec);
    X509 *x = fuzz_cert(rsa);
    put_pem("sp.key", rsa, NULL);
    put_pem("sp.crt", NULL, x);
    put_pem("oidc.key", ec, NULL);
    unsigned char *der = NULL;
    int dlen = i2d_X509(x, &der);
    char *b64 = gw_xmalloc((size_t)dlen * 2 + 4);
    gw_b64(der, (size_t)dlen, b64);
    char *md = gw_xasprintf(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
        "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://idp.example.com\">"
        "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
        "Location=\"https://idp.example.com/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>",
        b64);
    put("idp.xml", md, strlen(md));
    put("secret", "s3cret-value\n", 13);
    put("api.key", "sk-fuzz-0123456789\n", 19);
    free(md);
    free(b64);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_tmpdir(dir, sizeof(dir), "fuzz_config");
    snprintf(data_dir, sizeof(data_dir), "%s/data", dir);
    snprintf(cfg_path, sizeof(cfg_path), "%s/gateway.yaml", dir);
    FUZZ_CHECK(mkdir(data_dir, 0700) == 0);
    atexit(cleanup);
    make_files();
    static const char *const vars[] = {"OPENCLAW_ADMIN_TOKEN", "OPENCLAW_ENG_TOKEN",
                                       "OPENCLAW_MKT_TOKEN",   "OPENAI_API_KEY",
                                       "ANTHROPIC_API_KEY",    "OIDC_CLIENT_SECRET",
                                       "SMTP_PASSWORD"};
    for (size_t i = 0; i < GW_ARRAY_LEN(vars); i++) {
        char value[64]; /* distinct: two tokens may not share a secret */
        snprintf(value, sizeof(value), "%zu-0123456789abcdef0123456789abcdef", i);
        setenv(vars[i], value, 1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(cfg_path, "w");
    FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
    struct cfg_overrides ov = {.data_dir = data_dir};
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(cfg_path, &ov, &c, &errs);
    FUZZ_CHECK(rc == GW_OK ? c != NULL && errs.n == 0 : c == NULL && errs.n > 0);
    cfg_unref(c);
    cfg_errors_release(&errs);
    return 0;
}
