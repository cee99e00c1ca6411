// SPDX-License-Identifier: MIT
// models.js — providers and models: gateway.yaml's and those added at run time, side by side
// with their source and state; with models:admin, add, edit, disable, remove and test them;
// each agent's model (agents registered through the API, with agents:write). An API key is
// write-only: the gateway shows whether one is set and its last four, never the key.
import { h, mount, note, field, fmtUsd } from "../dom.js";
import { get, post, patch, put, del, explain, allows } from "../api.js";

const APIS = ["openai", "anthropic", "ollama"];
const KINDS = ["external", "self_hosted"];
const CEILINGS = ["", "public", "internal", "confidential", "restricted"];
const API = "/api/v1/";

const enc = (id) => id.split("/").map(encodeURIComponent).join("/");
const options = (values, labels = {}) =>
  values.map((v) => h("option", { value: v }, labels[v] || v || "no ceiling"));
const source = (x) => (x === "config" ? "gateway.yaml" : "API");
const badge = (state) => h("span", { class: "badge " + (state === "active" ? "ok" : "warn") },
                           String(state));
const price = (v) => (typeof v === "number" ? fmtUsd(v) + "/M" : "—");

/** One model test's outcome as text: the answer or the error and the gateway's hint. */
const testLine = (r) => h("li", { class: r.ok ? "" : "error" },
  h("strong", null, `${r.ok ? "OK" : "Failed"} ${r.model}`),
  ` (${r.latency_ms} ms${r.status ? ", HTTP " + r.status : ""}): `,
  r.ok ? h("q", null, String(r.answer ?? "")) : String(r.error || r.code || ""),
  r.hint ? h("small", { class: "hint" }, " " + String(r.hint)) : null);

