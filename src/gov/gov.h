/* SPDX-License-Identifier: MIT
 * gov.h — the governance spine: one governed call, whatever the door.
 *
 * Every door (the HTTP API, the OpenAI-compatible /v1, agent turns, approvals; later WebSocket,
 * Slack and connectors) turns what it received into a struct gov_call: the request's pool, the
 * configuration snapshot it holds, the authenticated principal, the request id and client
 * address, and the call's one audit event. Nothing here knows HTTP. The door then either runs an
 * action through the one pipeline (gov_act: scope → classification → override → decision →
 * park | deny | write-ahead audit → run), makes a governed model call (gov_model.h), or calls a
 * service directly for what needs no decision, and renders the outcome in its own terms.
 *
 * Audit rule: a call is exactly one audit event. A mutation writes it durably before it
 * changes anything (gov_audit_ahead; when that fails nothing happens and the door answers
 * 503); every other call has it written when the door completes (gov_audit_finish), with the
 * status the door answered. Steps of a longer call (a tool inside an agent turn) add events of
 * their own with gov_audit_step. Identity and tenant come from the principal, never from
 * arguments chosen by a client or a model.
 */
#ifndef GW_GOV_H
#define GW_GOV_H

#include "base/prelude.h"
#include "base/err.h"
#include "policy/policy.h"

#include <jansson.h>

struct audit;
struct auth_grants;
struct auth_principal;
struct cfg;
struct gw_pool;
struct llm_client;
struct llm_registry;
struct meter;
struct net_loop;
struct ns_registry;
struct store;
struct gov;
struct gov_action;

/* --- the runtime --------------------------------------------------------------------------- */

/* The services the spine acts through, handed in by the composition root. */
struct gov_deps {
    struct store *store;
    struct audit *audit;
    struct ns_registry *ns;
    struct auth_grants *grants;
    struct llm_client *llm;
    struct llm_registry *models; /* run-time providers and models (may be NULL: the file's) */
    struct meter *costs;         /* may be NULL (metering off) */
    struct net_loop *net;        /* outbound calls (OPA) */
    struct shared *shared;       /* policy changes told to the other nodes (shared/shared.h) */
    const struct gov_action *const *actions; /* every action the doors may run (tools/) */
    size_t n_actions;
};

/* Loads the policy runtime (gov_policy.h) too; msg says why it failed (a bad bundle). */
gw_err gov_open(const struct gov_deps *deps, const struct cfg *c, struct gov **out, char *msg,
                size_t msgcap);
void gov_close(struct gov *g);
/* The services it was opened with (for actions: they run with the spine's services). */
const struct gov_deps *gov_deps(const struct gov *g);
/* The policy runtime, for the policy administration doors (gov_policy.h). */
struct gov_policy *gov_policies(struct gov *g);
/* Expires overdue approvals (called once a second by the daemon). */
void gov_tick(struct gov *g);

/* --- the call ---------------------------------------------------------------------------- */

struct gov_audit {
    const char *type;           /* event type: the door's default, refined by the call */
    const char *resource;       /* channel, memory path, token id, model ... (in pool) */
    const char *classification; /* level name of the data, or NULL */
    json_t *details;            /* owned; the door's default when NULL */
    bool done;                  /* written durably already (gov_audit_ahead) */
};

struct gov_call {
    struct gov *gov;
    struct gw_pool *pool;     /* the door's; lives as long as the call */
    struct cfg *cfg;          /* snapshot held for the call (the door's reference) */
    struct auth_principal *p; /* NULL for calls without a credential */
    const char *tenant;       /* p->tenant, or the address's tenant when anonymous */
    const char *request_id;
    const char *client_ip;
    struct gov_audit audit;
};

/* The call's own event, durably, before a mutation (steals details; the door must not apply
 * its change when this fails: GW_EAUDIT). status is what the door will answer on success. */
gw_err gov_audit_ahead(struct gov_call *gc, const char *type, const char *resource, int status,
                       json_t *details);
/* After gov_audit_ahead succeeded but the change failed: the event "<type>.failed" is written
 * when the call finishes, with the status then answered. */
void gov_audit_failed(struct gov_call *gc);
/* An extra durable event of a step of the call (details borrowed). */
gw_err gov_audit_step(struct gov_call *gc, const char *type, const char *resource, int status,
                      json_t *details);
/* Writes the call's event (unless written already) with the status answered (queued, not
 * waited for), then drops its details. fallback_details (borrowed) is used when the call set
 * none. */
void gov_audit_finish(struct gov_call *gc, int status, const json_t *fallback_details);
/* "ok", "denied" (401, 403, 429), "failed" (other 4xx) or "error" (5xx) of a status. */
const char *gov_outcome_of(int status);

/* --- decisions ------------------------------------------------------------------------------ */

/* The built-in engine, then OPA when policy.opa_url is set (the stricter answer wins; an
 * unreachable or malformed OPA denies). The decision's strings are copied into gc->pool.
 * gov_decide_audited also records it ("policy.decision"), for decisions that are not part of
 * the call's own event. */
enum pol_effect gov_decide(struct gov_call *gc, enum pol_action action, const char *resource,
                           int level, const struct pol_kv *ctx, size_t n_ctx,
                           struct pol_decision *out);
enum pol_effect gov_decide_audited(struct gov_call *gc, enum pol_action action,
                                   const char *resource, int level, const struct pol_kv *ctx,
                                   size_t n_ctx, struct pol_decision *out);

/* "<prefix><reason> (policy <id> v<n>, <scope>: change it with `openclaw policy update
 * <id> ...`)", or for a default deny how to create the missing policy: every refusal names
 * what decided it and what would change it. */
void gov_denial(const struct pol_decision *d, const char *prefix, char *out, size_t cap);

/* One OPA query (gov_opa.c): POST {"input": input} to url; fills effect and reason from
 * {"result": {"allow", "require_approval", "reason"}}. Any failure returns GW_EUPSTREAM with
 * the cause in reason. */
gw_err gov_opa_decide(struct net_loop *net, const char *url, unsigned timeout_ms,
                      const json_t *input, enum pol_effect *effect, char *reason, size_t cap);

#endif
