/* SPDX-License-Identifier: MIT
 * auth_sso.h — single sign-on, part of the auth interface (auth.h includes it): JWT
 * validation against a JWKS, the OpenID Connect relying party, the SAML 2.0 service provider,
 * the mapping of IdP claims or attributes to a gateway identity and role, and server-side
 * browser sessions.
 *
 * Trust rules, in one place:
 *   - signature algorithms come from sso.oidc.allowed_algs (asymmetric only), never from the
 *     token or the discovery document; the key is chosen by kid from the IdP's JWKS only
 *     (jku, x5u and embedded jwk headers are refused) and must fit the algorithm;
 *   - iss must equal the configured issuer, aud must contain the expected audience, azp must be
 *     the client when there are several audiences, exp/nbf/iat are checked with a bounded skew;
 *   - state, nonce and the PKCE verifier are server-side, single use and bound to the browser;
 *   - a session cookie is an opaque random secret; the store keeps only its SHA-256;
 *   - SAML: see auth_saml.c (signed assertions, audience, recipient, times, InResponseTo,
 *     replay, signature wrapping).
 * Nothing secret (client secret, code, tokens, session secrets, the SP key, assertions) is ever
 * logged or audited.
 */
#ifndef GW_AUTH_SSO_H
#define GW_AUTH_SSO_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

struct cfg;
struct cfg_tenant;
struct gw_pool;
struct store;
struct store_session;
struct auth_principal;

/* --- the sign-in service (auth_sso.c) ------------------------------------------------------ */

/* Everything a sign-in needs beyond the configuration: the store its login states, sessions
 * and CLI grants live in, the OIDC caches and the SAML servers. One per daemon; the HTTP
 * adapters hold it, never the store. */
struct auth_sso;
struct net_loop;
/* Back-channel calls go through net (net/net.h), which must outlive the service. */
struct auth_sso *auth_sso_new(struct store *st, struct net_loop *net);
void auth_sso_free(struct auth_sso *sso);
struct shared;
/* Ended sessions go to the other nodes through s, and theirs are checked (shared/shared.h). */
void auth_sso_share(struct auth_sso *sso, struct shared *s);
/* Records a session ended here for the other nodes (logged when they cannot be told). */
void auth_session_shared_end(struct auth_sso *sso, const char *id);

/* A session as the session list shows it (pool strings). */
struct auth_session_info {
    const char *id, *user, *kind, *role, *client_ip;
    int64_t created_ms, last_seen_ms, expires_ms;
};
/* The live sessions of a tenant (of user only when set), newest first, at most max: unexpired,
 * and browser sessions seen within idle_ms. */
gw_err auth_session_list(struct auth_sso *sso, const char *tenant, const char *user, size_t max,
                         int64_t idle_ms, struct gw_pool *pool, struct auth_session_info **out,
                         size_t *n);
/* Ends one session by public id (*owner: its user, pool, may be NULL); GW_ENOTFOUND. */
gw_err auth_session_revoke(struct auth_sso *sso, const char *tenant, const char *id,
                           struct gw_pool *pool, const char **owner);
/* Ends every session of a user; *n how many. */
gw_err auth_session_revoke_user(struct auth_sso *sso, const char *tenant, const char *user,
                                size_t *n);
/* Logins a browser (the SHA-256 hex of its pre-login cookie) started since since_ms: a
 * redirect loop shows as many. */
gw_err auth_login_count(struct auth_sso *sso, const char *binding_hash, int64_t since_ms,
                        size_t *n);

/* --- JWT / JWKS (auth_jwt.c) ------------------------------------------------------------ */

#define AUTH_JWT_MAX_LEN 16384
#define AUTH_JWKS_MAX_KEYS 32

struct auth_jwks;

/* Parses a JWKS document ({"keys": [...]}); keys that cannot verify signatures (symmetric
 * "oct" keys, "use" other than "sig", unknown types, RSA under 2048 bits) are skipped.
 * GW_EINVAL with a message when nothing usable remains or the document is malformed. */
gw_err auth_jwks_parse(const char *json, size_t len, struct auth_jwks **out, char *msg,
                       size_t msgcap);
struct auth_jwks *auth_jwks_ref(struct auth_jwks *ks);
void auth_jwks_unref(struct auth_jwks *ks);
size_t auth_jwks_count(const struct auth_jwks *ks);

