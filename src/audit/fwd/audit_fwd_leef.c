/* SPDX-License-Identifier: MIT
 * audit_fwd_leef.c — IBM QRadar Log Event Extended Format 2.0.
 *
 * LEEF:2.0|Vendor|Product|Version|EventID|x09| then key=value attributes separated by the
 * delimiter the header names (a tab, written as hex). Header fields escape "\" and "|"; values
 * escape "\" and turn tab, CR and LF into \t, \r, \n, so a value never splits an attribute or
 * an event. Predefined keys where LEEF has one (devTime with devTimeFormat, cat, sev, usrName,
 * src, resource), the chain's fields under their own names (tenant, seq, hash, prevHash ...).
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/util.h"

#include <arpa/inet.h>

static void hdr(struct gw_buf *out, const char *s)
{
    audit_fwd_escape(out, s, "\\|");
    gw_buf_puts(out, "|");
}

/* "\tkey=value" (the first attribute without the tab); nothing when v is NULL or empty. */
static void attr(struct gw_buf *out, bool *first, const char *key, const char *v)
{
    if (!v || !*v)
        return;
    gw_buf_printf(out, "%s%s=", *first ? "" : "\t", key);
    *first = false;
    size_t mark = out->len;
    audit_fwd_escape(out, v, "\\\t");
    for (size_t i = mark; i < out->len; i++) /* "\<tab>" → "\t" */
        if (out->data[i] == '\t')
            out->data[i] = 't';
}

static void header(struct gw_buf *out, const char *event_id)
{
    gw_buf_puts(out, "LEEF:2.0|");
    hdr(out, AUDIT_FWD_VENDOR);
    hdr(out, AUDIT_FWD_PRODUCT);
    hdr(out, GW_VERSION);
    hdr(out, event_id);
    gw_buf_puts(out, "x09|");
}

static void timestamp(struct gw_buf *out, bool *first, int64_t ms)
{
    char ts[40];
    gw_time_iso8601(ms, ts, sizeof ts);
    attr(out, first, "devTime", ts);
    attr(out, first, "devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
}

static void event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                  struct gw_buf *out)
{
    GW_UNUSED(env);
    bool first = true;
    char num[32], cat[64];
    unsigned char addr[16];
    header(out, r->type);
    timestamp(out, &first, r->ts_ms);
    snprintf(cat, sizeof cat, "%.*s", (int)strcspn(r->type, "."), r->type);
    attr(out, &first, "cat", cat);
    int sev = audit_fwd_severity(r->outcome);
    snprintf(num, sizeof num, "%d", sev == 6 ? 3 : sev == 4 ? 6 : 8);
    attr(out, &first, "sev", num);
    attr(out, &first, "usrName", r->actor);
    if (r->client_ip && (inet_pton(AF_INET, r->client_ip, addr) == 1 ||
                         inet_pton(AF_INET6, r->client_ip, addr) == 1))
        attr(out, &first, "src", r->client_ip);
    attr(out, &first, "resource", r->resource);
    attr(out, &first, "outcome", r->outcome);
    attr(out, &first, "tenant", r->tenant);
    snprintf(num, sizeof num, "%" PRId64, r->seq);
    attr(out, &first, "seq", num);
    attr(out, &first, "hash", r->hash);
    attr(out, &first, "prevHash", r->prev_hash);
    attr(out, &first, "classification", r->classification);
    attr(out, &first, "requestId", r->request_id);
    attr(out, &first, "tokenId", r->token_id);
    attr(out, &first, "orgUnit", r->org_unit);
    attr(out, &first, "team", r->team);
    snprintf(num, sizeof num, "%d", r->status);
    attr(out, &first, "status", num);
    attr(out, &first, "details", r->details);
}

static void head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                 struct gw_buf *out)
{
    GW_UNUSED(env);
    bool first = true;
    char num[32];
    header(out, "audit.checkpoint");
    timestamp(out, &first, c->ts_ms);
    attr(out, &first, "cat", "audit");
    attr(out, &first, "sev", "1");
    attr(out, &first, "tenant", c->tenant);
    snprintf(num, sizeof num, "%" PRId64, c->seq);
    attr(out, &first, "seq", num);
    attr(out, &first, "hash", c->hash);
    attr(out, &first, "root", c->root); /* a head; NULL for an older checkpoint */
    snprintf(num, sizeof num, "%" PRId64, c->ts_ms);
    attr(out, &first, "tsMs", num);
    attr(out, &first, "keyId", c->key_id);
    attr(out, &first, "signature", c->signature);
}

const struct audit_fwd_format audit_fwd_leef = {
    .name = "leef",
    .content_type = "text/plain; charset=utf-8",
    .event = event,
    .head = head,
};
