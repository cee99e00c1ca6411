/* SPDX-License-Identifier: MIT
 * api_admin.c — administrative operations: configuration reload.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "auth/auth.h"
#include "ns/ns.h"

void api_admin_reload(struct api_call *c)
{
    if (!api_require(c, "admin:reload"))
        return;
    if (!api_audit_sync(c, "config.reloaded", c->d->host.config_path, 200,
                        json_pack("{s:s}", "trigger", "api")))
        return;
    struct cfg_errors errs = {0};
    gw_err rc = c->d->host.reload(c->d->host.arg, &errs);
    if (rc != GW_OK) {
        api_audit_failed(c);
        json_t *list = json_array();
        for (size_t i = 0; i < errs.n; i++)
            json_array_append_new(list, json_string(errs.msgs[i]));
        json_t *body = json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", gw_err_name(GW_EINVAL),
                                 "message",
                                 "the new configuration is invalid; the running one stays",
                                 "request_id", c->r->request_id, "errors", list);
        cfg_errors_release(&errs);
        http_respond_json(c->r, 400, body);
        return;
    }
    struct cfg *now = api_config(c->d); /* c->gc.cfg is the snapshot this request started with */
    http_respond_json(c->r, 200,
                      json_pack("{s:b,s:I,s:I,s:I}", "reloaded", 1, "tokens",
                                (json_int_t)auth_registry_count(c->d->auth), "agents",
                                (json_int_t)ns_registry_count(c->d->ns), "roles",
                                (json_int_t)now->n_roles));
    cfg_unref(now);
}
