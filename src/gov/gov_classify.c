/* SPDX-License-Identifier: MIT
 * gov_classify.c — classification overrides: small records in the store's metadata, keyed by
 * tenant and document, read by every action on the document (gov_act) and managed here.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "gov/gov_classify.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "ns/ns.h"
#include "store/store.h"

#define REASON_MAX 1000

static char *key_of(const char *tenant, const char *ns, const char *agent)
{
    return gw_xasprintf("classification/%s/%s/%s", tenant, ns, agent);
}

static json_t *load(struct gov_call *gc, const char *ns, const char *agent)
{
    char *key = key_of(gc->p->tenant, ns, agent), *val = NULL;
    json_t *j = NULL;
    if (store_meta_get(gc->gov->d.store, key, &val) == GW_OK) {
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

int gov_classification_override(struct gov_call *gc, const char *ns, const char *agent)
{
    json_t *j = load(gc, ns, agent);
    int level = j ? pol_level_parse(gw_json_str(j, "level")) : -1;
    json_decref(j);
    return level;
}

/* Valid names, the caller may see (write: change) the document, and it exists. */
static gw_err document(struct gov_call *gc, const char *ns, const char *agent, bool write,
                       char *msg, size_t cap)
{
    const struct auth_principal *p = gc->p;
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        snprintf(msg, cap, "namespace and agent must be 1-63 characters of [a-z0-9_-]");
        return GW_EINVAL;
    }
    gc->audit.resource = gw_pool_printf(gc->pool, "%s/%s", ns, agent);
    bool shared = strcmp(agent, NS_SHARED) == 0;
    if (!auth_reaches(p, ns)) { /* classification:* holders too stay in their namespaces */
        auth_deny_reason(p, ns, shared ? NULL : agent, msg, cap);
        return GW_EFORBIDDEN;
    }
    bool by_scope = shared ? auth_allows_namespace(p, ns) : auth_allows_channel(p, ns, agent);
    const char *need = write ? "classification:write" : "classification:read";
    if (!auth_allows(p, need) && (write || !by_scope)) {
        snprintf(msg, cap, "missing scope %s", need);
        return GW_EFORBIDDEN;
    }
    const char *path = NULL;
    struct ns_agent_info info;
    gw_err rc = shared ? ns_shared_memory_path(gc->gov->d.ns, p->tenant, ns, gc->pool, &path)
                       : ns_agent_find(gc->gov->d.ns, p->tenant, ns, agent, gc->pool, &info);
    if (rc != GW_OK) { /* only documents that exist can be classified */
        snprintf(msg, cap, shared ? "no namespace %s" : "no agent %s", gc->audit.resource);
        return GW_ENOTFOUND;
    }
    return GW_OK;
}

static json_t *default_item(struct gov_call *gc)
{
    return json_pack("{s:s,s:s,s:s}", "item", gc->audit.resource, "source", "default", "level",
                     "internal");
}

gw_err gov_classification_get(struct gov_call *gc, const char *ns, const char *agent, json_t **item,
                              char *msg, size_t cap)
{
    gw_err rc = document(gc, ns, agent, false, msg, cap);
    if (rc != GW_OK)
        return rc;
    json_t *j = load(gc, ns, agent);
    *item = j ? json_pack("{s:s,s:s,s:O*,s:O*,s:O*,s:O*}", "item", gc->audit.resource, "source",
                          "override", "level", json_object_get(j, "level"), "reason",
                          json_object_get(j, "reason"), "override_by",
                          json_object_get(j, "override_by"), "override_at",
                          json_object_get(j, "override_at"))
              : default_item(gc);
    json_decref(j);
    return GW_OK;
}

static gw_err save(struct gov_call *gc, const char *ns, const char *agent, const char *value,
                   char *msg, size_t cap)
{
    char *key = key_of(gc->p->tenant, ns, agent);
    gw_err rc = store_meta_put(gc->gov->d.store, key, value);
    free(key);
    if (rc != GW_OK) {
        gov_audit_failed(gc);
        snprintf(msg, cap, "the override could not be saved");
        return GW_ESTORE;
    }
    return GW_OK;
}

gw_err gov_classification_set(struct gov_call *gc, const char *ns, const char *agent,
                              const char *level, const char *reason, json_t **item, char *msg,
                              size_t cap)
{
    gw_err rc = document(gc, ns, agent, true, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (!level || pol_level_parse(level) < 0 || !reason || !reason[0] ||
        strlen(reason) > REASON_MAX) {
        snprintf(msg, cap,
                 "expected {\"level\": public|internal|confidential|restricted, "
                 "\"reason\": non-empty string (at most %d characters)}",
                 REASON_MAX);
        return GW_EINVAL;
    }
    char at[40];
    gw_time_iso8601(gw_now_ms(), at, sizeof(at));
    json_t *prev = load(gc, ns, agent);
    json_t *before = prev ? json_object_get(prev, "level") : NULL;
    json_t *rec = json_pack("{s:s,s:s,s:s,s:s}", "level", level, "reason", reason, "override_by",
                            gc->p->actor, "override_at", at);
    json_t *details = json_pack("{s:s,s:O,s:s,s:s}", "level", level, "previous",
                                before ? before : json_null(), "reason", reason, "item",
                                gc->audit.resource);
    rc = gov_audit_ahead(gc, "classification.overridden", gc->audit.resource, 200, details);
    char *val = gw_json_compact(rec);
    if (rc == GW_EAUDIT)
        snprintf(msg, cap, "the audit trail cannot be written; nothing was changed");
    else
        rc = save(gc, ns, agent, val, msg, cap);
    free(val);
    if (rc == GW_OK) {
        json_object_set_new(rec, "item", json_string(gc->audit.resource));
        json_object_set(rec, "previous", before ? before : json_null());
        *item = json_incref(rec);
    }
    json_decref(rec);
    json_decref(prev);
    return rc;
}

gw_err gov_classification_clear(struct gov_call *gc, const char *ns, const char *agent,
                                const char *reason, json_t **item, char *msg, size_t cap)
{
    gw_err rc = document(gc, ns, agent, true, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (!reason || !reason[0] || strlen(reason) > REASON_MAX) {
        snprintf(msg, cap, "reason is required (?reason=...)");
        return GW_EINVAL;
    }
    json_t *prev = load(gc, ns, agent);
    if (!prev) {
        snprintf(msg, cap, "no override on %s", gc->audit.resource);
        return GW_ENOTFOUND;
    }
    json_t *details = json_pack("{s:O*,s:s}", "previous", json_object_get(prev, "level"), "reason",
                                reason);
    json_decref(prev);
    rc = gov_audit_ahead(gc, "classification.cleared", gc->audit.resource, 200, details);
    if (rc == GW_EAUDIT)
        snprintf(msg, cap, "the audit trail cannot be written; nothing was changed");
    /* the metadata table has no delete: an empty record means "no override" */
    else if ((rc = save(gc, ns, agent, "{}", msg, cap)) == GW_OK)
        *item = default_item(gc);
    return rc;
}
