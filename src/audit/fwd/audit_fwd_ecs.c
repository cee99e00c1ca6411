/* SPDX-License-Identifier: MIT
 * audit_fwd_ecs.c — Elastic Common Schema (ECS 8.11) documents for Elasticsearch.
 *
 * ECS names where ECS has the field (@timestamp, ecs.version, event.kind/category/type/action/
 * outcome/id/sequence/dataset/provider, user.name, user.id, source.ip, http.request.id,
 * http.response.status_code, organization.id, host.name); the chain's own fields under the
 * custom openclaw.audit.* namespace, as ECS recommends for fields it does not define.
 * event.id is "<tenant>:<seq>", which the bulk transport also uses as the document _id so a
 * redelivered event replaces nothing and is counted once.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/util.h"
#include "audit/audit.h"

#include <arpa/inet.h>

#define ECS_VERSION "8.11.0"

static const char *outcome_of(const char *o)
{
    if (!o)
        return "unknown";
    return !strcmp(o, "ok") ? "success" : "failure";
}

/* event.category and event.type from the event type's family. */
static void classify(const char *type, const char *outcome, const char **cat, const char **etype)
{
    bool ok = outcome && !strcmp(outcome, "ok");
    if (!strncmp(type, "auth.", 5) || !strncmp(type, "session.", 8)) {
        *cat = "authentication";
        *etype = ok ? "start" : "info";
    } else if (!strncmp(type, "token.", 6) || !strncmp(type, "role.", 5) ||
               !strncmp(type, "grant.", 6)) {
        *cat = "iam";
        *etype = ok ? "change" : "info";
    } else if (!strncmp(type, "policy.", 7) || !strncmp(type, "config.", 7)) {
        *cat = "configuration";
        *etype = ok ? "change" : "info";
    } else {
        *cat = "api";
        *etype = !outcome || ok ? "access" : !strcmp(outcome, "denied") ? "denied" : "info";
    }
}

static json_t *base(const struct audit_fwd_env *env, int64_t ts_ms, const char *tenant, int64_t seq,
                    const char *kind)
{
    char ts[40], id[300];
    gw_time_iso8601(ts_ms, ts, sizeof ts);
    snprintf(id, sizeof id, "%s:%" PRId64, tenant, seq);
    return json_pack("{s:s,s:{s:s},s:{s:s,s:s,s:s,s:s,s:I},s:{s:s},s:{s:s}}", "@timestamp", ts,
                     "ecs", "version", ECS_VERSION, "event", "kind", kind, "dataset",
                     "openclaw.audit", "provider", AUDIT_FWD_APP, "id", id, "sequence",
                     (json_int_t)seq, "organization", "id", tenant, "host", "name", env->host);
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                  struct gw_buf *out)
{
    json_t *o = base(env, r->ts_ms, r->tenant, r->seq, "event");
    json_t *ev = json_object_get(o, "event");
    const char *cat, *etype;
    classify(r->type, r->outcome, &cat, &etype);
    json_object_set_new(ev, "category", json_pack("[s]", cat));
    json_object_set_new(ev, "type", json_pack("[s]", etype));
    set_str(ev, "action", r->type);
    set_str(ev, "outcome", outcome_of(r->outcome));
    json_t *user = json_object();
    set_str(user, "name", r->actor);
    set_str(user, "id", r->token_id);
    json_object_set_new(o, "user", user);
    unsigned char addr[16];
    if (r->client_ip && (inet_pton(AF_INET, r->client_ip, addr) == 1 ||
                         inet_pton(AF_INET6, r->client_ip, addr) == 1))
        json_object_set_new(o, "source", json_pack("{s:s}", "ip", r->client_ip));
    json_t *http = json_pack("{s:{},s:{s:i}}", "request", "response", "status_code", r->status);
    set_str(json_object_get(http, "request"), "id", r->request_id);
    json_object_set_new(o, "http", http);
    json_t *details = audit_fwd_details(r);
    json_t *oc = json_pack("{s:s,s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o}", "tenant", r->tenant,
                           "seq", (json_int_t)r->seq, "hash", r->hash, "prev_hash", r->prev_hash,
                           "outcome", r->outcome, "classification", r->classification, "resource",
                           r->resource, "org_unit", r->org_unit, "team", r->team, "details",
                           json_incref(details));
    json_object_set_new(o, "openclaw", json_pack("{s:o}", "audit", oc));
    audit_fwd_put_json(out, o, oc, "details");
    json_decref(details);
}

static void head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                 struct gw_buf *out)
{
    json_t *o = base(env, c->ts_ms, c->tenant, c->seq, "state");
    json_t *ev = json_object_get(o, "event");
    char id[300];
    snprintf(id, sizeof id, "%s:head:%" PRId64, c->tenant, c->seq);
    json_object_set_new(ev, "id", json_string(id));
    json_object_set_new(ev, "category", json_pack("[s]", "configuration"));
    json_object_set_new(ev, "type", json_pack("[s]", "info"));
    json_object_set_new(ev, "action", json_string("audit.checkpoint"));
    json_object_set_new(o, "openclaw",
                        json_pack("{s:o}", "checkpoint", audit_checkpoint_to_json(c)));
    audit_fwd_put_json(out, o, NULL, NULL);
}

const struct audit_fwd_format audit_fwd_ecs = {
    .name = "ecs",
    .content_type = "application/x-ndjson",
    .event = event,
    .head = head,
};
