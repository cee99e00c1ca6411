/* SPDX-License-Identifier: MIT
 * pol_eval.c — the decision: (identity, action, resource, classification, context) → allow |
 * require_approval | deny, with reason, deciding policy and obligations.
 *
 * The chain's effective policy of the action's domain (cached, see pol_snapshot.c) is read; no
 * policy of that domain anywhere in the chain means deny, a poisoned (invalid) policy in the
 * chain means deny, a malformed request means deny. Within a domain the checks that deny run
 * first, then those that ask for approval, then allow: deny beats approval beats allow whatever
 * the order of the fields. Each outcome names the chain level (hence policy id, version, scope)
 * that set the deciding value; list memberships are traced to the first level that listed (or
 * dropped) the name. Model routing: data above the provider's ceiling goes to the pinned
 * self-hosted model as an explicit obligation with its reason, or is denied.
 * Nothing here allocates on a cached chain: results go into the caller's struct.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

#include <stdarg.h>

struct ectx {
    const struct pol_request *rq;
    const struct pol_chain *chain;
    const struct pol_doc *eff;
    struct pol_decision *out;
    int decider; /* chain depth, -1 = none */
};

const char *pol_ctx_get(const struct pol_request *rq, const char *key)
{
    for (size_t i = 0; i < rq->n_ctx; i++)
        if (rq->ctx[i].key && strcmp(rq->ctx[i].key, key) == 0)
            return rq->ctx[i].value;
    return NULL;
}

/* provider from context "provider", else the part of the model id before '/' */
const char *pol_model_provider(const struct pol_request *rq, char *buf, size_t cap)
{
    const char *p = pol_ctx_get(rq, "provider");
    if (p && *p)
        return p;
    const char *slash = rq->resource ? strchr(rq->resource, '/') : NULL;
    if (!slash || (size_t)(slash - rq->resource) >= cap || slash == rq->resource)
        return NULL;
    memcpy(buf, rq->resource, (size_t)(slash - rq->resource));
    buf[slash - rq->resource] = '\0';
    return buf;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static void decide(struct ectx *x, enum pol_effect eff, int depth, const char *fmt, ...)
    GW_PRINTF(4, 5);

static void decide(struct ectx *x, enum pol_effect eff, int depth, const char *fmt, ...)
{
    x->out->effect = eff;
    x->decider = depth;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->out->reason, sizeof(x->out->reason), fmt, ap);
    va_end(ap);
}

/* The depth of the most specific level with a policy of the domain (defaults applied there). */
static int nearest_policy(const struct pol_chain *c, enum pol_domain d)
{
    for (; c; c = c->parent)
        if (c->node && c->node->pol[d])
            return c->depth;
    return -1;
}

static int src_depth(const struct ectx *x, uint8_t src)
{
    return src == POL_SRC_DEFAULT ? nearest_policy(x->chain, x->out->domain) : src;
}

/* First level (from the top) whose own list decides about item: for a deny-list the first that
 * lists it, for an allow-list the first that does not. */
static int list_decider(const struct ectx *x, size_t field, const char *item, bool deny_list)
{
    const struct pol_chain *lv[POL_LEVELS_MAX];
    for (const struct pol_chain *c = x->chain; c; c = c->parent)
        lv[c->depth] = c;
    for (size_t k = 0; k <= x->chain->depth; k++) {
        const struct pol_cpol *p = lv[k]->node ? lv[k]->node->pol[x->out->domain] : NULL;
        if (!p || !p->doc || !p->doc->v[field].set)
            continue;
        if (pol_list_has(p->doc->v[field].u.l, item) == deny_list)
            return (int)k;
    }
    return src_depth(x, x->eff->v[field].src);
}

static const char *lvl(int l)
{
    return pol_level_name(l);
}

/* --- domains ---------------------------------------------------------------------------------- */

