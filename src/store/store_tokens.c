/* SPDX-License-Identifier: MIT
 * store_tokens.c — the public token API (store_tokens.h): argument checks and dispatch through
 * struct store_token_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_token_cols = STORE_COLS_INIT(store_token, STORE_TOKEN_COLUMNS);

void store_token_release(struct store_token *t)
{
    store_row_release(&store_token_cols, t);
}

gw_err store_token_insert(struct store *st, const struct store_token *t)
{
    if (!t || !t->tenant || !t->id || !t->hash)
        return GW_EINVAL;
    return st->ops->tokens->insert(st, t);
}

gw_err store_token_set_hash(struct store *st, const char *tenant, const char *id, const char *hash)
{
    if (!tenant || !id || !hash)
        return GW_EINVAL;
    return st->ops->tokens->set_hash(st, tenant, id, hash);
}

gw_err store_token_revoke(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    if (!tenant || !id || ms <= 0) /* revoked_ms 0 means active */
        return GW_EINVAL;
    return st->ops->tokens->revoke(st, tenant, id, ms);
}

gw_err store_token_touch(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    if (!tenant || !id)
        return GW_EINVAL;
    return st->ops->tokens->touch(st, tenant, id, ms);
}

gw_err store_token_list(struct store *st, struct store_token **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->tokens->list(st, out, n) : GW_EINVAL;
}

void store_token_list_free(struct store_token *list, size_t n)
{
    store_rows_free(&store_token_cols, list, n);
}
