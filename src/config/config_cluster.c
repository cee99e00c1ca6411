/* SPDX-License-Identifier: MIT
 * config_cluster.c — the cluster section (issue 15): whether this node shares its state with
 * others through Redis, its name among them, and how to reach Redis.
 *
 * cluster: {enabled, node_id, redis: {url, tls, ca_file}, session_store}; seed 001's
 * cluster.nodeId is an alias of node_id and its top-level sessionStore is read as
 * cluster.session_store (config_seed.c). The URL may carry a password (take it from ${ENV}):
 * it is never quoted in messages. session_store: redis needs the cluster on: sessions stay in
 * the store, their revocations travel through Redis (shared/README.md).
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <unistd.h>

enum { CL_ENABLED, CL_NODE_ID, CL_REDIS, CL_SESSION_STORE, CL__N };
const char *const cfg_keys_cluster[] = {
    [CL_ENABLED] = "enabled", [CL_NODE_ID] = "node_id",
    [CL_REDIS] = "redis",     [CL_SESSION_STORE] = "session_store",
    [CL__N] = NULL,
};

enum { RD_URL, RD_TLS, RD_CA_FILE, RD__N };
const char *const cfg_keys_cluster_redis[] = {
    [RD_URL] = "url",
    [RD_TLS] = "tls",
    [RD_CA_FILE] = "ca_file",
    [RD__N] = NULL,
};

static bool node_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_' || s[n] == '.'))
            return false;
    return n > 0 && n <= 64;
}

static bool redis_url_ok(const char *s)
{
    if (strncmp(s, "redis://", 8) != 0 && strncmp(s, "rediss://", 9) != 0)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

char *cfg_node_id_default(void)
{
    char host[65] = "";
    gethostname(host, sizeof(host) - 1);
    return gw_xstrdup(node_id_ok(host) ? host : "node");
}

void cfg_load_cluster(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_cluster *cl = &L->c->cluster;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[CL__N] = {0}, *r[RD__N] = {0};
    int line = n ? n->line : 0;
    if (cfg_map_slots(e, n, "cluster", cfg_keys_cluster, v, NULL)) {
        cfg_get_bool(e, v[CL_ENABLED], "cluster.enabled", &cl->enabled);
        if (cfg_get_str(e, v[CL_NODE_ID], "cluster.node_id", &cl->node_id) && cl->node_id &&
            !node_id_ok(cl->node_id))
            cfg_err(e, v[CL_NODE_ID]->line,
                    "cluster.node_id must be 1 to 64 letters, digits, '-', '_' or '.'");
        if (cfg_map_slots(e, v[CL_REDIS], "cluster.redis", cfg_keys_cluster_redis, r, NULL)) {
            if (cfg_get_str(e, r[RD_URL], "cluster.redis.url", &cl->redis_url) && cl->redis_url &&
                !redis_url_ok(cl->redis_url))
                cfg_err(e, r[RD_URL]->line,
                        "cluster.redis.url must be a redis:// or rediss:// "
                        "URL (redis://[[user]:password@]host[:port][/db])");
            cfg_get_bool(e, r[RD_TLS], "cluster.redis.tls", &cl->redis_tls);
            cfg_get_str(e, r[RD_CA_FILE], "cluster.redis.ca_file", &cl->redis_ca_file);
        }
    }
    if (cl->enabled && !cl->redis_url)
        cfg_err(e, line, "cluster.enabled needs cluster.redis.url");
    if (!cl->node_id)
        cl->node_id = cfg_node_id_default();
    char *store = NULL;
    if (cfg_get_str(e, v[CL_SESSION_STORE], "cluster.session_store", &store) && store) {
        if (strcmp(store, "redis") != 0)
            cfg_err(e, v[CL_SESSION_STORE]->line,
                    "cluster.session_store must be \"redis\" (sessions are kept in the "
                    "gateway's store; with redis their revocations are shared)");
        else if (!cl->enabled)
            cfg_err(e, v[CL_SESSION_STORE]->line,
                    "cluster.session_store: redis needs cluster.enabled: true and "
                    "cluster.redis.url");
    }
    free(store);
}

void cfg_cluster_free(struct cfg_cluster *cl)
{
    free(cl->node_id);
    if (cl->redis_url)
        explicit_bzero(cl->redis_url, strlen(cl->redis_url));
    free(cl->redis_url);
    free(cl->redis_ca_file);
}
