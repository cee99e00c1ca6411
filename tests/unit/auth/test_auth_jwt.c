/* SPDX-License-Identifier: MIT
 * test_auth_jwt.c — the JWT validator (auth_jwt.c) against keys generated here with cjose:
 * valid RS256 and ES256 tokens, and every attack of RFC 8725 / OIDC RP certification the
 * validator must refuse (alg none, HS256 signed with the RSA public key, unlisted algorithm,
 * unknown or missing kid, key of the wrong type, tampered payload, bad signature, key-bearing
 * headers), the claims checks (iss, aud, azp, exp, nbf, iat, nonce, sub) and JWKS parsing
 * (symmetric and private keys are never used). Then the private_key_jwt client assertion
 * (auth_jwt_client_assertion): keys generated with OpenSSL, the token decoded and its claims,
 * header and signature checked here with OpenSSL (ES256 in JOSE r||s form) and by the validator
 * above; keys that do not fit the algorithm are refused.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define ISS "https://idp.example.com"
#define AUD "openclaw-gateway"
#define NOW 1700000000

static cjose_jwk_t *rsa_key, *rsa_key2, *ec_key;
static struct auth_jwks *jwks;
static const char *const rs256[] = {"RS256", "ES256"};

static char *public_jwk(cjose_jwk_t *k, const char *kid)
{
    cjose_err err;
    char *pub = cjose_jwk_to_json(k, false, &err);
    json_error_t je;
    json_t *j = json_loads(pub, 0, &je);
    json_object_set_new(j, "kid", json_string(kid));
    json_object_set_new(j, "use", json_string("sig"));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    cjose_get_dealloc()(pub);
    return out;
}

static int setup(void **state)
{
    cjose_err err;
    static const uint8_t e[] = {1, 0, 1};
    rsa_key = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
    rsa_key2 = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
    ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    assert_non_null(rsa_key);
    assert_non_null(ec_key);
    char *a = public_jwk(rsa_key, "rsa-1"), *b = public_jwk(ec_key, "ec-1");
    /* plus a symmetric key and junk that must be ignored */
    char *doc =
        gw_xasprintf("{\"keys\":[%s,%s,{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"},"
                     "{\"kty\":\"RSA\",\"kid\":\"broken\"}]}",
                     a, b);
    char msg[160];
    assert_int_equal(auth_jwks_parse(doc, strlen(doc), &jwks, msg, sizeof(msg)), GW_OK);
    assert_int_equal(auth_jwks_count(jwks), 2);
    free(a);
    free(b);
    free(doc);
    return 0;
}

static int teardown(void **state)
{
    auth_jwks_unref(jwks);
    cjose_jwk_release(rsa_key);
    cjose_jwk_release(rsa_key2);
    cjose_jwk_release(ec_key);
    return 0;
}

static json_t *claims(void)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", ISS, "sub", "alice", "aud", AUD,
                     "azp", AUD, "iat", (json_int_t)NOW, "nbf", (json_int_t)NOW, "exp",
                     (json_int_t)(NOW + 300), "nonce", "n-123");
}

/* Signs claims (stolen) with key under alg/kid (kid NULL: none). */
static char *sign(cjose_jwk_t *key, const char *alg, const char *kid, json_t *cl)
{
    cjose_err err;
    cjose_header_t *h = cjose_header_new(&err);
    cjose_header_set(h, CJOSE_HDR_ALG, alg, &err);
    if (kid)
        cjose_header_set(h, CJOSE_HDR_KID, kid, &err);
    char *payload = json_dumps(cl, JSON_COMPACT);
    json_decref(cl);
    cjose_jws_t *jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &err);
    assert_non_null(jws);
    const char *ser = NULL;
    assert_true(cjose_jws_export(jws, &ser, &err));
    char *out = gw_xstrdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(h);
    free(payload);
    return out;
}

static struct auth_jwt_check check(void)
{
    return (struct auth_jwt_check){.issuer = ISS,
                                   .audience = AUD,
                                   .azp = AUD,
                                   .algs = rs256,
                                   .n_algs = 2,
                                   .now_s = NOW + 10,
                                   .skew_s = 30,
                                   .nonce = "n-123",
                                   .require_iat = true};
}

