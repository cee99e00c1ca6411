/* SPDX-License-Identifier: MIT
 * api_classification.c — classification overrides over HTTP
 * (/api/v1/classification/{ns}/{agent}); the rules are the spine's (gov_classify.h).
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "gov/gov_classify.h"

static void respond(struct api_call *c, gw_err rc, json_t *item, const char *msg)
{
    if (rc == GW_OK)
        http_respond_json(c->r, 200, item);
    else
        http_respond_error(c->r, rc, "%s", msg);
}

void api_classification_get(struct api_call *c)
{
    json_t *item = NULL;
    char msg[512];
    gw_err rc = gov_classification_get(&c->gc, c->var[0], c->var[1], &item, msg, sizeof(msg));
    respond(c, rc, item, msg);
}

void api_classification_put(struct api_call *c)
{
    json_t *body = api_json_body(c), *item = NULL;
    if (!body)
        return;
    char msg[512];
    gw_err rc = gov_classification_set(&c->gc, c->var[0], c->var[1], gw_json_str(body, "level"),
                                       gw_json_str(body, "reason"), &item, msg, sizeof(msg));
    respond(c, rc, item, msg);
    json_decref(body);
}

void api_classification_clear(struct api_call *c)
{
    json_t *item = NULL;
    char msg[512];
    gw_err rc = gov_classification_clear(&c->gc, c->var[0], c->var[1], http_query(c->r, "reason"),
                                         &item, msg, sizeof(msg));
    respond(c, rc, item, msg);
}