struct auth_jwt_check {
    const char *issuer;      /* required: exact match of "iss" */
    const char *audience;    /* required: must be (one of) "aud" */
    const char *azp;         /* when set: "azp" must equal it if present, and must be
                                present when "aud" has several values */
    const char *const *algs; /* allow-list, e.g. {"RS256"} */
    size_t n_algs;
    int64_t now_s; /* 0 = the current time */
    unsigned skew_s;
    const char *nonce; /* when set: "nonce" must equal it */
    bool require_iat;  /* ID tokens: "iat" required */
};

/* Verifies signature and claims. GW_EUNAUTH with the reason in msg; *unknown_kid (optional)
 * is set when the only problem found so far is a kid absent from the JWKS (the caller may
 * refetch the JWKS once). *claims (owned by the caller) on success. */
gw_err auth_jwt_verify(const struct auth_jwks *ks, const char *jwt,
                       const struct auth_jwt_check *chk, json_t **claims, bool *unknown_kid,
                       char *msg, size_t msgcap);

/* A JWS compact token of claims signed with a PEM private key: alg "RS256" (an RSA key of
 * 2048 bits or more, PKCS#1 v1.5) or "ES256" (an EC P-256 key; the signature in JOSE form, r||s,
 * not DER); header {"alg", "typ": "JWT", "kid" when given}. *out malloc'd. GW_EINVAL with msg
 * when the key does not parse or does not fit alg (the key never appears in msg). */
gw_err auth_jwt_sign(const char *key_pem, const char *alg, const char *kid, const json_t *claims,
                     char **out, char *msg, size_t msgcap);

#define AUTH_CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define AUTH_CLIENT_ASSERTION_TTL_S 60
/* A private_key_jwt client assertion (RFC 7523 section 3, OIDC Core section 9), signed as
 * auth_jwt_sign does: iss = sub = client_id, aud = audience (the IdP's token endpoint), a fresh
 * random jti, iat = now_s, exp = now_s + AUTH_CLIENT_ASSERTION_TTL_S. *out malloc'd. */
gw_err auth_jwt_client_assertion(const char *key_pem, const char *alg, const char *kid,
                                 const char *client_id, const char *audience, int64_t now_s,
                                 char **out, char *msg, size_t msgcap);

/* --- OpenID Connect relying party (auth_oidc.c) ----------------------------------------- */

/* Starts a login: creates state, nonce and PKCE verifier, stores them bound to the browser
 * (binding = the pre-login cookie value) and returns the IdP authorization URL (pool). */
gw_err auth_oidc_begin(struct auth_sso *sso, const struct cfg_tenant *t, const char *binding,
                       const char *return_to, struct gw_pool *pool, const char **url, char *msg,
                       size_t msgcap);

/* Completes a login from the callback: consumes the state (single use, same browser),
 * redeems the code at the token endpoint with the PKCE verifier, validates the ID token
 * (nonce included) and, when configured, merges the userinfo claims. *claims owned by the
 * caller; *return_to (pool) is the local path the login started from. On failure msg holds a
 * reason fit for the user and the audit; GW_EUNAUTH, GW_EUPSTREAM or GW_ESTORE. */
gw_err auth_oidc_finish(struct auth_sso *sso, const struct cfg_tenant *t, const char *code,
                        const char *state, const char *binding, struct gw_pool *pool,
                        json_t **claims, const char **return_to, char *msg, size_t msgcap);

/* Validates an IdP access token presented as a Bearer token, as sso.oidc.bearer_validation
 * says: jwt (an IdP-signed JWT: issuer, audience sso.oidc.bearer_audience, algorithms, times)
 * or introspection (the IdP's introspection endpoint, RFC 7662, with the RP's client
 * authentication; accepted when active, iss and times fit and the audience is ours, see
 * auth_oidc.c; results cached briefly by a hash of the token). *claims owned by the caller.
 * GW_EUNAUTH with the reason, or GW_EUPSTREAM when the IdP could not answer an introspection
 * (msg never contains the token). */
gw_err auth_oidc_bearer(struct auth_sso *sso, const struct cfg_tenant *t, const char *token,
                        json_t **claims, char *msg, size_t msgcap);

/* The IdP's end_session_endpoint URL for an RP-initiated logout (pool), or NULL. */
const char *auth_oidc_logout_url(struct auth_sso *sso, const struct cfg_tenant *t,
                                 struct gw_pool *pool);

