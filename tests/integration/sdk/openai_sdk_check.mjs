// SPDX-License-Identifier: MIT
// openai_sdk_check.mjs — drives an OpenAI-compatible endpoint with the official OpenAI Node SDK.
//
// Usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=... \
//          node openai_sdk_check.mjs MODEL [PROMPT]
//
// Steps: models.list() (prints the ids), models.retrieve(MODEL), chat.completions.create
// without streaming (prints the content and usage), then with stream: true and
// stream_options.include_usage (collects the deltas, prints the joined text and the number of
// chunks). The last line printed is one JSON object with every result: {"ok": true,
// "models": [...], "retrieved": {...}, "completion": {...}, "stream": {...}}. Any error prints
// {"ok": false, "step": ..., "error": ..., "status": ...} as the last line and exits 1; a usage
// error exits 2.
// Install its dependency first: npm ci --prefix tests/integration/sdk

import OpenAI from "openai";

const model = process.argv[2];
const prompt = process.argv[3] || "hello from the sdk";
const baseURL = process.env.OPENAI_BASE_URL;
const apiKey = process.env.OPENAI_API_KEY;
if (!model || !baseURL || !apiKey) {
  console.error("usage: OPENAI_BASE_URL=... OPENAI_API_KEY=... node openai_sdk_check.mjs MODEL [PROMPT]");
  process.exit(2);
}

const client = new OpenAI({
  baseURL,
  apiKey,
  maxRetries: 0,
  timeout: Number(process.env.OPENAI_TIMEOUT_MS || 30000),
});

const result = { ok: false, base_url: baseURL, model };
let step = "init";
let finished = false;

function fail(error, status) {
  if (finished) return;
  finished = true;
  console.log(JSON.stringify({ ok: false, step, error, status: status ?? null, partial: result }));
  process.exit(1);
}

// A response cut short can leave the SDK's promise unsettled with nothing left to run; Node
// would then exit 13 without a word. Report it like any other failure.
process.on("beforeExit", () => fail("the event loop emptied before the step finished (connection cut?)"));

try {
  step = "models.list";
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  result.models = ids;
  console.log(`models: ${ids.join(", ")}`);

  step = "models.retrieve";
  const one = await client.models.retrieve(model);
  result.retrieved = { id: one.id, object: one.object, owned_by: one.owned_by };
  console.log(`retrieved: ${JSON.stringify(result.retrieved)}`);

  step = "chat.completions.create";
  const completion = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content: prompt }],
  });
  const choice = completion.choices && completion.choices[0];
  result.completion = {
    id: completion.id,
    content: choice && choice.message ? choice.message.content : null,
    finish_reason: choice ? choice.finish_reason : null,
    usage: completion.usage || null,
  };
  console.log(`completion: ${JSON.stringify(result.completion.content)}`);
  console.log(`usage: ${JSON.stringify(result.completion.usage)}`);

  step = "chat.completions.create(stream)";
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content: prompt }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const deltas = [];
  let chunks = 0;
  let finishReason = null;
  let streamUsage = null;
  for await (const chunk of stream) {
    chunks += 1;
    const c = chunk.choices && chunk.choices[0];
    if (c && c.delta && typeof c.delta.content === "string") deltas.push(c.delta.content);
    if (c && c.finish_reason) finishReason = c.finish_reason;
    if (chunk.usage) streamUsage = chunk.usage;
  }
  result.stream = {
    text: deltas.join(""),
    chunks,
    content_chunks: deltas.filter((d) => d.length > 0).length,
    finish_reason: finishReason,
    usage: streamUsage,
  };
  console.log(`stream: ${JSON.stringify(result.stream.text)} (${chunks} chunks)`);

  result.ok = true;
  finished = true;
  console.log(JSON.stringify(result));
} catch (err) {
  fail(String((err && err.message) || err), err && err.status !== undefined ? err.status : null);
}
