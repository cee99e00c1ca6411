/* SPDX-License-Identifier: MIT
 * policy_int.h — private types of the policy engine: the typed value model, the field table,
 * compiled snapshots and the chain cache.
 */
#ifndef GW_POLICY_INT_H
#define GW_POLICY_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "policy/policy.h"

#include <pthread.h>
#include <stdatomic.h>

struct gw_pool;

/* --- value model ------------------------------------------------------------------------- */

enum pol_type {
    POL_T_BOOL,
    POL_T_INT,    /* non-negative int64; INT64_MAX prints as "unlimited" */
    POL_T_ENUM,   /* ordered names, most permissive first */
    POL_T_LEVEL,  /* classification level */
    POL_T_LIST,   /* list of names; "*" = any */
    POL_T_STRING, /* a name or none (null / "") */
    POL_T_MAP     /* name -> record of sub-fields */
};

enum pol_merge {
    POL_M_AND,       /* bool, true permissive: AND */
    POL_M_OR,        /* bool, true stricter: OR */
    POL_M_MIN,       /* number / enum / level: lower is stricter (ceilings) */
    POL_M_MAX,       /* number / enum / level: higher is stricter (floors, autonomy, retention) */
    POL_M_INTERSECT, /* allow-list */
    POL_M_UNION,     /* deny-list */
    POL_M_PIN,       /* a name set above can be kept or cleared (none) below, never changed */
    POL_M_ENTRIES    /* map: entry by entry, sub-field by sub-field */
};

#define POL_FIELDS_MAX 10
#define POL_SUB_MAX 3
#define POL_INT_UNLIMITED INT64_MAX
#define POL_LEVELS_MAX 16 /* enterprise + org path segments + team + user */
#define POL_ORG_DEPTH_MAX 12
#define POL_SRC_DEFAULT 0xff

struct pol_list {
    bool any;
    size_t n;
    const char **items; /* sorted (strcmp), unique */
};

struct pol_val;
struct pol_entry;
struct pol_map {
    size_t n;
    struct pol_entry *e; /* sorted by name */
};

struct pol_val {
    bool set;
    uint8_t src; /* merged values: depth of the chain level that decided it, POL_SRC_DEFAULT */
    int64_t i;   /* bool, int, enum index, level */
    union {
        const char *s; /* string (NULL = none) */
        const struct pol_list *l;
        const struct pol_map *m;
    } u;
};

struct pol_entry {
    const char *name;
    struct pol_val v[POL_SUB_MAX];
};

struct pol_doc {
    enum pol_domain domain;
    struct gw_pool *pool; /* owns everything the document points to (NULL: see block) */
    bool block;           /* one malloc'd block holding the document and its values */
    struct pol_val v[POL_FIELDS_MAX];
};

struct pol_field {
    const char *name;
    enum pol_type type;
    enum pol_merge merge;
    const char *const *names; /* POL_T_ENUM values, most permissive first */
    size_t n_names;
    int64_t def_i;               /* default for bool / int / enum / level */
    bool def_any;                /* default list: any */
    const char *def_s;           /* default string (NULL = none) */
    const struct pol_field *sub; /* POL_T_MAP sub-fields */
    size_t n_sub;
    int fallback; /* sub-field: domain field used when unset, -1 = its own default */
    const char *doc;
};

struct pol_domain_schema {
    const char *name;
    const struct pol_field *fields;
    size_t n;
};

extern const struct pol_domain_schema pol_schema[POL_D__COUNT];

/* Field indexes (order of the table in pol_schema.c). */
enum {
    F_MOD_PROVIDERS,
    F_MOD_MODELS,
    F_MOD_SENSITIVE_MODEL,
    F_MOD_MAX_EXTERNAL,
    F_MOD_MONTHLY_USD
};
enum { F_ACT_DEFAULT, F_ACT_BLOCKED, F_ACT_AUTONOMOUS, F_ACT_PER_ACTION };
enum { F_INT_DEFAULT_PERMS, F_INT_CONNECTORS };
enum { S_CONN_ENABLED, S_CONN_PERMS, S_CONN_MAX_CLASS };
enum {
    F_A2A_ENABLED,
    F_A2A_TYPES,
    F_A2A_MAX_ROUNDS,
    F_A2A_MAX_CLASS,
    F_A2A_CROSS_ORG,
    F_A2A_CROSS_ENT,
    F_A2A_COMMIT_APPROVAL
};
enum {
    F_FEAT_DAILY_BRIEFING,
    F_FEAT_AUTO_RESPONSE,
    F_FEAT_WORK_TRACKING,
    F_FEAT_OCIP,
    F_FEAT_ORG_INTELLIGENCE,
    F_FEAT_VISUALIZATION
};
enum {
    F_DATA_RETENTION_DAYS,
    F_DATA_EXTERNAL_MAX,
    F_DATA_ALLOW_EXPORT,
    F_DATA_EXPORT_MAX,
    F_DATA_DEFAULT_CLASS,
    F_DATA_REDACT_EXTERNAL
};
enum {
    F_AUD_ALL,
    F_AUD_DATA,
    F_AUD_MODELS,
    F_AUD_DECISIONS,
    F_AUD_AGENTS,
    F_AUD_RETENTION_YEARS,
    F_AUD_MIN_RETENTION_DAYS,
    F_AUD_ALERT_ON_DENY
};

/* Autonomy (actions) and permissions (integrations), most permissive first. */
enum { POL_AUTONOMOUS, POL_NOTIFY, POL_APPROVE, POL_BLOCK };
enum { POL_PERM_ADMIN, POL_PERM_WRITE, POL_PERM_READ };

