/* SPDX-License-Identifier: MIT
 * pol_schema.c — the typed field table of every policy domain and its vocabulary.
 *
 * Each field is declared exactly once here with its type, its merge direction (how a lower
 * scope may restrict it) and its default (the value when no policy in the chain sets it). The
 * parser, the merge, the validation, the documentation (pol_schema_to_json) and the evaluation
 * all read this table, so a field cannot be merged one way and validated another (the defect of
 * the public version, where one "minimum" rule applied to every number). Enumerations are
 * listed from the most permissive value to the strictest.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

#include <stdarg.h>

static const char *const level_names[] = {"public", "internal", "confidential", "restricted"};
static const char *const autonomy_names[] = {"autonomous", "notify", "approve", "block"};
static const char *const perm_names[] = {"admin", "write", "read"};

#define BOOLF(n, m, d, text)                                                                       \
    {                                                                                              \
        .name = n, .type = POL_T_BOOL, .merge = m, .def_i = d, .fallback = -1, .doc = text         \
    }
#define INTF(n, m, d, text)                                                                        \
    {                                                                                              \
        .name = n, .type = POL_T_INT, .merge = m, .def_i = d, .fallback = -1, .doc = text          \
    }
#define LEVELF(n, m, d, text)                                                                      \
    {                                                                                              \
        .name = n, .type = POL_T_LEVEL, .merge = m, .def_i = d, .names = level_names,              \
        .n_names = 4, .fallback = -1, .doc = text                                                  \
    }
#define LISTF(n, m, any, text)                                                                     \
    {                                                                                              \
        .name = n, .type = POL_T_LIST, .merge = m, .def_any = any, .fallback = -1, .doc = text     \
    }

static const struct pol_field models_fields[] = {
    LISTF("allowed_providers", POL_M_INTERSECT, false,
          "providers a model call may use (\"*\" = any); default none"),
    LISTF("allowed_models", POL_M_INTERSECT, true,
          "model ids a model call may use (\"*\" = any model of an allowed provider)"),
    {.name = "sensitive_data_model",
     .type = POL_T_STRING,
     .merge = POL_M_PIN,
     .fallback = -1,
     .doc = "self-hosted model that receives data above the provider's ceiling (reroute); "
            "lower scopes may keep or clear it (then such calls are denied), never change it"},
    LEVELF("max_classification_external", POL_M_MIN, POL_LEVEL_INTERNAL,
           "highest classification an external provider may receive (ceiling)"),
    INTF("monthly_max_usd", POL_M_MIN, POL_INT_UNLIMITED,
         "model spend limit per month; checked against context spent_usd"),
};

static const struct pol_field per_action_sub[] = {
    {.name = "autonomy",
     .type = POL_T_ENUM,
     .merge = POL_M_MAX,
     .names = autonomy_names,
     .n_names = 4,
     .def_i = POL_APPROVE,
     .fallback = -1,
     .doc = "autonomy of this tool"},
};

static const struct pol_field actions_fields[] = {
    {.name = "default_autonomy",
     .type = POL_T_ENUM,
     .merge = POL_M_MAX,
     .names = autonomy_names,
     .n_names = 4,
     .def_i = POL_APPROVE,
     .fallback = -1,
     .doc = "autonomy of a tool not listed elsewhere: autonomous < notify < approve < block"},
    LISTF("blocked", POL_M_UNION, false, "tools that are always denied (deny-list)"),
    LISTF("autonomous", POL_M_INTERSECT, false, "tools that run without approval (allow-list)"),
    {.name = "per_action",
     .type = POL_T_MAP,
     .merge = POL_M_ENTRIES,
     .fallback = -1,
     .sub = per_action_sub,
     .n_sub = 1,
     .doc = "tool name -> autonomy; an entry can only be stricter than what the parent "
            "resolves for that tool"},
};

static const struct pol_field connector_sub[] = {
    {.name = "enabled",
     .type = POL_T_BOOL,
     .merge = POL_M_AND,
     .def_i = 0,
     .fallback = -1,
     .doc = "connector may be used"},
    {.name = "permissions",
     .type = POL_T_ENUM,
     .merge = POL_M_MAX,
     .names = perm_names,
     .n_names = 3,
     .def_i = POL_PERM_READ,
     .fallback = F_INT_DEFAULT_PERMS,
     .doc = "admin < write < read (read is strictest); unset: default_permissions"},
    {.name = "max_classification",
     .type = POL_T_LEVEL,
     .merge = POL_M_MIN,
     .names = level_names,
     .n_names = 4,
     .def_i = POL_LEVEL_INTERNAL,
     .fallback = -1,
     .doc = "highest classification of data this connector may carry (ceiling)"},
};

static const struct pol_field integrations_fields[] = {
    {.name = "default_permissions",
     .type = POL_T_ENUM,
     .merge = POL_M_MAX,
     .names = perm_names,
     .n_names = 3,
     .def_i = POL_PERM_READ,
     .fallback = -1,
     .doc = "permissions of a connector entry that sets none: admin < write < read"},
    {.name = "connectors",
     .type = POL_T_MAP,
     .merge = POL_M_ENTRIES,
     .sub = connector_sub,
     .n_sub = 3,
     .fallback = -1,
     .doc = "connector type -> {enabled, permissions, max_classification}; a connector absent "
            "from the map is disabled"},
};

static const struct pol_field a2a_fields[] = {
    BOOLF("enabled", POL_M_AND, 0, "agent-to-agent exchanges allowed"),
    LISTF("allowed_exchange_types", POL_M_INTERSECT, false,
          "exchange types allowed (e.g. information_query, commitment_request)"),
    INTF("max_rounds", POL_M_MIN, 3, "rounds per exchange (context rounds = rounds so far)"),
    LEVELF("max_classification_shared", POL_M_MIN, POL_LEVEL_INTERNAL,
           "highest classification an exchange may carry (ceiling)"),
    BOOLF("cross_org", POL_M_AND, 0, "exchanges with agents of another org unit"),
    BOOLF("cross_enterprise", POL_M_AND, 0, "exchanges with agents of another tenant"),
    BOOLF("require_approval_for_commitments", POL_M_OR, 1,
          "commitment_request exchanges need a human approval (true is stricter)"),
};

static const struct pol_field features_fields[] = {
    BOOLF("daily_briefing", POL_M_AND, 0, "feature enabled"),
    BOOLF("auto_response", POL_M_AND, 0, "feature enabled"),
    BOOLF("work_tracking", POL_M_AND, 0, "feature enabled"),
    BOOLF("ocip", POL_M_AND, 0, "feature enabled"),
    BOOLF("org_intelligence", POL_M_AND, 0, "feature enabled"),
    BOOLF("visualization", POL_M_AND, 0, "feature enabled"),
};

static const struct pol_field data_fields[] = {
    INTF("retention_days", POL_M_MIN, 90,
         "how long raw data is kept; shorter is stricter (data minimisation: the less is kept, "
         "the less can leak)"),
    LEVELF("external_sharing_max", POL_M_MIN, POL_LEVEL_INTERNAL,
           "highest classification that may leave the tenant (ceiling)"),
    BOOLF("allow_data_export", POL_M_AND, 0, "data exports allowed"),
    LEVELF("export_max_classification", POL_M_MIN, POL_LEVEL_INTERNAL,
           "highest classification an export may contain (ceiling)"),
    LEVELF("default_classification", POL_M_MAX, POL_LEVEL_INTERNAL,
           "level of data with no classification (floor: higher is stricter)"),
    BOOLF("redact_external", POL_M_OR, 0,
          "allowed flows leaving the tenant carry the redact obligation (true is stricter)"),
};

static const struct pol_field audit_fields[] = {
    BOOLF("log_all_actions", POL_M_OR, 1, "log every decision (logging more is stricter)"),
    BOOLF("log_data_access", POL_M_OR, 1, "log connector and export decisions"),
    BOOLF("log_model_calls", POL_M_OR, 1, "log model call decisions"),
    BOOLF("log_policy_decisions", POL_M_OR, 1, "log every policy decision"),
    BOOLF("log_agent_exchanges", POL_M_OR, 1, "log agent-to-agent decisions"),
    INTF("retention_years", POL_M_MAX, 1, "audit retention; longer is stricter"),
    INTF("minimum_retention_days", POL_M_MAX, 0, "audit retention floor; longer is stricter"),
    BOOLF("alert_on_deny", POL_M_OR, 1, "raise an alert on every deny"),
};

const struct pol_domain_schema pol_schema[POL_D__COUNT] = {
    [POL_D_MODELS] = {"models", models_fields, GW_ARRAY_LEN(models_fields)},
    [POL_D_ACTIONS] = {"actions", actions_fields, GW_ARRAY_LEN(actions_fields)},
    [POL_D_INTEGRATIONS] = {"integrations", integrations_fields, GW_ARRAY_LEN(integrations_fields)},
    [POL_D_A2A] = {"agent-to-agent", a2a_fields, GW_ARRAY_LEN(a2a_fields)},
    [POL_D_FEATURES] = {"features", features_fields, GW_ARRAY_LEN(features_fields)},
    [POL_D_DATA] = {"data", data_fields, GW_ARRAY_LEN(data_fields)},
    [POL_D_AUDIT] = {"audit", audit_fields, GW_ARRAY_LEN(audit_fields)},
};

_Static_assert(GW_ARRAY_LEN(audit_fields) <= POL_FIELDS_MAX, "POL_FIELDS_MAX");
_Static_assert(GW_ARRAY_LEN(a2a_fields) <= POL_FIELDS_MAX, "POL_FIELDS_MAX");
_Static_assert(GW_ARRAY_LEN(connector_sub) <= POL_SUB_MAX, "POL_SUB_MAX");

const struct pol_field *pol_field_get(enum pol_domain d, size_t idx)
{
    if ((unsigned)d >= POL_D__COUNT || idx >= pol_schema[d].n)
        return NULL;
    return &pol_schema[d].fields[idx];
}

int pol_field_index(enum pol_domain d, const char *name)
{
    if ((unsigned)d >= POL_D__COUNT)
        return -1;
    for (size_t i = 0; i < pol_schema[d].n; i++)
        if (strcmp(pol_schema[d].fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* --- names ------------------------------------------------------------------------------- */

