// `sparq serve` against the official `openai` client: a real server process on a free port (the default
// model with the ChatML template of the chat-template fixtures), non-streaming and streaming chat and
// completions, usage, stop, seed, logprobs, every error status, a client abort freeing its place, a full
// queue, and concurrent clients getting what the same requests give one by one through the library.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { loadModel } from '../../dist/index.js';

const bin = fileURLToPath(new URL('../../bin/sparq.js', import.meta.url));
const templateFile = fileURLToPath(new URL('../fixtures/chat-templates/chatml.jinja', import.meta.url));
const KEY = 'test-key';
const CONTEXT = 512;
/** Requests batched together by the server (each with its own KV cache); two more may wait. */
const PARALLEL = 8;
let server, url, client, modelId, library;

before(async () => {
  server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--threads', '1', '-c', String(CONTEXT), '--api-key', KEY,
    '--parallel', String(PARALLEL), '--queue', '2', '--chat-template-file', templateFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  server.stderr.on('data', (d) => { err += d; });
  url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.once('exit', (code) => reject(new Error(`sparq serve exited with ${code}: ${err}`)));
  });
  client = new OpenAI({ baseURL: `${url}v1`, apiKey: KEY, maxRetries: 0 });
  modelId = (await client.models.list()).data[0].id;
  library = await loadModel(fileURLToPath(new URL('../../models/default.gguf', import.meta.url)), { threads: 1, contextLength: CONTEXT });
});

after(async () => {
  library?.dispose();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
});

const chatTemplate = readFileSync(templateFile, 'utf8');
const MESSAGES = [{ role: 'system', content: 'You are a storyteller.' }, { role: 'user', content: 'Tell me about a cat.' }];

/** What the library gives for the same chat request (greedy). */
async function direct(messages, maxTokens) {
  const gen = library.chat(messages, { chatTemplate, temperature: 0, maxTokens });
  for await (const _ of gen) { /* drain */ }
  return gen.result;
}

const raw = (path, init = {}) => fetch(new URL(path, url), { ...init, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...init.headers } });

test('models, health and a non-streaming chat completion equal to the library\'s answer', async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  const health = await (await fetch(new URL('/health', url))).json();
  assert.equal(health.status, 'ok');
  const r = await client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 24 });
  const want = await direct(MESSAGES, 24);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, want.text);
  assert.equal(r.choices[0].finish_reason, want.stats.stopReason === 'maxTokens' ? 'length' : 'stop');
  assert.equal(r.usage.prompt_tokens, want.stats.promptTokens);
  assert.equal(r.usage.completion_tokens, want.stats.generatedTokens);
  assert.equal(r.usage.total_tokens, want.stats.promptTokens + want.stats.generatedTokens);
});

test('streaming chat: the deltas add up to the non-streaming text; include_usage adds a last usage chunk', async () => {
  const whole = await client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 20 });
  const stream = await client.chat.completions.create({
    model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 20, stream: true, stream_options: { include_usage: true },
  });
  let text = '', finish, usage, roles = 0;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.delta.role) roles++;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(roles, 1);
  // the model may end its turn (<|im_end|>) before max_tokens: the stream ends the way the whole reply did
  assert.ok(finish === 'stop' || finish === 'length', finish);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

test('completions, streamed and not, and stop ends the text before the stop string', async () => {
  const prompt = 'Once upon a time, there was a little';
  const r = await client.completions.create({ model: modelId, prompt, temperature: 0, max_tokens: 16 });
  assert.equal(r.object, 'text_completion');
  const text = r.choices[0].text;
  assert.ok(text.length > 4, text);
  let streamed = '';
  for await (const chunk of await client.completions.create({ model: modelId, prompt, temperature: 0, max_tokens: 16, stream: true })) {
    streamed += chunk.choices[0]?.text ?? '';
  }
  assert.equal(streamed, text);
  const stop = text.slice(3, 6);
  const s = await client.completions.create({ model: modelId, prompt, temperature: 0, max_tokens: 16, stop: [stop, 'zzzz'] });
  assert.equal(s.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(s.choices[0].finish_reason, 'stop');
});

test('seed: the same seed gives the same sampled text, another seed another text', async () => {
  const ask = (seed) => client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 1.2, top_p: 1, seed, max_tokens: 24 });
  const [a, b, c] = [await ask(7), await ask(7), await ask(8)];
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  assert.notEqual(a.choices[0].message.content, c.choices[0].message.content);
});

test('logprobs: one entry per token with top_logprobs alternatives; greedy picks the most likely', async () => {
  const r = await client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 3 });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  assert.equal(content.map((e) => e.token).join(''), r.choices[0].message.content);
  for (const e of content) {
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 3);
    assert.equal(e.top_logprobs[0].logprob, e.logprob, 'greedy chose the most likely token');
    assert.ok(e.top_logprobs.reduce((s, t) => s + Math.exp(t.logprob), 0) <= 1 + 1e-9);
  }
});

