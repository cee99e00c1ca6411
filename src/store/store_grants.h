/* SPDX-License-Identifier: MIT
 * store_grants.h — namespace members added at run time (issue 10); the configuration file's
 * members never reach the store. Included by store.h.
 */
#ifndef GW_STORE_GRANTS_H
#define GW_STORE_GRANTS_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_grant {
    char *tenant;
    char *ns;   /* namespace name */
    char *kind; /* "org_unit" | "team" | "group" | "user" */
    char *value;
    char *created_by; /* actor */
    int64_t created_ms;
};

void store_grant_release(struct store_grant *g);
/* Every tenant's grants (they are few and held in memory); *out is a malloc'd array. */
gw_err store_grant_list(struct store *st, struct store_grant **out, size_t *n);
void store_grant_list_free(struct store_grant *list, size_t n);
/* GW_ECONFLICT when (tenant, ns, kind, value) exists. */
gw_err store_grant_insert(struct store *st, const struct store_grant *g);
/* GW_ENOTFOUND when absent. */
gw_err store_grant_delete(struct store *st, const char *tenant, const char *ns, const char *kind,
                          const char *value);

#endif
