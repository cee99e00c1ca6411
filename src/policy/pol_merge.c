/* SPDX-License-Identifier: MIT
 * pol_merge.c — the effective policy along a chain enterprise > org path > team > user.
 *
 * The effective policy of a domain starts from the schema defaults (every field set). The
 * enterprise policy replaces the values it sets; every lower level can only restrict, each field
 * in its declared direction (allow-lists intersect, deny-lists union, booleans AND or OR, numbers
 * min or max, classification ceilings min and floors max, pinned names kept or cleared). So the
 * merge never loosens, even for a policy that skipped write-time validation (a file bundle).
 * Every merged value remembers the chain depth that last changed it (provenance, for "why?").
 * Two fields need their domain's meaning: a per-action autonomy entry is compared with what the
 * parent resolves for that tool, and a connector absent from the parent's map is disabled.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

static const struct pol_list empty_list = {.any = false, .n = 0, .items = NULL};
static const struct pol_list any_list = {.any = true, .n = 0, .items = NULL};
static const struct pol_map empty_map = {.n = 0, .e = NULL};

void pol_eff_defaults(struct pol_doc *eff, enum pol_domain d)
{
    memset(eff, 0, sizeof(*eff));
    eff->domain = d;
    const struct pol_domain_schema *sc = &pol_schema[d];
    for (size_t i = 0; i < sc->n; i++) {
        const struct pol_field *f = &sc->fields[i];
        struct pol_val *v = &eff->v[i];
        v->set = true;
        v->src = POL_SRC_DEFAULT;
        v->i = f->def_i;
        if (f->type == POL_T_LIST)
            v->u.l = f->def_any ? &any_list : &empty_list;
        else if (f->type == POL_T_STRING)
            v->u.s = f->def_s;
        else if (f->type == POL_T_MAP)
            v->u.m = &empty_map;
    }
}

static int64_t restrict_scalar(enum pol_merge m, int64_t p, int64_t c)
{
    switch (m) {
    case POL_M_AND:
        return p && c;
    case POL_M_OR:
        return p || c;
    case POL_M_MIN:
        return GW_MIN(p, c);
    case POL_M_MAX:
        return GW_MAX(p, c);
    default:
        return p;
    }
}

static const struct pol_list *list_intersect(struct gw_pool *pool, const struct pol_list *a,
                                             const struct pol_list *b)
{
    if (b->any)
        return a;
    if (a->any)
        return b;
    struct pol_list *r = gw_pool_calloc(pool, sizeof(*r));
    r->items = gw_pool_calloc(pool, (GW_MIN(a->n, b->n) + 1) * sizeof(*r->items));
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int c = strcmp(a->items[i], b->items[j]);
        if (c == 0) {
            r->items[r->n++] = a->items[i];
            i++, j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    return r;
}

static const struct pol_list *list_union(struct gw_pool *pool, const struct pol_list *a,
                                         const struct pol_list *b)
{
    if (a->any)
        return a;
    if (b->any)
        return b;
    struct pol_list *r = gw_pool_calloc(pool, sizeof(*r));
    r->items = gw_pool_calloc(pool, (a->n + b->n + 1) * sizeof(*r->items));
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->items[i], b->items[j]);
        if (c == 0) {
            r->items[r->n++] = a->items[i];
            i++, j++;
        } else if (c < 0) {
            r->items[r->n++] = a->items[i++];
        } else {
            r->items[r->n++] = b->items[j++];
        }
    }
    return r;
}

bool pol_list_equal(const struct pol_list *a, const struct pol_list *b)
{
    if (a->any != b->any || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    return true;
}

int pol_actions_resolve(const struct pol_doc *eff, const char *action, uint8_t *src,
                        const char **why)
{
    const struct pol_val *blocked = &eff->v[F_ACT_BLOCKED];
    uint8_t s;
    const char *w;
    int r;
    const struct pol_entry *e;
    if (pol_list_has(blocked->u.l, action)) {
        r = POL_BLOCK, s = blocked->src, w = "blocked";
    } else if ((e = pol_map_find(eff->v[F_ACT_PER_ACTION].u.m, action)) && e->v[0].set) {
        r = (int)e->v[0].i, s = e->v[0].src, w = "per_action";
    } else if (pol_list_has(eff->v[F_ACT_AUTONOMOUS].u.l, action)) {
        r = POL_AUTONOMOUS, s = eff->v[F_ACT_AUTONOMOUS].src, w = "autonomous";
    } else {
        r = (int)eff->v[F_ACT_DEFAULT].i, s = eff->v[F_ACT_DEFAULT].src, w = "default_autonomy";
    }
    if (src)
        *src = s;
    if (why)
        *why = w;
    return r;
}

struct pol_val pol_connector_sub(const struct pol_doc *eff, const struct pol_entry *e, size_t sub)
{
    const struct pol_field *f = &pol_schema[POL_D_INTEGRATIONS].fields[F_INT_CONNECTORS].sub[sub];
    if (e && e->v[sub].set)
        return e->v[sub];
    if (f->fallback >= 0)
        return eff->v[f->fallback];
    struct pol_val d = {.set = true, .src = POL_SRC_DEFAULT, .i = f->def_i};
    return d;
}

static struct pol_val restrict_val(const struct pol_field *f, struct pol_val p,
                                   const struct pol_val *c, uint8_t depth)
{
    if (!c->set)
        return p;
    int64_t n = restrict_scalar(f->merge, p.i, c->i);
    if (n != p.i) {
        p.i = n;
        p.src = depth;
    }
    p.set = true;
    return p;
}

/* per_action: union of entries; a child entry is at least what the parent resolves. */
static const struct pol_map *merge_per_action(struct gw_pool *pool, const struct pol_doc *parent,
                                              const struct pol_map *pm, const struct pol_map *cm,
                                              uint8_t depth)
{
    struct pol_map *r = gw_pool_calloc(pool, sizeof(*r));
    r->e = gw_pool_calloc(pool, (pm->n + cm->n + 1) * sizeof(*r->e));
    size_t i = 0, j = 0;
    while (i < pm->n || j < cm->n) {
        int c = i == pm->n ? 1 : j == cm->n ? -1 : strcmp(pm->e[i].name, cm->e[j].name);
        if (c < 0) {
            r->e[r->n++] = pm->e[i++];
            continue;
        }
        const struct pol_entry *ce = &cm->e[j++];
        if (c == 0)
            i++;
        uint8_t psrc;
        int pres = pol_actions_resolve(parent, ce->name, &psrc, NULL);
        struct pol_entry *ne = &r->e[r->n++];
        ne->name = ce->name;
        ne->v[0].set = true;
        if (ce->v[0].set && ce->v[0].i > pres) {
            ne->v[0].i = ce->v[0].i;
            ne->v[0].src = depth;
        } else {
            ne->v[0].i = pres;
            ne->v[0].src = psrc;
        }
    }
    return r;
}

