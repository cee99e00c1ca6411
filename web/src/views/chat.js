// SPDX-License-Identifier: MIT
// chat.js — chat with an agent: the agents the caller may use, answers streamed over SSE
// (POST /api/v1/channels/{ns}/{agent}/messages) and rendered as safe Markdown, tool calls and
// pending approvals inline, stop, errors in plain words with the gateway's reason, and
// visualization blocks (```openclaw-viz) rendered inline once the answer is complete.
import { h, mount, note, jsonText, fmtUsd, append } from "../dom.js";
import { get, post, stream, explain, ApiError } from "../api.js";
import { markdown } from "../markdown.js";
import { takeDraft } from "./signin.js";
import { vizBlock } from "./viz.js";

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

function errorCard(err, message, code, requestId) {
  const plain = err ? explain(err) : explain(new ApiError(0, code, message));
  return h("div", { class: "msg-error", role: "alert" },
    h("strong", null, plain), " ", h("span", { class: "reason" }, err ? err.message : message),
    (err && err.requestId) || requestId
      ? h("small", { class: "rid" }, " (request " + ((err && err.requestId) || requestId) + ")")
      : null);
}

/** Inline approve / reject for an action the turn parked. */
export function approvalWidget(id, onDone) {
  const out = h("span", { class: "approval-result", role: "status" });
  const act = (verb) => async () => {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      const r = await post(`/api/v1/approvals/${encodeURIComponent(id)}/${verb}`, {});
      out.textContent = verb === "approve" ? `Approved: ${r.status}` : "Rejected";
      if (onDone) onDone(r);
    } catch (e) {
      out.textContent = `${explain(e)} ${e.message || ""}`;
      for (const b of box.querySelectorAll("button")) b.disabled = false;
    }
  };
  const box = h("div", { class: "approval-inline" },
    h("span", null, "Waiting for approval ", h("code", null, id)),
    h("button", { type: "button", class: "primary small", onclick: act("approve") }, "Approve"),
    h("button", { type: "button", class: "small", onclick: act("reject") }, "Reject"),
    out);
  return box;
}

function toolCard(ev) {
  const pending = ev.status === "pending_approval";
  return h("div", { class: "tool " + (ev.status || ""), role: "group",
                    "aria-label": `Tool call ${ev.tool}` },
    h("div", { class: "tool-head" }, h("span", { class: "tool-name" }, "Tool ", h("code", null,
      String(ev.tool))), h("span", { class: "badge " + ev.status }, String(ev.status))),
    h("details", null, h("summary", null, "Arguments"),
      h("pre", { class: "code" }, ev.args === null ? "(not a JSON object)" : jsonText(ev.args))),
    ev.result != null && !pending
      ? h("details", null, h("summary", null, "Result"), h("pre", { class: "code" },
                                                           jsonText(ev.result)))
      : null,
    pending && ev.result && ev.result.approval_id ? approvalWidget(ev.result.approval_id) : null);
}

