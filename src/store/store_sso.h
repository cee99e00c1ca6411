/* SPDX-License-Identifier: MIT
 * store_sso.h — single sign-on: browser sessions, pending login states, used SAML assertion
 * ids and users provisioned just in time. Part of the store interface (store.h).
 */
#ifndef GW_STORE_SSO_H
#define GW_STORE_SSO_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

/* A server-side session. Only the SHA-256 of the cookie secret is stored (hash); id is the
 * public handle (first 32 hex digits of the hash) used by listings and revocation.
 * A session of kind "cli" (`openclaw auth login`, store_cli_*) has a random id that stays
 * the same across refreshes; hash is then the SHA-256 of its current access token and
 * refresh_hash that of its current refresh token. */
struct store_session {
    char *id;
    char *hash;
    char *tenant;
    char *user_id;
    char *identity;  /* JSON object: email, name, role, org_unit, team, groups, idp */
    char *client_ip; /* at login, may be NULL */
    int64_t created_ms, last_seen_ms, expires_ms; /* expires_ms: absolute end (cli: the end
                                                     of the current refresh token) */
    char *kind;                /* "browser" (NULL on insert means browser) or "cli" */
    char *refresh_hash;        /* cli only */
    int64_t access_expires_ms; /* cli only: end of the current access token */
};

void store_session_release(struct store_session *s);
gw_err store_session_insert(struct store *st, const struct store_session *s);
/* GW_ENOTFOUND when absent. */
gw_err store_session_get(struct store *st, const char *hash, struct store_session *out);
gw_err store_session_touch(struct store *st, const char *hash, int64_t ms);
/* By public id in a tenant; GW_ENOTFOUND when absent. *user_id (malloc'd, may be NULL arg)
 * receives the owner. */
gw_err store_session_delete(struct store *st, const char *tenant, const char *id, char **user_id);
/* Every session of a user; *n receives the count removed. */
gw_err store_session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                 size_t *n);
/* Sessions of a tenant (user_id NULL: all), newest first, at most limit (malloc'd array). */
gw_err store_session_list(struct store *st, const char *tenant, const char *user_id, size_t limit,
                          struct store_session **out, size_t *n);
void store_session_list_free(struct store_session *list, size_t n);
/* Removes sessions whose absolute end or (browser sessions) idle limit (last_seen_ms <
 * idle_before_ms) passed, login states that expired and SAML assertion ids past their expiry. */
gw_err store_sso_purge(struct store *st, int64_t now_ms, int64_t idle_before_ms);

/* A pending authorization request (OIDC: state, nonce, PKCE verifier; SAML: the AuthnRequest
 * ID and the RelayState), single use. */
struct store_login_state {
    char *state_hash; /* SHA-256 hex of the state sent to the IdP */
    char *tenant;
    char *binding_hash; /* SHA-256 hex of the pre-login cookie that binds it to the browser */
    char *nonce;        /* OIDC nonce; SAML: the RelayState */
    char *verifier;     /* PKCE code_verifier; NULL for SAML */
    char *return_to;    /* local path to land on after login, may be NULL */
    int64_t created_ms, expires_ms;
};

void store_login_state_release(struct store_login_state *s);
gw_err store_login_state_insert(struct store *st, const struct store_login_state *s);
/* Consumes the state atomically (first caller wins; secrets erased): GW_ENOTFOUND when it is
 * unknown, already used or expired. */
gw_err store_login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                 struct store_login_state *out);
/* Number of login states (used or not) of a browser binding created at or after since_ms. */
gw_err store_login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                               size_t *n);

/* SAML: records the hash of an assertion's issuer and ID as used until expires_ms (when the
 * assertion could no longer be accepted anyway). GW_ECONFLICT when it was recorded before: a
 * replay. Works across restarts and, with a shared store, across nodes. */
gw_err store_saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                int64_t expires_ms);
/* SAML single logout: deletes the sessions whose identity holds this NameID value (and this
 * SessionIndex when session_index is not NULL). *n receives the count, *user (malloc'd, may be
 * a NULL argument) the user of one of them. */
gw_err store_session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                 const char *session_index, size_t *n, char **user);

/* A user provisioned just in time from the IdP (not declared in identity.users). */
struct store_sso_user {
    char *tenant, *id, *email, *name, *role, *org_unit, *team;
    char *groups; /* JSON array text */
    bool disabled;
    int64_t created_ms, last_login_ms;
};

void store_sso_user_release(struct store_sso_user *u);
/* Insert or update (keeps created_ms and disabled of an existing row). */
gw_err store_sso_user_upsert(struct store *st, const struct store_sso_user *u);
/* GW_ENOTFOUND when absent. */
gw_err store_sso_user_get(struct store *st, const char *tenant, const char *id,
                          struct store_sso_user *out);

#endif
