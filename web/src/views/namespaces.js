// SPDX-License-Identifier: MIT
// namespaces.js — namespace grants: the namespaces the caller reaches, their agents and
// members (org units, teams, directory groups, users), and, with namespaces:write, grant and
// revoke. The gateway decides what one may grant (never beyond one's own reach); members of
// gateway.yaml are changed in the file, so they get no revoke button.
import { h, mount, note, field } from "../dom.js";
import { get, post, del, q, explain, allows } from "../api.js";

// the member lists' keys in an answer → the member's key in a request, and its label
const KINDS = [["org_units", "org_unit", "Org unit"], ["teams", "team", "Team"],
               ["groups", "group", "Directory group"], ["users", "user", "User"]];

const nsPath = (ns) => "/api/v1/namespaces/" + encodeURIComponent(ns) + "/members";

function card(ns, write, msg, reload) {
  const rows = [];
  for (const [list, kind, label] of KINDS) {
    const fromFile = new Set((ns.config_members && ns.config_members[list]) || []);
    for (const value of (ns.members && ns.members[list]) || []) {
      const revoke = async () => {
        if (!confirm(`Revoke ${label.toLowerCase()} ${value} from namespace ${ns.name}?`)) return;
        try {
          await del(nsPath(ns.name) + q({ [kind]: value }));
          msg.textContent = `Revoked ${ns.name} from ${label.toLowerCase()} ${value}.`;
          reload();
        } catch (e) {
          msg.textContent = `${explain(e)} ${e.message}`;
        }
      };
      rows.push(h("tr", null, h("td", null, label), h("td", null, h("code", null, String(value))),
        h("td", null, fromFile.has(value) ? "gateway.yaml" : "API"),
        h("td", null, write && !fromFile.has(value)
          ? h("button", { type: "button", class: "small danger", onclick: revoke,
                          "aria-label": `Revoke ${label} ${value}` }, "Revoke") : null)));
    }
  }
  const agents = ns.agents || [];
  return h("article", { class: "card namespace", "aria-labelledby": "ns-" + ns.name },
    h("h2", { id: "ns-" + ns.name }, ns.name),
    h("p", null, agents.length ? `Agents: ${agents.join(", ")}` : "No agents yet."),
    !ns.members ? note("The members are shown with the namespaces:read permission.")
      : rows.length ? h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
        h("caption", { class: "sr-only" }, `Members of ${ns.name}`),
        h("thead", null, h("tr", null, ["Kind", "Member", "Source", ""].map((c) =>
          h("th", { scope: "col" }, c)))),
        h("tbody", null, rows)))
        : note("No members: only enterprise administrators and tokens that name it reach it."));
}

export function namespacesView(root) {
  const write = allows("namespaces:write");
  const listEl = h("div", { class: "namespaces", "aria-live": "polite" });
  const msg = h("p", { role: "status" });
  const known = h("datalist", { id: "ns-known" });
  const ns = h("input", { type: "text", required: true, list: "ns-known",
                          pattern: "[a-z0-9][a-z0-9_-]{0,62}", placeholder: "engineering" });
  const kind = h("select", null, KINDS.map(([, k, label]) => h("option", { value: k }, label)));
  const value = h("input", { type: "text", required: true, maxlength: "320",
                             placeholder: "platform, eng-*, alice@company.com" });

  async function load() {
    try {
      const r = await get("/api/v1/namespaces");
      mount(known, r.namespaces.map((n) => h("option", { value: n.name })));
      mount(listEl, r.namespaces.length ? r.namespaces.map((n) => card(n, write, msg, load))
                                        : note("You reach no namespace."));
    } catch (e) {
      mount(listEl, note(`${explain(e)} ${e.message}`, "error"));
    }
  }

  async function grant(e) {
    e.preventDefault();
    const name = ns.value.trim(), v = value.value.trim();
    const label = kind.selectedOptions[0].textContent.toLowerCase();
    try {
      await post(nsPath(name), { [kind.value]: v });
      msg.textContent = `Granted ${name} to ${label} ${v}.`;
      value.value = "";
      load();
    } catch (err) {
      msg.textContent = `${explain(err)} ${err.message}`;
    }
  }

  mount(root, h("section", { class: "page" }, h("h1", null, "Namespaces"),
    h("p", null, "Who reaches each team namespace (its agents, channels and memory): its " +
                 "members. Members written in gateway.yaml are changed in the file."),
    write ? h("form", { class: "card filters", onsubmit: grant, "aria-labelledby": "ns-grant" },
      h("h2", { id: "ns-grant", class: "full" }, "Grant a namespace"),
      field("Namespace", ns, "granting a new name creates the namespace"), known,
      field("Kind", kind), field("Member", value),
      h("button", { type: "submit", class: "primary" }, "Grant")) : null,
    msg, listEl));
  mount(listEl, note("Loading…"));
  load();
}
