/* SPDX-License-Identifier: MIT
 * auth_grants.c — namespace grants: who may use which namespace, and a principal's reach.
 *
 * Members come from namespaces.<ns>.members in gateway.yaml (the primary tenant's) and from
 * the API (any tenant, persisted in the store). Both are compiled into one immutable,
 * refcounted set that is swapped on every change; a request holds the set it started with, as
 * it holds its configuration snapshot. Reach is default-deny: a principal with an owner (an SSO
 * session, a CLI login, an IdP bearer token, an owned gateway token) reaches a namespace only
 * through a member that matches it, capped further by its role's permissions and its token's
 * scopes. enterprise_admin reaches every namespace of its tenant, org_admin also those granted
 * to an org unit or team inside its subtree. Ownerless gateway tokens keep their explicit
 * channel scopes (they are the "run-time tokens" members of seed 003).
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "shared/shared.h"
#include "store/store.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>

struct grant {
    char *tenant, *ns, *value, *created_by;
    enum cfg_member_kind kind;
    bool from_config;
    int64_t created_ms;
};

struct team_ou {
    char *team, *org_unit;
};

struct auth_grant_set {
    atomic_int refs;
    struct grant *v; /* sorted by (tenant, ns) */
    size_t n;
    struct team_ou *teams; /* configured teams and their org units (org_admin reach) */
    size_t n_teams;
};

struct auth_grants {
    pthread_mutex_t lock; /* guards cur and rows; changes are serialized under it */
    struct store *st;
    struct auth_grant_set *cur;
    struct store_grant *rows; /* the run-time members, as the store has them */
    size_t n_rows;
    struct cfg *cfg;       /* the configuration the set was built from (ref held) */
    struct shared *shared; /* changes told to the other nodes, theirs read again */
    atomic_bool stale;     /* another node's change could not be read yet: read again */
    atomic_uint changes;   /* this node's own changes, counted under the lock */
};

/* --- sets ------------------------------------------------------------------------------- */

static int grant_cmp(const void *a, const void *b)
{
    const struct grant *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    return c ? c : strcmp(x->ns, y->ns);
}

static void set_free(struct auth_grant_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].tenant);
        free(s->v[i].ns);
        free(s->v[i].value);
        free(s->v[i].created_by);
    }
    for (size_t i = 0; i < s->n_teams; i++) {
        free(s->teams[i].team);
        free(s->teams[i].org_unit);
    }
    free(s->v);
    free(s->teams);
    free(s);
}

void auth_grant_set_unref(struct auth_grant_set *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        set_free(s);
}

static struct auth_grant_set *set_build(const struct cfg *c, const struct store_grant *rows,
                                        size_t n_rows)
{
    struct auth_grant_set *s = gw_xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    size_t cap = n_rows;
    for (size_t i = 0; i < c->n_namespaces; i++)
        cap += c->namespaces[i].n_members;
    s->v = gw_xcalloc(cap + 1, sizeof(*s->v));
    for (size_t i = 0; i < c->n_namespaces; i++) {
        const struct cfg_namespace *ns = &c->namespaces[i];
        for (size_t k = 0; k < ns->n_members; k++)
            s->v[s->n++] = (struct grant){.tenant = gw_xstrdup(c->tenant_id),
                                          .ns = gw_xstrdup(ns->name),
                                          .value = gw_xstrdup(ns->members[k].value),
                                          .created_by = gw_xstrdup("config"),
                                          .kind = ns->members[k].kind,
                                          .from_config = true};
    }
    for (size_t i = 0; i < n_rows; i++) {
        enum cfg_member_kind kind;
        if (!cfg_member_kind_parse(rows[i].kind, &kind))
            continue; /* written by a newer binary: ignored, never widened */
        s->v[s->n++] = (struct grant){.tenant = gw_xstrdup(rows[i].tenant),
                                      .ns = gw_xstrdup(rows[i].ns),
                                      .value = gw_xstrdup(rows[i].value),
                                      .created_by = gw_xstrdup(
                                          rows[i].created_by ? rows[i].created_by : ""),
                                      .kind = kind,
                                      .created_ms = rows[i].created_ms};
    }
    qsort(s->v, s->n, sizeof(*s->v), grant_cmp);
    s->teams = gw_xcalloc(c->n_teams + 1, sizeof(*s->teams));
    for (size_t i = 0; i < c->n_teams; i++)
        if (c->teams[i].org_unit)
            s->teams[s->n_teams++] = (struct team_ou){gw_xstrdup(c->teams[i].id),
                                                      gw_xstrdup(c->teams[i].org_unit)};
    return s;
}

