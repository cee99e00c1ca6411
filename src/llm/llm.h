/* SPDX-License-Identifier: MIT
 * llm.h — calling model providers: one I/O thread, libcurl multi, fair admission, retries and
 * fallbacks.
 *
 * A request thread describes a call (llm_submit) and returns at once; the outbound loop
 * ("net-io", net/net.h) owns every upstream transfer: it asks the provider's scheduler for a slot
 * (llm_sched.h), sends the request in the provider's wire format (llm_wire.h), decodes the answer
 * (streamed chunks are passed on as they arrive), retries on 429/5xx/connection errors with backoff
 * honouring Retry-After, moves to the next target when a provider keeps failing, and reports the
 * outcome exactly once through on_done. Nothing is retried or re-routed once chunks have reached
 * the caller. Request threads therefore never wait for a provider; the agent loop, which does wait,
 * uses llm_call on its own worker thread.
 *
 * Targets are resolved and checked by the caller (policy, residency, budgets) before the call:
 * this layer never chooses a provider the caller did not allow.
 */
#ifndef GW_LLM_H
#define GW_LLM_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"
#include "llm/llm_wire.h"

#include <jansson.h>
#include <stdatomic.h>

struct llm_client;
struct llm_exchange;

struct llm_target {
    const struct cfg_provider *provider; /* borrowed from the request's cfg snapshot, or from
                                            its catalog of run-time entries (llm_registry.h) */
    const struct cfg_model *model;
    const char *tenant; /* the tenant of a run-time provider (its own scheduler), else NULL */
};

struct llm_result {
    gw_err err;             /* GW_OK; GW_ETHROTTLED (queue full or wait too long: see
                               retry_after_s); GW_EUPSTREAM; GW_EUPTIMEOUT; GW_EINVAL (the provider
                               refused the request); GW_ECANCELED */
    char msg[480];          /* after fallbacks: every target tried and why each failed */
    long status;            /* the last upstream HTTP status, 0 when none came */
    int failure;            /* how the last transfer failed (enum net_failure, net/net.h), or 0 */
    json_t *response;       /* non-streamed success: canonical chat.completion (borrowed) */
    struct llm_usage usage; /* reported by the provider, else estimated (known = false) */
    const struct llm_target *served; /* the target that answered (or was tried last) */
    unsigned attempts;
    unsigned retry_after_s;
    bool streamed;     /* chunks reached the caller */
    int64_t queued_ms; /* time spent waiting for admission */
};

/* Both run on the I/O thread and must not block. on_chunk returns non-zero to cancel the
 * call (the client went away). */
typedef int llm_on_chunk_fn(void *arg, json_t *chunk);
typedef void llm_on_done_fn(void *arg, const struct llm_result *res);

struct llm_catalog;
struct llm_request {
    struct cfg *cfg;             /* snapshot the targets come from (a reference is taken) */
    struct llm_catalog *catalog; /* run-time entries they may come from (a reference is
                                    taken), or NULL */
    json_t *canon;               /* validated canonical request (a reference is taken) */
    bool stream;
    const struct llm_target *targets; /* primary first, then fallbacks; must stay valid
                                         until on_done (llm_result.served points into it) */
    size_t n_targets;
    const char *tenant, *user; /* fairness keys (copied) */
    const char *client_model;  /* "model" of the answers (copied) */
    size_t prompt_bytes;       /* size of the request as received, for the token estimate
                                  (0: measured from canon) */
    llm_on_chunk_fn *on_chunk; /* streamed chunks (canonical) */
    llm_on_done_fn *on_done;   /* exactly once */
    void *arg;
};

struct net_loop;
/* The client runs on the outbound loop net (net/net.h), which must outlive it. */
gw_err llm_client_start(struct net_loop *net, struct llm_client **out);
struct shared;
/* Counts the providers' limits across the cluster when sh is Redis-backed (llm_quota.h); call
 * before the first model call. In-process: each node's schedulers alone (the default). */
void llm_client_share(struct llm_client *c, struct shared *sh);
/* Cancels every call in flight (their on_done report GW_ECANCELED) and leaves the loop. */
void llm_client_stop(struct llm_client *c);

/* Starts a call. The returned reference lets the caller cancel it; drop it with
 * llm_exchange_unref (on_done may run before llm_submit even returns). */
struct llm_exchange *llm_submit(struct llm_client *c, const struct llm_request *rq);
/* From any thread: stops the call (upstream transfer aborted, queue slot freed). on_done
 * follows with GW_ECANCELED unless the call had already finished. */
void llm_cancel(struct llm_exchange *x);
void llm_exchange_unref(struct llm_exchange *x);

/* Blocking form for worker threads: on_done of rq is ignored; *res gets the outcome, and
 * *response (when not NULL) a new reference to the canonical completion (rebuilt from the
 * chunks when streaming). cancel (may be NULL) is polled: set it to abort the wait. */
gw_err llm_call(struct llm_client *c, const struct llm_request *rq, const atomic_bool *cancel,
                struct llm_result *res, json_t **response);

/* Per provider: running, queued, admitted, rejected, expired, wait p50/p99/max (ms); the
 * configuration's providers and tenant's run-time ones (other tenants' are not shown). */
json_t *llm_client_status(struct llm_client *c, const char *tenant);

#endif
