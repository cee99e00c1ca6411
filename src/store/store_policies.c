/* SPDX-License-Identifier: MIT
 * store_policies.c — the public API of policy versions (store_policies.h): argument checks and
 * dispatch through struct store_policy_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_policy_version_cols = STORE_COLS_INIT(store_policy_version,
                                                                    STORE_POLICY_VERSION_COLUMNS);

gw_err store_policy_insert(struct store *st, const char *tenant, const char *id, int64_t version,
                           const char *record_json)
{
    if (!tenant || !id || !record_json || version < 1) /* versions start at 1 */
        return GW_EINVAL;
    return st->ops->policies->insert(st, tenant, id, version, record_json);
}

gw_err store_policy_list(struct store *st, struct store_policy_version **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->policies->list(st, out, n) : GW_EINVAL;
}

void store_policy_list_free(struct store_policy_version *list, size_t n)
{
    store_rows_free(&store_policy_version_cols, list, n);
}
