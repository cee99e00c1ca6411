/* SPDX-License-Identifier: MIT
 * policy.h — the policy engine: typed, hierarchical policies and the one decision entry point.
 *
 * Policies are typed documents, one per (tenant, scope, scope id, domain). Seven domains
 * (models, actions, integrations, agent-to-agent, features, data, audit); four scopes
 * (enterprise > org (org-unit path, inherited down the path) > team > user). Every field has a
 * declared merge direction (src/policy/pol_schema.c, docs/POLICY.md): a lower scope can only
 * restrict what is above it. The merge enforces that by construction; pol_validate reports every
 * field where a proposed policy would loosen its parent (write-time rejection).
 *
 * Life cycle:
 *   text (YAML/JSON) --pol_doc_parse--> struct pol_doc (typed, immutable)
 *   pol_doc + metadata = struct pol_record (versioned; history kept in struct pol_set)
 *   active records --pol_snapshot_build--> struct pol_snapshot (immutable, refcounted)
 *   struct pol_engine holds the current snapshot; pol_engine_swap replaces it (hot reload),
 *   decisions in flight keep the snapshot they acquired.
 *   pol_decide(snapshot, request) --> allow | require_approval | deny, with reason, deciding
 *   policy, obligations and (optionally) a trace through every scope level.
 *
 * Thread safety: a snapshot is read-only for callers and may be used by any number of threads;
 * its cache of effective policies is filled lazily under an internal lock and read lock-free.
 * pol_set is not thread-safe (one writer, the caller serializes).
 */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

struct gw_pool;

/* --- vocabulary ------------------------------------------------------------------------------ */

/* Classification levels, ordered: a higher value is more sensitive. */
enum pol_level {
    POL_LEVEL_PUBLIC,
    POL_LEVEL_INTERNAL,
    POL_LEVEL_CONFIDENTIAL,
    POL_LEVEL_RESTRICTED,
    POL_LEVEL__COUNT
};
#define POL_LEVEL_UNKNOWN (-1) /* request classification not given: data.default_classification */

enum pol_domain {
    POL_D_MODELS,
    POL_D_ACTIONS,
    POL_D_INTEGRATIONS,
    POL_D_A2A, /* "agent-to-agent" */
    POL_D_FEATURES,
    POL_D_DATA,
    POL_D_AUDIT,
    POL_D__COUNT
};

/* Ordered from the top of the hierarchy down. */
enum pol_scope {
    POL_SCOPE_ENTERPRISE,
    POL_SCOPE_ORG,
    POL_SCOPE_TEAM,
    POL_SCOPE_USER,
    POL_SCOPE__COUNT
};

enum pol_status { POL_STATUS_ACTIVE, POL_STATUS_DEPRECATED };

/* Ordered by strictness: deny beats approval beats allow. */
enum pol_effect { POL_ALLOW, POL_REQUIRE_APPROVAL, POL_DENY };

enum pol_action {
    POL_ACT_TOOL_CALL,       /* resource: tool name                    domain actions */
    POL_ACT_CONNECTOR_READ,  /* resource: connector type               domain integrations */
    POL_ACT_CONNECTOR_WRITE, /* resource: connector type               domain integrations */
    POL_ACT_MODEL_CALL,      /* resource: model id                     domain models */
    POL_ACT_AGENT_MESSAGE,   /* resource: target agent                 domain agent-to-agent */
    POL_ACT_FEATURE_USE,     /* resource: feature name                 domain features */
    POL_ACT_DATA_EXPORT,     /* resource: export target (free text)    domain data */
    POL_ACT__COUNT
};

/* Names used in documents, JSON and the CLI ("agent-to-agent", "tool_call", "confidential"...).
 * The *_parse functions return -1 for an unknown name. */
const char *pol_level_name(int level);
int pol_level_parse(const char *s);
const char *pol_domain_name(enum pol_domain d);
int pol_domain_parse(const char *s);
const char *pol_scope_name(enum pol_scope s);
int pol_scope_parse(const char *s);
const char *pol_effect_name(enum pol_effect e);
const char *pol_action_name(enum pol_action a);
int pol_action_parse(const char *s);
/* The domain that governs an action kind. */
enum pol_domain pol_action_domain(enum pol_action a);

/* --- problems: parse errors and loosening violations ------------------------------------- */

struct pol_issue {
    char *field; /* "connectors.github.permissions", "" for the document itself */
    char *msg;   /* complete sentence naming the field */
};
struct pol_issues {
    struct pol_issue *v;
    size_t n, cap;
};
void pol_issues_release(struct pol_issues *is);

/* --- documents ------------------------------------------------------------------------------- */

