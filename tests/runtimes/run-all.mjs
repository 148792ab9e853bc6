// One conformance case (models/default.gguf, greedy, 32 tokens) in every runtime the bundles target; each must
// reproduce the ids of the Node bundle. A runtime that cannot start fails its test; only an absent model
// skips. Needs: node tools/build.mjs && node tools/bundle.mjs, the npm packages deno, workerd and
// playwright-core, and the Debian package chromium.
//   node tests/runtimes/run-all.mjs
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundles, kquantModel, removeKquantModel, model, modelSkip, nodeReference, requireBundles, root, sessionReference, SESSION_LOAD } from './common.mjs';
import { greedy, openaiCompletion, continueSession, MAX_TOKENS } from './case.mjs';
import { runDeno } from './deno.mjs';
import { runWorkerd } from './workerd.mjs';
import { chromiumMissing, runChromium, runElectronRenderer } from './chromium.mjs';

requireBundles();
after(removeKquantModel);
const skip = modelSkip;
// Without Chromium the browser cases skip, naming the install command; in CI (CI=true) they run and fail.
const missing = await chromiumMissing();
const browserSkip = modelSkip || (missing && process.env.CI !== 'true' ? missing : false);

test('the workers and browser bundles import no Node built-ins; the deno bundle only on demand', () => {
  for (const t of ['deno', 'workers', 'browser']) {
    const js = readFileSync(join(bundles, t, 'index.js'), 'utf8');
    assert.doesNotMatch(js, /from\s*["']node:|require\(/, `dist/bundles/${t}/index.js`);
    // Deno provides node: modules; the thread code imports them only where process.versions.node is set.
    if (t !== 'deno') assert.doesNotMatch(js, /import\(\s*["']node:/, `dist/bundles/${t}/index.js`);
  }
});

test('node: the bundle generates 32 tokens; on 2 threads, it and the file-by-file build in dist/ give the same', { skip }, async () => {
  const ref = await nodeReference();
  assert.equal(ref.ids.length, MAX_TOKENS);
  assert.equal(ref.threads, 1);
  for (const entry of [join(bundles, 'node', 'index.js'), join(root, 'dist', 'index.js')]) {
    const r = await greedy(await import(entry), model, { threads: 2 });
    assert.equal(r.threads, 2, entry);
    assert.deepEqual(r.ids, ref.ids, entry);
  }
});

test('node: an uncaught error from the bundle prints its message and a short stack, not the bundled source', () => {
  const entry = pathToFileURL(join(bundles, 'node', 'index.js')).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const s = await import(${JSON.stringify(entry)}); await s.loadModel(42);`],
    { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /InvalidArgumentError: loadModel: source must be/);
  assert.match(r.stderr, /bundles\/node\/index\.js:\d+:\d+/);
  assert.ok(r.stderr.length < 4000, `${r.stderr.length} bytes on stderr`);
});

test('node: Blob, Response, R2-style { body, size }, ReadableStream and ArrayBuffer sources give the same ids', { skip }, async () => {
  const ref = await nodeReference();
  const sparq = await import(join(bundles, 'node', 'index.js'));
  const bytes = readFileSync(model);
  const stream = () => new Blob([bytes]).stream();
  const sources = {
    blob: new Blob([bytes]),
    response: new Response(stream(), { headers: { 'content-length': String(bytes.length) } }),
    r2: { body: stream(), size: bytes.length, key: 'model.gguf' },
    stream: stream(),
    arrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  };
  for (const [kind, source] of Object.entries(sources)) assert.deepEqual((await greedy(sparq, source, { threads: 1 })).ids, ref.ids, kind);
});

test('node: contextLength auto fits the budget; a refused model names the numbers and cancels its stream', { skip }, async () => {
  const sparq = await import(join(bundles, 'node', 'index.js'));
  const bytes = readFileSync(model);
  const fitted = await greedy(sparq, model, { threads: 1, memoryLimit: 40 * 2 ** 20, contextLength: 'auto' });
  assert.ok(fitted.contextLength > 64 && fitted.contextLength < 2048, `auto chose ${fitted.contextLength}`);
  assert.deepEqual(fitted.ids, (await nodeReference()).ids);
  let cancelled = false;
  const body = new ReadableStream({
    start(c) { c.enqueue(bytes.slice()); },
    cancel() { cancelled = true; },
  });
  await assert.rejects(sparq.loadModel({ body, size: bytes.length, key: 'big' }, { memoryLimit: 2 ** 20 }), (e) => {
    assert.equal(e.name, 'OutOfMemoryError');
    assert.equal(e.limitBytes, 2 ** 20);
    assert.match(e.message, /^big: .*weights 27\.1 MiB.* memory limit (is|of) 1\.0 MiB/);
    return true;
  });
  assert.equal(cancelled, true);
});

/** Checks an OpenAI-API case result against the node reference text. */
function assertCompletion(r, ref, where) {
  assert.equal(r.text, ref.text, `${where}: completion text`);
  assert.equal(r.streamedText, r.text, `${where}: the streamed events add up to the completion`);
  assert.ok(r.events > 1, `${where}: the text arrives as separate events`);
}

test('node: the OpenAI-compatible handler, called directly, completes with the node text', { skip }, async () => {
  const ref = await nodeReference();
  const r = await openaiCompletion(await import(join(bundles, 'node', 'index.js')), model, { threads: 1 });
  assertCompletion(r, ref, 'node');
  assert.equal(r.finish, 'length');
  assert.equal(r.usage.completion_tokens, MAX_TOKENS);
});

test('node: a session saved in Node and restored in a new model goes on as if it never stopped', { skip }, async () => {
  const ref = await sessionReference();
  const r = await continueSession(await import(join(bundles, 'node', 'index.js')), model, ref.blob, SESSION_LOAD);
  assert.deepEqual(r.tokens, ref.tokens);
  assert.ok(r.cachedTokens > 0, 'the restored rows were reused');
});

test('deno: same ids as node (path source, Deno.open stream, 2 threads; a K-quant model on the relaxed-SIMD build); the handler completes with the node text; a Node session goes on; denied and missing paths are typed', { skip }, async (t) => {
  const r = await runDeno();
  assert.equal(r.threads, 2);
  // deno 2.9.6 (pinned) validates relaxed SIMD and passes the self-check
  assert.equal(r.kquant.kernels, 'relaxed');
  assert.deepEqual(r.kquant.ids, (await kquantModel()).reference.ids, 'deno: the K-quant model gives the ids of the portable build in Node');
  t.diagnostic(`deno ${r.deno} (V8 ${r.v8}): kernels ${r.kquant.kernels}`);
  assert.deepEqual(r.ids, (await nodeReference()).ids);
  assert.equal(r.text, (await nodeReference()).text);
  assertCompletion(r.openai, await nodeReference(), 'deno');
  assert.deepEqual(r.session.tokens, (await sessionReference()).tokens, 'deno: the saved session goes on as in Node');
  assert.deepEqual(r.errors, { denied: 'PermissionError', missing: 'NotFoundError' });
});

test('workerd: the Worker is the OpenAI-compatible handler: node text, whole and streamed; a model over 128 MiB is refused with the numbers; a Node session goes on', { skip }, async () => {
  const ref = await nodeReference();
  const r = await runWorkerd();
  assertCompletion(r, ref, 'workerd');
  assert.equal(r.refusal.status, 507);
  assert.equal(r.refusal.body.error.code, 'out_of_memory');
  assert.equal(r.refusal.body.error.limitBytes, 128 * 2 ** 20);
  assert.ok(r.refusal.body.error.requiredBytes > r.refusal.body.error.limitBytes);
  assert.match(r.refusal.body.error.message, /weights [\d.]+ MiB .*memory limit of 128\.0 MiB/);
  assert.equal(r.textAfterRefusal, ref.text, 'the worker still serves after refusing');
  assert.deepEqual(r.session.tokens, (await sessionReference()).tokens, 'workerd: the saved session goes on as in Node');
});

test('chromium: one thread in a plain page, two when cross-origin isolated, in the page and a Web Worker: the node ids (a K-quant model too, on the kernel build the page picks); the page calls the handler directly and goes on with a Node session', { skip: browserSkip }, async (t) => {
  const ref = await nodeReference();
  const dir = mkdtempSync(join(tmpdir(), 'sparq-chromium-'));
  const sessionFile = join(dir, 'session.bin');
  writeFileSync(sessionFile, (await sessionReference()).blob);
  let r;
  try { r = await runChromium(sessionFile); } finally { rmSync(dir, { recursive: true, force: true }); }
  assert.equal(r.plain.crossOriginIsolated, false);
  assert.equal(r.isolated.crossOriginIsolated, true);
  for (const [mode, threads] of [['plain', 1], ['isolated', 2]]) {
    for (const where of ['page', 'worker']) {
      assert.equal(r[mode][where].threads, threads, `${mode} ${where}: threads`);
      assert.deepEqual(r[mode][where].ids, ref.ids, `${mode} ${where}`);
    }
    assert.deepEqual(r[mode].kquant.ids, (await kquantModel()).reference.ids, `${mode}: the K-quant model gives the ids of the portable build in Node`);
    t.diagnostic(`chromium ${r.version} ${mode}: kernels ${r[mode].kquant.kernels}`);
    assertCompletion(r[mode].openai, ref, `chromium ${mode} page`);
    assert.deepEqual(r[mode].session.tokens, (await sessionReference()).tokens, `chromium ${mode}: the saved session goes on as in Node`);
  }
});

test('electron renderer half: examples/electron/renderer in Chromium generates the node text, on 2 threads', { skip: browserSkip }, async () => {
  const ref = await nodeReference();
  const r = await runElectronRenderer();
  assert.match(r.status, /on 2 thread\(s\), crossOriginIsolated=true/);
  assert.ok(r.output.startsWith(ref.text), `64 greedy tokens begin with the 32 of node: ${JSON.stringify(r.output)}`);
  assert.equal(r.mainDisabled, true, 'no main process outside Electron');
});