static void eval_tool(struct ectx *x)
{
    const char *tool = x->rq->resource;
    uint8_t src;
    const char *why;
    int a = pol_actions_resolve(x->eff, tool, &src, &why);
    int depth = src_depth(x, src);
    switch (a) {
    case POL_BLOCK:
        if (strcmp(why, "blocked") == 0)
            decide(x, POL_DENY, list_decider(x, F_ACT_BLOCKED, tool, true),
                   "tool '%s' is blocked (actions.blocked)", tool);
        else
            decide(x, POL_DENY, depth, "tool '%s' has autonomy block (actions.%s%s%s)", tool, why,
                   strcmp(why, "per_action") ? "" : ".", strcmp(why, "per_action") ? "" : tool);
        break;
    case POL_APPROVE:
        decide(x, POL_REQUIRE_APPROVAL, depth,
               "tool '%s' requires approval (autonomy approve from actions.%s%s%s)", tool, why,
               strcmp(why, "per_action") ? "" : ".", strcmp(why, "per_action") ? "" : tool);
        break;
    case POL_NOTIFY:
        x->out->ob.disclosure_required = true;
        decide(x, POL_ALLOW, depth,
               "tool '%s' may run with disclosure (autonomy notify from actions.%s%s%s)", tool, why,
               strcmp(why, "per_action") ? "" : ".", strcmp(why, "per_action") ? "" : tool);
        break;
    case POL_AUTONOMOUS:
        decide(x, POL_ALLOW,
               strcmp(why, "autonomous") == 0 ? list_decider(x, F_ACT_AUTONOMOUS, tool, true)
                                              : depth,
               "tool '%s' is autonomous (actions.%s%s%s)", tool, why,
               strcmp(why, "per_action") ? "" : ".", strcmp(why, "per_action") ? "" : tool);
        break;
    default:
        decide(x, POL_DENY, -1, "evaluation error: invalid autonomy value; failing closed");
    }
}

static void eval_connector(struct ectx *x, bool write, int level)
{
    const char *name = x->rq->resource;
    const struct pol_val *map = &x->eff->v[F_INT_CONNECTORS];
    const struct pol_entry *e = pol_map_find(map->u.m, name);
    if (!e) {
        decide(x, POL_DENY, src_depth(x, map->src),
               "connector '%s' is not enabled (not in integrations.connectors)", name);
        return;
    }
    struct pol_val en = pol_connector_sub(x->eff, e, S_CONN_ENABLED);
    struct pol_val mc = pol_connector_sub(x->eff, e, S_CONN_MAX_CLASS);
    struct pol_val pm = pol_connector_sub(x->eff, e, S_CONN_PERMS);
    if (mc.i < 0 || mc.i >= POL_LEVEL__COUNT || pm.i < 0 || pm.i > POL_PERM_READ) {
        decide(x, POL_DENY, -1, "evaluation error: invalid connector settings; failing closed");
        return;
    }
    x->out->ob.max_classification = (int)mc.i;
    if (!en.i) {
        decide(x, POL_DENY, src_depth(x, en.src),
               "connector '%s' is disabled (integrations.connectors.%s.enabled)", name, name);
        return;
    }
    if (level > mc.i) {
        decide(x, POL_DENY, src_depth(x, mc.src),
               "data classified %s exceeds connector '%s' ceiling %s "
               "(integrations.connectors.%s.max_classification)",
               lvl(level), name, lvl((int)mc.i), name);
        return;
    }
    if (write && pm.i == POL_PERM_READ) {
        decide(x, POL_REQUIRE_APPROVAL, src_depth(x, pm.src),
               "connector '%s' is read-only (permissions read): a write requires approval", name);
        return;
    }
    decide(x, POL_ALLOW, src_depth(x, write ? pm.src : en.src),
           "connector '%s' %s allowed (permissions %s, data %s <= %s)", name,
           write ? "write" : "read",
           pm.i == POL_PERM_ADMIN   ? "admin"
           : pm.i == POL_PERM_WRITE ? "write"
                                    : "read",
           lvl(level), lvl((int)mc.i));
}

static bool redact_external(const struct ectx *x)
{
    const struct pol_eff *d = x->chain->eff[POL_D_DATA];
    return d && d->doc && d->doc->v[F_DATA_REDACT_EXTERNAL].i;
}

