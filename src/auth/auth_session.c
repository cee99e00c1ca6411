/* SPDX-License-Identifier: MIT
 * auth_session.c — from IdP claims to a gateway identity, and server-side browser sessions.
 *
 * Mapping: the configured claims (OIDC) or attributes (SAML attributeMapping) give user id,
 * email, name, groups, org unit and team (each bounded and free of control characters); a SAML
 * session also keeps its NameID and SessionIndex for single logout; rbac.groupMappings gives
 * the role (exact names or globs, the first mapping in declared order that matches any group
 * wins), else sso.default_role, else the login is refused with the groups named. A user
 * declared in identity.users keeps its declared role, org unit and team, and is refused when
 * disabled; users not declared there are provisioned in the store (just in time) so later
 * logins and tokens they own resolve.
 *
 * Sessions: the cookie carries 32 random bytes; the store keeps only their SHA-256, and the
 * public session id is a prefix of that hash. Idle and absolute timeouts are checked on every
 * use; last-seen is written at most every TOUCH_MS. The CSRF token is an HMAC of the secret, so
 * it needs no storage and changes with every session (rotation on login).
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "store/store.h"

#include <ctype.h>
#include <fnmatch.h>

#define MAX_GROUPS 256
#define MAX_GROUP_LEN 512
#define MAX_FIELD_LEN 255
#define TOUCH_MS 30000
#define SECRET_PREFIX "ocs_"

/* --- claims --------------------------------------------------------------------------- */

bool auth_text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static const char *claim_text(const json_t *claims, const char *name, struct gw_pool *pool)
{
    const char *v = name ? gw_json_str(claims, name) : NULL;
    return auth_text_ok(v, MAX_FIELD_LEN) ? gw_pool_strdup(pool, v) : NULL;
}

static bool is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static bool group_matches(const char *pattern, const char *group)
{
    return is_glob(pattern) ? fnmatch(pattern, group, 0) == 0 : strcmp(pattern, group) == 0;
}

/* Where each identity field comes from: OIDC claims, or SAML attributes (attributeMapping). */
struct claim_names {
    const char *user, *email, *name, *groups, *org_unit, *team;
};

static struct claim_names names_of(const struct cfg_sso *s, bool saml)
{
    const struct cfg_saml *a = &s->saml;
    return saml ? (struct claim_names){a->attr_user,   a->attr_email,    a->attr_name,
                                       a->attr_groups, a->attr_org_unit, a->attr_team}
                : (struct claim_names){s->claim_user,   s->claim_email,    s->claim_name,
                                       s->claim_groups, s->claim_org_unit, s->claim_team};
}

/* The tenant a login at t's IdP belongs to: t itself, or (the primary IdP with
 * sso.tenant_claim) the tenant its claim names. NULL with msg when the claim names none. */
static const struct cfg_tenant *login_tenant(const struct cfg *c, const struct cfg_tenant *t,
                                             const json_t *claims, struct gw_pool *pool, char *msg,
                                             size_t msgcap)
{
    const char *claim = t->primary ? t->sso->tenant_claim : NULL;
    const char *value = claim ? claim_text(claims, claim, pool) : NULL;
    if (!value || !strcmp(value, t->id))
        return t;
    const struct cfg_tenant *to = cfg_tenant_by_claim(c, value);
    if (!to)
        snprintf(msg, msgcap,
                 "your identity provider assigns you to tenant \"%.64s\" (claim "
                 "%s), which this gateway does not serve",
                 value, claim);
    return to;
}