static int find_name(const char *const *names, size_t n, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static const char *const scope_names[] = {"enterprise", "org", "team", "user"};
static const char *const effect_names[] = {"allow", "require_approval", "deny"};
static const char *const action_names[] = {"tool_call",  "connector_read", "connector_write",
                                           "model_call", "agent_message",  "feature_use",
                                           "data_export"};
static const char *const merge_names[] = {"and",       "or",    "min", "max",
                                          "intersect", "union", "pin", "entries"};
static const char *const type_names[] = {"bool", "int", "enum", "level", "list", "string", "map"};

const char *pol_level_name(int level)
{
    return level >= 0 && level < POL_LEVEL__COUNT ? level_names[level] : "unknown";
}
int pol_level_parse(const char *s)
{
    return find_name(level_names, 4, s);
}

const char *pol_domain_name(enum pol_domain d)
{
    return (unsigned)d < POL_D__COUNT ? pol_schema[d].name : "unknown";
}
int pol_domain_parse(const char *s)
{
    for (int d = 0; d < POL_D__COUNT; d++)
        if (s && strcmp(pol_schema[d].name, s) == 0)
            return d;
    return -1;
}

const char *pol_scope_name(enum pol_scope s)
{
    return (unsigned)s < POL_SCOPE__COUNT ? scope_names[s] : "unknown";
}
int pol_scope_parse(const char *s)
{
    return find_name(scope_names, 4, s);
}

const char *pol_effect_name(enum pol_effect e)
{
    return (unsigned)e <= POL_DENY ? effect_names[e] : "deny";
}

const char *pol_action_name(enum pol_action a)
{
    return (unsigned)a < POL_ACT__COUNT ? action_names[a] : "unknown";
}
int pol_action_parse(const char *s)
{
    return find_name(action_names, POL_ACT__COUNT, s);
}

enum pol_domain pol_action_domain(enum pol_action a)
{
    switch (a) {
    case POL_ACT_TOOL_CALL:
        return POL_D_ACTIONS;
    case POL_ACT_CONNECTOR_READ:
    case POL_ACT_CONNECTOR_WRITE:
        return POL_D_INTEGRATIONS;
    case POL_ACT_MODEL_CALL:
        return POL_D_MODELS;
    case POL_ACT_AGENT_MESSAGE:
        return POL_D_A2A;
    case POL_ACT_FEATURE_USE:
        return POL_D_FEATURES;
    case POL_ACT_DATA_EXPORT:
        return POL_D_DATA;
    default:
        return POL_D__COUNT;
    }
}

const char *pol_merge_name(enum pol_merge m)
{
    return (unsigned)m < GW_ARRAY_LEN(merge_names) ? merge_names[m] : "?";
}
const char *pol_type_name(enum pol_type t)
{
    return (unsigned)t < GW_ARRAY_LEN(type_names) ? type_names[t] : "?";
}

/* --- lists, maps, values ---------------------------------------------------------------- */

bool pol_list_has(const struct pol_list *l, const char *name)
{
    if (!l)
        return false;
    if (l->any)
        return true;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(l->items[mid], name);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

const struct pol_entry *pol_map_find(const struct pol_map *m, const char *name)
{
    if (!m)
        return NULL;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->e[mid].name, name);
        if (c == 0)
            return &m->e[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *pol_val_show(const struct pol_field *f, const struct pol_val *v, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    buf[0] = '\0';
    if (!v->set) {
        snprintf(buf, cap, "(unset)");
        return buf;
    }
    switch (f->type) {
    case POL_T_BOOL:
        snprintf(buf, cap, "%s", v->i ? "true" : "false");
        break;
    case POL_T_INT:
        if (v->i == POL_INT_UNLIMITED)
            snprintf(buf, cap, "unlimited");
        else
            snprintf(buf, cap, "%lld", (long long)v->i);
        break;
    case POL_T_ENUM:
    case POL_T_LEVEL:
        snprintf(buf, cap, "%s",
                 v->i >= 0 && (size_t)v->i < f->n_names ? f->names[v->i] : "(invalid)");
        break;
    case POL_T_STRING:
        snprintf(buf, cap, "%s", v->u.s ? v->u.s : "none");
        break;
    case POL_T_LIST: {
        const struct pol_list *l = v->u.l;
        size_t o = (size_t)snprintf(buf, cap, "[");
        if (l && l->any && o < cap)
            o += (size_t)snprintf(buf + o, cap - o, "*");
        for (size_t i = 0; l && !l->any && i < l->n && o < cap; i++)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", l->items[i]);
        if (o < cap)
            snprintf(buf + o, cap - o, "]");
        break;
    }
    case POL_T_MAP:
        snprintf(buf, cap, "{%zu entries}", v->u.m ? v->u.m->n : 0);
        break;
    }
    return buf;
}

bool pol_val_valid(const struct pol_field *f, const struct pol_val *v)
{
    if (!v->set)
        return true;
    switch (f->type) {
    case POL_T_BOOL:
        return v->i == 0 || v->i == 1;
    case POL_T_INT:
        return v->i >= 0;
    case POL_T_ENUM:
    case POL_T_LEVEL:
        return v->i >= 0 && (size_t)v->i < f->n_names;
    case POL_T_STRING:
        return true;
    case POL_T_LIST: {
        const struct pol_list *l = v->u.l;
        if (!l || (l->n && !l->items))
            return false;
        for (size_t i = 0; i < l->n; i++)
            if (!l->items[i] || (i && strcmp(l->items[i - 1], l->items[i]) >= 0))
                return false;
        return true;
    }
    case POL_T_MAP: {
        const struct pol_map *m = v->u.m;
        if (!m || (m->n && !m->e))
            return false;
        for (size_t i = 0; i < m->n; i++) {
            if (!m->e[i].name || (i && strcmp(m->e[i - 1].name, m->e[i].name) >= 0))
                return false;
            for (size_t k = 0; k < f->n_sub; k++)
                if (!pol_val_valid(&f->sub[k], &m->e[i].v[k]))
                    return false;
        }
        return true;
    }
    }
    return false;
}

bool pol_doc_valid(const struct pol_doc *doc, char *msg, size_t cap)
{
    if (!doc || (unsigned)doc->domain >= POL_D__COUNT) {
        snprintf(msg, cap, "no content or unknown domain");
        return false;
    }
    const struct pol_domain_schema *sc = &pol_schema[doc->domain];
    for (size_t i = 0; i < sc->n; i++)
        if (!pol_val_valid(&sc->fields[i], &doc->v[i])) {
            snprintf(msg, cap, "field %s holds an invalid value", sc->fields[i].name);
            return false;
        }
    for (size_t i = sc->n; i < POL_FIELDS_MAX; i++)
        if (doc->v[i].set) {
            snprintf(msg, cap, "value beyond the fields of domain %s", sc->name);
            return false;
        }
    return true;
}

/* --- issues ------------------------------------------------------------------------------- */

void pol_issue_add(struct pol_issues *is, const char *field, const char *fmt, ...)
{
    if (!is)
        return;
    if (is->n == is->cap) {
        is->cap = is->cap ? is->cap * 2 : 8;
        is->v = gw_xrealloc(is->v, is->cap * sizeof(*is->v));
    }
    va_list ap;
    va_start(ap, fmt);
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        m = gw_xstrdup("(message lost)");
    va_end(ap);
    is->v[is->n].field = gw_xstrdup(field ? field : "");
    is->v[is->n].msg = m;
    is->n++;
}

void pol_issues_release(struct pol_issues *is)
{
    if (!is)
        return;
    for (size_t i = 0; i < is->n; i++) {
        free(is->v[i].field);
        free(is->v[i].msg);
    }
    free(is->v);
    memset(is, 0, sizeof(*is));
}

/* --- schema as JSON ------------------------------------------------------------------------ */

static json_t *field_json(const struct pol_field *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "type", json_string(pol_type_name(f->type)));
    json_object_set_new(o, "merge", json_string(pol_merge_name(f->merge)));
    if (f->type != POL_T_MAP) {
        struct pol_val v = {.set = true, .i = f->def_i};
        struct pol_list empty = {.any = f->def_any};
        if (f->type == POL_T_LIST)
            v.u.l = &empty;
        else if (f->type == POL_T_STRING)
            v.u.s = f->def_s;
        json_object_set_new(o, "default", pol_val_to_json(f, &v));
    }
    if (f->names) {
        json_t *a = json_array();
        for (size_t i = 0; i < f->n_names; i++)
            json_array_append_new(a, json_string(f->names[i]));
        json_object_set_new(o, "values", a);
    }
    if (f->sub) {
        json_t *a = json_array();
        for (size_t i = 0; i < f->n_sub; i++)
            json_array_append_new(a, field_json(&f->sub[i]));
        json_object_set_new(o, "entry", a);
    }
    json_object_set_new(o, "doc", json_string(f->doc));
    return o;
}

json_t *pol_schema_to_json(void)
{
    json_t *root = json_object();
    for (int d = 0; d < POL_D__COUNT; d++) {
        json_t *a = json_array();
        for (size_t i = 0; i < pol_schema[d].n; i++)
            json_array_append_new(a, field_json(&pol_schema[d].fields[i]));
        json_object_set_new(root, pol_schema[d].name, a);
    }
    return root;
}
