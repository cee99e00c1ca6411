/* SPDX-License-Identifier: MIT
 * store_agents.c — the public API of agents, channel messages and conversations
 * (store_agents.h): argument checks and dispatch through struct store_agent_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_agent_cols = STORE_COLS_INIT(store_agent, STORE_AGENT_COLUMNS);
const struct store_cols store_message_cols = STORE_COLS_INIT(store_message, STORE_MESSAGE_COLUMNS);
const struct store_cols store_conversation_cols = STORE_COLS_INIT(store_conversation,
                                                                  STORE_CONVERSATION_COLUMNS);
const struct store_cols store_conversation_message_cols =
    STORE_COLS_INIT(store_conversation_message, STORE_CONVERSATION_MESSAGE_COLUMNS);

void store_agent_release(struct store_agent *a)
{
    store_row_release(&store_agent_cols, a);
}

gw_err store_agent_insert(struct store *st, const struct store_agent *a)
{
    if (!a || !a->tenant || !a->name)
        return GW_EINVAL;
    return st->ops->agents->agent_insert(st, a);
}

gw_err store_agent_list(struct store *st, struct store_agent **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->agents->agent_list(st, out, n) : GW_EINVAL;
}

gw_err store_agent_delete(struct store *st, const char *tenant, const char *name)
{
    if (!tenant || !name)
        return GW_EINVAL;
    return st->ops->agents->agent_delete(st, tenant, name);
}

void store_agent_list_free(struct store_agent *list, size_t n)
{
    store_rows_free(&store_agent_cols, list, n);
}

gw_err store_message_insert(struct store *st, const struct store_message *m)
{
    if (!m || !m->id || !m->tenant || !m->channel)
        return GW_EINVAL;
    return st->ops->agents->message_insert(st, m);
}

gw_err store_message_list(struct store *st, const char *tenant, const char *channel,
                          int64_t before_ms, const char *before_id, size_t limit,
                          struct store_message **out, size_t *n)
{
    if (!STORE_OUT_LIST(out, n) || !tenant || !channel || (before_ms && !before_id))
        return GW_EINVAL;
    return st->ops->agents->message_list(st, tenant, channel, before_ms, before_id, limit, out, n);
}

void store_message_list_free(struct store_message *list, size_t n)
{
    store_rows_free(&store_message_cols, list, n);
}

void store_conversation_release(struct store_conversation *c)
{
    store_row_release(&store_conversation_cols, c);
}

gw_err store_conversation_open(struct store *st, const struct store_conversation *c, int64_t now_ms,
                               char *id)
{
    if (!c || !c->tenant || !c->user_id || !c->channel || !c->session || !id)
        return GW_EINVAL;
    return st->ops->agents->conversation_open(st, c, now_ms, id);
}

gw_err store_conversation_append(struct store *st, const char *id, const char *const *messages,
                                 size_t n, int64_t now_ms)
{
    if (!id || (n && !messages))
        return GW_EINVAL;
    return n ? st->ops->agents->conversation_append(st, id, messages, n, now_ms) : GW_OK;
}

gw_err store_conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                               size_t *n)
{
    *messages = NULL;
    *n = 0;
    if (!id)
        return GW_EINVAL;
    return st->ops->agents->conversation_tail(st, id, max, messages, n);
}

gw_err store_conversation_list(struct store *st, const struct store_conversation_filter *f,
                               size_t limit, struct store_conversation **out, size_t *n)
{
    if (!STORE_OUT_LIST(out, n) || !f || !f->tenant || (f->before_ms && !f->before_id))
        return GW_EINVAL;
    return st->ops->agents->conversation_list(st, f, limit, out, n);
}

void store_conversation_list_free(struct store_conversation *list, size_t n)
{
    store_rows_free(&store_conversation_cols, list, n);
}

gw_err store_conversation_get(struct store *st, const char *tenant, const char *id,
                              struct store_conversation *out)
{
    if (!STORE_OUT_ROW(out) || !tenant || !id)
        return GW_EINVAL;
    return st->ops->agents->conversation_get(st, tenant, id, out);
}

gw_err store_conversation_messages(struct store *st, const char *id, int64_t after_seq,
                                   size_t limit, struct store_conversation_message **out, size_t *n)
{
    if (!STORE_OUT_LIST(out, n) || !id)
        return GW_EINVAL;
    return st->ops->agents->conversation_messages(st, id, after_seq, limit, out, n);
}

void store_conversation_messages_free(struct store_conversation_message *list, size_t n)
{
    store_rows_free(&store_conversation_message_cols, list, n);
}

gw_err store_conversation_delete(struct store *st, const char *tenant, const char *id,
                                 int64_t *messages)
{
    *messages = 0;
    if (!tenant || !id)
        return GW_EINVAL;
    return st->ops->agents->conversation_delete(st, tenant, id, messages);
}