gw_err auth_sso_map(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                    const char *protocol, const json_t *claims, struct gw_pool *pool,
                    struct auth_sso_identity *out, char *msg, size_t msgcap)
{
    struct store *st = sso ? sso->store : NULL; /* NULL: no disabled-user check (tests) */
    const struct cfg_sso *s = t->sso;
    bool saml = strcmp(protocol, "saml") == 0;
    const struct claim_names k = names_of(s, saml);
    memset(out, 0, sizeof(*out));
    out->protocol = saml ? "saml" : "oidc";
    const char *user = gw_json_str(claims, k.user);
    if (!auth_text_ok(user, MAX_FIELD_LEN) || strchr(user, ' ')) {
        snprintf(msg, msgcap,
                 saml ? "the assertion has no usable \"%s\" (sso.saml."
                        "attributeMapping.userId) for the user id"
                      : "the ID token has no usable \"%s\" claim for the user id",
                 k.user);
        return GW_EUNAUTH;
    }
    out->user = gw_pool_strdup(pool, user);
    const struct cfg_tenant *to = login_tenant(c, t, claims, pool, msg, msgcap);
    if (!to)
        return GW_EFORBIDDEN;
    out->tenant = to->id;
    out->email = claim_text(claims, k.email, pool);
    out->name = claim_text(claims, k.name, pool);
    out->org_unit = claim_text(claims, k.org_unit, pool);
    out->team = claim_text(claims, k.team, pool);
    if (saml)
        out->saml = json_object_get(claims, AUTH_SAML_SESSION_CLAIM);

    json_t *g = json_object_get(claims, k.groups);
    out->groups = gw_pool_calloc(pool, (MAX_GROUPS + 1) * sizeof(char *));
    if (json_is_string(g) && auth_text_ok(json_string_value(g), MAX_GROUP_LEN)) {
        out->groups[out->n_groups++] = gw_pool_strdup(pool, json_string_value(g));
    } else if (json_is_array(g)) {
        size_t i;
        json_t *v;
        json_array_foreach(g, i, v) {
            if (out->n_groups == MAX_GROUPS)
                break;
            if (json_is_string(v) && auth_text_ok(json_string_value(v), MAX_GROUP_LEN))
                out->groups[out->n_groups++] = gw_pool_strdup(pool, json_string_value(v));
        }
    }

    const struct cfg_user *cu = to->primary ? cfg_find_user(c, out->user) : NULL;
    if (cu) {
        if (cu->disabled) {
            snprintf(msg, msgcap, "user %.100s is disabled", out->user);
            return GW_EFORBIDDEN;
        }
        out->role = cu->role;
        out->mapped_by = "identity.users";
        if (cu->org_unit)
            out->org_unit = cu->org_unit;
        if (cu->team)
            out->team = cu->team;
        if (cu->email && !out->email)
            out->email = cu->email;
        if (cu->name && !out->name)
            out->name = cu->name;
        return GW_OK;
    }
    if (st) {
        struct store_sso_user su;
        if (store_sso_user_get(st, to->id, out->user, &su) == GW_OK) {
            bool disabled = su.disabled;
            store_sso_user_release(&su);
            if (disabled) {
                snprintf(msg, msgcap, "user %.100s is disabled", out->user);
                return GW_EFORBIDDEN;
            }
        }
    }
    for (size_t m = 0; m < to->n_group_mappings && !out->role; m++)
        for (size_t i = 0; i < out->n_groups; i++)
            if (group_matches(to->group_mappings[m].group, out->groups[i])) {
                out->role = to->group_mappings[m].role;
                out->mapped_by = to->group_mappings[m].group;
                break;
            }
    const struct cfg_sso *policy = cfg_tenant_sso(c, to);
    if (!out->role && policy->default_role) {
        out->role = policy->default_role;
        out->mapped_by = "default_role";
    }
    if (!out->role) {
        if (out->n_groups == 0) {
            snprintf(msg, msgcap,
                     "no role mapping for your groups: the identity provider sent "
                     "no groups for %.100s (an administrator must add a group mapping or "
                     "sso.default_role)",
                     out->user);
        } else {
            size_t o = (size_t)snprintf(msg, msgcap, "no role mapping for your groups: ");
            for (size_t i = 0; i < out->n_groups && o < msgcap; i++)
                o += (size_t)snprintf(msg + o, msgcap - o, "%s%.120s", i ? ", " : "",
                                      out->groups[i]);
            if (o < msgcap)
                snprintf(msg + o, msgcap - o,
                         " (an administrator must add one to "
                         "rbac.groupMappings)");
        }
        return GW_EFORBIDDEN;
    }
    if (!auth_role_permissions(c, out->role, NULL)) {
        snprintf(msg, msgcap, "the mapped role %.64s does not exist", out->role);
        return GW_EFORBIDDEN;
    }
    return GW_OK;
}

