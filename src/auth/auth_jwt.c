/* SPDX-License-Identifier: MIT
 * auth_jwt.c — JWS compact tokens verified against a JWKS, with our own key selection,
 * algorithm allow-list and claims checks around cjose's signature verification.
 *
 * cjose is only asked to check a signature with a key we chose; everything that decides
 * whether that is the right key and the right algorithm happens here first: the header is
 * parsed strictly (duplicate keys refused), "alg" must be in the caller's allow-list and be an
 * asymmetric algorithm (so "none" and HS256 signed with a public key can never be verified),
 * key-bearing headers (jku, x5u, jwk) are refused, the key is looked up by kid in the JWKS
 * only and must fit the algorithm (RSA for RS/PS, the right curve for ES, its own "alg" if it
 * declares one). Then iss, aud, azp, exp, nbf, iat and nonce are checked (RFC 7519, OIDC Core
 * 3.1.3.7, RFC 8725).
 *
 * It also signs, for one purpose: the private_key_jwt client assertion (RFC 7523 section 3,
 * OIDC Core section 9) with which the relying party authenticates to the IdP. OpenSSL signs
 * (RS256, or ES256 with the signature converted from DER to JOSE's r||s); the key must fit the
 * algorithm, and every assertion has a fresh random jti and a 60-second lifetime.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <cjose/cjose.h>
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <strings.h>

struct jwks_key {
    cjose_jwk_t *jwk;
    char *kid; /* may be NULL */
    char *alg; /* the key's own "alg", may be NULL */
    cjose_jwk_kty_t kty;
    int curve; /* EC: CJOSE_JWK_EC_* */
};

struct auth_jwks {
    atomic_int refs;
    struct jwks_key keys[AUTH_JWKS_MAX_KEYS];
    size_t n;
};

/* --- JWKS ------------------------------------------------------------------------------- */

static bool b64url_chars(const char *s, size_t n);

/* The members cjose base64url-decodes must be base64url without padding (RFC 7518 section 6):
 * cjose 0.6 aborts the process on an '=' after 4k+1 characters ("A=", found by fuzz_jwks). */
static bool key_members_b64url(const json_t *k)
{
    static const char *const members[] = {"n", "e", "x", "y", "p", "q", "dp", "dq", "qi"};
    for (size_t i = 0; i < GW_ARRAY_LEN(members); i++) {
        const json_t *v = json_object_get(k, members[i]);
        if (v && (!json_is_string(v) || !b64url_chars(json_string_value(v), json_string_length(v))))
            return false;
    }
    return true;
}

gw_err auth_jwks_parse(const char *json, size_t len, struct auth_jwks **out, char *msg,
                       size_t msgcap)
{
    char jmsg[160];
    *out = NULL;
    json_t *doc = gw_json_parse(json, len, 8, jmsg, sizeof(jmsg));
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(msg, msgcap, "JWKS is not a JSON object with a \"keys\" array%s%s",
                 doc ? "" : ": ", doc ? "" : jmsg);
        json_decref(doc);
        return GW_EINVAL;
    }
    struct auth_jwks *ks = gw_xcalloc(1, sizeof(*ks));
    atomic_init(&ks->refs, 1);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        if (ks->n == AUTH_JWKS_MAX_KEYS)
            break;
        const char *kty = gw_json_str(k, "kty"), *use = gw_json_str(k, "use");
        if (!kty || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
            continue; /* never "oct": a symmetric key must not verify an IdP's token */
        if (json_object_get(k, "use") && (!use || strcmp(use, "sig") != 0))
            continue;
        if (json_object_get(k, "d"))
            continue; /* a private key published by mistake: refuse to use it */
        if (!key_members_b64url(k))
            continue;
        char *text = gw_json_compact(k);
        cjose_err err;
        cjose_jwk_t *jwk = text ? cjose_jwk_import(text, strlen(text), &err) : NULL;
        free(text);
        if (!jwk)
            continue;
        struct jwks_key *e = &ks->keys[ks->n];
        e->kty = cjose_jwk_get_kty(jwk, &err);
        if (e->kty == CJOSE_JWK_KTY_RSA && cjose_jwk_get_keysize(jwk, &err) < 2048) {
            cjose_jwk_release(jwk);
            continue;
        }
        if (e->kty == CJOSE_JWK_KTY_EC)
            e->curve = (int)cjose_jwk_EC_get_curve(jwk, &err);
        const char *kid = gw_json_str(k, "kid"), *alg = gw_json_str(k, "alg");
        e->jwk = jwk;
        e->kid = kid && strlen(kid) <= 256 ? gw_xstrdup(kid) : NULL;
        e->alg = alg && strlen(alg) <= 16 ? gw_xstrdup(alg) : NULL;
        ks->n++;
    }
    json_decref(doc);
    if (ks->n == 0) {
        snprintf(msg, msgcap, "JWKS has no usable signature key (RSA of 2048 bits or more, EC)");
        auth_jwks_unref(ks);
        return GW_EINVAL;
    }
    *out = ks;
    return GW_OK;
}

