// SPDX-License-Identifier: MIT
// canvas.js — the Canvas page: open a visualization document (pasted or from a file) and
// interact with it. Documents also arrive inline in chat answers; the work-intelligence
// features will produce them later.
import { h, mount, field } from "../dom.js";
import { parseViz, renderViz, VIZ_TYPES } from "./viz.js";

export function canvasView(root) {
  const stage = h("div", { class: "viz-stage large" });
  const msg = h("p", { class: "error", role: "alert", hidden: true });
  const text = h("textarea", { rows: "6", spellcheck: "false", id: "viz-source",
                               placeholder: '{"openclaw_viz": 1, "type": "mind-map", ...}' });
  const file = h("input", { type: "file", accept: "application/json,.json" });
  const show = async (src) => {
    msg.hidden = true;
    try {
      const doc = parseViz(src);
      await renderViz(stage, doc);
    } catch (e) {
      msg.textContent = "This document cannot be shown: " + e.message;
      msg.hidden = false;
      mount(stage);
    }
  };
  file.addEventListener("change", async () => {
    if (file.files[0]) {
      text.value = await file.files[0].text();
      show(text.value);
    }
  });
  mount(root, h("section", { class: "page" },
    h("h1", null, "Canvas"),
    h("p", null, "Visualizations: ", Object.values(VIZ_TYPES).join(", "),
      ". Agents return them in answers; you can also open a document here."),
    h("form", { class: "card", onsubmit: (e) => {
      e.preventDefault();
      show(text.value);
    } }, field("Visualization document (JSON)", text), field("Or a file", file), msg,
    h("button", { type: "submit", class: "primary" }, "Show")),
    stage));
}