struct pol_doc; /* typed content of one domain; immutable once parsed */

enum pol_format { POL_FMT_AUTO, POL_FMT_JSON, POL_FMT_YAML };
#define POL_DOC_MAX_BYTES (256 * 1024)

/* Parses text (YAML or JSON; AUTO = JSON when the first non-blank byte is '{') into a typed
 * document of the domain. Unknown fields, wrong types, unknown enum values, duplicates... are
 * errors; every error is appended to errs (field + message). Returns NULL on any error. */
struct pol_doc *pol_doc_parse(enum pol_domain d, const char *text, size_t len, enum pol_format fmt,
                              struct pol_issues *errs);
/* Same from an already parsed JSON object (e.g. the "content" of an API body). */
struct pol_doc *pol_doc_from_json(enum pol_domain d, const json_t *obj, struct pol_issues *errs);
/* YAML text to JSON (strict: no aliases, duplicate keys refused); for bundles of policies. */
json_t *pol_yaml_to_json(const char *text, size_t len, struct pol_issues *errs);
/* Canonical JSON of the fields the document sets (new reference). */
json_t *pol_doc_to_json(const struct pol_doc *doc);
/* The fields whose values differ: [{"field":..,"from":..,"to":..}], absent = null. */
json_t *pol_doc_diff(const struct pol_doc *from, const struct pol_doc *to);
enum pol_domain pol_doc_domain(const struct pol_doc *doc);
struct pol_doc *pol_doc_clone(const struct pol_doc *doc);
void pol_doc_free(struct pol_doc *doc);

/* The schema as JSON (every field: domain, name, type, merge direction, default, values). */
json_t *pol_schema_to_json(void);

/* --- records and history ----------------------------------------------------------------- */

#define POL_ID_MAX 64
#define POL_NAME_MAX 255 /* tenant, scope id (org path), user, team, resource... */

struct pol_record {
    char *id; /* stable across versions: one id per (tenant, scope, scope_id, domain) */
    char *tenant;
    enum pol_scope scope;
    char *scope_id; /* org path / team id / user id; NULL for enterprise */
    enum pol_domain domain;
    int64_t version; /* 1, 2, ... bumped on every change (update, deprecate, rollback) */
    struct pol_doc *content;
    char *author;
    int64_t created_ms;  /* when this version was written */
    char *change_reason; /* mandatory, non-empty */
    enum pol_status status;
};

void pol_record_free(struct pol_record *r);
struct pol_record *pol_record_clone(const struct pol_record *r);
/* Checks metadata (id grammar, scope/scope_id agreement, org path grammar, reason, version). */
bool pol_record_check(const struct pol_record *r, struct pol_issues *errs);
/* Pure (de)serialization of one version: {"id","tenant","scope","scope_id","domain","version",
 * "content":{...},"author","created_at":"ISO-8601","change_reason","status"}. */
json_t *pol_record_to_json(const struct pol_record *r);
struct pol_record *pol_record_from_json(const json_t *j, struct pol_issues *errs);

/* Every version of every policy, in memory. Not thread-safe: the caller serializes writers
 * (and persists each new version it returns; reload them with pol_set_load). */
struct pol_set;
struct pol_change {
    const char *tenant;      /* create only */
    enum pol_scope scope;    /* create only */
    const char *scope_id;    /* create only */
    enum pol_domain domain;  /* create only */
    const char *id;          /* create: NULL = generated "pol_<hex>" */
    struct pol_doc *content; /* create/update: borrowed, cloned */
    const char *author;
    const char *change_reason;
    int64_t expected_version; /* update/deprecate/rollback: 0 = any, else GW_ECONFLICT on mismatch
                               */
    int64_t now_ms;
};
struct pol_set *pol_set_new(void);
void pol_set_free(struct pol_set *set);
/* Adds a stored version as is (start-up load); versions of one id may come in any order. */
gw_err pol_set_load(struct pol_set *set, const struct pol_record *r, struct pol_issues *errs);
/* New policy (version 1, active). GW_ECONFLICT if the slot already has a policy. */
gw_err pol_set_create(struct pol_set *set, const struct pol_change *ch,
                      const struct pol_record **out, struct pol_issues *errs);
/* New version with new content (also reactivates a deprecated policy). */
gw_err pol_set_update(struct pol_set *set, const char *id, const struct pol_change *ch,
                      const struct pol_record **out, struct pol_issues *errs);
/* New version, same content, status deprecated (no longer applies). */
gw_err pol_set_deprecate(struct pol_set *set, const char *id, const struct pol_change *ch,
                         const struct pol_record **out, struct pol_issues *errs);
