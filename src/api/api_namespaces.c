/* SPDX-License-Identifier: MIT
 * api_namespaces.c — namespaces, their members (grants), and the scope catalog.
 *
 * A namespace exists when the configuration declares it, an agent lives in it or it has a
 * member. Everyone sees the namespaces they reach; members are shown to holders of
 * namespaces:read. Adding and removing members needs namespaces:write and never reaches beyond
 * the caller's own authority (auth_grant_check); every change is audited durably first, with the
 * member list before and after.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "ns/ns.h"

#include <stdlib.h>

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t api_known_namespaces(struct api_call *c, const char ***out)
{
    const char *tenant = c->gc.p->tenant;
    const char **gv = NULL;
    size_t ng = c->gc.p->grants ? auth_grants_namespaces(c->gc.p->grants, tenant, c->r->pool, &gv)
                                : 0;
    struct ns_agent_info *agents = NULL;
    size_t na = 0;
    ns_agent_list(c->d->ns, tenant, NULL, c->r->pool, &agents, &na);
    bool primary = strcmp(tenant, c->gc.cfg->tenant_id) == 0;
    size_t nc = primary ? c->gc.cfg->n_namespaces : 0, n = 0;
    const char **v = gw_pool_calloc(c->r->pool, (ng + na + nc + 1) * sizeof(*v));
    for (size_t i = 0; i < ng; i++)
        v[n++] = gv[i];
    for (size_t i = 0; i < na; i++)
        v[n++] = agents[i].ns;
    for (size_t i = 0; i < nc; i++)
        v[n++] = c->gc.cfg->namespaces[i].name;
    qsort(v, n, sizeof(*v), str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
            v[k++] = v[i];
    *out = v;
    return k;
}

static bool known(struct api_call *c, const char *ns)
{
    const char **v = NULL;
    size_t n = api_known_namespaces(c, &v);
    return bsearch(&ns, v, n, sizeof(*v), str_cmp) != NULL;
}

json_t *api_reachable_namespaces(struct api_call *c)
{
    const char **v = NULL;
    size_t n = api_known_namespaces(c, &v);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (auth_allows_namespace(c->gc.p, v[i]))
            json_array_append_new(arr, json_string(v[i]));
    return arr;
}

/* {"org_units": [...], "teams": [...], "groups": [...], "users": [...]} of ns; with
 * config_only, just the members gateway.yaml declares. */
static json_t *members_json(struct api_call *c, const char *ns, bool config_only)
{
    json_t *by_kind[CFG_MEMBER__N], *o = json_object();
    for (int k = 0; k < CFG_MEMBER__N; k++) {
        by_kind[k] = json_array();
        json_object_set_new(o,
                            gw_pool_printf(c->r->pool, "%ss",
                                           cfg_member_kind_name((enum cfg_member_kind)k)),
                            by_kind[k]);
    }
    struct auth_member_info *m = NULL;
    size_t n = 0;
    if (c->gc.p->grants)
        auth_grants_members(c->gc.p->grants, c->gc.p->tenant, ns, c->r->pool, &m, &n);
    for (size_t i = 0; i < n; i++)
        if (!config_only || !strcmp(m[i].source, "config"))
            json_array_append_new(by_kind[m[i].kind], json_string(m[i].value));
    return o;
}

static json_t *namespace_json(struct api_call *c, const char *ns)
{
    struct ns_agent_info *agents = NULL;
    size_t na = 0;
    ns_agent_list(c->d->ns, c->gc.p->tenant, ns, c->r->pool, &agents, &na);
    json_t *names = json_array();
    for (size_t i = 0; i < na; i++)
        if (auth_allows_channel(c->gc.p, ns, agents[i].agent))
            json_array_append_new(names, json_string(agents[i].agent));
    json_t *j = json_pack("{s:s,s:o}", "name", ns, "agents", names);
    if (auth_allows(c->gc.p, "namespaces:read")) {
        json_object_set_new(j, "members", members_json(c, ns, false));
        json_object_set_new(j, "config_members", members_json(c, ns, true));
    }
    return j;
}

void api_namespaces_list(struct api_call *c)
{
    const char **v = NULL;
    size_t n = api_known_namespaces(c, &v);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (auth_allows_namespace(c->gc.p, v[i]))
            json_array_append_new(arr, namespace_json(c, v[i]));
    http_respond_json(c->r, 200, json_pack("{s:o}", "namespaces", arr));
}

/* {ns} valid, known and reached by the caller; answers and returns NULL otherwise. */
static const char *namespace_var(struct api_call *c)
{
    const char *ns = c->var[0];
    if (!cfg_name_valid(ns)) {
        http_respond_error(c->r, GW_EINVAL,
                           "namespace must be 1-63 characters of [a-z0-9_-] "
                           "starting with a letter or digit");
        return NULL;
    }
    c->gc.audit.resource = gw_pool_strdup(c->r->pool, ns);
    if (!auth_allows_namespace(c->gc.p, ns)) {
        api_deny_channel(c, ns, NULL);
        return NULL;
    }
    return ns;
}

