// SPDX-License-Identifier: MIT
// webui.mjs — end-to-end scenarios of the web UI in Debian's chromium (playwright-core), run by
// tests/integration/test_webui.py, which starts the gateways, the OpenID provider and the
// model server and passes their addresses in WEBUI_TEST (JSON). Each scenario's outcome goes
// to <artifacts>/results.json ({name: {ok, error}}); screenshots to <artifacts>/<screen>.png.
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const S = JSON.parse(process.env.WEBUI_TEST);
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const results = {};
const XSS = "<img src=x onerror=window.__xss=1>";

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function until(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function mock(path, body) {
  const r = await fetch(S.mock + path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return r.json();
}

/** The gateway's API with the admin token (checks made outside the browser). */
async function gw(method, path, body, token = S.admin_token) {
  const r = await fetch(S.gateway + path, { method, headers: {
    Authorization: "Bearer " + token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, text: await r.text() };
}

const browser = await chromium.launch({
  executablePath: S.chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function context(viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  ctx.errors = [];
  ctx.on("page", (p) => p.on("pageerror", (e) => ctx.errors.push(e.message)));
  return ctx;
}

async function page(ctx) {
  const p = await ctx.newPage();
  p.on("pageerror", (e) => ctx.errors.push(e.message));
  p.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/.test(m.text())) ctx.errors.push(m.text());
  });
  return p;
}

const shot = (p, name) => p.screenshot({ path: join(S.artifacts, name + ".png"), fullPage: false });

async function axe(p, screen) {
  await p.evaluate(AXE);
  const bad = await p.evaluate(async () => (await window.axe.run(document, {
    resultTypes: ["violations"] })).violations.filter((v) => ["serious", "critical"]
    .includes(v.impact)).map((v) => `${v.id} (${v.impact}): ${v.help} ×${v.nodes.length} ` +
                                    v.nodes.slice(0, 2).map((n) => n.target.join(" ")).join(", ")));
  assert(!bad.length, `${screen}: ${bad.join("; ")}`);
}

async function noXss(p) {
  const x = await p.evaluate(() => window.__xss);
  assert(x === undefined, "a payload ran: window.__xss = " + x);
}

async function scenario(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results[name] = { ok: true, error: null };
    console.log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
  } catch (e) {
    results[name] = { ok: false, error: String(e && e.stack || e).slice(0, 1500) };
    console.log(`FAIL ${name}: ${e && e.message}`);
    for (const [who, p] of [["alice", ap], ["admin", adp]])
      await p.screenshot({ path: join(S.artifacts, `failed-${name}-${who}.png`) }).catch(() => {});
  }
}

// --- sign-in helpers ----------------------------------------------------------------------
async function idpLogin(p, user) {
  await p.waitForSelector('input[name="user"]', { timeout: 15000 });
  await p.fill('input[name="user"]', user);
  await p.fill('input[name="password"]', S.users[user]);
  await Promise.all([p.waitForURL((u) => u.href.startsWith(S.gateway), { timeout: 15000 }),
                     p.press('input[name="password"]', "Enter")]);
}

async function tokenSignIn(p, base, token) {
  await p.goto(base + "/#/signin");
  await p.locator("main.signin").waitFor();
  const details = p.locator("details", { hasText: "Use a gateway token instead" });
  if (await details.count()) await details.locator("summary").click();
  await p.getByLabel("Gateway token", { exact: true }).fill(token);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForSelector("header.top");
}

/** The last assistant message (locator) once it finished streaming. */
async function sendAndWait(p, text, { wait = true } = {}) {
  const n = await p.locator(".msg.assistant").count();
  await p.fill("#composer-input", text);
  await p.press("#composer-input", "Enter");
  const msg = p.locator(".msg.assistant").nth(n);
  await msg.waitFor();
  if (wait) await p.waitForFunction((i) => {
    const m = document.querySelectorAll(".msg.assistant")[i];
    return m && !m.classList.contains("streaming");
  }, n, { timeout: 20000 });
  return msg;
}

// --- scenarios --------------------------------------------------------------------------------
const alice = await context();
const ap = await page(alice);
const admin = await context();
const adp = await page(admin);

await scenario("sso_sign_in", async () => {
  await ap.goto(S.gateway + "/");
  await until(() => ap.url().startsWith(S.idp), "the redirect to the identity provider");
  await idpLogin(ap, "alice");
  await ap.waitForSelector("nav#nav");
  assert(new URL(ap.url()).hash.startsWith("#/chat"), "landed on " + ap.url());
  const who = await ap.locator(".who").textContent();
  assert(who.includes("Alice Anderson") && who.includes("team_lead"), "header shows " + who);
  await ap.waitForSelector('.agent[data-agent="engineering/assistant"][aria-pressed="true"], ' +
                           '.agent[aria-pressed="true"]');
  await ap.click('.agent[data-agent="engineering/assistant"]');
  await shot(ap, "chat");
});

await scenario("admin_sign_in", () => tokenSignIn(adp, S.gateway, S.admin_token));

await scenario("chat_streams", async () => {
  await mock("/_control/reset", {});
  await mock("/_control/script", { chunk_delay_ms: 120, chunks: 12, reply: "one two three" +
    " four five six seven eight nine ten eleven twelve", path: "/v1/chat" });
  const msg = await sendAndWait(ap, "hello stream", { wait: false });
  const seen = new Set();
  await until(async () => {
    const t = (await msg.locator(".body").textContent()).replace("▍", "").trim();
    if (t) seen.add(t);
    return !(await msg.getAttribute("class")).includes("streaming");
  }, "the end of the answer", 20000);
  const final = (await msg.locator(".body").textContent()).trim();
  assert(final === "one two three four five six seven eight nine ten eleven twelve",
         "final answer " + JSON.stringify(final));
  assert(seen.size >= 3, "the answer did not arrive in pieces: " + JSON.stringify([...seen]));
  const foot = await msg.locator(".msg-foot").textContent();
  assert(foot.includes("openai/gpt-4o") && /tokens/.test(foot), "footer " + foot);
  const user = await ap.locator(".msg.user").last().textContent();
  assert(user === "hello stream", "user message " + user);
});

await scenario("stop_generation", async () => {
  await mock("/_control/reset", {});
  await mock("/_control/script", { chunk_delay_ms: 250, chunks: 80, path: "/v1/chat" });
  const msg = await sendAndWait(ap, "a long answer please", { wait: false });
  await until(async () => (await msg.locator(".body").textContent()).replace("▍", "").trim()
    .length > 0, "the first words");
  await ap.getByRole("button", { name: "Stop" }).click();
  await until(async () => (await msg.locator(".msg-foot").textContent()).includes("stopped"),
              "the stopped mark");
  const text = (await msg.locator(".body").textContent()).trim();
  assert(text.split(/\s+/).length < 60, "the answer went on after Stop: " + text.length);
  assert(await ap.getByRole("button", { name: "Send" }).isVisible(), "Send is back");
  await until(async () => (await mock("/_control/state")).client_disconnects >= 1,
              "the gateway cancelling the upstream stream", 15000);
});

await scenario("errors_plain_words", async () => {
  await mock("/_control/reset", {});
  await mock("/_control/script", { status: 500, times: 4, path: "/v1/chat" });
  const msg = await sendAndWait(ap, "this will fail");
  const err = await msg.locator(".msg-error").textContent();
  assert(err.includes("The model provider failed to answer."), "error shown as " + err);
  assert(/openai|500|provider/i.test(err), "the gateway's reason is missing: " + err);
});

await scenario("xss_agent_answer", async () => {
  await mock("/_control/reset", {});
  const reply = `Look: ${XSS} **bold** <script>window.__xss=2</script> ` +
    "[x](javascript:window.__xss=4) `code` \n\n| a | b |\n|---|---|\n| <b>1</b> | 2 |";
  await mock("/_control/script", { reply, path: "/v1/chat" });
  const msg = await sendAndWait(ap, "show me html");
  await noXss(ap);
  const body = msg.locator(".body");
  assert((await body.locator("img, script, b").count()) === 0, "markup from the model became DOM");
  const text = await body.textContent();
  assert(text.includes(XSS) && text.includes("<script>window.__xss=2</script>"),
         "payloads not shown as text: " + text);
  assert((await body.locator("strong").textContent()) === "bold", "markdown bold not rendered");
  assert((await body.locator("table td").first().textContent()) === "<b>1</b>", "table cell");
  assert((await body.locator('a[href^="javascript"]').count()) === 0, "javascript: link kept");
});

const VIZ_MAP = { openclaw_viz: 1, type: "mind-map", title: "Plan " + XSS, data: { root: {
  name: "Q3 " + XSS, children: [
    { name: "engineering", type: "theme", children: [{ name: "fix login bug", type: "item" },
                                                      { name: "api rate limits", type: "item" }] },
    { name: "operations", type: "theme", children: [{ name: "deploy gateway", type: "item" },
                                                     { name: "rotate keys", type: "item" }] }] } } };

await scenario("viz_inline", async () => {
  await mock("/_control/reset", {});
  await mock("/_control/script", { reply: "Here is the map:\n\n```openclaw-viz\n" +
    JSON.stringify(VIZ_MAP) + "\n```\nDone.", path: "/v1/chat" });
  const msg = await sendAndWait(ap, "draw the plan");
  const fig = msg.locator("figure.viz-inline");
  await fig.locator("svg .node").first().waitFor({ timeout: 10000 });
  const cap = await fig.locator("figcaption").textContent();
  assert(cap.includes("Mind map") && cap.includes(XSS), "caption " + cap);
  assert((await fig.locator("svg .node").count()) === 7, "nodes drawn");
  assert((await msg.locator("img").count()) === 0, "an img element appeared");
  await noXss(ap);
});

await scenario("approval_parked_and_approved", async () => {
  await mock("/_control/reset", {});
  const payload = "<img src=x onerror=window.__xss=3>";
  const msg = await sendAndWait(ap, "TOOL:memory_write:" + JSON.stringify({ content: payload }));
  const tool = msg.locator(".tool");
  await tool.waitFor();
  const status = await tool.locator(".badge").textContent();
  assert(status === "pending_approval", "tool status " + status + ": " + await msg.textContent());
  await tool.locator("summary", { hasText: "Arguments" }).click();
  assert((await tool.locator("pre").first().textContent()).includes(payload), "tool args shown");
  const id = (await tool.locator(".approval-inline code").textContent()).trim();
  assert(/^apr_/.test(id), "approval id " + id);
  await noXss(ap);
  // the enterprise admin decides, in the inbox
  await adp.goto(S.gateway + "/#/approvals");
  const card = adp.locator("article.approval", { has: adp.locator(`#apr-${id}`) });
  await card.waitFor();
  assert((await card.locator("pre").first().textContent()).includes(payload), "frozen args");
  const facts = await card.locator("dl").textContent();
  assert(facts.includes("alice") && /Expires/.test(facts), "facts: " + facts);
  await shot(adp, "approvals");
  await card.getByRole("button", { name: "Approve" }).click();
  await until(async () => (await adp.locator("#apr-status").textContent()).includes(
    `Approved ${id}: executed`), "the approval result");
  await until(async () => !(await card.count()), "the card leaving the pending list");
  const mem = await gw("GET", "/api/v1/memory/engineering/assistant");
  assert(mem.status === 200 && mem.text.includes(payload), "memory not written: " + mem.text);
  const apr = JSON.parse((await gw("GET", "/api/v1/approvals/" + id)).text);
  assert(apr.status === "executed", "approval " + apr.status);
  await noXss(adp);
});

/** alice's conversations with the assistant, as an administrator reads them (read_all). */
async function convsOfAlice() {
  const r = await gw("GET", "/api/v1/conversations?user=*&agent=engineering/assistant");
  assert(r.status === 200, "conversations " + r.text);
  return JSON.parse(r.text).conversations.filter((c) => c.user === "alice");
}

/** Clicks a button that starts a download; returns the saved file's text. */
async function downloaded(p, button, name) {
  const [dl] = await Promise.all([p.waitForEvent("download"), button.click()]);
  const file = join(S.artifacts, name);
  await dl.saveAs(file);
  return readFileSync(file, "utf8");
}

await scenario("conversations", async () => {
  await mock("/_control/reset", {});
  // after a reload the chat reopens this tab's conversation with the agent, from the gateway
  await ap.reload();
  const first = ap.locator(".conv", { hasText: "hello stream" });
  await first.waitFor();
  await until(async () => (await first.getAttribute("aria-current")) === "true" &&
    (await ap.locator(".transcript .msg.user").count()) >= 4, "the conversation reopened");
  const users = await ap.locator(".transcript .msg.user").allTextContents();
  assert(users[0] === "hello stream" && users.includes("show me html"), "history " + users);
  // what the model and its tools wrote is text again: answer, visualization title, arguments
  const answer = ap.locator(".transcript .msg.assistant", { hasText: "Look:" });
  assert((await answer.locator("img, script, b").count()) === 0, "markup from the history");
  assert((await answer.textContent()).includes(XSS), "the answer's payload as text");
  assert((await answer.locator("strong").textContent()) === "bold", "history as Markdown");
  const fig = ap.locator(".transcript figure.viz-inline");
  await fig.locator("svg .node").first().waitFor({ timeout: 10000 });
  assert((await fig.locator("figcaption").textContent()).includes(XSS), "viz title as text");
  const tool = ap.locator(".transcript .tool", { hasText: "memory_write" });
  assert((await tool.locator(".badge").textContent()) === "pending_approval", "tool status");
  assert((await tool.locator("pre").first().textContent()).includes("onerror=window.__xss=3"),
         "tool arguments");
  assert(/^Sent for approval apr_/.test(await tool.locator(".hint").textContent()), "approval");
  await noXss(ap);

  // a new conversation, titled by its first message (a title is text too)
  await ap.getByRole("button", { name: "New conversation" }).click();
  assert((await ap.locator(".transcript .msg").count()) === 0, "a new conversation is empty");
  const TITLE = "Second topic " + XSS;
  await sendAndWait(ap, TITLE);
  const second = ap.locator(".conv", { hasText: "Second topic" });
  await until(async () => (await second.count()) === 1 &&
    (await second.getAttribute("aria-current")) === "true", "the new conversation listed");
  assert((await second.locator(".conv-title").textContent()) === TITLE, "title");
  assert((await ap.locator(".conv-current").textContent()) === TITLE, "title in the header");
  await noXss(ap);
  const json = JSON.parse(await downloaded(ap, ap.getByRole("button", { name: "Export JSON" }),
                                           "conversation.json"));
  assert(json.messages.length === 2 && json.messages[0].content === TITLE &&
         json.messages[1].content === "echo: " + TITLE && json.exported_by === "alice",
         "JSON export " + JSON.stringify(json).slice(0, 400));
  const md = await downloaded(ap, ap.getByRole("button", { name: "Export Markdown" }),
                              "conversation.md");
  assert(md.includes("## 1. User") && md.includes("\n" + TITLE + "\n"), "Markdown export " + md);

  // the first one again: the next message continues it (the channel's session)
  const before = (await convsOfAlice()).find((c) => c.title === "hello stream");
  await first.click();
  await until(async () => (await ap.locator(".transcript .msg.user").first().textContent()) ===
    "hello stream", "the first conversation shown");
  const msg = await sendAndWait(ap, "and one more thing");
  assert((await msg.locator(".body").textContent()) === "echo: and one more thing", "answer");
  const after = (await convsOfAlice()).find((c) => c.id === before.id);
  assert(after.messages === before.messages + 2, `continued: ${before.messages} → ` +
         after.messages);
  await until(async () => (await ap.locator(".conv").first().textContent())
    .includes("hello stream"), "the conversation moved to the front");

  // delete the second one
  await second.click();
  await until(async () => (await ap.locator(".transcript .msg.user").first().textContent()) ===
    TITLE, "the second conversation shown");
  const id = (await convsOfAlice()).find((c) => c.title === TITLE).id;
  ap.once("dialog", (d) => d.accept());
  await ap.getByRole("button", { name: "Delete" }).click();
  await until(async () => (await second.count()) === 0, "the conversation leaving the list");
  assert((await ap.locator(".transcript .msg").count()) === 0, "the transcript was cleared");
  const gone = await gw("GET", "/api/v1/conversations/" + id);
  assert(gone.status === 404, "deleted conversation still there: " + gone.status);

  // an agent without a model: the message is kept, and the gateway's hint says what to do
  await ap.click('.agent[data-agent="engineering/code-reviewer"]');
  const stored = await sendAndWait(ap, "are you there?");
  const notice = await stored.locator(".notice").textContent();
  assert(/^Stored in the agent's mailbox \(msg_/.test(notice) &&
         notice.includes("has no model, so nothing answers") &&
         notice.includes("Give it one: "), "the hint: " + notice);
  // back to the assistant: its list again, and the new conversation the deletion left open
  await ap.click('.agent[data-agent="engineering/assistant"]');
  await first.waitFor();
  assert((await ap.locator(".conv[aria-current=true]").count()) === 0 &&
         (await ap.locator(".conv-current").textContent()) === "New conversation", "current");
});

await scenario("conversation_pages", async () => {
  await mock("/_control/reset", {});
  for (let i = 1; i <= 55; i++) {
    const r = await gw("POST", "/api/v1/channels/engineering/assistant/messages",
                       { content: `turn ${i}`, session: "long" });
    assert(r.status === 200, "turn " + r.text);
  }
  await adp.goto(S.gateway + "/#/chat?agent=engineering/assistant");
  await adp.locator(".conv", { hasText: "turn 1" }).click();
  const users = adp.locator(".transcript .msg.user");
  await until(async () => (await users.count()) === 50, "the last 100 messages");
  assert((await users.first().textContent()) === "turn 6", "starts at turn 6");
  assert((await users.last().textContent()) === "turn 55", "ends at turn 55");
  await adp.getByRole("button", { name: "Show earlier messages" }).click();
  await until(async () => (await users.count()) === 55, "the earlier messages");
  assert((await users.first().textContent()) === "turn 1", "starts at turn 1");
  assert(!(await adp.getByRole("button", { name: "Show earlier messages" }).count()), "more");
  await shot(adp, "chat-conversations");
  await axe(adp, "chat (conversations)");
});

const GRAPH = { openclaw_viz: 1, type: "dependency-graph", title: "Release " + XSS, data: {
  nodes: [{ id: "a", title: "design " + XSS, priorityScore: 90, status: "done" },
          { id: "b", title: "build", priorityScore: 70 }, { id: "c", title: "test", priorityScore: 40 },
          { id: "d", title: "ship", priorityScore: 85 }, { id: "e", title: "docs", priorityScore: 10 }],
  links: [{ source: "a", target: "b" }, { source: "b", target: "c" }, { source: "c", target: "d" },
          { source: "a", target: "e" }] } };

async function showViz(p, doc) {
  await p.goto(S.gateway + "/#/canvas");
  await p.fill("#viz-source", JSON.stringify(doc));
  await p.getByRole("button", { name: "Show", exact: true }).click();
  await p.locator(".viz-stage svg").waitFor();
}

const transformOf = (loc) => loc.getAttribute("transform");

await scenario("viz_graph", async () => {
  await showViz(adp, GRAPH);
  const nodes = adp.locator(".viz-stage .node");
  assert((await nodes.count()) === 5, "5 nodes");
  assert((await adp.locator(".viz-stage .link").count()) === 4, "4 links");
  assert(await adp.locator(".viz-stage").getAttribute("data-critical-path") === "a b c d",
         "critical path " + await adp.locator(".viz-stage").getAttribute("data-critical-path"));
  await adp.waitForTimeout(600); // let the layout settle a little
  const b = adp.locator(".viz-stage .node", { hasText: "build" });
  await b.dispatchEvent("click"); // the layout may still be moving
  assert((await adp.locator(".viz-stage .node.dim").count()) === 2, "b's neighbours a, c stay lit");
  await adp.getByRole("button", { name: "Critical path" }).click();
  assert((await adp.locator(".viz-stage svg.show-critical").count()) === 1, "critical path shown");
  assert((await adp.locator(".viz-stage .link.critical").count()) === 3, "3 critical links");
  await adp.locator(".viz-stage svg").dblclick({ position: { x: 5, y: 5 } });
  assert((await adp.locator(".viz-stage .node.dim").count()) === 0, "double-click resets");
  // drag "ship" somewhere else
  const d = adp.locator(".viz-stage .node", { hasText: "ship" });
  const before = await d.boundingBox();
  await adp.mouse.move(before.x + 8, before.y + 8);
  await adp.mouse.down();
  await adp.mouse.move(before.x + 120, before.y + 90, { steps: 8 });
  await adp.mouse.up();
  const after = await d.boundingBox();
  assert(Math.hypot(after.x - before.x, after.y - before.y) > 30, "drag did not move the node");
  // keyboard: Enter on a focused node highlights its neighbours
  await adp.locator(".viz-stage .node", { hasText: "docs" }).focus();
  await adp.keyboard.press("Enter");
  assert((await adp.locator(".viz-stage .node.dim").count()) === 3, "keyboard highlight");
  assert((await adp.locator(".viz-stage img").count()) === 0, "no img");
  const label = await adp.locator(".viz-stage .node text").first().textContent();
  assert(label.includes(XSS), "title rendered as text: " + label);
  await noXss(adp);
  await shot(adp, "canvas-graph");
  await axe(adp, "canvas (graph)");
});

const MATRIX = { openclaw_viz: 1, type: "priority-matrix", id: "matrix-test", title: "Week " + XSS,
  data: { tasks: [
    { id: "t1", title: "outage " + XSS, urgency: 90, importance: 90, priorityScore: 95 },
    { id: "t2", title: "roadmap", urgency: 20, importance: 80, priorityScore: 60 },
    { id: "t3", title: "meeting", urgency: 80, importance: 20, priorityScore: 40 },
    { id: "t4", title: "inbox zero", urgency: 10, importance: 10, priorityScore: 5 }] } };

await scenario("viz_matrix", async () => {
  await adp.evaluate(() => localStorage.removeItem("openclaw.matrix.matrix-test"));
  await showViz(adp, MATRIX);
  const q = (id) => adp.locator(`.viz-stage .task[data-quadrant="${id}"]`);
  assert(await q("do-first").count() === 1 && await q("schedule").count() === 1 &&
         await q("delegate").count() === 1 && await q("eliminate").count() === 1, "quadrants");
  await adp.locator(".viz-stage .quadrant.schedule rect").click({ position: { x: 60, y: 150 } });
  const head = await adp.locator(".viz-panel h3").textContent();
  assert(head.startsWith("Schedule"), "focus panel " + head);
  assert((await adp.locator(".viz-stage .quadrant.dim").count()) === 3, "other quadrants dimmed");
  // drag "inbox zero" (eliminate) into do-first
  const t4 = adp.locator(".viz-stage .task", { hasText: "inbox zero" });
  await adp.locator(".viz-stage svg").scrollIntoViewIfNeeded();
  const box = await t4.locator("circle").boundingBox();
  const target = await adp.locator(".viz-stage .quadrant.do-first rect").boundingBox();
  await adp.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await adp.mouse.down();
  await adp.mouse.move(target.x + target.width * 0.6, target.y + target.height * 0.4, { steps: 10 });
  await adp.mouse.up();
  assert(await t4.getAttribute("data-quadrant") === "do-first", "drag did not re-prioritise");
  // remembered across a reload
  await adp.reload();
  await showViz(adp, MATRIX);
  assert(await adp.locator(".viz-stage .task", { hasText: "inbox zero" })
    .getAttribute("data-quadrant") === "do-first", "the move was not remembered");
  // keyboard / list alternative
  await adp.getByRole("button", { name: "Show all" }).click();
  await adp.getByLabel("Move roadmap to a quadrant").selectOption("delegate");
  assert(await adp.locator(".viz-stage .task", { hasText: "roadmap" })
    .getAttribute("data-quadrant") === "delegate", "moving with the selector");
  await noXss(adp);
  await shot(adp, "canvas-matrix");
  await axe(adp, "canvas (matrix)");
});

await scenario("viz_mindmap", async () => {
  await showViz(adp, VIZ_MAP);
  const nodes = adp.locator(".viz-stage .node");
  assert((await nodes.count()) === 7, "7 nodes");
  const theme = adp.locator(".viz-stage .node", { hasText: "operations" });
  await theme.click();
  await until(async () => (await nodes.count()) === 5, "collapse");
  assert(await theme.getAttribute("aria-expanded") === "false", "aria-expanded");
  await theme.focus();
  await adp.keyboard.press("Enter");
  await until(async () => (await nodes.count()) === 7, "expand with the keyboard");
  const before = await transformOf(adp.locator(".viz-stage .node", { hasText: "deploy gateway" }));
  await adp.getByRole("button", { name: "Radial" }).click();
  const after = await transformOf(adp.locator(".viz-stage .node", { hasText: "deploy gateway" }));
  assert(before !== after, "radial layout did not move the nodes");
  await theme.click();
  await until(async () => (await nodes.count()) === 5, "collapse again");
  await adp.getByLabel("Search the mind map").fill("deploy");
  await until(async () => (await adp.locator(".viz-stage .node.match").count()) === 1,
              "search marks and opens the match");
  assert((await nodes.count()) === 7, "the match's theme was opened");
  await noXss(adp);
  await shot(adp, "canvas-mindmap");
  await axe(adp, "canvas (mind map)");
});

await scenario("admin_tokens", async () => {
  await adp.goto(S.gateway + "/#/admin/tokens");
  await adp.getByLabel("Id (optional)").fill("ui-made");
  await adp.getByLabel("models:invoke").check();
  await adp.getByLabel("More scopes").fill("channels:engineering/*");
  await adp.getByRole("button", { name: "Create" }).click();
  const dlg = adp.locator("dialog.secret");
  await dlg.waitFor();
  const secret = (await dlg.locator(".secret-value").textContent()).trim();
  assert(secret.length > 20, "secret shown once: " + secret);
  await shot(adp, "admin-tokens");
  await dlg.getByRole("button", { name: "Done" }).click();
  const ui = await gw("GET", "/api/v1/auth/userinfo", null, secret);
  assert(ui.status === 200 && JSON.parse(ui.text).scopes.includes("models:invoke"), ui.text);
  const row = adp.locator("tr", { has: adp.locator("code", { hasText: /^ui-made$/ }) });
  await row.waitFor();
  assert(!(await adp.content()).includes(secret), "the secret is still on the page");
  adp.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Revoke" }).click();
  await until(async () => (await row.textContent()).includes("revoked"), "revoked in the list");
  const after = await gw("GET", "/api/v1/auth/userinfo", null, secret);
  assert(after.status === 401, "revoked token still works: " + after.status);
  await axe(adp, "tokens");
});

await scenario("admin_namespaces", async () => {
  await adp.goto(S.gateway + "/#/admin/namespaces");
  const eng = adp.locator("article.namespace", { has: adp.locator("h2", { hasText: /^engineering$/ }) });
  await eng.waitFor();
  const fromFile = eng.locator("tr", { hasText: "eng-leads" });
  assert((await fromFile.textContent()).includes("gateway.yaml"), await fromFile.textContent());
  assert((await fromFile.getByRole("button").count()) === 0, "a member of the file: no revoke");
  assert((await eng.textContent()).includes("Agents: code-reviewer, assistant"), "agents");
  const grant = async () => {
    await adp.getByLabel("Namespace", { exact: true }).fill("engineering");
    await adp.getByLabel("Kind").selectOption("team");
    await adp.getByLabel("Member", { exact: true }).fill("platform");
    await adp.getByRole("button", { name: "Grant" }).click();
  };
  await grant();
  const row = eng.locator("tr", { hasText: "platform" });
  await row.waitFor();
  assert((await row.textContent()).includes("API"), "source " + await row.textContent());
  const ns = JSON.parse((await gw("GET", "/api/v1/namespaces/engineering")).text);
  assert(ns.members.teams.includes("platform"), "not granted: " + JSON.stringify(ns));
  await grant(); // again: the gateway's refusal in plain words
  await until(async () => /conflicts.*already a member/i.test(
    await adp.locator("section.page > p[role=status]").textContent()), "the 409");
  await shot(adp, "admin-namespaces");
  await axe(adp, "namespaces");
  adp.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Revoke Team platform" }).click();
  await until(async () => (await row.count()) === 0, "the member leaving the list");
  const left = JSON.parse((await gw("GET", "/api/v1/namespaces/engineering")).text);
  assert(!left.members.teams.includes("platform"), "not revoked: " + JSON.stringify(left));
  // a team lead (namespaces:read) sees the members of its namespaces and changes nothing
  await ap.goto(S.gateway + "/#/admin/namespaces");
  await ap.locator("article.namespace").first().waitFor();
  assert((await ap.locator("article.namespace h2").allTextContents()).join() === "engineering",
         "alice reaches engineering only");
  assert(!(await ap.getByRole("button", { name: /Grant|Revoke/ }).count()), "alice may change");
  assert((await ap.locator("article.namespace tr", { hasText: "eng-leads" }).count()) === 1,
         "members shown to a team lead");
  await ap.goto(S.gateway + "/#/chat");
  await ap.waitForSelector(".agent[aria-pressed=true]");
});

await scenario("admin_models", async () => {
  await mock("/_control/reset", {});
  const KEY = "sk-local-secret-7a3f9b21";
  const reg = await gw("POST", "/api/v1/agents", { name: "engineering/helper" });
  assert(reg.status === 201, "agent " + reg.text);
  await adp.goto(S.gateway + "/#/admin/models");
  const status = adp.locator("section.page > p[role=status]");
  const conf = adp.locator('tr[data-provider="openai"]');
  await conf.waitFor();
  assert((await conf.textContent()).includes("gateway.yaml"), await conf.textContent());
  assert(!(await conf.getByRole("button", { name: /Edit|Disable|Remove/ }).count()),
         "gateway.yaml's provider changed in the UI");
  // a provider with a key and a first model; the key is write-only
  await adp.getByLabel("Provider name").fill("local");
  await adp.getByLabel("Base URL").fill(S.mock + "/v1");
  await adp.getByLabel("API key").fill(KEY);
  await adp.getByLabel("Kind").selectOption("self_hosted");
  await adp.getByLabel("First model (optional)").fill("m1");
  await adp.getByRole("button", { name: "Add provider" }).click();
  const row = adp.locator('tr[data-provider="local"]');
  await row.waitFor();
  const text = await row.textContent();
  assert(text.includes("API") && text.includes("…9b21") && text.includes("active") &&
         text.includes("m1"), "provider row " + text);
  assert(!(await adp.content()).includes(KEY), "the key is still in the page");
  const p = JSON.parse((await gw("GET", "/api/v1/providers/local")).text);
  assert(p.kind === "self_hosted" && p.api_key.last4 === "9b21" &&
         !JSON.stringify(p).includes(KEY), "stored " + JSON.stringify(p));
  // editing without typing a key keeps it
  await row.getByRole("button", { name: "Edit" }).click();
  assert((await adp.getByLabel("API key").inputValue()) === "", "the key filled in");
  await adp.getByLabel("Region (optional)").fill("eu-west-1");
  await adp.getByRole("button", { name: "Save provider" }).click();
  await until(async () => (await status.textContent()) === "Provider local saved.", "saved");
  const p2 = JSON.parse((await gw("GET", "/api/v1/providers/local")).text);
  assert(p2.region === "eu-west-1" && p2.api_key.last4 === "9b21", "edit " + JSON.stringify(p2));

  // a test: the model's answer is text; a failing one says why with the gateway's hint
  await mock("/_control/script", { reply: "OK " + XSS, path: "/v1/chat" });
  await row.getByRole("button", { name: "Test" }).click();
  const res = adp.locator(".test-results li");
  await until(async () => (await res.count()) === 1, "the test's result");
  const ok = await res.textContent();
  assert(ok.startsWith("OK local/m1") && ok.includes(XSS), "test " + ok);
  assert(!(await res.locator("img").count()), "the model's answer as markup");
  await noXss(adp);
  await adp.getByLabel("Provider", { exact: true }).selectOption("local");
  await adp.getByLabel("Model name").fill("m2");
  await adp.getByLabel("Input price").fill("0.5");
  await adp.getByRole("button", { name: "Add model" }).click();
  const m2 = adp.locator('tr[data-model="local/m2"]');
  await m2.waitFor();
  assert((await m2.textContent()).includes("$0.50/M in"), "price " + await m2.textContent());
  await mock("/_control/script", { status: 404, path: "/v1/chat" });
  await m2.getByRole("button", { name: "Test" }).click();
  await until(async () => /^Failed local\/m2 .*HTTP 404/.test(await res.first().textContent()),
              "the failed test");
  assert((await res.locator(".hint").textContent()).includes("base_url"), "the hint");

  // disable and enable the provider: its models follow
  await row.getByRole("button", { name: "Disable" }).click();
  await until(async () => (await row.locator(".badge").textContent()) === "disabled" &&
    (await m2.locator(".badge").textContent()) === "provider disabled", "disabled");
  await row.getByRole("button", { name: "Enable" }).click();
  await until(async () => (await m2.locator(".badge").textContent()) === "active", "enabled");

  // the agent's model; a model in use cannot be removed, and the page says why
  const agent = adp.locator('tr[data-agent="engineering/helper"]');
  assert(await adp.locator('tr[data-agent="engineering/assistant"] select').isDisabled(),
         "gateway.yaml's agent changed in the UI");
  await agent.getByLabel("Model of engineering/helper").selectOption("local/m1");
  await agent.getByRole("button", { name: "Set model" }).click();
  await until(async () => (await status.textContent()) ===
    "engineering/helper now answers with local/m1.", "the agent's model set");
  const m1 = adp.locator('tr[data-model="local/m1"]');
  await until(async () => (await m1.textContent()).includes("engineering/helper"), "used by");
  adp.once("dialog", (d) => d.accept());
  await m1.getByRole("button", { name: "Remove" }).click();
  await until(async () => /conflicts.*engineering\/helper/.test(await status.textContent()),
              "the 409 naming the agent");
  await adp.locator("main h1").scrollIntoViewIfNeeded();
  await shot(adp, "admin-models");
  await axe(adp, "models");

  // the agent answers in the chat with the model given in the UI
  await mock("/_control/reset", {});
  await adp.goto(S.gateway + "/#/chat?agent=engineering/helper");
  await adp.waitForSelector('.agent[data-agent="engineering/helper"][aria-pressed=true]');
  const msg = await sendAndWait(adp, "hello helper");
  assert((await msg.locator(".body").textContent()) === "echo: hello helper", "answer");
  const calls = await mock("/_control/requests");
  assert(calls.some((c) => c.path.startsWith("/v1/chat") &&
                    c.headers.authorization === "Bearer " + KEY), "the key not used");

  // back to a mailbox, then the provider goes
  await adp.goto(S.gateway + "/#/admin/models");
  await agent.getByLabel("Model of engineering/helper").selectOption("");
  await agent.getByRole("button", { name: "Set model" }).click();
  await until(async () => (await status.textContent()) ===
    "engineering/helper now keeps messages in its mailbox.", "the model unset");
  adp.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Remove" }).click();
  await until(async () => (await row.count()) === 0, "the provider removed");
  assert((await gw("GET", "/api/v1/providers/local")).status === 404, "still there");
  assert((await gw("DELETE", "/api/v1/agents/engineering/helper")).status === 200, "agent");
});

await scenario("admin_policy", async () => {
  await adp.goto(S.gateway + "/#/admin/policies");
  await adp.getByRole("button", { name: /actions · team platform/ }).click();
  const box = adp.locator(".policy-detail");
  await box.locator("#policy-content").waitFor();
  await box.locator("#policy-content").fill('{"default_autonomy": "notify"}');
  await box.locator("#policy-reason").fill("try to loosen");
  await box.getByRole("button", { name: "Save" }).click();
  const err = box.locator(".msg-error");
  await err.waitFor();
  const t = await err.textContent();
  assert(t.includes("HTTP 422") && t.includes("loosen a policy set above"), "refusal: " + t);
  assert((await err.locator(".violations li", { hasText: "default_autonomy" }).count()) === 1,
         "the violation names the field: " + t);
  // a tightening edit goes through and shows up in the history and the diff
  await box.locator("#policy-content").fill('{"default_autonomy": "block"}');
  await box.locator("#policy-reason").fill("lock it down");
  await box.getByRole("button", { name: "Save" }).click();
  await until(async () => (await box.locator("h3", { hasText: "History" }).count()) &&
    (await box.locator("ol li").count()) === 2, "version 2 in the history");
  await box.getByRole("button", { name: "Compare" }).click();
  await box.locator("table.diff").waitFor();
  assert((await box.locator("table.diff").textContent()).includes("default_autonomy"), "diff");
  // explain a decision
  const ex = adp.locator("form", { hasText: "Explain a decision" });
  await ex.getByLabel("Action").selectOption("tool_call");
  await ex.getByLabel("Resource").fill("memory_write");
  await ex.getByRole("button", { name: "Explain" }).click();
  await ex.locator(".decision").waitFor();
  const d = await ex.locator(".decision").textContent();
  assert(/require_approval|deny|allow/.test(d), "decision " + d);
  await shot(adp, "admin-policies");
  await axe(adp, "policies");
});

await scenario("admin_audit", async () => {
  await adp.goto(S.gateway + "/#/admin/audit");
  await adp.getByRole("button", { name: "Verify the chain" }).click();
  const v = adp.locator(".verify p");
  await until(async () => /Chain verified/.test(await v.textContent()), "verification");
  await adp.getByLabel("Event (prefix*)").fill("approval.*");
  await adp.getByRole("button", { name: "Search" }).click();
  await until(async () => (await adp.locator("tbody tr", { hasText: "approval.approved" })
    .count()) >= 1, "the approval in the audit trail");
  await shot(adp, "admin-audit");
  await axe(adp, "audit");
});

await scenario("token_sign_in", async () => {
  const ctx = await context();
  const p = await page(ctx);
  await p.goto(S.plain + "/");
  await p.getByLabel("Gateway token", { exact: true }).waitFor();
  const text = await p.locator("main").textContent();
  assert(text.includes("no single sign-on") && text.includes("session storage"), text);
  await shot(p, "signin-token");
  await axe(p, "sign-in (token)");
  await p.getByLabel("Gateway token", { exact: true }).fill("not-a-token");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.locator(".error[role=alert]").waitFor();
  assert((await p.locator(".error[role=alert]").textContent()).includes("refused"), "refusal");
  assert(await p.evaluate(() => sessionStorage.getItem("openclaw.token")) === null, "bad token kept");
  await p.getByLabel("Gateway token", { exact: true }).fill(S.admin_token);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForSelector("nav#nav");
  assert(await p.evaluate(() => localStorage.length === 0 ||
    !Object.values(localStorage).some((v) => v.includes("admin-token"))), "token in localStorage");
  assert(await p.evaluate(() => sessionStorage.getItem("openclaw.token")) === S.admin_token,
         "token kept in sessionStorage");
  for (const [route, name] of [["admin/costs", "admin-costs"], ["admin/sessions", "admin-sessions"],
                               ["admin/status", "admin-status"]]) {
    await p.goto(S.plain + "/#/" + route);
    await p.waitForSelector("main h1");
    await p.waitForTimeout(300);
    await shot(p, name);
  }
  await p.getByRole("button", { name: "Sign out" }).click();
  await p.getByLabel("Gateway token", { exact: true }).waitFor();
  assert(await p.evaluate(() => sessionStorage.getItem("openclaw.token")) === null, "signed out");
  await ctx.close();
});

await scenario("a11y", async () => {
  for (const [route, screen] of [["chat", "chat"], ["approvals", "approvals"],
                                 ["canvas", "canvas"], ["admin/costs", "costs"],
                                 ["admin/sessions", "sessions"], ["admin/status", "status"],
                                 ["admin/namespaces", "namespaces"], ["admin/models", "models"]]) {
    await adp.goto(S.gateway + "/#/" + route);
    await adp.waitForSelector("main h1");
    await adp.waitForTimeout(400);
    await axe(adp, screen);
  }
  // keyboard: the skip link and the navigation are reachable with Tab
  await adp.goto(S.gateway + "/#/admin/status");
  await adp.reload();
  await adp.waitForSelector("main h1");
  await adp.keyboard.press("Tab");
  assert(await adp.evaluate(() => document.activeElement.className) === "skip", "skip link");
  const costs = await adp.evaluate(() => document.querySelector("#nav a[href='#/admin/costs']") !== null);
  assert(costs, "admin navigation shown to the admin");
  await axe(ap, "chat (alice, with answers)");
  assert(!alice.errors.length && !admin.errors.length,
         "page errors: " + [...alice.errors, ...admin.errors].join("; "));
});

await scenario("phone_and_dark", async () => {
  const ctx = await context({ width: 390, height: 844 });
  const p = await page(ctx);
  await tokenSignIn(p, S.gateway, S.admin_token);
  await p.waitForSelector(".agent");
  assert(!(await p.locator("nav#nav").isVisible()), "the navigation is folded on a phone");
  await p.getByRole("button", { name: "Menu" }).click();
  assert(await p.locator("nav#nav").isVisible(), "the menu opens the navigation");
  await p.getByRole("button", { name: "Menu" }).click();
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth > innerWidth + 1);
  assert(!overflow, "the page scrolls sideways on a phone");
  await shot(p, "chat-phone");
  await axe(p, "chat (phone)");
  // every other screen fits a phone too (wide tables scroll inside their frame)
  for (const route of ["approvals", "canvas", "admin/audit", "admin/tokens", "admin/costs",
                       "admin/policies", "admin/namespaces", "admin/models", "admin/sessions",
                       "admin/status"]) {
    await p.goto(S.gateway + "/#/" + route);
    await p.waitForSelector("main h1");
    await p.waitForTimeout(300);
    assert(await p.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1),
           route + " scrolls sideways on a phone");
  }
  await ctx.close();
  await adp.goto(S.gateway + "/#/chat");
  await adp.getByRole("button", { name: /light and dark/ }).click();
  const dark = await adp.evaluate(() => document.documentElement.dataset.theme);
  await adp.waitForSelector(".agent");
  await shot(adp, "chat-dark");
  await axe(adp, "chat (dark)");
  await adp.goto(S.gateway + "/#/admin/policies");
  await adp.waitForSelector(".policy-list li");
  await axe(adp, "policies (dark)");
  await adp.goto(S.gateway + "/#/admin/namespaces");
  await adp.waitForSelector("article.namespace");
  await axe(adp, "namespaces (dark)");
  await adp.getByRole("button", { name: /light and dark/ }).click();
  assert(dark === "dark", "theme " + dark);
});

