/* SPDX-License-Identifier: MIT
 * api_audit.c — querying, exporting, verifying and proving the audit trail; the signing keys.
 *
 * Visibility comes from the caller's role, never from a parameter: enterprise_admin (or an
 * ownerless "*" token) sees the tenant, org_admin its org subtree, team_lead its team, anyone
 * else its own events. Exports stream page by page (audit_export_*) with no row cap; a full
 * JSONL export (whole tenant, no filter) carries the signing keys and the signed heads after
 * the rows they cover, so it verifies offline like the log file. A filtered export has gaps in
 * the chain: its rows keep their hashes, but only a full export can be verified as a chain.
 * Proofs carry hashes and signed heads only; an inclusion proof adds the event itself only when
 * the caller may see it. The tenant is always the caller's.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "audit/audit.h"
#include "gov/gov_enforce.h"
#include "base/buf.h"
#include "base/util.h"

#include <errno.h>

static void visibility(const struct auth_principal *p, struct audit_query *f)
{
    /* an ownerless token only reports enterprise_admin when it holds "*" (auth_tokens.c) */
    if (strcmp(p->role, "enterprise_admin") == 0) {
        f->vis = AUDIT_SEE_ALL;
    } else if (strcmp(p->role, "org_admin") == 0 && p->org_unit) {
        f->vis = AUDIT_SEE_ORG;
        f->scope = p->org_unit;
    } else if (strcmp(p->role, "team_lead") == 0 && p->team) {
        f->vis = AUDIT_SEE_TEAM;
        f->scope = p->team;
    } else {
        f->vis = AUDIT_SEE_OWN;
        f->scope = p->actor;
    }
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Fills the filter from the query string; answers 400 and returns false on a bad value. */
static bool parse_filter(struct api_call *c, struct audit_query *f)
{
    memset(f, 0, sizeof(*f));
    f->tenant = c->gc.p->tenant;
    visibility(c->gc.p, f);
    f->actor = http_query(c->r, "user");
    f->type = http_query(c->r, "event");
    f->resource = http_query(c->r, "channel");
    f->outcome = http_query(c->r, "outcome");
    f->request_id = http_query(c->r, "request_id");
    const char *names[] = {"since", "until"};
    int64_t *dst[] = {&f->since_ms, &f->until_ms};
    for (size_t i = 0; i < 2; i++) {
        const char *v = http_query(c->r, names[i]);
        if (v && !gw_time_parse(v, dst[i])) {
            http_respond_error(c->r, GW_EINVAL,
                               "%s must be an RFC 3339 time, e.g. 2025-01-10T09:00:00Z", names[i]);
            return false;
        }
    }
    const char *strs[] = {f->actor, f->type, f->resource, f->outcome, f->request_id};
    for (size_t i = 0; i < GW_ARRAY_LEN(strs); i++) {
        if (strs[i] && strlen(strs[i]) > 256) {
            http_respond_error(c->r, GW_EINVAL, "filter values are limited to 256 characters");
            return false;
        }
    }
    return true;
}

void api_audit_query(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    struct audit_query q;
    if (!parse_filter(c, &q))
        return;
    int64_t limit = 100, before = 0, next = 0;
    const char *l = http_query(c->r, "limit"), *cur = http_query(c->r, "cursor");
    if (l && !parse_int(l, 1, 1000, &limit)) {
        http_respond_error(c->r, GW_EINVAL, "limit must be an integer from 1 to 1000");
        return;
    }
    if (cur && !parse_int(cur, 1, INT64_MAX, &before)) {
        http_respond_error(c->r, GW_EINVAL, "invalid cursor");
        return;
    }
    json_t *events = NULL;
    if (audit_page(c->d->audit, &q, before, (size_t)limit, &events, &next) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "the audit trail could not be read");
        return;
    }
    c->gc.audit.details = json_pack("{s:I}", "returned", (json_int_t)json_array_size(events));
    http_respond_json(c->r, 200,
                      json_pack("{s:o,s:o}", "events", events, "next_cursor",
                                next ? json_sprintf("%lld", (long long)next) : json_null()));
}

