/* SPDX-License-Identifier: MIT
 * auth_tokens.c — the token registry: config tokens + run-time tokens, looked up by hash.
 *
 * All tokens live in memory (they are few; authentication must not touch the disk): an array
 * of entries plus an open-addressing index keyed by the SHA-256 of the secret. Mutations
 * (create, rotate, revoke, reload) are rare and rebuild the index under the write lock;
 * authentication takes the read lock. Run-time tokens are persisted through the store before
 * they become visible. Last-use times are kept in memory and flushed periodically.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "shared/shared.h"
#include "store/store.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>

#define MAX_TOKEN_LEN 512
#define MAX_SCOPES 32
#define MAX_EXPIRES_S (5LL * 365 * 24 * 3600)

struct token_entry {
    unsigned char hash[GW_SHA256_LEN];
    char *id, *tenant, *owner, *created_by;
    bool from_config;
    char **scopes;
    size_t n_scopes;
    int64_t created_ms, expires_ms, revoked_ms;
    _Atomic int64_t last_used_ms;
    atomic_bool last_used_dirty;
};

struct auth_registry {
    pthread_rwlock_t lock;
    struct store *st;
    struct cfg *cfg; /* identity (users, roles); ref held */
    struct token_entry **entries;
    size_t n, cap;
    int32_t *index; /* entry index or -1; size index_cap (power of two) */
    size_t index_cap;
    struct shared *shared; /* revocations shared with other nodes (shared/shared.h) */
    atomic_bool stale;     /* another node's change could not be read yet: read again */
    atomic_uint changes;   /* this node's own changes, counted under the write lock */
};

/* --- entries and index ------------------------------------------------------------------- */

static void entry_free(struct token_entry *e)
{
    if (!e)
        return;
    free(e->id);
    free(e->tenant);
    free(e->owner);
    free(e->created_by);
    for (size_t i = 0; i < e->n_scopes; i++)
        free(e->scopes[i]);
    free(e->scopes);
    free(e);
}

static uint64_t hash_key(const unsigned char *h)
{
    uint64_t k;
    memcpy(&k, h, sizeof(k));
    return k;
}

static void index_rebuild(struct auth_registry *reg)
{
    size_t cap = 64;
    while (cap < reg->n * 2 + 1)
        cap *= 2;
    free(reg->index);
    reg->index = gw_xmalloc(cap * sizeof(int32_t));
    reg->index_cap = cap;
    for (size_t i = 0; i < cap; i++)
        reg->index[i] = -1;
    for (size_t i = 0; i < reg->n; i++) {
        size_t slot = hash_key(reg->entries[i]->hash) & (cap - 1);
        while (reg->index[slot] >= 0)
            slot = (slot + 1) & (cap - 1);
        reg->index[slot] = (int32_t)i;
    }
}

static struct token_entry *index_find(struct auth_registry *reg, const unsigned char *h)
{
    size_t mask = reg->index_cap - 1;
    for (size_t slot = hash_key(h) & mask; reg->index[slot] >= 0; slot = (slot + 1) & mask) {
        struct token_entry *e = reg->entries[reg->index[slot]];
        if (gw_ct_equal(e->hash, h, GW_SHA256_LEN))
            return e;
    }
    return NULL;
}

static void entries_push(struct auth_registry *reg, struct token_entry *e)
{
    if (reg->n == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 32;
        reg->entries = gw_xrealloc(reg->entries, reg->cap * sizeof(*reg->entries));
    }
    reg->entries[reg->n++] = e;
}

static struct token_entry *find_by_id(struct auth_registry *reg, const char *tenant, const char *id)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->entries[i]->id, id) == 0 && strcmp(reg->entries[i]->tenant, tenant) == 0)
            return reg->entries[i];
    return NULL;
}