await scenario("expired_session_keeps_draft", async () => {
  await ap.goto(S.gateway + "/#/chat");
  await ap.waitForSelector(".agent[aria-pressed=true]");
  await ap.fill("#composer-input", "my unsent thoughts");
  // an administrator revokes alice's browser session in the Sessions view
  await adp.goto(S.gateway + "/#/admin/sessions");
  await adp.getByLabel("User").fill("alice");
  await adp.getByRole("button", { name: "Show" }).click();
  const row = adp.locator("tbody tr", { hasText: "browser" });
  await until(async () => (await row.count()) === 1 &&
    (await row.locator("td").first().textContent()) === "alice", "alice's browser session");
  await row.getByRole("button", { name: "Revoke" }).click();
  await until(async () => (await adp.locator("p[role=status]").textContent()) ===
    "Session of alice revoked.", "the revocation confirmed");
  await until(async () => (await row.count()) === 0, "the session leaving the list");
  const left = JSON.parse((await gw("GET", "/api/v1/auth/sessions?user=alice")).text);
  assert(left.sessions.every((x) => x.kind !== "browser"), "revoked? " + JSON.stringify(left));
  await ap.press("#composer-input", "Enter");
  // 401 → sign-in → the IdP still knows alice → straight back to the chat
  await until(async () => (await ap.locator("#composer-input").count()) &&
    (await ap.inputValue("#composer-input")) !== "", "the chat again", 20000);
  await until(async () => (await ap.inputValue("#composer-input")) === "my unsent thoughts",
              "the draft restored", 10000);
});