struct auth_jwks *auth_jwks_ref(struct auth_jwks *ks)
{
    if (ks)
        atomic_fetch_add(&ks->refs, 1);
    return ks;
}

void auth_jwks_unref(struct auth_jwks *ks)
{
    if (!ks || atomic_fetch_sub(&ks->refs, 1) != 1)
        return;
    for (size_t i = 0; i < ks->n; i++) {
        cjose_jwk_release(ks->keys[i].jwk);
        free(ks->keys[i].kid);
        free(ks->keys[i].alg);
    }
    free(ks);
}

size_t auth_jwks_count(const struct auth_jwks *ks)
{
    return ks ? ks->n : 0;
}

/* --- helpers ---------------------------------------------------------------------------- */

static bool b64url_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Decodes one base64url segment into a NUL-terminated malloc'd buffer. */
static char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    cjose_err err;
    if (!cjose_base64url_decode(s, n, &raw, &rawlen, &err))
        return NULL;
    char *out = gw_xmalloc(rawlen + 1);
    memcpy(out, raw, rawlen);
    out[rawlen] = '\0';
    cjose_get_dealloc()(raw);
    *outlen = rawlen;
    return out;
}

/* Does the key fit the algorithm? (The header's alg is already in the allow-list.) */
static bool key_fits(const struct jwks_key *k, const char *alg)
{
    if (k->alg && strcmp(k->alg, alg) != 0)
        return false;
    if (alg[0] == 'R' || alg[0] == 'P')
        return k->kty == CJOSE_JWK_KTY_RSA;
    if (alg[0] == 'E' && k->kty == CJOSE_JWK_KTY_EC) {
        if (!strcmp(alg, "ES256"))
            return k->curve == CJOSE_JWK_EC_P_256;
        if (!strcmp(alg, "ES384"))
            return k->curve == CJOSE_JWK_EC_P_384;
        if (!strcmp(alg, "ES512"))
            return k->curve == CJOSE_JWK_EC_P_521;
    }
    return false;
}

static bool alg_asymmetric(const char *alg)
{
    static const char *const ok[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                     "PS512", "ES256", "ES384", "ES512", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (!strcmp(alg, ok[i]))
            return true;
    return false;
}

bool auth_numeric_date(const json_t *v, int64_t *out)
{
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else
        return false;
    if (!(d >= 0 && d < 1e11))
        return false;
    *out = (int64_t)d;
    return true;
}

bool auth_aud_contains(const json_t *aud, const char *want, size_t *count)
{
    *count = 0;
    if (json_is_string(aud)) {
        *count = 1;
        return strcmp(json_string_value(aud), want) == 0;
    }
    if (!json_is_array(aud))
        return false;
    bool found = false;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a) {
        if (!json_is_string(a))
            return false;
        (*count)++;
        found |= strcmp(json_string_value(a), want) == 0;
    }
    return found;
}

static bool str_ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && gw_ct_equal(a, b, la);
}

/* --- verification ----------------------------------------------------------------------- */