/* Does the Authorization value look like a JWT ("Bearer xxx.yyy.zzz")? */
bool auth_looks_like_jwt(const char *token);

/* --- SAML 2.0 service provider (auth_saml.c) ------------------------------------------- */

/* The claims of a SAML login: "NameID" (the subject), each attribute by its Name (a string, or
 * an array when it has several values) and this member: the NameID with its Format and
 * qualifiers and the SessionIndex, kept in the session for single logout. */
#define AUTH_SAML_SESSION_CLAIM "_saml"
/* Largest base64 SAMLResponse / logout message accepted (the decoded XML is smaller). */
#define AUTH_SAML_MAX_MESSAGE ((size_t)256 * 1024)

/* Initializes lasso once, when a configuration first uses SAML (its set-up costs ≈ 60 ms and
 * several MB, which a gateway without SAML does not pay). lasso_init is not thread-safe: call it
 * at start before other threads run, and on reload before the new configuration is in force
 * (no SAML request can be using lasso before SAML was configured). */
void auth_saml_prepare(const struct cfg *c);

/* The SP metadata of the configuration (malloc'd XML): entity id, signing certificate, ACS
 * (HTTP-POST), SLO (HTTP-Redirect and HTTP-POST) when slo_url is set, WantAssertionsSigned. */
char *auth_saml_sp_metadata(const struct cfg_tenant *t);

/* Starts a login: an AuthnRequest (HTTP-Redirect, signed when sso.saml.sign_authn_requests)
 * whose ID is stored as a single-use login state bound to the browser (binding = the pre-login
 * cookie) with return_to and a random RelayState; *url (pool) is the IdP's SSO URL. */
gw_err auth_saml_begin(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                       const char *binding, const char *return_to, struct gw_pool *pool,
                       const char **url, char *msg, size_t msgcap);

/* Completes a login from the ACS (the base64 SAMLResponse of the HTTP-POST binding): checks
 * everything listed at the top of auth_saml.c, records the assertion id (replay) and consumes
 * the login state its InResponseTo names (same browser: binding, may be NULL; same RelayState).
 * *claims (owned by the caller) come from the verified assertion only; *return_to (pool) is the
 * local path the login started from, or NULL. GW_EUNAUTH with a reason fit for the user and the
 * audit (never the assertion itself), or GW_ESTORE / GW_EINTERNAL. */
gw_err auth_saml_finish(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                        const char *saml_response, const char *relay_state, const char *binding,
                        struct gw_pool *pool, json_t **claims, const char **return_to, char *msg,
                        size_t msgcap);

/* What auth_saml_finish expects of the assertion (unit tests drive the checks through
 * auth_saml_check_response). */
struct auth_saml_expect {
    const char *idp;       /* Issuer */
    const char *audience;  /* our entity id */
    const char *recipient; /* our ACS URL */
    int64_t now_ms;
    unsigned skew_s;
};
/* Every check of auth_saml_finish on a Response document except the signatures, the login
 * state and the replay cache. *claims owned by the caller. */
gw_err auth_saml_check_response(const char *xml, size_t len, const struct auth_saml_expect *e,
                                json_t **claims, char *msg, size_t msgcap);

/* SP-initiated single logout: a signed LogoutRequest (HTTP-Redirect) for the subject a session
 * keeps (its AUTH_SAML_SESSION_CLAIM object); *url (pool). GW_ENOTFOUND when the IdP has no
 * single logout endpoint. */
gw_err auth_saml_logout_request(struct auth_sso *sso, const struct cfg *c,
                                const struct cfg_tenant *t, const json_t *subject,
                                struct gw_pool *pool, const char **url, char *msg, size_t msgcap);

struct auth_saml_slo {
    bool is_request;       /* an IdP-initiated LogoutRequest (else a LogoutResponse) */
    const char *name_id;   /* request: its subject (pool) */
    const char *user;      /* request: the user of an ended session, or NULL (pool) */
    size_t sessions_ended; /* request */
    const char *redirect;  /* request: where the browser takes our LogoutResponse (pool) */
    bool success;          /* response: the IdP reports a complete logout */
};
/* A message on the SLO endpoint: the raw query string (redirect: the HTTP-Redirect binding,
 * whose signature covers the exact bytes) or the base64 form field (HTTP-POST). It must be
 * signed by the IdP. A LogoutRequest ends the local sessions of its NameID (only those of its
 * SessionIndexes when it names some) and yields a signed LogoutResponse to redirect to. */
