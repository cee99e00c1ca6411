// SPDX-License-Identifier: MIT
// conversations.js — the caller's conversations with one agent (GET /api/v1/conversations,
// most recent first, paged), reading one back (its last messages, earlier ones on request),
// export as JSON or Markdown, and deletion. Whose conversations these are is decided by the
// gateway from the credential; titles are a person's words and stay text.
import { h, mount, note, fmtTime } from "../dom.js";
import { get, del, download, q, explain } from "../api.js";

const LIST_PAGE = 30;
export const HISTORY_PAGE = 100;
const HISTORY_MAX_PAGES = 5; // what one opening reads at most (a conversation growing meanwhile)

const path = (c) => "/api/v1/conversations/" + encodeURIComponent(c.id);

/** The list for the chat's side panel: {el, load(agent), mark(id), find(pred)}. */
export function conversationList(onOpen) {
  const list = h("ul", { class: "conv-list", "aria-labelledby": "conv-head" });
  const more = h("button", { type: "button", class: "small", hidden: true }, "Older");
  let agent = null, cursor = null, shown = [], current = null;

  const item = (c) => h("li", null, h("button", { type: "button", class: "conv",
    "data-id": c.id, "aria-current": c.id === current ? "true" : null, onclick: () => onOpen(c) },
  h("span", { class: "conv-title" }, c.title || "(no text)"),
  h("small", null, `${fmtTime(c.updated_at)} · ${c.messages} messages`)));

  async function load(name, next) {
    agent = name;
    try {
      const r = await get("/api/v1/conversations" + q({ agent: name, limit: LIST_PAGE,
                                                        cursor: next }));
      if (name !== agent) return; // another agent was picked meanwhile
      shown = next ? shown.concat(r.conversations) : r.conversations;
      cursor = r.next_cursor;
      mount(list, shown.length ? shown.map(item)
                               : h("li", null, note("No conversations with this agent yet.")));
    } catch (e) {
      if (name !== agent) return;
      shown = [];
      cursor = null;
      mount(list, h("li", null, note(`${explain(e)} ${e.message}`, "error")));
    }
    more.hidden = !cursor;
  }
  more.addEventListener("click", () => load(agent, cursor));

  function mark(id) {
    current = id;
    for (const b of list.querySelectorAll("button.conv")) {
      if (b.dataset.id === id) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
  }

  const el = [h("h2", { id: "conv-head" }, "Conversations"), list, more];
  return { el, load, mark, find: (pred) => shown.find(pred) };
}

/** The messages of c from number `from` on (all pages, bounded): {conversation, messages}. */
async function readFrom(c, from, upTo) {
  let messages = [], conversation = c, cursor = from;
  for (let i = 0; i < HISTORY_MAX_PAGES && cursor != null && cursor < upTo; i++) {
    const r = await get(path(c) + q({ cursor, limit: Math.min(500, upTo - cursor) }));
    conversation = r.conversation;
    messages = messages.concat(r.messages);
    cursor = r.next_cursor;
  }
  return { conversation, messages };
}

/** The last HISTORY_PAGE messages of c (and any that arrived since the list was read). */
export async function readLatest(c) {
  const start = Math.max(0, c.messages - HISTORY_PAGE);
  return { start, ...(await readFrom(c, start, Infinity)) };
}

/** The HISTORY_PAGE messages before message number `before`. */
export async function readEarlier(c, before) {
  const start = Math.max(0, before - HISTORY_PAGE);
  return { start, ...(await readFrom(c, start, before)) };
}

export const exportConversation = (c, format) =>
  download(path(c) + "/export" + q({ format }), `${c.id}.${format === "markdown" ? "md" : "json"}`);

export const deleteConversation = (c) => del(path(c));
