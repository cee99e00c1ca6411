// SPDX-License-Identifier: MIT
// policies.js — policies per scope and domain: read, history, diff between versions, edit and
// create (the gateway's validation errors shown field by field, 422 when a change would loosen
// a parent), and "explain a decision" (POST /api/v1/policies/evaluate, a dry run).
import { h, mount, note, field, jsonText, fmtTime } from "../dom.js";
import { get, post, put, q, explain, allows, ApiError } from "../api.js";

const DOMAINS = ["models", "actions", "integrations", "agent-to-agent", "features", "data",
                 "audit"];
const SCOPES = ["enterprise", "org", "team", "user"];
const ACTIONS = ["tool_call", "connector_read", "connector_write", "model_call", "agent_message",
                 "feature_use", "data_export"];
const options = (vals, any) => [any ? h("option", { value: "" }, any) : null,
                                ...vals.map((v) => h("option", { value: v }, v))];

/** The gateway's refusal, with the violations list of a 400/422. */
function refusal(e) {
  const v = e instanceof ApiError && e.body && e.body.error && e.body.error.violations;
  return h("div", { class: "msg-error", role: "alert" },
    h("strong", null, explain(e)), " ", h("span", { class: "reason" }, e.message),
    e.status ? h("small", null, ` (HTTP ${e.status})`) : null,
    v && v.length ? h("ul", { class: "violations" }, v.map((x) =>
      h("li", null, h("code", null, String(x.field)), ": ", String(x.message)))) : null);
}

function editor(p, done) {
  const content = h("textarea", { rows: "12", spellcheck: "false", id: "policy-content" });
  content.value = jsonText(p ? p.content : {});
  const reason = h("input", { type: "text", required: true, id: "policy-reason" });
  const scope = h("select", null, options(SCOPES));
  const scopeId = h("input", { type: "text" });
  const domain = h("select", null, options(DOMAINS));
  const out = h("div", { "aria-live": "polite" });
  return h("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    let c;
    try {
      c = JSON.parse(content.value);
    } catch (err) {
      mount(out, h("p", { class: "error", role: "alert" }, "Not valid JSON: " + err.message));
      return;
    }
    try {
      const r = p
        ? await put("/api/v1/policies/" + encodeURIComponent(p.id),
                    { content: c, change_reason: reason.value, expected_version: p.version })
        : await post("/api/v1/policies", {
          scope: scope.value, scope_id: scopeId.value || undefined, domain: domain.value,
          content: c, change_reason: reason.value });
      mount(out, h("p", { class: "ok", role: "status" }, `Saved as version ${r.version}.`));
      done(r);
    } catch (err) {
      mount(out, refusal(err));
    }
  } },
  h("h2", null, p ? `Edit ${p.domain} policy (version ${p.version})` : "New policy"),
  p ? null : [field("Scope", scope), field("Scope id", scopeId, "org unit path, team or user"),
              field("Domain", domain)],
  field("Content (JSON)", content), field("Why (change reason)", reason),
  h("button", { type: "submit", class: "primary" }, "Save"), out);
}

