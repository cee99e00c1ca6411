/* SPDX-License-Identifier: MIT
 * config_agents.c — the namespaces and agents sections.
 *
 * Namespace isolation (seed 003) rests on three things checked here: every agent is named
 * "<namespace>/<agent>" and its channel is that same name, every namespace has its own shared
 * memory file, and no two agents or namespaces share a memory file. A namespace used by an agent
 * but not declared gets an implicit entry with the default shared memory path, so the common
 * case needs no namespaces section at all. "shared" is not a valid agent name because
 * /memory/<ns>/shared is the namespace's shared memory in the API.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum { NS_SHARED, NS_MEMBERS, NS__N };
const char *const cfg_keys_namespace[] = {
    [NS_SHARED] = "shared_memory_path", [NS_MEMBERS] = "members", [NS__N] = NULL};

enum { AG_NAME, AG_CHANNEL, AG_MEMORY, AG_DESC, AG_MODEL, AG_PROMPT, AG_TOOLS, AG__N };
const char *const cfg_keys_agent[] = {[AG_NAME] = "name",          [AG_CHANNEL] = "channel",
                                      [AG_MEMORY] = "memory_path", [AG_DESC] = "description",
                                      [AG_MODEL] = "model",        [AG_PROMPT] = "system_prompt",
                                      [AG_TOOLS] = "tools",        [AG__N] = NULL};

/* The tools an agent's model may call; without a tools key it gets the memory tools. */
static const char *const known_tools[] = {"memory_read", "memory_write", "send_message", NULL};
#define TOOLS_LIST "memory_read, memory_write, send_message"
#define MAX_PROMPT_BYTES ((size_t)64 * 1024)

#define NAME_RULE "1-63 characters of [a-z0-9_-], starting with a letter or digit"

struct owner {
    const char *path;
    int line;
    bool agent;
    const char *name;
};

static char *default_ns_path(const struct cfg *c, const char *ns)
{
    return gw_xasprintf("%s/memory/%s/shared.md", c->data_dir, ns);
}

static void load_namespaces(struct cfg_loader *L, const struct cfg_node *n, int *lines)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80], what[128];
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *key = n->keys[i];
        if (key->bad)
            continue;
        cfg_shown(key->str, shown, sizeof(shown));
        if (!cfg_name_valid(key->str)) {
            cfg_err(e, key->line, "namespace name '%s' is not valid (" NAME_RULE ")", shown);
            continue;
        }
        if (cfg_find_namespace(c, key->str))
            continue; /* duplicate key, reported by the parser */
        struct cfg_namespace *ns = &c->namespaces[c->n_namespaces];
        lines[c->n_namespaces++] = key->line;
        ns->name = gw_xstrdup(key->str);
        const struct cfg_node *v[NS__N];
        snprintf(what, sizeof(what), "namespaces.%s", shown);
        if (cfg_map_slots(e, n->vals[i], what, cfg_keys_namespace, v, NULL)) {
            snprintf(what, sizeof(what), "namespaces.%s.shared_memory_path", shown);
            cfg_get_path(e, v[NS_SHARED], what, c->data_dir, &ns->shared_memory_path);
            snprintf(what, sizeof(what), "namespaces.%s.members", shown);
            cfg_load_members(L, v[NS_MEMBERS], what, &ns->members, &ns->n_members);
        }
        if (!ns->shared_memory_path)
            ns->shared_memory_path = default_ns_path(c, ns->name);
    }
}

static void free_agent(struct cfg_agent *a)
{
    free(a->name);
    free(a->channel);
    free(a->memory_path);
    free(a->description);
    free(a->model);
    free(a->system_prompt);
    cfg_free_strv(a->tools);
}

/* model (a configured "<provider>/<model>"), system_prompt and tools. */
static void load_agent_llm(struct cfg_loader *L, const struct cfg_node *const *v, size_t i,
                           struct cfg_agent *a)
{
    struct cfg_errlist *e = L->errs;
    char what[96], shown[80];

    snprintf(what, sizeof(what), "agents[%zu].model", i);
    if (cfg_get_str(e, v[AG_MODEL], what, &a->model) && a->model &&
        !cfg_find_model(L->c, a->model, NULL))
        cfg_err(e, v[AG_MODEL]->line,
                "%s '%s' is not a configured model (\"<provider>/<model>\" of "
                "models.providers)",
                what, cfg_shown(a->model, shown, sizeof(shown)));