/* connectors: union of entries; an entry absent above is disabled. */
static const struct pol_map *merge_connectors(struct gw_pool *pool, const struct pol_doc *parent,
                                              const struct pol_field *f, uint8_t map_src,
                                              const struct pol_map *pm, const struct pol_map *cm,
                                              uint8_t depth)
{
    struct pol_map *r = gw_pool_calloc(pool, sizeof(*r));
    r->e = gw_pool_calloc(pool, (pm->n + cm->n + 1) * sizeof(*r->e));
    size_t i = 0, j = 0;
    while (i < pm->n || j < cm->n) {
        int c = i == pm->n ? 1 : j == cm->n ? -1 : strcmp(pm->e[i].name, cm->e[j].name);
        if (c < 0) {
            r->e[r->n++] = pm->e[i++];
            continue;
        }
        const struct pol_entry *ce = &cm->e[j++];
        const struct pol_entry *pe = c == 0 ? &pm->e[i++] : NULL;
        struct pol_entry *ne = &r->e[r->n++];
        ne->name = ce->name;
        for (size_t k = 0; k < f->n_sub; k++) {
            struct pol_val pv;
            if (!pe && k == S_CONN_ENABLED) {
                pv = (struct pol_val){.set = true, .src = map_src, .i = 0};
            } else if (pe && pe->v[k].set) {
                pv = pe->v[k];
            } else if (!ce->v[k].set) {
                ne->v[k] = pe ? pe->v[k] : ce->v[k]; /* stays unset: resolved at decision */
                continue;
            } else {
                pv = pol_connector_sub(parent, NULL, k);
            }
            ne->v[k] = restrict_val(&f->sub[k], pv, &ce->v[k], depth);
        }
    }
    return r;
}

static const struct pol_map *copy_map_src(struct gw_pool *pool, const struct pol_field *f,
                                          const struct pol_map *m, uint8_t depth)
{
    struct pol_map *r = gw_pool_calloc(pool, sizeof(*r));
    r->n = m->n;
    r->e = gw_pool_calloc(pool, (m->n + 1) * sizeof(*r->e));
    for (size_t i = 0; i < m->n; i++) {
        r->e[i] = m->e[i];
        for (size_t k = 0; k < f->n_sub; k++)
            r->e[i].v[k].src = depth;
    }
    return r;
}

void pol_eff_apply(struct gw_pool *pool, struct pol_doc *eff, const struct pol_doc *doc,
                   uint8_t depth, bool override)
{
    const struct pol_domain_schema *sc = &pol_schema[eff->domain];
    const struct pol_doc parent = *eff; /* shallow: values are never modified in place */
    for (size_t i = 0; i < sc->n; i++) {
        const struct pol_field *f = &sc->fields[i];
        const struct pol_val *c = &doc->v[i];
        struct pol_val *p = &eff->v[i];
        if (!c->set)
            continue;
        if (override) {
            *p = *c;
            p->src = depth;
            if (f->type == POL_T_MAP)
                p->u.m = copy_map_src(pool, f, c->u.m, depth);
            continue;
        }
        switch (f->merge) {
        case POL_M_AND:
        case POL_M_OR:
        case POL_M_MIN:
        case POL_M_MAX:
            *p = restrict_val(f, *p, c, depth);
            break;
        case POL_M_INTERSECT: {
            const struct pol_list *r = list_intersect(pool, p->u.l, c->u.l);
            if (!pol_list_equal(r, p->u.l)) {
                p->u.l = r;
                p->src = depth;
            }
            break;
        }
        case POL_M_UNION: {
            const struct pol_list *r = list_union(pool, p->u.l, c->u.l);
            if (!pol_list_equal(r, p->u.l)) {
                p->u.l = r;
                p->src = depth;
            }
            break;
        }
        case POL_M_PIN:
            /* kept when equal; cleared when the child clears it or names another model */
            if (p->u.s && (!c->u.s || strcmp(p->u.s, c->u.s) != 0)) {
                p->u.s = NULL;
                p->src = depth;
            }
            break;
        case POL_M_ENTRIES:
            if (eff->domain == POL_D_ACTIONS)
                p->u.m = merge_per_action(pool, &parent, p->u.m, c->u.m, depth);
            else
                p->u.m = merge_connectors(pool, &parent, f, p->src, p->u.m, c->u.m, depth);
            break;
        }
    }
}
