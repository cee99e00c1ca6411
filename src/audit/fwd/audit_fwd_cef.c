/* SPDX-License-Identifier: MIT
 * audit_fwd_cef.c — ArcSight Common Event Format (CEF:0), and the escaping helpers the text
 * formats share.
 *
 * CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension. In header fields "\" and
 * "|" are escaped with a backslash; in extension values "\" and "=", and line breaks become
 * \n or \r (the CEF specification's rules), so a value can never start a key or a new event.
 * Standard keys where CEF has one (rt, suser, suid, src, outcome, act, dvchost, externalId,
 * msg), the chain's own fields in labelled custom strings (cs1 tenant, cn1 seq, cs2 hash ...).
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"

#include <arpa/inet.h>

int audit_fwd_severity(const char *outcome)
{
    if (!outcome || !strcmp(outcome, "ok"))
        return 6;
    return !strcmp(outcome, "denied") ? 4 : 3;
}

void audit_fwd_escape(struct gw_buf *out, const char *s, const char *specials)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (n > AUDIT_FWD_MAX_FIELD) { /* cut on a UTF-8 character boundary */
        n = AUDIT_FWD_MAX_FIELD;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n')
            gw_buf_puts(out, "\\n");
        else if (c == '\r')
            gw_buf_puts(out, "\\r");
        else if (strchr(specials, c) && c != '\0') {
            gw_buf_append(out, "\\", 1);
            gw_buf_append(out, &c, 1);
        } else {
            gw_buf_append(out, &c, 1);
        }
    }
}

static void hdr(struct gw_buf *out, const char *s)
{
    audit_fwd_escape(out, s, "\\|");
    gw_buf_puts(out, "|");
}

/* " key=value" with the value escaped; nothing when v is NULL or empty. */
static void ext(struct gw_buf *out, const char *key, const char *v)
{
    if (!v || !*v)
        return;
    gw_buf_printf(out, " %s=", key);
    audit_fwd_escape(out, v, "\\=");
}

static void ext_label(struct gw_buf *out, const char *key, const char *label, const char *v)
{
    if (!v || !*v)
        return;
    gw_buf_printf(out, " %sLabel=%s", key, label);
    ext(out, key, v);
}

static bool is_ip(const char *s)
{
    unsigned char a[16];
    return s && (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1);
}

static int cef_severity(const char *outcome)
{
    int sev = audit_fwd_severity(outcome);
    return sev == 6 ? 3 : sev == 4 ? 6 : 8;
}

static void header(struct gw_buf *out, const char *sig, const char *name, int severity)
{
    gw_buf_puts(out, "CEF:0|");
    hdr(out, AUDIT_FWD_VENDOR);
    hdr(out, AUDIT_FWD_PRODUCT);
    hdr(out, GW_VERSION);
    hdr(out, sig);
    hdr(out, name);
    gw_buf_printf(out, "%d|", severity);
}

static void event(const struct audit_fwd_env *env, const struct store_audit_row *r,
                  struct gw_buf *out)
{
    char name[160], num[32], ext_id[300];
    snprintf(name, sizeof name, "%s %s", r->type, r->outcome);
    header(out, r->type, name, cef_severity(r->outcome));
    gw_buf_printf(out, "rt=%" PRId64, r->ts_ms);
    ext(out, "dvchost", env->host);
    ext(out, "act", r->type);
    ext(out, "outcome", r->outcome);
    ext(out, "suser", r->actor);
    ext(out, "suid", r->token_id);
    if (is_ip(r->client_ip))
        ext(out, "src", r->client_ip);
    snprintf(ext_id, sizeof ext_id, "%s:%" PRId64, r->tenant, r->seq);
    ext(out, "externalId", ext_id);
    ext_label(out, "cs1", "tenant", r->tenant);
    snprintf(num, sizeof num, "%" PRId64, r->seq);
    ext_label(out, "cn1", "seq", num);
    ext_label(out, "cs2", "hash", r->hash);
    ext_label(out, "cs3", "prevHash", r->prev_hash);
    ext_label(out, "cs4", "classification", r->classification);
    ext_label(out, "cs5", "requestId", r->request_id);
    ext_label(out, "cs6", "resource", r->resource);
    snprintf(num, sizeof num, "%d", r->status);
    ext_label(out, "cn2", "status", num);
    ext_label(out, "flexString1", "orgUnit", r->org_unit);
    ext_label(out, "flexString2", "team", r->team);
    ext(out, "msg", r->details);
}

static void head(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                 struct gw_buf *out)
{
    char num[32], ext_id[300];
    header(out, "audit.checkpoint", "signed audit head", 1);
    gw_buf_printf(out, "rt=%" PRId64, c->ts_ms);
    ext(out, "dvchost", env->host);
    ext(out, "act", "audit.checkpoint");
    snprintf(ext_id, sizeof ext_id, "%s:head:%" PRId64, c->tenant, c->seq);
    ext(out, "externalId", ext_id);
    ext_label(out, "cs1", "tenant", c->tenant);
    snprintf(num, sizeof num, "%" PRId64, c->seq);
    ext_label(out, "cn1", "seq", num);
    ext_label(out, "cs2", "hash", c->hash);
    ext_label(out, "cs3", "keyId", c->key_id);
    ext_label(out, "cs4", "root", c->root); /* a head; NULL for an older checkpoint */
    ext_label(out, "cs5", "signature", c->signature);
    snprintf(num, sizeof num, "%" PRId64, c->ts_ms);
    ext_label(out, "cn3", "tsMs", num);
}

const struct audit_fwd_format audit_fwd_cef = {
    .name = "cef",
    .content_type = "text/plain; charset=utf-8",
    .event = event,
    .head = head,
};
