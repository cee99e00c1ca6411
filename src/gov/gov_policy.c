/* SPDX-License-Identifier: MIT
 * gov_policy.c — policy runtime: stored versions, the bundle, the write path, hot swap.
 *
 * The store keeps every version (pol_record_to_json); at start they are loaded into a pol_set,
 * then the configured bundle is applied, then a snapshot is compiled and installed. Each write
 * persists its version before the new snapshot is swapped in; if persisting fails the set is
 * rebuilt from the store so memory never holds a version the disk does not.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "gov/gov_policy.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "shared/shared.h"
#include "store/store.h"

#include <pthread.h>

struct gov_policy {
    pthread_mutex_t lock; /* serializes writers and set access */
    struct store *st;
    struct pol_set *set;
    struct pol_engine *engine;
    struct shared *shared; /* the other nodes (gov_policy_share); NULL: none */
};

static gw_err load_set(struct store *st, struct pol_set **out)
{
    struct store_policy_version *v = NULL;
    size_t n = 0;
    gw_err rc = store_policy_list(st, &v, &n);
    if (rc != GW_OK)
        return rc;
    struct pol_set *set = pol_set_new();
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *j = json_loads(v[i].record, 0, &jerr);
        struct pol_issues is = {0};
        struct pol_record *r = j ? pol_record_from_json(j, &is) : NULL;
        if (!r || pol_set_load(set, r, &is) != GW_OK)
            gw_error("policy: stored version %s v%lld cannot be loaded (%s); it is ignored",
                     v[i].id, (long long)v[i].version, is.n ? is.v[0].msg : "malformed record");
        pol_record_free(r);
        pol_issues_release(&is);
        json_decref(j);
    }
    store_policy_list_free(v, n);
    *out = set;
    return GW_OK;
}

/* Compiles the set and installs the snapshot (caller holds the lock). */
static void install(struct gov_policy *p)
{
    struct pol_snapshot *snap = NULL;
    struct pol_issues is = {0};
    pol_snapshot_from_set(p->set, NULL, &snap, &is);
    for (size_t i = 0; i < is.n; i++)
        gw_error("policy: %s: %s (its domain fails closed for the chains it covers)", is.v[i].field,
                 is.v[i].msg);
    pol_issues_release(&is);
    struct pol_snapshot *old = pol_engine_acquire(p->engine);
    if (old) {
        pol_snapshot_warm(snap, old);
        pol_snapshot_unref(old);
    }
    pol_engine_swap(p->engine, snap);
}

static gw_err persist(struct gov_policy *p, const struct pol_record *r)
{
    json_t *j = pol_record_to_json(r);
    char *text = gw_json_canonical(j);
    json_decref(j);
    gw_err rc = store_policy_insert(p->st, r->tenant, r->id, r->version, text);
    free(text);
    if (rc != GW_OK) {
        /* memory must not hold a version the store does not: start again from the store */
        struct pol_set *fresh = NULL;
        if (load_set(p->st, &fresh) == GW_OK) {
            pol_set_free(p->set);
            p->set = fresh;
        }
        return GW_ESTORE;
    }
    return GW_OK;
}

/* --- the bundle ------------------------------------------------------------------------------ */