/* Verifies and returns the status; msg must contain `want` when refused. */
static gw_err verify(const char *tok, const struct auth_jwt_check *chk, const char *want)
{
    json_t *cl = NULL;
    char msg[256] = "";
    gw_err rc = auth_jwt_verify(jwks, tok, chk, &cl, NULL, msg, sizeof(msg));
    if (rc == GW_OK) {
        assert_non_null(cl);
        assert_string_equal(gw_json_str(cl, "sub"), "alice");
        json_decref(cl);
    } else {
        assert_null(cl);
        if (want && !strstr(msg, want))
            fail_msg("message '%s' lacks '%s'", msg, want);
    }
    return rc;
}

static void valid_tokens(void **state)
{
    struct auth_jwt_check chk = check();
    char *t = sign(rsa_key, "RS256", "rsa-1", claims());
    assert_int_equal(verify(t, &chk, NULL), GW_OK);
    free(t);
    t = sign(ec_key, "ES256", "ec-1", claims());
    assert_int_equal(verify(t, &chk, NULL), GW_OK);
    free(t);
    /* aud as a list with azp = this client */
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", AUD, "other"));
    t = sign(rsa_key, "RS256", "rsa-1", c);
    assert_int_equal(verify(t, &chk, NULL), GW_OK);
    free(t);
}

static void algorithm_attacks(void **state)
{
    struct auth_jwt_check chk = check();
    char *good = sign(rsa_key, "RS256", "rsa-1", claims());
    char *dot = strchr(good, '.');
    char *payload = gw_xstrndup(dot + 1, (size_t)(strrchr(good, '.') - dot - 1));

    /* alg none, with and without a signature, any case */
    const char *nones[] = {"eyJhbGciOiJub25lIiwia2lkIjoicnNhLTEifQ", /* {"alg":"none","kid":"rsa-1"}
                                                                      */
                           "eyJhbGciOiJOb05lIn0"};                   /* {"alg":"NoNe"} */
    for (size_t i = 0; i < 2; i++) {
        char *t = gw_xasprintf("%s.%s.", nones[i], payload);
        assert_int_equal(verify(t, &chk, "not allowed"), GW_EUNAUTH);
        free(t);
        t = gw_xasprintf("%s.%s.%s", nones[i], payload, strrchr(good, '.') + 1);
        assert_int_equal(verify(t, &chk, "not allowed"), GW_EUNAUTH);
        free(t);
    }

    /* HS256 with the RSA public key (as JSON, the usual confusion) as the HMAC secret */
    cjose_err err;
    char *pubjson = cjose_jwk_to_json(rsa_key, false, &err);
    cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)pubjson, strlen(pubjson), &err);
    char *t = sign(oct, "HS256", "rsa-1", claims());
    assert_int_equal(verify(t, &chk, "not allowed"), GW_EUNAUTH);
    free(t);
    /* even when a caller lists HS256, the validator never verifies a symmetric algorithm */
    const char *hs[] = {"HS256"};
    struct auth_jwt_check bad = chk;
    bad.algs = hs;
    bad.n_algs = 1;
    t = sign(oct, "HS256", "rsa-1", claims());
    assert_int_equal(verify(t, &bad, "not allowed"), GW_EUNAUTH);
    free(t);
    cjose_jwk_release(oct);
    cjose_get_dealloc()(pubjson);

    /* an algorithm outside the allow-list */
    t = sign(rsa_key, "RS512", "rsa-1", claims());
    assert_int_equal(verify(t, &chk, "not allowed"), GW_EUNAUTH);
    free(t);
    /* ES256 header pointing at the RSA key, RS256 at the EC key */
    t = sign(ec_key, "ES256", "rsa-1", claims());
    assert_int_equal(verify(t, &chk, "does not fit"), GW_EUNAUTH);
    free(t);
    t = sign(rsa_key, "RS256", "ec-1", claims());
    assert_int_equal(verify(t, &chk, "does not fit"), GW_EUNAUTH);
    free(t);
    free(payload);
    free(good);
}

