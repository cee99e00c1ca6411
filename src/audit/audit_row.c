/* SPDX-License-Identifier: MIT
 * audit_row.c — the one serialization of an audit row, and its hash.
 *
 * The JSONL line, the export, the API result and the hashed canonical text are all built here
 * from the same object, so a row read back from the store and the same row read from a file
 * hash identically: details are kept in the store as canonical JSON text and parsed back into
 * an object, absent strings are JSON null, ts is ISO 8601 UTC with milliseconds. Also the CSV
 * form (RFC 4180, formula injection neutralized), and the signed heads' messages, objects and
 * lines.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *details_from_text(const char *text)
{
    if (!text || !*text)
        return json_object();
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (v)
        return v;
    /* Not JSON (only possible if the store was edited): keep the text so the hash covers it. */
    return str_or_null(text);
}

json_t *audit_row_json_nohash(const struct store_audit_row *r)
{
    char ts[40];
    gw_time_iso8601(r->ts_ms, ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "tenant", str_or_null(r->tenant));
    json_object_set_new(o, "seq", json_integer(r->seq));
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "type", str_or_null(r->type));
    json_object_set_new(o, "outcome", str_or_null(r->outcome));
    json_object_set_new(o, "actor", str_or_null(r->actor));
    json_object_set_new(o, "token_id", str_or_null(r->token_id));
    json_object_set_new(o, "org_unit", str_or_null(r->org_unit));
    json_object_set_new(o, "team", str_or_null(r->team));
    json_object_set_new(o, "resource", str_or_null(r->resource));
    json_object_set_new(o, "request_id", str_or_null(r->request_id));
    json_object_set_new(o, "client_ip", str_or_null(r->client_ip));
    json_object_set_new(o, "classification", str_or_null(r->classification));
    json_object_set_new(o, "status", json_integer(r->status));
    json_object_set_new(o, "details", details_from_text(r->details));
    json_object_set_new(o, "prev_hash", str_or_null(r->prev_hash));
    return o;
}

void audit_hash_canonical(const char *canonical, size_t n, char out[65])
{
    static const char domain[] = AUDIT_HASH_DOMAIN;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[GW_SHA256_LEN];
    unsigned int mdlen = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, domain, sizeof domain - 1) != 1 ||
        EVP_DigestUpdate(ctx, canonical, n) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
        fprintf(stderr, "audit: SHA-256 unavailable\n");
        abort();
    }
    EVP_MD_CTX_free(ctx);
    gw_hex(md, sizeof md, out);
}

void audit_hash_object(const json_t *obj_nohash, char out[65])
{
    char *c = gw_json_canonical(obj_nohash);
    if (!c)
        abort(); /* jansson only fails here on OOM */
    audit_hash_canonical(c, strlen(c), out);
    free(c);
}

char *audit_row_canonical(const struct store_audit_row *r)
{
    json_t *o = audit_row_json_nohash(r);
    char *c = gw_json_canonical(o);
    json_decref(o);
    return c;
}

void audit_row_compute_hash(const struct store_audit_row *r, char out[65])
{
    json_t *o = audit_row_json_nohash(r);
    audit_hash_object(o, out);
    json_decref(o);
}

json_t *audit_row_to_json(const struct store_audit_row *r)
{
    json_t *o = audit_row_json_nohash(r);
    json_object_set_new(o, "hash", str_or_null(r->hash));
    return o;
}

void audit_row_line(struct gw_buf *b, const struct store_audit_row *r)
{
    char *c = audit_row_canonical(r);
    if (!c)
        abort();                        /* jansson only fails here on OOM */
    gw_buf_append(b, c, strlen(c) - 1); /* without its '}' */
    gw_buf_printf(b, ",\"hash\":\"%s\"}\n", r->hash ? r->hash : "");
    free(c);
}

/* --- canonical text assembled around (prev_hash, seq, ts) --------------------------------- */

/* A string value exactly as jansson serializes it (null when absent or not UTF-8). */
static void put_str(struct gw_buf *b, const char *key, const char *s)
{
    gw_buf_puts(b, key);
    json_t *v = s ? json_string(s) : NULL;
    if (!gw_json_write(b, v, false))
        gw_buf_append(b, "null", 4);
    json_decref(v);
}

void audit_canon_build(const struct store_audit_row *r, const char *details_canonical,
                       struct audit_canon *out)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 40);
    /* Keys in strcmp order, as JSON_SORT_KEYS emits them. */
    put_str(&b, "{\"actor\":", r->actor);
    put_str(&b, ",\"classification\":", r->classification);
    put_str(&b, ",\"client_ip\":", r->client_ip);
    gw_buf_puts(&b, ",\"details\":");
    gw_buf_puts(&b, details_canonical);
    put_str(&b, ",\"org_unit\":", r->org_unit);
    put_str(&b, ",\"outcome\":", r->outcome);
    gw_buf_puts(&b, ",\"prev_hash\":\"");
    out->cut[0] = b.len;
    put_str(&b, "\",\"request_id\":", r->request_id);
    put_str(&b, ",\"resource\":", r->resource);
    gw_buf_puts(&b, ",\"seq\":");
    out->cut[1] = b.len;
    gw_buf_printf(&b, ",\"status\":%d", r->status);
    put_str(&b, ",\"team\":", r->team);
    put_str(&b, ",\"tenant\":", r->tenant);
    put_str(&b, ",\"token_id\":", r->token_id);
    gw_buf_puts(&b, ",\"ts\":\"");
    out->cut[2] = b.len;
    put_str(&b, "\",\"type\":", r->type);
    gw_buf_append(&b, "}", 1);
    out->text = gw_buf_detach(&b, &out->len);
}

