/* SPDX-License-Identifier: MIT
 * api.h — the HTTP adapters (docs/API.md): parse a request, call the spine (gov/) or a
 * subsystem's service, render the answer. They hold no state of their own and never reach the
 * store: what they use is handed to them in struct api_deps by the composition root (core/).
 */
#ifndef GW_API_H
#define GW_API_H

#include "base/err.h"
#include "http/http.h"

#include <stdio.h>

struct cfg;
struct cfg_errors;

/* What the daemon itself answers for (core/ implements these; api/ never includes it). */
struct api_health {
    bool store_ok;              /* the store answers */
    bool draining;              /* SIGTERM received: finishing requests in flight */
    const char *shared_backend; /* the cluster's shared state: "in-process" or "redis" */
    bool shared_ok;             /* every guarantee of the shared state holds */
    char shared_detail[256];    /* what it is, or what degrades (no secret) */
    int64_t started_ms;
};

struct api_host {
    void *arg;
    /* A new reference to the current configuration (cfg_unref it). */
    struct cfg *(*config)(void *arg);
    /* Re-reads the configuration file; on failure errs says why and nothing changes. */
    gw_err (*reload)(void *arg, struct cfg_errors *errs);
    void (*health)(void *arg, struct api_health *out);
    const char *config_path; /* NULL when running on defaults */
};

/* The services the routes call, owned by the daemon. */
struct api_deps {
    struct api_host host;
    struct audit *audit;
    struct auth_registry *auth;
    struct auth_grants *grants;
    struct auth_throttle *throttle;
    struct auth_sso *sso; /* sessions, CLI sign-in, OIDC and SAML (auth/auth_sso.h) */
    struct ns_registry *ns;
    struct agent_history *history; /* conversations (agent/agent.h) */
    struct gov *gov;
    struct llm_client *llm;
    struct llm_registry *models; /* run-time providers and models (llm/llm_registry.h) */
    struct meter *costs;
    struct audit_fwd *siem; /* SIEM forwarding: back-pressure for /api/v1/status */
    struct shared *shared;  /* the cluster's shared state: the logs of resumable streams */
};

/* http_dispatch_fn / http_done_fn with ctx = struct api_deps *. */
void api_dispatch(struct http_req *r, void *deps);
void api_done(struct http_req *r, void *deps);
/* http_inline_fn: the routes that never block (the model proxy hands its work to the model
 * client and answers from there) skip the blocking workers. */
bool api_inline(struct http_req *r, void *deps);
/* Writes the route table, one "METHOD PATTERN ACCESS" line per route (ACCESS: public, anon
 * or auth), for `openclaw-gateway --list-routes` and the tests that must cover every route. */
void api_routes_print(FILE *f);

#endif
