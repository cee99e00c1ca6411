/* SPDX-License-Identifier: MIT
 * pol_history.c — every version of every policy, in memory (struct pol_set).
 *
 * A policy id names one slot (tenant, scope, scope id, domain) for its whole life. Each change
 * (update, deprecate, rollback) appends a new version with its own author, time and mandatory
 * reason; nothing is ever overwritten, so history, diff and rollback are reads of this list.
 * The set is the write side: the caller validates (pol_validate), audits, persists the version
 * returned (pol_record_to_json), then compiles a new snapshot (pol_snapshot_from_set) and swaps
 * it in. Two string-keyed indexes (id, slot) keep every operation O(1) for large tenants.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "policy/policy_int.h"

struct hist {
    struct pol_record **v; /* ascending versions */
    size_t n, cap;
    char *slot;
};

struct index {
    char **keys;
    size_t *vals;
    size_t cap, n;
};

struct pol_set {
    struct hist **h; /* creation order */
    size_t n, cap;
    struct index by_id, by_slot;
};

static void index_grow(struct index *ix);

static size_t *index_find(struct index *ix, const char *key, bool insert)
{
    if (insert && (ix->n + 1) * 2 > ix->cap)
        index_grow(ix);
    if (!ix->cap)
        return NULL;
    size_t mask = ix->cap - 1;
    for (size_t i = pol_hash(key, strlen(key)) & mask;; i = (i + 1) & mask) {
        if (!ix->keys[i]) {
            if (!insert)
                return NULL;
            ix->keys[i] = gw_xstrdup(key);
            ix->n++;
            return &ix->vals[i];
        }
        if (strcmp(ix->keys[i], key) == 0)
            return &ix->vals[i];
    }
}

static void index_grow(struct index *ix)
{
    struct index old = *ix;
    ix->cap = old.cap ? old.cap * 2 : 64;
    ix->keys = gw_xcalloc(ix->cap, sizeof(*ix->keys));
    ix->vals = gw_xcalloc(ix->cap, sizeof(*ix->vals));
    ix->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            *index_find(ix, old.keys[i], true) = old.vals[i];
            free(old.keys[i]);
        }
    free(old.keys);
    free(old.vals);
}

static void index_release(struct index *ix)
{
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->keys[i]);
    free(ix->keys);
    free(ix->vals);
}

static char *slot_key(const char *tenant, enum pol_scope scope, const char *scope_id,
                      enum pol_domain d)
{
    return gw_xasprintf("%s\x1f%d\x1f%s\x1f%d", tenant ? tenant : "", (int)scope,
                        scope == POL_SCOPE_ENTERPRISE || !scope_id ? "" : scope_id, (int)d);
}

struct pol_set *pol_set_new(void)
{
    return gw_xcalloc(1, sizeof(struct pol_set));
}

void pol_set_free(struct pol_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        for (size_t k = 0; k < set->h[i]->n; k++)
            pol_record_free(set->h[i]->v[k]);
        free(set->h[i]->v);
        free(set->h[i]->slot);
        free(set->h[i]);
    }
    free(set->h);
    index_release(&set->by_id);
    index_release(&set->by_slot);
    free(set);
}

static struct hist *hist_get(const struct pol_set *set, const char *id)
{
    size_t *k = id ? index_find((struct index *)&set->by_id, id, false) : NULL;
    return k ? set->h[*k] : NULL;
}

static struct hist *hist_add(struct pol_set *set, const char *id, char *slot)
{
    struct hist *h = gw_xcalloc(1, sizeof(*h));
    h->slot = slot;
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 16;
        set->h = gw_xrealloc(set->h, set->cap * sizeof(*set->h));
    }
    set->h[set->n] = h;
    *index_find(&set->by_id, id, true) = set->n;
    *index_find(&set->by_slot, slot, true) = set->n;
    set->n++;
    return h;
}

static void hist_push(struct hist *h, struct pol_record *r)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4;
        h->v = gw_xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    size_t i = h->n;
    while (i > 0 && h->v[i - 1]->version > r->version) {
        h->v[i] = h->v[i - 1];
        i--;
    }
    h->v[i] = r;
    h->n++;
}