static gw_err check_claims(const json_t *cl, const struct auth_jwt_check *chk, char *msg,
                           size_t msgcap)
{
    int64_t now = chk->now_s ? chk->now_s : gw_now_ms() / 1000;
    int64_t skew = chk->skew_s;
    const char *iss = gw_json_str(cl, "iss");
    if (!iss || strcmp(iss, chk->issuer) != 0) {
        snprintf(msg, msgcap, "wrong issuer (iss is not the configured issuer)");
        return GW_EUNAUTH;
    }
    const char *sub = gw_json_str(cl, "sub");
    if (!sub || !*sub || strlen(sub) > 255) {
        snprintf(msg, msgcap, "token has no valid sub claim");
        return GW_EUNAUTH;
    }
    size_t n_aud = 0;
    if (!auth_aud_contains(json_object_get(cl, "aud"), chk->audience, &n_aud)) {
        snprintf(msg, msgcap, "wrong audience (aud does not contain %.100s)", chk->audience);
        return GW_EUNAUTH;
    }
    if (chk->azp) {
        json_t *azpv = json_object_get(cl, "azp");
        if (azpv && (!json_is_string(azpv) || strcmp(json_string_value(azpv), chk->azp) != 0)) {
            snprintf(msg, msgcap, "wrong authorized party (azp is not this client)");
            return GW_EUNAUTH;
        }
        if (!azpv && n_aud > 1) {
            snprintf(msg, msgcap, "token has several audiences but no azp claim");
            return GW_EUNAUTH;
        }
    }
    int64_t exp = 0, nbf = 0, iat = 0;
    json_t *v = json_object_get(cl, "exp");
    if (!v || !auth_numeric_date(v, &exp)) {
        snprintf(msg, msgcap, "token has no valid exp claim");
        return GW_EUNAUTH;
    }
    if (now >= exp + skew) {
        snprintf(msg, msgcap, "token has expired");
        return GW_EUNAUTH;
    }
    v = json_object_get(cl, "nbf");
    if (v && !auth_numeric_date(v, &nbf)) {
        snprintf(msg, msgcap, "token has an invalid nbf claim");
        return GW_EUNAUTH;
    }
    if (v && nbf > now + skew) {
        snprintf(msg, msgcap, "token is not yet valid (nbf is in the future)");
        return GW_EUNAUTH;
    }
    v = json_object_get(cl, "iat");
    if ((v || chk->require_iat) && (!v || !auth_numeric_date(v, &iat))) {
        snprintf(msg, msgcap, "token has no valid iat claim");
        return GW_EUNAUTH;
    }
    if (v && iat > now + skew) {
        snprintf(msg, msgcap, "token was issued in the future (iat)");
        return GW_EUNAUTH;
    }
    if (chk->nonce) {
        const char *nonce = gw_json_str(cl, "nonce");
        if (!nonce || !str_ct_equal(nonce, chk->nonce)) {
            snprintf(msg, msgcap,
                     nonce ? "nonce does not match the login request (replayed "
                             "or forged token)"
                           : "token has no nonce");
            return GW_EUNAUTH;
        }
    }
    return GW_OK;
}

