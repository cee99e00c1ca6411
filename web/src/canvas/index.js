// SPDX-License-Identifier: MIT
// index.js — the Canvas chunk (loaded with import()): draws a visualization document.
import { mount } from "../dom.js";
import { dependencyGraph } from "./graph.js";
import { priorityMatrix } from "./matrix.js";
import { mindMap } from "./mindmap.js";

const KINDS = { "dependency-graph": dependencyGraph, "priority-matrix": priorityMatrix,
                "mind-map": mindMap };

export function render(el, doc) {
  mount(el);
  el.classList.add("viz", "viz-" + doc.type);
  return KINDS[doc.type](el, doc);
}
