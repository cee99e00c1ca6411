/* SPDX-License-Identifier: MIT
 * audit_fwd_http.c — delivery over HTTPS through net/ (egress policy, bounded answers): one
 * POST per batch.
 *
 * hec: the HEC envelopes one after the other, "Authorization: Splunk <key>"; the answer's
 * "code" must be 0. ecs: an Elasticsearch _bulk body ({"create":{"_index","_id"}} then the
 * document, per record), "Authorization: ApiKey <key>"; every item must be created or already
 * exist (409: a redelivery, the _id is "<tenant>:<seq>"). Every other format is a generic
 * webhook: the records as lines, "Authorization: Bearer <key>". Any 2xx ends a delivery; the
 * key is never part of a message. X-OpenClaw-Node names the node that sent (the leader).
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "net/net.h"

#define HTTP_TIMEOUT_MS 15000u
#define ANSWER_MAX ((size_t)4 << 20) /* a bulk answer: ~150 bytes per item */

static void body_of(const struct audit_fwd_dest *d, const struct audit_fwd_batch *b,
                    struct gw_buf *body)
{
    bool bulk = d->cfg.fmt == &audit_fwd_ecs;
    for (size_t i = 0; i < b->n; i++) {
        const struct audit_fwd_rec *r = &b->recs[i];
        if (bulk) {
            char id[300];
            snprintf(id, sizeof id, "%s:%s%" PRId64, r->tenant, r->head ? "head:" : "", r->seq);
            json_t *a = json_pack("{s:{s:s,s:s}}", "create", "_index",
                                  d->cfg.index ? d->cfg.index : "openclaw-audit", "_id", id);
            gw_json_write(body, a, true);
            json_decref(a);
            gw_buf_append(body, "\n", 1);
        }
        gw_buf_append(body, b->text.data + r->off, r->len);
        gw_buf_append(body, "\n", 1);
    }
}

/* A 2xx answer that still reports a failure (HEC code, bulk items). */
static bool answer_ok(const struct audit_fwd_dest *d, const char *body, size_t len, char *why,
                      size_t cap)
{
    bool bulk = d->cfg.fmt == &audit_fwd_ecs, hec = d->cfg.fmt == &audit_fwd_hec;
    if (!bulk && !hec)
        return true;
    json_t *j = gw_json_parse(body, len, 16, NULL, 0);
    bool ok = j != NULL;
    if (ok && hec) {
        json_t *code = json_object_get(j, "code");
        ok = !code || (json_is_integer(code) && json_integer_value(code) == 0);
        if (!ok)
            snprintf(why, cap, "HEC answered code %" JSON_INTEGER_FORMAT, json_integer_value(code));
    } else if (ok && json_is_true(json_object_get(j, "errors"))) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(j, "items"), i, item) {
            json_t *op = json_object_get(item, "create");
            json_int_t st = json_integer_value(json_object_get(op, "status"));
            if (st != 201 && st != 200 && st != 409) {
                const char *t = gw_json_str(json_object_get(op, "error"), "type");
                snprintf(why, cap, "bulk item %zu refused: %" JSON_INTEGER_FORMAT " %.80s", i, st,
                         t ? t : "");
                ok = false;
                break;
            }
        }
    } else if (!ok) {
        snprintf(why, cap, "the answer is not JSON");
    }
    json_decref(j);
    return ok;
}

static gw_err send_batch(struct audit_fwd_dest *d, const struct audit_fwd_batch *b, char *why,
                         size_t cap)
{
    struct gw_buf body;
    gw_buf_init(&body, (size_t)1 << 30);
    body_of(d, b, &body);
    const char *scheme = d->cfg.fmt == &audit_fwd_hec   ? "Splunk"
                         : d->cfg.fmt == &audit_fwd_ecs ? "ApiKey"
                                                        : "Bearer";
    char *ctype = gw_xasprintf("Content-Type: %s", d->cfg.fmt->content_type);
    char *auth = d->cfg.api_key ? gw_xasprintf("Authorization: %s %s", scheme, d->cfg.api_key)
                                : NULL;
    /* the sending node (validated: letters, digits, '-', '_', '.'): who led, for the SIEM */
    char *node = gw_xasprintf("X-OpenClaw-Node: %s", d->env.node ? d->env.node : "node");
    const char *headers[] = {ctype, node, auth, NULL};
    struct net_request req = {
        .url = d->cfg.endpoint,
        .method = "POST",
        .body = body.data ? body.data : "",
        .body_len = body.len,
        .headers = headers,
        .ca_file = d->cfg.ca_file,
        .timeout_ms = HTTP_TIMEOUT_MS,
        .max_body = ANSWER_MAX,
    };
    struct net_response res = {0};
    gw_err rc = net_fetch(d->net, &req, &res);
    if (rc != GW_OK) {
        snprintf(why, cap, "%s", res.msg[0] ? res.msg : gw_err_message(rc));
    } else if (res.status < 200 || res.status > 299) {
        snprintf(why, cap, "HTTP %ld", res.status);
        rc = GW_EUPSTREAM;
    } else if (!answer_ok(d, res.body, res.len, why, cap)) {
        rc = GW_EUPSTREAM;
    }
    net_response_release(&res);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    free(ctype);
    free(node);
    gw_buf_release(&body);
    return rc;
}

const struct audit_fwd_transport audit_fwd_http = {
    .name = "https",
    .send = send_batch,
};
