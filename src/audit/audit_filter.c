/* SPDX-License-Identifier: MIT
 * audit_filter.c — what of an event's details may enter the audit trail.
 *
 * Runs in the submitting thread before the event is queued, on a deep copy of the details:
 * top-level keys listed in piiFields are hashed ("hmac-sha256:<hex>", keyed with the PII key),
 * removed or kept per piiHandling; with log_content false the content keys ("content",
 * "message", "response", "body") at any depth (tool arguments nest them) become
 * {"omitted":true,"length":N}. The result is
 * also made storable: bounded in size and depth, and exactly what parsing its canonical text
 * gives back, so the store row and the file line hash the same.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"

static const char *const content_keys[] = {"content", "message", "response", "body"};

void audit_policy_init(struct audit_policy *p, const struct audit_options *o,
                       const unsigned char *pii_key)
{
    memset(p, 0, sizeof *p);
    p->log_content = o->log_content;
    p->pii_handling = o->pii_handling;
    p->pii_key = pii_key;
    size_t n = 0;
    while (o->pii_fields && o->pii_fields[n])
        n++;
    p->pii_fields = gw_xcalloc(n + 1, sizeof *p->pii_fields);
    for (size_t i = 0; i < n; i++)
        p->pii_fields[i] = gw_xstrdup(o->pii_fields[i]);
    p->n_pii = n;
}

void audit_policy_release(struct audit_policy *p)
{
    for (size_t i = 0; i < p->n_pii; i++)
        free(p->pii_fields[i]);
    free(p->pii_fields);
    memset(p, 0, sizeof *p);
}

static bool is_pii(const struct audit_policy *p, const char *key)
{
    for (size_t i = 0; i < p->n_pii; i++)
        if (strcmp(p->pii_fields[i], key) == 0)
            return true;
    return false;
}

static bool is_content(const char *key)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(content_keys); i++)
        if (strcmp(content_keys[i], key) == 0)
            return true;
    return false;
}

/* Bytes of a string value, or of the canonical serialization of anything else. */
static size_t value_length(const json_t *v)
{
    if (json_is_string(v))
        return json_string_length(v);
    char *s = gw_json_canonical(v);
    size_t n = s ? strlen(s) : 0;
    free(s);
    return n;
}

static json_t *pii_hash(const struct audit_policy *p, const json_t *v)
{
    char *owned = NULL;
    const char *text;
    size_t len;
    if (json_is_string(v)) {
        text = json_string_value(v);
        len = json_string_length(v);
    } else {
        owned = gw_json_canonical(v);
        text = owned ? owned : "";
        len = strlen(text);
    }
    unsigned char mac[GW_SHA256_LEN];
    gw_hmac_sha256(p->pii_key, 32, text, len, mac);
    free(owned);
    char out[sizeof "hmac-sha256:" + 2 * GW_SHA256_LEN];
    memcpy(out, "hmac-sha256:", 12);
    gw_hex(mac, sizeof mac, out + 12);
    return json_string(out);
}

static size_t depth_of(const json_t *v, size_t limit)
{
    if (limit == 0 || !(json_is_object(v) || json_is_array(v)))
        return 0;
    size_t d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            size_t cd = depth_of(c, limit - 1);
            d = GW_MAX(d, cd);
        }
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            size_t cd = depth_of(c, limit - 1);
            d = GW_MAX(d, cd);
        }
    }
    return d + 1;
}

static json_t *marker(const char *reason, size_t length)
{
    json_t *m = json_object();
    json_object_set_new(m, "omitted", json_true());
    if (length)
        json_object_set_new(m, "length", json_integer((json_int_t)length));
    json_object_set_new(m, "reason", json_string(reason));
    return m;
}

/* Is there a content key anywhere in v (tool arguments nest them)? */
static bool has_content(const json_t *v, int depth)
{
    const char *key;
    json_t *val;
    size_t i;
    if (depth > AUDIT_DETAILS_MAX_DEPTH)
        return false;
    json_object_foreach((json_t *)v, key, val)
        if (is_content(key) || has_content(val, depth + 1))
            return true;
    json_array_foreach(v, i, val)
        if (has_content(val, depth + 1))
            return true;
    return false;
}

/* Replaces every content value below v by {"omitted":true,"length":N}. */
static void omit_content(json_t *v, int depth)
{
    const char *key;
    json_t *val;
    void *tmp;
    size_t i;
    if (depth > AUDIT_DETAILS_MAX_DEPTH)
        return;
    json_object_foreach_safe(v, tmp, key, val) {
        if (is_content(key)) {
            json_t *m = json_object();
            json_object_set_new(m, "omitted", json_true());
            json_object_set_new(m, "length", json_integer((json_int_t)value_length(val)));
            json_object_set_new(v, key, m);
        } else {
            omit_content(val, depth + 1);
        }
    }
    json_array_foreach(v, i, val)
        omit_content(val, depth + 1);
}

/* Does the policy change anything in d? (Most events: no, and no copy is made.) */
static bool needs_filter(const struct audit_policy *p, const json_t *d)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)d, key, val)
        if (is_pii(p, key) && p->pii_handling != CFG_PII_PLAIN)
            return true;
    return !p->log_content && has_content(d, 0);
}

char *audit_details_text(const struct audit_policy *p, const json_t *details)
{
    json_t *d;
    if (!details || json_is_null(details)) {
        d = json_object();
    } else if (json_is_object(details)) {
        d = needs_filter(p, details) ? json_deep_copy(details) : json_incref((json_t *)details);
    } else { /* details are an object by contract; keep a stray scalar/array under "value" */
        d = json_object();
        json_object_set_new(d, "value", json_deep_copy(details));
    }
    if (!d)
        d = json_object();

    if (needs_filter(p, d)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(d, tmp, key, val) {
            if (is_pii(p, key) && p->pii_handling == CFG_PII_HASH)
                json_object_set_new(d, key, pii_hash(p, val));
            else if (is_pii(p, key) && p->pii_handling == CFG_PII_OMIT)
                json_object_del(d, key);
        }
        if (!p->log_content)
            omit_content(d, 0);
    }

    if (depth_of(d, AUDIT_DETAILS_MAX_DEPTH + 1) > AUDIT_DETAILS_MAX_DEPTH) {
        json_decref(d);
        d = marker("details nested too deeply", 0);
    }
    /* The canonical text is a fixed point of parse + serialize (sorted keys, jansson's exact
     * number and string forms), so the store row and the file line hash the same, and a
     * verifier re-serializing the stored details gets the same bytes. */
    char *t = gw_json_canonical(d);
    if (!t || strlen(t) > AUDIT_MAX_DETAILS) {
        size_t n = t ? strlen(t) : 0;
        free(t);
        json_decref(d);
        d = marker("details too large", n);
        t = gw_json_canonical(d);
    }
    json_decref(d);
    return t;
}
