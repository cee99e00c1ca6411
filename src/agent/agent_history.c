/* SPDX-License-Identifier: MIT
 * agent_history.c — conversations: the messages of (tenant, owner, agent, session) kept in the
 * store as canonical JSON, loaded as the start of the next turn and extended by what it
 * produced. The owner's org unit and team are kept with the conversation when it begins: they
 * decide which administrators may read it (agent_conversations.c).
 */
#include "base/prelude.h"
#include "agent/agent_int.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

_Static_assert(AGENT_CONVERSATION_ID_LEN == STORE_CONV_ID_LEN, "conversation ids");

struct agent_history *agent_history_new(struct store *st)
{
    struct agent_history *h = gw_xcalloc(1, sizeof(*h));
    h->st = st;
    return h;
}

void agent_history_free(struct agent_history *h)
{
    free(h);
}

const char *agent_history_owner(const struct auth_principal *p)
{
    return p->user ? p->user : p->actor;
}

gw_err agent_history_load(struct agent_history *h, const struct auth_principal *p,
                          const char *agent, const char *session, json_t *history,
                          char id[AGENT_CONVERSATION_ID_LEN])
{
    const struct store_conversation c = {.tenant = (char *)p->tenant,
                                         .user_id = (char *)agent_history_owner(p),
                                         .channel = (char *)agent,
                                         .session = (char *)session,
                                         .org_unit = (char *)p->org_unit,
                                         .team = (char *)p->team};
    gw_err rc = store_conversation_open(h->st, &c, gw_now_ms(), id);
    if (rc != GW_OK)
        return rc;
    char **msgs = NULL;
    size_t n = 0;
    rc = store_conversation_tail(h->st, id, AGENT_HISTORY_MAX_MESSAGES, &msgs, &n);
    size_t start = json_array_size(history), first = start;
    for (size_t i = 0; rc == GW_OK && i < n; i++) {
        json_error_t e;
        json_t *m = json_loads(msgs[i], 0, &e);
        if (m)
            json_array_append_new(history, m);
    }
    store_strv_free(msgs, n);
    /* a cut history must not start with tool results whose call was cut away */
    while (first < json_array_size(history) &&
           strcmp(gw_json_str(json_array_get(history, first), "role"), "user") != 0)
        first++;
    for (; first > start; first--)
        json_array_remove(history, start);
    return rc;
}

gw_err agent_history_save(struct agent_history *h, const char *id, const json_t *user_msg,
                          const json_t *produced)
{
    size_t n = 1 + json_array_size(produced), i;
    char **texts = gw_xcalloc(n, sizeof(*texts));
    texts[0] = gw_json_compact(user_msg);
    json_t *m;
    json_array_foreach(produced, i, m)
        texts[i + 1] = gw_json_compact(m);
    gw_err rc = store_conversation_append(h->st, id, (const char *const *)texts, n, gw_now_ms());
    store_strv_free(texts, n);
    return rc;
}
