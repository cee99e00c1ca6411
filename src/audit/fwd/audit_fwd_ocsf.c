/* SPDX-License-Identifier: MIT
 * audit_fwd_ocsf.c — Open Cybersecurity Schema Framework (OCSF 1.1) events.
 *
 * Sign-in events (auth.login*, auth.logout*, auth.failed, auth.denied, the CLI sign-in) are
 * Authentication (class 3002, category 3: Logon 1, Logoff 2, Other 99); every other event is
 * API Activity (class 6003, category 6: Create 1, Read 2, Update 3, Delete 4, Other 99, from
 * the verb that ends the event type). type_uid = class_uid * 100 + activity_id. Each carries
 * the base attributes (time, severity_id, status_id, metadata with product, version, uid,
 * tenant_uid, sequence) and the class's required objects (user; actor, api, src_endpoint). A
 * signed head is a Base Event (class 0) whose unmapped member holds the checkpoint.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "audit/audit.h"

#define OCSF_VERSION "1.1.0"

static bool has_word(const char *type, const char *const *words)
{
    for (size_t i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        for (const char *p = strstr(type, words[i]); p; p = strstr(p + 1, words[i]))
            if ((p == type || p[-1] == '.') && (p[n] == '\0' || p[n] == '.'))
                return true;
    }
    return false;
}

static int api_activity(const char *type)
{
    static const char *const create[] = {"created", "create",  "sent",    "registered", "submitted",
                                         "granted", "invoked", "written", "requested",  NULL};
    static const char *const read[] = {"read",   "listed",     "queried", "exported",
                                       "viewed", "completion", "get",     NULL};
    static const char *const update[] = {"updated",  "update",  "approved", "rejected", "changed",
                                         "reloaded", "rotated", "decided",  NULL};
    static const char *const del[] = {"deleted", "delete", "revoked", "removed", NULL};
    return has_word(type, create)   ? 1
           : has_word(type, read)   ? 2
           : has_word(type, update) ? 3
           : has_word(type, del)    ? 4
                                    : 99;
}

/* 0: not a sign-in event; else the Authentication activity_id. */
static int auth_activity(const char *type)
{
    if (!strncmp(type, "auth.logout", 11))
        return 2;
    if (!strncmp(type, "auth.login", 10) || !strcmp(type, "auth.failed") ||
        !strcmp(type, "auth.denied") || !strncmp(type, "auth.cli.token", 14) ||
        !strncmp(type, "auth.cli.authorize", 18))
        return !strcmp(type, "auth.login.started") ? 99 : 1;
    return 0;
}

static json_t *metadata(int64_t seq, const char *tenant, const char *uid)
{
    return json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:I}", "version", OCSF_VERSION, "product",
                     "name", AUDIT_FWD_PRODUCT, "vendor_name", AUDIT_FWD_VENDOR, "version",
                     GW_VERSION, "uid", uid, "tenant_uid", tenant, "sequence", (json_int_t)seq);
}

static void event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                  struct gw_buf *out)
{
    GW_UNUSED(env);
    char uid[300];
    snprintf(uid, sizeof uid, "%s:%" PRId64, r->tenant, r->seq);
    int auth = auth_activity(r->type);
    int class_uid = auth ? 3002 : 6003, activity = auth ? auth : api_activity(r->type);
    bool ok = r->outcome && !strcmp(r->outcome, "ok");
    int sev = audit_fwd_severity(r->outcome);
    json_t *user = json_pack("{s:s,s:s?}", "name", r->actor, "uid", r->token_id);
    json_t *o = json_pack("{s:I,s:i,s:i,s:i,s:i,s:i,s:s,s:i,s:s,s:s,s:o,s:{s:o}}", "time",
                          (json_int_t)r->ts_ms, "class_uid", class_uid, "category_uid",
                          class_uid / 1000, "activity_id", activity, "type_uid",
                          class_uid * 100 + activity, "severity_id",
                          sev == 6   ? 1
                          : sev == 4 ? 3
                                     : 4,
                          "severity",
                          sev == 6   ? "Informational"
                          : sev == 4 ? "Medium"
                                     : "High",
                          "status_id", ok ? 1 : 2, "status", ok ? "Success" : "Failure", "message",
                          r->type, "metadata", metadata(r->seq, r->tenant, uid), "actor", "user",
                          json_incref(user));
    if (auth)
        json_object_set_new(o, "user", json_incref(user));
    else
        json_object_set_new(o, "api",
                            json_pack("{s:s,s:{s:s?}}", "operation", r->type, "request", "uid",
                                      r->request_id));
    json_object_set_new(o, "src_endpoint", json_pack("{s:s?}", "ip", r->client_ip));
    if (r->status)
        json_object_set_new(o, "http_response", json_pack("{s:i}", "code", r->status));
    json_t *details = audit_fwd_details(r);
    json_t *um = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o}", "hash", r->hash, "prev_hash",
                           r->prev_hash, "outcome", r->outcome, "classification", r->classification,
                           "resource", r->resource, "org_unit", r->org_unit, "team", r->team,
                           "details", json_incref(details));
    json_object_set_new(o, "unmapped", um);
    audit_fwd_put_json(out, o, um, "details");
    json_decref(details);
    json_decref(user);
}

static void head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                 struct gw_buf *out)
{
    GW_UNUSED(env);
    char uid[300];
    snprintf(uid, sizeof uid, "%s:head:%" PRId64, c->tenant, c->seq);
    json_t *o = json_pack("{s:I,s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:o,s:o}", "time", (json_int_t)c->ts_ms,
                          "class_uid", 0, "category_uid", 0, "activity_id", 99, "type_uid", 99,
                          "severity_id", 1, "severity", "Informational", "message",
                          "audit.checkpoint", "metadata", metadata(c->seq, c->tenant, uid),
                          "unmapped",
                          json_pack("{s:o}", "checkpoint", audit_checkpoint_to_json(c)));
    audit_fwd_put_json(out, o, NULL, NULL);
}

const struct audit_fwd_format audit_fwd_ocsf = {
    .name = "ocsf",
    .content_type = "application/x-ndjson",
    .event = event,
    .head = head,
};