/* --- streamed export ----------------------------------------------------------------------- */

static ssize_t export_fill(void *arg, char *out, size_t cap)
{
    return audit_export_read(arg, out, cap);
}

static void export_free(void *arg)
{
    audit_export_close(arg);
}

void api_audit_export(struct api_call *c)
{
    if (!api_require(c, "audit:export"))
        return;
    struct audit_query f;
    if (!parse_filter(c, &f))
        return;
    const char *fmt = http_query(c->r, "format");
    if (!fmt)
        fmt = c->gc.cfg->audit_export_format && strcmp(c->gc.cfg->audit_export_format, "csv") == 0
                  ? "csv"
                  : "jsonl";
    bool csv = strcmp(fmt, "csv") == 0;
    if (!csv && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "json") != 0) {
        http_respond_error(c->r, GW_EINVAL, "format must be jsonl or csv");
        return;
    }
    const char *dest = http_query(c->r, "destination");
    if (dest && strcmp(dest, "internal") != 0 && strcmp(dest, "external") != 0) {
        http_respond_error(c->r, GW_EINVAL, "destination must be internal or external");
        return;
    }
    /* a data export: the data policy decides; with content the trail carries what users and
     * models wrote, so it counts as confidential, metadata alone as internal */
    char msg[POL_REASON_MAX + 100];
    int level = c->gc.cfg->audit_log_content ? POL_LEVEL_CONFIDENTIAL : POL_LEVEL_INTERNAL;
    gw_err rc = gov_export_check(&c->gc, "audit", level, dest && !strcmp(dest, "external"), msg,
                                 sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        return;
    }
    /* the export itself is audited first, so it appears in what it exports when unfiltered */
    json_t *details = json_pack("{s:s,s:s?,s:s?,s:s?}", "format", csv ? "csv" : "jsonl", "user",
                                f.actor, "event", f.type, "channel", f.resource);
    if (!api_audit_sync(c, "audit.exported", NULL, 200, details))
        return;
    struct audit_export *x = audit_export_open(c->d->audit, &f,
                                               csv ? AUDIT_EXPORT_CSV : AUDIT_EXPORT_JSONL);
    const char *hdrs[] = {csv ? "Content-Disposition: attachment; filename=\"audit-export.csv\""
                              : "Content-Disposition: attachment; filename=\"audit-export.jsonl\"",
                          NULL};
    http_respond_stream(c->r, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                        export_fill, export_free, x, hdrs);
}

void api_audit_verify(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    json_t *body = NULL;
    if (c->r->method == HTTP_POST && !(body = api_json_body(c)))
        return;
    const json_t *head = json_object_get(body, "head");
    if (body && !json_is_object(head)) {
        json_decref(body);
        http_respond_error(c->r, GW_EINVAL, "the body must be {\"head\": <a signed head>}");
        return;
    }
    struct audit_verify_opts o = {.head = head};
    struct audit_verify_result res;
    gw_err rc = audit_verify_store(c->d->audit, c->gc.p->tenant, &o, &res);
    json_decref(body);
    if (rc == GW_EINVAL) {
        http_respond_error(c->r, rc, "head is not a signed head with a root");
        return;
    }
    if (rc != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "the audit trail could not be read");
        return;
    }
    json_t *out = audit_verify_result_json(&res);
    json_object_set_new(out, "tenant", json_string(c->gc.p->tenant));
    if (res.ok)
        json_object_del(out, "reason");
    c->gc.audit.details = json_pack("{s:b,s:I}", "ok", res.ok, "first_bad_seq",
                                    (json_int_t)res.first_bad_seq);
    http_respond_json(c->r, 200, out);
}

void api_audit_head(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    json_t *head = NULL;
    gw_err rc = audit_head_json(c->d->audit, c->gc.p->tenant, &head);
    if (rc == GW_ENOTFOUND) {
        http_respond_error(c->r, rc, "the tenant's trail has no signed head yet");
        return;
    }
    if (rc != GW_OK) {
        http_respond_error(c->r, GW_EAUDIT, "the audit head could not be read");
        return;
    }
    http_respond_json(c->r, 200, head);
}