static void add_config_tokens(struct auth_registry *reg, const struct cfg *c)
{
    for (size_t i = 0; i < c->n_tokens; i++) {
        const struct cfg_token *t = &c->tokens[i];
        struct token_entry *e = gw_xcalloc(1, sizeof(*e));
        gw_sha256(t->token, strlen(t->token), e->hash);
        e->id = gw_xstrdup(t->id);
        e->tenant = gw_xstrdup(c->tenant_id);
        e->owner = t->owner ? gw_xstrdup(t->owner) : NULL;
        e->created_by = gw_xstrdup("config");
        e->from_config = true;
        e->n_scopes = t->n_scopes;
        e->scopes = gw_xcalloc(t->n_scopes + 1, sizeof(char *));
        for (size_t k = 0; k < t->n_scopes; k++)
            e->scopes[k] = gw_xstrdup(t->scopes[k]);
        e->expires_ms = t->expires_ms;
        entries_push(reg, e);
    }
}

static struct token_entry *entry_from_store(const struct store_token *t)
{
    struct token_entry *e = gw_xcalloc(1, sizeof(*e));
    if (!gw_unhex(t->hash, e->hash, GW_SHA256_LEN)) {
        free(e);
        return NULL;
    }
    e->id = gw_xstrdup(t->id);
    e->tenant = gw_xstrdup(t->tenant);
    e->owner = t->owner ? gw_xstrdup(t->owner) : NULL;
    e->created_by = gw_xstrdup(t->created_by ? t->created_by : "");
    e->created_ms = t->created_ms;
    e->expires_ms = t->expires_ms;
    e->revoked_ms = t->revoked_ms;
    atomic_store(&e->last_used_ms, t->last_used_ms);
    json_error_t jerr;
    json_t *arr = json_loads(t->scopes ? t->scopes : "[]", 0, &jerr);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    e->scopes = gw_xcalloc(n + 1, sizeof(char *));
    for (size_t k = 0; k < n; k++) {
        const char *s = json_string_value(json_array_get(arr, k));
        if (s)
            e->scopes[e->n_scopes++] = gw_xstrdup(s);
    }
    json_decref(arr);
    return e;
}

gw_err auth_registry_open(struct store *st, const struct cfg *c, struct auth_registry **out)
{
    struct auth_registry *reg = gw_xcalloc(1, sizeof(*reg));
    pthread_rwlock_init(&reg->lock, NULL);
    reg->st = st;
    reg->cfg = cfg_ref((struct cfg *)c);
    add_config_tokens(reg, c);
    struct store_token *list = NULL;
    size_t n = 0;
    gw_err rc = store_token_list(st, &list, &n);
    if (rc != GW_OK) {
        auth_registry_close(reg);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct token_entry *e = entry_from_store(&list[i]);
        if (e)
            entries_push(reg, e);
    }
    store_token_list_free(list, n);
    index_rebuild(reg);
    *out = reg;
    return GW_OK;
}

void auth_registry_close(struct auth_registry *reg)
{
    if (!reg)
        return;
    auth_registry_share(reg, NULL);
    auth_registry_flush_last_use(reg);
    for (size_t i = 0; i < reg->n; i++)
        entry_free(reg->entries[i]);
    free(reg->entries);
    free(reg->index);
    cfg_unref(reg->cfg);
    pthread_rwlock_destroy(&reg->lock);
    free(reg);
}

gw_err auth_registry_reload(struct auth_registry *reg, const struct cfg *c)
{
    pthread_rwlock_wrlock(&reg->lock);
    size_t kept = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->entries[i]->from_config)
            entry_free(reg->entries[i]);
        else
            reg->entries[kept++] = reg->entries[i];
    }
    reg->n = kept;
    add_config_tokens(reg, c);
    index_rebuild(reg);
    struct cfg *old = reg->cfg;
    reg->cfg = cfg_ref((struct cfg *)c);
    pthread_rwlock_unlock(&reg->lock);
    cfg_unref(old);
    return GW_OK;
}

