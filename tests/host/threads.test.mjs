// The worker pool: results that do not depend on the thread count, the single-thread fallback, clean
// shutdown, abort, and a dead worker failing the pending call. parallelMinWork: 0 makes every weight kernel
// and attention call split, however small the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, SparqError } from '../../dist/index.js';
import { createRuntime } from '../../dist/threads/create-runtime.js';
import { whenAllThreadsEnded } from '../../dist/threads/pool.js';
import { convertHFToGGUF, quantizeGGUF } from '../../dist/convert/index.js';

const stories = fileURLToPath(new URL('../../../shared/data/stories260K/stories260K.gguf', import.meta.url));
const skipStories = existsSync(stories) ? false : 'needs ../shared/data/stories260K (absent)';
const gqa = fileURLToPath(new URL('../fixtures/llama-gqa', import.meta.url));
const gqaRef = JSON.parse(readFileSync(`${gqa}/reference.json`, 'utf8'));
const wasm = readFileSync(new URL('../../dist/sparq.wasm', import.meta.url));
const split = { parallelMinWork: 0 };

async function greedy(model, prompt, maxTokens) {
  const gen = model.generate(prompt, { temperature: 0, maxTokens });
  for await (const _ of gen) { /* drain */ }
  return gen.result;
}

/** Runs fn with console.warn captured; returns [fn's result, the warnings]. */
async function capturingWarnings(fn) {
  const warns = [];
  const orig = console.warn;
  console.warn = (...a) => warns.push(a.join(' '));
  try { return [await fn(), warns]; } finally { console.warn = orig; }
}

test('stories260K: greedy ids are identical on 1, 2 and 3 threads', { skip: skipStories }, async () => {
  const runs = [];
  for (const threads of [1, 2, 3]) {
    const model = await loadModel(stories, { threads, ...split });
    assert.equal(model.info.threads, threads);
    runs.push((await greedy(model, [1], 96)).tokens);
    model.dispose();
  }
  assert.equal(runs[0].length, 96);
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
});

test('stories260K with SparQ decode steps, with and without reallocation: greedy ids are identical on 1 and 2 threads', { skip: skipStories }, async () => {
  for (const reallocation of [false, true]) {
    const runs = [];
    for (const threads of [1, 2]) {
      const model = await loadModel(stories, { threads, ...split, contextLength: 512, attention: { kind: 'sparq', ratio: 1 / 8 }, reallocation });
      const r = await greedy(model, [1], 420);
      assert.ok(r.stats.attention.r !== undefined, 'SparQ steps ran'); // past 320 positions
      runs.push(r.tokens);
      model.dispose();
    }
    assert.deepEqual(runs[1], runs[0], `reallocation ${reallocation}`);
  }
});

test('llama-gqa fixture: logits and greedy ids are bitwise identical on 1, 2 and 3 threads', async () => {
  const prompt = gqaRef.prompt.ids_with_bos;
  let logits1, ids1;
  for (const threads of [1, 2, 3]) {
    const model = await loadModel(gqa, { threads, ...split });
    assert.equal(model.info.threads, threads);
    const logits = model.logits(prompt);
    const { tokens } = await greedy(model, prompt, gqaRef.greedy.n_new);
    model.dispose();
    assert.deepEqual(tokens, gqaRef.greedy.ids, `${threads} threads: greedy ids match transformers`);
    if (threads === 1) { logits1 = logits; ids1 = tokens; continue; }
    assert.deepEqual(tokens, ids1);
    assert.ok(logits.every((x, i) => Object.is(x, logits1[i])), `${threads} threads: logits differ from 1 thread`);
  }
});

