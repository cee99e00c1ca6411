/* SPDX-License-Identifier: MIT
 * json.c — strict parsing (depth pre-scan + jansson's strict mode) and serialization helpers.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/util.h"

/* jansson's own nesting limit is a compile-time 2048; scan first so the bound is ours. */
static bool depth_ok(const char *s, size_t len, size_t max_depth)
{
    size_t depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

json_t *gw_json_parse(const char *data, size_t len, size_t max_depth, char *msg, size_t msgcap)
{
    if (!depth_ok(data, len, max_depth)) {
        snprintf(msg, msgcap, "JSON nested deeper than %zu levels", max_depth);
        return NULL;
    }
    json_error_t err;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!v)
        snprintf(msg, msgcap, "line %d column %d: %s", err.line, err.column, err.text);
    return v;
}

const char *gw_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* --- serialization -----------------------------------------------------------------------
 * jansson's json_dumps goes through a callback per token and a qsort of key pointers; on the
 * model proxy path (request, response, audit event) it was the largest user-space cost. This
 * writer produces the same bytes as json_dumps(JSON_COMPACT [| JSON_SORT_KEYS]) — the audit
 * chain hashes this text, so byte equality matters and is tested against jansson — directly
 * into a buffer. Reals are the exception (put_real). */

#define WRITE_MAX_DEPTH 2048 /* jansson's own dump limit */

struct writer {
    struct gw_buf *b;
    bool sort;
    bool ok; /* false once an append failed (the buffer's max) or a value could not be written */
};

/* Appends without the NUL (gw_json_write terminates once at the end). */
static void put(struct writer *w, const char *s, size_t n)
{
    struct gw_buf *b = w->b;
    if (b->cap - b->len <= n && (!w->ok || gw_buf_reserve(b, n) != GW_OK)) {
        w->ok = false;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static size_t escaped_len(const char *s, size_t n)
{
    size_t len = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            len += c && strchr("\b\f\n\r\t", c) ? 1 : 5;
        else if (c == '"' || c == '\\')
            len += 1;
    }
    return len;
}

static void put_string(struct writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    struct gw_buf *b = w->b;
    if (!w->ok)
        return;
    /* room for the worst case (every byte a \u00XX escape), else for the exact length */
    if (n > (SIZE_MAX - 3) / 6 ||
        (b->cap - b->len <= 6 * n + 2 && gw_buf_reserve(b, 6 * n + 2) != GW_OK &&
         gw_buf_reserve(b, escaped_len(s, n)) != GW_OK)) {
        w->ok = false;
        return;
    }
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

struct member {
    const char *key;
    json_t *value;
};

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

static void write_value(struct writer *w, const json_t *v, unsigned depth);

/* The canonical form keeps jansson's reals ("%.17g": 0.1 is 0.10000000000000001), which the
 * audit chain hashes. Everything else gets the shortest text that reads back as the same
 * double (0.1, 0.00243), so answers never show binary noise; jansson's other rules are kept:
 * a real always has '.' or an exponent, and the exponent has no '+' nor leading zeros. */
static void put_real(struct writer *w, double d)
{
    char num[40];
    if (w->sort) {
        json_t *v = json_real(d);
        char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
        if (text)
            put(w, text, strlen(text));
        else
            w->ok = false;
        free(text);
        json_decref(v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, d);
        if (strtod(num, NULL) == d)
            break;
    }
    char out[48], *o = out;
    bool point = false;
    for (const char *p = num; *p; p++) {
        if (*p == '.')
            point = true;
        *o++ = *p;
        if (*p != 'e')
            continue;
        point = true;
        if (p[1] == '-')
            *o++ = *++p;
        else if (p[1] == '+')
            p++;
        while (p[1] == '0' && p[2])
            p++;
    }
    if (!point) {
        *o++ = '.';
        *o++ = '0';
    }
    put(w, out, (size_t)(o - out));
}

static void write_object(struct writer *w, const json_t *v, unsigned depth)
{
    size_t n = json_object_size(v);
    struct member local[16];
    struct member *m = n <= GW_ARRAY_LEN(local) ? local : gw_xmalloc(n * sizeof *m);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
        m[i++] = (struct member){key, value};
    if (w->sort && n > 1)
        qsort(m, n, sizeof *m, member_cmp);
    put(w, "{", 1);
    for (i = 0; i < n && w->ok; i++) {
        if (i)
            put(w, ",", 1);
        put_string(w, m[i].key, strlen(m[i].key));
        put(w, ":", 1);
        write_value(w, m[i].value, depth + 1);
    }
    put(w, "}", 1);
    if (m != local)
        free(m);
}

static void write_value(struct writer *w, const json_t *v, unsigned depth)
{
    if (depth > WRITE_MAX_DEPTH) {
        w->ok = false;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        write_object(w, v, depth);
        return;
    case JSON_ARRAY:
        put(w, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && w->ok; i++) {
            if (i)
                put(w, ",", 1);
            write_value(w, json_array_get(v, i), depth + 1);
        }
        put(w, "]", 1);
        return;
    case JSON_STRING:
        put_string(w, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER: {
        char num[24];
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put(w, num, (size_t)n);
        return;
    }
    case JSON_REAL:
        put_real(w, json_real_value(v));
        return;
    case JSON_TRUE:
        put(w, "true", 4);
        return;
    case JSON_FALSE:
        put(w, "false", 5);
        return;
    case JSON_NULL:
        put(w, "null", 4);
        return;
    }
    w->ok = false;
}

bool gw_json_write(struct gw_buf *b, const json_t *v, bool sort_keys)
{
    size_t mark = b->len;
    struct writer w = {b, sort_keys, v != NULL};
    if (v)
        write_value(&w, v, 0);
    if (!w.ok)
        b->len = mark;
    if (b->data)
        b->data[b->len] = '\0';
    return w.ok;
}

static char *dump(const json_t *v, bool sort_keys)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX);
    if (!gw_json_write(&b, v, sort_keys)) {
        gw_buf_release(&b);
        return NULL;
    }
    return gw_buf_detach(&b, NULL);
}

char *gw_json_canonical(const json_t *v)
{
    return dump(v, true);
}

char *gw_json_compact(const json_t *v)
{
    return dump(v, false);
}

json_t *gw_json_time(int64_t ms)
{
    char t[40];
    if (!ms)
        return json_null();
    gw_time_iso8601(ms, t, sizeof(t));
    return json_string(t);
}