gw_err auth_registry_conflicts(struct auth_registry *reg, const struct cfg *c, char *msg,
                               size_t msgcap)
{
    gw_err rc = GW_OK;
    pthread_rwlock_rdlock(&reg->lock);
    for (size_t i = 0; i < c->n_tokens && rc == GW_OK; i++) {
        for (size_t k = 0; k < reg->n && rc == GW_OK; k++) {
            const struct token_entry *e = reg->entries[k];
            if (e->from_config || strcmp(e->id, c->tokens[i].id) != 0 ||
                strcmp(e->tenant, c->tenant_id) != 0)
                continue;
            snprintf(msg, msgcap,
                     "auth.tokens[%zu] id '%s' is the id of a token created "
                     "through the API (by %s); two credentials would share one audit identity: "
                     "rename this one",
                     i, e->id, e->created_by);
            rc = GW_ECONFLICT;
        }
    }
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

size_t auth_registry_count(struct auth_registry *reg)
{
    int64_t now = gw_now_ms();
    size_t n = 0;
    pthread_rwlock_rdlock(&reg->lock);
    for (size_t i = 0; i < reg->n; i++) {
        const struct token_entry *e = reg->entries[i];
        if (!e->revoked_ms && (!e->expires_ms || e->expires_ms > now))
            n++;
    }
    pthread_rwlock_unlock(&reg->lock);
    return n;
}

/* --- authentication --------------------------------------------------------------------- */

static const char **copy_strv(struct gw_pool *pool, const char *const *v, size_t n)
{
    const char **out = gw_pool_alloc(pool, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = gw_pool_strdup(pool, v[i]);
    out[n] = NULL;
    return out;
}

static bool has_star(char *const *scopes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(scopes[i], "*") == 0)
            return true;
    return false;
}

static gw_err principal_fill_user(struct auth_registry *reg, const struct cfg_user *u,
                                  struct gw_pool *pool, struct auth_principal *p, char *msg,
                                  size_t msgcap);

/* The JSON array of a provisioned user's groups (as its last sign-in reported them). */
static const char **groups_of(const char *text, struct gw_pool *pool, size_t *n)
{
    char jmsg[80];
    json_t *arr = gw_json_parse(text, strlen(text), 2, jmsg, sizeof(jmsg));
    size_t cap = json_is_array(arr) ? json_array_size(arr) : 0, k = 0;
    const char **v = gw_pool_calloc(pool, (cap + 1) * sizeof(*v));
    for (size_t i = 0; i < cap; i++) {
        const char *g = json_string_value(json_array_get(arr, i));
        if (g)
            v[k++] = gw_pool_strdup(pool, g);
    }
    json_decref(arr);
    *n = k;
    return v;
}

/* Fills identity fields from the owner (under the read lock). */
static gw_err principal_fill(struct auth_registry *reg, const struct token_entry *e,
                             struct gw_pool *pool, struct auth_principal *p, char *msg,
                             size_t msgcap)
{
    p->tenant = gw_pool_strdup(pool, e->tenant);
    p->token_id = gw_pool_strdup(pool, e->id);
    p->method = "token";
    p->scopes = copy_strv(pool, (const char *const *)e->scopes, e->n_scopes);
    p->n_scopes = e->n_scopes;
    if (!e->owner) {
        p->actor = gw_pool_printf(pool, "token:%s", e->id);
        p->role = has_star(e->scopes, e->n_scopes) ? "enterprise_admin" : "token";
        return GW_OK;
    }
    const struct cfg_user *u = cfg_find_user(reg->cfg, e->owner);
    struct cfg_user jit = {0};
    struct store_sso_user su = {0};
    if (!u && store_sso_user_get(reg->st, e->tenant, e->owner, &su) == GW_OK) {
        /* a user provisioned at SSO login (not in identity.users) */
        jit = (struct cfg_user){.id = su.id,
                                .email = su.email,
                                .name = su.name,
                                .role = su.role,
                                .org_unit = su.org_unit,
                                .team = su.team,
                                .disabled = su.disabled};
        if (jit.role)
            u = &jit;
    }
    gw_err rc = u ? principal_fill_user(reg, u, pool, p, msg, msgcap) : GW_EUNAUTH;
    if (!u)
        snprintf(msg, msgcap, "token owner is not a known user");
    if (rc == GW_OK && su.groups) /* namespace grants to directory groups reach its tokens too */
        p->groups = groups_of(su.groups, pool, &p->n_groups);
    store_sso_user_release(&su);
    return rc;
}

static gw_err principal_fill_user(struct auth_registry *reg, const struct cfg_user *u,
                                  struct gw_pool *pool, struct auth_principal *p, char *msg,
                                  size_t msgcap)
{
    if (u->disabled) {
        snprintf(msg, msgcap, "token owner is disabled");
        return GW_EUNAUTH;
    }
    size_t n = 0;
    const char *const *perms = auth_role_permissions(reg->cfg, u->role, &n);
    if (!perms) {
        snprintf(msg, msgcap, "token owner has no valid role");
        return GW_EUNAUTH;
    }
    p->user = p->actor = gw_pool_strdup(pool, u->id);
    p->email = gw_pool_strdup(pool, u->email);
    p->name = gw_pool_strdup(pool, u->name);
    p->role = gw_pool_strdup(pool, u->role);
    p->org_unit = gw_pool_strdup(pool, u->org_unit);
    p->team = gw_pool_strdup(pool, u->team);
    p->perms = copy_strv(pool, perms, n);
    p->n_perms = n;
    return GW_OK;
}

/* A run-time token revoked on another node (or the secret a rotation there replaced), or a node
 * that cannot know: refused (never fails open). Tokens of the configuration are revoked by
 * editing it on every node. */
static gw_err revoked_elsewhere(struct auth_registry *reg, const struct token_entry *e, char *msg,
                                size_t msgcap)
{
    char key[256], old[64 + 8] = "secret:";
    bool revoked = false, rotated = false;
    if (!reg->shared)
        return GW_OK;
    snprintf(key, sizeof(key), "token:%s", e->id);
    gw_hex(e->hash, GW_SHA256_LEN, old + 7);
    gw_err rc = shared_revoked(reg->shared, key, &revoked);
    if (rc == GW_OK)
        rc = shared_revoked(reg->shared, old, &rotated);
    revoked = revoked || rotated;
    if (rc == GW_EUNAVAIL) {
        snprintf(msg, msgcap,
                 "revocations cannot be checked (the cluster's Redis is "
                 "unreachable); only tokens of the configuration are accepted meanwhile");
        return GW_EUNAVAIL;
    }
    if (rc == GW_OK && revoked) {
        snprintf(msg, msgcap, "token has been revoked");
        return GW_EUNAUTH;
    }
    return GW_OK;
}

gw_err auth_authenticate(struct auth_registry *reg, const char *authorization, struct gw_pool *pool,
                         struct auth_principal **out, char *msg, size_t msgcap)
{
    if (!authorization) {
        snprintf(msg, msgcap, "missing Authorization header (expected: Bearer <token>)");
        return GW_EUNAUTH;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        snprintf(msg, msgcap, "malformed Authorization header (expected: Bearer <token>)");
        return GW_EUNAUTH;
    }
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    bool printable = len > 0 && len <= MAX_TOKEN_LEN;
    for (size_t i = 0; printable && i < len; i++)
        printable = isgraph((unsigned char)tok[i]);
    if (!printable) {
        snprintf(msg, msgcap, "malformed bearer token");
        return GW_EUNAUTH;
    }
    unsigned char h[GW_SHA256_LEN];
    gw_sha256(tok, len, h);
    int64_t now = gw_now_ms();
    gw_err rc = GW_EUNAUTH;
    struct auth_principal *p = gw_pool_calloc(pool, sizeof(*p));
    pthread_rwlock_rdlock(&reg->lock);
    struct token_entry *e = index_find(reg, h);
    if (!e)
        snprintf(msg, msgcap, "unknown token");
    else if (e->revoked_ms)
        snprintf(msg, msgcap, "token has been revoked");
    else if (e->expires_ms && e->expires_ms <= now)
        snprintf(msg, msgcap, "token has expired");
    else
        rc = principal_fill(reg, e, pool, p, msg, msgcap);
    if (rc == GW_OK && !e->from_config)
        rc = revoked_elsewhere(reg, e, msg, msgcap);
    if (rc == GW_OK) {
        /* cheap enough to do on every request; the flusher persists it */
        if (atomic_load(&e->last_used_ms) / 1000 != now / 1000) {
            atomic_store(&e->last_used_ms, now);
            atomic_store(&e->last_used_dirty, true);
        }
    }
    pthread_rwlock_unlock(&reg->lock);
    if (rc == GW_OK)
        *out = p;
    return rc;
}

/* The run-time tokens as the store has them now (another node created, rotated or revoked
 * one): they replace this node's, keeping the last use this node has not written yet. */
static gw_err reload_runtime(struct auth_registry *reg)
{
    struct store_token *list = NULL;
    size_t n = 0;
    /* the list is read without the lock: a change made here meanwhile (its row written after
     * the read) would be lost by the swap, so the list is read again after one */
    for (int attempt = 0;; attempt++) {
        unsigned seen = atomic_load(&reg->changes);
        gw_err rc = store_token_list(reg->st, &list, &n);
        if (rc != GW_OK)
            return rc;
        pthread_rwlock_wrlock(&reg->lock);
        if (atomic_load(&reg->changes) == seen || attempt == 8)
            break;
        pthread_rwlock_unlock(&reg->lock);
        store_token_list_free(list, n);
    }
    struct token_entry **old = reg->entries;
    size_t n_old = reg->n;
    reg->entries = NULL;
    reg->n = reg->cap = 0;
    for (size_t i = 0; i < n_old; i++)
        if (old[i]->from_config)
            entries_push(reg, old[i]);
    for (size_t i = 0; i < n; i++) {
        struct token_entry *e = entry_from_store(&list[i]);
        if (!e)
            continue;
        for (size_t k = 0; k < n_old; k++) {
            struct token_entry *o = old[k];
            if (!o->from_config && atomic_load(&o->last_used_dirty) && !strcmp(o->id, e->id) &&
                !strcmp(o->tenant, e->tenant)) {
                atomic_store(&e->last_used_ms, atomic_load(&o->last_used_ms));
                atomic_store(&e->last_used_dirty, true);
            }
        }
        entries_push(reg, e);
    }
    /* the replaced run-time entries are picked under the lock: once it is released, a
     * configuration reload on the main thread may free the configuration entries of old[] */
    size_t n_free = 0;
    for (size_t i = 0; i < n_old; i++)
        if (!old[i]->from_config)
            old[n_free++] = old[i];
    index_rebuild(reg);
    pthread_rwlock_unlock(&reg->lock);
    for (size_t i = 0; i < n_free; i++)
        entry_free(old[i]);
    free(old);
    store_token_list_free(list, n);
    return GW_OK;
}

/* Another node changed a run-time token ("tokens"), or notifications may have been missed
 * (""): read them again from the store the nodes share. */
static void on_identity(void *arg, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(ch);
    struct auth_registry *reg = arg;
    if (*payload && strcmp(payload, "tokens") != 0)
        return;
    bool failed = reload_runtime(reg) != GW_OK;
    atomic_store(&reg->stale, failed);
    if (failed)
        gw_warn("tokens: changed on another node, but the store cannot be read (again in 1 s)");
}

void auth_registry_retry_stale(struct auth_registry *reg)
{
    if (atomic_exchange(&reg->stale, false))
        on_identity(reg, SHARED_IDENTITY, "");
}

/* Tells the other nodes to read the run-time tokens again (called without the lock). */
static void share_change(struct auth_registry *reg)
{
    if (reg->shared && shared_publish(reg->shared, SHARED_IDENTITY, "tokens") != GW_OK)
        gw_warn("tokens: changed here; the other nodes could not be told (Redis unreachable)");
}

void auth_registry_share(struct auth_registry *reg, struct shared *s)
{
    if (reg->shared)
        shared_unsubscribe(reg->shared, on_identity, reg);
    reg->shared = s;
    if (s)
        shared_subscribe(s, SHARED_IDENTITY, on_identity, reg);
}

bool auth_token_is_local(struct auth_registry *reg, const char *token)
{
    static const char *const prefixes[] = {"ocw_", AUTH_CLI_ACCESS_PREFIX, AUTH_CLI_REFRESH_PREFIX,
                                           "ocs_", NULL};
    for (size_t i = 0; prefixes[i]; i++)
        if (!strncmp(token, prefixes[i], strlen(prefixes[i])))
            return true;
    unsigned char h[GW_SHA256_LEN];
    gw_sha256(token, strlen(token), h);
    pthread_rwlock_rdlock(&reg->lock);
    bool known = index_find(reg, h) != NULL;
    pthread_rwlock_unlock(&reg->lock);
    return known;
}

/* --- run-time token management --------------------------------------------------------- */

static bool is_admin(const struct auth_principal *p)
{
    return auth_allows(p, "*");
}

static bool may_manage(const struct auth_principal *p, const struct token_entry *e)
{
    if (is_admin(p))
        return true;
    const char *actor = p->actor;
    return (e->owner && p->user && strcmp(e->owner, p->user) == 0) ||
           (e->created_by && strcmp(e->created_by, actor) == 0);
}

gw_err auth_token_check_create(struct auth_registry *reg, const struct auth_principal *caller,
                               const struct auth_token_request *req, char *msg, size_t msgcap)
{
    if (req->id && !cfg_name_valid(req->id)) {
        snprintf(msg, msgcap,
                 "token id must be 1-63 characters of [a-z0-9_-] starting with a letter or digit");
        return GW_EINVAL;
    }
    if (req->n_scopes == 0 || req->n_scopes > MAX_SCOPES) {
        snprintf(msg, msgcap, "scopes must list 1 to %d scopes", MAX_SCOPES);
        return GW_EINVAL;
    }
    for (size_t i = 0; i < req->n_scopes; i++) {
        if (!cfg_scope_known(req->scopes[i])) {
            char names[1024];
            cfg_scope_names(names, sizeof(names));
            snprintf(msg, msgcap, "unknown scope '%.100s'; valid: *, %s (with '*' globs)",
                     req->scopes[i], names);
            return GW_EINVAL;
        }
        if (!auth_can_delegate(caller, req->scopes[i])) {
            snprintf(msg, msgcap, "cannot grant scope %.100s: the caller does not hold it",
                     req->scopes[i]);
            return GW_EFORBIDDEN;
        }
    }
    if (req->expires_in_s < 0 || req->expires_in_s > MAX_EXPIRES_S) {
        snprintf(msg, msgcap, "expires_in must be between 1 and %lld seconds", MAX_EXPIRES_S);
        return GW_EINVAL;
    }
    gw_err rc = GW_OK;
    pthread_rwlock_rdlock(&reg->lock);
    if (req->owner && !(caller->user && strcmp(req->owner, caller->user) == 0)) {
        const struct cfg_user *u = cfg_find_user(reg->cfg, req->owner);
        if (!is_admin(caller)) {
            snprintf(msg, msgcap, "only an administrator can create tokens for another user");
            rc = GW_EFORBIDDEN;
        } else if (!u || u->disabled) {
            snprintf(msg, msgcap, "owner '%.100s' is not an active user", req->owner);
            rc = GW_EINVAL;
        }
    }
    if (rc == GW_OK && req->id && find_by_id(reg, caller->tenant, req->id)) {
        snprintf(msg, msgcap, "a token with id '%s' exists", req->id);
        rc = GW_ECONFLICT;
    }
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

static const char *new_secret(struct gw_pool *pool, unsigned char hash[GW_SHA256_LEN])
{
    unsigned char raw[32];
    char b64[48];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), b64);
    const char *secret = gw_pool_printf(pool, "ocw_%s", b64);
    gw_sha256(secret, strlen(secret), hash);
    return secret;
}

