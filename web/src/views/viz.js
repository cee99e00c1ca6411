// SPDX-License-Identifier: MIT
// viz.js — visualization documents (docs/API.md "Visualizations") in the first screen's code:
// parsing and limits only. Drawing is in the Canvas chunk (../canvas/), loaded with import()
// the first time a visualization is shown, so D3 never weighs on the first screen.
import { h, mount, note } from "../dom.js";

export const VIZ_MAX_BYTES = 512 * 1024;
export const VIZ_TYPES = { "dependency-graph": "Dependency graph", "priority-matrix":
                           "Eisenhower matrix", "mind-map": "Mind map" };

let canvas = null;
export const loadCanvas = () => (canvas ||= import("../canvas/index.js"));

/** Parses a document; throws an Error with a reason a person can act on. */
export function parseViz(text) {
  if (text.length > VIZ_MAX_BYTES) throw new Error(`larger than ${VIZ_MAX_BYTES} bytes`);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error("not valid JSON: " + e.message);
  }
  if (!doc || typeof doc !== "object" || doc.openclaw_viz !== 1)
    throw new Error('not a visualization document ("openclaw_viz": 1 missing)');
  if (!VIZ_TYPES[doc.type]) throw new Error(`unknown type ${JSON.stringify(doc.type)}`);
  if (!doc.data || typeof doc.data !== "object") throw new Error('"data" missing');
  return doc;
}

/** Renders a document into el (loading the Canvas chunk); returns the view's handle. */
export async function renderViz(el, doc) {
  mount(el, note("Loading the visualization…"));
  const mod = await loadCanvas();
  return mod.render(el, doc);
}

/** The element for a ```openclaw-viz block of an answer (complete: rendered, else waiting). */
export function vizBlock(text, complete) {
  const fig = h("figure", { class: "viz-inline" });
  if (!complete) return mount(fig, note("Visualization arriving…"));
  let doc;
  try {
    doc = parseViz(text);
  } catch (e) {
    return mount(fig, note("This visualization cannot be shown: " + e.message, "error"));
  }
  const stage = h("div", { class: "viz-stage" });
  mount(fig, h("figcaption", null, VIZ_TYPES[doc.type], doc.title ? ": " : "",
               doc.title ? String(doc.title) : ""), stage);
  renderViz(stage, doc).catch((e) => mount(stage, note("Drawing failed: " + e.message, "error")));
  return fig;
}
