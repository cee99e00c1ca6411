/* SPDX-License-Identifier: MIT
 * gwd.h — the daemon: owns every subsystem and the current configuration snapshot.
 *
 * Data flow of a request: http (limits, request id) → api router (path, identity via auth,
 * tenant from the principal) → handler (scope checks, namespace rules) → audit → store/memory.
 * The configuration is an immutable snapshot; a reload (SIGHUP or the admin API) validates a
 * new file, swaps the snapshot under cfg_lock and refreshes the registries, while requests in
 * flight keep the snapshot they took.
 */
#ifndef GW_GWD_H
#define GW_GWD_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"

#include <pthread.h>
#include <stdatomic.h>

struct gwd {
    pthread_mutex_t cfg_lock;
    struct cfg *cfg;                    /* current snapshot (ref held) */
    char *config_path;                  /* NULL when running on defaults */
    struct cfg_overrides overrides;
    struct store *store;
    struct audit *audit;
    struct auth_registry *auth;
    struct auth_grants *grants;         /* namespace members (auth_grants.c) */
    struct auth_throttle *throttle;
    struct auth_oidc *oidc;             /* OpenID Connect relying party caches (auth_sso.h) */
    struct auth_saml *saml;             /* SAML 2.0 service provider (auth_sso.h) */
    struct ns_registry *ns;
    struct http_server *http;
    struct gov *gov;                    /* the governance spine (src/gov) */
    struct net_loop *net;               /* every outbound connection (net/net.h) */
    struct llm_client *llm;             /* upstream model calls (llm/llm.h) */
    struct meter *costs;                /* metering and budgets (meter/meter.h) */
    int64_t started_ms;
    atomic_bool draining;
    pthread_mutex_t reload_lock;        /* one reload at a time */
};

/* A new reference to the current configuration; cfg_unref it when done. */
struct cfg *gwd_config(struct gwd *g);
/* Re-reads the configuration file; on validation failure errs is filled and nothing changes. */
gw_err gwd_reload(struct gwd *g, struct cfg_errors *errs);
/* Entry point of openclaw-gateway. */
int gwd_main(int argc, char **argv);

#endif