test('bad requests get OpenAI error JSON with the right status, and the server keeps serving', async () => {
  const expectStatus = async (promise, status, type) => {
    await assert.rejects(promise, (e) => {
      assert.equal(e.status, status, e.message);
      if (type) assert.equal(e.error?.type ?? e.type, type);
      return true;
    });
  };
  await expectStatus(client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 'hot' }), 400, 'invalid_request_error');
  await expectStatus(client.chat.completions.create({ model: modelId, messages: [{ role: 'wizard', content: 'hi' }] }), 400, 'invalid_request_error');
  await expectStatus(client.chat.completions.create({ model: modelId, messages: MESSAGES, n: 2 }), 400, 'invalid_request_error');
  await expectStatus(client.chat.completions.create({ model: 'no-such-model', messages: MESSAGES }), 404);
  await expectStatus(client.chat.completions.create({ model: modelId, messages: [{ role: 'user', content: 'word '.repeat(CONTEXT) }] }), 400);
  const long = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ model: modelId, prompt: 'x '.repeat(2 * CONTEXT) }) });
  assert.equal(long.status, 400);
  assert.equal((await long.json()).error.code, 'context_length_exceeded');
  const noKey = new OpenAI({ baseURL: `${url}v1`, apiKey: 'wrong', maxRetries: 0 });
  await expectStatus(noKey.models.list(), 401);
  assert.equal((await fetch(new URL('/v1/models', url))).status, 401);
  const malformed = await raw('/v1/chat/completions', { method: 'POST', body: '{"model": ' });
  assert.equal(malformed.status, 400);
  assert.equal((await malformed.json()).error.type, 'invalid_request_error');
  assert.equal((await raw('/v1/no-such-route')).status, 404);
  const big = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ model: modelId, prompt: 'a'.repeat(9 << 20) }) });
  assert.equal(big.status, 413);
  const r = await client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 4 });
  assert.equal(r.choices.length, 1, 'still serving');
});

/** Polls /health until `ok` holds for its { running, waiting }, for up to 20 s. */
async function waitForLoad(ok) {
  for (let i = 0; i < 200; i++) {
    const h = await (await fetch(new URL('/health', url))).json();
    if (ok(h)) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server load never reached the expected state');
}

test('a full queue answers 503 with Retry-After; a client abort frees its place at once', async () => {
  const long = new AbortController();
  // long requests: plain-text completions (a chat reply of the default model ends its turn after a sentence)
  const body = { model: modelId, prompt: 'It was a cold morning in the village, and', temperature: 1, max_tokens: CONTEXT, stream: true };
  const streams = [];
  for (let i = 0; i < PARALLEL; i++) {
    const it = (await client.completions.create({ ...body, seed: i }, { signal: long.signal }))[Symbol.asyncIterator]();
    await it.next(); // it is running
    streams.push(it);
  }
  const waiting = [1, 2].map(() => client.chat.completions.create({ model: modelId, messages: MESSAGES, temperature: 0, max_tokens: 2 }));
  await waitForLoad((h) => h.running === PARALLEL && h.waiting === 2);
  const refused = await raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: modelId, messages: MESSAGES }) });
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal((await refused.json()).error.type, 'server_error');
  long.abort();
  for (const it of streams) await it.return?.().catch(() => {});
  const done = await Promise.all(waiting); // the queued requests now run
  for (const r of done) assert.equal(r.choices.length, 1);
  await waitForLoad((h) => h.running === 0 && h.waiting === 0);
});

test('concurrent clients: none fails, each gets what the same request gives on its own', async () => {
  // more clients than the server runs and queues (8 + 2): the official client retries a 503 after its Retry-After
  const patient = new OpenAI({ baseURL: `${url}v1`, apiKey: KEY, maxRetries: 20 });
  const prompts = ['Tell me about a dog.', 'Where do birds live?', 'Write a line about rain.', 'What is a castle?', 'Name a colour.',
    'Why is snow white?', 'Who built the bridge?', 'Sing about the sea.', 'Count three sheep.', 'Describe a lamp.', 'Open the door.', 'What is tea?'];
  const ask = (p) => patient.chat.completions.create({ model: modelId, messages: [{ role: 'user', content: p }], temperature: 0, max_tokens: 12 });
  const together = await Promise.allSettled(prompts.map(ask));
  for (const [i, p] of prompts.entries()) {
    assert.equal(together[i].status, 'fulfilled', String(together[i].reason));
    const want = await direct([{ role: 'user', content: p }], 12);
    assert.equal(together[i].value.choices[0].message.content, want.text, p);
  }
});