static gw_err apply_bundle_entry(struct gov_policy *p, const struct cfg *c, const json_t *e,
                                 size_t idx, const char *author, const char *default_reason,
                                 json_t *created, char *msg, size_t msgcap)
{
    const char *scope_s = json_string_value(json_object_get(e, "scope"));
    const char *domain_s = json_string_value(json_object_get(e, "domain"));
    const char *scope_id = json_string_value(json_object_get(e, "scope_id"));
    const char *reason = json_string_value(json_object_get(e, "change_reason"));
    json_t *content = json_object_get(e, "content");
    int scope = scope_s ? pol_scope_parse(scope_s) : -1;
    int domain = domain_s ? pol_domain_parse(domain_s) : -1;
    if (scope < 0 || domain < 0 || !json_is_object(content)) {
        snprintf(msg, msgcap, "bundle entry %zu needs scope, domain and a content mapping", idx);
        return GW_EINVAL;
    }
    struct pol_issues is = {0};
    struct pol_doc *doc = pol_doc_from_json((enum pol_domain)domain, content, &is);
    if (!doc) {
        snprintf(msg, msgcap, "bundle entry %zu: %s", idx, is.n ? is.v[0].msg : "invalid content");
        pol_issues_release(&is);
        return GW_EINVAL;
    }
    char why[256];
    snprintf(why, sizeof(why), "%s", reason ? reason : default_reason);
    struct pol_change ch = {
        .tenant = c->tenant_id,
        .scope = (enum pol_scope)scope,
        .scope_id = scope_id,
        .domain = (enum pol_domain)domain,
        .content = doc,
        .author = author,
        .change_reason = why,
        .now_ms = gw_now_ms(),
    };
    const struct pol_record *cur = pol_set_find(p->set, c->tenant_id, ch.scope, scope_id,
                                                ch.domain);
    const struct pol_record *out = NULL;
    gw_err rc = GW_OK;
    if (!cur) {
        rc = pol_set_create(p->set, &ch, &out, &is);
    } else {
        json_t *a = pol_doc_to_json(cur->content), *b = pol_doc_to_json(doc);
        bool same = json_equal(a, b) && cur->status == POL_STATUS_ACTIVE;
        json_decref(a);
        json_decref(b);
        if (!same)
            rc = pol_set_update(p->set, cur->id, &ch, &out, &is);
    }
    if (rc != GW_OK)
        snprintf(msg, msgcap, "bundle entry %zu: %s", idx, is.n ? is.v[0].msg : gw_err_message(rc));
    else if (out && (rc = persist(p, out)) == GW_OK && created)
        json_array_append_new(created, pol_record_to_json(out));
    pol_doc_free(doc);
    pol_issues_release(&is);
    return rc;
}

static gw_err apply_list(struct gov_policy *p, const struct cfg *c, const json_t *list,
                         const char *author, const char *reason, json_t *created, char *msg,
                         size_t msgcap)
{
    gw_err rc = GW_OK;
    for (size_t i = 0; rc == GW_OK && i < json_array_size(list); i++)
        rc = apply_bundle_entry(p, c, json_array_get(list, i), i + 1, author, reason, created, msg,
                                msgcap);
    return rc;
}

static gw_err apply_bundle(struct gov_policy *p, const struct cfg *c, char *msg, size_t msgcap)
{
    char *text = NULL;
    size_t len = 0;
    gw_err rc = gw_file_read(c->policy_bundle, 4 << 20, &text, &len);
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "cannot read policy bundle %s", c->policy_bundle);
        return rc;
    }
    struct pol_issues is = {0};
    json_t *root = pol_yaml_to_json(text, len, &is); /* JSON is YAML too */
    free(text);
    json_t *list = json_is_object(root) ? json_object_get(root, "policies") : root;
    if (!json_is_array(list)) {
        snprintf(msg, msgcap,
                 "policy bundle %s must be a list of policies (or {policies: [...]})%s%s",
                 c->policy_bundle, is.n ? ": " : "", is.n ? is.v[0].msg : "");
        rc = GW_EINVAL;
    }
    if (rc == GW_OK)
        rc = apply_list(p, c, list, "bundle", "loaded from the configured policy bundle", NULL, msg,
                        msgcap);
    pol_issues_release(&is);
    json_decref(root);
    return rc;
}

/* --- the starter set ------------------------------------------------------------------------ */

/* What a new gateway starts with (docs/POLICY.md, "Starter policy"): model calls to any
 * configured model, with data above internal kept from external providers (rerouted to a
 * self-hosted model once one is named, else refused); memory reads run, every other action
 * waits for an approval; exports of data up to confidential to the caller, nothing above
 * internal leaving the tenant. Written once, as the system's, through the normal write path. */
static const char starter_json[] =
    "[{\"scope\":\"enterprise\",\"domain\":\"models\",\"content\":{"
    "\"allowed_providers\":[\"*\"],\"allowed_models\":[\"*\"],"
    "\"max_classification_external\":\"internal\"}},"
    "{\"scope\":\"enterprise\",\"domain\":\"actions\",\"content\":{"
    "\"default_autonomy\":\"approve\",\"autonomous\":[\"memory_read\"]}},"
    "{\"scope\":\"enterprise\",\"domain\":\"data\",\"content\":{"
    "\"allow_data_export\":true,\"export_max_classification\":\"confidential\","
    "\"external_sharing_max\":\"internal\"}}]";