    snprintf(what, sizeof(what), "agents[%zu].system_prompt", i);
    if (cfg_get_str(e, v[AG_PROMPT], what, &a->system_prompt) && a->system_prompt &&
        strlen(a->system_prompt) > MAX_PROMPT_BYTES)
        cfg_err(e, v[AG_PROMPT]->line, "%s is longer than %zu bytes", what, MAX_PROMPT_BYTES);

    snprintf(what, sizeof(what), "agents[%zu].tools", i);
    if (cfg_is_null(v[AG_TOOLS])) {
        a->tools = gw_xcalloc(3, sizeof(*a->tools));
        a->tools[0] = gw_xstrdup("memory_read");
        a->tools[1] = gw_xstrdup("memory_write");
        a->n_tools = 2;
    } else if (cfg_get_strlist(e, v[AG_TOOLS], what, &a->tools, &a->n_tools)) {
        for (size_t j = 0; j < a->n_tools; j++) {
            size_t k = 0;
            while (known_tools[k] && strcmp(known_tools[k], a->tools[j]) != 0)
                k++;
            int line = v[AG_TOOLS]->vals[j]->line;
            cfg_shown(a->tools[j], shown, sizeof(shown));
            if (!known_tools[k])
                cfg_err(e, line, "%s[%zu] '%s' is not a known tool (valid: " TOOLS_LIST ")", what,
                        j, shown);
            for (size_t m = 0; m < j; m++)
                if (!strcmp(a->tools[m], a->tools[j])) {
                    cfg_err(e, line, "%s[%zu] '%s' is listed twice", what, j, shown);
                    break;
                }
        }
    }
}

static void load_agent(struct cfg_loader *L, const struct cfg_node *item, size_t i,
                       const int *lines, int *ns_lines)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[AG__N];
    char what[96], shown[80];
    struct cfg_agent a = {0};
    bool ok = true;

    snprintf(what, sizeof(what), "agents[%zu]", i);
    if (!cfg_map_slots(e, item, what, cfg_keys_agent, v, NULL)) {
        if (cfg_is_null(item))
            cfg_err(e, item->line, "%s must be a mapping with a name", what);
        return;
    }
    snprintf(what, sizeof(what), "agents[%zu].name", i);
    if (cfg_is_null(v[AG_NAME])) {
        cfg_err(e, item->line, "%s is required (\"<namespace>/<agent>\")", what);
        ok = false;
    } else if (!cfg_get_str(e, v[AG_NAME], what, &a.name)) {
        ok = false;
    } else if (!cfg_agent_name_valid(a.name)) {
        cfg_err(e, v[AG_NAME]->line,
                "%s '%s' must be \"<namespace>/<agent>\", each part " NAME_RULE, what,
                cfg_shown(a.name, shown, sizeof(shown)));
        ok = false;
    } else if (!strcmp(strchr(a.name, '/') + 1, "shared")) {
        cfg_err(e, v[AG_NAME]->line,
                "%s '%s': 'shared' is reserved for the namespace's shared memory", what,
                cfg_shown(a.name, shown, sizeof(shown)));
        ok = false;
    } else {
        for (size_t j = 0; j < c->n_agents; j++)
            if (!strcmp(c->agents[j].name, a.name)) {
                cfg_err(e, v[AG_NAME]->line, "duplicate agent '%s' (first defined at line %d)",
                        cfg_shown(a.name, shown, sizeof(shown)), lines[j]);
                ok = false;
                break;
            }
    }

    snprintf(what, sizeof(what), "agents[%zu].channel", i);
    if (cfg_get_str(e, v[AG_CHANNEL], what, &a.channel) && a.channel && a.name &&
        strcmp(a.channel, a.name) != 0)
        cfg_err(e, v[AG_CHANNEL]->line,
                "%s '%s' must be the agent's name '%s' (channels are named after their agent)",
                what, cfg_shown(a.channel, shown, sizeof(shown)), a.name);
    snprintf(what, sizeof(what), "agents[%zu].memory_path", i);
    cfg_get_path(e, v[AG_MEMORY], what, c->data_dir, &a.memory_path);
    snprintf(what, sizeof(what), "agents[%zu].description", i);
    cfg_get_str(e, v[AG_DESC], what, &a.description);
    load_agent_llm(L, v, i, &a);

    if (!ok) {
        free_agent(&a);
        return;
    }
    char *nsname = gw_xstrndup(a.name, (size_t)(strchr(a.name, '/') - a.name));
    if (!a.channel)
        a.channel = gw_xstrdup(a.name);
    if (!a.memory_path)
        a.memory_path = gw_xasprintf("%s/memory/%s.md", c->data_dir, a.name);
    if (!cfg_find_namespace(c, nsname)) { /* implicit namespace */
        ns_lines[c->n_namespaces] = item->line;
        c->namespaces[c->n_namespaces++] =
            (struct cfg_namespace){.name = nsname,
                                   .shared_memory_path = default_ns_path(c, nsname)};
    } else {
        free(nsname);
    }
    c->agents[c->n_agents++] = a;
}

