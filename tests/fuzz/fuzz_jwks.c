/* SPDX-License-Identifier: MIT
 * fuzz_jwks.c — JWKS parsing (auth_jwks_parse, src/auth/auth_jwt.c): the IdP's key set as its
 * jwks_uri serves it. Each accepted set is then asked to verify a token signed at start by an
 * EC P-256 key ("ec-1", ES256) that may or may not be in it, which walks the key selection
 * (kid, key type, curve, the key's own "alg") over whatever the set holds.
 * Checks: an accepted set has 1..AUTH_JWKS_MAX_KEYS keys; a refused one says why.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "fuzz.h"

#include <cjose/cjose.h>

#define NOW 1700000000

static char *token;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cjose_err err;
    cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    json_t *hdr = json_pack("{s:s,s:s}", "alg", "ES256", "kid", "ec-1");
    char *claims = gw_xasprintf("{\"iss\":\"https://idp.example.com\",\"sub\":\"alice\","
                                "\"aud\":\"gw\",\"exp\":%d}",
                                NOW + 300);
    cjose_jws_t *jws = cjose_jws_sign(k, hdr, (const uint8_t *)claims, strlen(claims), &err);
    const char *ser = NULL;
    FUZZ_CHECK(jws && cjose_jws_export(jws, &ser, &err));
    token = gw_xstrdup(ser);
    cjose_jws_release(jws);
    json_decref(hdr);
    free(claims);
    cjose_jwk_release(k);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_jwks *ks = NULL;
    char msg[256] = "";
    if (auth_jwks_parse((const char *)data, size, &ks, msg, sizeof(msg)) != GW_OK) {
        FUZZ_CHECK(!ks && msg[0]);
        return 0;
    }
    FUZZ_CHECK(auth_jwks_count(ks) >= 1 && auth_jwks_count(ks) <= AUTH_JWKS_MAX_KEYS);
    static const char *const algs[] = {"ES256", "RS256", "PS384", "ES512"};
    struct auth_jwt_check chk = {.issuer = "https://idp.example.com",
                                 .audience = "gw",
                                 .algs = algs,
                                 .n_algs = GW_ARRAY_LEN(algs),
                                 .now_s = NOW};
    json_t *claims = NULL;
    auth_jwt_verify(ks, token, &chk, &claims, NULL, msg, sizeof(msg));
    json_decref(claims);
    auth_jwks_unref(ks);
    return 0;
}
