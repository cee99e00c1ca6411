/* SPDX-License-Identifier: MIT
 * gwd_int.h — private to core/: the daemon's state and its table of modules.
 *
 * Data flow of a request: http (limits, request id) → api adapter (route, identity through
 * auth's login methods, tenant from the principal) → gov (scope, classification, policy,
 * approval, audit ahead) → the action or the model call → audit. The configuration is an
 * immutable snapshot; a reload validates a new file (every module's check), lets every module
 * take it, then swaps it under cfg_lock, while requests in flight keep the snapshot they took.
 */
#ifndef GW_GWD_INT_H
#define GW_GWD_INT_H

#include "base/prelude.h"
#include "api/api.h"
#include "base/err.h"
#include "config/config.h"

#include <pthread.h>
#include <stdatomic.h>

struct gwd {
    pthread_mutex_t cfg_lock;
    struct cfg *cfg;   /* current snapshot (ref held) */
    char *config_path; /* NULL when running on defaults */
    struct cfg_overrides overrides;
    struct gw_dirlock *lock; /* the data directory's (base/dirlock.h) */
    struct store *store;
    struct shared *shared;     /* state shared with other nodes (shared/shared.h) */
    atomic_bool shared_reload; /* another node reloaded: the next tick reloads here */
    struct audit *audit;
    struct net_loop *net;            /* every outbound connection (net/net.h) */
    struct audit_watch *audit_watch; /* witness posts, integrity alerts (audit/audit.h) */
    struct audit_fwd *siem;          /* SIEM forwarding (audit/fwd/audit_fwd.h) */
    struct auth_registry *auth;
    struct auth_grants *grants; /* namespace members (auth_grants.c) */
    struct ns_registry *ns;
    struct auth_throttle *throttle;
    struct auth_sso *sso;          /* sessions, CLI sign-in, OIDC, SAML (auth_sso.h) */
    struct meter *costs;           /* metering and budgets (meter/meter.h) */
    struct llm_client *llm;        /* upstream model calls (llm/llm.h) */
    struct llm_registry *models;   /* run-time providers and models (llm_registry.h) */
    struct agent_history *history; /* conversations (agent/agent.h) */
    struct gov *gov;               /* the governance spine (src/gov) */
    struct http_server *http;
    struct api_deps api; /* what the HTTP adapters get */
    char *bootstrap;     /* a bootstrap token to show once, or NULL */
    int64_t started_ms;
    atomic_bool draining;
    pthread_mutex_t reload_lock; /* one reload at a time */
};

/* One subsystem's lifecycle (nginx's module hooks). Every hook may be NULL. */
struct gwd_module {
    const char *name;
    /* At start, in table order: 0, or the process's exit code (1, CFG_EXIT_INVALID). */
    int (*open)(struct gwd *g, const struct cfg *c);
    /* A new configuration, before anything takes it: GW_ECONFIG and a message in errs to
     * refuse it. */
    gw_err (*check)(struct gwd *g, const struct cfg *c, struct cfg_errors *errs);
    /* The new configuration is taken (in table order, before the snapshot is swapped). */
    void (*reload)(struct gwd *g, const struct cfg *c);
    /* Once a second on the main thread. */
    void (*tick)(struct gwd *g);
    /* SIGTERM, in reverse order: finish or cancel work in flight. */
    void (*drain)(struct gwd *g);
    /* In reverse order, for every module that opened (or started to). */
    void (*close)(struct gwd *g);
};

/* The table, in start order. */
const struct gwd_module *gwd_modules(size_t *n);

/* A new reference to the current configuration; cfg_unref it when done. */
struct cfg *gwd_config(struct gwd *g);
/* Re-reads the configuration file; on validation failure errs is filled and nothing changes. */
gw_err gwd_reload(struct gwd *g, struct cfg_errors *errs);
/* Runs the modules' ticks on the main thread now rather than within the second (any thread;
 * before the main loop runs they wait for it). */
void gwd_wake(void);
/* Adds a message to errs (a reload's or a start's refusal). */
void gwd_error(struct cfg_errors *errs, const char *fmt, ...) GW_PRINTF(2, 3);

#endif