export function chatView(root, params) {
  let agents = [];
  let agent = params.get("agent");
  let ctl = null; // AbortController of the answer being streamed

  const list = h("ul", { class: "agent-list", "aria-label": "Agents" });
  const log = h("div", { class: "transcript", role: "log", "aria-live": "polite",
                         "aria-label": "Conversation" });
  const input = h("textarea", { id: "composer-input", rows: "3", required: true,
    placeholder: "Message the agent (Enter sends, Shift+Enter for a new line)" });
  input.value = takeDraft();
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const stop = h("button", { type: "button", class: "danger", hidden: true,
                             onclick: () => ctl && ctl.abort() }, "Stop");
  const title = h("h1", { class: "chat-title" }, "Chat");
  const sessionLabel = h("span", { class: "hint" });
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

  function pick(name) {
    agent = name;
    history.replaceState(null, "", "#/chat?agent=" + encodeURIComponent(name));
    for (const b of list.querySelectorAll("button"))
      b.setAttribute("aria-pressed", String(b.dataset.agent === name));
    title.textContent = name;
    sessionLabel.textContent = `conversation “${sessionOf(name)}”`;
    mount(log);
    input.focus();
  }

  function newConversation() {
    if (!agent) return;
    const id = "web-" + crypto.getRandomValues(new Uint32Array(2)).join("").slice(0, 12);
    sessionStorage.setItem(SESSION_KEY(agent), id);
    pick(agent);
  }

  async function submit() {
    const text = input.value.trim();
    if (!text || !agent || ctl) return;
    input.value = "";
    // kept until the gateway takes it: an expired session puts it back after sign-in
    sessionStorage.setItem("openclaw.draft", text);
    log.append(h("div", { class: "msg user" }, h("div", { class: "body" }, text)));
    const body = h("div", { class: "body" });
    const tools = h("div", { class: "tools" });
    const foot = h("div", { class: "msg-foot" });
    const msg = h("div", { class: "msg assistant streaming", "aria-busy": "true" },
                  body, tools, foot);
    log.append(msg);
    scroll(true);
    let answer = "";
    let frame = 0;
    const render = (final) => {
      frame = 0;
      mount(body, markdown(answer, { "openclaw-viz": (src, closed) =>
        vizBlock(src, final && closed) }));
      scroll();
    };
    ctl = new AbortController();
    send.hidden = true;
    stop.hidden = false;
    const [ns, name] = agent.split("/");
    let ended = false;
    try {
      const path = `/api/v1/channels/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
      await stream(path + "/messages",
        { content: text, stream: true, session: sessionOf(agent) }, (ev, data) => {
          sessionStorage.removeItem("openclaw.draft");
          if (ev === "delta") {
            answer += data.text || "";
            if (!frame) frame = requestAnimationFrame(() => render(false));
          } else if (ev === "tool") {
            tools.append(toolCard(data));
            scroll();
          } else if (ev === "done") {
            ended = true;
            answer = data.reply != null ? data.reply : answer;
            const u = data.usage || {};
            append(foot, [h("span", null, data.model || ""),
              u.total_tokens != null ? h("span", null, `${u.total_tokens} tokens`) : null,
              data.cost_usd != null ? h("span", null, fmtUsd(data.cost_usd)) : null,
              data.rerouted ? h("span", { class: "badge warn" },
                                `rerouted by policy to ${data.model}`) : null]);
          } else if (ev === "error") {
            ended = true;
            const e = data.error || {};
            msg.append(errorCard(null, e.message, e.code));
          } else if (ev === "json") {
            ended = true;
            answer = data.status === "stored"
              ? `Stored in the agent's mailbox (${data.id}). This agent has no model, so ` +
                "no answer comes here."
              : jsonText(data);
          }
        }, ctl.signal);
      if (!ended) msg.append(h("div", { class: "msg-error", role: "alert" },
                               "The answer ended early (the connection was closed)."));
    } catch (e) {
      if (e.name === "AbortError") {
        foot.append(h("span", { class: "badge" }, "stopped"));
      } else {
        if (e.status !== 401) sessionStorage.removeItem("openclaw.draft");
        msg.append(errorCard(e));
      }
    } finally {
      if (frame) cancelAnimationFrame(frame);
      render(true);
      msg.classList.remove("streaming");
      msg.removeAttribute("aria-busy");
      ctl = null;
      send.hidden = false;
      stop.hidden = true;
      input.focus();
    }
  }

  mount(root, h("div", { class: "chat" },
    h("aside", { class: "chat-side", "aria-label": "Agents and conversations" },
      h("h2", null, "Agents"), list,
      h("button", { type: "button", onclick: newConversation }, "New conversation")),
    h("section", { class: "chat-main", "aria-labelledby": "chat-title" },
      h("div", { class: "chat-head" }, title, sessionLabel), log, form)));
  title.id = "chat-title";

  loadAgents().then((a) => {
    agents = a;
    if (!agents.length) {
      mount(list, h("li", null, note("No agent is open to you. An administrator registers " +
                                     "agents and grants channels.")));
      return;
    }
    mount(list, agents.map((x) => h("li", null, h("button", { type: "button",
      class: "agent", "data-agent": x.name, "aria-pressed": "false",
      onclick: () => pick(x.name) }, h("span", null, x.name),
      x.description ? h("small", null, x.description) : null))));
    pick(agents.some((x) => x.name === agent) ? agent : agents[0].name);
  }, (e) => mount(list, h("li", null, errorCard(e))));

  return () => ctl && ctl.abort();
}