gw_err auth_jwt_verify(const struct auth_jwks *ks, const char *jwt,
                       const struct auth_jwt_check *chk, json_t **claims, bool *unknown_kid,
                       char *msg, size_t msgcap)
{
    gw_err rc = GW_EUNAUTH;
    char *hdr_text = NULL, *body_text = NULL;
    json_t *hdr = NULL, *cl = NULL;
    cjose_jws_t *jws = NULL;
    char jmsg[160];
    size_t len = jwt ? strlen(jwt) : 0, hlen = 0;
    *claims = NULL;
    if (unknown_kid)
        *unknown_kid = false;
    if (!ks || !chk->issuer || !chk->audience || !chk->n_algs) {
        snprintf(msg, msgcap, "token validation is not configured");
        return GW_EUNAUTH;
    }
    if (len == 0 || len > AUTH_JWT_MAX_LEN) {
        snprintf(msg, msgcap, "malformed token (empty or longer than %d bytes)", AUTH_JWT_MAX_LEN);
        return GW_EUNAUTH;
    }
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.') || d1 == jwt || d2 == d1 + 1 ||
        !b64url_chars(jwt, (size_t)(d1 - jwt)) || !b64url_chars(d1 + 1, (size_t)(d2 - d1 - 1)) ||
        !b64url_chars(d2 + 1, strlen(d2 + 1))) {
        snprintf(msg, msgcap, "malformed token (expected three base64url parts and a signature)");
        return GW_EUNAUTH;
    }
    hdr_text = b64url_decode(jwt, (size_t)(d1 - jwt), &hlen);
    hdr = hdr_text ? gw_json_parse(hdr_text, hlen, 4, jmsg, sizeof(jmsg)) : NULL;
    if (!json_is_object(hdr)) {
        snprintf(msg, msgcap, "malformed token header");
        goto out;
    }
    const char *alg = gw_json_str(hdr, "alg");
    if (!alg) {
        snprintf(msg, msgcap, "token header has no alg");
        goto out;
    }
    bool listed = false;
    for (size_t i = 0; i < chk->n_algs; i++)
        listed |= strcmp(alg, chk->algs[i]) == 0;
    if (!listed || !alg_asymmetric(alg)) {
        char shown[24];
        size_t k = 0;
        for (const char *p = alg; *p && k + 1 < sizeof(shown); p++)
            shown[k++] = isprint((unsigned char)*p) ? *p : '?';
        shown[k] = '\0';
        snprintf(msg, msgcap, "signature algorithm \"%s\" is not allowed", shown);
        goto out;
    }
    if (!d2[1]) { /* checked after alg, so "alg: none" is named as such */
        snprintf(msg, msgcap, "malformed token (no signature)");
        goto out;
    }
    static const char *const refused[] = {"jku", "x5u", "jwk", "crit", NULL};
    for (size_t i = 0; refused[i]; i++)
        if (json_object_get(hdr, refused[i])) {
            snprintf(msg, msgcap,
                     "token header \"%s\" is not accepted (keys come only from "
                     "the IdP's JWKS)",
                     refused[i]);
            goto out;
        }
    json_t *kidv = json_object_get(hdr, "kid");
    if (kidv && !json_is_string(kidv)) {
        snprintf(msg, msgcap, "token header kid is not a string");
        goto out;
    }
    const char *kid = json_string_value(kidv);
    const struct jwks_key *key = NULL;
    if (kid) {
        for (size_t i = 0; i < ks->n && !key; i++)
            if (ks->keys[i].kid && strcmp(ks->keys[i].kid, kid) == 0)
                key = &ks->keys[i];
        if (!key) {
            if (unknown_kid)
                *unknown_kid = true;
            snprintf(msg, msgcap, "unknown signing key (kid not in the IdP's JWKS)");
            goto out;
        }
    } else {
        size_t fits = 0;
        for (size_t i = 0; i < ks->n; i++)
            if (key_fits(&ks->keys[i], alg)) {
                fits++;
                key = &ks->keys[i];
            }
        if (fits != 1) {
            snprintf(msg, msgcap,
                     "token has no kid and the JWKS does not have exactly one "
                     "matching key");
            key = NULL;
            goto out;
        }
    }
    if (!key_fits(key, alg)) {
        snprintf(msg, msgcap, "the signing key does not fit algorithm %s", alg);
        goto out;
    }
    cjose_err err;
    jws = cjose_jws_import(jwt, len, &err);
    if (!jws) {
        snprintf(msg, msgcap, "malformed token");
        goto out;
    }
    if (!cjose_jws_verify(jws, key->jwk, &err)) {
        snprintf(msg, msgcap, "bad signature");
        goto out;
    }
    uint8_t *plain = NULL;
    size_t plen = 0;
    if (!cjose_jws_get_plaintext(jws, &plain, &plen, &err) || plen > AUTH_JWT_MAX_LEN) {
        snprintf(msg, msgcap, "malformed token payload");
        goto out;
    }
    body_text = gw_xstrndup((const char *)plain, plen);
    cl = strlen(body_text) == plen ? gw_json_parse(body_text, plen, 8, jmsg, sizeof(jmsg)) : NULL;
    if (!json_is_object(cl)) {
        snprintf(msg, msgcap, "token payload is not a JSON object");
        goto out;
    }
    rc = check_claims(cl, chk, msg, msgcap);
    if (rc == GW_OK) {
        *claims = cl;
        cl = NULL;
    }