static void info_fill(struct gw_pool *pool, const struct token_entry *e,
                      struct auth_token_info *info)
{
    info->id = gw_pool_strdup(pool, e->id);
    info->tenant = gw_pool_strdup(pool, e->tenant);
    info->owner = gw_pool_strdup(pool, e->owner);
    info->created_by = gw_pool_strdup(pool, e->created_by);
    info->source = e->from_config ? "config" : "api";
    info->scopes = copy_strv(pool, (const char *const *)e->scopes, e->n_scopes);
    info->n_scopes = e->n_scopes;
    info->created_ms = e->created_ms;
    info->expires_ms = e->expires_ms;
    info->revoked_ms = e->revoked_ms;
    info->last_used_ms = atomic_load(&e->last_used_ms);
}

static char *scopes_json(char *const *scopes, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(scopes[i]));
    char *s = gw_json_compact(arr);
    json_decref(arr);
    return s;
}

gw_err auth_token_create(struct auth_registry *reg, const struct auth_principal *caller,
                         const struct auth_token_request *req, struct gw_pool *pool,
                         struct auth_token_info *info, const char **secret)
{
    struct token_entry *e = gw_xcalloc(1, sizeof(*e));
    char idbuf[32];
    if (!req->id) {
        char hex[13];
        gw_random_hex(hex, 6);
        snprintf(idbuf, sizeof(idbuf), "tok_%s", hex);
    }
    e->id = gw_xstrdup(req->id ? req->id : idbuf);
    e->tenant = gw_xstrdup(caller->tenant);
    const char *owner = req->owner ? req->owner : caller->user;
    e->owner = owner ? gw_xstrdup(owner) : NULL;
    e->created_by = gw_xstrdup(caller->actor);
    e->scopes = gw_xcalloc(req->n_scopes + 1, sizeof(char *));
    for (size_t i = 0; i < req->n_scopes; i++)
        e->scopes[e->n_scopes++] = gw_xstrdup(req->scopes[i]);
    e->created_ms = gw_now_ms();
    e->expires_ms = req->expires_in_s ? e->created_ms + req->expires_in_s * 1000 : 0;
    *secret = new_secret(pool, e->hash);