void api_namespaces_get(struct api_call *c)
{
    const char *ns = namespace_var(c);
    if (!ns)
        return;
    if (!known(c, ns)) {
        http_respond_error(c->r, GW_ENOTFOUND, "no namespace %s", ns);
        return;
    }
    http_respond_json(c->r, 200, namespace_json(c, ns));
}

/* Exactly one member kind and its value, from a JSON body or (DELETE) the query string. */
static bool member_of(struct api_call *c, const json_t *body, enum cfg_member_kind *kind,
                      const char **value)
{
    size_t found = 0;
    for (int k = 0; k < CFG_MEMBER__N; k++) {
        const char *name = cfg_member_kind_name((enum cfg_member_kind)k);
        const char *v = body ? gw_json_str(body, name) : http_query(c->r, name);
        if (body && json_object_get(body, name) && !v)
            found = 2; /* present but not a string */
        if (v) {
            *kind = (enum cfg_member_kind)k;
            *value = v;
            found++;
        }
    }
    if (found == 1 && (!body || json_object_size(body) == 1))
        return true;
    http_respond_error(c->r, GW_EINVAL, "name exactly one member: %s",
                       body ? "{\"org_unit\"|\"team\"|\"group\"|\"user\": \"<value>\"}"
                            : "?org_unit=|team=|group=|user=<value>");
    return false;
}

static void change(struct api_call *c, bool add)
{
    const char *ns = c->var[0];
    json_t *body = NULL;
    if (add && !(body = api_json_body(c)))
        return;
    enum cfg_member_kind kind = CFG_MEMBER_USER;
    const char *value = NULL;
    char msg[512];
    if (!member_of(c, body, &kind, &value))
        goto out;
    c->gc.audit.resource = gw_pool_strdup(c->r->pool, ns);
    gw_err rc = auth_grant_check(c->gc.p, ns, kind, value, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    const char *kname = cfg_member_kind_name(kind);
    json_t *before = members_json(c, ns, false);
    json_t *after = json_deep_copy(before);
    json_t *list = json_object_get(after, gw_pool_printf(c->r->pool, "%ss", kname));
    if (add) {
        json_array_append_new(list, json_string(value));
    } else {
        for (size_t i = 0; i < json_array_size(list); i++)
            if (!strcmp(json_string_value(json_array_get(list, i)), value))
                json_array_remove(list, i--);
    }
    const char *type = add ? "namespace.member_added" : "namespace.member_removed";
    json_t *details = json_pack("{s:s,s:s,s:s,s:o,s:O}", "namespace", ns, "kind", kname, "value",
                                value, "before", before, "after", after);
    /* the outcome is checked before the durable audit: a refused change writes no event */
    bool from_config = false;
    struct auth_member_info *m = NULL;
    size_t n = 0;
    bool present = false;
    auth_grants_members(c->gc.p->grants, c->gc.p->tenant, ns, c->r->pool, &m, &n);
    for (size_t i = 0; i < n; i++)
        if (m[i].kind == kind && !strcmp(m[i].value, value)) {
            present = true;
            from_config = !strcmp(m[i].source, "config");
        }
    if (add ? present : !present || from_config) {
        json_decref(details);
        json_decref(after);
        http_respond_error(c->r, add || from_config ? GW_ECONFLICT : GW_ENOTFOUND,
                           add           ? "%s %s is already a member of namespace %s"
                           : from_config ? "%s %s is a member of namespace %s in gateway.yaml: "
                                           "edit the file and reload"
                                         : "%s %s is not a member of namespace %s",
                           kname, value, ns);
        goto out;
    }
    if (!api_audit_sync(c, type, ns, add ? 201 : 200, details)) {
        json_decref(after);
        goto out;
    }
    rc = add ? auth_grant_add(c->d->grants, c->gc.p, ns, kind, value, msg, sizeof(msg))
             : auth_grant_remove(c->d->grants, c->gc.p, ns, kind, value, msg, sizeof(msg));
    if (rc != GW_OK) {
        api_audit_failed(c);
        json_decref(after);
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    http_respond_json(c->r, add ? 201 : 200,
                      json_pack("{s:s,s:{s:s,s:s},s:o}", "namespace", ns, "member", "kind", kname,
                                "value", value, "members", after));
out:
    json_decref(body);
}

void api_namespaces_member_add(struct api_call *c)
{
    change(c, true);
}

void api_namespaces_member_remove(struct api_call *c)
{
    change(c, false);
}

void api_scopes_list(struct api_call *c)
{
    size_t n = 0;
    const struct cfg_scope_info *v = cfg_scope_catalog(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "name", v[i].name, "description",
                                             v[i].description, "held",
                                             !strchr(v[i].name, '<') &&
                                                 auth_allows(c->gc.p, v[i].name)));
    http_respond_json(c->r, 200, json_pack("{s:o}", "scopes", arr));
}
