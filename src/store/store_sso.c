/* SPDX-License-Identifier: MIT
 * store_sso.c — the public single sign-on store API (store_sso.h): argument checks and dispatch
 * through struct store_sso_ops (sessions, pending login states, just-in-time provisioned users,
 * used SAML assertion ids).
 *
 * Like the rest of the store, the release functions only free malloc'd strings; secrets that
 * pass through here (nonce, PKCE verifier: SECRET columns) are wiped before they are freed.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_session_cols = STORE_COLS_INIT(store_session, STORE_SESSION_COLUMNS);
const struct store_cols store_login_state_cols = STORE_COLS_INIT(store_login_state,
                                                                 STORE_LOGIN_STATE_COLUMNS);
const struct store_cols store_sso_user_cols = STORE_COLS_INIT(store_sso_user,
                                                              STORE_SSO_USER_COLUMNS);

void store_session_release(struct store_session *s)
{
    store_row_release(&store_session_cols, s);
}

gw_err store_session_insert(struct store *st, const struct store_session *s)
{
    if (!s || !s->id || !s->hash || !s->tenant || !s->user_id)
        return GW_EINVAL;
    return st->ops->sso->session_insert(st, s);
}

gw_err store_session_get(struct store *st, const char *hash, struct store_session *out)
{
    if (!hash || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->sso->session_get(st, hash, out);
}

gw_err store_session_touch(struct store *st, const char *hash, int64_t ms)
{
    if (!hash)
        return GW_EINVAL;
    return st->ops->sso->session_touch(st, hash, ms);
}

gw_err store_session_delete(struct store *st, const char *tenant, const char *id, char **user_id)
{
    if (!tenant || !id)
        return GW_EINVAL;
    if (user_id)
        *user_id = NULL;
    return st->ops->sso->session_delete(st, tenant, id, user_id);
}

gw_err store_session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                 size_t *n)
{
    if (!tenant || !user_id || !n)
        return GW_EINVAL;
    *n = 0;
    return st->ops->sso->session_delete_user(st, tenant, user_id, n);
}

gw_err store_session_list(struct store *st, const char *tenant, const char *user_id, size_t limit,
                          struct store_session **out, size_t *n)
{
    if (!tenant || !STORE_OUT_LIST(out, n))
        return GW_EINVAL;
    return st->ops->sso->session_list(st, tenant, user_id, limit, out, n);
}

void store_session_list_free(struct store_session *list, size_t n)
{
    store_rows_free(&store_session_cols, list, n);
}

gw_err store_sso_purge(struct store *st, int64_t now_ms, int64_t idle_before_ms)
{
    return st->ops->sso->purge(st, now_ms, idle_before_ms);
}

void store_login_state_release(struct store_login_state *s)
{
    store_row_release(&store_login_state_cols, s);
}

gw_err store_login_state_insert(struct store *st, const struct store_login_state *s)
{
    if (!s || !s->state_hash || !s->tenant || !s->binding_hash || !s->nonce)
        return GW_EINVAL;
    return st->ops->sso->login_state_insert(st, s);
}

gw_err store_login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                 struct store_login_state *out)
{
    if (!state_hash || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->sso->login_state_consume(st, state_hash, now_ms, out);
}

gw_err store_login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                               size_t *n)
{
    if (!binding_hash || !n)
        return GW_EINVAL;
    *n = 0;
    return st->ops->sso->login_state_count(st, binding_hash, since_ms, n);
}

gw_err store_saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                int64_t expires_ms)
{
    if (!tenant || !id_hash)
        return GW_EINVAL;
    return st->ops->sso->saml_assertion_use(st, tenant, id_hash, expires_ms);
}

gw_err store_session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                 const char *session_index, size_t *n, char **user)
{
    if (!tenant || !name_id || !n)
        return GW_EINVAL;
    *n = 0;
    if (user)
        *user = NULL;
    return st->ops->sso->session_delete_saml(st, tenant, name_id, session_index, n, user);
}

void store_sso_user_release(struct store_sso_user *u)
{
    store_row_release(&store_sso_user_cols, u);
}

gw_err store_sso_user_upsert(struct store *st, const struct store_sso_user *u)
{
    if (!u || !u->tenant || !u->id)
        return GW_EINVAL;
    return st->ops->sso->sso_user_upsert(st, u);
}

gw_err store_sso_user_get(struct store *st, const char *tenant, const char *id,
                          struct store_sso_user *out)
{
    if (!tenant || !id || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->sso->sso_user_get(st, tenant, id, out);
}