static void key_selection(void **state)
{
    struct auth_jwt_check chk = check();
    json_t *cl = NULL;
    char msg[200];
    bool unknown = false;
    char *t = sign(rsa_key2, "RS256", "rsa-9", claims());
    assert_int_equal(auth_jwt_verify(jwks, t, &chk, &cl, &unknown, msg, sizeof(msg)), GW_EUNAUTH);
    assert_true(unknown);
    assert_non_null(strstr(msg, "unknown signing key"));
    free(t);
    /* an unpublished key claiming a published kid */
    t = sign(rsa_key2, "RS256", "rsa-1", claims());
    assert_int_equal(verify(t, &chk, "bad signature"), GW_EUNAUTH);
    free(t);
    /* no kid: the one RSA key of the set fits RS256, so it is used */
    t = sign(rsa_key, "RS256", NULL, claims());
    assert_int_equal(verify(t, &chk, NULL), GW_OK);
    free(t);
    /* kid injection is only a lookup key */
    t = sign(rsa_key, "RS256", "../../dev/null", claims());
    assert_int_equal(verify(t, &chk, "unknown signing key"), GW_EUNAUTH);
    free(t);
}

static void tampering(void **state)
{
    struct auth_jwt_check chk = check();
    char *t = sign(rsa_key, "RS256", "rsa-1", claims());
    /* flip a signature character */
    size_t n = strlen(t);
    t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t, &chk, "signature"), GW_EUNAUTH);
    free(t);
    /* swap the payload for another one */
    char *a = sign(rsa_key, "RS256", "rsa-1", claims());
    json_t *c = claims();
    json_object_set_new(c, "sub", json_string("mallory"));
    char *b = sign(rsa_key2, "RS256", "rsa-1", c);
    char *ad = strchr(a, '.'), *bd = strchr(b, '.');
    char *mixed = gw_xasprintf("%.*s.%.*s%s", (int)(ad - a), a, (int)(strrchr(b, '.') - bd - 1),
                               bd + 1, strrchr(a, '.'));
    assert_int_equal(verify(mixed, &chk, "bad signature"), GW_EUNAUTH);
    free(a);
    free(b);
    free(mixed);
    /* malformed shapes */
    assert_int_equal(verify("", &chk, "malformed"), GW_EUNAUTH);
    assert_int_equal(verify("a.b", &chk, "malformed"), GW_EUNAUTH);
    assert_int_equal(verify("a.b.c.d", &chk, "malformed"), GW_EUNAUTH);
    assert_int_equal(verify("e30.e30.!!", &chk, "malformed"), GW_EUNAUTH);
    char *huge = gw_xmalloc(AUTH_JWT_MAX_LEN + 10);
    memset(huge, 'a', AUTH_JWT_MAX_LEN + 9);
    huge[10] = huge[20] = '.';
    huge[AUTH_JWT_MAX_LEN + 9] = '\0';
    assert_int_equal(verify(huge, &chk, "malformed"), GW_EUNAUTH);
    free(huge);
}

static void key_bearing_headers(void **state)
{
    struct auth_jwt_check chk = check();
    const char *names[] = {"jku", "x5u", "jwk"};
    for (size_t i = 0; i < 3; i++) {
        cjose_err err;
        cjose_header_t *h = cjose_header_new(&err);
        cjose_header_set(h, CJOSE_HDR_ALG, "RS256", &err);
        cjose_header_set(h, CJOSE_HDR_KID, "rsa-1", &err);
        cjose_header_set(h, names[i], "https://attacker.example/keys", &err);
        json_t *cl = claims();
        char *payload = json_dumps(cl, JSON_COMPACT);
        json_decref(cl);
        cjose_jws_t *jws = cjose_jws_sign(rsa_key, h, (const uint8_t *)payload, strlen(payload),
                                          &err);
        const char *ser = NULL;
        cjose_jws_export(jws, &ser, &err);
        assert_int_equal(verify(ser, &chk, "not accepted"), GW_EUNAUTH);
        cjose_jws_release(jws);
        cjose_header_release(h);
        free(payload);
    }
}