export function modelsView(root) {
  const admin = allows("models:admin");
  const msg = h("p", { role: "status" });
  const results = h("div", { class: "test-results", "aria-live": "polite" });
  const provRows = h("tbody"), modelRows = h("tbody"), agentRows = h("tbody");
  const fail = (e) => (msg.textContent = `${explain(e)} ${e.message}`);
  let providers = [], models = [];

  // --- the provider form: add, or edit one added at run time --------------------------------
  let editing = null; // the provider's name when editing
  const pName = h("input", { type: "text", required: true, placeholder: "vllm" });
  const pApi = h("select", null, options(APIS));
  const pUrl = h("input", { type: "url", required: true, placeholder: "http://10.0.0.5:8000/v1" });
  const pKey = h("input", { type: "password", autocomplete: "new-password" });
  const pNoKey = h("input", { type: "checkbox", id: "prov-nokey" });
  const pKind = h("select", null, options(KINDS));
  const pCeiling = h("select", null, options(CEILINGS));
  const pRegion = h("input", { type: "text", placeholder: "eu-west-1" });
  const pModel = h("input", { type: "text", placeholder: "qwen" });
  const pTitle = h("h2", { id: "prov-form" }, "Add a provider");
  const pSubmit = h("button", { type: "submit", class: "primary" }, "Add provider");
  const pCancel = h("button", { type: "button", hidden: true, onclick: () => editProvider(null) },
                    "Cancel");
  const noKey = h("label", { for: pNoKey.id }, pNoKey, " Remove the key");
  const firstModel = field("First model (optional)", pModel, "more with Add a model below");

  function editProvider(p) {
    editing = p ? p.name : null;
    pTitle.textContent = p ? `Edit provider ${p.name}` : "Add a provider";
    pSubmit.textContent = p ? "Save provider" : "Add provider";
    pName.value = p ? p.name : "";
    pName.readOnly = !!p;
    pApi.value = p ? p.api : "openai";
    pUrl.value = p ? p.base_url : "";
    pKey.value = "";
    pKey.placeholder = p && p.api_key && p.api_key.set
      ? `set${p.api_key.last4 ? " (…" + p.api_key.last4 + ")" : ""}; empty keeps it` : "";
    pNoKey.checked = false;
    pKind.value = p ? p.kind : "external";
    pCeiling.value = (p && p.max_classification) || "";
    pRegion.value = (p && p.region) || "";
    pCancel.hidden = noKey.hidden = !p;
    firstModel.hidden = !!p;
    if (p) pUrl.focus();
  }

  async function saveProvider(e) {
    e.preventDefault();
    const body = { api: pApi.value, base_url: pUrl.value.trim(), kind: pKind.value,
                   max_classification: pCeiling.value || null,
                   region: pRegion.value.trim() || null };
    if (pNoKey.checked) body.api_key = null;
    else if (pKey.value) body.api_key = pKey.value;
    try {
      if (editing) {
        await patch(API + "providers/" + encodeURIComponent(editing), body);
        msg.textContent = `Provider ${editing} saved.`;
      } else {
        body.name = pName.value.trim();
        if (pModel.value.trim()) body.models = [{ name: pModel.value.trim() }];
        await post(API + "providers", body);
        msg.textContent = `Provider ${body.name} added.`;
      }
      editProvider(null);
      load();
    } catch (err) {
      fail(err);
    } finally {
      pKey.value = ""; // a key is never kept in the page longer than the request
    }
  }

  // --- the model form: add one, or edit an API model's upstream and prices ----------------
  let editingModel = null;
  const mProv = h("select", { required: true });
  const mName = h("input", { type: "text", required: true, placeholder: "coder" });
  const mUp = h("input", { type: "text", placeholder: "the model name" });
  const mIn = h("input", { type: "number", min: "0", step: "any", placeholder: "0" });
  const mOut = h("input", { type: "number", min: "0", step: "any", placeholder: "0" });
  const mTitle = h("h2", { id: "model-form" }, "Add a model");
  const mSubmit = h("button", { type: "submit", class: "primary" }, "Add model");
  const mCancel = h("button", { type: "button", hidden: true, onclick: () => editModel(null) },
                    "Cancel");

  function editModel(m) {
    editingModel = m ? m.id : null;
    mTitle.textContent = m ? `Edit model ${m.id}` : "Add a model";
    mSubmit.textContent = m ? "Save model" : "Add model";
    mProv.disabled = mName.readOnly = !!m;
    if (m) mProv.value = m.provider;
    mName.value = m ? m.name : "";
    mUp.value = m && m.upstream !== m.name ? m.upstream : "";
    mIn.value = m && m.input_per_mtok != null ? m.input_per_mtok : "";
    mOut.value = m && m.output_per_mtok != null ? m.output_per_mtok : "";
    mCancel.hidden = !m;
    if (m) mUp.focus();
  }

  async function saveModel(e) {
    e.preventDefault();
    const body = { upstream: mUp.value.trim() || mName.value.trim(),
                   input_per_mtok: mIn.value === "" ? 0 : Number(mIn.value),
                   output_per_mtok: mOut.value === "" ? 0 : Number(mOut.value) };
    try {
      if (editingModel) {
        await patch(API + "models/" + enc(editingModel), body);
        msg.textContent = `Model ${editingModel} saved.`;
      } else {
        const id = `${mProv.value}/${mName.value.trim()}`;
        await post(API + "models", { id, ...body });
        msg.textContent = `Model ${id} added.`;
      }
      editModel(null);
      load();
    } catch (err) {
      fail(err);
    }
  }

  // --- actions on a row -----------------------------------------------------------------
  const act = (label, fn, cls = "small") =>
    h("button", { type: "button", class: cls, onclick: async () => {
      try {
        await fn();
      } catch (e) {
        fail(e);
      }
    } }, label);

  async function test(path, what) {
    msg.textContent = `Testing ${what}…`;
    mount(results);
    const r = await post(API + path + "/test");
    msg.textContent = `Test of ${what}: ${r.ok ? "every model answered" : "failed"}.`;
    mount(results, h("h2", null, `Test of ${what}`), h("ul", null, r.results.map(testLine)));
  }

  async function setEnabled(path, what, enabled) {
    await patch(API + path, { enabled });
    msg.textContent = `${enabled ? "Enabled" : "Disabled"} ${what}.`;
    load();
  }

  async function remove(path, what) {
    if (!confirm(`Remove ${what}? Calls to it stop at once.`)) return;
    await del(API + path);
    msg.textContent = `Removed ${what}.`;
    load();
  }

  /** Test (models:admin); edit, disable or enable, remove what was added at run time. */
  const actions = (x, path, what, edit) => h("td", null,
    admin ? act("Test", () => test(path, what)) : null,
    admin && x.source === "api" ? [act("Edit", async () => edit(x)),
      act(x.enabled ? "Disable" : "Enable", () => setEnabled(path, what, !x.enabled)),
      act("Remove", () => remove(path, what), "small danger")] : null);

  function providerRow(p) {
    const path = "providers/" + encodeURIComponent(p.name), what = `provider ${p.name}`;
    const key = p.api_key && p.api_key.set
      ? "set" + (p.api_key.last4 ? ` (…${p.api_key.last4})` : "") : "none";
    return h("tr", { "data-provider": p.name }, h("th", { scope: "row" }, p.name),
      h("td", null, source(p.source)),
      h("td", null, badge(p.state), p.problem ? h("small", null, " " + String(p.problem)) : null),
      h("td", null, `${p.api} · ${p.kind || "external"}`),
      h("td", null, h("code", null, String(p.base_url))), h("td", null, key),
      h("td", null, (p.models || []).join(", ") || "—"),
      actions(p, path, what, editProvider));
  }

  function modelRow(m) {
    const path = "models/" + enc(m.id), what = `model ${m.id}`;
    return h("tr", { "data-model": m.id }, h("th", { scope: "row" }, m.id),
      h("td", null, m.upstream && m.upstream !== m.name ? h("code", null, m.upstream) : "—"),
      h("td", null, `${price(m.input_per_mtok)} in, ${price(m.output_per_mtok)} out`),
      h("td", null, source(m.source)), h("td", null, badge(m.state)),
      h("td", null, (m.agents || []).join(", ") || "—"),
      actions(m, path, what, editModel));
  }

  function agentRow(a) {
    const may = allows("agents:write") && a.source === "api";
    const pick = h("select", { "aria-label": `Model of ${a.agent}`, disabled: !may },
      h("option", { value: "" }, "none (a mailbox)"),
      models.filter((m) => m.state === "active" || m.id === a.model)
        .map((m) => h("option", { value: m.id, selected: m.id === a.model }, m.id)));
    const [ns, name] = a.agent.split("/");
    return h("tr", { "data-agent": a.agent }, h("th", { scope: "row" }, a.agent),
      h("td", null, pick), h("td", null, source(a.source)), h("td", null, String(a.state)),
      h("td", null, may ? act("Set model", async () => {
        const r = await put(`${API}agents/${encodeURIComponent(ns)}/${encodeURIComponent(name)}` +
                            "/model", { model: pick.value || null });
        msg.textContent = `${r.agent} now ${r.model ? "answers with " + r.model
                                                    : "keeps messages in its mailbox"}.`;
        load();
      }) : null));
  }

  async function load() {
    try {
      const [p, m] = await Promise.all([get(API + "providers"), get(API + "models")]);
      providers = p.providers;
      models = m.models;
      const keep = mProv.value;
      mount(mProv, providers.map((x) => h("option", { value: x.name }, x.name)));
      if (keep) mProv.value = keep;
      mount(provRows, providers.length ? providers.map(providerRow)
        : h("tr", null, h("td", { colspan: "8" }, "No providers: calls have nowhere to go.")));
      mount(modelRows, models.length ? models.map(modelRow)
        : h("tr", null, h("td", { colspan: "7" }, "No models.")));
      mount(agentRows, m.agents.length ? m.agents.map(agentRow)
        : h("tr", null, h("td", { colspan: "5" }, "No agents you may use.")));
    } catch (e) {
      mount(provRows, h("tr", null, h("td", { colspan: "8" }, `${explain(e)} ${e.message}`)));
    }
  }

  const table = (caption, head, rows) => h("div", { class: "table-wrap", tabindex: "0" },
    h("table", null, h("caption", null, caption),
      h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, c)))), rows));

  mount(root, h("section", { class: "page" }, h("h1", null, "Providers and models"),
    h("p", null, "What model calls may use: the providers of gateway.yaml (changed in the " +
                 "file) and those added here. A change applies to the next call."),
    msg, results,
    table("Providers", ["Name", "Source", "State", "Wire format", "Base URL", "API key",
                        "Models", ""], provRows),
    table("Models", ["Model", "Upstream name", "Price (USD per million tokens)", "Source",
                     "State", "Agents", ""], modelRows),
    table("Agents' models", ["Agent", "Model", "Source", "State", ""], agentRows),
    admin ? h("div", { class: "split" },
      h("form", { class: "card", onsubmit: saveProvider, "aria-labelledby": "prov-form" },
        pTitle, field("Provider name", pName), field("Wire format", pApi),
        field("Base URL", pUrl, "OpenAI-compatible servers usually end in /v1"),
        field("API key", pKey, "write-only: the gateway never shows it again"),
        noKey,
        field("Kind", pKind), field("Most sensitive data it may receive", pCeiling),
        field("Region (optional)", pRegion), firstModel,
        h("div", { class: "actions" }, pSubmit, pCancel)),
      h("form", { class: "card", onsubmit: saveModel, "aria-labelledby": "model-form" },
        mTitle, field("Provider", mProv), field("Model name", mName),
        field("Upstream name (optional)", mUp, "what the provider calls it"),
        field("Input price", mIn, "USD per million tokens"),
        field("Output price", mOut, "USD per million tokens"),
        h("div", { class: "actions" }, mSubmit, mCancel))) : null));
  editProvider(null);
  mount(provRows, h("tr", null, h("td", { colspan: "8" }, note("Loading…"))));
  load();
}
