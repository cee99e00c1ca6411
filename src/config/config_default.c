/* SPDX-License-Identifier: MIT
 * config_default.c — the built-in defaults.
 *
 * A gateway must start without any file (first run, quick tests), and a file only states what
 * differs, so the defaults live in one function that both cfg_default and cfg_load start from.
 * docs/CONFIG.md lists the same values; keep them in step.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

struct cfg *cfg_new_defaults(void)
{
    struct cfg *c = gw_xcalloc(1, sizeof(*c));
    atomic_init(&c->refcount, 1);

    c->host = gw_xstrdup("127.0.0.1");
    c->port = 8080;
    c->tls = false;
    c->threads = 4;
    c->log_level = gw_xstrdup("info");
    c->limits = (struct cfg_limits){
        .max_body_bytes = 1048576,
        .max_header_bytes = 16384,
        .max_connections = 1024,
        .max_connections_per_ip = 256,
        .idle_timeout_s = 30,
        .header_timeout_s = 10,
        .request_timeout_s = 30,
        .max_memory_bytes = 1048576,
        .max_message_bytes = 262144,
    };

    c->tenant_id = gw_xstrdup("default");

    c->bootstrap_token = true;
    c->failed_auth_limit = 10;

    c->audit_enabled = true;
    c->audit_log_level = gw_xstrdup("audit");
    c->audit_rotate_daily = false;
    c->audit_retain_days = 0;
    c->audit_log_content = true;
    c->audit_export_format = gw_xstrdup("json");
    c->pii_handling = CFG_PII_PLAIN;
    c->checkpoint_every = 1000;
    c->approver = gw_xstrdup("team_lead");
    c->policy_starter = true;
    c->approval_ttl_s = 86400;
    c->opa_timeout_ms = 500;
    c->max_tool_rounds = 8;
    c->costs_enabled = true;
    c->currency = gw_xstrdup("USD");
    c->alert_threshold = 0.8;
    return c;
}

struct cfg *cfg_default(const struct cfg_overrides *ov)
{
    struct cfg *c = cfg_new_defaults();
    c->data_dir = cfg_path_abs_dir(ov && ov->data_dir && *ov->data_dir ? ov->data_dir : "data");
    if (ov && ov->port)
        c->port = ov->port;
    c->tenant_name = gw_xstrdup(c->tenant_id);
    c->cluster.node_id = cfg_node_id_default();
    cfg_tenant_primary_init(c, 0);
    return c;
}
