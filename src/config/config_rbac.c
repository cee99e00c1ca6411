/* SPDX-License-Identifier: MIT
 * config_rbac.c — the rbac section: custom roles and directory-group → role mappings.
 *
 * Key names follow seed 001 (rbac.roles.<name>.{description,permissions}, rbac.groupMappings).
 * A custom role may not reuse a built-in name: "user" meaning two different things depending
 * on the file would make every permission review wrong. Permissions use the scope syntax, so a
 * typo is caught here instead of silently granting nothing.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum { RB_ROLES, RB_GROUPS, RB__N };
const char *const cfg_keys_rbac[] = {
    [RB_ROLES] = "roles", [RB_GROUPS] = "groupMappings", [RB__N] = NULL};

enum { RO_DESC, RO_PERMS, RO__N };
const char *const cfg_keys_role[] = {
    [RO_DESC] = "description", [RO_PERMS] = "permissions", [RO__N] = NULL};

static bool role_known(const struct cfg *c, const char *name)
{
    return cfg_role_is_builtin(name) || cfg_find_role(c, name);
}

static void load_roles(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80], what[160];
    if (cfg_is_null(n) || n->bad)
        return;
    if (n->kind != CFG_NODE_MAP) {
        cfg_err(e, n->line, "rbac.roles must be a mapping of role name to role");
        return;
    }
    c->roles = gw_xcalloc(n->n, sizeof(*c->roles));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *key = n->keys[i], *val = n->vals[i];
        if (key->bad)
            continue;
        const char *name = key->str;
        cfg_shown(name, shown, sizeof(shown));
        if (!cfg_name_valid(name)) {
            cfg_err(e, key->line,
                    "role name '%s' is not valid (1-63 characters of [a-z0-9_-], starting with a "
                    "letter or digit)",
                    shown);
            continue;
        }
        if (cfg_role_is_builtin(name)) {
            cfg_err(e, key->line, "rbac.roles.%s shadows the built-in role '%s'", shown, shown);
            continue;
        }
        if (cfg_find_role(c, name))
            continue; /* duplicate key, reported by the parser */
        struct cfg_role *r = &c->roles[c->n_roles++];
        r->name = gw_xstrdup(name);
        r->permissions = gw_xcalloc(1, sizeof(char *)); /* NULL-terminated even when empty */
        snprintf(what, sizeof(what), "rbac.roles.%s", shown);
        const struct cfg_node *v[RO__N];
        if (!cfg_map_slots(e, val, what, cfg_keys_role, v, NULL))
            continue;
        snprintf(what, sizeof(what), "rbac.roles.%s.description", shown);
        cfg_get_str(e, v[RO_DESC], what, &r->description);
        snprintf(what, sizeof(what), "rbac.roles.%s.permissions", shown);
        if (!cfg_get_strlist(e, v[RO_PERMS], what, &r->permissions, &r->n_permissions))
            continue;
        for (size_t j = 0; j < r->n_permissions; j++)
            cfg_scope_check(e, v[RO_PERMS]->vals[j]->line, what, j, r->permissions[j],
                            "permission");
    }
    if (c->n_roles == 0) { /* keep "no roles" as NULL for consumers */
        free(c->roles);
        c->roles = NULL;
    }
}

void cfg_load_group_mappings(struct cfg_loader *L, const struct cfg_node *n, const char *section,
                             struct cfg_group_mapping **out, size_t *count)
{
    struct cfg_errlist *e = L->errs;
    char shown[80], what[240];
    *out = NULL;
    *count = 0;
    if (cfg_is_null(n) || n->bad)
        return;
    if (n->kind != CFG_NODE_MAP) {
        cfg_err(e, n->line, "%s must be a mapping of group to role name", section);
        return;
    }
    struct cfg_group_mapping *gm = gw_xcalloc(n->n, sizeof(*gm));
    size_t ng = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *key = n->keys[i], *val = n->vals[i];
        char *role = NULL;
        if (key->bad)
            continue;
        cfg_shown(key->str, shown, sizeof(shown));
        snprintf(what, sizeof(what), "%s['%s']", section, shown);
        if (!*key->str) {
            cfg_err(e, key->line, "%s: group name must not be empty", section);
            continue;
        }
        if (cfg_is_null(val)) {
            cfg_err(e, key->line, "%s must name a role", what);
            continue;
        }
        if (!cfg_get_str(e, val, what, &role))
            continue;
        if (!role_known(L->c, role)) {
            cfg_err(e, val->line, "%s: unknown role '%s'", what,
                    cfg_shown(role, shown, sizeof(shown)));
            free(role);
            continue;
        }
        gm[ng].group = gw_xstrdup(key->str);
        gm[ng++].role = role;
    }
    if (ng == 0) {
        free(gm);
        gm = NULL;
    }
    *out = gm;
    *count = ng;
}

void cfg_group_mappings_free(struct cfg_group_mapping *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].group);
        free(g[i].role);
    }
    free(g);
}

void cfg_load_rbac(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[RB__N];
    if (!cfg_map_slots(L->errs, n, "rbac", cfg_keys_rbac, v, NULL))
        return;
    load_roles(L, v[RB_ROLES]); /* first: the mappings refer to them */
    cfg_load_group_mappings(L, v[RB_GROUPS], "rbac.groupMappings", &L->c->group_mappings,
                            &L->c->n_group_mappings);
}