test('each weight kernel family (llama-gqa converted and quantised): logits are bitwise identical on 1 and 3 threads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-threads-'));
  try {
    const f32 = join(dir, 'F32.gguf');
    await convertHFToGGUF(gqa, f32, 'F32', { warn: () => {} });
    const prompt = gqaRef.prompt.ids_with_bos.slice(0, 40); // a 32-token batch (matmul) and a tail of 8
    // one type per kernel file (the types of matmul_legacy.ts and of matmul_kquant.ts share their row loops)
    for (const type of ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q6_K']) {
      let file = f32;
      if (type === 'BF16') file = gqa; // the fixture as stored
      else if (type === 'F16') await convertHFToGGUF(gqa, file = join(dir, 'F16.gguf'), 'F16', { warn: () => {} });
      else if (type !== 'F32') await quantizeGGUF(f32, file = join(dir, `${type}.gguf`), type, { pure: true });
      let want;
      for (const threads of [1, 3]) { // 3 threads split 512 rows in blocks of 48, 2 threads in blocks of 64
        const model = await loadModel(file, { threads, ...split });
        const logits = model.logits(prompt);
        model.dispose();
        if (threads === 1) want = logits;
        else assert.ok(logits.every((x, i) => Object.is(x, want[i])), `${type}, ${threads} threads: logits differ from 1 thread`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without SharedArrayBuffer, threads: 2 runs on one thread, says why once and gives the same ids', async () => {
  const prompt = gqaRef.prompt.ids_with_bos;
  const ref = await loadModel(gqa, { threads: 1 });
  const want = (await greedy(ref, prompt, 8)).tokens;
  ref.dispose();
  const saved = globalThis.SharedArrayBuffer;
  delete globalThis.SharedArrayBuffer;
  try {
    const [ids, warns] = await capturingWarnings(async () => {
      const out = [];
      for (let i = 0; i < 2; i++) {
        const model = await loadModel(gqa, { threads: 2, ...split });
        assert.equal(model.info.threads, 1);
        out.push((await greedy(model, prompt, 8)).tokens);
        model.dispose();
      }
      return out;
    });
    assert.deepEqual(ids, [want, want]);
    assert.equal(warns.length, 1, `one warning, got ${JSON.stringify(warns)}`);
    assert.match(warns[0], /one thread: SharedArrayBuffer is not available/);
  } finally {
    globalThis.SharedArrayBuffer = saved;
  }
});

test('dispose ends every worker thread', { timeout: 30000 }, async () => {
  const model = await loadModel(gqa, { threads: 3, ...split });
  assert.equal(model.info.threads, 3);
  await greedy(model, [0, 38, 384], 4);
  model.dispose();
  await whenAllThreadsEnded(); // the supervisor thread's exit: it ends after its workers
});

test('an aborted generation leaves the pool usable: generating again gives the ids of an uninterrupted run', async () => {
  const prompt = gqaRef.prompt.ids_with_bos;
  const model = await loadModel(gqa, { threads: 2, ...split });
  const [, warns] = await capturingWarnings(async () => {
    const ac = new AbortController();
    const gen = model.generate(prompt, { temperature: 0, maxTokens: 32, signal: ac.signal });
    let chunks = 0;
    for await (const _ of gen) if (++chunks === 3) ac.abort();
    const aborted = await gen.result;
    assert.equal(aborted.stats.stopReason, 'aborted');
    assert.ok(aborted.tokens.length < 32);
    const { tokens } = await greedy(model, prompt, 32);
    assert.deepEqual(tokens, gqaRef.greedy.ids);
  });
  assert.deepEqual(warns, [], 'the pool kept running');
  model.dispose();
});

test('a kernel failure on the pool is an error of that call; a dead worker fails the pending call, then one thread goes on', { timeout: 30000 }, async () => {
  const rt = await createRuntime(wasm, { threads: 2, minParallelWork: 0 });
  assert.equal(rt.threads, 2);
  const rows = 96, cols = 64;
  const w = rt.alloc('test', 4 * rows * cols), x = rt.alloc('test', 4 * cols), y = rt.alloc('test', 4 * rows), want = rt.alloc('test', 4 * rows);
  rt.f32At(w, rows * cols).forEach((_, i, a) => { a[i] = Math.sin(i); });
  rt.f32At(x, cols).forEach((_, i, a) => { a[i] = Math.cos(i); });
  rt.raw.matvec_f32(w, x, want, rows, cols);
  // every task reads far outside memory: whichever thread runs one traps
  assert.throws(() => rt.k.matvec_f32(0xfff00000, x, y, rows, cols), (e) => e instanceof SparqError && /out of bounds/.test(e.message));
  const pool = rt.dispatcher.pool; // (private: the test ends a worker on purpose)
  assert.equal(pool.alive, true);
  rt.k.matvec_f32(w, x, y, rows, cols);
  assert.deepEqual(rt.f32At(y, rows), rt.f32At(want, rows));
  const [, warns] = await capturingWarnings(() => {
    assert.throws(() => pool.crashOneWorker(), (e) => e instanceof SparqError && /worker thread 1 exited with code 1/.test(e.message));
  });
  assert.equal(warns.length, 1);
  assert.equal(pool.alive, false);
  rt.f32At(y, rows).fill(0);
  rt.k.matvec_f32(w, x, y, rows, cols); // on this thread now
  assert.deepEqual(rt.f32At(y, rows), rt.f32At(want, rows));
  rt.dispose();
  await whenAllThreadsEnded();
});