gw_err pol_set_load(struct pol_set *set, const struct pol_record *r, struct pol_issues *errs)
{
    if (!pol_record_check(r, errs))
        return GW_EINVAL;
    char *slot = slot_key(r->tenant, r->scope, r->scope_id, r->domain);
    struct hist *h = hist_get(set, r->id);
    if (h) {
        bool same = strcmp(h->slot, slot) == 0;
        free(slot);
        if (!same) {
            pol_issue_add(errs, "id", "id: %s already names a policy of another scope or domain",
                          r->id);
            return GW_ECONFLICT;
        }
        for (size_t i = 0; i < h->n; i++)
            if (h->v[i]->version == r->version) {
                pol_issue_add(errs, "version", "version: %s v%lld loaded twice", r->id,
                              (long long)r->version);
                return GW_ECONFLICT;
            }
    } else {
        if (index_find(&set->by_slot, slot, false)) {
            pol_issue_add(errs, "",
                          "another policy already occupies this tenant, scope, scope "
                          "id and domain");
            free(slot);
            return GW_ECONFLICT;
        }
        h = hist_add(set, r->id, slot);
    }
    hist_push(h, pol_record_clone(r));
    return GW_OK;
}

static gw_err check_change(const struct pol_change *ch, bool content, struct pol_issues *errs)
{
    bool ok = true;
    if (!ch) {
        pol_issue_add(errs, "", "no change");
        return GW_EINVAL;
    }
    if (content && !ch->content) {
        pol_issue_add(errs, "content", "content: missing");
        ok = false;
    }
    if (!ch->author || !*ch->author) {
        pol_issue_add(errs, "author", "author: missing");
        ok = false;
    }
    if (!ch->change_reason || !*ch->change_reason) {
        pol_issue_add(errs, "change_reason", "change_reason: mandatory, and must not be empty");
        ok = false;
    }
    return ok ? GW_OK : GW_EINVAL;
}

static gw_err append_version(struct hist *h, const struct pol_record *base,
                             const struct pol_doc *content, enum pol_status status,
                             const struct pol_change *ch, const struct pol_record **out,
                             struct pol_issues *errs)
{
    struct pol_record *r = gw_xcalloc(1, sizeof(*r));
    r->id = gw_xstrdup(base->id);
    r->tenant = gw_xstrdup(base->tenant);
    r->scope = base->scope;
    r->scope_id = base->scope_id ? gw_xstrdup(base->scope_id) : NULL;
    r->domain = base->domain;
    r->version = h->n ? h->v[h->n - 1]->version + 1 : 1;
    r->content = pol_doc_clone(content);
    r->author = gw_xstrdup(ch->author);
    r->created_ms = ch->now_ms ? ch->now_ms : gw_now_ms();
    r->change_reason = gw_xstrdup(ch->change_reason);
    r->status = status;
    if (!pol_record_check(r, errs)) {
        pol_record_free(r);
        return GW_EINVAL;
    }
    hist_push(h, r);
    if (out)
        *out = r;
    return GW_OK;
}

gw_err pol_set_create(struct pol_set *set, const struct pol_change *ch,
                      const struct pol_record **out, struct pol_issues *errs)
{
    gw_err rc = check_change(ch, true, errs);
    if (rc != GW_OK)
        return rc;
    char gen[POL_ID_MAX + 1];
    const char *id = ch->id;
    if (!id) {
        char hex[25];
        gw_random_hex(hex, 12);
        snprintf(gen, sizeof(gen), "pol_%s", hex);
        id = gen;
    }
    struct pol_record base = {.id = (char *)id,
                              .tenant = (char *)ch->tenant,
                              .scope = ch->scope,
                              .scope_id = ch->scope == POL_SCOPE_ENTERPRISE ? NULL
                                                                            : (char *)ch->scope_id,
                              .domain = ch->domain,
                              .version = 1,
                              .content = ch->content,
                              .author = (char *)ch->author,
                              .change_reason = (char *)ch->change_reason,
                              .status = POL_STATUS_ACTIVE};
    if (!pol_record_check(&base, errs))
        return GW_EINVAL;
    if (hist_get(set, id)) {
        pol_issue_add(errs, "id", "id: %s already exists", id);
        return GW_ECONFLICT;
    }
    char *slot = slot_key(base.tenant, base.scope, base.scope_id, base.domain);
    size_t *other = index_find(&set->by_slot, slot, false);
    if (other) {
        const struct hist *oh = set->h[*other];
        pol_issue_add(errs, "", "policy %s already governs %s for this %s; update it instead",
                      oh->v[oh->n - 1]->id, pol_domain_name(base.domain),
                      pol_scope_name(base.scope));
        free(slot);
        return GW_ECONFLICT;
    }
    struct hist *h = hist_add(set, id, slot);
    return append_version(h, &base, ch->content, POL_STATUS_ACTIVE, ch, out, errs);
}

