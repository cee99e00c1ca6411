/* SPDX-License-Identifier: MIT
 * ns_registry.c — agents from the configuration and from the store, and namespace lookup.
 *
 * The registry is small and read-mostly: a flat array under a read/write lock. A reload
 * replaces the configuration agents and keeps the run-time ones.
 */
#include "base/prelude.h"
#include "ns/ns_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "shared/shared.h"
#include "store/store.h"

static void agent_release(struct ns_agent *a)
{
    free(a->tenant);
    free(a->name);
    free(a->ns);
    free(a->agent);
    free(a->channel);
    free(a->memory_path);
    free(a->description);
}

static void push(struct ns_registry *reg, const char *tenant, const char *name, const char *channel,
                 const char *memory_path, const char *description, bool from_config)
{
    const char *slash = strchr(name, '/');
    if (!slash)
        return;
    if (reg->n == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 32;
        reg->agents = gw_xrealloc(reg->agents, reg->cap * sizeof(*reg->agents));
    }
    struct ns_agent *a = &reg->agents[reg->n++];
    a->tenant = gw_xstrdup(tenant);
    a->name = gw_xstrdup(name);
    a->ns = gw_xstrndup(name, (size_t)(slash - name));
    a->agent = gw_xstrdup(slash + 1);
    a->channel = gw_xstrdup(channel ? channel : name);
    a->memory_path = gw_xstrdup(memory_path);
    a->description = description ? gw_xstrdup(description) : NULL;
    a->from_config = from_config;
}

static void add_config_agents(struct ns_registry *reg, const struct cfg *c)
{
    for (size_t i = 0; i < c->n_agents; i++) {
        const struct cfg_agent *a = &c->agents[i];
        push(reg, c->tenant_id, a->name, a->channel, a->memory_path, a->description, true);
    }
}

static char *memory_root(const struct ns_registry *reg, const char *tenant)
{
    if (strcmp(tenant, reg->cfg->tenant_id) == 0)
        return gw_xasprintf("%s/memory", reg->data_dir);
    return gw_xasprintf("%s/tenants/%s/memory", reg->data_dir, tenant);
}

/* A run-time agent's memory is <memory root>/<ns>/<agent>.md under this node's data directory,
 * whichever node registered it (the stored path names that node's). */
static void add_store_agents(struct ns_registry *reg, const struct store_agent *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *root = memory_root(reg, list[i].tenant);
        char *mem = gw_xasprintf("%s/%s.md", root, list[i].name);
        push(reg, list[i].tenant, list[i].name, list[i].channel, mem, list[i].description, false);
        free(mem);
        free(root);
    }
}

gw_err ns_registry_open(struct store *st, const struct cfg *c, struct ns_registry **out)
{
    struct ns_registry *reg = gw_xcalloc(1, sizeof(*reg));
    pthread_rwlock_init(&reg->lock, NULL);
    reg->st = st;
    reg->cfg = cfg_ref((struct cfg *)c);
    reg->data_dir = gw_xstrdup(c->data_dir);
    reg->memory_in_store = c->cluster.enabled; /* a change takes a restart, like the cluster */
    add_config_agents(reg, c);
    struct store_agent *list = NULL;
    size_t n = 0;
    gw_err rc = store_agent_list(st, &list, &n);
    if (rc != GW_OK) {
        ns_registry_close(reg);
        return rc;
    }
    add_store_agents(reg, list, n);
    store_agent_list_free(list, n);
    *out = reg;
    return GW_OK;
}

/* Another node registered or deleted an agent ("agents"), or notifications may have been
 * missed (""): the run-time agents as the store has them now, after the configuration's. */
