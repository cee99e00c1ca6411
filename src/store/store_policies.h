/* SPDX-License-Identifier: MIT
 * store_policies.h — policy versions: every version of every policy is kept (src/policy owns
 * the content). Part of the store interface (store.h).
 */
#ifndef GW_STORE_POLICIES_H
#define GW_STORE_POLICIES_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_policy_version {
    char *tenant;
    char *id;
    int64_t version;
    char *record; /* pol_record_to_json text of this version */
};

/* GW_ECONFLICT when (tenant, id, version) exists. Durable when it returns. */
gw_err store_policy_insert(struct store *st, const char *tenant, const char *id, int64_t version,
                           const char *record_json);
/* Every version of every tenant, ordered by tenant, id, version (malloc'd array). */
gw_err store_policy_list(struct store *st, struct store_policy_version **out, size_t *n);
void store_policy_list_free(struct store_policy_version *list, size_t n);

#endif
