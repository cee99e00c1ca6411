/* SPDX-License-Identifier: MIT
 * auth_sso.c — the sign-in service: one object that owns what browser and CLI sign-ins need
 * beyond the configuration (the store of login states and sessions, the OIDC caches, the SAML
 * servers), and the session list and revocation the API offers over it.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "shared/shared.h"
#include "store/store.h"

struct auth_sso *auth_sso_new(struct store *st, struct net_loop *net)
{
    struct auth_sso *sso = gw_xcalloc(1, sizeof(*sso));
    sso->store = st;
    sso->oidc = auth_oidc_new(net);
    sso->saml = auth_saml_new();
    return sso;
}

void auth_sso_free(struct auth_sso *sso)
{
    if (!sso)
        return;
    auth_oidc_free(sso->oidc);
    auth_saml_free(sso->saml);
    free(sso);
}

void auth_sso_share(struct auth_sso *sso, struct shared *s)
{
    sso->shared = s;
}

/* Long enough for any session's lifetime (browser and CLI sessions alike). */
#define SESSION_REVOKE_TTL_MS (400LL * 24 * 3600 * 1000)

void auth_session_shared_end(struct auth_sso *sso, const char *id)
{
    char key[128];
    snprintf(key, sizeof(key), "session:%.100s", id);
    if (sso->shared && shared_revoke(sso->shared, key, SESSION_REVOKE_TTL_MS) != GW_OK)
        gw_warn("session ended here; the other nodes could not be told (Redis unreachable): "
                "they refuse sessions until it is back");
}

static const char *pool_dup(struct gw_pool *pool, const char *s)
{
    return s ? gw_pool_strdup(pool, s) : NULL;
}

gw_err auth_session_list(struct auth_sso *sso, const char *tenant, const char *user, size_t max,
                         int64_t idle_ms, struct gw_pool *pool, struct auth_session_info **out,
                         size_t *n)
{
    struct store_session *list = NULL;
    size_t total = 0;
    *out = NULL;
    *n = 0;
    gw_err rc = store_session_list(sso->store, tenant, user, max, &list, &total);
    if (rc != GW_OK)
        return rc;
    struct auth_session_info *v = gw_pool_calloc(pool, (total + 1) * sizeof(*v));
    int64_t now = gw_now_ms();
    for (size_t i = 0; i < total; i++) {
        const struct store_session *s = &list[i];
        bool cli = s->kind && !strcmp(s->kind, "cli");
        if (s->expires_ms <= now || (!cli && now - s->last_seen_ms >= idle_ms))
            continue;
        char jmsg[100];
        const char *ident = s->identity ? s->identity : "{}";
        json_t *j = gw_json_parse(ident, strlen(ident), 4, jmsg, sizeof(jmsg));
        v[*n] = (struct auth_session_info){
            .id = pool_dup(pool, s->id),
            .user = pool_dup(pool, s->user_id),
            .kind = cli ? "cli" : "browser",
            .role = pool_dup(pool, gw_json_str(j, "role")),
            .client_ip = pool_dup(pool, s->client_ip),
            .created_ms = s->created_ms,
            .last_seen_ms = s->last_seen_ms,
            .expires_ms = s->expires_ms,
        };
        json_decref(j);
        (*n)++;
    }
    store_session_list_free(list, total);
    *out = v;
    return GW_OK;
}

gw_err auth_session_revoke(struct auth_sso *sso, const char *tenant, const char *id,
                           struct gw_pool *pool, const char **owner)
{
    char *user = NULL;
    gw_err rc = store_session_delete(sso->store, tenant, id, owner ? &user : NULL);
    if (rc == GW_OK)
        auth_session_shared_end(sso, id);
    if (owner)
        *owner = pool_dup(pool, user);
    free(user);
    return rc;
}

/* Sessions of one user a cluster's other nodes are told of at most (more are ended here). */
#define SHARED_USER_SESSIONS 1000

gw_err auth_session_revoke_user(struct auth_sso *sso, const char *tenant, const char *user,
                                size_t *n)
{
    struct store_session *list = NULL;
    size_t total = 0;
    gw_err rc = sso->shared ? store_session_list(sso->store, tenant, user, SHARED_USER_SESSIONS,
                                                 &list, &total)
                            : GW_OK;
    if (rc == GW_OK)
        rc = store_session_delete_user(sso->store, tenant, user, n);
    for (size_t i = 0; rc == GW_OK && i < total; i++)
        auth_session_shared_end(sso, list[i].id);
    store_session_list_free(list, total);
    return rc;
}

gw_err auth_login_count(struct auth_sso *sso, const char *binding_hash, int64_t since_ms, size_t *n)
{
    return store_login_state_count(sso->store, binding_hash, since_ms, n);
}