static void eval_model(struct ectx *x, int level)
{
    const char *model = x->rq->resource;
    char pbuf[POL_NAME_MAX + 1];
    const char *provider = pol_model_provider(x->rq, pbuf, sizeof(pbuf));
    const struct pol_doc *e = x->eff;
    if (!provider) {
        decide(x, POL_DENY, -1,
               "model call without a provider (context provider or "
               "\"provider/model\" id)");
        return;
    }
    if (!pol_list_has(e->v[F_MOD_PROVIDERS].u.l, provider)) {
        decide(x, POL_DENY, list_decider(x, F_MOD_PROVIDERS, provider, false),
               "provider '%s' is not allowed (models.allowed_providers)", provider);
        return;
    }
    if (!pol_list_has(e->v[F_MOD_MODELS].u.l, model)) {
        decide(x, POL_DENY, list_decider(x, F_MOD_MODELS, model, false),
               "model '%s' is not allowed (models.allowed_models)", model);
        return;
    }
    int64_t spent, limit = e->v[F_MOD_MONTHLY_USD].i;
    if (limit != POL_INT_UNLIMITED && parse_i64(pol_ctx_get(x->rq, "spent_usd"), &spent) &&
        spent >= limit) {
        decide(x, POL_DENY, src_depth(x, e->v[F_MOD_MONTHLY_USD].src),
               "monthly model budget of %lld USD reached (models.monthly_max_usd)",
               (long long)limit);
        return;
    }
    const char *kind = pol_ctx_get(x->rq, "provider_kind");
    bool external = !kind || strcmp(kind, "self_hosted") != 0;
    int ceiling = external ? (int)e->v[F_MOD_MAX_EXTERNAL].i : POL_LEVEL_RESTRICTED;
    int ceil_depth = external ? src_depth(x, e->v[F_MOD_MAX_EXTERNAL].src) : -1;
    const char *ceil_from = external ? "models.max_classification_external" : "self-hosted";
    int pc = pol_level_parse(pol_ctx_get(x->rq, "provider_ceiling"));
    if (pc >= 0 && pc < ceiling) {
        ceiling = pc;
        ceil_from = "the provider's own ceiling";
    }
    if (ceiling < 0 || ceiling >= POL_LEVEL__COUNT) {
        decide(x, POL_DENY, -1, "evaluation error: invalid model ceiling; failing closed");
        return;
    }
    x->out->ob.max_classification = ceiling;
    if (level > ceiling) {
        const struct pol_val *sm = &e->v[F_MOD_SENSITIVE_MODEL];
        if (sm->u.s && strcmp(sm->u.s, model) != 0) {
            x->out->ob.reroute_model = sm->u.s;
            x->out->ob.max_classification = -1;
            decide(x, POL_ALLOW, src_depth(x, sm->src),
                   "data classified %s exceeds the ceiling %s of %s provider '%s' (%s): "
                   "rerouted to self-hosted model '%s' (models.sensitive_data_model)",
                   lvl(level), lvl(ceiling), external ? "external" : "self-hosted", provider,
                   ceil_from, sm->u.s);
            return;
        }
        decide(x, POL_DENY, ceil_depth >= 0 ? ceil_depth : src_depth(x, sm->src),
               "data classified %s exceeds the ceiling %s of %s provider '%s' (%s) and no "
               "self-hosted model is configured (models.sensitive_data_model)",
               lvl(level), lvl(ceiling), external ? "external" : "self-hosted", provider,
               ceil_from);
        return;
    }
    if (external && redact_external(x))
        x->out->ob.redact = true;
    decide(x, POL_ALLOW, list_decider(x, F_MOD_PROVIDERS, provider, true),
           "model '%s' of %s provider '%s' allowed for data classified %s (ceiling %s)", model,
           external ? "external" : "self-hosted", provider, lvl(level), lvl(ceiling));
}