static json_t *groups_json(const char *const *groups, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(groups[i]));
    return a;
}

gw_err auth_sso_provision(struct auth_sso *sso, const struct cfg *c,
                          const struct auth_sso_identity *id)
{
    struct store *st = sso->store;
    const struct cfg_tenant *t = cfg_find_tenant(c, id->tenant);
    if (!t || !cfg_tenant_sso(c, t)->jit_provisioning || (t->primary && cfg_find_user(c, id->user)))
        return GW_OK;
    json_t *g = groups_json(id->groups, id->n_groups);
    char *gs = gw_json_compact(g);
    json_decref(g);
    int64_t now = gw_now_ms();
    struct store_sso_user u = {
        .tenant = (char *)id->tenant,
        .id = (char *)id->user,
        .email = (char *)id->email,
        .name = (char *)id->name,
        .role = (char *)id->role,
        .org_unit = (char *)id->org_unit,
        .team = (char *)id->team,
        .groups = gs,
        .created_ms = now,
        .last_login_ms = now,
    };
    gw_err rc = store_sso_user_upsert(st, &u);
    free(gs);
    return rc;
}

struct auth_principal *auth_sso_principal(const struct cfg *c, const struct auth_sso_identity *id,
                                          const char *method, struct gw_pool *pool)
{
    struct auth_principal *p = gw_pool_calloc(pool, sizeof(*p));
    p->tenant = gw_pool_strdup(pool, id->tenant);
    p->actor = p->user = gw_pool_strdup(pool, id->user);
    p->email = id->email ? gw_pool_strdup(pool, id->email) : NULL;
    p->name = id->name ? gw_pool_strdup(pool, id->name) : NULL;
    p->role = gw_pool_strdup(pool, id->role);
    p->org_unit = id->org_unit ? gw_pool_strdup(pool, id->org_unit) : NULL;
    p->team = id->team ? gw_pool_strdup(pool, id->team) : NULL;
    const char **scopes = gw_pool_calloc(pool, 2 * sizeof(char *));
    scopes[0] = "*";
    p->scopes = scopes;
    p->n_scopes = 1;
    size_t n = 0;
    const char *const *perms = auth_role_permissions(c, id->role, &n);
    const char **pv = gw_pool_calloc(pool, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        pv[i] = gw_pool_strdup(pool, perms[i]);
    p->perms = pv;
    p->n_perms = n;
    p->method = method;
    p->groups = gw_pool_calloc(pool, (id->n_groups + 1) * sizeof(char *));
    for (size_t i = 0; i < id->n_groups; i++)
        p->groups[i] = gw_pool_strdup(pool, id->groups[i]);
    p->n_groups = id->n_groups;
    return p;
}

/* --- sessions ---------------------------------------------------------------------------- */

static bool secret_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 8 || n > AUTH_SESSION_SECRET_MAX || strncmp(s, SECRET_PREFIX, 4) != 0)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
            return false;
    return true;
}

static void hash_and_id(const char *secret, char hash[65], char id[33])
{
    gw_sha256_hex(secret, strlen(secret), hash);
    memcpy(id, hash, 32);
    id[32] = '\0';
}

const char *auth_session_id_of(const char *secret, struct gw_pool *pool)
{
    char hash[65], id[33];
    hash_and_id(secret, hash, id);
    return gw_pool_strdup(pool, id);
}