#define STARTER_META "starter_policy"

/* On the first start of a store without policies and without a configured bundle. */
static gw_err apply_starter(struct gov_policy *p, const struct cfg *c, json_t *created, char *msg,
                            size_t msgcap)
{
    char *done = NULL;
    gw_err rc = store_meta_get(p->st, STARTER_META, &done);
    free(done);
    if (rc != GW_ENOTFOUND || c->policy_bundle || !c->policy_starter || pol_set_count(p->set) > 0)
        return rc == GW_ENOTFOUND || rc == GW_OK ? GW_OK : rc;
    json_error_t je;
    json_t *list = json_loads(starter_json, 0, &je);
    rc = apply_list(p, c, list, "system",
                    "starter policy, written at the first start "
                    "(docs/POLICY.md#starter-policy)",
                    created, msg, msgcap);
    json_decref(list);
    if (rc == GW_OK)
        rc = store_meta_put(p->st, STARTER_META, "1");
    return rc;
}

/* --- lifecycle ------------------------------------------------------------------------------- */

gw_err gov_policy_open(struct store *st, const struct cfg *c, struct gov_policy **out,
                       json_t *created, char *msg, size_t msgcap)
{
    struct gov_policy *p = gw_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->st = st;
    p->engine = pol_engine_new(NULL);
    gw_err rc = load_set(st, &p->set);
    if (rc != GW_OK)
        snprintf(msg, msgcap, "cannot load policies from the store");
    if (rc == GW_OK && c->policy_bundle)
        rc = apply_bundle(p, c, msg, msgcap);
    if (rc == GW_OK)
        rc = apply_starter(p, c, created, msg, msgcap);
    if (rc != GW_OK) {
        gov_policy_close(p);
        return rc;
    }
    install(p);
    *out = p;
    return GW_OK;
}

/* Another node changed policies (or notifications were missed): every version again from the
 * store, compiled and swapped in like a local write. */
static void on_policy(void *arg, enum shared_channel ch, const char *tenant)
{
    GW_UNUSED(ch);
    struct gov_policy *p = arg;
    struct pol_set *fresh = NULL;
    pthread_mutex_lock(&p->lock);
    if (load_set(p->st, &fresh) == GW_OK) {
        pol_set_free(p->set);
        p->set = fresh;
        install(p);
        gw_info("policy: reloaded %zu policies from the store (changed on another node%s%s)",
                pol_set_count(p->set), *tenant ? ", tenant " : "", tenant);
    } else {
        gw_warn("policy: another node changed policies, but the store cannot be read; the "
                "current ones stay");
    }
    pthread_mutex_unlock(&p->lock);
}

void gov_policy_share(struct gov_policy *p, struct shared *s)
{
    if (p->shared)
        shared_unsubscribe(p->shared, on_policy, p);
    p->shared = s;
    if (s)
        shared_subscribe(s, SHARED_POLICY, on_policy, p);
}

