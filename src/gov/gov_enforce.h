/* SPDX-License-Identifier: MIT
 * gov_enforce.h — the enforcement points of the policy actions (gov_enforce.c).
 */
#ifndef GW_GOV_ENFORCE_H
#define GW_GOV_ENFORCE_H

#include "gov/gov.h"

/* Exactly one of the two is set for every action the engine declares. */
struct gov_enforcement {
    const char *where; /* the function and the doors that enforce it */
    const char *why;   /* why nothing enforces it in this build */
};

const struct gov_enforcement *gov_enforcement_of(enum pol_action a);

/* A bulk read leaving the gateway (data_export): decided and audited; GW_EFORBIDDEN with the
 * reason when the data policy does not allow it (an approval cannot be waited for). what names
 * the data ("audit"), level its classification, external a destination outside the tenant. */
gw_err gov_export_check(struct gov_call *gc, const char *what, int level, bool external, char *msg,
                        size_t cap);

#endif
