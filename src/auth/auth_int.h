/* SPDX-License-Identifier: MIT
 * auth_int.h — private to src/auth: what the single sign-on files share (the text rule for
 * IdP values, and the SAML checks that auth_saml.c runs around lasso).
 */
#ifndef GW_AUTH_INT_H
#define GW_AUTH_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "base/xml.h"

#include <jansson.h>

struct auth_saml_expect;
struct cfg_saml;
struct net_loop;
struct store;

/* The sign-in service (auth_sso.h): its parts live in auth_oidc.c and auth_saml.c. */
struct auth_sso {
    struct store *store;
    struct auth_oidc *oidc;
    struct auth_saml *saml;
    struct shared *shared; /* sessions revoked on other nodes (auth_sso_share); NULL: none */
};
struct auth_oidc *auth_oidc_new(struct net_loop *net);
void auth_oidc_free(struct auth_oidc *o);
struct auth_saml *auth_saml_new(void);
void auth_saml_free(struct auth_saml *s);

struct store_session;
/* The session row of a secret's hash: GW_EUNAUTH with msg = unknown when there is none,
 * GW_ESTORE (msg set) when the store fails. */
gw_err auth_session_load(struct store *st, const char *hash, struct store_session *s,
                         const char *unknown, char *msg, size_t msgcap);

/* A value from an IdP fit to show and store: 1..max bytes, no control characters (UTF-8 and
 * other bytes >= 0x80 allowed). */
bool auth_text_ok(const char *s, size_t max);

/* JWT claim rules that token introspection shares (auth_jwt.c): a NumericDate is an integer (or
 * a real) within a sane range; an audience ("aud": a string or an array of strings) contains
 * want (*count: how many audiences it names). */
bool auth_numeric_date(const json_t *v, int64_t *out);
bool auth_aud_contains(const json_t *aud, const char *want, size_t *count);

/* --- SAML: the checks lasso does not make (auth_saml_check.c) ---------------------------- */

#define AUTH_SAML_MAX_ID 256 /* request, assertion and session index ids */
#define AUTH_SAML_MAX_NAME_ID 256

/* The Response envelope, from our own parse (strings borrowed from that document). */
struct auth_saml_response {
    bool signed_;            /* a ds:Signature child of the Response */
    const char *destination; /* may be NULL */
    const char *in_response_to;
};

/* What a verified assertion yields. */
struct auth_saml_assertion {
    char *id, *in_response_to; /* malloc'd; in_response_to NULL when unsolicited */
    int64_t expires_ms;        /* until when a replay must be recognized */
    json_t *claims;            /* see AUTH_SAML_SESSION_CLAIM */
};

/* Status Success, and the structure rules (one assertion, a child of the Response, no
 * comments, PIs, entity references, encrypted assertions or duplicate IDs). */
bool auth_saml_response_ok(xmlDoc *doc, struct auth_saml_response *ri, char *msg, size_t msgcap);
/* Everything about an assertion but its signature; a is the node whose signature was
 * verified. GW_EUNAUTH with the reason. */
gw_err auth_saml_assertion_ok(const xmlNode *a, const struct auth_saml_expect *e,
                              struct auth_saml_assertion *out, char *msg, size_t msgcap);
void auth_saml_assertion_release(struct auth_saml_assertion *a);
/* The Response's own (possibly unsigned) Destination and InResponseTo agree with the signed
 * assertion. */
bool auth_saml_envelope_agrees(const struct auth_saml_response *ri,
                               const struct auth_saml_assertion *ai,
                               const struct auth_saml_expect *e, char *msg, size_t msgcap);
/* The signature of an HTTP-Redirect message (saml-bindings 3.4.4.1): the exact query bytes
 * "<kind>=…[&RelayState=…]&SigAlg=…", RSA with SHA-256/384/512, by one of the IdP's metadata
 * certificates. On success *unsigned_query (malloc'd) is the message without SigAlg and
 * Signature, for lasso to parse. */
bool auth_saml_redirect_signature_ok(const struct cfg_saml *sc, const char *query, const char *kind,
                                     char **unsigned_query, char *msg, size_t msgcap);

#endif