static void eval_agent(struct ectx *x, int level)
{
    const struct pol_doc *e = x->eff;
    const struct pol_request *rq = x->rq;
    if (!e->v[F_A2A_ENABLED].i) {
        decide(x, POL_DENY, src_depth(x, e->v[F_A2A_ENABLED].src),
               "agent-to-agent exchanges are disabled (agent-to-agent.enabled)");
        return;
    }
    const char *type = pol_ctx_get(rq, "exchange_type");
    if (!type || !*type) {
        decide(x, POL_DENY, -1, "agent message without context exchange_type");
        return;
    }
    if (!pol_list_has(e->v[F_A2A_TYPES].u.l, type)) {
        decide(x, POL_DENY, list_decider(x, F_A2A_TYPES, type, false),
               "exchange type '%s' is not allowed (agent-to-agent.allowed_exchange_types)", type);
        return;
    }
    int mc = (int)e->v[F_A2A_MAX_CLASS].i;
    x->out->ob.max_classification = mc;
    if (level > mc) {
        decide(x, POL_DENY, src_depth(x, e->v[F_A2A_MAX_CLASS].src),
               "data classified %s exceeds %s (agent-to-agent.max_classification_shared)",
               lvl(level), lvl(mc));
        return;
    }
    int64_t rounds = 0;
    const char *rs = pol_ctx_get(rq, "rounds");
    if (rs && !parse_i64(rs, &rounds)) {
        decide(x, POL_DENY, -1, "context rounds is not a non-negative integer");
        return;
    }
    if (rounds >= e->v[F_A2A_MAX_ROUNDS].i) {
        decide(x, POL_DENY, src_depth(x, e->v[F_A2A_MAX_ROUNDS].src),
               "exchange already has %lld rounds, limit %lld (agent-to-agent.max_rounds)",
               (long long)rounds, (long long)e->v[F_A2A_MAX_ROUNDS].i);
        return;
    }
    const char *st = pol_ctx_get(rq, "source_tenant"), *tt = pol_ctx_get(rq, "target_tenant");
    st = st ? st : rq->tenant;
    tt = tt ? tt : rq->tenant;
    if (strcmp(st, tt) != 0 && !e->v[F_A2A_CROSS_ENT].i) {
        decide(
            x, POL_DENY, src_depth(x, e->v[F_A2A_CROSS_ENT].src),
            "cross-enterprise exchange %s -> %s is not allowed (agent-to-agent.cross_enterprise)",
            st, tt);
        return;
    }
    const char *so = pol_ctx_get(rq, "source_org"), *to = pol_ctx_get(rq, "target_org");
    so = so ? so : rq->org_unit ? rq->org_unit : "";
    to = to ? to : so;
    if (strcmp(so, to) != 0 && !e->v[F_A2A_CROSS_ORG].i) {
        decide(x, POL_DENY, src_depth(x, e->v[F_A2A_CROSS_ORG].src),
               "cross-org exchange '%s' -> '%s' is not allowed (agent-to-agent.cross_org)", so, to);
        return;
    }
    if (strcmp(type, "commitment_request") == 0 && e->v[F_A2A_COMMIT_APPROVAL].i) {
        decide(x, POL_REQUIRE_APPROVAL, src_depth(x, e->v[F_A2A_COMMIT_APPROVAL].src),
               "commitment requests require approval "
               "(agent-to-agent.require_approval_for_commitments)");
        return;
    }
    if (strcmp(st, tt) != 0 && redact_external(x))
        x->out->ob.redact = true;
    decide(x, POL_ALLOW, list_decider(x, F_A2A_TYPES, type, true),
           "exchange '%s' with '%s' allowed (data %s <= %s, round %lld of %lld)", type,
           rq->resource, lvl(level), lvl(mc), (long long)rounds + 1,
           (long long)e->v[F_A2A_MAX_ROUNDS].i);
}

static void eval_feature(struct ectx *x)
{
    int idx = pol_field_index(POL_D_FEATURES, x->rq->resource);
    if (idx < 0) {
        decide(x, POL_DENY, -1, "unknown feature '%s'", x->rq->resource);
        return;
    }
    const struct pol_val *v = &x->eff->v[idx];
    decide(x, v->i ? POL_ALLOW : POL_DENY, src_depth(x, v->src), "feature '%s' is %s (features.%s)",
           x->rq->resource, v->i ? "enabled" : "disabled", x->rq->resource);
}