    char hash_hex[65];
    gw_hex(e->hash, GW_SHA256_LEN, hash_hex);
    char *sj = scopes_json(e->scopes, e->n_scopes);
    struct store_token row = {
        .id = e->id,
        .tenant = e->tenant,
        .owner = e->owner,
        .hash = hash_hex,
        .scopes = sj,
        .created_by = e->created_by,
        .created_ms = e->created_ms,
        .expires_ms = e->expires_ms,
    };
    pthread_rwlock_wrlock(&reg->lock);
    gw_err rc = find_by_id(reg, e->tenant, e->id) ? GW_ECONFLICT
                                                  : store_token_insert(reg->st, &row);
    if (rc == GW_OK) {
        atomic_fetch_add(&reg->changes, 1);
        entries_push(reg, e);
        index_rebuild(reg);
        info_fill(pool, e, info);
    }
    pthread_rwlock_unlock(&reg->lock);
    free(sj);
    if (rc != GW_OK)
        entry_free(e);
    else
        share_change(reg);
    return rc;
}

gw_err auth_token_check_change(struct auth_registry *reg, const struct auth_principal *caller,
                               const char *id, char *msg, size_t msgcap)
{
    gw_err rc = GW_OK;
    pthread_rwlock_rdlock(&reg->lock);
    struct token_entry *e = find_by_id(reg, caller->tenant, id);
    if (!e || !may_manage(caller, e)) {
        snprintf(msg, msgcap, "no token '%.64s'", id);
        rc = GW_ENOTFOUND;
    } else if (e->from_config) {
        snprintf(msg, msgcap,
                 "token '%.64s' is declared in the configuration file; edit it there and reload",
                 id);
        rc = GW_ECONFLICT;
    } else if (e->revoked_ms) {
        snprintf(msg, msgcap, "token '%.64s' is revoked", id);
        rc = GW_ECONFLICT;
    }
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

/* Tells the other nodes that key ("token:<id>", or "secret:<hash>" for a rotated-out secret)
 * is revoked until the token would have expired (called without the registry lock: a round
 * trip to Redis). */
static void share_revocation(struct auth_registry *reg, const char *key, int64_t expires_ms)
{
    int64_t left = expires_ms ? expires_ms - gw_now_ms() : MAX_EXPIRES_S * 1000;
    if (reg->shared && left > 0 && shared_revoke(reg->shared, key, left) != GW_OK)
        gw_warn("%.80s revoked here; the other nodes could not be told (Redis unreachable): "
                "they refuse run-time tokens until it is back",
                key);
}

gw_err auth_token_rotate(struct auth_registry *reg, const struct auth_principal *caller,
                         const char *id, struct gw_pool *pool, struct auth_token_info *info,
                         const char **secret)
{
    unsigned char hash[GW_SHA256_LEN];
    char hash_hex[65];
    *secret = new_secret(pool, hash);
    gw_hex(hash, GW_SHA256_LEN, hash_hex);
    pthread_rwlock_wrlock(&reg->lock);
    struct token_entry *e = find_by_id(reg, caller->tenant, id);
    gw_err rc = (!e || e->from_config || e->revoked_ms)
                    ? GW_ENOTFOUND
                    : store_token_set_hash(reg->st, e->tenant, id, hash_hex);
    char old[64 + 8] = "secret:";
    int64_t expires = 0;
    if (rc == GW_OK) {
        atomic_fetch_add(&reg->changes, 1);
        gw_hex(e->hash, GW_SHA256_LEN, old + 7);
        expires = e->expires_ms;
        memcpy(e->hash, hash, sizeof(hash));
        index_rebuild(reg);
        info_fill(pool, e, info);
    }
    pthread_rwlock_unlock(&reg->lock);
    if (rc == GW_OK) { /* a node that still knows the old secret refuses it */
        share_revocation(reg, old, expires);
        share_change(reg);
    }
    return rc;
}

gw_err auth_token_revoke(struct auth_registry *reg, const struct auth_principal *caller,
                         const char *id, int64_t *revoked_ms)
{
    int64_t now = gw_now_ms();
    pthread_rwlock_wrlock(&reg->lock);
    struct token_entry *e = find_by_id(reg, caller->tenant, id);
    gw_err rc = (!e || e->from_config) ? GW_ENOTFOUND
                                       : store_token_revoke(reg->st, e->tenant, id, now);
    char key[256];
    int64_t expires = 0;
    if (rc == GW_OK) {
        atomic_fetch_add(&reg->changes, 1);
        if (!e->revoked_ms)
            e->revoked_ms = now;
        *revoked_ms = e->revoked_ms;
        snprintf(key, sizeof(key), "token:%s", e->id);
        expires = e->expires_ms;
    }
    pthread_rwlock_unlock(&reg->lock);
    if (rc == GW_OK) {
        share_revocation(reg, key, expires);
        share_change(reg);
    }
    return rc;
}

gw_err auth_token_list(struct auth_registry *reg, const struct auth_principal *caller,
                       struct gw_pool *pool, struct auth_token_info **out, size_t *n)
{
    pthread_rwlock_rdlock(&reg->lock);
    struct auth_token_info *list = gw_pool_calloc(pool, (reg->n + 1) * sizeof(*list));
    size_t k = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const struct token_entry *e = reg->entries[i];
        if (strcmp(e->tenant, caller->tenant) == 0 && may_manage(caller, e))
            info_fill(pool, e, &list[k++]);
    }
    pthread_rwlock_unlock(&reg->lock);
    *out = list;
    *n = k;
    return GW_OK;
}