/* The registry's current set is replaced under the lock; readers take a reference. */
static void set_swap(struct auth_grants *g, struct auth_grant_set *s)
{
    struct auth_grant_set *old = g->cur;
    g->cur = s;
    auth_grant_set_unref(old);
}

/* --- registry --------------------------------------------------------------------------- */

gw_err auth_grants_open(struct store *st, const struct cfg *c, struct auth_grants **out)
{
    struct auth_grants *g = gw_xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    g->st = st;
    gw_err rc = store_grant_list(st, &g->rows, &g->n_rows);
    if (rc != GW_OK) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return rc;
    }
    g->cfg = cfg_ref((struct cfg *)c);
    g->cur = set_build(c, g->rows, g->n_rows);
    *out = g;
    return GW_OK;
}

/* Another node added or removed a member ("grants"), or notifications may have been missed
 * (""): the run-time members as the store has them now. */
static void on_identity(void *arg, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(ch);
    struct auth_grants *g = arg;
    if (*payload && strcmp(payload, "grants") != 0)
        return;
    struct store_grant *rows = NULL;
    size_t n = 0;
    /* read without the lock: after a change made here meanwhile, read again (see tokens) */
    for (int attempt = 0;; attempt++) {
        unsigned seen = atomic_load(&g->changes);
        bool failed = store_grant_list(g->st, &rows, &n) != GW_OK;
        atomic_store(&g->stale, failed);
        if (failed) {
            gw_warn("grants: changed on another node, but the store cannot be read (again "
                    "in 1 s)");
            return;
        }
        pthread_mutex_lock(&g->lock);
        if (atomic_load(&g->changes) == seen || attempt == 8)
            break;
        pthread_mutex_unlock(&g->lock);
        store_grant_list_free(rows, n);
    }
    store_grant_list_free(g->rows, g->n_rows);
    g->rows = rows;
    g->n_rows = n;
    set_swap(g, set_build(g->cfg, g->rows, g->n_rows));
    pthread_mutex_unlock(&g->lock);
}

void auth_grants_retry_stale(struct auth_grants *g)
{
    if (atomic_exchange(&g->stale, false))
        on_identity(g, SHARED_IDENTITY, "");
}

void auth_grants_share(struct auth_grants *g, struct shared *s)
{
    if (g->shared)
        shared_unsubscribe(g->shared, on_identity, g);
    g->shared = s;
    if (s)
        shared_subscribe(s, SHARED_IDENTITY, on_identity, g);
}

static void share_change(struct auth_grants *g)
{
    if (g->shared && shared_publish(g->shared, SHARED_IDENTITY, "grants") != GW_OK)
        gw_warn("grants: changed here; the other nodes could not be told (Redis unreachable)");
}

void auth_grants_close(struct auth_grants *g)
{
    if (!g)
        return;
    auth_grants_share(g, NULL);
    auth_grant_set_unref(g->cur);
    store_grant_list_free(g->rows, g->n_rows);
    cfg_unref(g->cfg);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void auth_grants_reload(struct auth_grants *g, const struct cfg *c)
{
    pthread_mutex_lock(&g->lock);
    struct cfg *old = g->cfg;
    g->cfg = cfg_ref((struct cfg *)c);
    set_swap(g, set_build(c, g->rows, g->n_rows));
    pthread_mutex_unlock(&g->lock);
    cfg_unref(old);
}

struct auth_grant_set *auth_grants_current(struct auth_grants *g)
{
    pthread_mutex_lock(&g->lock);
    struct auth_grant_set *s = g->cur;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&g->lock);
    return s;
}

