/* SPDX-License-Identifier: MIT
 * api_classification.c — administrator overrides of a memory document's classification.
 *
 * Detectors can only raise a level; an administrator may set it in either direction, with a
 * mandatory reason, and the change is audited before it applies. Overrides are small records
 * in the store's metadata, keyed by tenant and document.
 */
#include "base/prelude.h"
#include "api/api_tools.h"
#include "base/util.h"
#include "ns/ns.h"
#include "store/store.h"

static char *key_of(const char *tenant, const char *ns, const char *agent)
{
    return gw_xasprintf("classification/%s/%s/%s", tenant, ns, agent);
}

static json_t *load(struct gwd *g, const char *tenant, const char *ns, const char *agent)
{
    char *key = key_of(tenant, ns, agent), *val = NULL;
    json_t *j = NULL;
    if (store_meta_get(g->store, key, &val) == GW_OK) {
        json_error_t e;
        j = json_loads(val, 0, &e);
        if (j && !gw_json_str(j, "level")) { /* "{}": the override was cleared */
            json_decref(j);
            j = NULL;
        }
    }
    free(key);
    free(val);
    return j;
}

int api_classification_override(struct gwd *g, const char *tenant, const char *ns,
                                const char *agent)
{
    json_t *j = load(g, tenant, ns, agent);
    int level = j ? pol_level_parse(gw_json_str(j, "level")) : -1;
    json_decref(j);
    return level;
}

/* {ns}/{agent}: valid names and the caller may see the item; answers on failure. */
static bool item(struct api_call *c, bool write)
{
    const char *ns = c->var[0], *agent = c->var[1];
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        http_respond_error(c->r, GW_EINVAL, "namespace and agent must be 1-63 characters of [a-z0-9_-]");
        return false;
    }
    c->audit_resource = gw_pool_printf(c->r->pool, "%s/%s", ns, agent);
    bool shared = strcmp(agent, NS_SHARED) == 0;
    if (!auth_reaches(c->p, ns)) { /* classification:* holders too stay in their namespaces */
        api_deny_channel(c, ns, shared ? NULL : agent);
        return false;
    }
    bool by_scope = shared ? auth_allows_namespace(c->p, ns) : auth_allows_channel(c->p, ns, agent);
    const char *need = write ? "classification:write" : "classification:read";
    if (!auth_allows(c->p, need) && (write || !by_scope)) {
        http_respond_error(c->r, GW_EFORBIDDEN, "missing scope %s", need);
        return false;
    }
    /* only documents that exist can be classified */
    const char *path = NULL;
    struct ns_agent_info info;
    gw_err rc = shared ? ns_shared_memory_path(c->g->ns, c->p->tenant, ns, c->r->pool, &path)
                       : ns_agent_find(c->g->ns, c->p->tenant, ns, agent, c->r->pool, &info);
    if (rc != GW_OK) {
        http_respond_error(c->r, GW_ENOTFOUND, shared ? "no namespace %s" : "no agent %s",
                           c->audit_resource);
        return false;
    }
    return true;
}

void api_classification_get(struct api_call *c)
{
    if (!item(c, false))
        return;
    json_t *j = load(c->g, c->p->tenant, c->var[0], c->var[1]);
    json_t *body = j ? json_pack("{s:s,s:s,s:O*,s:O*,s:O*,s:O*}", "item", c->audit_resource,
                                 "source", "override", "level", json_object_get(j, "level"),
                                 "reason", json_object_get(j, "reason"), "override_by",
                                 json_object_get(j, "override_by"), "override_at",
                                 json_object_get(j, "override_at"))
                     : json_pack("{s:s,s:s,s:s}", "item", c->audit_resource, "source", "default",
                                 "level", "internal");
    json_decref(j);
    http_respond_json(c->r, 200, body);
}

void api_classification_put(struct api_call *c)
{
    if (!item(c, true))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *level = gw_json_str(body, "level"), *reason = gw_json_str(body, "reason");
    if (!level || pol_level_parse(level) < 0 || !reason || !reason[0] || strlen(reason) > 1000) {
        http_respond_error(c->r, GW_EINVAL, "expected {\"level\": public|internal|confidential|restricted, \"reason\": non-empty string (at most 1000 characters)}");
        json_decref(body);
        return;
    }
    json_t *prev = load(c->g, c->p->tenant, c->var[0], c->var[1]);
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s}", "level", level, "reason", reason, "override_by",
                            c->p->actor, "override_at", api_time(c, gw_now_ms()));
    json_t *before = prev ? json_object_get(prev, "level") : NULL;
    json_t *details = json_pack("{s:s,s:O,s:s,s:s}", "level", level, "previous",
                                before ? before : json_null(), "reason", reason, "item",
                                c->audit_resource);
    if (api_audit_sync(c, "classification.overridden", c->audit_resource, 200, details)) {
        char *key = key_of(c->p->tenant, c->var[0], c->var[1]), *val = gw_json_compact(rec);
        if (store_meta_put(c->g->store, key, val) != GW_OK) {
            api_audit_failed(c);
            http_respond_error(c->r, GW_ESTORE, "the override could not be saved");
        } else {
            json_object_set_new(rec, "item", json_string(c->audit_resource));
            json_object_set(rec, "previous", prev ? json_object_get(prev, "level") : json_null());
            http_respond_json(c->r, 200, json_incref(rec));
        }
        free(key);
        free(val);
    }
    json_decref(rec);
    json_decref(prev);
    json_decref(body);
}

void api_classification_clear(struct api_call *c)
{
    if (!item(c, true))
        return;
    const char *reason = http_query(c->r, "reason");
    if (!reason || !reason[0]) {
        http_respond_error(c->r, GW_EINVAL, "reason is required (?reason=...)");
        return;
    }
    json_t *prev = load(c->g, c->p->tenant, c->var[0], c->var[1]);
    if (!prev) {
        http_respond_error(c->r, GW_ENOTFOUND, "no override on %s", c->audit_resource);
        return;
    }
    json_t *details = json_pack("{s:O*,s:s}", "previous", json_object_get(prev, "level"),
                                "reason", reason);
    json_decref(prev);
    if (!api_audit_sync(c, "classification.cleared", c->audit_resource, 200, details))
        return;
    char *key = key_of(c->p->tenant, c->var[0], c->var[1]);
    /* the metadata table has no delete: an empty record means "no override" */
    gw_err rc = store_meta_put(c->g->store, key, "{}");
    free(key);
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the override could not be removed");
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:s,s:s}", "item", c->audit_resource,
                                           "source", "default", "level", "internal"));
}
