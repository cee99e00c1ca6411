/* SPDX-License-Identifier: MIT
 * test_gov_enforce.c — every action the policy engine declares has an enforcement point, or a
 * documented reason why this build has none (and never both).
 */
#include "base/prelude.h"
#include "gov/gov_enforce.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void every_action_is_accounted_for(void **state)
{
    for (int a = 0; a < POL_ACT__COUNT; a++) {
        const struct gov_enforcement *e = gov_enforcement_of((enum pol_action)a);
        assert_non_null(e);
        bool where = e->where && *e->where, why = e->why && *e->why;
        if (where == why)
            fail_msg("policy action %s: %s", pol_action_name((enum pol_action)a),
                     where ? "both an enforcement point and a reason for none"
                           : "neither an enforcement point nor a documented reason");
    }
    assert_null(gov_enforcement_of(POL_ACT__COUNT));
    /* what this build enforces */
    assert_non_null(gov_enforcement_of(POL_ACT_TOOL_CALL)->where);
    assert_non_null(gov_enforcement_of(POL_ACT_MODEL_CALL)->where);
    assert_non_null(gov_enforcement_of(POL_ACT_DATA_EXPORT)->where);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(every_action_is_accounted_for)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
