/* SPDX-License-Identifier: MIT
 * api_approvals.c — the approval queue over HTTP: list, read, approve, reject
 * (gov_approval.h holds the rules: who sees, who decides, exactly-once execution).
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "gov/gov_approval.h"

void api_approvals_list(struct api_call *c)
{
    json_t *items = NULL;
    if (gov_approval_list(&c->gc, http_query(c->r, "status"), &items) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "approvals could not be read");
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:o}", "approvals", items));
}

void api_approvals_get(struct api_call *c)
{
    json_t *item = NULL;
    char msg[256];
    gw_err rc = gov_approval_get(&c->gc, c->var[0], &item, msg, sizeof(msg));
    if (rc != GW_OK)
        http_respond_error(c->r, rc, "%s", msg);
    else
        http_respond_json(c->r, 200, item);
}

/* {"args"?: {...}, "comment"?: "..."}; an empty body is an empty object. */
static json_t *decision_body(struct api_call *c)
{
    return c->r->body.len ? api_json_body(c) : json_object();
}

static void respond_executed(struct api_call *c, json_t *result)
{
    http_respond_json(c->r, 200,
                      json_pack("{s:s,s:s,s:o}", "id", c->var[0], "status", "executed", "result",
                                result ? result : json_null()));
}

void api_approvals_approve(struct api_call *c)
{
    json_t *body = decision_body(c);
    if (!body)
        return;
    json_t *result = NULL;
    char msg[600];
    gw_err rc = gov_approval_approve(&c->gc, c->var[0], json_object_get(body, "args"),
                                     gw_json_str(body, "comment"), &result, msg, sizeof(msg));
    if (rc == GW_OK)
        respond_executed(c, result);
    else
        http_respond_error(c->r, rc, "%s", msg);
    json_decref(body);
}

void api_approvals_reject(struct api_call *c)
{
    json_t *body = decision_body(c);
    if (!body)
        return;
    json_t *repeated = NULL;
    char msg[256];
    gw_err rc = gov_approval_reject(&c->gc, c->var[0], gw_json_str(body, "comment"), &repeated, msg,
                                    sizeof(msg));
    if (rc != GW_OK)
        http_respond_error(c->r, rc, "%s", msg);
    else if (repeated)
        respond_executed(c, repeated);
    else
        http_respond_json(c->r, 200, json_pack("{s:s,s:s}", "id", c->var[0], "status", "rejected"));
    json_decref(body);
}