void audit_canon_finish(const struct audit_canon *c, const char *prev_hash, int64_t seq,
                        int64_t ts_ms, EVP_MD_CTX *ctx, char hash[65], struct gw_buf *line)
{
    static const char domain[] = AUDIT_HASH_DOMAIN;
    char seqs[24], ts[40];
    int seqlen = snprintf(seqs, sizeof seqs, "%lld", (long long)seq);
    gw_time_iso8601(ts_ms, ts, sizeof ts);
    const struct {
        const char *p;
        size_t n;
    } part[] = {
        {c->text, c->cut[0]},
        {prev_hash, strlen(prev_hash)},
        {c->text + c->cut[0], c->cut[1] - c->cut[0]},
        {seqs, (size_t)seqlen},
        {c->text + c->cut[1], c->cut[2] - c->cut[1]},
        {ts, strlen(ts)},
        {c->text + c->cut[2], c->len - c->cut[2]},
    };
    unsigned char md[GW_SHA256_LEN];
    unsigned int mdlen = 0;
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, domain, sizeof domain - 1) == 1;
    for (size_t i = 0; ok && i < GW_ARRAY_LEN(part); i++)
        ok = EVP_DigestUpdate(ctx, part[i].p, part[i].n) == 1;
    if (!ok || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
        fprintf(stderr, "audit: SHA-256 unavailable\n");
        abort();
    }
    gw_hex(md, sizeof md, hash);
    if (!line)
        return;
    for (size_t i = 0; i < GW_ARRAY_LEN(part); i++) /* the last part without its '}' */
        gw_buf_append(line, part[i].p, part[i].n - (i + 1 == GW_ARRAY_LEN(part)));
    gw_buf_append(line, ",\"hash\":\"", 9);
    gw_buf_append(line, hash, 64);
    gw_buf_append(line, "\"}\n", 3);
}

/* Optional string member: absent or null → NULL; another type → error. */
static bool opt_str(const json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = gw_xstrdup(json_string_value(v));
    return true;
}

gw_err audit_row_from_json(const json_t *obj, struct store_audit_row *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj))
        return GW_EINVAL;
    json_t *seq = json_object_get(obj, "seq");
    json_t *status = json_object_get(obj, "status");
    json_t *details = json_object_get(obj, "details");
    const char *ts = gw_json_str(obj, "ts");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1 || !ts ||
        !gw_time_parse(ts, &out->ts_ms) || (status && !json_is_integer(status)) ||
        (details && !json_is_null(details) && !json_is_object(details)))
        goto bad;
    out->seq = json_integer_value(seq);
    out->status = status ? (int)json_integer_value(status) : 0;
    if (!opt_str(obj, "tenant", &out->tenant) || !opt_str(obj, "type", &out->type) ||
        !opt_str(obj, "outcome", &out->outcome) || !opt_str(obj, "actor", &out->actor) ||
        !opt_str(obj, "token_id", &out->token_id) || !opt_str(obj, "org_unit", &out->org_unit) ||
        !opt_str(obj, "team", &out->team) || !opt_str(obj, "resource", &out->resource) ||
        !opt_str(obj, "request_id", &out->request_id) ||
        !opt_str(obj, "client_ip", &out->client_ip) ||
        !opt_str(obj, "classification", &out->classification) ||
        !opt_str(obj, "prev_hash", &out->prev_hash) || !opt_str(obj, "hash", &out->hash))
        goto bad;
    if (!out->tenant || !out->type || !out->prev_hash)
        goto bad;
    out->details = json_is_object(details) ? gw_json_canonical(details) : gw_xstrdup("{}");
    return GW_OK;
bad:
    store_audit_row_release(out);
    memset(out, 0, sizeof *out);
    return GW_EINVAL;
}

/* --- CSV ------------------------------------------------------------------------------------ */

static const char csv_header[] =
    "seq,ts,tenant,type,outcome,actor,token_id,org_unit,team,resource,request_id,client_ip,"
    "classification,status,details,prev_hash,hash\n";

const char *audit_csv_header(void)
{
    return csv_header;
}

/* One cell: a leading = + - @ TAB CR gets an apostrophe (spreadsheets would evaluate it), then
 * RFC 4180 quoting when the cell holds a comma, a quote, CR or LF. */