static void eval_export(struct ectx *x, int level)
{
    const struct pol_doc *e = x->eff;
    if (!e->v[F_DATA_ALLOW_EXPORT].i) {
        decide(x, POL_DENY, src_depth(x, e->v[F_DATA_ALLOW_EXPORT].src),
               "data export is not allowed (data.allow_data_export)");
        return;
    }
    int em = (int)e->v[F_DATA_EXPORT_MAX].i, xm = (int)e->v[F_DATA_EXTERNAL_MAX].i;
    if (level > em) {
        decide(x, POL_DENY, src_depth(x, e->v[F_DATA_EXPORT_MAX].src),
               "data classified %s exceeds %s (data.export_max_classification)", lvl(level),
               lvl(em));
        return;
    }
    const char *dest = pol_ctx_get(x->rq, "destination");
    bool external = !dest || strcmp(dest, "internal") != 0;
    if (external && level > xm) {
        decide(x, POL_DENY, src_depth(x, e->v[F_DATA_EXTERNAL_MAX].src),
               "data classified %s may not leave the tenant above %s (data.external_sharing_max)",
               lvl(level), lvl(xm));
        return;
    }
    x->out->ob.max_classification = external ? GW_MIN(em, xm) : em;
    if (external && e->v[F_DATA_REDACT_EXTERNAL].i)
        x->out->ob.redact = true;
    decide(x, POL_ALLOW, src_depth(x, e->v[F_DATA_ALLOW_EXPORT].src),
           "%s export of data classified %s allowed", external ? "external" : "internal",
           lvl(level));
}

/* --- entry point ------------------------------------------------------------------------------ */

static void audit_flags(const struct pol_chain *c, const struct pol_request *rq,
                        struct pol_decision *out)
{
    const struct pol_eff *a = c ? c->eff[POL_D_AUDIT] : NULL;
    if (a && !a->doc) { /* invalid audit policy: log and alert (fail safe) */
        out->audit = true;
        out->alert = out->effect == POL_DENY;
        return;
    }
    struct pol_doc defaults;
    const struct pol_doc *d = a ? a->doc : NULL;
    if (!d) {
        pol_eff_defaults(&defaults, POL_D_AUDIT);
        d = &defaults;
    }
    bool log = d->v[F_AUD_ALL].i || d->v[F_AUD_DECISIONS].i;
    switch (rq->action) {
    case POL_ACT_MODEL_CALL:
        log |= d->v[F_AUD_MODELS].i != 0;
        break;
    case POL_ACT_AGENT_MESSAGE:
        log |= d->v[F_AUD_AGENTS].i != 0;
        break;
    case POL_ACT_CONNECTOR_READ:
    case POL_ACT_CONNECTOR_WRITE:
    case POL_ACT_DATA_EXPORT:
        log |= d->v[F_AUD_DATA].i != 0;
        break;
    default:
        break;
    }
    out->audit = log;
    out->alert = out->effect == POL_DENY && d->v[F_AUD_ALERT_ON_DENY].i;
}

