// SPDX-License-Identifier: MIT
// common.js — shared by the three visualizations: bounded reading of document fields, the
// zoomable SVG stage, the toolbar and the tooltip. Every text goes through .text() (a text
// node), never through HTML.
import { select } from "d3-selection";
import { zoom, zoomIdentity } from "d3-zoom";
import { h } from "../dom.js";

export const MAX_ITEMS = 500;
export const MAX_TEXT = 200;

export const str = (v, max = MAX_TEXT) => (v == null ? "" : String(v).slice(0, max));
export const num = (v, lo, hi, dflt) => {
  const n = Number(v);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : dflt;
};
export const list = (v) => (Array.isArray(v) ? v.slice(0, MAX_ITEMS) : []);

/** An SVG that pans and zooms (0.2x to 4x) around a <g>; returns {svg, g, reset}. */
export function stage(el, width, height, label) {
  const svg = select(el).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`)
    .attr("class", "viz-svg")
    .attr("role", "group")
    .attr("aria-label", label);
  const g = svg.append("g");
  const z = zoom().scaleExtent([0.2, 4]).on("zoom", (e) => g.attr("transform", e.transform));
  svg.call(z).on("dblclick.zoom", null);
  const reset = () => svg.call(z.transform, zoomIdentity);
  return { svg, g, reset, zoom: z };
}

/** A toolbar of buttons; toggles carry aria-pressed. */
export function toolbar(el, items) {
  const bar = h("div", { class: "viz-toolbar", role: "toolbar" });
  for (const it of items) bar.append(it);
  el.append(bar);
  return bar;
}

export const button = (label, onclick, pressed) =>
  h("button", { type: "button", class: "small", onclick,
                "aria-pressed": pressed === undefined ? null : String(!!pressed) }, label);

/** A tooltip that follows a node; shown on hover and keyboard focus. */
export function tooltip(el) {
  const tip = h("div", { class: "viz-tip", role: "tooltip", hidden: true });
  el.append(tip);
  return {
    show(lines, x, y) {
      tip.replaceChildren(...lines.filter(Boolean).map((l) => h("div", null, l)));
      tip.hidden = false;
      tip.style.left = `${x + 12}px`;
      tip.style.top = `${y + 12}px`;
    },
    hide() {
      tip.hidden = true;
    },
  };
}

/** Position of a node relative to the container (for the tooltip). */
export function posIn(el, node) {
  const a = el.getBoundingClientRect(), b = node.getBoundingClientRect();
  return [b.left - a.left + b.width / 2, b.top - a.top];
}
