// SPDX-License-Identifier: MIT
// sessions.js — browser and CLI sessions (own; administrators: anyone's) and revocation.
import { h, mount, note, field, fmtTime } from "../dom.js";
import { get, del, q, explain, allows } from "../api.js";

export function sessionsView(root) {
  const user = h("input", { type: "text", placeholder: "alice@company.com" });
  const rows = h("tbody");
  const msg = h("p", { role: "status" });
  async function load() {
    try {
      const r = await get("/api/v1/auth/sessions" + q({ user: user.value.trim() }));
      mount(rows, r.sessions.length ? r.sessions.map((x) => h("tr", null,
        h("td", null, x.user), h("td", null, x.kind), h("td", null, x.role || "—"),
        h("td", null, x.client_ip || "—"), h("td", null, fmtTime(x.created_at)),
        h("td", null, fmtTime(x.last_seen_at)), h("td", null, fmtTime(x.expires_at)),
        h("td", null, x.current ? h("span", { class: "badge" }, "this browser")
          : h("button", { type: "button", class: "small danger", onclick: async () => {
            try {
              await del("/api/v1/auth/sessions/" + encodeURIComponent(x.id));
              msg.textContent = `Session of ${x.user} revoked.`;
              load();
            } catch (e) {
              msg.textContent = `${explain(e)} ${e.message}`;
            }
          } }, "Revoke"))))
        : h("tr", null, h("td", { colspan: "8" }, "No sessions (signed in with a token?).")));
    } catch (e) {
      mount(rows, h("tr", null, h("td", { colspan: "8" }, `${explain(e)} ${e.message}`)));
    }
  }
  mount(root, h("section", { class: "page" }, h("h1", null, "Sessions"),
    allows("*") ? h("form", { class: "card filters", onsubmit: (e) => {
      e.preventDefault();
      load();
    } }, field("User", user), h("button", { type: "submit" }, "Show")) : null,
    msg,
    h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
      h("thead", null, h("tr", null, ["User", "Kind", "Role", "Address", "Created", "Last seen",
                                      "Expires", ""].map((c) => h("th", { scope: "col" }, c)))),
      rows))));
  mount(rows, h("tr", null, h("td", { colspan: "8" }, note("Loading…"))));
  load();
}
