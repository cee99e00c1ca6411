// SPDX-License-Identifier: MIT
// main.js — start-up, sign-in state, the shell (header, navigation, theme) and the hash
// router. Views are functions view(root, params) that may return a cleanup function.
import { h, mount, note } from "./dom.js";
import { get, post, session, setToken, allows, BASE } from "./api.js";
import { signIn, saveDraft } from "./views/signin.js";
import { chatView } from "./views/chat.js";
import { approvalsView } from "./views/approvals.js";
import { canvasView } from "./views/canvas.js";
import { auditView } from "./views/audit.js";
import { tokensView } from "./views/tokens.js";
import { costsView } from "./views/costs.js";
import { policiesView } from "./views/policies.js";
import { namespacesView } from "./views/namespaces.js";
import { modelsView } from "./views/models.js";
import { sessionsView } from "./views/sessions.js";
import { statusView } from "./views/status.js";

const ROUTES = [
  { path: "chat", label: "Chat", view: chatView },
  { path: "approvals", label: "Approvals", view: approvalsView },
  { path: "canvas", label: "Canvas", view: canvasView },
  { path: "admin/audit", label: "Audit", view: auditView, scope: "audit:read", admin: true },
  { path: "admin/tokens", label: "Tokens", view: tokensView, scope: "tokens:read", admin: true },
  { path: "admin/costs", label: "Costs", view: costsView, scope: "stats:read", admin: true },
  { path: "admin/policies", label: "Policies", view: policiesView, scope: "policies:read",
    admin: true },
  { path: "admin/namespaces", label: "Namespaces", view: namespacesView,
    scope: "namespaces:read", admin: true },
  { path: "admin/models", label: "Models", view: modelsView, scope: "models:read", admin: true },
  { path: "admin/sessions", label: "Sessions", view: sessionsView, admin: true },
  { path: "admin/status", label: "Status", view: statusView, admin: true },
];

const app = document.getElementById("app");
let cleanup = null;

// --- theme: the system's, unless the user picked one (remembered) ---------------------------
function applyTheme(t) {
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
applyTheme(localStorage.getItem("openclaw.theme"));
function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const t = dark ? "light" : "dark";
  localStorage.setItem("openclaw.theme", t);
  applyTheme(t);
}

// --- sign-in state ------------------------------------------------------------------------
session.onUnauthorized = () => {
  saveDraft();
  session.user = null;
  start();
};

async function signOut() {
  let end = null;
  if (session.token) {
    setToken(null);
  } else {
    try {
      end = (await post("/api/v1/auth/logout")).end_session_url;
    } catch {
      /* the session may already be gone */
    }
  }
  session.user = null;
  session.csrf = null;
  sessionStorage.setItem("openclaw.signedOut", "1");
  if (end) location.assign(end); // the identity provider's sign-out, which comes back here
  else start();
}

// --- shell and router -----------------------------------------------------------------------
function current() {
  const path = location.hash.replace(/^#\/?/, "").split("?")[0] || "chat";
  return ROUTES.find((r) => r.path === path && (!r.scope || allows(r.scope))) || ROUTES[0];
}

function shell() {
  const u = session.user;
  const navLink = (r) => h("a", { href: "#/" + r.path, "data-route": r.path }, r.label);
  const menu = h("button", { class: "menu-toggle", type: "button", "aria-expanded": "false",
                             "aria-controls": "nav" }, "Menu");
  const nav = h("nav", { id: "nav", "aria-label": "Main" },
    h("ul", null, ROUTES.filter((r) => !r.admin).map((r) => h("li", null, navLink(r)))),
    h("p", { class: "nav-group", id: "admin-label" }, "Administration"),
    h("ul", { "aria-labelledby": "admin-label" },
      ROUTES.filter((r) => r.admin && (!r.scope || allows(r.scope)))
        .map((r) => h("li", null, navLink(r)))));
  menu.addEventListener("click", () => {
    const open = nav.classList.toggle("open");
    menu.setAttribute("aria-expanded", String(open));
  });
  nav.addEventListener("click", (e) => {
    if (e.target.closest("a")) {
      nav.classList.remove("open");
      menu.setAttribute("aria-expanded", "false");
    }
  });
  const main = h("main", { id: "main", tabindex: "-1" });
  mount(app,
    h("a", { class: "skip", href: "#main", onclick: (e) => {
      e.preventDefault();
      main.focus();
    } }, "Skip to content"),
    h("header", { class: "top" },
      menu,
      h("span", { class: "brand" }, "OpenClaw"),
      h("span", { class: "who", title: u.tenant || "" },
        h("span", { class: "who-name" }, u.name || u.email || u.user), " · ",
        h("span", { class: "who-role" }, u.role)),
      h("button", { type: "button", class: "ghost", onclick: toggleTheme,
                    "aria-label": "Switch between light and dark theme" }, "Theme"),
      h("button", { type: "button", class: "ghost", onclick: signOut }, "Sign out")),
    h("div", { class: "layout" }, nav, main));
  return main;
}

function route() {
  if (!session.user) return;
  const main = document.getElementById("main") || shell();
  const r = current();
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.route === r.path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (cleanup) cleanup();
  cleanup = null;
  document.title = r.label + " · OpenClaw";
  mount(main, note("Loading…"));
  const c = r.view(main, new URLSearchParams(location.hash.split("?")[1] || ""));
  if (typeof c === "function") cleanup = c;
}

async function start() {
  if (cleanup) cleanup();
  cleanup = null;
  try {
    session.user = await get("/api/v1/auth/userinfo", { quiet401: true });
    session.csrf = session.user.csrf_token || null;
    sessionStorage.removeItem("openclaw.signedOut");
    sessionStorage.removeItem("openclaw.ssoTried");
  } catch (e) {
    session.user = null;
    if (session.token && e.status === 401) setToken(null);
    return signIn(app, start, e);
  }
  mount(app);
  route();
}

window.addEventListener("hashchange", route);
// after a sign-in the browser lands on "/": the chat
if (!location.hash) history.replaceState(null, "", BASE + "/#/chat");
start();
