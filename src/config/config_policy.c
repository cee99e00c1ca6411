/* SPDX-License-Identifier: MIT
 * config_policy.c — the policy section: a bundle of policies loaded at start (or the starter
 * set at the first start without one), who approves actions that a policy parks for a human,
 * and the optional Open Policy Agent endpoint.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum {
    PO_BUNDLE,
    PO_STARTER,
    PO_APPROVER,
    PO_APPROVER_ROLE,
    PO_TTL,
    PO_OPA_URL,
    PO_OPA_TIMEOUT,
    PO__N
};
const char *const cfg_keys_policy[] = {
    [PO_BUNDLE] = "bundle",
    [PO_STARTER] = "starter",
    [PO_APPROVER] = "approver",
    [PO_APPROVER_ROLE] = "approver_role",
    [PO_TTL] = "approval_ttl_s",
    [PO_OPA_URL] = "opa_url",
    [PO_OPA_TIMEOUT] = "opa_timeout_ms",
    [PO__N] = NULL,
};

static const char *const approvers[] = {"team_lead", "self", "role", NULL};

void cfg_load_policy(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[PO__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    if (!cfg_map_slots(e, n, "policy", cfg_keys_policy, v, NULL))
        return;
    cfg_get_path(e, v[PO_BUNDLE], "policy.bundle", c->data_dir, &c->policy_bundle);
    cfg_get_bool(e, v[PO_STARTER], "policy.starter", &c->policy_starter);
    cfg_get_enum(e, v[PO_APPROVER], "policy.approver", approvers, &c->approver);
    cfg_get_str(e, v[PO_APPROVER_ROLE], "policy.approver_role", &c->approver_role);
    cfg_get_uint(e, v[PO_TTL], "policy.approval_ttl_s", 1, 30u * 86400u, &c->approval_ttl_s);
    cfg_get_uint(e, v[PO_OPA_TIMEOUT], "policy.opa_timeout_ms", 10, 10000, &c->opa_timeout_ms);
    if (cfg_get_str(e, v[PO_OPA_URL], "policy.opa_url", &c->opa_url) && c->opa_url &&
        strncmp(c->opa_url, "http://", 7) != 0 && strncmp(c->opa_url, "https://", 8) != 0)
        cfg_err(e, v[PO_OPA_URL]->line, "policy.opa_url must be an http:// or https:// URL");
    bool role_mode = c->approver && !strcmp(c->approver, "role");
    int line = v[PO_APPROVER] ? v[PO_APPROVER]->line : n->line;
    if (role_mode && !c->approver_role)
        cfg_err(e, line, "policy.approver is 'role' but policy.approver_role is not set");
    if (c->approver_role && !cfg_role_is_builtin(c->approver_role) &&
        !cfg_find_role(c, c->approver_role))
        cfg_err(e, v[PO_APPROVER_ROLE]->line, "policy.approver_role '%s' is not a known role",
                c->approver_role);
}
