/* SPDX-License-Identifier: MIT
 * pol_validate.c — write-time check that a policy never loosens its parent chain.
 *
 * The proposed document is compared, field by field in each field's declared direction, with
 * the effective policy of its parent chain (the levels above its own position: for an org path
 * the enterprise and the shorter prefixes; for a team its org path; for a user its org path and
 * team). Fields no level above sets are compared with the schema defaults, which are what the
 * parent chain effectively means. Every violation is reported (each field, each list item, each
 * map entry), naming the parent value and the policy and scope that set it, so an admin can
 * fix them all at once. The merge restricts anyway; this check makes the refusal explicit.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

struct vctx {
    struct pol_snapshot *s;
    const struct pol_chain *chain; /* parent chain, may be NULL (defaults) */
    enum pol_domain d;
    const struct pol_doc *parent;
    struct pol_issues *out;
    bool ok;
};

static const char *origin(const struct vctx *v, uint8_t src, char *buf, size_t cap)
{
    const struct pol_chain *lc = src == POL_SRC_DEFAULT ? NULL : pol_chain_at(v->chain, src);
    const struct pol_cpol *p = lc && lc->node ? lc->node->pol[v->d] : NULL;
    if (!p)
        snprintf(buf, cap, "the schema default");
    else
        snprintf(buf, cap, "%s%s%s policy %s v%lld", pol_scope_name(p->scope),
                 p->scope_id ? " " : "", p->scope_id ? p->scope_id : "", p->id,
                 (long long)p->version);
    return buf;
}

static const char *hint(const struct pol_field *f)
{
    switch (f->merge) {
    case POL_M_AND:
        return "it can only be turned off below";
    case POL_M_OR:
        return "it can only be turned on below";
    case POL_M_MIN:
        return f->type == POL_T_LEVEL ? "a classification ceiling can only be lowered below"
                                      : "it can only decrease below";
    case POL_M_MAX:
        if (f->type == POL_T_ENUM)
            return f->names == pol_schema[POL_D_ACTIONS].fields[F_ACT_DEFAULT].names
                       ? "autonomy can only move toward block (autonomous < notify < approve < "
                         "block)"
                       : "permissions can only move toward read (admin < write < read)";
        return f->type == POL_T_LEVEL ? "a classification floor can only be raised below"
                                      : "it can only increase below";
    default:
        return "";
    }
}

static bool scalar_looser(enum pol_merge m, int64_t p, int64_t c)
{
    switch (m) {
    case POL_M_AND:
        return c && !p;
    case POL_M_OR:
        return !c && p;
    case POL_M_MIN:
        return c > p;
    case POL_M_MAX:
        return c < p;
    default:
        return false;
    }
}

static void check_scalar(struct vctx *v, const char *path, const struct pol_field *f,
                         const struct pol_val *pv, const struct pol_val *cv)
{
    if (!cv->set || !scalar_looser(f->merge, pv->i, cv->i))
        return;
    char a[64], b[64], o[300];
    pol_issue_add(v->out, path, "%s: %s is looser than %s set by %s; %s", path,
                  pol_val_show(f, cv, a, sizeof(a)), pol_val_show(f, pv, b, sizeof(b)),
                  origin(v, pv->src, o, sizeof(o)), hint(f));
    v->ok = false;
}

static void check_list(struct vctx *v, const struct pol_field *f, const struct pol_val *pv,
                       const struct pol_val *cv)
{
    if (f->merge != POL_M_INTERSECT)
        return; /* deny-lists are unions: a child only adds */
    const struct pol_list *p = pv->u.l, *c = cv->u.l;
    char o[300], shown[400];
    if (p->any)
        return;
    if (c->any) {
        pol_issue_add(v->out, f->name,
                      "%s: \"*\" (any) is looser than %s set by %s; an "
                      "allow-list can only be narrowed below",
                      f->name, pol_val_show(f, pv, shown, sizeof(shown)),
                      origin(v, pv->src, o, sizeof(o)));
        v->ok = false;
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (pol_list_has(p, c->items[i]))
            continue;
        pol_issue_add(v->out, f->name,
                      "%s: '%s' is not allowed by the parent (%s set by %s); an "
                      "allow-list can only be narrowed below",
                      f->name, c->items[i], pol_val_show(f, pv, shown, sizeof(shown)),
                      origin(v, pv->src, o, sizeof(o)));
        v->ok = false;
    }
}

static void check_per_action(struct vctx *v, const struct pol_field *f, const struct pol_val *cv)
{
    for (size_t i = 0; i < cv->u.m->n; i++) {
        const struct pol_entry *e = &cv->u.m->e[i];
        uint8_t src;
        const char *why;
        int pres = pol_actions_resolve(v->parent, e->name, &src, &why);
        if (!e->v[0].set || e->v[0].i >= pres)
            continue;
        char path[POL_NAME_MAX + 32], o[300];
        snprintf(path, sizeof(path), "%s.%s", f->name, e->name);
        pol_issue_add(v->out, path,
                      "%s: %s is looser than %s, what the parent resolves for "
                      "'%s' (from actions.%s, set by %s); %s",
                      path, f->sub[0].names[e->v[0].i], f->sub[0].names[pres], e->name, why,
                      origin(v, src, o, sizeof(o)), hint(&f->sub[0]));
        v->ok = false;
    }
}