async function detail(box, id, reload) {
  mount(box, note("Loading…"));
  try {
    const [p, hist] = await Promise.all([get("/api/v1/policies/" + encodeURIComponent(id)),
      get(`/api/v1/policies/${encodeURIComponent(id)}/history`)]);
    const from = h("select", { "aria-label": "From version" }, hist.versions.map((v) =>
      h("option", { value: v.version }, "v" + v.version)));
    const to = h("select", { "aria-label": "To version" }, hist.versions.map((v) =>
      h("option", { value: v.version, selected: v.version === p.version }, "v" + v.version)));
    const diffOut = h("div", { "aria-live": "polite" });
    const showDiff = async () => {
      try {
        const d = await get(`/api/v1/policies/${encodeURIComponent(id)}/diff` +
                            q({ from: from.value, to: to.value }));
        mount(diffOut, d.changes.length ? h("table", { class: "diff" },
          h("thead", null, h("tr", null, ["Field", "From", "To"].map((c) =>
            h("th", { scope: "col" }, c)))),
          h("tbody", null, d.changes.map((c) => h("tr", null,
            h("td", null, h("code", null, c.field)), h("td", { class: "from" }, jsonText(c.from)),
            h("td", { class: "to" }, jsonText(c.to))))))
          : note("No differences."));
      } catch (e) {
        mount(diffOut, refusal(e));
      }
    };
    mount(box,
      h("h2", null, `${p.domain} · ${p.scope}${p.scope_id ? " " + p.scope_id : ""}`),
      h("p", null, `Version ${p.version} by ${p.author}, ${fmtTime(p.created_at)}: ` +
                   `“${p.change_reason || ""}” (${p.status})`),
      h("pre", { class: "code" }, jsonText(p.content)),
      h("h3", null, "History"),
      h("ol", null, hist.versions.map((v) => h("li", null,
        `v${v.version} ${fmtTime(v.created_at)} ${v.author}: ${v.change_reason || ""}`))),
      h("div", { class: "diff-form" }, from, " → ", to,
        h("button", { type: "button", onclick: showDiff }, "Compare")), diffOut,
      allows("policies:write") ? editor(p, () => reload(id)) : null);
  } catch (e) {
    mount(box, refusal(e));
  }
}

function explainForm() {
  const action = h("select", null, options(ACTIONS));
  const resource = h("input", { type: "text", placeholder: "memory_write" });
  const cls = h("select", null, options(["public", "internal", "confidential", "restricted"],
                                        "(default)"));
  const out = h("div", { "aria-live": "polite" });
  return h("form", { class: "card", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const d = await post("/api/v1/policies/evaluate", { action: action.value,
        resource: resource.value, classification: cls.value || undefined });
      mount(out, h("p", { class: "decision " + d.decision, role: "status" },
        h("strong", null, d.decision), ": ", String(d.reason)),
        h("p", null, d.policy ? `Decided by ${d.policy.scope} ${d.policy.scope_id || ""} ` +
                                `(${d.policy.id} v${d.policy.version})` : "No policy decided."),
        h("table", null, h("thead", null, h("tr", null, ["Scope", "Policy", "Deciding",
          "Contributes"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, (d.trace || []).map((t) => h("tr", null,
            h("td", null, `${t.scope} ${t.scope_id || ""}`),
            h("td", null, t.policy_id ? `${t.policy_id} v${t.version}` : "—"),
            h("td", null, t.deciding ? "yes" : ""), h("td", null, jsonText(t.contributes)))))));
    } catch (err) {
      mount(out, refusal(err));
    }
  } }, h("h2", null, "Explain a decision"), field("Action", action),
  field("Resource", resource), field("Classification", cls),
  h("button", { type: "submit" }, "Explain"), out);
}

export function policiesView(root) {
  const scope = h("select", null, options(SCOPES, "any scope"));
  const domain = h("select", null, options(DOMAINS, "any domain"));
  const listEl = h("ul", { class: "policy-list" });
  const box = h("div", { class: "policy-detail" });
  async function load(select) {
    try {
      const r = await get("/api/v1/policies" + q({ scope: scope.value, domain: domain.value }));
      mount(listEl, r.policies.length ? r.policies.map((p) => h("li", null,
        h("button", { type: "button", class: "link", onclick: () => detail(box, p.id, load) },
          `${p.domain} · ${p.scope}${p.scope_id ? " " + p.scope_id : ""} (v${p.version}` +
          `${p.status !== "active" ? ", " + p.status : ""})`)))
        : h("li", null, note("No policies. Without one, everything in a domain is denied.")));
      if (select) detail(box, select, load);
    } catch (e) {
      mount(listEl, h("li", null, refusal(e)));
    }
  }
  for (const s of [scope, domain]) s.addEventListener("change", () => load());
  mount(root, h("section", { class: "page" }, h("h1", null, "Policies"),
    h("div", { class: "filters" }, field("Scope", scope), field("Domain", domain)),
    h("div", { class: "split" }, h("div", null, listEl,
      allows("policies:write") ? h("details", null, h("summary", null, "New policy"),
                                   editor(null, (r) => load(r.id))) : null),
      box),
    explainForm()));
  load();
}
