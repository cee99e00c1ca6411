/* SPDX-License-Identifier: MIT
 * fuzz_json.c — gw_json_parse (src/base/json.c) on request bodies, and the writers behind every
 * response and audit event on what it accepted. The canonical form promises jansson's exact
 * bytes (json_dumps with JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS): the audit chain hashes
 * that text, so any difference is a finding. The compact form (answers) is the same but for
 * reals, which it writes in their shortest form: jansson's bytes when the value holds no real.
 * What either writes must parse back to an equal value (a real to the same double).
 */
#include "base/prelude.h"
#include "base/json.h"
#include "fuzz.h"

static bool has_real(const json_t *v)
{
    const char *key;
    json_t *member;
    size_t i;
    if (json_is_real(v))
        return true;
    if (json_is_array(v))
        json_array_foreach(v, i, member)
            if (has_real(member))
                return true;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, key, member)
            if (has_real(member))
                return true;
    return false;
}

static void check_writer(const json_t *v, bool sorted)
{
    char *ours = sorted ? gw_json_canonical(v) : gw_json_compact(v);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | (sorted ? JSON_SORT_KEYS : 0));
    FUZZ_CHECK(ours && theirs);
    FUZZ_CHECK(strcmp(ours, theirs) == 0 || (!sorted && has_real(v)));
    char msg[200];
    json_t *back = gw_json_parse(ours, strlen(ours), GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(json_equal(back, v));
    json_decref(back);
    free(ours);
    free(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[200];
    json_t *v = gw_json_parse((const char *)data, size, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    if (!v) {
        FUZZ_CHECK(msg[0] != '\0');
        return 0;
    }
    check_writer(v, false);
    check_writer(v, true);
    json_decref(v);
    return 0;
}