await scenario("sign_out", async () => {
  await ap.goto(S.gateway + "/#/chat");
  await ap.waitForSelector("nav#nav");
  await ap.getByRole("button", { name: "Sign out" }).click();
  // the browser goes to the IdP's end-session endpoint (it asks for a confirmation), which
  // ends the IdP's session and sends the browser back (or shows its own login form)
  await until(() => ap.url().startsWith(S.idp), "the IdP's sign-out", 15000);
  await ap.getByRole("button", { name: "Accept" }).click();
  await until(async () => (ap.url().startsWith(S.gateway) &&
    (await ap.locator("text=You are signed out").count()) > 0) ||
    (ap.url().startsWith(S.idp) && (await ap.locator('input[name="user"]').count()) > 0),
  "the end of the IdP's sign-out", 20000);
  // back at the gateway: the sign-in page says so, without sending us to the IdP again
  await ap.goto(S.gateway + "/");
  await ap.locator("text=You are signed out").waitFor();
  assert(ap.url().startsWith(S.gateway), "redirected away after signing out: " + ap.url());
  const who = await gw("GET", "/api/v1/auth/sessions?user=alice");
  assert(JSON.parse(who.text).sessions.every((s) => s.kind !== "browser"),
         "a browser session of alice is still alive: " + who.text);
});

await browser.close();
writeFileSync(join(S.artifacts, "results.json"), JSON.stringify(results, null, 1));
const failed = Object.values(results).filter((r) => !r.ok).length;
console.log(`webui.mjs: ${Object.keys(results).length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