static void unref_cleanup(void *arg)
{
    auth_grant_set_unref(arg);
}

void auth_principal_attach_grants(struct auth_principal *p, struct auth_grants *g,
                                  struct gw_pool *pool)
{
    if (!p || p->grants)
        return;
    struct auth_grant_set *s = auth_grants_current(g);
    gw_pool_cleanup_add(pool, unref_cleanup, s);
    p->grants = s;
}

/* --- matching --------------------------------------------------------------------------- */

/* org unit a equals b or is an ancestor of it ("eng" covers "eng" and "eng/platform"). */
static bool ou_covers(const char *a, const char *b)
{
    size_t n = strlen(a);
    return b && strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static bool group_matches(const char *pattern, const char *group)
{
    return strpbrk(pattern, "*?[") ? fnmatch(pattern, group, 0) == 0 : !strcmp(pattern, group);
}

static bool member_matches(const struct grant *m, const struct auth_principal *p)
{
    switch (m->kind) {
    case CFG_MEMBER_ORG_UNIT:
        return ou_covers(m->value, p->org_unit);
    case CFG_MEMBER_TEAM:
        return p->team && !strcmp(m->value, p->team);
    case CFG_MEMBER_GROUP:
        for (size_t i = 0; i < p->n_groups; i++)
            if (group_matches(m->value, p->groups[i]))
                return true;
        return false;
    case CFG_MEMBER_USER:
        return (p->user && !strcmp(m->value, p->user)) || (p->email && !strcmp(m->value, p->email));
    default:
        return false;
    }
}

static const char *team_org_unit(const struct auth_grant_set *s, const char *team)
{
    for (size_t i = 0; i < s->n_teams; i++)
        if (!strcmp(s->teams[i].team, team))
            return s->teams[i].org_unit;
    return NULL;
}

/* Is the member inside org unit ou's subtree (an org_admin's authority)? */
static bool member_in_subtree(const struct auth_grant_set *s, enum cfg_member_kind kind,
                              const char *value, const char *ou)
{
    if (kind == CFG_MEMBER_ORG_UNIT)
        return ou_covers(ou, value);
    if (kind == CFG_MEMBER_TEAM)
        return ou_covers(ou, team_org_unit(s, value));
    return false;
}

static bool is_role(const struct auth_principal *p, const char *role)
{
    return p->role && !strcmp(p->role, role);
}

/* The first grant of (tenant, ns), or NULL; they are contiguous. */
static const struct grant *first_of(const struct auth_grant_set *s, const char *tenant,
                                    const char *ns, size_t *count)
{
    struct grant key = {.tenant = (char *)tenant, .ns = (char *)ns};
    const struct grant *hit = bsearch(&key, s->v, s->n, sizeof(*s->v), grant_cmp);
    *count = 0;
    if (!hit)
        return NULL;
    while (hit > s->v && grant_cmp(hit - 1, &key) == 0)
        hit--;
    const struct grant *end = hit;
    while (end < s->v + s->n && grant_cmp(end, &key) == 0)
        end++;
    *count = (size_t)(end - hit);
    return hit;
}

bool auth_reaches(const struct auth_principal *p, const char *ns)
{
    if (!p->perms)
        return true; /* an ownerless token: its channel scopes decide */
    if (is_role(p, "enterprise_admin"))
        return true;
    const struct auth_grant_set *s = p->grants;
    if (!s)
        return false;
    size_t n;
    const struct grant *g = first_of(s, p->tenant, ns, &n);
    bool org_admin = is_role(p, "org_admin") && p->org_unit;
    for (size_t i = 0; i < n; i++)
        if (member_matches(&g[i], p) ||
            (org_admin && member_in_subtree(s, g[i].kind, g[i].value, p->org_unit)))
            return true;
    return false;
}

void auth_reach_explain(const struct auth_principal *p, const char *ns, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "no grant of namespace %s to %s", ns,
                                  p->user ? p->user : p->actor);
    const char *parts[][2] = {{"team", p->team}, {"org unit", p->org_unit}};
    for (size_t i = 0; i < 2 && len < cap; i++)
        if (parts[i][1])
            len += (size_t)snprintf(out + len, cap - len, ", %s %s", parts[i][0], parts[i][1]);
    for (size_t i = 0; i < p->n_groups && i < 4 && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : ", groups ", p->groups[i]);
    if (len < cap)
        snprintf(out + len, cap - len,
                 " (an administrator can add one: openclaw namespaces "
                 "grant %s --%s %s)",
                 ns, p->team ? "team" : "user",
                 p->team   ? p->team
                 : p->user ? p->user
                           : p->actor);
}