static void on_identity(void *arg, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(ch);
    struct ns_registry *reg = arg;
    if (*payload && strcmp(payload, "agents") != 0)
        return;
    struct store_agent *list = NULL;
    size_t n = 0;
    /* read without the lock: after a change made here meanwhile, read again (see tokens) */
    for (int attempt = 0;; attempt++) {
        unsigned seen = atomic_load(&reg->changes);
        bool failed = store_agent_list(reg->st, &list, &n) != GW_OK;
        atomic_store(&reg->stale, failed);
        if (failed) {
            gw_warn("agents: changed on another node, but the store cannot be read (again "
                    "in 1 s)");
            return;
        }
        pthread_rwlock_wrlock(&reg->lock);
        if (atomic_load(&reg->changes) == seen || attempt == 8)
            break;
        pthread_rwlock_unlock(&reg->lock);
        store_agent_list_free(list, n);
    }
    size_t kept = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->agents[i].from_config)
            reg->agents[kept++] = reg->agents[i];
        else
            agent_release(&reg->agents[i]);
    }
    reg->n = kept;
    add_store_agents(reg, list, n);
    pthread_rwlock_unlock(&reg->lock);
    store_agent_list_free(list, n);
}

void ns_registry_retry_stale(struct ns_registry *reg)
{
    if (atomic_exchange(&reg->stale, false))
        on_identity(reg, SHARED_IDENTITY, "");
}

void ns_registry_share(struct ns_registry *reg, struct shared *s)
{
    if (reg->shared)
        shared_unsubscribe(reg->shared, on_identity, reg);
    reg->shared = s;
    if (s)
        shared_subscribe(s, SHARED_IDENTITY, on_identity, reg);
}

static void share_change(struct ns_registry *reg)
{
    if (reg->shared && shared_publish(reg->shared, SHARED_IDENTITY, "agents") != GW_OK)
        gw_warn("agents: changed here; the other nodes could not be told (Redis unreachable)");
}

void ns_registry_close(struct ns_registry *reg)
{
    if (!reg)
        return;
    ns_registry_share(reg, NULL);
    for (size_t i = 0; i < reg->n; i++)
        agent_release(&reg->agents[i]);
    free(reg->agents);
    free(reg->data_dir);
    cfg_unref(reg->cfg);
    pthread_rwlock_destroy(&reg->lock);
    free(reg);
}

gw_err ns_registry_reload(struct ns_registry *reg, const struct cfg *c)
{
    pthread_rwlock_wrlock(&reg->lock);
    size_t kept = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->agents[i].from_config)
            agent_release(&reg->agents[i]);
        else
            reg->agents[kept++] = reg->agents[i];
    }
    reg->n = kept;
    /* config agents first so that they win lookups over a run-time agent of the same name */
    struct ns_agent *runtime = reg->agents;
    size_t n_runtime = reg->n;
    reg->agents = NULL;
    reg->n = reg->cap = 0;
    add_config_agents(reg, c);
    for (size_t i = 0; i < n_runtime; i++) {
        if (reg->n == reg->cap) {
            reg->cap = reg->cap ? reg->cap * 2 : 32;
            reg->agents = gw_xrealloc(reg->agents, reg->cap * sizeof(*reg->agents));
        }
        reg->agents[reg->n++] = runtime[i];
    }
    free(runtime);
    struct cfg *old = reg->cfg;
    reg->cfg = cfg_ref((struct cfg *)c);
    pthread_rwlock_unlock(&reg->lock);
    cfg_unref(old);
    return GW_OK;
}

size_t ns_registry_count(struct ns_registry *reg)
{
    pthread_rwlock_rdlock(&reg->lock);
    size_t n = reg->n;
    pthread_rwlock_unlock(&reg->lock);
    return n;
}

static void info_fill(struct gw_pool *pool, const struct ns_agent *a, struct ns_agent_info *o)
{
    o->name = gw_pool_strdup(pool, a->name);
    o->ns = gw_pool_strdup(pool, a->ns);
    o->agent = gw_pool_strdup(pool, a->agent);
    o->channel = gw_pool_strdup(pool, a->channel);
    o->memory_path = gw_pool_strdup(pool, a->memory_path);
    o->description = gw_pool_strdup(pool, a->description);
    o->source = a->from_config ? "config" : "api";
}