/* New version whose content and status are those of version `to`. */
gw_err pol_set_rollback(struct pol_set *set, const char *id, int64_t to,
                        const struct pol_change *ch, const struct pol_record **out,
                        struct pol_issues *errs);
/* version 0 = latest. NULL when absent. */
const struct pol_record *pol_set_get(const struct pol_set *set, const char *id, int64_t version);
/* The policy occupying a slot (latest version, any status), NULL if none. */
const struct pol_record *pol_set_find(const struct pol_set *set, const char *tenant,
                                      enum pol_scope scope, const char *scope_id,
                                      enum pol_domain d);
/* All versions of id, oldest first (borrowed array valid until the next change). */
size_t pol_set_history(const struct pol_set *set, const char *id,
                       const struct pol_record *const **out);
/* Latest version of every policy (any status), in creation order. */
size_t pol_set_latest(const struct pol_set *set, const struct pol_record **out, size_t cap);
size_t pol_set_count(const struct pol_set *set);

/* --- snapshots and hot reload -------------------------------------------------------------- */

struct pol_snapshot;

struct pol_snapshot_opts {
    size_t cache_max; /* effective-policy chains cached; 0 = POL_CACHE_DEFAULT */
};
#define POL_CACHE_DEFAULT 131072

/* Compiles the active latest versions (deprecated ones are skipped). A record that fails its
 * checks is not dropped: its slot is poisoned so every chain through it fails closed for that
 * domain; the problems are reported in errs (GW_OK is still returned). */
gw_err pol_snapshot_build(const struct pol_record *const *recs, size_t n,
                          const struct pol_snapshot_opts *opts, struct pol_snapshot **out,
                          struct pol_issues *errs);
/* Same from every latest active version in a set. */
gw_err pol_snapshot_from_set(const struct pol_set *set, const struct pol_snapshot_opts *opts,
                             struct pol_snapshot **out, struct pol_issues *errs);
struct pol_snapshot *pol_snapshot_ref(struct pol_snapshot *s);
void pol_snapshot_unref(struct pol_snapshot *s);
/* Monotonic id of the snapshot (1, 2, ... per process). */
uint64_t pol_snapshot_generation(const struct pol_snapshot *s);
size_t pol_snapshot_cached_chains(const struct pol_snapshot *s);
/* Precomputes the chains the old snapshot had cached (hot keys survive a reload). */
void pol_snapshot_warm(struct pol_snapshot *s, const struct pol_snapshot *from);

/* Holder of the current snapshot. */
struct pol_engine;
struct pol_engine *pol_engine_new(struct pol_snapshot *initial /* owned; may be NULL */);
void pol_engine_free(struct pol_engine *e);
/* The current snapshot with a reference (NULL if none); release with pol_snapshot_unref. */
struct pol_snapshot *pol_engine_acquire(struct pol_engine *e);
/* Installs next (takes ownership); the old one is released once no acquire is in progress;
 * holders of references keep using it until they unref. */
void pol_engine_swap(struct pol_engine *e, struct pol_snapshot *next);

/* --- decisions ----------------------------------------------------------------------------- */

struct pol_kv {
    const char *key, *value;
};

/* Identity fields come from the authenticated principal (auth_principal), never from a body.
 * Context keys (all optional, unknown keys ignored):
 *   model_call:    provider, provider_kind (external|self_hosted; default external),
 *                  provider_ceiling (level), spent_usd (this month, integer)
 *   agent_message: exchange_type, rounds (so far), source_org, target_org (default: the
 *                  principal's org unit), source_tenant, target_tenant (default: its tenant)
 *   data_export:   destination (internal|external; default external)
 *   connector_*:   visibility (public|private; github) */
struct pol_request {
    /* role is carried for the optional OPA input and the audit trail; the built-in engine
     * decides by the scope chain (tenant, org unit path, team, user) */
    const char *tenant, *user, *role, *org_unit, *team;
    enum pol_action action;
    const char *resource;
    int classification; /* enum pol_level or POL_LEVEL_UNKNOWN */
    const struct pol_kv *ctx;
    size_t n_ctx;
};

struct pol_obligations {
    bool disclosure_required;  /* the user must be told the action happened (autonomy notify) */
    int max_classification;    /* ceiling for data passed along, -1 = none */
    const char *reroute_model; /* model call must go to this model instead (never silent) */
    bool redact;               /* run the detectors and mask findings before data leaves */
};

#define POL_REASON_MAX 320
#define POL_TRACE_MAX 20
#define POL_NOTE_MAX 240

