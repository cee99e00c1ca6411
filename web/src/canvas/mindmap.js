// SPDX-License-Identifier: MIT
// mindmap.js — mind map: root → themes → items as a tree or a radial tree (toggle), zoom and
// pan, click (or Enter on) a node to collapse or expand it, and search, which marks the nodes
// whose name matches and opens their ancestors.
import { hierarchy, tree } from "d3-hierarchy";
import { linkHorizontal, linkRadial } from "d3-shape";
import { h } from "../dom.js";
import { str, num, stage, toolbar, button, tooltip, posIn, MAX_ITEMS } from "./common.js";

const MAX_DEPTH = 8;

/** The document's tree, bounded in size and depth, text fields as strings. */
function readTree(n, depth, budget) {
  const node = { name: str(n && (n.name ?? n.title ?? n.id)), type: str(n && n.type, 20),
                 value: num(n && n.value, 0, 1e9, 0),
                 sources: Array.isArray(n && n.sources)
                   ? n.sources.slice(0, 10).map((x) => str(x, 40)) : [] };
  budget.left--;
  const kids = Array.isArray(n && n.children) ? n.children : [];
  if (depth < MAX_DEPTH && kids.length)
    node.children = kids.filter(() => budget.left > 0).map((c) => readTree(c, depth + 1, budget));
  return node;
}

export function mindMap(el, doc) {
  const W = 900, H = 560;
  const root = hierarchy(readTree(doc.data.root || doc.data, 0, { left: MAX_ITEMS }));
  root.each((d, i) => (d.uid = i));
  let radial = false;
  const treeBtn = button("Tree", () => setLayout(false), true);
  const radialBtn = button("Radial", () => setLayout(true), false);
  const search = h("input", { type: "search", class: "small", placeholder: "Search",
                              "aria-label": "Search the mind map" });
  const found = h("span", { class: "hint", role: "status" });
  toolbar(el, [treeBtn, radialBtn, search, found]);
  const { svg, g, reset } = stage(el, W, H, "Mind map: " + str(doc.title));
  const tip = tooltip(el);
  const linkG = g.append("g").attr("class", "links");
  const nodeG = g.append("g").attr("class", "nodes");

  function toggle(d) {
    if (d.children) {
      d._children = d.children;
      d.children = null;
    } else if (d._children) {
      d.children = d._children;
      d._children = null;
    }
    draw();
  }
  function setLayout(r) {
    radial = r;
    treeBtn.setAttribute("aria-pressed", String(!r));
    radialBtn.setAttribute("aria-pressed", String(r));
    reset();
    draw();
  }
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    let n = 0;
    root.each((d) => (d.match = false));
    const all = [];
    (function walk(d) {
      all.push(d);
      for (const c of d.children || d._children || []) walk(c);
    })(root);
    for (const d of all) {
      d.match = !!q && d.data.name.toLowerCase().includes(q);
      if (d.match) {
        n++;
        for (let a = d.parent; a; a = a.parent)
          if (a._children) {
            a.children = a._children;
            a._children = null;
          }
      }
    }
    found.textContent = q ? `${n} found` : "";
    draw();
  });

  function draw() {
    const R = Math.min(W, H) / 2 - 60;
    const layout = radial ? tree().size([2 * Math.PI, R])
      .separation((a, b) => (a.parent === b.parent ? 1 : 2) / Math.max(1, a.depth))
                          : tree().nodeSize([24, 190]);
    layout(root);
    const pos = (d) => (radial
      ? [W / 2 + d.y * Math.cos(d.x - Math.PI / 2), H / 2 + d.y * Math.sin(d.x - Math.PI / 2)]
      : [60 + d.y, H / 2 + d.x]);
    const path = radial
      ? linkRadial().angle((d) => d.x).radius((d) => d.y)
      : linkHorizontal().x((d) => 60 + d.y).y((d) => H / 2 + d.x);
    linkG.attr("transform", radial ? `translate(${W / 2},${H / 2})` : null);
    linkG.selectAll("path").data(root.links(), (l) => l.target.uid).join("path")
      .attr("class", "link").attr("d", path);
    const node = nodeG.selectAll("g").data(root.descendants(), (d) => d.uid).join((enter) => {
      const e = enter.append("g").attr("tabindex", 0).attr("role", "button");
      e.append("circle").attr("r", 6);
      e.append("text").attr("dy", 4);
      return e;
    });
    node.attr("transform", (d) => `translate(${pos(d)})`)
      .attr("class", (d) => `node ${d.data.type || ("depth-" + Math.min(d.depth, 2))}` +
                            `${d._children ? " collapsed" : ""}${d.match ? " match" : ""}`)
      .attr("aria-expanded", (d) => (d.children ? "true" : d._children ? "false" : null))
      .attr("aria-label", (d) => d.data.name);
    node.select("text").text((d) => d.data.name)
      .attr("x", (d) => (radial ? 9 : d.children ? -9 : 9))
      .attr("text-anchor", (d) => (radial ? "start" : d.children ? "end" : "start"));
    node.on("click", (ev, d) => toggle(d)).on("keydown", (ev, d) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        toggle(d);
      }
    }).on("mouseenter focus", (ev, d) => {
      const [x, y] = posIn(el, ev.currentTarget);
      tip.show([d.data.name, d.data.sources.length && "Sources: " + d.data.sources.join(", "),
                d.data.value && "Items: " + d.data.value], x, y);
    }).on("mouseleave blur", () => tip.hide());
  }
  // large maps start with the themes closed
  if (root.descendants().length > 60)
    for (const c of root.children || []) toggle(c);
  draw();
  return { root };
}