static void deny_early(struct pol_decision *out, const char *fmt, ...) GW_PRINTF(2, 3);
static void deny_early(struct pol_decision *out, const char *fmt, ...)
{
    out->effect = POL_DENY;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

enum pol_effect pol_decide(struct pol_snapshot *s, const struct pol_request *rq,
                           struct gw_pool *scratch, struct pol_decision *out,
                           struct pol_trace *trace)
{
    memset(out, 0, sizeof(*out));
    out->effect = POL_DENY;
    out->ob.max_classification = -1;
    out->classification = POL_LEVEL_UNKNOWN;
    if (trace)
        trace->n = 0;
    struct gw_pool *tmp = NULL;
    if (!rq || (unsigned)rq->action >= POL_ACT__COUNT) {
        deny_early(out, "%s", "invalid request: unknown action kind");
        return POL_DENY;
    }
    out->domain = pol_action_domain(rq->action);
    if (!s) {
        deny_early(out, "%s", "no policy snapshot loaded: failing closed");
        return POL_DENY;
    }
    out->snapshot = s->generation;
    if (!rq->resource || !*rq->resource || strlen(rq->resource) > POL_NAME_MAX) {
        deny_early(out, "invalid request: %s", "missing or oversized resource name");
        return POL_DENY;
    }
    if (rq->classification < POL_LEVEL_UNKNOWN || rq->classification >= POL_LEVEL__COUNT) {
        deny_early(out, "invalid request: %s", "unknown classification level");
        return POL_DENY;
    }
    char msg[160];
    if (!scratch && atomic_load(&s->cached) >= s->cache_max)
        scratch = tmp = gw_pool_new();
    const struct pol_chain *chain = pol_chain_get(s, rq->tenant, rq->org_unit, rq->team, rq->user,
                                                  scratch, msg, sizeof(msg));
    if (!chain) {
        deny_early(out, "%s: failing closed", msg);
        goto done;
    }
    const struct pol_eff *eff = chain->eff[out->domain];
    struct ectx x = {.rq = rq, .chain = chain, .out = out, .decider = -1};
    if (!eff) {
        deny_early(out, "no %s policy applies to this principal (default deny)",
                   pol_domain_name(out->domain));
    } else if (!eff->doc) {
        x.decider = -2;
        out->has_policy = true;
        out->policy_id = eff->poison->id;
        out->policy_version = eff->poison->version;
        out->scope = eff->poison->scope;
        out->scope_id = eff->poison->scope_id;
        snprintf(out->reason, sizeof(out->reason), "%s: failing closed", eff->poison->poison);
    } else {
        x.eff = eff->doc;
        /* classification: given, else the connector default, else data.default_classification */
        int level = rq->classification;
        if (level == POL_LEVEL_UNKNOWN) {
            const struct pol_eff *de = chain->eff[POL_D_DATA];
            level = de && de->doc ? (int)de->doc->v[F_DATA_DEFAULT_CLASS].i : POL_LEVEL_INTERNAL;
            if (rq->action == POL_ACT_CONNECTOR_READ || rq->action == POL_ACT_CONNECTOR_WRITE) {
                const char *vis = pol_ctx_get(rq, "visibility");
                level = pol_classify_connector(rq->resource, !vis ? POL_VIS_UNKNOWN
                                                             : strcmp(vis, "public") == 0
                                                                 ? POL_VIS_PUBLIC
                                                                 : POL_VIS_PRIVATE);
            }
        }
        out->classification = level;
        switch (rq->action) {
        case POL_ACT_TOOL_CALL:
            eval_tool(&x);
            break;
        case POL_ACT_CONNECTOR_READ:
            eval_connector(&x, false, level);
            break;
        case POL_ACT_CONNECTOR_WRITE:
            eval_connector(&x, true, level);
            break;
        case POL_ACT_MODEL_CALL:
            eval_model(&x, level);
            break;
        case POL_ACT_AGENT_MESSAGE:
            eval_agent(&x, level);
            break;
        case POL_ACT_FEATURE_USE:
            eval_feature(&x);
            break;
        case POL_ACT_DATA_EXPORT:
            eval_export(&x, level);
            break;
        default:
            decide(&x, POL_DENY, -1, "evaluation error: unknown action");
            break;
        }
        if (x.decider >= 0) {
            const struct pol_chain *lvc = pol_chain_at(chain, (uint8_t)x.decider);
            const struct pol_cpol *p = lvc && lvc->node ? lvc->node->pol[out->domain] : NULL;
            if (p) {
                out->has_policy = true;
                out->policy_id = p->id;
                out->policy_version = p->version;
                out->scope = p->scope;
                out->scope_id = p->scope_id;
            } else {
                x.decider = -1;
            }
        }
    }
    audit_flags(chain, rq, out);
    if (trace)
        pol_trace_build(chain, rq, out->domain, x.decider, trace);
done:
    gw_pool_free(tmp);
    return out->effect;
}