/* Signs the standard claims with one change: key=NULL removes it, else sets value (stolen). */
static gw_err with_claim(const char *key, json_t *value, const struct auth_jwt_check *chk,
                         const char *want)
{
    json_t *c = claims();
    if (value)
        json_object_set_new(c, key, value);
    else
        json_object_del(c, key);
    char *t = sign(rsa_key, "RS256", "rsa-1", c);
    gw_err rc = verify(t, chk, want);
    free(t);
    return rc;
}

static void claims_checks(void **state)
{
    struct auth_jwt_check chk = check();
    assert_int_equal(with_claim("iss", json_string(ISS "/"), &chk, "issuer"), GW_EUNAUTH);
    assert_int_equal(with_claim("iss", NULL, &chk, "issuer"), GW_EUNAUTH);
    assert_int_equal(with_claim("aud", json_string("other"), &chk, "audience"), GW_EUNAUTH);
    assert_int_equal(with_claim("aud", json_pack("[i]", 1), &chk, "audience"), GW_EUNAUTH);
    assert_int_equal(with_claim("azp", json_string("other"), &chk, "authorized party"), GW_EUNAUTH);
    json_t *c = claims();
    json_object_set_new(c, "aud", json_pack("[s,s]", AUD, "other"));
    json_object_del(c, "azp");
    char *t = sign(rsa_key, "RS256", "rsa-1", c);
    assert_int_equal(verify(t, &chk, "no azp"), GW_EUNAUTH);
    free(t);
    assert_int_equal(with_claim("exp", json_integer(NOW - 60), &chk, "expired"), GW_EUNAUTH);
    assert_int_equal(with_claim("exp", json_integer(NOW), &chk, NULL), GW_OK); /* within skew */
    assert_int_equal(with_claim("exp", NULL, &chk, "exp"), GW_EUNAUTH);
    assert_int_equal(with_claim("exp", json_string("tomorrow"), &chk, "exp"), GW_EUNAUTH);
    assert_int_equal(with_claim("nbf", json_integer(NOW + 600), &chk, "not yet valid"), GW_EUNAUTH);
    assert_int_equal(with_claim("iat", json_integer(NOW + 600), &chk, "future"), GW_EUNAUTH);
    assert_int_equal(with_claim("iat", NULL, &chk, "iat"), GW_EUNAUTH);
    assert_int_equal(with_claim("nonce", json_string("n-124"), &chk, "nonce"), GW_EUNAUTH);
    assert_int_equal(with_claim("nonce", NULL, &chk, "nonce"), GW_EUNAUTH);
    assert_int_equal(with_claim("sub", NULL, &chk, "sub"), GW_EUNAUTH);
    assert_int_equal(with_claim("sub", json_string(""), &chk, "sub"), GW_EUNAUTH);
    /* without a nonce requirement (bearer tokens) the nonce is not looked at */
    struct auth_jwt_check bearer = chk;
    bearer.nonce = NULL;
    bearer.require_iat = false;
    assert_int_equal(with_claim("nonce", NULL, &bearer, NULL), GW_OK);
    assert_int_equal(with_claim("iat", NULL, &bearer, NULL), GW_OK);
}

static void jwks_parsing(void **state)
{
    struct auth_jwks *ks = NULL;
    char msg[160];
    const char *bad[] = {"", "[]", "{\"keys\":{}}", "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}",
                         "{\"keys\":[],\"keys\":[]}",
                         /* base64url with '=' inside made cjose abort the process (fuzz_jwks) */
                         ("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                          "\"x\":\"A=\",\"y\":\"A=\"}]}"),
                         "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AAAAA===\",\"e\":\"AQAB\"}]}"};
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        assert_int_equal(auth_jwks_parse(bad[i], strlen(bad[i]), &ks, msg, sizeof(msg)), GW_EINVAL);
        assert_null(ks);
    }
    /* a published private key is refused rather than used */
    cjose_err err;
    char *priv = cjose_jwk_to_json(rsa_key2, true, &err);
    char *doc = gw_xasprintf("{\"keys\":[%s]}", priv);
    assert_int_equal(auth_jwks_parse(doc, strlen(doc), &ks, msg, sizeof(msg)), GW_EINVAL);
    free(doc);
    cjose_get_dealloc()(priv);
}