static void check_connectors(struct vctx *v, const struct pol_field *f, const struct pol_val *cv)
{
    const struct pol_val *pmap = &v->parent->v[F_INT_CONNECTORS];
    for (size_t i = 0; i < cv->u.m->n; i++) {
        const struct pol_entry *ce = &cv->u.m->e[i];
        const struct pol_entry *pe = pol_map_find(pmap->u.m, ce->name);
        for (size_t k = 0; k < f->n_sub; k++) {
            if (!ce->v[k].set)
                continue;
            char path[POL_NAME_MAX + 64], o[300];
            snprintf(path, sizeof(path), "%s.%s.%s", f->name, ce->name, f->sub[k].name);
            if (!pe && k == S_CONN_ENABLED) {
                if (ce->v[k].i) {
                    pol_issue_add(v->out, path,
                                  "%s: connector '%s' is not enabled by the parent "
                                  "(absent from connectors in %s); it cannot be enabled below",
                                  path, ce->name, origin(v, pmap->src, o, sizeof(o)));
                    v->ok = false;
                }
                continue;
            }
            struct pol_val pv = pol_connector_sub(v->parent, pe, k);
            check_scalar(v, path, &f->sub[k], &pv, &ce->v[k]);
        }
    }
}

static void check_pin(struct vctx *v, const struct pol_field *f, const struct pol_val *pv,
                      const struct pol_val *cv)
{
    if (!cv->u.s || (pv->u.s && strcmp(pv->u.s, cv->u.s) == 0))
        return;
    char o[300];
    pol_issue_add(v->out, f->name,
                  "%s: '%s' differs from the parent's %s%s%s (set by %s); it can "
                  "only be kept or cleared (null) below",
                  f->name, cv->u.s, pv->u.s ? "'" : "", pv->u.s ? pv->u.s : "none",
                  pv->u.s ? "'" : "", origin(v, pv->src, o, sizeof(o)));
    v->ok = false;
}

bool pol_validate(struct pol_snapshot *s, const struct pol_position *pos, const struct pol_doc *doc,
                  struct pol_issues *out)
{
    if (!pos || !doc || (unsigned)doc->domain >= POL_D__COUNT) {
        pol_issue_add(out, "", "nothing to validate");
        return false;
    }
    if (pos->scope == POL_SCOPE_ENTERPRISE)
        return true;
    if (!s) {
        pol_issue_add(out, "", "no policy snapshot to validate against");
        return false;
    }
    char org[POL_NAME_MAX + 1] = "";
    const char *team = "";
    switch (pos->scope) {
    case POL_SCOPE_ORG: {
        if (!pos->scope_id || !pol_org_path_valid(pos->scope_id)) {
            pol_issue_add(out, "scope_id", "scope_id: not a valid org unit path");
            return false;
        }
        snprintf(org, sizeof(org), "%s", pos->scope_id);
        char *slash = strrchr(org, '/');
        if (slash)
            *slash = '\0';
        else
            org[0] = '\0';
        break;
    }
    case POL_SCOPE_USER:
        team = pos->team ? pos->team : "";
        /* fall through */
    case POL_SCOPE_TEAM:
        snprintf(org, sizeof(org), "%s", pos->org_unit ? pos->org_unit : "");
        break;
    default:
        pol_issue_add(out, "scope", "scope: unknown");
        return false;
    }
    struct gw_pool *scratch = gw_pool_new();
    char msg[160];
    struct vctx v = {.s = s, .d = doc->domain, .out = out, .ok = true};
    v.chain = pol_chain_get(s, pos->tenant, org, team, "", scratch, msg, sizeof(msg));
    struct pol_doc defaults;
    if (!v.chain) {
        pol_issue_add(out, "", "cannot compute the parent policy: %s", msg);
        v.ok = false;
        goto out;
    }
    const struct pol_eff *pe = v.chain->eff[v.d];
    if (pe && !pe->doc) {
        pol_issue_add(out, "", "the parent chain holds an invalid policy (%s); fix it first",
                      pe->poison->poison);
        v.ok = false;
        goto out;
    }
    if (!pe) {
        pol_eff_defaults(&defaults, v.d);
        v.parent = &defaults;
    } else {
        v.parent = pe->doc;
    }
    const struct pol_domain_schema *sc = &pol_schema[v.d];
    for (size_t i = 0; i < sc->n; i++) {
        const struct pol_field *f = &sc->fields[i];
        const struct pol_val *cv = &doc->v[i], *pv = &v.parent->v[i];
        if (!cv->set)
            continue;
        switch (f->type) {
        case POL_T_LIST:
            check_list(&v, f, pv, cv);
            break;
        case POL_T_STRING:
            check_pin(&v, f, pv, cv);
            break;
        case POL_T_MAP:
            if (v.d == POL_D_ACTIONS)
                check_per_action(&v, f, cv);
            else
                check_connectors(&v, f, cv);
            break;
        default:
            check_scalar(&v, f->name, f, pv, cv);
            break;
        }
    }
out:
    gw_pool_free(scratch);
    return v.ok;
}