static const struct ns_agent *find(struct ns_registry *reg, const char *tenant, const char *ns,
                                   const char *agent)
{
    for (size_t i = 0; i < reg->n; i++) {
        const struct ns_agent *a = &reg->agents[i];
        if (strcmp(a->ns, ns) == 0 && strcmp(a->agent, agent) == 0 &&
            strcmp(a->tenant, tenant) == 0)
            return a;
    }
    return NULL;
}

/* Where a tenant's memory documents live: the primary tenant's in <data>/memory (as before
 * tenants existed), every other tenant's in <data>/tenants/<id>/memory, so two tenants with
 * the same namespace and agent names never share a file. */
gw_err ns_agent_find(struct ns_registry *reg, const char *tenant, const char *ns, const char *agent,
                     struct gw_pool *pool, struct ns_agent_info *out)
{
    pthread_rwlock_rdlock(&reg->lock);
    const struct ns_agent *a = find(reg, tenant, ns, agent);
    if (a)
        info_fill(pool, a, out);
    pthread_rwlock_unlock(&reg->lock);
    return a ? GW_OK : GW_ENOTFOUND;
}

gw_err ns_agent_check_register(struct ns_registry *reg, const char *tenant, const char *ns,
                               const char *agent, char *msg, size_t msgcap)
{
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        snprintf(msg, msgcap,
                 "agent name must be <namespace>/<agent>, each 1-63 characters of [a-z0-9_-] "
                 "starting with a letter or digit");
        return GW_EINVAL;
    }
    if (strcmp(agent, NS_SHARED) == 0) {
        snprintf(msg, msgcap, "'%s' is reserved for the namespace's shared memory", NS_SHARED);
        return GW_EINVAL;
    }
    pthread_rwlock_rdlock(&reg->lock);
    bool exists = find(reg, tenant, ns, agent) != NULL;
    pthread_rwlock_unlock(&reg->lock);
    if (exists) {
        snprintf(msg, msgcap, "agent %s/%s exists", ns, agent);
        return GW_ECONFLICT;
    }
    return GW_OK;
}

gw_err ns_agent_register(struct ns_registry *reg, const char *tenant, const char *ns,
                         const char *agent, const char *description, const char *created_by,
                         struct gw_pool *pool, struct ns_agent_info *out)
{
    char *name = gw_xasprintf("%s/%s", ns, agent);
    pthread_rwlock_wrlock(&reg->lock); /* reg->cfg (memory_root) may change on reload */
    char *root = memory_root(reg, tenant);
    char *mem = gw_xasprintf("%s/%s/%s.md", root, ns, agent);
    free(root);
    struct store_agent row = {
        .tenant = (char *)tenant,
        .name = name,
        .channel = name,
        .memory_path = mem,
        .description = (char *)description,
        .created_by = (char *)created_by,
        .created_ms = gw_now_ms(),
    };
    gw_err rc = find(reg, tenant, ns, agent) ? GW_ECONFLICT : store_agent_insert(reg->st, &row);
    if (rc == GW_OK) {
        atomic_fetch_add(&reg->changes, 1);
        push(reg, tenant, name, name, mem, description, false);
        info_fill(pool, &reg->agents[reg->n - 1], out);
    }
    pthread_rwlock_unlock(&reg->lock);
    free(name);
    free(mem);
    if (rc == GW_OK)
        share_change(reg);
    return rc;
}

