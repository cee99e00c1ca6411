/* SPDX-License-Identifier: MIT
 * gov.c — the spine's runtime: the services it acts through and its policy runtime.
 *
 * The composition root (src/core) opens the services first and hands them in; the spine never
 * reaches back into the root, and doors hold only a struct gov.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "gov/gov_policy.h"
#include "config/config.h"
#include "audit/audit.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"

gw_err gov_open(const struct gov_deps *deps, const struct cfg *c, struct gov **out, char *msg,
                size_t msgcap)
{
    struct gov *g = gw_xcalloc(1, sizeof(*g));
    g->d = *deps;
    struct gw_buf names;
    gw_buf_init(&names, 4096);
    for (size_t i = 0; i < deps->n_actions; i++)
        gw_buf_printf(&names, "%s%s", i ? ", " : "", deps->actions[i]->name);
    g->action_names = names.data ? gw_buf_detach(&names, NULL) : gw_xstrdup("");
    json_t *created = json_array();
    gw_err rc = gov_policy_open(deps->store, c, &g->policy, created, msg, msgcap);
    if (rc != GW_OK) {
        json_decref(created);
        free(g->action_names);
        free(g);
        return rc;
    }
    gov_policy_share(g->policy, deps->shared);
    size_t i;
    json_t *rec;
    json_array_foreach(created, i, rec) { /* the starter set: the system's policies */
        struct audit_event ev = {.type = "policy.created",
                                 .outcome = "ok",
                                 .actor = "system",
                                 .resource = gw_json_str(rec, "id"),
                                 .request_id = "-",
                                 .status = 201,
                                 .details = rec};
        audit_record(deps->audit, c->tenant_id, &ev);
    }
    json_decref(created);
    *out = g;
    return GW_OK;
}

void gov_close(struct gov *g)
{
    if (!g)
        return;
    gov_policy_share(g->policy, NULL);
    gov_policy_close(g->policy);
    free(g->action_names);
    free(g);
}

const struct gov_deps *gov_deps(const struct gov *g)
{
    return &g->d;
}

struct gov_policy *gov_policies(struct gov *g)
{
    return g->policy;
}