gw_err auth_saml_slo(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                     bool request, bool redirect, const char *message, struct gw_pool *pool,
                     struct auth_saml_slo *out, char *msg, size_t msgcap);

/* --- identity mapping and sessions (auth_session.c) ------------------------------------- */

struct auth_sso_identity {
    const char *tenant; /* the tenant the user belongs to (sso.tenant_claim may route) */
    const char *user, *email, *name, *org_unit, *team, *role;
    const char **groups;
    size_t n_groups;
    const char *mapped_by; /* the group mapping that decided the role, or "default_role",
                              or "identity.users" */
    const char *protocol;  /* "oidc" or "saml" */
    const json_t *saml;    /* SAML: the claims' AUTH_SAML_SESSION_CLAIM (borrowed) */
};

/* Claims of a login at tenant t's IdP → identity: user id, email, name, groups, org unit, team
 * from t's configured claims (protocol "oidc": sso.oidc.claims; "saml":
 * sso.saml.attributeMapping); the tenant: t, or the one sso.tenant_claim names (primary IdP
 * only); role from that tenant's group mappings (exact names and globs, first match in declared
 * order), else its sso.default_role; a user declared in identity.users (primary tenant) keeps
 * its declared role, org unit and team. GW_EFORBIDDEN (msg: "no role mapping for your groups:
 * ...", "user ... is disabled", or a tenant this gateway does not serve) when refused,
 * GW_EUNAUTH when the user claim is missing or invalid. */
gw_err auth_sso_map(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                    const char *protocol, const json_t *claims, struct gw_pool *pool,
                    struct auth_sso_identity *out, char *msg, size_t msgcap);
/* Just-in-time provisioning: records (or refreshes) a user not in identity.users. */
gw_err auth_sso_provision(struct auth_sso *sso, const struct cfg *c,
                          const struct auth_sso_identity *id);
/* Principal of an SSO identity (scopes "*", bounded by the role's permissions). */
struct auth_principal *auth_sso_principal(const struct cfg *c, const struct auth_sso_identity *id,
                                          const char *method, struct gw_pool *pool);

#define AUTH_SESSION_SECRET_MAX 128

/* Creates a session; *secret is the cookie value (pool), *id the public session id. */
gw_err auth_session_create(struct auth_sso *sso, const struct cfg *c,
                           const struct auth_sso_identity *id, const char *client_ip,
                           struct gw_pool *pool, const char **secret, const char **session_id);
/* Authenticates a session cookie value (idle and absolute timeouts; the user is checked
 * against identity.users for being disabled). GW_EUNAUTH with a reason. */
gw_err auth_session_authenticate(struct auth_sso *sso, const struct cfg *c, const char *secret,
                                 struct gw_pool *pool, struct auth_principal **out, char *msg,
                                 size_t msgcap);
/* The identity object a session keeps (role, groups, "idp", SAML subject), owned by the
 * caller, or NULL when the cookie value names no session. */
json_t *auth_session_identity(struct auth_sso *sso, const char *secret);
/* The principal of a stored identity (a session's identity JSON: role, org unit, team,
 * groups ...) with the given method. GW_EUNAUTH with msg when the user is disabled in
 * identity.users or the role no longer exists. */
gw_err auth_session_principal(const struct cfg *c, const char *tenant, const char *user,
                              const char *identity, const char *method, struct gw_pool *pool,
                              struct auth_principal **out, char *msg, size_t msgcap);
/* Deletes the session of a cookie value (logout, rotation); GW_ENOTFOUND when none. */
gw_err auth_session_end(struct auth_sso *sso, const char *secret, const char **session_id,
                        struct gw_pool *pool);
/* CSRF token of a session (derived from the secret, pool): X-CSRF-Token must carry it on
 * cookie-authenticated requests other than GET/HEAD. */
const char *auth_session_csrf(const char *secret, struct gw_pool *pool);
/* Constant-time check of a presented CSRF token. */
bool auth_session_csrf_ok(const char *secret, const char *presented);
/* The public id of a session secret (pool). */
const char *auth_session_id_of(const char *secret, struct gw_pool *pool);
/* Drops expired sessions and login states. */
void auth_session_purge(struct auth_sso *sso, const struct cfg *c);

#endif
