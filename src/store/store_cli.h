/* SPDX-License-Identifier: MIT
 * store_cli.h — the CLI sign-in (`openclaw auth login`): one-time authorization codes and the
 * rotation of CLI sessions' refresh tokens. CLI sessions themselves are rows of the sessions
 * table (store_sso.h, kind "cli"). Part of the store interface (store.h).
 */
#ifndef GW_STORE_CLI_H
#define GW_STORE_CLI_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store_sso.h"

struct store;

/* A one-time authorization code of `openclaw auth login`; only its SHA-256 is stored. */
struct store_cli_code {
    char *code_hash;
    char *tenant;
    char *user_id;
    char *identity;        /* identity JSON of the browser session that confirmed */
    char *browser_session; /* public id of that session */
    char *challenge;       /* PKCE S256 code_challenge */
    char *redirect_uri;
    int64_t created_ms, expires_ms;
    int64_t consumed_ms; /* from consume: when it had been consumed already (0: first use) */
    char *cli_session;   /* from consume: the CLI session issued for it, or NULL */
};

void store_cli_code_release(struct store_cli_code *c);
gw_err store_cli_code_insert(struct store *st, const struct store_cli_code *c);
/* Marks the code consumed (the first caller wins) and returns it as it was before, so
 * consumed_ms and cli_session reveal a replay. GW_ENOTFOUND when unknown. */
gw_err store_cli_code_consume(struct store *st, const char *code_hash, int64_t now_ms,
                              struct store_cli_code *out);
/* Records the CLI session issued for a code (a replay of the code revokes it). */
gw_err store_cli_code_link(struct store *st, const char *code_hash, const char *session_id);

/* The CLI session whose current refresh token has this hash. GW_ENOTFOUND when unknown;
 * GW_ECONFLICT when it is a refresh token that was already used: out->id and out->tenant
 * then name the session it belonged to (user_id too while that session exists). */
gw_err store_cli_refresh_find(struct store *st, const char *refresh_hash,
                              struct store_session *out);

struct store_cli_rotation {
    const char *id;               /* the CLI session */
    const char *old_refresh_hash; /* must still be current (compare-and-set) */
    const char *access_hash, *refresh_hash;
    int64_t access_expires_ms, expires_ms, now_ms;
};

/* Replaces both tokens of a CLI session in one transaction and remembers the old refresh
 * token as used. GW_ECONFLICT when old_refresh_hash is no longer current. */
gw_err store_cli_rotate(struct store *st, const struct store_cli_rotation *r);
/* Drops codes expired for more than ten minutes and the used-refresh records of sessions
 * that no longer exist. */
gw_err store_cli_purge(struct store *st, int64_t now_ms);

#endif
