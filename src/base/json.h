/* SPDX-License-Identifier: MIT
 * json.h — strict JSON input and small jansson conveniences.
 *
 * Untrusted JSON is parsed with gw_json_parse: duplicate keys, invalid UTF-8, NUL escapes,
 * trailing data and nesting deeper than max_depth are all rejected with a position in msg.
 */
#ifndef GW_JSON_H
#define GW_JSON_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

#define GW_JSON_MAX_DEPTH 32

/* Returns NULL and writes a message ("line 1 column 7: ...") into msg on error. */
json_t *gw_json_parse(const char *data, size_t len, size_t max_depth, char *msg, size_t msgcap);
/* Borrowed string member or NULL when absent or not a string. */
const char *gw_json_str(const json_t *obj, const char *key);
struct gw_buf;
/* Appends the compact serialization of v (keys sorted when sort_keys) to b. With sort_keys: the
 * same bytes as jansson's json_dumps(JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS); without:
 * the same but for reals, written in the shortest form that reads back as the same double
 * (0.00243, where jansson writes 0.0024299999999999999). False, with b unchanged, when v is
 * NULL, nested deeper than jansson allows, or the text would exceed b's max. */
bool gw_json_write(struct gw_buf *b, const json_t *v, bool sort_keys);
/* Compact serialization with sorted keys (canonical form); caller frees. */
char *gw_json_canonical(const json_t *v);
/* Compact serialization preserving insertion order, shortest reals; caller frees. */
char *gw_json_compact(const json_t *v);
/* A time in Unix milliseconds as an ISO 8601 UTC string; JSON null for 0 (never happened). */
json_t *gw_json_time(int64_t ms);

#endif
