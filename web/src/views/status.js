// SPDX-License-Identifier: MIT
// status.js — /api/v1/status as a page: components, audit writer, plugins, model queues.
import { h, mount, note } from "../dom.js";
import { get, explain } from "../api.js";

const dl = (obj) => h("dl", { class: "facts" }, Object.entries(obj || {}).map(([k, v]) =>
  [h("dt", null, k), h("dd", null, typeof v === "object" ? JSON.stringify(v) : String(v))]));

export function statusView(root) {
  mount(root, h("section", { class: "page" }, h("h1", null, "System status"), note("Loading…")));
  get("/api/v1/status").then((st) => {
    mount(root, h("section", { class: "page" }, h("h1", null, "System status"),
      h("p", null, `Version ${st.version}, tenant ${st.tenant}, up ${st.uptime_seconds} s.`),
      h("h2", null, "Components"), dl(st.components),
      h("h2", null, "Audit writer"), dl(st.audit),
      h("h2", null, "Single sign-on"), dl({
        enabled: !!(st.sso && st.sso.enabled),
        protocols: ((st.sso && st.sso.protocols) || []).join(", ") || "none" }),
      st.model_queues ? [h("h2", null, "Model provider queues"),
        Object.keys(st.model_queues).length ? dl(st.model_queues) : note("No calls yet.")] : null,
      h("h2", null, "Plugins"),
      h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
        h("thead", null, h("tr", null, ["Plugin", "State", "Detail"].map((c) =>
          h("th", { scope: "col" }, c)))),
        h("tbody", null, (st.plugins || []).map((p) => h("tr", null, h("td", null, p.name),
          h("td", null, h("span", { class: "badge " + p.state }, p.state)),
          h("td", null, p.detail))))))));
  }, (e) => mount(root, note(`${explain(e)} ${e.message}`, "error")));
}
