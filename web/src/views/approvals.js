// SPDX-License-Identifier: MIT
// approvals.js — the approvals inbox: pending actions with their frozen arguments, the policy
// that asked for approval, who may decide and when it expires; approve, edit then approve,
// reject with a comment. Refreshed every 5 s while open (and after each decision).
import { h, mount, note, jsonText, fmtTime, field } from "../dom.js";
import { get, post, q, explain } from "../api.js";

const REFRESH_MS = 5000;

function card(a, refresh, status) {
  const msg = h("p", { class: "result", role: "status" });
  const comment = h("input", { type: "text", maxlength: "500" });
  const args = h("textarea", { rows: "5", spellcheck: "false" });
  args.value = jsonText(a.action && a.action.args);
  const edit = h("details", null, h("summary", null, "Edit the arguments, then approve"),
                 field("Arguments (JSON)", args));
  const decide = (verb) => async () => {
    const body = {};
    if (comment.value.trim()) body.comment = comment.value.trim();
    if (verb === "approve" && edit.open) {
      try {
        body.args = JSON.parse(args.value);
      } catch (e) {
        msg.textContent = "The arguments are not valid JSON: " + e.message;
        return;
      }
    }
    try {
      const r = await post(`/api/v1/approvals/${encodeURIComponent(a.id)}/${verb}`, body);
      status.textContent = verb === "approve" ? `Approved ${a.id}: ${r.status}.`
                                              : `Rejected ${a.id}.`;
      refresh();
    } catch (e) {
      msg.textContent = `${explain(e)} ${e.message}`;
    }
  };
  const pending = a.status === "pending";
  const pol = a.policy || {};
  return h("article", { class: "card approval", "aria-labelledby": "apr-" + a.id },
    h("h2", { id: "apr-" + a.id }, h("code", null, String(a.action && a.action.tool)), " ",
      h("span", { class: "badge " + a.status }, a.status)),
    h("dl", { class: "facts" },
      h("dt", null, "Requested by"), h("dd", null, String(a.requester)),
      h("dt", null, "Policy"), h("dd", null, pol.id ? `${pol.scope || ""} ${pol.scope_id || ""} ` +
                                 `(${pol.id} v${pol.version})` : jsonText(pol)),
      h("dt", null, "Who may decide"), h("dd", null, jsonText(a.approvers)),
      h("dt", null, "Expires"), h("dd", null, fmtTime(a.expires_at)),
      a.decided_by ? [h("dt", null, "Decided by"), h("dd", null, String(a.decided_by))] : null),
    h("h3", null, "Frozen arguments"),
    h("pre", { class: "code" }, jsonText(a.action && a.action.args)),
    a.result ? [h("h3", null, "Result"), h("pre", { class: "code" }, jsonText(a.result))] : null,
    pending ? [edit, field("Comment (optional)", comment),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: decide("approve") }, "Approve"),
        h("button", { type: "button", class: "danger", onclick: decide("reject") }, "Reject"))]
      : null,
    msg);
}

export function approvalsView(root) {
  const filter = h("select", { id: "apr-filter" },
    h("option", { value: "pending" }, "Pending"), h("option", { value: "" }, "All"));
  const listEl = h("div", { class: "approvals", "aria-live": "polite" });
  const status = h("p", { id: "apr-status", role: "status" });
  let timer = null, busy = false;
  async function refresh() {
    if (busy || root.contains(document.activeElement) && listEl.contains(document.activeElement)
        && document.activeElement.tagName !== "BUTTON") return; // not while someone types
    busy = true;
    try {
      const r = await get("/api/v1/approvals" + q({ status: filter.value }));
      mount(listEl, r.approvals.length ? r.approvals.map((a) => card(a, refresh, status))
                                       : note(filter.value ? "Nothing waits for a decision."
                                                           : "No approvals yet."));
    } catch (e) {
      mount(listEl, note(`${explain(e)} ${e.message}`, "error"));
    } finally {
      busy = false;
    }
  }
  filter.addEventListener("change", refresh);
  mount(root, h("section", { class: "page" }, h("h1", null, "Approvals"),
    h("p", null, "Actions that a policy parked until someone decides. The action runs exactly " +
                 "once, with the requester's grants, when approved."),
    field("Show", filter), status, listEl));
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}
