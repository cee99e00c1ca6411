// SPDX-License-Identifier: MIT
// audit.js — the audit trail: search with filters (newest first, paged by cursor), export as
// JSONL or CSV, and the chain's verification status.
import { h, mount, note, field, fmtTime, jsonText } from "../dom.js";
import { get, download, q, explain, allows } from "../api.js";

const FILTERS = [["user", "User"], ["event", "Event (prefix*)"], ["channel", "Channel"],
                 ["outcome", "Outcome"], ["since", "Since (RFC 3339)"],
                 ["until", "Until (RFC 3339)"], ["request_id", "Request id"]];

export function auditView(root) {
  const inputs = Object.fromEntries(FILTERS.map(([k]) => [k, h("input", { type: "text",
                                                                         name: k })]));
  inputs.outcome = h("select", { name: "outcome" }, ["", "ok", "denied", "failed", "error"]
    .map((o) => h("option", { value: o }, o || "any")));
  const rows = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const status = h("div", { class: "verify", "aria-live": "polite" });
  let cursor = null;
  const params = () => Object.fromEntries(FILTERS.map(([k]) => [k, inputs[k].value.trim()]));

  async function search(next) {
    if (!next) mount(rows);
    try {
      const r = await get("/api/v1/audit" + q({ ...params(), limit: 100, cursor: next }));
      for (const e of r.events)
        rows.append(h("tr", null, h("td", null, String(e.seq)), h("td", null, fmtTime(e.ts)),
          h("td", null, h("code", null, String(e.type))),
          h("td", null, h("span", { class: "badge " + e.outcome }, String(e.outcome))),
          h("td", null, String(e.actor)), h("td", null, e.resource ? String(e.resource) : "—"),
          h("td", null, h("details", null, h("summary", null, "details"),
                          h("pre", { class: "code" }, jsonText(e.details))))));
      if (!rows.children.length)
        rows.append(h("tr", null, h("td", { colspan: "7" }, "No event matches.")));
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      mount(rows, h("tr", null, h("td", { colspan: "7" }, `${explain(e)} ${e.message}`)));
    }
  }
  more.addEventListener("click", () => search(cursor));

  async function verify() {
    mount(status, note("Verifying the chain…"));
    try {
      const v = await get("/api/v1/audit/verify");
      mount(status, v.ok
        ? h("p", { class: "ok", role: "status" }, `Chain verified: ${v.events_checked} events ` +
            `and ${v.checkpoints_checked} checkpoints, up to #${v.last_seq} (tenant ${v.tenant}).`)
        : h("p", { class: "error", role: "alert" }, `Chain broken at #${v.first_bad_seq}: ` +
            String(v.reason)));
    } catch (e) {
      mount(status, note(`${explain(e)} ${e.message}`, "error"));
    }
  }

  const exportAs = (format) => download("/api/v1/audit/export" + q({ ...params(), format }),
                                        `audit.${format}`)
    .catch((e) => mount(status, note(`${explain(e)} ${e.message}`, "error")));

  mount(root, h("section", { class: "page" },
    h("h1", null, "Audit trail"),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: verify }, "Verify the chain"),
      allows("audit:export") ? [
        h("button", { type: "button", onclick: () => exportAs("jsonl") }, "Export JSONL"),
        h("button", { type: "button", onclick: () => exportAs("csv") }, "Export CSV")] : null),
    status,
    h("form", { class: "card filters", onsubmit: (e) => {
      e.preventDefault();
      search();
    } }, FILTERS.map(([k, label]) => field(label, inputs[k])),
    h("button", { type: "submit" }, "Search")),
    h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
      h("caption", { class: "sr-only" }, "Audit events, newest first"),
      h("thead", null, h("tr", null, ["#", "Time", "Event", "Outcome", "Actor", "Resource",
                                      "Details"].map((c) => h("th", { scope: "col" }, c)))),
      rows)),
    more));
  search();
}
