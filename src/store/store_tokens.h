/* SPDX-License-Identifier: MIT
 * store_tokens.h — gateway tokens created at run time (src/auth owns their meaning).
 *
 * Only the SHA-256 of a token's secret is stored. Part of the store interface (store.h).
 */
#ifndef GW_STORE_TOKENS_H
#define GW_STORE_TOKENS_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_token {
    char *id;
    char *tenant;
    char *owner;      /* user id or NULL */
    char *hash;       /* hex SHA-256 of the secret; the secret itself is never stored */
    char *scopes;     /* JSON array text, e.g. ["memory:read"] */
    char *created_by; /* principal that created it */
    int64_t created_ms;
    int64_t expires_ms;   /* 0 = never */
    int64_t revoked_ms;   /* 0 = active */
    int64_t last_used_ms; /* 0 = never */
};

void store_token_release(struct store_token *t);
/* GW_ECONFLICT when the id exists (in the tenant). */
gw_err store_token_insert(struct store *st, const struct store_token *t);
/* Replaces the hash (rotation). GW_ENOTFOUND if absent or revoked. */
gw_err store_token_set_hash(struct store *st, const char *tenant, const char *id, const char *hash);
/* Marks revoked at ms. GW_ENOTFOUND if absent; revoking twice is GW_OK. */
gw_err store_token_revoke(struct store *st, const char *tenant, const char *id, int64_t ms);
/* Records last use (best effort, batched by the caller). */
gw_err store_token_touch(struct store *st, const char *tenant, const char *id, int64_t ms);
/* All tokens of all tenants (including revoked); *out is a malloc'd array. */
gw_err store_token_list(struct store *st, struct store_token **out, size_t *n);
void store_token_list_free(struct store_token *list, size_t n);

#endif
