// SPDX-License-Identifier: MIT
// api.js — the gateway's own API, nothing else: fetch with the session cookie (plus the CSRF
// token on mutations) or a pasted gateway token (sessionStorage only), errors as ApiError
// with the gateway's code and message, and SSE streams read from a POST response.

const meta = document.querySelector('meta[name="openclaw-base"]');
export const BASE = meta ? meta.getAttribute("content") : "";
const TOKEN_KEY = "openclaw.token";

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY), // a pasted gateway token, or null (cookie)
  csrf: null,
  user: null, // /api/v1/auth/userinfo
  onUnauthorized: null, // set by the app: back to sign-in
};

export function setToken(t) {
  session.token = t;
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, requestId, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.body = body;
  }
}

function headers(method, json, extra) {
  const h = { Accept: "application/json", ...extra };
  if (session.token) h.Authorization = "Bearer " + session.token;
  if (method !== "GET" && method !== "HEAD" && session.csrf) h["X-CSRF-Token"] = session.csrf;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function errorOf(r) {
  let body = null;
  try {
    body = await r.json();
  } catch {
    /* not JSON */
  }
  const e = (body && body.error) || {};
  return new ApiError(r.status, e.code || "http_" + r.status,
                      e.message || `the gateway answered ${r.status}`,
                      e.request_id || r.headers.get("X-Request-Id"), body);
}

/** Raw fetch against the gateway; throws ApiError for non-2xx answers. */
export async function request(method, path, { body, signal, accept, quiet401 } = {}) {
  const json = body !== undefined;
  const r = await fetch(BASE + path, {
    method, signal, credentials: "same-origin", cache: "no-store",
    headers: headers(method, json, accept ? { Accept: accept } : {}),
    body: json ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) {
    const err = await errorOf(r);
    if (r.status === 401 && !quiet401 && session.onUnauthorized) session.onUnauthorized(err);
    throw err;
  }
  return r;
}

export async function api(method, path, body, opts = {}) {
  const r = await request(method, path, { ...opts, body });
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body === undefined ? {} : body, opts);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

/** GETs path and saves the answer as a file named name (exports). */
export async function download(path, name) {
  const r = await request("GET", path);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const q = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v != null) u.set(k, v);
  const s = u.toString();
  return s ? "?" + s : "";
};

/**
 * POSTs and reads a text/event-stream answer, calling onEvent(name, data) for every event
 * (data parsed as JSON when it is). Resolves when the stream ends; rejects with ApiError for an
 * error answer before the stream, or with an AbortError when signal aborts.
 */
export async function stream(path, body, onEvent, signal) {
  const r = await request("POST", path, { body, signal, accept: "text/event-stream" });
  const type = r.headers.get("Content-Type") || "";
  if (!type.startsWith("text/event-stream")) {
    onEvent("json", await r.json()); // e.g. 202 stored for an agent without a model
    return;
  }
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).trimStart();
      }
      let parsed = data;
      try {
        parsed = JSON.parse(data);
      } catch {
        /* plain text */
      }
      onEvent(name, parsed);
    }
  }
}

/** Does the signed-in principal hold this scope or permission? (the gateway decides; this
 * only hides what would be refused) */
export function allows(scope) {
  const u = session.user;
  if (!u) return false;
  const held = [...(u.scopes || []), ...(u.permissions || [])];
  return held.some((p) => p === "*" || p === scope ||
                          (p.endsWith("*") && scope.startsWith(p.slice(0, -1))));
}

/** Plain words for the gateway's errors (the gateway's own message is shown beside them). */
export function explain(err) {
  if (!(err instanceof ApiError)) return "The gateway could not be reached.";
  const m = err.message || "";
  switch (err.code) {
    case "forbidden":
      return m.startsWith("denied by policy") ? "A policy does not allow this."
                                              : "You are not allowed to do this.";
    case "budget_exceeded": return "The workspace has used up its monthly budget.";
    case "bad_gateway": return "The model provider failed to answer.";
    case "upstream_timeout": return "The model provider did not answer in time.";
    case "too_many_requests": return "Too many requests right now; try again shortly.";
    case "unauthenticated": return "Your sign-in has expired.";
    case "policy_violation": return "The change would loosen a policy set above this one.";
    case "not_found": return "Not found.";
    case "conflict": return "This conflicts with what the gateway has.";
    case "audit_unavailable": case "store_unavailable": case "unavailable":
      return "The gateway cannot record this right now; nothing was changed.";
    case "invalid_request": case "invalid_json": return "The gateway refused the request.";
    default: return "The request failed.";
  }
}
