/* SPDX-License-Identifier: MIT
 * gov_model.h — the one governed model call, for every door that calls a model: the
 * OpenAI-compatible proxy (asynchronous, answered from the model client's I/O thread) and agent
 * turns (blocking, on a worker thread).
 *
 *   classify   the detectors read the whole request; a door may raise the level (a client's
 *              declared classification, an agent's "internal at least"), never lower it
 *   route      model configured → workspace budget → models policy (allow, deny, or reroute to
 *              the self-hosted model) → data residency → fallbacks, each checked the same way
 *              (gov_route.h)
 *   redact     when the deciding policy says so, findings are masked before data leaves
 *   call       the model client: fair admission, retries, fallbacks (llm.h)
 *   meter      usage and cost recorded against the workspace, once, when tokens were produced
 *
 * What the call did (route, decision, usage, cost) is returned as audit details for the door's
 * one event: identity and tenant are the call's principal, never the request's.
 */
#ifndef GW_GOV_MODEL_H
#define GW_GOV_MODEL_H

#include "gov/gov.h"
#include "gov/gov_route.h"
#include "llm/llm.h"

#include <stdatomic.h>

struct gov_model_req {
    const char *model;        /* "<provider>/<model>" asked for */
    json_t *canon;            /* validated canonical request (borrowed; not changed) */
    int floor;                /* the lowest level the data may have (enum pol_level), or -1:
                                 unknown, then data.default_classification applies when the
                                 detectors find nothing */
    const char *workspace;    /* whose budget pays */
    const char *agent;        /* "<ns>/<agent>" for metering, or NULL */
    const char *client_model; /* the "model" of the answers; NULL: the routed model */
    bool stream;
    size_t prompt_bytes;       /* size as received, for the token estimate (0: measured) */
    llm_on_chunk_fn *on_chunk; /* streamed chunks (I/O thread), or NULL */
    void *arg;
};

/* One governed call, in the call's pool. */
struct gov_model {
    struct gov_call *gc;
    struct gov_model_req rq; /* copied (strings in the pool) */
    struct gov_route route;  /* where it goes, why (decision), at which level */
    struct llm_usage usage;  /* what was metered */
    double cost_usd;
    json_t *details; /* route, decision, attempts, usage, cost: for the door's audit
                        event (the door takes it: set it to NULL) */
    json_t *canon;   /* what is sent (redacted when the policy says so) */
    void (*done)(void *arg, struct gov_model *m, const struct llm_result *res);
    void *done_arg;
};

/* Classifies and routes (and redacts): GW_OK with the route decided, or the refusal
 * (GW_ENOTFOUND, GW_EPAYMENT, GW_EFORBIDDEN) with msg; (*out)->details is set either way. */
gw_err gov_model_prepare(struct gov_call *gc, const struct gov_model_req *rq,
                         struct gov_model **out, char *msg, size_t cap);
/* Then either: asynchronously, done(done_arg, m, res) runs exactly once on the I/O thread
 * after metering; */
void gov_model_submit(struct gov_model *m,
                      void (*done)(void *arg, struct gov_model *m, const struct llm_result *res),
                      void *done_arg);
/* or, blocking (worker threads), waiting for the answer; *response (may be NULL) gets the
 * canonical completion; cancel (may be NULL) aborts the wait. */
gw_err gov_model_wait(struct gov_model *m, const atomic_bool *cancel, json_t **response, char *msg,
                      size_t cap);

/* --- a test call (`openclaw models test`) ------------------------------------------------ */

struct gov_probe {
    const char *model;  /* in: "<provider>/<model>" */
    gw_err err;         /* out: GW_OK when the model answered */
    long status;        /* the upstream's HTTP status, 0 when none came */
    int64_t latency_ms; /* from the request to the complete answer */
    char error[480];    /* what went wrong */
    char hint[300];     /* what to do about it, in plain words ("": nothing to add) */
    char answer[128];   /* the start of the answer */
    struct llm_usage usage;
    double cost_usd;
};

/* Sends one fixed line ("Reply with the single word OK.", nothing of the caller's) to every
 * model of probes at once, disabled ones included, each without retries or fallbacks and for
 * at most 30 s, and waits for all (a worker thread). No classification or policy decision:
 * no data of the caller's leaves; the usage is metered like any call's, in the caller's team's
 * workspace (or "default"). */
void gov_model_probe(struct gov_call *gc, struct gov_probe *probes, size_t n);

#endif