/* --- listing ---------------------------------------------------------------------------- */

gw_err auth_grants_members(const struct auth_grant_set *s, const char *tenant, const char *ns,
                           struct gw_pool *pool, struct auth_member_info **out, size_t *n)
{
    size_t count;
    const struct grant *g = first_of(s, tenant, ns, &count);
    struct auth_member_info *v = gw_pool_calloc(pool, (count + 1) * sizeof(*v));
    for (size_t i = 0; i < count; i++)
        v[i] = (struct auth_member_info){.kind = g[i].kind,
                                         .value = gw_pool_strdup(pool, g[i].value),
                                         .source = g[i].from_config ? "config" : "api",
                                         .created_by = gw_pool_strdup(pool, g[i].created_by),
                                         .created_ms = g[i].created_ms};
    *out = v;
    *n = count;
    return GW_OK;
}

size_t auth_grants_namespaces(const struct auth_grant_set *s, const char *tenant,
                              struct gw_pool *pool, const char ***out)
{
    const char **v = gw_pool_calloc(pool, (s->n + 1) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].tenant, tenant) && (n == 0 || strcmp(v[n - 1], s->v[i].ns) != 0))
            v[n++] = s->v[i].ns;
    *out = v;
    return n;
}

/* --- changes ---------------------------------------------------------------------------- */

gw_err auth_grant_check(const struct auth_principal *caller, const char *ns,
                        enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap)
{
    if (!cfg_name_valid(ns)) {
        snprintf(msg, msgcap,
                 "namespace must be 1-63 characters of [a-z0-9_-] starting with a "
                 "letter or digit");
        return GW_EINVAL;
    }
    if (!cfg_member_valid(kind, value)) {
        snprintf(msg, msgcap, "%s must be %s", cfg_member_kind_name(kind), cfg_member_rule(kind));
        return GW_EINVAL;
    }
    if (!auth_allows(caller, "namespaces:write")) {
        snprintf(msg, msgcap, "missing scope namespaces:write");
        return GW_EFORBIDDEN;
    }
    /* nobody grants a namespace beyond its own reach ... */
    if (!auth_allows_namespace(caller, ns)) {
        auth_deny_reason(caller, ns, NULL, msg, msgcap);
        return GW_EFORBIDDEN;
    }
    if (is_role(caller, "enterprise_admin") || !caller->perms)
        return GW_OK;
    /* ... and below enterprise level only to members inside its own authority */
    if (is_role(caller, "org_admin") && caller->org_unit && caller->grants &&
        member_in_subtree(caller->grants, kind, value, caller->org_unit))
        return GW_OK;
    snprintf(msg, msgcap, "%s %s is outside your authority: %s", cfg_member_kind_name(kind), value,
             is_role(caller, "org_admin")
                 ? "an org_admin grants only to org units and teams of its own subtree"
                 : "only administrators grant namespaces");
    return GW_EFORBIDDEN;
}

