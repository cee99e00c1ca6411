/* SPDX-License-Identifier: MIT
 * auth_cli.h — signing in the `openclaw` CLI through the browser, part of the auth interface
 * (auth.h includes it). The gateway acts as a small authorization server for its own CLI, on
 * top of whatever protocol the browser login used (OIDC, SAML):
 *
 *   1. the CLI sends the browser to GET /api/v1/auth/cli/authorize with a loopback
 *      redirect_uri (RFC 8252 §7.3) or the copy-paste value, a PKCE S256 code_challenge
 *      (RFC 7636) and a state;
 *   2. a signed-in browser confirms with a POST that carries its session's CSRF token; only
 *      then is a one-time code issued (random, stored as SHA-256, single use, short-lived,
 *      bound to the challenge, the redirect_uri and the browser session's identity);
 *   3. the CLI redeems the code with its code_verifier for a CLI session: an access token
 *      (Bearer, prefix "oca_") and a refresh token (prefix "ocr_"); refreshing rotates both,
 *      and presenting a refresh token that was already used ends the whole CLI session
 *      (refresh-token reuse detection). A replayed code ends the session it produced.
 *
 * CLI sessions are rows of the sessions table (kind "cli"), so session listing and revocation
 * cover them. Codes, verifiers and tokens are never stored in clear, logged or audited.
 */
#ifndef GW_AUTH_CLI_H
#define GW_AUTH_CLI_H

#include "base/prelude.h"
#include "base/err.h"

struct cfg;
struct gw_pool;
struct auth_sso;
struct auth_principal;

/* The redirect_uri of the copy-paste mode: the code is shown on a page instead. */
#define AUTH_CLI_OOB "urn:ietf:wg:oauth:2.0:oob"
#define AUTH_CLI_ACCESS_PREFIX "oca_"
#define AUTH_CLI_REFRESH_PREFIX "ocr_"
#define AUTH_CLI_TOKEN_LEN 47       /* prefix + 43 base64url characters (32 random bytes) */
#define AUTH_CLI_CODE_LEN 43        /* 32 random bytes, base64url */
#define AUTH_CLI_CODE_TTL_S 60      /* loopback: the browser hands the code over at once */
#define AUTH_CLI_OOB_CODE_TTL_S 300 /* copy-paste: a person copies it to a terminal */
#define AUTH_CLI_STATE_MAX 128

/* --- pure checks ------------------------------------------------------------------------- */

enum auth_cli_redirect {
    AUTH_CLI_REDIRECT_INVALID,
    AUTH_CLI_REDIRECT_LOOPBACK, /* http://{127.0.0.1|[::1]|localhost}:<port>/callback */
    AUTH_CLI_REDIRECT_OOB,      /* AUTH_CLI_OOB */
};

/* Only http on a loopback host with an explicit port 1-65535 (no leading zero) and the path
 * "/callback", nothing else (no user info, query or fragment); or the copy-paste value. */
enum auth_cli_redirect auth_cli_redirect_kind(const char *uri);
/* code_challenge: 43 base64url characters (a SHA-256). */
bool auth_cli_challenge_ok(const char *challenge);
/* code_verifier: 43-128 characters of [A-Za-z0-9._~-] (RFC 7636 §4.1). */
bool auth_cli_verifier_ok(const char *verifier);
/* state: 1-128 characters of [A-Za-z0-9._~-]. */
bool auth_cli_state_ok(const char *state);
/* BASE64URL(SHA-256(verifier)) == challenge, in constant time. */
bool auth_cli_pkce_matches(const char *verifier, const char *challenge);
/* Has the value the shape of a CLI access token (what the bearer path hands here)? */
bool auth_cli_is_access_token(const char *token);

/* --- codes, sessions, refresh ------------------------------------------------------------- */

/* Issues a code for the browser session of browser_secret (authenticated by the caller):
 * the code row copies that session's user and identity. *code and *browser_session (the
 * session's public id) are pool strings. */
gw_err auth_cli_code_issue(struct auth_sso *sso, const struct cfg *c, const char *browser_secret,
                           const char *challenge, const char *redirect_uri, struct gw_pool *pool,
                           const char **code, const char **browser_session);

/* What a valid grant (a redeemed code or a refresh token) stands for; pool strings. */
struct auth_cli_grant {
    struct auth_principal *p; /* the identity, method "cli" */
    const char *tenant;       /* of the session or code (set whenever one was found) */
    const char *user;
    const char *identity;        /* identity JSON carried into the CLI session */
    const char *code_hash;       /* authorization_code: linked to the new session */
    const char *browser_session; /* authorization_code: the session that confirmed */
    const char *session_id;      /* the CLI session (authorization_code: the id the new session
                                    will have); on GW_ECONFLICT: the session to revoke (NULL
                                    when there is none any more) */
    const char *refresh_hash;    /* refresh: the presented refresh token's hash */
    int64_t created_ms;          /* refresh: when the CLI login happened */
};

struct auth_cli_tokens {
    const char *access_token, *refresh_token, *session_id; /* pool */
    int64_t access_expires_ms, expires_ms; /* expires_ms: end of the refresh token */
};

/* grant_type=authorization_code, first half: consumes the code (single use) and checks it
 * (not expired, the verifier matches its challenge, the same redirect_uri, this tenant, the
 * user not disabled, the role still exists). GW_EINVAL (malformed), GW_EUNAUTH (refused) or
 * GW_ESTORE with msg; GW_ECONFLICT when the code had been redeemed already: g->session_id is
 * the session it produced, which the caller revokes. */
gw_err auth_cli_redeem_check(struct auth_sso *sso, const struct cfg *c, const char *code,
                             const char *verifier, const char *redirect_uri, struct gw_pool *pool,
                             struct auth_cli_grant *g, char *msg, size_t msgcap);
/* Second half, after the audit event is durable: creates the CLI session. */
gw_err auth_cli_session_create(struct auth_sso *sso, const struct cfg *c,
                               const struct auth_cli_grant *g, const char *client_ip,
                               struct gw_pool *pool, struct auth_cli_tokens *out);

/* grant_type=refresh_token, first half: finds the session of a refresh token and checks it
 * (not expired, user not disabled, role exists). GW_EINVAL, GW_EUNAUTH or GW_ESTORE with msg;
 * GW_ECONFLICT when the token was used already (reuse): g->session_id names the session to
 * revoke. */
gw_err auth_cli_refresh_check(struct auth_sso *sso, const struct cfg *c, const char *refresh_token,
                              struct gw_pool *pool, struct auth_cli_grant *g, char *msg,
                              size_t msgcap);
/* Second half: rotates both tokens. GW_ECONFLICT when another refresh with the same token
 * won the race (the caller treats it as reuse). */
gw_err auth_cli_rotate(struct auth_sso *sso, const struct cfg *c, const struct auth_cli_grant *g,
                       struct gw_pool *pool, struct auth_cli_tokens *out);

/* Authenticates a CLI access token (Authorization: Bearer oca_...). GW_EUNAUTH with a reason
 * ("access token expired" tells the CLI to refresh). */
gw_err auth_cli_authenticate(struct auth_sso *sso, const struct cfg *c, const char *token,
                             struct gw_pool *pool, struct auth_principal **out, char *msg,
                             size_t msgcap);
/* The CLI session of an access or refresh token (current ones only): *session_id, *user and
 * *tenant (pool). GW_ENOTFOUND when the token matches none. */
gw_err auth_cli_find(struct auth_sso *sso, const struct cfg *c, const char *token,
                     struct gw_pool *pool, const char **session_id, const char **user,
                     const char **tenant);

#endif
