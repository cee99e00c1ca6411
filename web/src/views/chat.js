// SPDX-License-Identifier: MIT
// chat.js — chat with an agent: the agents the caller may use and its conversations with
// each (reopened, exported, deleted: conversations.js), answers streamed over SSE
// (POST /api/v1/channels/{ns}/{agent}/messages, whose `session` names the conversation) and
// rendered as safe Markdown, tool calls and pending approvals inline, stop, and errors in
// plain words with the gateway's reason (transcript.js).
import { h, mount, note, fmtUsd, append } from "../dom.js";
import { get, stream, explain, ApiError } from "../api.js";
import { takeDraft } from "./signin.js";
import { errorCard, toolCard, renderAnswer, userMsg, assistantMsg, storedMessages }
  from "./transcript.js";
import { conversationList, readLatest, readEarlier, exportConversation, deleteConversation }
  from "./conversations.js";

const SESSION_KEY = (agent) => "openclaw.session." + agent;
const sessionOf = (agent) => sessionStorage.getItem(SESSION_KEY(agent)) || "main";

async function loadAgents() {
  try {
    const r = await get("/api/v1/agents");
    return r.agents.map((a) => ({ name: a.name, description: a.description }));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
    // without agents:read: the agents with a model this caller may chat with
    const m = await get("/v1/models");
    return m.data.filter((x) => x.kind === "agent")
      .map((x) => ({ name: x.id.replace(/^openclaw\//, ""), description: "" }));
  }
}

export function chatView(root, params) {
  let agent = params.get("agent");
  let conv = null; // the open conversation's summary; null until the gateway has one
  let ctl = null; // AbortController of the answer being streamed
  let gen = 0; // bumped on every switch: answers for an earlier agent or conversation are dropped

  const list = h("ul", { class: "agent-list", "aria-label": "Agents" });
  const log = h("div", { class: "transcript", role: "log", "aria-live": "polite",
                         "aria-label": "Conversation", tabindex: "0" });
  const input = h("textarea", { id: "composer-input", rows: "3", required: true,
    placeholder: "Message the agent (Enter sends, Shift+Enter for a new line)" });
  input.value = takeDraft();
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const stop = h("button", { type: "button", class: "danger", hidden: true,
                             onclick: () => ctl && ctl.abort() }, "Stop");
  const title = h("h1", { class: "chat-title", id: "chat-title" }, "Chat");
  const convTitle = h("span", { class: "conv-current" });
  const status = h("p", { class: "conv-status", role: "status" });
  const fail = (e) => (status.textContent = `${explain(e)} ${e.message}`);
  const convActions = h("div", { class: "actions conv-actions", hidden: true },
    h("button", { type: "button", class: "small", onclick: () => conv &&
      exportConversation(conv, "json").catch(fail) }, "Export JSON"),
    h("button", { type: "button", class: "small", onclick: () => conv &&
      exportConversation(conv, "markdown").catch(fail) }, "Export Markdown"),
    h("button", { type: "button", class: "small danger", onclick: () => remove() }, "Delete"));
  const convs = conversationList((c) => open(c));
  const form = h("form", { class: "composer", onsubmit: (e) => {
    e.preventDefault();
    submit();
  } }, h("label", { for: "composer-input", class: "sr-only" }, "Message"), input,
  h("div", { class: "composer-actions" }, send, stop));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const scroll = (force) => {
    if (force || nearBottom()) log.scrollTop = log.scrollHeight;
  };

  function show(c) {
    conv = c;
    convTitle.textContent = c ? c.title || "(no text)" : "New conversation";
    convActions.hidden = !c;
    convs.mark(c && c.id);
  }

  /** Leaves what is shown (stopping an answer being streamed) for something else. */
  function leave() {
    if (ctl) ctl.abort();
    status.textContent = "";
    return ++gen;
  }

  function pick(name) {
    const g = leave();
    agent = name;
    history.replaceState(null, "", "#/chat?agent=" + encodeURIComponent(name));
    for (const b of list.querySelectorAll("button"))
      b.setAttribute("aria-pressed", String(b.dataset.agent === name));
    title.textContent = name;
    show(null);
    mount(log);
    // the conversation of this tab's session with the agent, if the gateway has one
    convs.load(name).then(() => {
      const c = convs.find((x) => x.session === sessionOf(name));
      if (c && g === gen && !log.children.length) open(c);
    });
    input.focus();
  }

  function earlier(c, before) {
    const b = h("button", { type: "button", class: "small earlier", onclick: async () => {
      b.disabled = true;
      try {
        const r = await readEarlier(c, before);
        b.replaceWith(...(r.start > 0 ? [earlier(c, r.start)] : []),
                      ...storedMessages(r.messages));
      } catch (e) {
        b.disabled = false;
        fail(e);
      }
    } }, "Show earlier messages");
    return b;
  }

  async function open(c) {
    const g = leave();
    sessionStorage.setItem(SESSION_KEY(agent), c.session);
    show(c);
    mount(log, note("Loading the conversation…"));
    try {
      const r = await readLatest(c);
      if (g !== gen) return;
      show(r.conversation);
      mount(log, r.start > 0 ? earlier(c, r.start) : null, storedMessages(r.messages));
      scroll(true);
    } catch (e) {
      if (g === gen) mount(log, errorCard(e));
    }
  }

  function newConversation() {
    if (!agent) return;
    leave();
    const id = "web-" + crypto.getRandomValues(new Uint32Array(2)).join("").slice(0, 12);
    sessionStorage.setItem(SESSION_KEY(agent), id);
    show(null);
    mount(log);
    input.focus();
  }

  async function remove() {
    const c = conv;
    if (!c || !confirm(`Delete the conversation “${c.title}” and its ${c.messages} ` +
                       "messages? This cannot be undone.")) return;
    try {
      await deleteConversation(c);
      newConversation();
      status.textContent = "Conversation deleted.";
      convs.load(agent);
    } catch (e) {
      fail(e);
    }
  }

  async function submit() {
    const text = input.value.trim();
    if (!text || !agent || ctl) return;
    const g = gen;
    input.value = "";
    status.textContent = "";
    // kept until the gateway takes it: an expired session puts it back after sign-in
    sessionStorage.setItem("openclaw.draft", text);
    log.append(userMsg(text));
    const m = assistantMsg();
    m.el.classList.add("streaming");
    m.el.setAttribute("aria-busy", "true");
    log.append(m.el);
    scroll(true);
    let answer = "", notice = null, frame = 0, ended = false, convId = null;
    const render = (final) => {
      frame = 0;
      if (notice) mount(m.body, notice);
      else renderAnswer(m.body, answer, final);
      scroll();
    };
    ctl = new AbortController();
    send.hidden = true;
    stop.hidden = false;
    const [ns, name] = agent.split("/");
    try {
      const path = `/api/v1/channels/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
      await stream(path + "/messages",
        { content: text, stream: true, session: sessionOf(agent) }, (ev, data) => {
          sessionStorage.removeItem("openclaw.draft");
          if (ev === "delta") {
            answer += data.text || "";
            if (!frame) frame = requestAnimationFrame(() => render(false));
          } else if (ev === "tool") {
            m.tools.append(toolCard(data));
            scroll();
          } else if (ev === "done") {
            ended = true;
            convId = data.conversation_id || null;
            answer = data.reply != null ? data.reply : answer;
            const u = data.usage || {};
            append(m.foot, [h("span", null, data.model || ""),
              u.total_tokens != null ? h("span", null, `${u.total_tokens} tokens`) : null,
              data.cost_usd != null ? h("span", null, fmtUsd(data.cost_usd)) : null,
              data.rerouted ? h("span", { class: "badge warn" },
                                `rerouted by policy to ${data.model}`) : null]);
          } else if (ev === "error") {
            ended = true;
            const e = data.error || {};
            m.el.append(errorCard(null, e.message, e.code));
          } else if (ev === "json") {
            ended = true; // an agent without a model: kept in its mailbox, the gateway says why
            notice = h("p", { class: "notice" }, `Stored in the agent's mailbox (${data.id}). `,
              data.hint ? String(data.hint) : "This agent has no model, so no answer comes here.");
          }
        }, ctl.signal);
      if (!ended) m.el.append(h("div", { class: "msg-error", role: "alert" },
                                "The answer ended early (the connection was closed)."));
    } catch (e) {
      if (e.name === "AbortError") {
        m.foot.append(h("span", { class: "badge" }, "stopped"));
      } else {
        if (e.status !== 401) sessionStorage.removeItem("openclaw.draft");
        m.el.append(errorCard(e));
      }
    } finally {
      if (frame) cancelAnimationFrame(frame);
      render(true);
      m.el.classList.remove("streaming");
      m.el.removeAttribute("aria-busy");
      ctl = null;
      send.hidden = false;
      stop.hidden = true;
      if (g === gen) input.focus();
    }
    // the turn is in a conversation now: list it (first or moved to the front) and offer it
    if (convId && g === gen) {
      await convs.load(agent);
      const c = convs.find((x) => x.id === convId);
      if (c && g === gen) show(c);
    }
  }

  mount(root, h("div", { class: "chat" },
    h("aside", { class: "chat-side", "aria-label": "Agents and conversations" },
      h("h2", null, "Agents"), list,
      h("button", { type: "button", class: "primary new-conv", onclick: newConversation },
        "New conversation"),
      convs.el),
    h("section", { class: "chat-main", "aria-labelledby": "chat-title" },
      h("div", { class: "chat-head" }, title, convTitle, convActions), status, log, form)));

  loadAgents().then((a) => {
    if (!a.length) {
      mount(list, h("li", null, note("No agent is open to you. An administrator registers " +
                                     "agents and grants channels.")));
      return;
    }
    mount(list, a.map((x) => h("li", null, h("button", { type: "button",
      class: "agent", "data-agent": x.name, "aria-pressed": "false",
      onclick: () => pick(x.name) }, h("span", null, x.name),
      x.description ? h("small", null, x.description) : null))));
    pick(a.some((x) => x.name === agent) ? agent : a[0].name);
  }, (e) => mount(list, h("li", null, errorCard(e))));

  return () => ctl && ctl.abort();
}
