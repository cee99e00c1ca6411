// SPDX-License-Identifier: MIT
// transcript.js — the pieces of a chat transcript, shared by the answer being streamed and by
// a conversation read back from the gateway: messages, tool calls with their arguments,
// inline approvals, errors in plain words, and answers as safe Markdown with visualization
// blocks. Every text here (a person's, a model's, a tool's) becomes text nodes only.
import { h, mount, jsonText } from "../dom.js";
import { post, explain, ApiError } from "../api.js";
import { markdown } from "../markdown.js";
import { vizBlock } from "./viz.js";

export function errorCard(err, message, code, requestId) {
  const plain = err ? explain(err) : explain(new ApiError(0, code, message));
  const rid = (err && err.requestId) || requestId;
  return h("div", { class: "msg-error", role: "alert" },
    h("strong", null, plain), " ", h("span", { class: "reason" }, err ? err.message : message),
    rid ? h("small", { class: "rid" }, " (request " + rid + ")") : null);
}

/** Inline approve / reject for an action the turn parked. */
function approvalWidget(id) {
  const out = h("span", { class: "approval-result", role: "status" });
  const act = (verb) => async () => {
    for (const b of box.querySelectorAll("button")) b.disabled = true;
    try {
      const r = await post(`/api/v1/approvals/${encodeURIComponent(id)}/${verb}`, {});
      out.textContent = verb === "approve" ? `Approved: ${r.status}` : "Rejected";
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

/** A tool call: {tool, args (object, or null when not one), status, result}. A parked one
 * that is live gets approve / reject; one read back links to the inbox (it may be decided). */
export function toolCard(ev, live = true) {
  const pending = ev.status === "pending_approval";
  const aprId = pending && ev.result && typeof ev.result.approval_id === "string"
    ? ev.result.approval_id : null;
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
    aprId && live ? approvalWidget(aprId) : null,
    aprId && !live ? h("p", { class: "hint" }, "Sent for approval ", h("code", null, aprId),
                       " (", h("a", { href: "#/approvals" }, "approvals"), ")") : null);
}

/** Renders an answer's Markdown into body; visualization blocks are drawn once final. */
export function renderAnswer(body, text, final) {
  mount(body, markdown(text, { "openclaw-viz": (src, closed) => vizBlock(src, final && closed) }));
}

export const userMsg = (text) => h("div", { class: "msg user" }, h("div", { class: "body" }, text));

/** An assistant message: {el, body, tools, foot}. */
export function assistantMsg() {
  const body = h("div", { class: "body" });
  const tools = h("div", { class: "tools" });
  const foot = h("div", { class: "msg-foot" });
  return { el: h("div", { class: "msg assistant" }, body, tools, foot), body, tools, foot };
}

const parsed = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

/**
 * A stored conversation's messages (docs/API.md "Conversations") as transcript elements: a
 * person's message, then one assistant message per turn holding every model reply's text and
 * every tool call with its result.
 */
export function storedMessages(messages) {
  const out = [];
  let turn = null;
  const calls = new Map(); // tool_call_id → the card's event, completed by the tool result
  const flush = () => {
    if (!turn) return;
    renderAnswer(turn.msg.body, turn.text.join("\n\n"), true);
    for (const ev of turn.events) turn.msg.tools.append(toolCard(ev, false));
    turn = null;
  };
  const ensure = () => {
    if (!turn) {
      turn = { msg: assistantMsg(), text: [], events: [] };
      out.push(turn.msg.el);
    }
    return turn;
  };
  for (const m of messages) {
    if (m.role === "user") {
      flush();
      out.push(userMsg(String(m.content ?? "")));
    } else if (m.role === "assistant") {
      const t = ensure();
      if (m.content) t.text.push(String(m.content));
      for (const c of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
        const fn = (c && c.function) || {};
        const args = parsed(fn.arguments);
        const ev = { tool: fn.name, args: args && typeof args === "object" ? args : null,
                     status: "requested", result: null };
        t.events.push(ev);
        if (c && c.id) calls.set(c.id, ev);
      }
    } else if (m.role === "tool") {
      const ev = calls.get(m.tool_call_id);
      const result = parsed(m.content);
      if (ev) {
        ev.result = result ?? m.content;
        ev.status = (result && typeof result.status === "string" && result.status) || "executed";
      }
    }
  }
  flush();
  return out;
}
