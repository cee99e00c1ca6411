// SPDX-License-Identifier: MIT
// tokens.js — gateway tokens: list, create with a scope picker, rotate and revoke. A new or
// rotated secret is shown once, in a dialog, and never again.
import { h, mount, note, field, fmtTime } from "../dom.js";
import { get, post, del, explain, allows } from "../api.js";

const COMMON_SCOPES = ["models:invoke", "memory:read", "memory:write", "agents:read",
                       "agents:write", "audit:read", "audit:export", "tokens:read",
                       "tokens:write", "stats:read"];

function secretDialog(title, body) {
  const dlg = h("dialog", { class: "secret", "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, title),
    h("p", null, "Copy it now: the gateway keeps only its hash and will not show it again."),
    h("output", { class: "secret-value", tabindex: "0" }, body.token),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => navigator.clipboard &&
                    navigator.clipboard.writeText(body.token) }, "Copy"),
      h("button", { type: "button", class: "primary", onclick: () => {
        dlg.close();
        dlg.remove();
      } }, "Done")));
  document.body.append(dlg);
  dlg.showModal();
}

export function tokensView(root) {
  const rows = h("tbody");
  const msg = h("p", { role: "status" });
  const id = h("input", { type: "text", pattern: "[a-z0-9_-]{1,63}", placeholder: "ci-bot" });
  const owner = h("input", { type: "text", placeholder: "alice@company.com" });
  const expires = h("input", { type: "number", min: "1", placeholder: "86400" });
  const custom = h("input", { type: "text", placeholder: "channels:engineering/*" });
  const boxes = COMMON_SCOPES.map((s) => h("input", { type: "checkbox", value: s, id: "sc-" + s }));
  const fail = (e) => (msg.textContent = `${explain(e)} ${e.message}`);

  async function load() {
    try {
      const r = await get("/api/v1/tokens");
      mount(rows, r.tokens.map((t) => h("tr", null,
        h("td", null, h("code", null, t.id)), h("td", null, t.owner || "—"),
        h("td", null, (t.scopes || []).join(" ")), h("td", null, t.source),
        h("td", null, fmtTime(t.expires_at)), h("td", null, fmtTime(t.last_used_at)),
        h("td", null, t.revoked_at ? "revoked " + fmtTime(t.revoked_at) : "active"),
        h("td", null, t.source === "api" && !t.revoked_at && allows("tokens:write") ? [
          h("button", { type: "button", class: "small", onclick: async () => {
            try {
              secretDialog(`Token ${t.id} rotated`,
                           await post(`/api/v1/tokens/${encodeURIComponent(t.id)}/rotate`));
              load();
            } catch (e) {
              fail(e);
            }
          } }, "Rotate"),
          h("button", { type: "button", class: "small danger", onclick: async () => {
            if (!confirm(`Revoke token ${t.id}? It stops working at once.`)) return;
            try {
              await del(`/api/v1/tokens/${encodeURIComponent(t.id)}`);
              msg.textContent = `Token ${t.id} revoked.`;
              load();
            } catch (e) {
              fail(e);
            }
          } }, "Revoke")] : null))));
      if (!r.tokens.length) mount(rows, h("tr", null, h("td", { colspan: "8" }, "No tokens.")));
    } catch (e) {
      mount(rows, h("tr", null, h("td", { colspan: "8" }, `${explain(e)} ${e.message}`)));
    }
  }

  async function create(e) {
    e.preventDefault();
    const scopes = boxes.filter((b) => b.checked).map((b) => b.value)
      .concat(custom.value.split(/[\s,]+/).filter(Boolean));
    if (!scopes.length) {
      msg.textContent = "Pick at least one scope.";
      return;
    }
    const body = { scopes };
    if (id.value.trim()) body.id = id.value.trim();
    if (owner.value.trim()) body.owner = owner.value.trim();
    if (expires.value) body.expires_in = Number(expires.value);
    try {
      const t = await post("/api/v1/tokens", body);
      msg.textContent = `Token ${t.id} created.`;
      secretDialog(`Token ${t.id} created`, t);
      load();
    } catch (err) {
      fail(err);
    }
  }

  mount(root, h("section", { class: "page" },
    h("h1", null, "Tokens"),
    allows("tokens:write") ? h("form", { class: "card", onsubmit: create },
      h("h2", null, "Create a token"),
      field("Id (optional)", id, "1–63 of a-z 0-9 _ -"),
      h("fieldset", null, h("legend", null, "Scopes (only those you hold yourself)"),
        h("div", { class: "checks" }, boxes.map((b) => h("label", { for: b.id }, b, " ",
                                                         b.value)))),
      field("More scopes", custom, "space-separated, e.g. channels:engineering/*"),
      field("Owner (optional)", owner, "the token never exceeds its owner's role"),
      field("Expires in seconds (optional)", expires),
      h("button", { type: "submit", class: "primary" }, "Create")) : null,
    msg,
    h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
      h("thead", null, h("tr", null, ["Id", "Owner", "Scopes", "Source", "Expires", "Last used",
                                      "State", ""].map((c) => h("th", { scope: "col" }, c)))),
      rows))));
  mount(rows, h("tr", null, h("td", { colspan: "8" }, note("Loading…"))));
  load();
}
