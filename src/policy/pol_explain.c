/* SPDX-License-Identifier: MIT
 * pol_explain.c — "why?": the trace of a decision through every scope level, and its rendering.
 *
 * For each level of the chain (enterprise, each org path prefix, team, user) the trace says
 * which policy of the domain sits there (id, version) and what it contributes to this decision:
 * only the fields the decision reads, and for lists and maps only the entry of the resource
 * ("blocked lists deleteEmail", "connectors.github={enabled=true, permissions=write}"). The
 * deciding level is flagged. Also renders decisions as JSON / text and an effective policy with
 * the origin of every field (a user may read their own effective policy).
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

#include <stdarg.h>

struct note {
    char *buf;
    size_t cap, len;
};

static void add(struct note *n, const char *fmt, ...) GW_PRINTF(2, 3);
static void add(struct note *n, const char *fmt, ...)
{
    if (n->len >= n->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(n->buf + n->len, n->cap - n->len, fmt, ap);
    va_end(ap);
    n->len = k < 0 ? n->cap : GW_MIN(n->cap, n->len + (size_t)k);
}

/* item a list field is consulted for, NULL for scalars */
static const char *field_item(const struct pol_request *rq, enum pol_domain d, size_t f, char *pbuf,
                              size_t pcap)
{
    switch (d) {
    case POL_D_ACTIONS:
        return rq->resource;
    case POL_D_INTEGRATIONS:
        return rq->resource;
    case POL_D_MODELS:
        return f == F_MOD_PROVIDERS ? pol_model_provider(rq, pbuf, pcap) : rq->resource;
    case POL_D_A2A:
        return pol_ctx_get(rq, "exchange_type");
    default:
        return NULL;
    }
}

static bool consulted(const struct pol_request *rq, enum pol_domain d, size_t f)
{
    if (d == POL_D_FEATURES)
        return pol_field_index(d, rq->resource) == (int)f;
    if (d == POL_D_DATA)
        return f != F_DATA_RETENTION_DAYS;
    return true;
}

static void note_field(struct note *n, const struct pol_field *f, const struct pol_val *v,
                       const char *item)
{
    char shown[160];
    const char *sep = n->len ? "; " : "";
    if (f->type == POL_T_LIST && item) {
        bool has = pol_list_has(v->u.l, item);
        add(n, "%s%s %s %s", sep, f->name,
            f->merge == POL_M_UNION ? (has ? "lists" : "does not list")
                                    : (has ? "allows" : "does not allow"),
            item);
    } else if (f->type == POL_T_MAP && item) {
        const struct pol_entry *e = pol_map_find(v->u.m, item);
        if (!e) {
            add(n, "%s%s has no entry for %s", sep, f->name, item);
            return;
        }
        if (f->n_sub == 1) {
            add(n, "%s%s.%s=%s", sep, f->name, item,
                pol_val_show(&f->sub[0], &e->v[0], shown, sizeof(shown)));
            return;
        }
        add(n, "%s%s.%s={", sep, f->name, item);
        bool first = true;
        for (size_t k = 0; k < f->n_sub; k++)
            if (e->v[k].set) {
                add(n, "%s%s=%s", first ? "" : ", ", f->sub[k].name,
                    pol_val_show(&f->sub[k], &e->v[k], shown, sizeof(shown)));
                first = false;
            }
        add(n, "}");
    } else {
        add(n, "%s%s=%s", sep, f->name, pol_val_show(f, v, shown, sizeof(shown)));
    }
}