out:
    json_decref(cl);
    json_decref(hdr);
    free(hdr_text);
    free(body_text);
    if (jws)
        cjose_jws_release(jws);
    return rc;
}

/* --- signing (private_key_jwt client assertions) ----------------------------------------- */

/* The DER ECDSA signature OpenSSL produces, as JOSE wants it (RFC 7518 3.4): r and s as
 * big-endian 32-byte integers, concatenated. */
static bool ecdsa_der_to_jose(const unsigned char *der, size_t len, unsigned char out[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r = NULL, *s = NULL;
    if (sig)
        ECDSA_SIG_get0(sig, &r, &s);
    bool ok = sig && BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok;
}

gw_err auth_jwt_sign(const char *key_pem, const char *alg, const char *kid, const json_t *claims,
                     char **out, char *msg, size_t msgcap)
{
    *out = NULL;
    EVP_PKEY *key = key_pem ? gw_pem_private_key(key_pem) : NULL;
    const char *fits = key ? gw_key_jws_alg(key) : NULL;
    if (!key || !alg || !fits || strcmp(fits, alg) != 0) {
        snprintf(msg, msgcap, "%s",
                 !key ? "the signing key is not an unencrypted PEM private key"
                      : "the signing key does not fit the algorithm");
        EVP_PKEY_free(key);
        return GW_EINVAL;
    }
    json_t *hdr = json_pack("{s:s,s:s}", "alg", alg, "typ", "JWT");
    if (kid)
        json_object_set_new(hdr, "kid", json_string(kid));
    char *h = gw_json_compact(hdr), *c = gw_json_compact(claims);
    json_decref(hdr);
    /* header.claims.signature, each base64url: 4 characters per 3 bytes (rounded up) */
    size_t hl = strlen(h), cl = strlen(c), siglen = (size_t)EVP_PKEY_get_size(key), n;
    unsigned char *sig = gw_xmalloc(siglen), raw[64];
    char *jws = gw_xmalloc((hl + 2) / 3 * 4 + (cl + 2) / 3 * 4 + (siglen + 2) / 3 * 4 + 3);
    gw_b64url((const unsigned char *)h, hl, jws);
    n = strlen(jws);
    jws[n++] = '.';
    gw_b64url((const unsigned char *)c, cl, jws + n);
    n += strlen(jws + n);
    free(h);
    free(c);

    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jws, n) == 1;
    const unsigned char *final = sig;
    if (ok && !strcmp(alg, "ES256")) { /* DER from OpenSSL, r||s for JOSE */
        ok = ecdsa_der_to_jose(sig, siglen, raw);
        final = raw;
        siglen = sizeof(raw);
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    if (ok) {
        jws[n++] = '.';
        gw_b64url(final, siglen, jws + n);
        *out = jws;
    } else {
        snprintf(msg, msgcap, "signing failed");
        free(jws);
    }
    free(sig);
    return ok ? GW_OK : GW_EINTERNAL;
}

gw_err auth_jwt_client_assertion(const char *key_pem, const char *alg, const char *kid,
                                 const char *client_id, const char *audience, int64_t now_s,
                                 char **out, char *msg, size_t msgcap)
{
    unsigned char raw[32];
    char jti[48];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), jti);
    json_t *cl = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "iss", client_id, "sub", client_id, "aud",
                           audience, "jti", jti, "iat", (json_int_t)now_s, "exp",
                           (json_int_t)(now_s + AUTH_CLIENT_ASSERTION_TTL_S));
    gw_err rc = cl ? auth_jwt_sign(key_pem, alg, kid, cl, out, msg, msgcap) : GW_EINVAL;
    if (!cl)
        snprintf(msg, msgcap, "client assertion claims are not valid UTF-8");
    json_decref(cl);
    return rc;
}
