/* SPDX-License-Identifier: MIT
 * config_load.c — cfg_load: gateway.yaml into a validated snapshot.
 *
 * Reads the file (at most 1 MiB), builds the YAML tree, then runs the section loaders in
 * dependency order rather than file order: roles before the users and group mappings that name
 * them, users before the tokens they own, models before the agents that use them, the data
 * directory before every relative path. Each loader reports all of its problems; the snapshot
 * is returned only when there were none, so a failed reload leaves the running configuration
 * untouched.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config_int.h"

#include <errno.h>

enum {
    TOP_GATEWAY,
    TOP_TENANT,
    TOP_IDENTITY,
    TOP_AUTH,
    TOP_RBAC,
    TOP_AUDIT,
    TOP_POLICY,
    TOP_NAMESPACES,
    TOP_AGENTS,
    TOP_MODELS,
    TOP_COSTS,
    TOP_SSO,
    TOP_TENANTS,
    TOP_EGRESS,
    TOP_STORE,
    TOP_CLUSTER,
    TOP__N
};
const char *const cfg_keys_top[] = {
    [TOP_GATEWAY] = "gateway",
    [TOP_TENANT] = "tenant",
    [TOP_IDENTITY] = "identity",
    [TOP_AUTH] = "auth",
    [TOP_RBAC] = "rbac",
    [TOP_AUDIT] = "audit",
    [TOP_POLICY] = "policy",
    [TOP_NAMESPACES] = "namespaces",
    [TOP_AGENTS] = "agents",
    [TOP_MODELS] = "models",
    [TOP_COSTS] = "costManagement",
    [TOP_SSO] = "sso",
    [TOP_TENANTS] = "tenants",
    [TOP_EGRESS] = "egress",
    [TOP_STORE] = "store",
    [TOP_CLUSTER] = "cluster",
    [TOP__N] = NULL,
};

static bool read_file(const char *path, struct cfg_errlist *errs, char **data, size_t *len)
{
    gw_err rc = gw_file_read(path, CFG_MAX_FILE_BYTES, data, len);
    switch (rc) {
    case GW_OK:
        return true;
    case GW_ETOOBIG:
        cfg_err(errs, 0, "file is larger than 1 MiB (%zu bytes)", CFG_MAX_FILE_BYTES);
        break;
    case GW_ENOTFOUND:
        cfg_err(errs, 0, "cannot read: no such file");
        break;
    default:
        cfg_err(errs, 0, "cannot read: %s", errno ? strerror(errno) : "not a regular file");
        break;
    }
    return false;
}

gw_err cfg_load(const char *path, const struct cfg_overrides *ov, struct cfg **out,
                struct cfg_errors *errs)
{
    struct cfg_errlist el;
    struct cfg_node *root = NULL;
    struct cfg *c = NULL;
    char *data = NULL;
    size_t len = 0;
    static const struct cfg_overrides none = {0};

    *out = NULL;
    if (errs)
        *errs = (struct cfg_errors){0};
    cfg_errlist_init(&el, path ? path : "<config>");
    if (!path) {
        cfg_err(&el, 0, "no configuration file given");
        goto out;
    }
    errno = 0;
    if (!read_file(path, &el, &data, &len))
        goto out;
    if (!cfg_yaml_parse(data, len, &el, &root))
        goto out;

    cfg_seed_reshape(&el, root); /* seed 001's auth.oidc is sso.oidc, and so on */
    const struct cfg_node *top[TOP__N];
    if (!cfg_map_slots(&el, root, "the top level", cfg_keys_top, top, NULL) && root &&
        !cfg_is_null(root))
        goto out; /* the document is a list or a scalar: nothing else can be checked */

    c = cfg_new_defaults();
    char *real = realpath(path, NULL); /* reloads must find the file even after a chdir */
    c->path = real ? real : gw_xstrdup(path);

    struct cfg_loader L = {.errs = &el, .c = c, .ov = ov ? ov : &none, .sso = &c->sso};
    cfg_load_gateway(&L, top[TOP_GATEWAY]);
    cfg_load_tenant(&L, top[TOP_TENANT]);
    cfg_load_rbac(&L, top[TOP_RBAC]);
    cfg_load_identity(&L, top[TOP_IDENTITY]);
    cfg_load_auth(&L, top[TOP_AUTH]);
    cfg_load_audit(&L, top[TOP_AUDIT]);
    cfg_load_policy(&L, top[TOP_POLICY]);
    cfg_load_models(&L, top[TOP_MODELS]); /* before agents, which name models */
    cfg_load_agents(&L, top[TOP_NAMESPACES], top[TOP_AGENTS]);
    cfg_load_costs(&L, top[TOP_COSTS]);
    cfg_load_sso(&L, top[TOP_SSO]);
    cfg_load_tenants(&L, top[TOP_TENANTS]);
    cfg_load_egress(&L, top[TOP_EGRESS]);
    cfg_load_store(&L, top[TOP_STORE]);
    cfg_load_cluster(&L, top[TOP_CLUSTER]);

out:
    cfg_node_free(root);
    if (data) {
        explicit_bzero(data, len); /* the file may hold token secrets */
        free(data);
    }
    if (el.n > 0 || el.truncated) {
        cfg_errlist_finish(&el, errs);
        cfg_free(c);
        return GW_ECONFIG;
    }
    cfg_errlist_finish(&el, NULL);
    *out = c;
    return GW_OK;
}
