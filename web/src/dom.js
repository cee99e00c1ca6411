// SPDX-License-Identifier: MIT
// dom.js — the only way this UI makes DOM: elements and text nodes, never HTML strings.
// Attribute values are set with setAttribute and text with text nodes, so text coming from a
// model, a connector or a user can never become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" || k === "disabled" || k === "selected") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** h("p", {class: "x", onclick: fn}, "text", child) */
export const h = (tag, props, ...children) => fill(document.createElement(tag), props, children);
/** The same for SVG elements. */
export const s = (tag, props, ...children) =>
  fill(document.createElementNS(SVG_NS, tag), props, children);

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces the children of el. */
export const mount = (el, ...children) => append(clear(el), children);

/** Pretty JSON as text (for arguments, policies, results). */
export const jsonText = (v) => JSON.stringify(v, null, 2);

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function fmtUsd(v) {
  if (typeof v !== "number") return "—";
  return v < 0.01 && v > 0 ? "$" + v.toPrecision(2) : "$" + v.toFixed(2);
}

/** A status line for loading, empty and error states (role=status is announced). */
export const note = (text, kind = "") => h("p", { class: "note " + kind, role: "status" }, text);

let uid = 0;
export const newId = (p = "id") => `${p}-${++uid}`;

/** A labelled form field. */
export function field(label, control, hint) {
  const id = control.id || (control.id = newId("f"));
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
           hint ? h("small", { class: "hint" }, hint) : null);
}
