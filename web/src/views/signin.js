// SPDX-License-Identifier: MIT
// signin.js — the sign-in page. With single sign-on the visitor goes straight to the company
// identity provider (unless they just signed out or a sign-in failed, then a button does);
// without it, a gateway token is pasted and kept in this tab's sessionStorage only. A message
// being typed when the session expired is kept and put back after sign-in.
import { h, mount, note, field } from "../dom.js";
import { get, setToken, BASE, ApiError } from "../api.js";

const DRAFT_KEY = "openclaw.draft";

export function saveDraft() {
  const box = document.getElementById("composer-input");
  if (box && box.value.trim()) sessionStorage.setItem(DRAFT_KEY, box.value);
}

export function takeDraft() {
  const d = sessionStorage.getItem(DRAFT_KEY);
  sessionStorage.removeItem(DRAFT_KEY);
  return d || "";
}

const loginUrl = (protocol) =>
  BASE + "/api/v1/auth/login?return_to=" + encodeURIComponent("/") +
  (protocol ? "&protocol=" + protocol : "");

export async function signIn(app, done, why) {
  let status = null;
  try {
    status = await get("/api/v1/status");
  } catch {
    /* shown below */
  }
  const sso = status && status.sso && status.sso.enabled ? status.sso : null;
  const signedOut = sessionStorage.getItem("openclaw.signedOut") === "1";
  const expired = why instanceof ApiError && why.status === 401 && why.code === "unauthenticated" &&
                  sessionStorage.getItem(DRAFT_KEY);
  // "#/signin" shows this page without going to the IdP (e.g. to paste a token instead)
  if (sso && !signedOut && !sessionStorage.getItem("openclaw.ssoTried") &&
      location.hash !== "#/signin") {
    sessionStorage.setItem("openclaw.ssoTried", "1"); // once per tab: no redirect loop here
    location.assign(loginUrl());
    return;
  }
  sessionStorage.removeItem("openclaw.ssoTried");

  const msg = h("p", { class: "error", role: "alert", hidden: true });
  const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false",
                             required: true, id: "token-input" });
  const tokenForm = h("form", { class: "card", "aria-labelledby": "token-title",
                                onsubmit: async (e) => {
    e.preventDefault();
    msg.hidden = true;
    setToken(input.value.trim());
    try {
      await get("/api/v1/auth/userinfo", { quiet401: true });
      done();
    } catch (err) {
      setToken(null);
      msg.textContent = err instanceof ApiError ? `The gateway refused this token: ${err.message}`
                                                : "The gateway could not be reached.";
      msg.hidden = false;
      input.focus();
    }
  } },
    h("h2", { id: "token-title" }, sso ? "Or use a gateway token" : "Sign in with a token"),
    sso ? null : h("p", null, "This gateway has no single sign-on configured. Paste a gateway " +
      "token: the bootstrap admin token that scripts/run.sh printed at the first start, or a " +
      "token created with “openclaw tokens create”."),
    h("p", { class: "hint" }, "The token is kept only in this browser tab (session storage) " +
      "and is forgotten when the tab is closed."),
    field("Gateway token", input),
    msg,
    h("button", { type: "submit", class: "primary" }, "Sign in"));

  const ssoCard = sso ? h("div", { class: "card" },
    h("h2", null, "Sign in with your company account"),
    h("p", null, signedOut ? "You are signed out." : "Your identity provider signs you in."),
    (sso.protocols.length > 1 ? sso.protocols : [null]).map((p) =>
      h("a", { class: "button primary", href: loginUrl(p) },
        p ? `Sign in with ${p === "saml" ? "SAML" : "OpenID Connect"}` : "Sign in"))) : null;

  mount(app, h("main", { class: "signin", id: "main" },
    h("h1", null, "OpenClaw"),
    expired ? note("Your session expired. Sign in again: your message is kept.", "warn") : null,
    !status ? note("The gateway could not be reached.", "error") : null,
    ssoCard,
    sso ? h("details", null, h("summary", null, "Use a gateway token instead"), tokenForm)
        : tokenForm));
  if (!sso) input.focus();
}