void pol_trace_build(const struct pol_chain *chain, const struct pol_request *rq, enum pol_domain d,
                     int decider, struct pol_trace *trace)
{
    const struct pol_chain *lv[POL_LEVELS_MAX];
    trace->n = 0;
    for (const struct pol_chain *c = chain; c; c = c->parent)
        lv[c->depth] = c;
    for (size_t k = 0; chain && k <= chain->depth && trace->n < POL_TRACE_MAX; k++) {
        const struct pol_chain *c = lv[k];
        struct pol_trace_step *st = &trace->steps[trace->n++];
        memset(st, 0, sizeof(*st));
        st->scope = c->scope;
        snprintf(st->scope_id, sizeof(st->scope_id), "%s", c->scope_id ? c->scope_id : "");
        const struct pol_cpol *p = c->node ? c->node->pol[d] : NULL;
        struct note n = {.buf = st->note, .cap = sizeof(st->note)};
        if (!p) {
            add(&n, "no %s policy at this level", pol_domain_name(d));
            continue;
        }
        st->policy_id = p->id;
        st->version = p->version;
        st->deciding = (int)k == decider || (decider == -2 && p->poison);
        if (p->poison) {
            add(&n, "%s: fails closed", p->poison);
            continue;
        }
        const struct pol_domain_schema *sc = &pol_schema[d];
        for (size_t f = 0; f < sc->n; f++) {
            if (!p->doc->v[f].set || !consulted(rq, d, f))
                continue;
            char pbuf[POL_NAME_MAX + 1];
            const char *item = sc->fields[f].type == POL_T_LIST || sc->fields[f].type == POL_T_MAP
                                   ? field_item(rq, d, f, pbuf, sizeof(pbuf))
                                   : NULL;
            note_field(&n, &sc->fields[f], &p->doc->v[f], item);
        }
        if (!n.len)
            add(&n, "sets nothing this decision reads");
    }
}

json_t *pol_decision_to_json(const struct pol_decision *d, const struct pol_trace *trace)
{
    json_t *o = json_object();
    json_object_set_new(o, "decision", json_string(pol_effect_name(d->effect)));
    json_object_set_new(o, "reason", json_string(d->reason));
    json_object_set_new(o, "domain", json_string(pol_domain_name(d->domain)));
    if (d->has_policy) {
        json_t *p = json_object();
        json_object_set_new(p, "id", json_string(d->policy_id));
        json_object_set_new(p, "version", json_integer(d->policy_version));
        json_object_set_new(p, "scope", json_string(pol_scope_name(d->scope)));
        json_object_set_new(p, "scope_id", d->scope_id ? json_string(d->scope_id) : json_null());
        json_object_set_new(o, "policy", p);
    } else {
        json_object_set_new(o, "policy", json_null());
    }
    json_object_set_new(o, "classification",
                        d->classification >= 0 ? json_string(pol_level_name(d->classification))
                                               : json_null());
    json_t *ob = json_object();
    json_object_set_new(ob, "disclosure_required", json_boolean(d->ob.disclosure_required));
    json_object_set_new(ob, "max_classification",
                        d->ob.max_classification >= 0
                            ? json_string(pol_level_name(d->ob.max_classification))
                            : json_null());
    json_object_set_new(ob, "reroute_model",
                        d->ob.reroute_model ? json_string(d->ob.reroute_model) : json_null());
    json_object_set_new(ob, "redact", json_boolean(d->ob.redact));
    json_object_set_new(o, "obligations", ob);
    json_object_set_new(o, "audit", json_boolean(d->audit));
    json_object_set_new(o, "alert", json_boolean(d->alert));
    json_object_set_new(o, "snapshot", json_integer((json_int_t)d->snapshot));
    if (trace) {
        json_t *a = json_array();
        for (size_t i = 0; i < trace->n; i++) {
            const struct pol_trace_step *st = &trace->steps[i];
            json_t *s = json_object();
            json_object_set_new(s, "scope", json_string(pol_scope_name(st->scope)));
            json_object_set_new(s, "scope_id",
                                st->scope_id[0] ? json_string(st->scope_id) : json_null());
            json_object_set_new(s, "policy_id",
                                st->policy_id ? json_string(st->policy_id) : json_null());
            if (st->policy_id)
                json_object_set_new(s, "version", json_integer(st->version));
            json_object_set_new(s, "deciding", json_boolean(st->deciding));
            json_object_set_new(s, "contributes", json_string(st->note));
            json_array_append_new(a, s);
        }
        json_object_set_new(o, "trace", a);
    }
    return o;
}

