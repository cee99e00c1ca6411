/* SPDX-License-Identifier: MIT
 * gov_action.h — actions as table entries, and the one pipeline every action goes through.
 *
 * An action (a built-in tool today; connector operations and agent-to-agent messages later) is
 * a const struct gov_action: its name, the policy action it is decided as, the permission it
 * needs besides access to its target, whether it changes something, how its arguments are
 * checked, and how it runs. gov_act then does, in this order and nowhere else:
 *
 *   check      the arguments (shape, names, sizes; untrusted: from a client or a model) and the
 *              classification of the data they carry (detectors: they can only raise it)
 *   scope      the principal reaches the target (channel scope, role, namespace grant) and
 *              holds the action's permission
 *   override   an administrator's classification of the target replaces the detectors'
 *   decide     built-in policy + optional OPA, audited ("policy.decision")
 *   park       require_approval: the action, its arguments and the frozen principal are
 *              stored; an approver re-enters here (GOV_ACT_APPROVED) and nothing is decided
 *              twice
 *   deny       with the deciding policy's reason
 *   audit      a mutation is audited durably before it runs ("<audit>.invoked"); a read is
 *              audited with its outcome
 *   run
 */
#ifndef GW_GOV_ACTION_H
#define GW_GOV_ACTION_H

#include "gov/gov.h"

/* What an action touches, as its check found it (strings in the call's pool). */
struct gov_target {
    const char *ns, *agent; /* agent "shared": the namespace's shared memory */
    const char *resource;   /* "<ns>/<agent>": the audit's resource */
    enum pol_level level;   /* classification of the data it carries */
};

struct gov_action {
    const char *name;    /* "memory_write": the name a client or a model uses */
    enum pol_action pol; /* how the policy engine decides it (POL_ACT_TOOL_CALL ...) */
    const char *scope;   /* permission needed besides the target, or NULL */
    const char *audit;   /* event type prefix: "tool" → tool.invoked, tool.denied */
    bool mutation;       /* audited durably before it runs */
    /* Checks the arguments and fills the target; GW_EINVAL / GW_ETOOBIG with msg. */
    gw_err (*check)(const struct gov_call *gc, const json_t *args, struct gov_target *t, char *msg,
                    size_t cap);
    /* Runs it; *result is a new reference on success, msg says why it failed otherwise. */
    gw_err (*run)(struct gov_call *gc, const json_t *args, const struct gov_target *t,
                  json_t **result, char *msg, size_t cap);
};

enum gov_state {
    GOV_EXECUTED, /* result set */
    GOV_PENDING,  /* parked: approval_id, expires_ms, approvers */
    GOV_DENIED,   /* scope or policy: err GW_EFORBIDDEN, msg */
    GOV_INVALID,  /* arguments: err GW_EINVAL / GW_ETOOBIG, msg */
    GOV_FAILED,   /* it ran (or was to run) and failed: err (GW_EAUDIT, GW_ESTORE, ...), msg */
};

struct gov_outcome {
    enum gov_state state;
    gw_err err;
    char msg[512];
    struct gov_target target;
    bool decided; /* the policy was asked: decision is set */
    struct pol_decision decision;
    json_t *result;          /* GOV_EXECUTED (owned) */
    const char *approval_id; /* GOV_PENDING (in pool) */
    int64_t expires_ms;
    json_t *approvers; /* GOV_PENDING (owned): who may decide */
};

enum {
    GOV_ACT_STEP = 1u,     /* a step of a longer call (an agent turn): its events are extra
                              events, not the call's own */
    GOV_ACT_APPROVED = 2u, /* re-entered by an approver: decided already, audited by the
                              approval */
};

/* Runs a through the pipeline on behalf of gc->p. The return value is out->err (GW_OK for
 * GOV_EXECUTED and GOV_PENDING). */
gw_err gov_act(struct gov_call *gc, const struct gov_action *a, const json_t *args, unsigned flags,
               struct gov_outcome *out);
void gov_outcome_release(struct gov_outcome *o);
/* The action of that name among those the composition root registered, or NULL. */
const struct gov_action *gov_action_find(const struct gov *g, const char *name);
/* "a, b, c": the registered names, for error messages. */
const char *gov_action_names(const struct gov *g);

#endif