struct pol_trace_step {
    enum pol_scope scope;
    char scope_id[POL_NAME_MAX + 1]; /* "" for enterprise */
    const char *policy_id;           /* NULL: no policy of the domain at this level */
    int64_t version;
    bool deciding;
    char note[POL_NOTE_MAX]; /* what this level contributed */
};
struct pol_trace {
    size_t n;
    struct pol_trace_step steps[POL_TRACE_MAX];
};

/* Strings are borrowed from the snapshot (valid while the caller holds its reference) or
 * stored in the fixed buffers. */
struct pol_decision {
    enum pol_effect effect;
    enum pol_domain domain;
    char reason[POL_REASON_MAX];
    bool has_policy;       /* false: default deny, invalid input, or internal error */
    const char *policy_id; /* deciding policy */
    int64_t policy_version;
    enum pol_scope scope;
    const char *scope_id;
    int classification; /* the level the decision used */
    struct pol_obligations ob;
    bool audit;        /* the audit domain asks for this decision to be logged */
    bool alert;        /* deny with audit.alert_on_deny */
    uint64_t snapshot; /* generation of the snapshot that decided */
};

/* The one decision entry point. Never fails: invalid input, a missing snapshot, an invalid
 * compiled policy or an internal error yield deny with a reason (fail closed). scratch: arena
 * for the rare chains that cannot be cached (cache full); NULL = an internal temporary one.
 * A cached chain costs no allocation. trace may be NULL (no trace is built). */
enum pol_effect pol_decide(struct pol_snapshot *s, const struct pol_request *rq,
                           struct gw_pool *scratch, struct pol_decision *out,
                           struct pol_trace *trace);

/* Decision (+ trace when given) as JSON for the API and `openclaw policy explain`. */
json_t *pol_decision_to_json(const struct pol_decision *d, const struct pol_trace *trace);
/* Human-readable multi-line explanation into buf. */
void pol_explain_text(const struct pol_decision *d, const struct pol_trace *trace, char *buf,
                      size_t cap);

/* Effective policy of one domain for a chain, as JSON (user "read own effective policy"), plus
 * for every field the scope that set it. NULL when no policy of the domain applies. */
json_t *pol_effective_json(struct pol_snapshot *s, const char *tenant, const char *org_unit,
                           const char *team, const char *user, enum pol_domain d);

/* --- write-time validation --------------------------------------------------------------- */

/* Where a proposed policy sits: for a team policy the team's org unit; for a user policy the
 * user's org unit and team (from the identity configuration). */
struct pol_position {
    const char *tenant;
    enum pol_scope scope;
    const char *scope_id;
    const char *org_unit; /* team and user scopes */
    const char *team;     /* user scope */
};
/* Appends one issue per loosening (every field, every list item, every map entry) of doc
 * compared with the effective policy of its parent chain in snapshot s (the proposed policy's
 * own slot is ignored). Returns true when there is none. The enterprise scope has no parent. */
bool pol_validate(struct pol_snapshot *s, const struct pol_position *pos, const struct pol_doc *doc,
                  struct pol_issues *out);

/* --- classification ------------------------------------------------------------------------ */

enum pol_detector {
    POL_DET_EMAIL,       /* internal */
    POL_DET_PHONE,       /* internal */
    POL_DET_CARD,        /* confidential (Luhn-checked, known issuer prefixes) */
    POL_DET_NATIONAL_ID, /* confidential (US SSN, UK NINO, Canadian SIN) */
    POL_DET_API_KEY,     /* confidential */
    POL_DET_PRIVATE_KEY, /* restricted */
    POL_DET__COUNT
};
const char *pol_detector_name(enum pol_detector d);
enum pol_level pol_detector_level(enum pol_detector d);

typedef void pol_finding_fn(void *arg, enum pol_detector d, size_t off, size_t len);
/* Runs every detector over text (linear time, no allocation); calls fn for each finding
 * (may be NULL). Returns the highest level found (public when none). */
enum pol_level pol_classify_scan(const char *text, size_t len, pol_finding_fn *fn, void *arg);
/* Highest level found by the detectors (public when none). */
enum pol_level pol_classify_text(const char *text, size_t len);
/* Detectors can only raise: max(base, pol_classify_text). */
enum pol_level pol_classify_raise(enum pol_level base, const char *text, size_t len);

enum pol_visibility { POL_VIS_UNKNOWN, POL_VIS_PUBLIC, POL_VIS_PRIVATE };
/* Connector default level: gmail/gcal/jira/gdrive internal; github public repository public,
 * private (or unknown visibility) internal; unknown connector internal. */
enum pol_level pol_classify_connector(const char *connector, enum pol_visibility vis);
/* Derived data carries the highest level of its sources. */
enum pol_level pol_level_max(enum pol_level a, enum pol_level b);

#endif
