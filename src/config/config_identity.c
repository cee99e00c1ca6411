/* SPDX-License-Identifier: MIT
 * config_identity.c — the identity section: org units, teams and users.
 *
 * Roles, org units and teams decide what audit events a person may see and which token scopes
 * survive the owner's role, so every reference must resolve: a user with a misspelt role or team
 * is an error here, not a user who silently gets nothing (or, worse, a default). Loaded after
 * rbac so custom role names are known.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum { ID_ORG_UNITS, ID_TEAMS, ID_USERS, ID__N };
const char *const cfg_keys_identity[] = {
    [ID_ORG_UNITS] = "org_units", [ID_TEAMS] = "teams", [ID_USERS] = "users", [ID__N] = NULL};

enum { TE_ID, TE_ORG_UNIT, TE__N };
const char *const cfg_keys_team[] = {[TE_ID] = "id", [TE_ORG_UNIT] = "org_unit", [TE__N] = NULL};

enum { US_ID, US_EMAIL, US_NAME, US_ROLE, US_ORG_UNIT, US_TEAM, US_DISABLED, US__N };
const char *const cfg_keys_user[] = {
    [US_ID] = "id",
    [US_EMAIL] = "email",
    [US_NAME] = "name",
    [US_ROLE] = "role",
    [US_ORG_UNIT] = "org_unit",
    [US_TEAM] = "team",
    [US_DISABLED] = "disabled",
    [US__N] = NULL,
};

#define NAME_RULE "1-63 characters of [a-z0-9_-], starting with a letter or digit"

static bool org_unit_known(const struct cfg *c, const char *ou)
{
    for (size_t i = 0; i < c->n_org_units; i++)
        if (!strcmp(c->org_units[i], ou))
            return true;
    return false;
}

static void load_org_units(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    char shown[80];
    if (!cfg_get_strlist(L->errs, n, "identity.org_units", &c->org_units, &c->n_org_units))
        return;
    for (size_t i = 0; i < c->n_org_units; i++) {
        int line = n->vals[i]->line;
        if (!cfg_org_unit_valid(c->org_units[i]))
            cfg_err(
                L->errs, line,
                "identity.org_units[%zu] '%s' is not a valid org unit path (segments of " NAME_RULE
                ", separated by '/')",
                i, cfg_shown(c->org_units[i], shown, sizeof(shown)));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->org_units[i], c->org_units[j])) {
                cfg_err(L->errs, line, "identity.org_units[%zu] '%s' is listed twice (line %d)", i,
                        cfg_shown(c->org_units[i], shown, sizeof(shown)), n->vals[j]->line);
                break;
            }
    }
}

static bool check_org_unit(struct cfg_loader *L, const struct cfg_node *n, const char *what,
                           const char *ou)
{
    char shown[80];
    if (org_unit_known(L->c, ou))
        return true;
    cfg_err(L->errs, n->line, "%s: unknown org unit '%s' (declare it under identity.org_units)",
            what, cfg_shown(ou, shown, sizeof(shown)));
    return false;
}

static void load_teams(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char what[96], shown[80];
    if (!cfg_want_seq(e, n, "identity.teams"))
        return;
    c->teams = gw_xcalloc(n->n, sizeof(*c->teams));
    int *lines = gw_xcalloc(n->n, sizeof(*lines));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *v[TE__N];
        char *id = NULL, *ou = NULL;
        snprintf(what, sizeof(what), "identity.teams[%zu]", i);
        if (!cfg_map_slots(e, n->vals[i], what, cfg_keys_team, v, NULL)) {
            if (cfg_is_null(n->vals[i]))
                cfg_err(e, n->vals[i]->line, "%s must be a mapping with an id", what);
            continue;
        }
        snprintf(what, sizeof(what), "identity.teams[%zu].id", i);
        if (cfg_is_null(v[TE_ID])) {
            cfg_err(e, n->vals[i]->line, "%s is required", what);
            continue;
        }
        if (!cfg_get_str(e, v[TE_ID], what, &id))
            continue;
        bool ok = true;
        if (!cfg_name_valid(id)) {
            cfg_err(e, v[TE_ID]->line, "%s '%s' is not valid (" NAME_RULE ")", what,
                    cfg_shown(id, shown, sizeof(shown)));
            ok = false;
        } else {
            for (size_t j = 0; j < c->n_teams; j++)
                if (!strcmp(c->teams[j].id, id)) {
                    cfg_err(e, v[TE_ID]->line, "%s '%s' is already used (line %d)", what,
                            cfg_shown(id, shown, sizeof(shown)), lines[j]);
                    ok = false;
                    break;
                }
        }
        snprintf(what, sizeof(what), "identity.teams[%zu].org_unit", i);
        if (cfg_get_str(e, v[TE_ORG_UNIT], what, &ou) && ou)
            check_org_unit(L, v[TE_ORG_UNIT], what, ou);
        if (!ok) {
            free(id);
            free(ou);
            continue;
        }
        lines[c->n_teams] = v[TE_ID]->line;
        c->teams[c->n_teams++] = (struct cfg_team){.id = id, .org_unit = ou};
    }
    free(lines);
}

static void load_users(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char what[96], shown[80];
    if (!cfg_want_seq(e, n, "identity.users"))
        return;
    c->users = gw_xcalloc(n->n, sizeof(*c->users));
    int *lines = gw_xcalloc(n->n, sizeof(*lines));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *v[US__N];
        struct cfg_user u = {0};
        bool ok = true;
        snprintf(what, sizeof(what), "identity.users[%zu]", i);
        if (!cfg_map_slots(e, n->vals[i], what, cfg_keys_user, v, NULL)) {
            if (cfg_is_null(n->vals[i]))
                cfg_err(e, n->vals[i]->line, "%s must be a mapping with an id", what);
            continue;
        }

        snprintf(what, sizeof(what), "identity.users[%zu].id", i);
        if (cfg_is_null(v[US_ID])) {
            cfg_err(e, n->vals[i]->line, "%s is required", what);
            ok = false;
        } else if (!cfg_get_str(e, v[US_ID], what, &u.id)) {
            ok = false;
        } else if (!cfg_user_id_valid(u.id)) {
            cfg_err(e, v[US_ID]->line, "%s must be 1-256 printable characters without spaces",
                    what);
            ok = false;
        } else {
            for (size_t j = 0; j < c->n_users; j++)
                if (!strcmp(c->users[j].id, u.id)) {
                    cfg_err(e, v[US_ID]->line, "%s '%s' is already used (line %d)", what,
                            cfg_shown(u.id, shown, sizeof(shown)), lines[j]);
                    ok = false;
                    break;
                }
        }

        snprintf(what, sizeof(what), "identity.users[%zu].email", i);
        if (cfg_get_str(e, v[US_EMAIL], what, &u.email) && u.email &&
            (!strchr(u.email, '@') || !cfg_user_id_valid(u.email)))
            cfg_err(e, v[US_EMAIL]->line, "%s is not an e-mail address", what);
        snprintf(what, sizeof(what), "identity.users[%zu].name", i);
        cfg_get_str(e, v[US_NAME], what, &u.name);

        snprintf(what, sizeof(what), "identity.users[%zu].role", i);
        if (cfg_get_str(e, v[US_ROLE], what, &u.role) && u.role && !cfg_role_is_builtin(u.role) &&
            !cfg_find_role(c, u.role))
            cfg_err(e, v[US_ROLE]->line,
                    "%s: unknown role '%s' (built-in roles: enterprise_admin, org_admin, "
                    "team_lead, user; custom roles come from rbac.roles)",
                    what, cfg_shown(u.role, shown, sizeof(shown)));
        if (!u.role)
            u.role = gw_xstrdup("user");

        snprintf(what, sizeof(what), "identity.users[%zu].team", i);
        const struct cfg_team *team = NULL;
        if (cfg_get_str(e, v[US_TEAM], what, &u.team) && u.team) {
            team = cfg_find_team(c, u.team);
            if (!team)
                cfg_err(e, v[US_TEAM]->line,
                        "%s: unknown team '%s' (declare it under identity.teams)", what,
                        cfg_shown(u.team, shown, sizeof(shown)));
        }
        snprintf(what, sizeof(what), "identity.users[%zu].org_unit", i);
        if (cfg_get_str(e, v[US_ORG_UNIT], what, &u.org_unit) && u.org_unit)
            check_org_unit(L, v[US_ORG_UNIT], what, u.org_unit);
        if (!u.org_unit && team && team->org_unit) /* a team member belongs to its org unit */
            u.org_unit = gw_xstrdup(team->org_unit);

        snprintf(what, sizeof(what), "identity.users[%zu].disabled", i);
        cfg_get_bool(e, v[US_DISABLED], what, &u.disabled);

        if (!ok) {
            free(u.id);
            free(u.email);
            free(u.name);
            free(u.role);
            free(u.org_unit);
            free(u.team);
            continue;
        }
        lines[c->n_users] = v[US_ID]->line;
        c->users[c->n_users++] = u;
    }
    free(lines);
}

void cfg_load_identity(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[ID__N];
    if (!cfg_map_slots(L->errs, n, "identity", cfg_keys_identity, v, NULL))
        return;
    /* in dependency order: users name teams and org units, teams name org units */
    load_org_units(L, v[ID_ORG_UNITS]);
    load_teams(L, v[ID_TEAMS]);
    load_users(L, v[ID_USERS]);
}
