/* SPDX-License-Identifier: MIT
 * config_members.c — who may use a namespace: namespaces.<ns>.members (issue 10).
 *
 * A member is an org unit (and its subtree), a team, a directory group (exact or glob, as in
 * rbac.groupMappings) or a user. The same kinds and value rules apply to members added at run
 * time through the API, so they are public (cfg_member_*). Org units and teams need not be
 * declared under identity: users signed in through the IdP carry theirs in claims.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#define GROUP_MAX_LEN 256

static const char *const kind_names[CFG_MEMBER__N] = {[CFG_MEMBER_ORG_UNIT] = "org_unit",
                                                      [CFG_MEMBER_TEAM] = "team",
                                                      [CFG_MEMBER_GROUP] = "group",
                                                      [CFG_MEMBER_USER] = "user"};
/* the YAML keys: plural of the kind */
const char *const cfg_keys_members[CFG_MEMBER__N + 1] = {[CFG_MEMBER_ORG_UNIT] = "org_units",
                                                         [CFG_MEMBER_TEAM] = "teams",
                                                         [CFG_MEMBER_GROUP] = "groups",
                                                         [CFG_MEMBER_USER] = "users",
                                                         [CFG_MEMBER__N] = NULL};

const char *cfg_member_kind_name(enum cfg_member_kind k)
{
    return k < CFG_MEMBER__N ? kind_names[k] : "?";
}

bool cfg_member_kind_parse(const char *s, enum cfg_member_kind *out)
{
    for (int k = 0; s && k < CFG_MEMBER__N; k++)
        if (!strcmp(s, kind_names[k]) || !strcmp(s, cfg_keys_members[k])) {
            *out = (enum cfg_member_kind)k;
            return true;
        }
    return false;
}

bool cfg_user_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 256)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

static bool group_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GROUP_MAX_LEN)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return false;
    return true;
}

bool cfg_member_valid(enum cfg_member_kind k, const char *value)
{
    switch (k) {
    case CFG_MEMBER_ORG_UNIT:
        return cfg_org_unit_valid(value);
    case CFG_MEMBER_TEAM:
        return cfg_name_valid(value);
    case CFG_MEMBER_GROUP:
        return group_valid(value);
    case CFG_MEMBER_USER:
        return cfg_user_id_valid(value);
    default:
        return false;
    }
}

const char *cfg_member_rule(enum cfg_member_kind k)
{
    switch (k) {
    case CFG_MEMBER_ORG_UNIT:
        return "an org unit path: segments of [a-z0-9_-] separated by '/'";
    case CFG_MEMBER_TEAM:
        return "a team id: 1-63 characters of [a-z0-9_-], starting with a letter or digit";
    case CFG_MEMBER_GROUP:
        return "a directory group or a glob with '*': 1-256 characters, no control characters";
    default:
        return "a user id: 1-256 printable characters without spaces";
    }
}

void cfg_load_members(struct cfg_loader *L, const struct cfg_node *n, const char *section,
                      struct cfg_member **out, size_t *count)
{
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[CFG_MEMBER__N];
    char what[200], shown[80];
    *out = NULL;
    *count = 0;
    if (!cfg_map_slots(e, n, section, cfg_keys_members, v, NULL))
        return;
    size_t cap = 0;
    for (int k = 0; k < CFG_MEMBER__N; k++)
        cap += v[k] && v[k]->kind == CFG_NODE_SEQ ? v[k]->n : 0;
    struct cfg_member *m = gw_xcalloc(cap + 1, sizeof(*m));
    size_t nm = 0;
    for (int k = 0; k < CFG_MEMBER__N; k++) {
        char **vals = NULL;
        size_t nv = 0;
        snprintf(what, sizeof(what), "%s.%s", section, cfg_keys_members[k]);
        if (!cfg_get_strlist(e, v[k], what, &vals, &nv) || !vals) {
            cfg_free_strv(vals); /* a refused list is still allocated (found by fuzz_config) */
            continue;
        }
        for (size_t i = 0; i < nv && nm < cap; i++) {
            int line = v[k]->vals[i]->line;
            bool dup = false;
            for (size_t j = 0; j < nm && !dup; j++)
                dup = m[j].kind == (enum cfg_member_kind)k && !strcmp(m[j].value, vals[i]);
            if (!cfg_member_valid((enum cfg_member_kind)k, vals[i]))
                cfg_err(e, line, "%s[%zu] '%s' is not valid (%s)", what, i,
                        cfg_shown(vals[i], shown, sizeof(shown)),
                        cfg_member_rule((enum cfg_member_kind)k));
            else if (dup)
                cfg_err(e, line, "%s[%zu] '%s' is listed twice", what, i,
                        cfg_shown(vals[i], shown, sizeof(shown)));
            else
                m[nm++] = (struct cfg_member){.kind = (enum cfg_member_kind)k,
                                              .value = gw_xstrdup(vals[i])};
        }
        cfg_free_strv(vals);
    }
    *out = m;
    *count = nm;
}

void cfg_members_free(struct cfg_member *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        free(m[i].value);
    free(m);
}
