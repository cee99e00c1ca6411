/* SPDX-License-Identifier: MIT
 * config_gateway.c — the gateway and tenant sections: listener, TLS, threads, limits, data
 * directory, tenant identity.
 *
 * The data directory is settled first (command line over file over default) because every
 * relative path in the rest of the file is resolved against it. Limits have ranges rather than
 * just "positive": a zero or absurd limit would turn into a gateway that refuses everything or
 * protects nothing.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#define GIB ((size_t)1 << 30)

enum {
    GW_HOST,
    GW_PORT,
    GW_TLS,
    GW_TLS_CERT,
    GW_TLS_KEY,
    GW_THREADS,
    GW_LOG_LEVEL,
    GW_DATA_DIR,
    GW_LIMITS,
    GW_PROXIES,
    GW_DRAIN_GRACE,
    GW__N
};
const char *const cfg_keys_gateway[] = {
    [GW_HOST] = "host",
    [GW_PORT] = "port",
    [GW_TLS] = "tls",
    [GW_TLS_CERT] = "tls_cert",
    [GW_TLS_KEY] = "tls_key",
    [GW_THREADS] = "threads",
    [GW_LOG_LEVEL] = "log_level",
    [GW_DATA_DIR] = "data_dir",
    [GW_LIMITS] = "limits",
    [GW_PROXIES] = "trusted_proxies",
    [GW_DRAIN_GRACE] = "drain_grace_ms",
    [GW__N] = NULL,
};

#define MAX_TRUSTED_PROXIES 64

enum {
    LIM_BODY,
    LIM_HEADER,
    LIM_CONN,
    LIM_CONN_IP,
    LIM_IDLE,
    LIM_HEADER_T,
    LIM_REQUEST_T,
    LIM_MEMORY,
    LIM_MESSAGE,
    LIM__N
};
const char *const cfg_keys_limits[] = {
    [LIM_BODY] = "max_body_bytes",         [LIM_HEADER] = "max_header_bytes",
    [LIM_CONN] = "max_connections",        [LIM_CONN_IP] = "max_connections_per_ip",
    [LIM_IDLE] = "idle_timeout_s",         [LIM_HEADER_T] = "header_timeout_s",
    [LIM_REQUEST_T] = "request_timeout_s", [LIM_MEMORY] = "max_memory_bytes",
    [LIM_MESSAGE] = "max_message_bytes",   [LIM__N] = NULL,
};

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static void load_limits(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[LIM__N];
    struct cfg_limits *l = &L->c->limits;
    struct cfg_errlist *e = L->errs;
    if (!cfg_map_slots(e, n, "gateway.limits", cfg_keys_limits, v, NULL))
        return;
    cfg_get_size(e, v[LIM_BODY], "gateway.limits.max_body_bytes", 1, GIB, &l->max_body_bytes);
    cfg_get_size(e, v[LIM_HEADER], "gateway.limits.max_header_bytes", 1024, 1 << 20,
                 &l->max_header_bytes);
    cfg_get_uint(e, v[LIM_CONN], "gateway.limits.max_connections", 1, 1000000, &l->max_connections);
    cfg_get_uint(e, v[LIM_CONN_IP], "gateway.limits.max_connections_per_ip", 1, 1000000,
                 &l->max_connections_per_ip);
    cfg_get_uint(e, v[LIM_IDLE], "gateway.limits.idle_timeout_s", 1, 86400, &l->idle_timeout_s);
    cfg_get_uint(e, v[LIM_HEADER_T], "gateway.limits.header_timeout_s", 1, 3600,
                 &l->header_timeout_s);
    cfg_get_uint(e, v[LIM_REQUEST_T], "gateway.limits.request_timeout_s", 1, 86400,
                 &l->request_timeout_s);
    cfg_get_size(e, v[LIM_MEMORY], "gateway.limits.max_memory_bytes", 1, GIB, &l->max_memory_bytes);
    cfg_get_size(e, v[LIM_MESSAGE], "gateway.limits.max_message_bytes", 1, GIB,
                 &l->max_message_bytes);
}

/* gateway.trusted_proxies: CIDR blocks whose forwarded headers name the real client. */
static void load_trusted_proxies(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    char **list = NULL, shown[80];
    size_t count = 0;
    if (!cfg_get_strlist(L->errs, n, "gateway.trusted_proxies", &list, &count) || !list) {
        cfg_free_strv(list); /* a refused list is still allocated */
        return;
    }
    if (count > MAX_TRUSTED_PROXIES) {
        cfg_err(L->errs, n->line, "gateway.trusted_proxies lists at most %d blocks",
                MAX_TRUSTED_PROXIES);
        count = 0;
    }
    c->trusted_proxies = gw_xcalloc(count + 1, sizeof(*c->trusted_proxies));
    for (size_t i = 0; i < count; i++) {
        if (gw_cidr_parse(list[i], &c->trusted_proxies[c->n_trusted_proxies]))
            c->n_trusted_proxies++;
        else
            cfg_err(L->errs, n->vals[i]->line,
                    "gateway.trusted_proxies[%zu] '%s' is not an address or a CIDR block "
                    "(e.g. 10.0.0.0/8, 192.168.1.10, fd00::/8; host bits must be zero)",
                    i, cfg_shown(list[i], shown, sizeof(shown)));
    }
    cfg_free_strv(list);
}