static int cmp_owner(const void *x, const void *y)
{
    const struct owner *a = x, *b = y;
    int r = strcmp(a->path, b->path);
    return r ? r : (a->line > b->line) - (a->line < b->line);
}

/* One memory file per agent and per namespace, or isolation is only nominal. */
static void check_paths(struct cfg_loader *L, const int *ns_lines, const int *agent_lines)
{
    struct cfg *c = L->c;
    size_t n = 0, total = c->n_namespaces + c->n_agents;
    struct owner *o = gw_xcalloc(total, sizeof(*o));
    char shown[80];
    for (size_t i = 0; i < c->n_namespaces; i++)
        o[n++] = (struct owner){c->namespaces[i].shared_memory_path, ns_lines[i], false,
                                c->namespaces[i].name};
    for (size_t i = 0; i < c->n_agents; i++)
        o[n++] = (struct owner){c->agents[i].memory_path, agent_lines[i], true, c->agents[i].name};
    qsort(o, n, sizeof(*o), cmp_owner);
    for (size_t i = 1; i < n; i++) {
        size_t first = i - 1;
        while (first > 0 && !strcmp(o[first - 1].path, o[i].path))
            first--;
        if (strcmp(o[first].path, o[i].path) != 0)
            continue;
        cfg_err(L->errs, o[i].line,
                "memory file %s of %s '%s' is also the memory of %s '%s' (line %d)",
                cfg_shown(o[i].path, shown, sizeof(shown)), o[i].agent ? "agent" : "namespace",
                o[i].name, o[first].agent ? "agent" : "namespace", o[first].name, o[first].line);
    }
    free(o);
}

void cfg_load_agents(struct cfg_loader *L, const struct cfg_node *namespaces,
                     const struct cfg_node *agents)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    size_t n_ns = 0, n_ag = 0;

    if (!cfg_is_null(namespaces) && !namespaces->bad) {
        if (namespaces->kind == CFG_NODE_MAP)
            n_ns = namespaces->n;
        else
            cfg_err(e, namespaces->line,
                    "namespaces must be a mapping of namespace name to settings");
    }
    if (cfg_want_seq(e, agents, "agents"))
        n_ag = agents->n;

    /* agents can add one implicit namespace each */
    c->namespaces = gw_xcalloc(n_ns + n_ag, sizeof(*c->namespaces));
    c->agents = gw_xcalloc(n_ag, sizeof(*c->agents));
    int *ns_lines = gw_xcalloc(n_ns + n_ag, sizeof(int));
    int *agent_lines = gw_xcalloc(n_ag, sizeof(int));

    if (n_ns)
        load_namespaces(L, namespaces, ns_lines);
    for (size_t i = 0; i < n_ag; i++) {
        size_t before = c->n_agents;
        load_agent(L, agents->vals[i], i, agent_lines, ns_lines);
        if (c->n_agents > before)
            agent_lines[before] = agents->vals[i]->line;
    }
    check_paths(L, ns_lines, agent_lines);

    free(ns_lines);
    free(agent_lines);
    if (c->n_namespaces == 0) {
        free(c->namespaces);
        c->namespaces = NULL;
    }
    if (c->n_agents == 0) {
        free(c->agents);
        c->agents = NULL;
    }
}