static void csv_cell(struct gw_buf *b, const char *s, bool last)
{
    if (!s)
        s = "";
    bool inject = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        gw_buf_append(b, "\"", 1);
    if (inject)
        gw_buf_append(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            gw_buf_append(b, "\"\"", 2);
        else
            gw_buf_append(b, p, 1);
    }
    if (quote)
        gw_buf_append(b, "\"", 1);
    gw_buf_append(b, last ? "\n" : ",", 1);
}

char *audit_row_to_csv(const struct store_audit_row *r)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 40); /* bounded by the row; SIZE_MAX would overflow buf.c */
    char num[32], ts[40];
    snprintf(num, sizeof num, "%lld", (long long)r->seq);
    csv_cell(&b, num, false);
    gw_time_iso8601(r->ts_ms, ts, sizeof ts);
    csv_cell(&b, ts, false);
    csv_cell(&b, r->tenant, false);
    csv_cell(&b, r->type, false);
    csv_cell(&b, r->outcome, false);
    csv_cell(&b, r->actor, false);
    csv_cell(&b, r->token_id, false);
    csv_cell(&b, r->org_unit, false);
    csv_cell(&b, r->team, false);
    csv_cell(&b, r->resource, false);
    csv_cell(&b, r->request_id, false);
    csv_cell(&b, r->client_ip, false);
    csv_cell(&b, r->classification, false);
    snprintf(num, sizeof num, "%d", r->status);
    csv_cell(&b, num, false);
    csv_cell(&b, r->details ? r->details : "{}", false);
    csv_cell(&b, r->prev_hash, false);
    csv_cell(&b, r->hash, true);
    return gw_buf_detach(&b, NULL);
}

/* --- checkpoints ----------------------------------------------------------------------------- */

char *audit_checkpoint_message(const struct store_audit_checkpoint *c)
{
    if (c->root)
        return gw_xasprintf(AUDIT_HEAD_DOMAIN "%s\n%lld\n%s\n%s\n%lld\n%s\n",
                            c->tenant ? c->tenant : "", (long long)c->seq, c->hash ? c->hash : "",
                            c->root, (long long)c->ts_ms, c->key_id ? c->key_id : "");
    return gw_xasprintf(AUDIT_CHECKPOINT_DOMAIN "%s\n%lld\n%s\n%lld\n", c->tenant ? c->tenant : "",
                        (long long)c->seq, c->hash ? c->hash : "", (long long)c->ts_ms);
}

json_t *audit_checkpoint_to_json(const struct store_audit_checkpoint *c)
{
    char ts[40];
    gw_time_iso8601(c->ts_ms, ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(c->root ? "head" : "checkpoint"));
    json_object_set_new(o, "tenant", str_or_null(c->tenant));
    json_object_set_new(o, "seq", json_integer(c->seq));
    json_object_set_new(o, "hash", str_or_null(c->hash));
    if (c->root)
        json_object_set_new(o, "root", json_string(c->root));
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "ts_ms", json_integer(c->ts_ms));
    json_object_set_new(o, "key_id", str_or_null(c->key_id));
    json_object_set_new(o, "signature", str_or_null(c->signature));
    return o;
}

bool audit_json_is_checkpoint(const json_t *obj)
{
    return json_object_get(obj, "signature") != NULL && json_object_get(obj, "prev_hash") == NULL;
}

void audit_head_line(struct gw_buf *b, const struct store_audit_checkpoint *c)
{
    json_t *o = audit_checkpoint_to_json(c);
    char *s = gw_json_compact(o);
    json_decref(o);
    gw_buf_puts(b, s);
    gw_buf_append(b, "\n", 1);
    free(s);
}

static bool hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

gw_err audit_checkpoint_from_json(const json_t *obj, struct store_audit_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    json_t *seq = json_object_get(obj, "seq");
    json_t *ts_ms = json_object_get(obj, "ts_ms");
    const char *tenant = gw_json_str(obj, "tenant"), *hash = gw_json_str(obj, "hash");
    const char *key_id = gw_json_str(obj, "key_id"), *sig = gw_json_str(obj, "signature");
    const char *type = gw_json_str(obj, "type"), *ts = gw_json_str(obj, "ts");
    const char *root = gw_json_str(obj, "root");
    bool head = type && strcmp(type, "head") == 0;
    if (!json_is_object(obj) || !type || (!head && strcmp(type, "checkpoint") != 0) ||
        !json_is_integer(seq) || json_integer_value(seq) < 0 || !json_is_integer(ts_ms) ||
        !tenant || !hash || !key_id || !sig || head != (root != NULL) || (root && !hex64(root)))
        return GW_EINVAL;
    if (ts) { /* "ts" is informative but must agree with the signed ts_ms */
        char want[40];
        gw_time_iso8601(json_integer_value(ts_ms), want, sizeof want);
        if (strcmp(ts, want) != 0)
            return GW_EINVAL;
    }
    out->tenant = gw_xstrdup(tenant);
    out->seq = json_integer_value(seq);
    out->hash = gw_xstrdup(hash);
    out->ts_ms = json_integer_value(ts_ms);
    out->key_id = gw_xstrdup(key_id);
    out->signature = gw_xstrdup(sig);
    out->root = root ? gw_xstrdup(root) : NULL;
    return GW_OK;
}