/* --- proofs ---------------------------------------------------------------------------------- */

static bool query_int(struct api_call *c, const char *name, int64_t *out)
{
    const char *v = http_query(c->r, name);
    *out = 0;
    if (!v || parse_int(v, 1, INT64_MAX, out))
        return true;
    http_respond_error(c->r, GW_EINVAL, "%s must be a positive integer", name);
    return false;
}

static void respond_proof(struct api_call *c, gw_err rc, json_t *proof)
{
    if (rc == GW_OK)
        http_respond_json(c->r, 200, proof);
    else if (rc == GW_ENOTFOUND)
        http_respond_error(c->r, rc, "no such event, or no signed head of that size");
    else if (rc == GW_EINVAL)
        http_respond_error(c->r, rc, "sizes out of range (seq <= size, from <= to)");
    else
        http_respond_error(c->r, GW_ESTORE, "the audit trail could not be read");
}

void api_audit_proof_inclusion(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    int64_t seq = 0, size = 0;
    if (!parse_int(c->var[0], 1, INT64_MAX, &seq)) {
        http_respond_error(c->r, GW_EINVAL, "the event's seq must be a positive integer");
        return;
    }
    if (!query_int(c, "size", &size))
        return;
    json_t *proof = NULL;
    gw_err rc = audit_prove_inclusion(c->d->audit, c->gc.p->tenant, seq, size, &proof);
    struct audit_query q = {.tenant = c->gc.p->tenant};
    visibility(c->gc.p, &q);
    json_t *ev = NULL;
    if (rc == GW_OK && audit_event_json(c->d->audit, &q, seq, &ev) == GW_OK)
        json_object_set_new(proof, "event", ev);
    respond_proof(c, rc, proof);
}

void api_audit_proof_consistency(struct api_call *c)
{
    if (!api_require(c, "audit:read"))
        return;
    int64_t from = 0, to = 0;
    if (!query_int(c, "from", &from) || !query_int(c, "to", &to))
        return;
    if (!from) {
        http_respond_error(c->r, GW_EINVAL, "from (the size of the head you kept) is required");
        return;
    }
    json_t *proof = NULL;
    gw_err rc = audit_prove_consistency(c->d->audit, c->gc.p->tenant, from, to, &proof);
    respond_proof(c, rc, proof);
}

/* --- signing keys ---------------------------------------------------------------------------- */

void api_audit_public_key(struct api_call *c)
{
    json_t *keys = NULL;
    if (audit_keys_json(c->d->audit, &keys) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "the signing keys could not be read");
        return;
    }
    http_respond_json(c->r, 200,
                      json_pack("{s:s,s:s,s:s,s:o}", "algorithm", "Ed25519", "public_key",
                                audit_public_key(c->d->audit), "key_id", audit_key_id(c->d->audit),
                                "keys", keys));
}

void api_audit_rotate_key(struct api_call *c)
{
    if (!api_require(c, "audit:admin"))
        return;
    /* one key signs every tenant's heads: the gateway's operator rotates it */
    if (strcmp(c->gc.p->role, "enterprise_admin") != 0 ||
        strcmp(c->gc.p->tenant, c->gc.cfg->tenant_id) != 0) {
        http_respond_error(c->r, GW_EFORBIDDEN,
                           "the signing key is the gateway's: only an "
                           "enterprise administrator of the primary tenant rotates it");
        return;
    }
    json_t *d = json_pack("{s:s}", "previous_key_id", audit_key_id(c->d->audit));
    if (!api_audit_sync(c, "audit.key_rotated", NULL, 200, d))
        return;
    char id[17];
    if (audit_rotate_key(c->d->audit, id) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_EAUDIT, "the signing key could not be rotated");
        return;
    }
    http_respond_json(c->r, 200,
                      json_pack("{s:s,s:s}", "key_id", id, "public_key",
                                audit_public_key(c->d->audit)));
}
