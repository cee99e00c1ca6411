/* SPDX-License-Identifier: MIT
 * store_cli.c — the public store API of the CLI sign-in (`openclaw auth login`, store_cli.h):
 * argument checks and dispatch through struct store_cli_ops (one-time authorization codes, CLI
 * sessions and the rotation of their refresh tokens).
 *
 * CLI sessions are rows of the sessions table (kind "cli"), so listing and revocation of
 * sessions cover them; what only they need lives here. Only SHA-256 hashes of codes and
 * tokens ever reach the store.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_cli_code_cols = STORE_COLS_INIT(store_cli_code,
                                                              STORE_CLI_CODE_COLUMNS);

void store_cli_code_release(struct store_cli_code *c)
{
    store_row_release(&store_cli_code_cols, c);
}

gw_err store_cli_code_insert(struct store *st, const struct store_cli_code *c)
{
    if (!c || !c->code_hash || !c->tenant || !c->user_id || !c->challenge || !c->redirect_uri)
        return GW_EINVAL;
    return st->ops->cli->code_insert(st, c);
}

gw_err store_cli_code_consume(struct store *st, const char *code_hash, int64_t now_ms,
                              struct store_cli_code *out)
{
    if (!code_hash || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->cli->code_consume(st, code_hash, now_ms, out);
}

gw_err store_cli_code_link(struct store *st, const char *code_hash, const char *session_id)
{
    if (!code_hash || !session_id)
        return GW_EINVAL;
    return st->ops->cli->code_link(st, code_hash, session_id);
}

gw_err store_cli_refresh_find(struct store *st, const char *refresh_hash, struct store_session *out)
{
    if (!refresh_hash || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->cli->refresh_find(st, refresh_hash, out);
}

gw_err store_cli_rotate(struct store *st, const struct store_cli_rotation *r)
{
    if (!r || !r->id || !r->old_refresh_hash || !r->access_hash || !r->refresh_hash)
        return GW_EINVAL;
    return st->ops->cli->rotate(st, r);
}

gw_err store_cli_purge(struct store *st, int64_t now_ms)
{
    return st->ops->cli->purge(st, now_ms);
}