void pol_explain_text(const struct pol_decision *d, const struct pol_trace *trace, char *buf,
                      size_t cap)
{
    struct note n = {.buf = buf, .cap = cap};
    if (!cap)
        return;
    buf[0] = '\0';
    add(&n, "%s: %s\n", pol_effect_name(d->effect), d->reason);
    if (d->has_policy)
        add(&n, "decided by policy %s v%lld at %s%s%s\n", d->policy_id,
            (long long)d->policy_version, pol_scope_name(d->scope), d->scope_id ? " " : "",
            d->scope_id ? d->scope_id : "");
    else
        add(&n, "decided by no policy (default deny / invalid input)\n");
    if (d->ob.disclosure_required)
        add(&n, "obligation: disclose the action to the user\n");
    if (d->ob.max_classification >= 0)
        add(&n, "obligation: max classification %s\n", pol_level_name(d->ob.max_classification));
    if (d->ob.reroute_model)
        add(&n, "obligation: reroute to model %s\n", d->ob.reroute_model);
    if (d->ob.redact)
        add(&n, "obligation: redact findings before the data leaves\n");
    for (size_t i = 0; trace && i < trace->n; i++) {
        const struct pol_trace_step *st = &trace->steps[i];
        add(&n, "%s %-10s %-24s %-20s %s\n", st->deciding ? "=>" : "  ", pol_scope_name(st->scope),
            st->scope_id[0] ? st->scope_id : "-", st->policy_id ? st->policy_id : "-", st->note);
    }
}

json_t *pol_effective_json(struct pol_snapshot *s, const char *tenant, const char *org_unit,
                           const char *team, const char *user, enum pol_domain d)
{
    if (!s || (unsigned)d >= POL_D__COUNT)
        return NULL;
    struct gw_pool *scratch = gw_pool_new();
    char msg[160];
    json_t *out = NULL;
    const struct pol_chain *c = pol_chain_get(s, tenant, org_unit, team, user, scratch, msg,
                                              sizeof(msg));
    const struct pol_eff *e = c ? c->eff[d] : NULL;
    if (!e)
        goto out;
    out = json_object();
    json_object_set_new(out, "domain", json_string(pol_domain_name(d)));
    if (!e->doc) {
        json_object_set_new(out, "error", json_string(e->poison->poison));
        goto out;
    }
    json_t *pol = json_object(), *src = json_object();
    const struct pol_domain_schema *sc = &pol_schema[d];
    for (size_t i = 0; i < sc->n; i++) {
        const struct pol_val *v = &e->doc->v[i];
        json_object_set_new(pol, sc->fields[i].name, pol_val_to_json(&sc->fields[i], v));
        const struct pol_chain *lc = v->src == POL_SRC_DEFAULT ? NULL : pol_chain_at(c, v->src);
        const struct pol_cpol *p = lc && lc->node ? lc->node->pol[d] : NULL;
        if (sc->fields[i].type == POL_T_MAP || !p) {
            json_object_set_new(src, sc->fields[i].name,
                                json_string(sc->fields[i].type == POL_T_MAP ? "merged"
                                                                            : "default"));
            continue;
        }
        char *t = gw_xasprintf("%s%s%s (policy %s v%lld)", pol_scope_name(p->scope),
                               p->scope_id ? " " : "", p->scope_id ? p->scope_id : "", p->id,
                               (long long)p->version);
        json_object_set_new(src, sc->fields[i].name, json_string(t));
        free(t);
    }
    json_object_set_new(out, "policy", pol);
    json_object_set_new(out, "source", src);
out:
    gw_pool_free(scratch);
    return out;
}