static bool has_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return true;
    return false;
}

void cfg_load_gateway(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[GW__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    /* Even without a gateway section the data directory must be settled. */
    cfg_map_slots(e, n, "gateway", cfg_keys_gateway, v, NULL);

    char *dd = NULL;
    if (cfg_get_str(e, v[GW_DATA_DIR], "gateway.data_dir", &dd) && dd &&
        (!*dd || strlen(dd) > 1024)) {
        cfg_err(e, v[GW_DATA_DIR]->line, "gateway.data_dir must be 1 to 1024 bytes long");
        free(dd);
        dd = NULL;
    }
    const char *src = L->ov->data_dir && *L->ov->data_dir ? L->ov->data_dir
                      : dd && *dd                         ? dd
                                                          : "data";
    c->data_dir = cfg_path_abs_dir(src);
    free(dd);

    if (cfg_get_str(e, v[GW_HOST], "gateway.host", &c->host) &&
        (!*c->host || has_space(c->host) || strlen(c->host) > 255))
        cfg_err(e, v[GW_HOST]->line, "gateway.host must be an address or host name");
    cfg_get_uint(e, v[GW_PORT], "gateway.port", 1, 65535, &c->port);
    if (L->ov->port)
        c->port = L->ov->port;
    cfg_get_uint(e, v[GW_THREADS], "gateway.threads", 1, 1024, &c->threads);
    cfg_get_uint(e, v[GW_DRAIN_GRACE], "gateway.drain_grace_ms", 0, 60000, &c->drain_grace_ms);
    cfg_get_enum(e, v[GW_LOG_LEVEL], "gateway.log_level", log_levels, &c->log_level);

    cfg_get_bool(e, v[GW_TLS], "gateway.tls", &c->tls);
    cfg_get_path(e, v[GW_TLS_CERT], "gateway.tls_cert", c->data_dir, &c->tls_cert);
    cfg_get_path(e, v[GW_TLS_KEY], "gateway.tls_key", c->data_dir, &c->tls_key);
    if (c->tls && (cfg_is_null(v[GW_TLS_CERT]) || cfg_is_null(v[GW_TLS_KEY])))
        cfg_err(e, v[GW_TLS]->line, "gateway.tls is true but gateway.%s is not set",
                cfg_is_null(v[GW_TLS_CERT]) && cfg_is_null(v[GW_TLS_KEY]) ? "tls_cert/tls_key"
                : cfg_is_null(v[GW_TLS_CERT])                             ? "tls_cert"
                                                                          : "tls_key");

    load_limits(L, v[GW_LIMITS]);
    load_trusted_proxies(L, v[GW_PROXIES]);
}

enum { TEN_ID, TEN_NAME, TEN__N };
const char *const cfg_keys_tenant[] = {[TEN_ID] = "id", [TEN_NAME] = "name", [TEN__N] = NULL};

void cfg_load_tenant(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[TEN__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80];
    if (cfg_map_slots(e, n, "tenant", cfg_keys_tenant, v, NULL)) {
        if (cfg_get_str(e, v[TEN_ID], "tenant.id", &c->tenant_id) && !cfg_name_valid(c->tenant_id))
            cfg_err(e, v[TEN_ID]->line,
                    "tenant.id '%s' is not valid (1-63 characters of [a-z0-9_-], starting with a "
                    "letter or digit)",
                    cfg_shown(c->tenant_id, shown, sizeof(shown)));
        if (cfg_get_str(e, v[TEN_NAME], "tenant.name", &c->tenant_name) && c->tenant_name &&
            !*c->tenant_name)
            cfg_err(e, v[TEN_NAME]->line, "tenant.name must not be empty");
    }
    if (!c->tenant_name)
        c->tenant_name = gw_xstrdup(c->tenant_id);
}