/* --- private_key_jwt client assertions -------------------------------------------------- */

#define CLIENT "openclaw-gateway"
#define TOKEN_EP "https://idp.example.com/oauth2/token"

static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = gw_xstrndup(data, (size_t)n);
    BIO_free(b);
    return out;
}

static unsigned char *b64url_part(const char *s, size_t n, size_t *len)
{
    uint8_t *raw = NULL;
    cjose_err err;
    assert_true(cjose_base64url_decode(s, n, &raw, len, &err));
    unsigned char *out = gw_xmalloc(*len + 1);
    memcpy(out, raw, *len);
    out[*len] = '\0';
    cjose_get_dealloc()(raw);
    return out;
}

static json_t *json_part(const char *s, size_t n)
{
    size_t len = 0;
    unsigned char *text = b64url_part(s, n, &len);
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    assert_true(json_is_object(j));
    return j;
}

/* The signature over header.claims, checked with OpenSSL; ES256 is JOSE's r||s (64 bytes),
 * turned back into DER here. */
static bool signature_ok(EVP_PKEY *k, const char *alg, const char *jws)
{
    const char *dot = strrchr(jws, '.');
    size_t len = 0;
    unsigned char *sig = b64url_part(dot + 1, strlen(dot + 1), &len), *der = NULL;
    const unsigned char *check = sig;
    size_t check_len = len;
    if (!strcmp(alg, "ES256")) {
        assert_int_equal(len, 64);
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
        int n = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        assert_true(n > 0);
        check = der;
        check_len = (size_t)n;
    } else {
        assert_int_equal(len, (size_t)EVP_PKEY_get_size(k));
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestVerify(md, check, check_len, (const unsigned char *)jws,
                               (size_t)(dot - jws)) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    free(sig);
    return ok;
}

static char *bn_b64url(EVP_PKEY *k, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    unsigned char raw[512];
    assert_true(n <= sizeof(raw));
    assert_int_equal(BN_bn2binpad(bn, raw, (int)n), (int)n);
    BN_free(bn);
    char *out = gw_xmalloc(n * 2 + 4);
    gw_b64url(raw, n, out);
    return out;
}

/* The public key as a JWKS of one key, for the validator above. */
static struct auth_jwks *jwks_of(EVP_PKEY *k, const char *kid)
{
    char *doc;
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
        char *n = bn_b64url(k, OSSL_PKEY_PARAM_RSA_N, 0);
        char *e = bn_b64url(k, OSSL_PKEY_PARAM_RSA_E, 0);
        doc = gw_xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
                           "\"e\":\"%s\"}]}",
                           kid, n, e);
        free(n);
        free(e);
    } else {
        char *x = bn_b64url(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        char *y = bn_b64url(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        doc = gw_xasprintf("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\","
                           "\"x\":\"%s\",\"y\":\"%s\"}]}",
                           kid, x, y);
        free(x);
        free(y);
    }
    struct auth_jwks *ks = NULL;
    char msg[160];
    assert_int_equal(auth_jwks_parse(doc, strlen(doc), &ks, msg, sizeof(msg)), GW_OK);
    free(doc);
    return ks;
}

static void one_assertion(EVP_PKEY *k, const char *alg, const char *kid)
{
    char *pem = pem_of(k), *a = NULL, *b = NULL, msg[160] = "";
    assert_int_equal(auth_jwt_client_assertion(pem, alg, kid, CLIENT, TOKEN_EP, NOW, &a, msg,
                                               sizeof(msg)),
                     GW_OK);
    const char *d1 = strchr(a, '.'), *d2 = strrchr(a, '.');
    assert_true(d1 && d2 && d1 < d2 && strchr(d1 + 1, '.') == d2); /* three parts */
    json_t *h = json_part(a, (size_t)(d1 - a)), *c = json_part(d1 + 1, (size_t)(d2 - d1 - 1));
    assert_string_equal(gw_json_str(h, "alg"), alg);
    assert_string_equal(gw_json_str(h, "typ"), "JWT");
    if (kid)
        assert_string_equal(gw_json_str(h, "kid"), kid);
    else
        assert_null(json_object_get(h, "kid"));
    assert_int_equal(json_object_size(h), kid ? 3 : 2);
    /* RFC 7523 3: iss = sub = the client, aud = the token endpoint, exp, jti; plus iat */
    assert_string_equal(gw_json_str(c, "iss"), CLIENT);
    assert_string_equal(gw_json_str(c, "sub"), CLIENT);
    assert_string_equal(gw_json_str(c, "aud"), TOKEN_EP);
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW);
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 60);
    const char *jti = gw_json_str(c, "jti");
    assert_true(jti && strlen(jti) >= 32);
    assert_int_equal(json_object_size(c), 6);
    assert_true(signature_ok(k, alg, a));
    /* the check can fail: another payload under the same signature */
    char *forged = gw_xstrdup(a);
    forged[(d1 - a) + 5] = forged[(d1 - a) + 5] == 'A' ? 'B' : 'A';
    assert_false(signature_ok(k, alg, forged));
    free(forged);
    /* and the validator that checks the IdP's tokens accepts it (cjose, JOSE signature form) */
    struct auth_jwks *ks = jwks_of(k, kid ? kid : "k");
    const char *algs[] = {alg};
    struct auth_jwt_check chk = {.issuer = CLIENT,
                                 .audience = TOKEN_EP,
                                 .algs = algs,
                                 .n_algs = 1,
                                 .now_s = NOW + 1,
                                 .require_iat = true};
    json_t *cl = NULL;
    assert_int_equal(auth_jwt_verify(ks, a, &chk, &cl, NULL, msg, sizeof(msg)), GW_OK);
    json_decref(cl);
    auth_jwks_unref(ks);
    /* every assertion has its own jti */
    assert_int_equal(auth_jwt_client_assertion(pem, alg, kid, CLIENT, TOKEN_EP, NOW, &b, msg,
                                               sizeof(msg)),
                     GW_OK);
    json_t *c2 = json_part(strchr(b, '.') + 1, (size_t)(strrchr(b, '.') - strchr(b, '.') - 1));
    assert_string_not_equal(gw_json_str(c2, "jti"), jti);
    json_decref(c2);
    json_decref(h);
    json_decref(c);
    free(a);
    free(b);
    free(pem);
}