/* pol_schema.c */
const struct pol_field *pol_field_get(enum pol_domain d, size_t idx);
int pol_field_index(enum pol_domain d, const char *name);
const char *pol_merge_name(enum pol_merge m);
const char *pol_type_name(enum pol_type t);
/* Value printed for messages ("approve", "[a, b]", "unlimited"), into buf. */
const char *pol_val_show(const struct pol_field *f, const struct pol_val *v, char *buf, size_t cap);
/* Does the list allow name (any or contains)? */
bool pol_list_has(const struct pol_list *l, const char *name);
const struct pol_entry *pol_map_find(const struct pol_map *m, const char *name);
/* Range checks of a value against its field (compiled-policy integrity). */
bool pol_val_valid(const struct pol_field *f, const struct pol_val *v);
bool pol_doc_valid(const struct pol_doc *doc, char *msg, size_t cap);

/* pol_issues helpers */
void pol_issue_add(struct pol_issues *is, const char *field, const char *fmt, ...) GW_PRINTF(3, 4);

/* pol_doc.c */
json_t *pol_val_to_json(const struct pol_field *f, const struct pol_val *v);
struct pol_doc *pol_doc_alloc(enum pol_domain d);
/* Deep copy into pool (the copy has pool == NULL). */
struct pol_doc *pol_doc_copy_into(struct gw_pool *pool, const struct pol_doc *doc);

/* pol_merge.c: effective values (all fields set) */
/* The domain defaults, every field set, src = POL_SRC_DEFAULT. */
void pol_eff_defaults(struct pol_doc *eff, enum pol_domain d);
/* Applies a policy of chain depth `depth` onto eff, in place: the enterprise (override=true)
 * replaces values, lower scopes restrict. Allocations in pool. */
void pol_eff_apply(struct gw_pool *pool, struct pol_doc *eff, const struct pol_doc *doc,
                   uint8_t depth, bool override);
/* Resolutions used by the evaluation and the validation. */
int pol_actions_resolve(const struct pol_doc *eff, const char *action, uint8_t *src,
                        const char **why);
/* Connector entry sub-field, resolved (unset: fallback field or the sub-field default). */
struct pol_val pol_connector_sub(const struct pol_doc *eff, const struct pol_entry *e, size_t sub);
bool pol_list_equal(const struct pol_list *a, const struct pol_list *b);

/* --- compiled snapshot ------------------------------------------------------------------- */

struct pol_cpol { /* one compiled active policy */
    const char *id;
    int64_t version;
    enum pol_scope scope;
    const char *scope_id;
    const struct pol_doc *doc; /* NULL when poisoned */
    const char *poison;        /* why it is invalid (fail closed), NULL when valid */
};

struct pol_node { /* everything at one (tenant, scope, scope_id) */
    const char *tenant;
    enum pol_scope scope;
    const char *scope_id;
    const struct pol_cpol *pol[POL_D__COUNT];
};

struct pol_eff {               /* effective policy of one domain for one chain */
    const struct pol_doc *doc; /* merged, every field set; NULL when poisoned */
    const struct pol_cpol *poison;
};

struct pol_chain {
    uint64_t hash;
    const char *key;
    size_t keylen;
    const struct pol_chain *parent; /* NULL at the enterprise */
    uint8_t depth;                  /* 0 = enterprise */
    enum pol_scope scope;
    const char *scope_id;
    const struct pol_node *node;             /* policies at this level, may be NULL */
    const struct pol_eff *eff[POL_D__COUNT]; /* NULL: no policy of the domain in the chain */
};

struct pol_snapshot {
    atomic_long refcount;
    uint64_t generation;
    struct gw_pool *pool; /* compiled policies and the node index */
    /* node index: open addressing, built once */
    struct pol_node **nodes;
    size_t nodes_cap;
    /* chain cache: open addressing over atomic pointers; inserts under lock, reads lock-free */
    _Atomic(struct pol_chain *) *slots;
    size_t slots_cap; /* power of two */
    size_t cache_max;
    atomic_size_t cached;
    pthread_mutex_t lock;
    struct gw_pool *cache_pool; /* chains and effective docs (under lock) */
};

uint64_t pol_hash(const void *p, size_t n);
const struct pol_node *pol_node_find(const struct pol_snapshot *s, const char *tenant,
                                     enum pol_scope scope, const char *scope_id);
/* The chain for an identity (cached or computed into scratch). NULL with msg on bad input. */
const struct pol_chain *pol_chain_get(struct pol_snapshot *s, const char *tenant,
                                      const char *org_unit, const char *team, const char *user,
                                      struct gw_pool *scratch, char *msg, size_t cap);
/* Chain level at depth (walking the parents). */
const struct pol_chain *pol_chain_at(const struct pol_chain *c, uint8_t depth);
bool pol_org_path_valid(const char *path);

/* pol_eval.c / pol_explain.c */
const char *pol_ctx_get(const struct pol_request *rq, const char *key);
/* provider of a model call: context "provider", else the part of the model id before '/' */
const char *pol_model_provider(const struct pol_request *rq, char *buf, size_t cap);
/* decider: chain depth of the deciding level, -1 none, -2 a poisoned policy */
void pol_trace_build(const struct pol_chain *chain, const struct pol_request *rq, enum pol_domain d,
                     int decider, struct pol_trace *trace);
bool pol_name_valid(const char *s);

#endif
