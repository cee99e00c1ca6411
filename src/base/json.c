/* SPDX-License-Identifier: MIT
 * json.c — strict parsing (depth pre-scan + jansson's strict mode) and serialization helpers.
 */
#include "base/prelude.h"
#include "base/json.h"

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

char *gw_json_canonical(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

char *gw_json_compact(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}