/* Signing with a key that does not fit fails, and the key never shows in the message. */
static void refused_key(EVP_PKEY *k, const char *alg, const char *pem_text)
{
    char *pem = k ? pem_of(k) : gw_xstrdup(pem_text), *out = NULL, msg[160] = "";
    json_t *cl = json_pack("{s:s}", "iss", CLIENT);
    assert_int_equal(auth_jwt_sign(pem, alg, NULL, cl, &out, msg, sizeof(msg)), GW_EINVAL);
    assert_null(out);
    assert_true(msg[0] && !strstr(msg, "BEGIN") && !strstr(msg, "MII"));
    json_decref(cl);
    free(pem);
}

static void client_assertions(void **state)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_true(rsa && ec && small && p384 && ed);
    one_assertion(rsa, "RS256", "gw-key-1");
    one_assertion(ec, "ES256", NULL);
    refused_key(rsa, "ES256", NULL);
    refused_key(ec, "RS256", NULL);
    refused_key(small, "RS256", NULL);
    refused_key(p384, "ES256", NULL);
    refused_key(ed, "ES256", NULL);
    refused_key(rsa, "HS256", NULL);
    refused_key(NULL, "RS256",
                "-----BEGIN PRIVATE KEY-----\nMIIgarbage\n-----END PRIVATE KEY-----\n");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_tokens),        cmocka_unit_test(algorithm_attacks),
        cmocka_unit_test(key_selection),       cmocka_unit_test(tampering),
        cmocka_unit_test(key_bearing_headers), cmocka_unit_test(claims_checks),
        cmocka_unit_test(jwks_parsing),        cmocka_unit_test(client_assertions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