void gov_policy_close(struct gov_policy *p)
{
    if (!p)
        return;
    pol_engine_free(p->engine);
    pol_set_free(p->set);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct pol_snapshot *gov_policy_acquire(struct gov_policy *p)
{
    return pol_engine_acquire(p->engine);
}

size_t gov_policy_count(struct gov_policy *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = pol_set_count(p->set);
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* --- writes ------------------------------------------------------------------------------------
 */

gw_err gov_policy_write(struct gov_policy *p, enum gov_policy_op op, const char *id, int64_t to,
                        const struct pol_change *ch, const struct pol_position *pos,
                        json_t **record, struct pol_issues *issues)
{
    gw_err rc = GW_OK;
    const struct pol_record *out = NULL;
    pthread_mutex_lock(&p->lock);
    /* rollback: validate the content it brings back like any other write */
    const struct pol_doc *doc = ch->content;
    const struct pol_record *target = op == GOV_POLICY_ROLLBACK ? pol_set_get(p->set, id, to)
                                                                : NULL;
    if (op == GOV_POLICY_ROLLBACK && !target)
        rc = GW_ENOTFOUND;
    if (target)
        doc = target->content;
    if (rc == GW_OK && doc && op != GOV_POLICY_DEPRECATE) {
        struct pol_snapshot *snap = pol_engine_acquire(p->engine);
        if (!pol_validate(snap, pos, doc, issues))
            rc = GW_EPOLICY;
        pol_snapshot_unref(snap);
    }
    if (rc == GW_OK) {
        switch (op) {
        case GOV_POLICY_CREATE:
            rc = pol_set_create(p->set, ch, &out, issues);
            break;
        case GOV_POLICY_UPDATE:
            rc = pol_set_update(p->set, id, ch, &out, issues);
            break;
        case GOV_POLICY_DEPRECATE:
            rc = pol_set_deprecate(p->set, id, ch, &out, issues);
            break;
        case GOV_POLICY_ROLLBACK:
            rc = pol_set_rollback(p->set, id, to, ch, &out, issues);
            break;
        }
    }
    if (rc == GW_OK)
        rc = persist(p, out);
    if (rc == GW_OK) {
        *record = pol_record_to_json(out);
        install(p);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc == GW_OK && p->shared && shared_publish(p->shared, SHARED_POLICY, out->tenant) != GW_OK)
        gw_warn("policy: changed here; the other nodes could not be told (Redis unreachable)");
    return rc;
}

/* --- reads ------------------------------------------------------------------------------------ */

static bool same_tenant(const struct pol_record *r, const char *tenant)
{
    return r && strcmp(r->tenant, tenant) == 0;
}

json_t *gov_policy_get(struct gov_policy *p, const char *tenant, const char *id, int64_t version)
{
    pthread_mutex_lock(&p->lock);
    const struct pol_record *r = pol_set_get(p->set, id, version);
    json_t *j = same_tenant(r, tenant) ? pol_record_to_json(r) : NULL;
    pthread_mutex_unlock(&p->lock);
    return j;
}

gw_err gov_policy_slot(struct gov_policy *p, const char *tenant, const char *id,
                       enum pol_scope *scope, char *scope_id, size_t cap, enum pol_domain *d)
{
    pthread_mutex_lock(&p->lock);
    const struct pol_record *r = pol_set_get(p->set, id, 0);
    bool ok = same_tenant(r, tenant);
    if (ok) {
        *scope = r->scope;
        snprintf(scope_id, cap, "%s", r->scope_id ? r->scope_id : "");
        *d = r->domain;
    }
    pthread_mutex_unlock(&p->lock);
    return ok ? GW_OK : GW_ENOTFOUND;
}

json_t *gov_policy_history(struct gov_policy *p, const char *tenant, const char *id)
{
    pthread_mutex_lock(&p->lock);
    const struct pol_record *const *v = NULL;
    size_t n = pol_set_history(p->set, id, &v);
    json_t *arr = NULL;
    if (n && same_tenant(v[0], tenant)) {
        arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, pol_record_to_json(v[i]));
    }
    pthread_mutex_unlock(&p->lock);
    return arr;
}

json_t *gov_policy_diff(struct gov_policy *p, const char *tenant, const char *id, int64_t from,
                        int64_t to)
{
    pthread_mutex_lock(&p->lock);
    const struct pol_record *a = pol_set_get(p->set, id, from), *b = pol_set_get(p->set, id, to);
    json_t *d = same_tenant(a, tenant) && same_tenant(b, tenant)
                    ? pol_doc_diff(a->content, b->content)
                    : NULL;
    pthread_mutex_unlock(&p->lock);
    return d;
}

json_t *gov_policy_list(struct gov_policy *p, const char *tenant, int scope, int domain)
{
    pthread_mutex_lock(&p->lock);
    size_t n = pol_set_count(p->set);
    const struct pol_record **v = gw_xcalloc(n + 1, sizeof(*v));
    n = pol_set_latest(p->set, v, n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (same_tenant(v[i], tenant) && (scope < 0 || (int)v[i]->scope == scope) &&
            (domain < 0 || (int)v[i]->domain == domain))
            json_array_append_new(arr, pol_record_to_json(v[i]));
    pthread_mutex_unlock(&p->lock);
    free(v);
    return arr;
}