gw_err auth_session_create(struct auth_sso *sso, const struct cfg *c,
                           const struct auth_sso_identity *id, const char *client_ip,
                           struct gw_pool *pool, const char **secret, const char **session_id)
{
    struct store *st = sso->store;
    unsigned char raw[32];
    char b64[48], hash[65], sid[33];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), b64);
    explicit_bzero(raw, sizeof(raw));
    char *sec = gw_pool_printf(pool, SECRET_PREFIX "%s", b64);
    explicit_bzero(b64, sizeof(b64));
    hash_and_id(sec, hash, sid);
    json_t *ident = json_pack("{s:s?,s:s?,s:s,s:s?,s:s?,s:o,s:s?,s:s,s:O*}", "email", id->email,
                              "name", id->name, "role", id->role, "org_unit", id->org_unit, "team",
                              id->team, "groups", groups_json(id->groups, id->n_groups),
                              "mapped_by", id->mapped_by, "idp",
                              id->protocol ? id->protocol : "oidc", "saml", id->saml);
    char *it = gw_json_compact(ident);
    json_decref(ident);
    int64_t now = gw_now_ms();
    const struct cfg_sso *policy = cfg_tenant_sso(c, cfg_find_tenant(c, id->tenant));
    struct store_session row = {
        .id = sid,
        .hash = hash,
        .tenant = (char *)id->tenant,
        .user_id = (char *)id->user,
        .identity = it,
        .client_ip = (char *)client_ip,
        .created_ms = now,
        .last_seen_ms = now,
        .expires_ms = now + (int64_t)policy->absolute_timeout_s * 1000,
    };
    gw_err rc = store_session_insert(st, &row);
    free(it);
    if (rc == GW_OK) {
        *secret = sec;
        *session_id = gw_pool_strdup(pool, sid);
    }
    return rc;
}

static const char **strv_of(const json_t *arr, struct gw_pool *pool, size_t *n)
{
    size_t cnt = json_is_array(arr) ? json_array_size(arr) : 0;
    if (cnt > MAX_GROUPS)
        cnt = MAX_GROUPS;
    const char **v = gw_pool_calloc(pool, (cnt + 1) * sizeof(char *));
    *n = 0;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s)
            v[(*n)++] = gw_pool_strdup(pool, s);
    }
    return v;
}

gw_err auth_session_load(struct store *st, const char *hash, struct store_session *s,
                         const char *unknown, char *msg, size_t msgcap)
{
    gw_err rc = store_session_get(st, hash, s);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap, "%s", unknown);
        return GW_EUNAUTH;
    }
    if (rc != GW_OK)
        snprintf(msg, msgcap, "sessions cannot be read right now");
    return rc;
}

gw_err auth_session_principal(const struct cfg *c, const char *tenant, const char *user,
                              const char *identity, const char *method, struct gw_pool *pool,
                              struct auth_principal **out, char *msg, size_t msgcap)
{
    char jmsg[120];
    const char *text = identity ? identity : "{}";
    const struct cfg_tenant *t = cfg_find_tenant(c, tenant);
    if (!t) {
        snprintf(msg, msgcap, "tenant %.64s is no longer served by this gateway", tenant);
        return GW_EUNAUTH;
    }
    json_t *ident = gw_json_parse(text, strlen(text), 4, jmsg, sizeof(jmsg));
    const struct cfg_user *cu = t->primary ? cfg_find_user(c, user) : NULL;
    struct auth_sso_identity id = {
        .tenant = t->id,
        .user = gw_pool_strdup(pool, user),
        .email = gw_json_str(ident, "email"),
        .name = gw_json_str(ident, "name"),
        .role = gw_json_str(ident, "role"),
        .org_unit = gw_json_str(ident, "org_unit"),
        .team = gw_json_str(ident, "team"),
    };
    id.groups = strv_of(json_object_get(ident, "groups"), pool, &id.n_groups);
    gw_err rc = GW_EUNAUTH;
    if (cu && cu->disabled) {
        snprintf(msg, msgcap, "user is disabled");
    } else if (!id.role || !auth_role_permissions(c, id.role, NULL)) {
        snprintf(msg, msgcap, "the session's role no longer exists: log in again");
    } else {
        *out = auth_sso_principal(c, &id, method, pool);
        rc = GW_OK;
    }
    json_decref(ident);
    return rc;
}

