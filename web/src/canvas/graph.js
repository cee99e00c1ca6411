// SPDX-License-Identifier: MIT
// graph.js — dependency graph: force layout (link distance 100, charge -300, collide 30),
// arrows, zoom, drag, radius by how much a task blocks, colour by priority group; click or
// Enter highlights a task's neighbours, double-click or Escape resets; "Critical path" marks
// the longest chain of blocking links (Kahn's topological order; links in cycles are ignored).
import { select } from "d3-selection";
import { forceSimulation, forceLink, forceManyBody, forceCenter, forceCollide } from "d3-force";
import { drag } from "d3-drag";
import { str, num, list, stage, toolbar, button, tooltip, posIn } from "./common.js";

const group = (score) => (score >= 80 ? "critical" : score >= 60 ? "high" :
                          score >= 30 ? "medium" : "low");

/** The longest chain (node ids, in order) of the DAG part of the graph. */
export function criticalPath(nodes, links) {
  const indeg = new Map(nodes.map((n) => [n.id, 0]));
  const out = new Map(nodes.map((n) => [n.id, []]));
  for (const l of links) {
    out.get(l.source).push(l.target);
    indeg.set(l.target, indeg.get(l.target) + 1);
  }
  const queue = nodes.filter((n) => !indeg.get(n.id)).map((n) => n.id);
  const dist = new Map(nodes.map((n) => [n.id, 1]));
  const prev = new Map();
  while (queue.length) {
    const u = queue.shift();
    for (const v of out.get(u)) {
      if (dist.get(u) + 1 > dist.get(v)) {
        dist.set(v, dist.get(u) + 1);
        prev.set(v, u);
      }
      indeg.set(v, indeg.get(v) - 1);
      if (!indeg.get(v)) queue.push(v);
    }
  }
  let end = null;
  for (const [id, d] of dist) if (!end || d > dist.get(end)) end = id;
  const path = [];
  for (let v = end; v != null; v = prev.get(v)) path.unshift(v);
  return links.length ? path : [];
}

export function dependencyGraph(el, doc) {
  const W = 900, H = 520;
  const nodes = list(doc.data.nodes).filter((n) => n && n.id != null).map((n) => {
    const score = num(n.priorityScore, 0, 100, 0);
    return { id: str(n.id, 100), title: str(n.title || n.id), status: str(n.status, 40),
             deadline: str(n.deadline, 40), score, group: group(score),
             blocking: num(n.blockingCount, 0, 1000, 0) };
  });
  const ids = new Set(nodes.map((n) => n.id));
  const links = list(doc.data.links).map((l) => ({ source: str(l && l.source, 100),
                                                   target: str(l && l.target, 100) }))
    .filter((l) => ids.has(l.source) && ids.has(l.target) && l.source !== l.target);
  for (const n of nodes)
    if (!n.blocking) n.blocking = links.filter((l) => l.source === n.id).length;
  const critical = new Set(criticalPath(nodes, links));
  const critLinks = new Set(links.filter((l) => critical.has(l.source) && critical.has(l.target) &&
    [...critical].indexOf(l.target) === [...critical].indexOf(l.source) + 1));

  let showCritical = false;
  const critBtn = button("Critical path", () => {
    showCritical = !showCritical;
    critBtn.setAttribute("aria-pressed", String(showCritical));
    svg.classed("show-critical", showCritical);
  }, false);
  toolbar(el, [critBtn, button("Reset", () => {
    unfocus();
    reset();
  })]);
  const { svg, g, reset } = stage(el, W, H, "Dependency graph: " + str(doc.title));
  const tip = tooltip(el);
  svg.append("defs").append("marker").attr("id", "viz-arrow").attr("viewBox", "0 -5 10 10")
    .attr("refX", 10).attr("markerWidth", 6).attr("markerHeight", 6).attr("orient", "auto")
    .append("path").attr("d", "M0,-5L10,0L0,5").attr("class", "arrow");

  const sim = forceSimulation(nodes)
    .force("link", forceLink(links).id((d) => d.id).distance(100))
    .force("charge", forceManyBody().strength(-300))
    .force("center", forceCenter(W / 2, H / 2))
    .force("collide", forceCollide(30));
  const link = g.append("g").attr("class", "links").selectAll("line").data(links).join("line")
    .attr("class", (d) => "link" + (critLinks.has(d) ? " critical" : ""))
    .attr("marker-end", "url(#viz-arrow)");
  const node = g.append("g").attr("class", "nodes").selectAll("g").data(nodes).join("g")
    .attr("class", (d) => `node ${d.group}${critical.has(d.id) ? " critical" : ""}`)
    .attr("tabindex", 0).attr("role", "button")
    .attr("aria-label", (d) => `${d.title}, ${d.status || "no status"}, priority ${d.score}`);
  node.append("circle").attr("r", (d) => 6 + Math.min(2 * d.blocking, 10));
  node.append("text").attr("dx", 14).attr("dy", 4).text((d) => d.title);

  const neighbours = (d) => {
    const s = new Set([d.id]);
    for (const l of links) {
      if (l.source.id === d.id) s.add(l.target.id);
      if (l.target.id === d.id) s.add(l.source.id);
    }
    return s;
  };
  function focus(d) {
    const near = neighbours(d);
    node.classed("dim", (n) => !near.has(n.id)).classed("selected", (n) => n.id === d.id);
    link.classed("dim", (l) => l.source.id !== d.id && l.target.id !== d.id);
  }
  function unfocus() {
    node.classed("dim", false).classed("selected", false);
    link.classed("dim", false);
    tip.hide();
  }
  const showTip = (ev, d) => {
    const [x, y] = posIn(el, ev.currentTarget);
    tip.show([d.title, d.status && "Status: " + d.status, "Priority: " + d.score,
              d.deadline && "Deadline: " + d.deadline], x, y);
  };
  node.on("click", (ev, d) => {
    ev.stopPropagation();
    focus(d);
  }).on("keydown", (ev, d) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      focus(d);
    } else if (ev.key === "Escape") unfocus();
  }).on("mouseenter focus", showTip).on("mouseleave blur", () => tip.hide());
  svg.on("dblclick", unfocus).on("click", (ev) => {
    if (ev.target === svg.node()) unfocus();
  });

  node.call(drag()
    .on("start", (ev, d) => {
      if (!ev.active) sim.alphaTarget(0.3).restart();
      d.fx = d.x;
      d.fy = d.y;
    })
    .on("drag", (ev, d) => {
      d.fx = ev.x;
      d.fy = ev.y;
    })
    .on("end", (ev, d) => {
      if (!ev.active) sim.alphaTarget(0);
      d.fx = null;
      d.fy = null;
    }));

  sim.on("tick", () => {
    link.each(function (d) {
      const dx = d.target.x - d.source.x, dy = d.target.y - d.source.y;
      const len = Math.hypot(dx, dy) || 1;
      const r = 8 + Math.min(2 * d.target.blocking, 10);
      select(this).attr("x1", d.source.x).attr("y1", d.source.y)
        .attr("x2", d.target.x - (dx / len) * r).attr("y2", d.target.y - (dy / len) * r);
    });
    node.attr("transform", (d) => `translate(${d.x},${d.y})`);
  });
  el.dataset.criticalPath = [...critical].join(" ");
  return { stop: () => sim.stop() };
}
