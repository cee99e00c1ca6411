/* SPDX-License-Identifier: MIT
 * fuzz_json.c — gw_json_parse (src/base/json.c) on request bodies, and the writer behind every
 * response and audit event on what it accepted. The writer promises jansson's exact bytes
 * (json_dumps with JSON_COMPACT | JSON_ENCODE_ANY, sorted or not): the audit chain hashes that
 * text, so any difference is a finding; and what it writes must parse back to an equal value.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "fuzz.h"

static void same_as_jansson(const json_t *v, bool sorted)
{
    char *ours = sorted ? gw_json_canonical(v) : gw_json_compact(v);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | (sorted ? JSON_SORT_KEYS : 0));
    FUZZ_CHECK(ours && theirs);
    FUZZ_CHECK(strcmp(ours, theirs) == 0);
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
    same_as_jansson(v, false);
    same_as_jansson(v, true);
    json_decref(v);
    return 0;
}
