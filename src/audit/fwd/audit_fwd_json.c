/* SPDX-License-Identifier: MIT
 * audit_fwd_json.c — the row as JSON (exactly the JSON Lines file's object, hash included, so
 * a SIEM copy can be checked against the chain), and the Splunk HTTP Event Collector envelope
 * around it ({"time","host","source","sourcetype","index","fields","event"}).
 *
 * A record above AUDIT_FWD_MAX_RECORD keeps every field but its details, which become
 * {"omitted":true,"reason":...}: such a record no longer hashes like the row (the store and
 * the file keep the original).
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "audit/audit.h"
#include "base/json.h"

json_t *audit_fwd_details(const struct store_audit_row *r)
{
    json_t *d = r->details ? gw_json_parse(r->details, strlen(r->details), 64, NULL, 0) : NULL;
    return d ? d : json_object();
}

void audit_fwd_put_json(struct gw_buf *out, json_t *obj, json_t *parent, const char *key)
{
    struct gw_buf one;
    gw_buf_init(&one, AUDIT_FWD_MAX_RECORD);
    if (!gw_json_write(&one, obj, true) && parent) {
        json_object_set_new(parent, key,
                            json_pack("{s:b,s:s}", "omitted", 1, "reason",
                                      "larger than the forwarding limit of 64 KiB"));
        gw_buf_reset(&one);
        gw_json_write(&one, obj, true);
    }
    if (one.len)
        gw_buf_append(out, one.data, one.len);
    gw_buf_release(&one);
    json_decref(obj);
}

static void json_event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                       struct gw_buf *out)
{
    GW_UNUSED(env);
    json_t *o = audit_row_to_json(r);
    audit_fwd_put_json(out, o, o, "details");
}

static void json_head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                      struct gw_buf *out)
{
    GW_UNUSED(env);
    audit_fwd_put_json(out, audit_checkpoint_to_json(c), NULL, NULL);
}

const struct audit_fwd_format audit_fwd_json = {
    .name = "json",
    .content_type = "application/x-ndjson",
    .event = json_event,
    .head = json_head,
};

/* --- Splunk HEC ---------------------------------------------------------------------------- */

static json_t *envelope(const struct audit_fwd_env *env, int64_t ts_ms, const char *sourcetype,
                        const char *tenant, int64_t seq, json_t *event)
{
    /* time: epoch seconds with milliseconds, as HEC expects */
    json_t *o = json_pack("{s:f,s:s,s:s,s:s,s:{s:s,s:I},s:o}", "time", (double)ts_ms / 1000.0,
                          "host", env->host, "source", AUDIT_FWD_APP, "sourcetype", sourcetype,
                          "fields", "tenant", tenant, "seq", (json_int_t)seq, "event", event);
    if (env->index)
        json_object_set_new(o, "index", json_string(env->index));
    return o;
}

static void hec_event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                      struct gw_buf *out)
{
    json_t *ev = audit_row_to_json(r);
    json_t *o = envelope(env, r->ts_ms, "openclaw:audit", r->tenant, r->seq, json_incref(ev));
    audit_fwd_put_json(out, o, ev, "details");
    json_decref(ev);
}

static void hec_head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                     struct gw_buf *out)
{
    json_t *o = envelope(env, c->ts_ms, "openclaw:audit:head", c->tenant, c->seq,
                         audit_checkpoint_to_json(c));
    audit_fwd_put_json(out, o, NULL, NULL);
}

const struct audit_fwd_format audit_fwd_hec = {
    .name = "hec",
    .content_type = "application/json",
    .event = hec_event,
    .head = hec_head,
};

const struct audit_fwd_format *audit_fwd_format_find(const char *name)
{
    static const struct audit_fwd_format *const all[] = {
        &audit_fwd_cef, &audit_fwd_leef, &audit_fwd_json,
        &audit_fwd_hec, &audit_fwd_ecs,  &audit_fwd_ocsf,
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(all); i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}
