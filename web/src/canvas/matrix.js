// SPDX-License-Identifier: MIT
// matrix.js — Eisenhower matrix: tasks placed by urgency (x) and importance (y), 0-100 with
// thresholds at 50; click (or Enter on) a quadrant to focus it and list its tasks by priority;
// drag a task into another quadrant, or move it with the list's selector, to re-prioritise.
// Moves are remembered in localStorage per document (id, else title).
import { select } from "d3-selection";
import { drag } from "d3-drag";
import { h, mount } from "../dom.js";
import { str, num, list, stage, toolbar, button, tooltip, posIn } from "./common.js";

export const QUADRANTS = [
  { id: "do-first", label: "Do first", urgent: true, important: true },
  { id: "schedule", label: "Schedule", urgent: false, important: true },
  { id: "delegate", label: "Delegate", urgent: true, important: false },
  { id: "eliminate", label: "Eliminate", urgent: false, important: false },
];
export const quadrantOf = (t) =>
  QUADRANTS.find((q) => q.urgent === t.urgency >= 50 && q.important === t.importance >= 50).id;
const CENTER = { "do-first": [75, 75], schedule: [25, 75], delegate: [75, 25],
                 eliminate: [25, 25] };

export function priorityMatrix(el, doc) {
  const W = 640, H = 520, M = 36, PW = W - 2 * M, PH = H - 2 * M;
  const key = "openclaw.matrix." + str(doc.id || doc.title || "untitled", 120);
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(key) || "{}") || {};
  } catch {
    saved = {};
  }
  const tasks = list(doc.data.tasks).filter((t) => t && t.id != null).map((t) => {
    const id = str(t.id, 100), o = saved[id];
    return { id, title: str(t.title || t.id), status: str(t.status, 40),
             score: num(t.priorityScore, 0, 100, 0), deadline: str(t.deadline, 40),
             urgency: num(o ? o.urgency : t.urgency, 0, 100, 0),
             importance: num(o ? o.importance : t.importance, 0, 100, 0), moved: !!o };
  });
  const x = (u) => M + (u / 100) * PW, y = (i) => M + PH - (i / 100) * PH;
  const ux = (px) => num(((px - M) / PW) * 100, 0, 100, 0);
  const iy = (py) => num(((M + PH - py) / PH) * 100, 0, 100, 0);
  let focused = null;

  toolbar(el, [button("Show all", () => setFocus(null)), button("Forget my moves", () => {
    localStorage.removeItem(key);
    for (const t of tasks) t.moved = false;
    saved = {};
    el.replaceChildren();
    priorityMatrix(el, doc);
  })]);
  const { svg, g } = stage(el, W, H, "Eisenhower matrix: " + str(doc.title));
  const tip = tooltip(el);
  const panel = h("div", { class: "viz-panel", "aria-live": "polite" });
  el.append(panel);

  const quad = g.append("g").selectAll("g").data(QUADRANTS).join("g")
    .attr("class", (q) => "quadrant " + q.id).attr("tabindex", 0).attr("role", "button")
    .attr("aria-label", (q) => `${q.label} quadrant`).attr("aria-pressed", "false");
  quad.append("rect")
    .attr("x", (q) => (q.urgent ? x(50) : x(0))).attr("y", (q) => (q.important ? y(100) : y(50)))
    .attr("width", PW / 2).attr("height", PH / 2);
  quad.append("text").attr("class", "quadrant-label")
    .attr("x", (q) => (q.urgent ? x(50) : x(0)) + 8)
    .attr("y", (q) => (q.important ? y(100) : y(50)) + 18).text((q) => q.label);
  quad.on("click", (ev, q) => setFocus(q.id)).on("keydown", (ev, q) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      setFocus(q.id);
    }
  });
  g.append("text").attr("class", "axis").attr("x", M + PW / 2).attr("y", H - 8)
    .attr("text-anchor", "middle").text("Urgency →");
  g.append("text").attr("class", "axis")
    .attr("transform", `translate(12,${M + PH / 2}) rotate(-90)`)
    .attr("text-anchor", "middle").text("Importance →");

  const dots = g.append("g").selectAll("g").data(tasks, (t) => t.id).join("g")
    .attr("class", "task").attr("tabindex", 0).attr("role", "img")
    .attr("aria-label", (t) => `${t.title}: urgency ${Math.round(t.urgency)}, importance ` +
                               `${Math.round(t.importance)}`);
  dots.append("circle").attr("r", 7);
  dots.append("text").attr("dx", 10).attr("dy", 4).text((t) => t.title);
  dots.on("mouseenter focus", (ev, t) => {
    const [px, py] = posIn(el, ev.currentTarget);
    tip.show([t.title, t.status && "Status: " + t.status, "Priority: " + t.score,
              t.deadline && "Deadline: " + t.deadline], px, py);
  }).on("mouseleave blur", () => tip.hide());

  function save(t) {
    saved[t.id] = { urgency: Math.round(t.urgency), importance: Math.round(t.importance) };
    t.moved = true;
    localStorage.setItem(key, JSON.stringify(saved));
  }
  function place() {
    for (const t of tasks) t.quadrant = quadrantOf(t);
    dots.attr("transform", (t) => `translate(${x(t.urgency)},${y(t.importance)})`)
      .attr("class", (t) => `task ${t.quadrant}${t.moved ? " moved" : ""}`)
      .attr("data-quadrant", (t) => t.quadrant);
    setFocus(focused);
  }
  function move(t, q) {
    [t.urgency, t.importance] = CENTER[q];
    save(t);
    place();
  }
  function setFocus(id) {
    focused = id;
    quad.classed("dim", (q) => id && q.id !== id).attr("aria-pressed", (q) => String(q.id === id));
    dots.classed("dim", (t) => id && t.quadrant !== id);
    const shown = tasks.filter((t) => !id || t.quadrant === id).sort((a, b) => b.score - a.score);
    mount(panel, h("h3", null, id ? QUADRANTS.find((q) => q.id === id).label : "All tasks",
                   ` (${shown.length})`),
      h("ol", { class: "task-list" }, shown.map((t) => {
        const sel = h("select", { "aria-label": `Move ${t.title} to a quadrant`,
                                  onchange: (e) => move(t, e.target.value) },
          QUADRANTS.map((q) => h("option", { value: q.id, selected: q.id === t.quadrant },
                                 q.label)));
        return h("li", null, h("span", { class: "task-title" }, t.title), " ",
                 h("small", null, `priority ${t.score}`), " ", sel);
      })));
  }
  dots.call(drag()
    .subject((ev, t) => ({ x: x(t.urgency), y: y(t.importance) }))
    .on("drag", function (ev, t) {
      t.urgency = ux(ev.x);
      t.importance = iy(ev.y);
      select(this).attr("transform", `translate(${x(t.urgency)},${y(t.importance)})`);
    })
    .on("end", (ev, t) => {
      save(t);
      place();
    }));
  place();
  return { tasks };
}