gw_err auth_session_authenticate(struct auth_sso *sso, const struct cfg *c, const char *secret,
                                 struct gw_pool *pool, struct auth_principal **out, char *msg,
                                 size_t msgcap)
{
    struct store *st = sso->store;
    if (!secret_ok(secret)) {
        snprintf(msg, msgcap, "malformed session cookie");
        return GW_EUNAUTH;
    }
    char hash[65], sid[33];
    hash_and_id(secret, hash, sid);
    struct store_session s;
    gw_err rc = auth_session_load(st, hash, &s, "unknown or ended session: log in again", msg,
                                  msgcap);
    if (rc != GW_OK)
        return rc;
    int64_t now = gw_now_ms();
    const struct cfg_tenant *t = cfg_find_tenant(c, s.tenant);
    const struct cfg_sso *policy = cfg_tenant_sso(c, t);
    rc = GW_EUNAUTH;
    if (!t || !policy->enabled || (s.kind && strcmp(s.kind, "browser") != 0)) {
        snprintf(msg, msgcap, "unknown or ended session: log in again");
    } else if (now >= s.expires_ms) {
        snprintf(msg, msgcap, "session expired (absolute timeout): log in again");
        store_session_delete(st, s.tenant, s.id, NULL);
    } else if (now - s.last_seen_ms >= (int64_t)policy->idle_timeout_s * 1000) {
        snprintf(msg, msgcap, "session expired (idle timeout): log in again");
        store_session_delete(st, s.tenant, s.id, NULL);
    } else if ((rc = auth_session_principal(c, s.tenant, s.user_id, s.identity, "session", pool,
                                            out, msg, msgcap)) == GW_OK) {
        (*out)->session_id = gw_pool_strdup(pool, sid);
        if (now - s.last_seen_ms >= TOUCH_MS)
            store_session_touch(st, hash, now);
    }
    store_session_release(&s);
    return rc;
}

gw_err auth_session_end(struct auth_sso *sso, const char *secret, const char **session_id,
                        struct gw_pool *pool)
{
    struct store *st = sso->store;
    if (!secret_ok(secret))
        return GW_ENOTFOUND;
    char hash[65], sid[33];
    hash_and_id(secret, hash, sid);
    struct store_session s;
    gw_err rc = store_session_get(st, hash, &s);
    if (rc != GW_OK)
        return rc;
    rc = store_session_delete(st, s.tenant, s.id, NULL);
    if (rc == GW_OK)
        auth_session_shared_end(sso, s.id);
    store_session_release(&s);
    if (session_id)
        *session_id = gw_pool_strdup(pool, sid);
    return rc;
}

json_t *auth_session_identity(struct auth_sso *sso, const char *secret)
{
    struct store *st = sso->store;
    if (!secret_ok(secret))
        return NULL;
    char hash[65], sid[33];
    hash_and_id(secret, hash, sid);
    struct store_session s;
    if (store_session_get(st, hash, &s) != GW_OK)
        return NULL;
    char jmsg[120];
    json_t *ident = gw_json_parse(s.identity ? s.identity : "{}",
                                  strlen(s.identity ? s.identity : "{}"), 8, jmsg, sizeof(jmsg));
    store_session_release(&s);
    return ident;
}

const char *auth_session_csrf(const char *secret, struct gw_pool *pool)
{
    unsigned char mac[GW_SHA256_LEN];
    char b64[48];
    gw_hmac_sha256(secret, strlen(secret), "openclaw-csrf", 13, mac);
    gw_b64url(mac, sizeof(mac), b64);
    return gw_pool_strdup(pool, b64);
}

bool auth_session_csrf_ok(const char *secret, const char *presented)
{
    if (!secret || !presented || strlen(presented) != 43)
        return false;
    unsigned char mac[GW_SHA256_LEN];
    char b64[48];
    gw_hmac_sha256(secret, strlen(secret), "openclaw-csrf", 13, mac);
    gw_b64url(mac, sizeof(mac), b64);
    return gw_ct_equal(b64, presented, 43);
}

void auth_session_purge(struct auth_sso *sso, const struct cfg *c)
{
    struct store *st = sso->store;
    /* the longest idle timeout of any tenant: sessions are checked exactly when used */
    unsigned idle = 0;
    for (size_t i = 0; i < c->n_tenants; i++)
        idle = GW_MAX(idle, cfg_tenant_sso(c, &c->tenants[i])->idle_timeout_s);
    int64_t now = gw_now_ms();
    if (store_sso_purge(st, now, now - (int64_t)idle * 1000) != GW_OK)
        gw_warn("sso: expired sessions could not be purged");
}
