// SPDX-License-Identifier: MIT
// costs.js — spend of a month by workspace (against its budget, as a chart), user and model.
import { h, s, mount, note, field, fmtUsd } from "../dom.js";
import { get, q, explain } from "../api.js";

/** Horizontal bars: spend per workspace, with the budget limit marked. */
function chart(rows) {
  const W = 640, bar = 22, gap = 12, left = 150, top = 8;
  const max = Math.max(1e-9, ...rows.map((r) =>
    Math.max(r.total_usd, r.budget ? r.budget.monthly_usd_limit : 0)));
  const scale = (v) => ((W - left - 90) * v) / max;
  const H = top * 2 + rows.length * (bar + gap);
  return s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
                    "aria-label": "Spend by workspace against budget: " + rows.map((r) =>
                      `${r.workspace} ${fmtUsd(r.total_usd)}` + (r.budget
                        ? ` of ${fmtUsd(r.budget.monthly_usd_limit)}` : "")).join("; ") },
    rows.map((r, i) => {
      const y = top + i * (bar + gap);
      const b = r.budget;
      return s("g", { class: "row " + (b ? b.status : "none") },
        s("text", { x: left - 8, y: y + bar * 0.7, "text-anchor": "end" }, r.workspace),
        s("rect", { class: "spend", x: left, y, height: bar,
                    width: Math.max(1, scale(r.total_usd)) }),
        b ? s("line", { class: "limit", x1: left + scale(b.monthly_usd_limit),
                        x2: left + scale(b.monthly_usd_limit), y1: y - 3, y2: y + bar + 3 }) : null,
        s("text", { x: left + Math.max(scale(r.total_usd), b ? scale(b.monthly_usd_limit) : 0) + 6,
                    y: y + bar * 0.7 }, fmtUsd(r.total_usd) +
                    (b ? ` / ${fmtUsd(b.monthly_usd_limit)}` : "")));
    }));
}

const table = (caption, head, rows) => h("div", { class: "table-wrap", tabindex: "0" },
  h("table", null, h("caption", null, caption),
    h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, rows.length ? rows : h("tr", null, h("td", { colspan: String(head.length) },
                                                          "No usage.")))));

export function costsView(root) {
  const now = new Date();
  const period = h("input", { type: "month", value: now.toISOString().slice(0, 7) });
  const ws = h("input", { type: "text", placeholder: "all" });
  const out = h("div", { "aria-live": "polite" });
  async function load() {
    mount(out, note("Loading…"));
    try {
      const c = await get("/api/v1/costs" +
                          q({ period: period.value, workspace: ws.value.trim() }));
      const tok = (r) => [h("td", null, String(r.requests)),
                          h("td", null, String(r.prompt_tokens)),
                          h("td", null, String(r.completion_tokens)),
                          h("td", null, fmtUsd(r.total_usd))];
      mount(out,
        h("p", { class: "total" }, `${c.period}: ${fmtUsd(c.total_usd)} ${c.currency} for ` +
                                   `${c.requests} requests`),
        c.by_workspace.length ? chart(c.by_workspace) : note("No usage this month."),
        table("By workspace", ["Workspace", "Requests", "Prompt tokens", "Completion tokens",
                               "Spend", "Budget"],
              c.by_workspace.map((r) => h("tr", null, h("td", null, r.workspace), tok(r),
                h("td", null, r.budget ? `${r.budget.used_pct.toFixed(1)} % of ` +
                  `${fmtUsd(r.budget.monthly_usd_limit)} (${r.budget.status}` +
                  `${r.budget.enforced ? ", enforced" : ""})` : "none")))),
        table("By user", ["User", "Requests", "Prompt tokens", "Completion tokens", "Spend"],
              c.by_user.map((r) => h("tr", null, h("td", null, r.user || "(tokens without owner)"),
                                     tok(r)))),
        table("By model", ["Model", "Requests", "Prompt tokens", "Completion tokens", "Spend"],
              c.by_model.map((r) => h("tr", null, h("td", null, r.model), tok(r)))));
    } catch (e) {
      mount(out, note(`${explain(e)} ${e.message}`, "error"));
    }
  }
  mount(root, h("section", { class: "page" }, h("h1", null, "Costs"),
    h("form", { class: "card filters", onsubmit: (e) => {
      e.preventDefault();
      load();
    } }, field("Month", period), field("Workspace", ws), h("button", { type: "submit" }, "Show")),
    out));
  load();
}