gw_err ns_agent_delete(struct ns_registry *reg, const char *tenant, const char *ns,
                       const char *agent)
{
    pthread_rwlock_wrlock(&reg->lock);
    gw_err rc = GW_ENOTFOUND;
    for (size_t i = 0; i < reg->n; i++) {
        struct ns_agent *a = &reg->agents[i];
        if (strcmp(a->ns, ns) != 0 || strcmp(a->agent, agent) != 0 ||
            strcmp(a->tenant, tenant) != 0)
            continue;
        if (a->from_config) {
            rc = GW_ECONFLICT;
            break;
        }
        rc = store_agent_delete(reg->st, tenant, a->name);
        if (rc != GW_OK)
            break;
        atomic_fetch_add(&reg->changes, 1);
        if (ns_memory_remove(reg, a->memory_path) != GW_OK)
            gw_warn("agents: %s/%s deleted, but its memory document could not be removed", ns,
                    agent);
        agent_release(a);
        memmove(a, a + 1, (reg->n - i - 1) * sizeof(*a));
        reg->n--;
        break;
    }
    pthread_rwlock_unlock(&reg->lock);
    if (rc == GW_OK)
        share_change(reg);
    return rc;
}

gw_err ns_registry_conflicts(struct ns_registry *reg, const struct cfg *c, char *msg, size_t msgcap)
{
    gw_err rc = GW_OK;
    pthread_rwlock_rdlock(&reg->lock);
    for (size_t i = 0; i < c->n_agents && rc == GW_OK; i++)
        for (size_t k = 0; k < reg->n && rc == GW_OK; k++) {
            const struct ns_agent *a = &reg->agents[k];
            if (!a->from_config && !strcmp(a->tenant, c->tenant_id) &&
                !strcmp(a->name, c->agents[i].name)) {
                snprintf(msg, msgcap,
                         "agents[%zu] '%s' in the configuration has the name of an "
                         "agent registered through the API (in the store); delete that one "
                         "(openclaw agents delete %s) or rename this one",
                         i, a->name, a->name);
                rc = GW_ECONFLICT;
            }
        }
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

gw_err ns_agent_list(struct ns_registry *reg, const char *tenant, const char *ns,
                     struct gw_pool *pool, struct ns_agent_info **out, size_t *n)
{
    pthread_rwlock_rdlock(&reg->lock);
    struct ns_agent_info *list = gw_pool_calloc(pool, (reg->n + 1) * sizeof(*list));
    size_t k = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const struct ns_agent *a = &reg->agents[i];
        if (strcmp(a->tenant, tenant) == 0 && (!ns || strcmp(a->ns, ns) == 0))
            info_fill(pool, a, &list[k++]);
    }
    pthread_rwlock_unlock(&reg->lock);
    *out = list;
    *n = k;
    return GW_OK;
}

gw_err ns_shared_memory_path(struct ns_registry *reg, const char *tenant, const char *ns,
                             struct gw_pool *pool, const char **path)
{
    gw_err rc = GW_ENOTFOUND;
    pthread_rwlock_rdlock(&reg->lock);
    bool primary = strcmp(tenant, reg->cfg->tenant_id) == 0;
    const struct cfg_namespace *cn = primary ? cfg_find_namespace(reg->cfg, ns) : NULL;
    if (cn) {
        *path = gw_pool_strdup(pool, cn->shared_memory_path);
        rc = GW_OK;
    } else {
        for (size_t i = 0; i < reg->n && rc != GW_OK; i++) {
            if (strcmp(reg->agents[i].ns, ns) == 0 && strcmp(reg->agents[i].tenant, tenant) == 0) {
                char *root = memory_root(reg, tenant);
                *path = gw_pool_printf(pool, "%s/%s/" NS_SHARED ".md", root, ns);
                free(root);
                rc = GW_OK;
            }
        }
    }
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

void ns_message_id(char *out, size_t cap)
{
    char hex[25];
    gw_random_hex(hex, 12);
    snprintf(out, cap, "msg_%s", hex);
}

gw_err ns_message_post(struct ns_registry *reg, const char *tenant, const char *id,
                       const char *channel, const char *sender, const char *content)
{
    struct store_message m = {.id = (char *)id,
                              .tenant = (char *)tenant,
                              .channel = (char *)channel,
                              .sender = (char *)sender,
                              .content = (char *)content,
                              .created_ms = gw_now_ms()};
    return store_message_insert(reg->st, &m);
}