static gw_err change_target(struct pol_set *set, const char *id, const struct pol_change *ch,
                            bool content, struct hist **h, struct pol_issues *errs)
{
    gw_err rc = check_change(ch, content, errs);
    if (rc != GW_OK)
        return rc;
    *h = hist_get(set, id);
    if (!*h) {
        pol_issue_add(errs, "id", "no policy %s", id ? id : "(null)");
        return GW_ENOTFOUND;
    }
    const struct pol_record *cur = (*h)->v[(*h)->n - 1];
    if (ch->expected_version && ch->expected_version != cur->version) {
        pol_issue_add(errs, "version", "version: policy %s is at version %lld, not %lld", id,
                      (long long)cur->version, (long long)ch->expected_version);
        return GW_ECONFLICT;
    }
    if (content && ch->content->domain != cur->domain) {
        pol_issue_add(errs, "content", "content: parsed for domain %s, policy %s is %s",
                      pol_domain_name(ch->content->domain), id, pol_domain_name(cur->domain));
        return GW_EINVAL;
    }
    return GW_OK;
}

gw_err pol_set_update(struct pol_set *set, const char *id, const struct pol_change *ch,
                      const struct pol_record **out, struct pol_issues *errs)
{
    struct hist *h;
    gw_err rc = change_target(set, id, ch, true, &h, errs);
    if (rc != GW_OK)
        return rc;
    return append_version(h, h->v[h->n - 1], ch->content, POL_STATUS_ACTIVE, ch, out, errs);
}

gw_err pol_set_deprecate(struct pol_set *set, const char *id, const struct pol_change *ch,
                         const struct pol_record **out, struct pol_issues *errs)
{
    struct hist *h;
    gw_err rc = change_target(set, id, ch, false, &h, errs);
    if (rc != GW_OK)
        return rc;
    const struct pol_record *cur = h->v[h->n - 1];
    return append_version(h, cur, cur->content, POL_STATUS_DEPRECATED, ch, out, errs);
}

gw_err pol_set_rollback(struct pol_set *set, const char *id, int64_t to,
                        const struct pol_change *ch, const struct pol_record **out,
                        struct pol_issues *errs)
{
    struct hist *h;
    gw_err rc = change_target(set, id, ch, false, &h, errs);
    if (rc != GW_OK)
        return rc;
    const struct pol_record *target = pol_set_get(set, id, to);
    if (!target || to == h->v[h->n - 1]->version) {
        pol_issue_add(errs, "version", "version: policy %s has no earlier version %lld", id,
                      (long long)to);
        return target ? GW_EINVAL : GW_ENOTFOUND;
    }
    return append_version(h, h->v[h->n - 1], target->content, target->status, ch, out, errs);
}

const struct pol_record *pol_set_get(const struct pol_set *set, const char *id, int64_t version)
{
    const struct hist *h = hist_get(set, id);
    if (!h || !h->n)
        return NULL;
    if (version == 0)
        return h->v[h->n - 1];
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i]->version == version)
            return h->v[i];
    return NULL;
}

const struct pol_record *pol_set_find(const struct pol_set *set, const char *tenant,
                                      enum pol_scope scope, const char *scope_id, enum pol_domain d)
{
    char *slot = slot_key(tenant, scope, scope_id, d);
    size_t *k = index_find((struct index *)&set->by_slot, slot, false);
    free(slot);
    return k ? set->h[*k]->v[set->h[*k]->n - 1] : NULL;
}

size_t pol_set_history(const struct pol_set *set, const char *id,
                       const struct pol_record *const **out)
{
    const struct hist *h = hist_get(set, id);
    *out = h ? (const struct pol_record *const *)h->v : NULL;
    return h ? h->n : 0;
}

size_t pol_set_latest(const struct pol_set *set, const struct pol_record **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (n < cap)
            out[n] = set->h[i]->v[set->h[i]->n - 1];
        n++;
    }
    return n;
}

size_t pol_set_count(const struct pol_set *set)
{
    return set->n;
}

gw_err pol_snapshot_from_set(const struct pol_set *set, const struct pol_snapshot_opts *opts,
                             struct pol_snapshot **out, struct pol_issues *errs)
{
    size_t n = set->n;
    const struct pol_record **recs = gw_xcalloc(n ? n : 1, sizeof(*recs));
    pol_set_latest(set, recs, n);
    gw_err rc = pol_snapshot_build((const struct pol_record *const *)recs, n, opts, out, errs);
    free(recs);
    return rc;
}