static bool set_has(const struct auth_grant_set *s, const char *tenant, const char *ns,
                    enum cfg_member_kind kind, const char *value, bool *from_config)
{
    size_t n;
    const struct grant *g = first_of(s, tenant, ns, &n);
    for (size_t i = 0; i < n; i++)
        if (g[i].kind == kind && !strcmp(g[i].value, value)) {
            *from_config = g[i].from_config;
            return true;
        }
    return false;
}

gw_err auth_grant_add(struct auth_grants *g, const struct auth_principal *caller, const char *ns,
                      enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap)
{
    struct store_grant row = {.tenant = (char *)caller->tenant,
                              .ns = (char *)ns,
                              .kind = (char *)cfg_member_kind_name(kind),
                              .value = (char *)value,
                              .created_by = (char *)caller->actor,
                              .created_ms = gw_now_ms()};
    pthread_mutex_lock(&g->lock);
    bool from_config = false;
    gw_err rc = set_has(g->cur, caller->tenant, ns, kind, value, &from_config)
                    ? GW_ECONFLICT
                    : store_grant_insert(g->st, &row);
    if (rc == GW_OK) {
        atomic_fetch_add(&g->changes, 1);
        g->rows = gw_xrealloc(g->rows, (g->n_rows + 1) * sizeof(*g->rows));
        g->rows[g->n_rows++] = (struct store_grant){.tenant = gw_xstrdup(row.tenant),
                                                    .ns = gw_xstrdup(ns),
                                                    .kind = gw_xstrdup(row.kind),
                                                    .value = gw_xstrdup(value),
                                                    .created_by = gw_xstrdup(row.created_by),
                                                    .created_ms = row.created_ms};
        set_swap(g, set_build(g->cfg, g->rows, g->n_rows));
    } else if (rc == GW_ECONFLICT) {
        snprintf(msg, msgcap, "%s %s is already a member of namespace %s%s",
                 cfg_member_kind_name(kind), value, ns, from_config ? " (in gateway.yaml)" : "");
    } else {
        snprintf(msg, msgcap, "the grant could not be stored");
    }
    pthread_mutex_unlock(&g->lock);
    if (rc == GW_OK)
        share_change(g);
    return rc;
}

gw_err auth_grant_remove(struct auth_grants *g, const struct auth_principal *caller, const char *ns,
                         enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap)
{
    const char *kname = cfg_member_kind_name(kind);
    pthread_mutex_lock(&g->lock);
    bool from_config = false;
    gw_err rc = GW_OK;
    if (!set_has(g->cur, caller->tenant, ns, kind, value, &from_config)) {
        snprintf(msg, msgcap, "%s %s is not a member of namespace %s", kname, value, ns);
        rc = GW_ENOTFOUND;
    } else if (from_config) {
        snprintf(msg, msgcap,
                 "%s %s is a member of namespace %s in gateway.yaml: edit the file "
                 "and reload",
                 kname, value, ns);
        rc = GW_ECONFLICT;
    } else if ((rc = store_grant_delete(g->st, caller->tenant, ns, kname, value)) != GW_OK) {
        snprintf(msg, msgcap, "the grant could not be removed");
    } else {
        atomic_fetch_add(&g->changes, 1);
        for (size_t i = 0; i < g->n_rows; i++) {
            struct store_grant *r = &g->rows[i];
            if (!strcmp(r->tenant, caller->tenant) && !strcmp(r->ns, ns) &&
                !strcmp(r->kind, kname) && !strcmp(r->value, value)) {
                store_grant_release(r);
                g->rows[i] = g->rows[--g->n_rows];
                break;
            }
        }
        set_swap(g, set_build(g->cfg, g->rows, g->n_rows));
    }
    pthread_mutex_unlock(&g->lock);
    if (rc == GW_OK)
        share_change(g);
    return rc;
}