void auth_registry_flush_last_use(struct auth_registry *reg)
{
    pthread_rwlock_rdlock(&reg->lock);
    for (size_t i = 0; i < reg->n; i++) {
        struct token_entry *e = reg->entries[i];
        if (!e->from_config && atomic_exchange(&e->last_used_dirty, false))
            store_token_touch(reg->st, e->tenant, e->id, atomic_load(&e->last_used_ms));
    }
    pthread_rwlock_unlock(&reg->lock);
}

gw_err auth_bootstrap(struct auth_registry *reg, const struct cfg *c, char **secret)
{
    *secret = NULL;
    char *done = NULL;
    gw_err rc = store_meta_get(reg->st, "bootstrap_done", &done);
    free(done);
    if (rc == GW_OK || !c->bootstrap_token)
        return GW_OK;
    if (rc != GW_ENOTFOUND)
        return rc;
    struct gw_pool *pool = gw_pool_new();
    const char *scopes[] = {"*"};
    struct auth_principal system = {
        .tenant = c->tenant_id,
        .actor = "system",
        .scopes = scopes,
        .n_scopes = 1,
    };
    struct auth_token_request req = {.id = "bootstrap-admin", .scopes = scopes, .n_scopes = 1};
    struct auth_token_info info;
    const char *s = NULL;
    rc = auth_token_create(reg, &system, &req, pool, &info, &s);
    if (rc == GW_OK) {
        rc = store_meta_put(reg->st, "bootstrap_done", "1");
        *secret = gw_xstrdup(s);
    }
    gw_pool_free(pool);
    return rc;
}
