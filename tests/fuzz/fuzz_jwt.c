/* SPDX-License-Identifier: MIT
 * fuzz_jwt.c — JWT verification (auth_jwt_verify, src/auth/auth_jwt.c) against a JWKS of keys
 * made at start (RSA 2048 "rsa-1", EC P-256 "ec-1").
 *
 * The first input byte chooses how the rest is used:
 *   even: the rest is the token, as a Bearer header would carry it;
 *   odd:  a signed-token generator, so that the header and claims checks behind the signature
 *         are reached: the rest is "<header JSON>\n<payload bytes>"; the header (an object, else
 *         {}) gets "alg" ES256, or RS256 when the byte is 3 mod 4, and the token is signed with
 *         the matching key. The payload is signed as is, JSON or not.
 * Checks: a refusal says why and returns no claims; an accepted token's claims have the
 * configured issuer and audience and a subject.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/json.h"
#include "fuzz.h"

#include <cjose/cjose.h>

#define ISS "https://idp.example.com"
#define AUD "openclaw-gateway"
#define NOW 1700000000

static cjose_jwk_t *rsa_key, *ec_key;
static struct auth_jwks *jwks;

static char *public_jwk(cjose_jwk_t *k, const char *kid)
{
    cjose_err err;
    char *pub = cjose_jwk_to_json(k, false, &err);
    json_t *j = json_loads(pub, 0, NULL);
    json_object_set_new(j, "kid", json_string(kid));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    cjose_get_dealloc()(pub);
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cjose_err err;
    static const uint8_t e[] = {1, 0, 1};
    rsa_key = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
    ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    FUZZ_CHECK(rsa_key && ec_key);
    char *a = public_jwk(rsa_key, "rsa-1"), *b = public_jwk(ec_key, "ec-1");
    char *doc = gw_xasprintf("{\"keys\":[%s,%s]}", a, b);
    char msg[160];
    FUZZ_CHECK(auth_jwks_parse(doc, strlen(doc), &jwks, msg, sizeof(msg)) == GW_OK);
    free(a);
    free(b);
    free(doc);
    return 0;
}

/* "<header>\n<payload>" signed; NULL when cjose refuses (e.g. a header it cannot serialize). */
static char *signed_token(const char *in, size_t len, bool rsa)
{
    const char *nl = memchr(in, '\n', len);
    size_t hlen = nl ? (size_t)(nl - in) : len;
    json_t *hdr = json_loadb(in, hlen, 0, NULL);
    if (!json_is_object(hdr)) {
        json_decref(hdr);
        hdr = json_object();
    }
    json_object_set_new(hdr, "alg", json_string(rsa ? "RS256" : "ES256"));
    const char *payload = nl ? nl + 1 : "";
    size_t plen = nl ? len - hlen - 1 : 0;
    cjose_err err;
    cjose_jws_t *jws = cjose_jws_sign(rsa ? rsa_key : ec_key, hdr, (const uint8_t *)payload, plen,
                                      &err);
    const char *ser = NULL;
    char *out = jws && cjose_jws_export(jws, &ser, &err) ? gw_xstrdup(ser) : NULL;
    if (jws)
        cjose_jws_release(jws);
    json_decref(hdr);
    return out;
}

static bool names_us(const json_t *aud)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), AUD) == 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a)
        if (json_is_string(a) && strcmp(json_string_value(a), AUD) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *tok = data[0] & 1 ? signed_token((const char *)data + 1, size - 1, (data[0] & 3) == 3)
                            : fuzz_cstr(data + 1, size - 1);
    if (!tok)
        return 0;
    static const char *const algs[] = {"RS256", "ES256", "PS256", "ES384"};
    struct auth_jwt_check chk = {.issuer = ISS,
                                 .audience = AUD,
                                 .azp = AUD,
                                 .algs = algs,
                                 .n_algs = GW_ARRAY_LEN(algs),
                                 .now_s = NOW,
                                 .skew_s = 60,
                                 .nonce = data[0] & 4 ? "n-123" : NULL,
                                 .require_iat = data[0] & 8};
    json_t *claims = NULL;
    bool unknown_kid = false;
    char msg[256] = "";
    gw_err rc = auth_jwt_verify(jwks, tok, &chk, &claims, &unknown_kid, msg, sizeof(msg));
    if (rc == GW_OK) {
        const char *sub = gw_json_str(claims, "sub");
        FUZZ_CHECK(claims && strcmp(gw_json_str(claims, "iss"), ISS) == 0 && sub && *sub);
        FUZZ_CHECK(names_us(json_object_get(claims, "aud")));
    } else {
        FUZZ_CHECK(rc == GW_EUNAUTH && !claims && msg[0]);
    }
    json_decref(claims);
    free(tok);
    return 0;
}
