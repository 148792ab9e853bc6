// Many sequences on one model (the default model: Q8_0 weights, whose kernels give each row the same bits in
// any batch): generations of different lengths and settings batched together give exactly the ids each gives
// alone, also when they join and leave mid-stream and on two threads; a copied prefix gives the logits of a
// fresh prefill; a saved session goes on in a new model exactly as if it never stopped; damaged or foreign
// blobs are typed errors and leave the model usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, FormatError, UnsupportedError } from '../../dist/index.js';
import { decoderOf } from '../../dist/engine/model.js';
import { newCounters } from '../../dist/attention/index.js';

const DEFAULT = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
const CHATML = readFileSync(new URL('../fixtures/chat-templates/chatml.jinja', import.meta.url), 'utf8');
const TEXT = 'The old lighthouse keeper climbed the stairs every evening, counting each of the hundred steps, and at the top '
  + 'he wiped the great lens and lit the lamp so that the ships far out on the grey water would find their way home. ';
const SPARQ = { kind: 'sparq', ratio: 1 / 8, denseBelow: 0 };

async function drain(gen) {
  for await (const _ of gen) { /* drain */ }
  return gen.result;
}

/** Requests of different prompt lengths, attention settings and sampling. */
function requests(model) {
  const ids = model.tokenize(TEXT.repeat(4));
  return [
    { prompt: ids.slice(0, 40), opts: { temperature: 0, maxTokens: 24 } },
    { prompt: ids.slice(0, 180), opts: { temperature: 0, maxTokens: 30, attention: SPARQ } },
    { prompt: ids.slice(5, 120), opts: { temperature: 0.9, seed: 7, maxTokens: 20 } },
    { prompt: ids.slice(0, 300), opts: { temperature: 1.1, seed: 3, maxTokens: 16, attention: SPARQ } },
  ];
}

const LOAD = { contextLength: 512, sparqLayout: true, kType: 'q8', vType: 'q8' };

test('batched generations give exactly the ids each gives alone, joining and leaving mid-stream, on 1 and 2 threads', async () => {
  const solo = await loadModel(DEFAULT, { ...LOAD, threads: 1 });
  const alone = [];
  try {
    for (const r of requests(solo)) alone.push((await drain(solo.generate(r.prompt, { ...r.opts, cachePrompt: false }))).tokens);
  } finally { solo.dispose(); }
  for (const threads of [1, 2]) {
    const model = await loadModel(DEFAULT, { ...LOAD, threads, maxSequences: 3, parallelMinWork: 0 });
    try {
      const reqs = requests(model);
      // the first two start together; the third joins after the first has streamed 5 chunks; the fourth
      // waits for a free slot (3 slots)
      const gens = reqs.map((r) => model.generate(r.prompt, r.opts));
      const results = [];
      const first = (async () => {
        let n = 0;
        for await (const _ of gens[0]) if (++n === 5) results[2] = drain(gens[2]);
        return gens[0].result;
      })();
      results[0] = first;
      results[1] = drain(gens[1]);
      results[3] = drain(gens[3]);
      const done = await Promise.all([results[0], results[1], results[3]]);
      const third = await results[2];
      assert.deepEqual([done[0].tokens, done[1].tokens, third.tokens, done[2].tokens], alone, `${threads} thread(s)`);
      assert.equal(model.load.running, 0);
    } finally {
      model.dispose();
    }
  }
});

test('a prompt whose start another slot holds copies those rows: the logits equal a fresh prefill (f32 cache)', async () => {
  const model = await loadModel(DEFAULT, { threads: 1, contextLength: 256, maxSequences: 2 });
  try {
    const ids = model.tokenize(TEXT.repeat(2)).slice(0, 150);
    const dec = decoderOf(model);
    const fresh = dec.evaluateAll(ids, 0);
    const last = fresh.subarray((ids.length - 1) * dec.vocabSize);
    const state = { setting: 'dense', counters: newCounters() };
    dec.copyPrefix(0, 1, 100);
    for (let pos = 100; pos < ids.length; pos += 32) {
      const tokens = ids.slice(pos, Math.min(ids.length, pos + 32));
      dec.forward([{ seq: 1, pos, tokens, state, logits: pos + tokens.length === ids.length, decode: false }]);
    }
    const got = dec.logitsOf(0);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - last[i]));
    assert.ok(worst <= 1e-5, `max |Δlogit| ${worst}`);
  } finally {
    model.dispose();
  }
});

test('generations share a cached prefix across slots and report it', async () => {
  const model = await loadModel(DEFAULT, { threads: 1, contextLength: 512, maxSequences: 2 });
  try {
    const doc = model.tokenize(TEXT.repeat(3));
    const a = model.generate([...doc, ...model.tokenize(' First', { addSpecial: false })], { temperature: 0, maxTokens: 64 });
    const it = a[Symbol.asyncIterator]();
    await it.next(); // slot 0 holds the document and is busy
    const b = await drain(model.generate([...doc, ...model.tokenize(' Second', { addSpecial: false })], { temperature: 0, maxTokens: 4 }));
    assert.ok(b.stats.cachedTokens >= doc.length - 64, `${b.stats.cachedTokens} of ${doc.length} reused`);
    assert.equal(model.load.prefix.copies, 1);
    await it.return();
  } finally {
    model.dispose();
  }
});

const TURNS = ['Tell me a story about a fox.', 'What did the fox find?', 'How did it end?'];

test('a saved session restored in a new model goes on exactly as if it had never stopped', async () => {
  const opts = { threads: 1, contextLength: 512, ...LOAD };
  const sampling = { temperature: 0, maxTokens: 16 };
  const a = await loadModel(DEFAULT, opts);
  let reference, blob;
  try {
    const s = a.createSession({ system: 'You tell short stories.', chatTemplate: CHATML });
    for (const t of TURNS) reference = await drain(s.send(t, sampling));
    const saver = a.createSession({ system: 'You tell short stories.', chatTemplate: CHATML });
    for (const t of TURNS.slice(0, 2)) await drain(saver.send(t, sampling));
    blob = saver.save();
  } finally {
    a.dispose();
  }
  const b = await loadModel(DEFAULT, opts);
  try {
    const restored = b.restoreSession(blob);
    assert.deepEqual(restored.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
    const r = await drain(restored.send(TURNS[2], sampling));
    assert.deepEqual(r.tokens, reference.tokens);
    assert.ok(r.stats.cachedTokens > 0, 'the restored rows were reused');
  } finally {
    b.dispose();
  }
});

test('truncated, changed, foreign and future-version blobs are typed errors and the model stays usable', async () => {
  const model = await loadModel(DEFAULT, { threads: 1, contextLength: 256, ...LOAD });
  const other = await loadModel(DEFAULT, { threads: 1, contextLength: 256 }); // same weights, f32 cache layout
  try {
    const s = model.createSession({ chatTemplate: CHATML });
    await drain(s.send('Hello there.', { temperature: 0, maxTokens: 8 }));
    const blob = s.save();
    assert.throws(() => model.restoreSession(blob.slice(0, blob.length - 9)), FormatError);
    const flipped = blob.slice();
    flipped[Math.floor(blob.length / 2)] ^= 1;
    assert.throws(() => model.restoreSession(flipped), FormatError);
    const future = blob.slice();
    new DataView(future.buffer).setUint32(4, 99, true);
    assert.throws(() => model.restoreSession(future), UnsupportedError);
    assert.throws(() => other.restoreSession(blob), (e) => e instanceof FormatError && e.field === 'layout');
    assert.throws(() => model.restoreSession(new Uint8Array(100)), FormatError);
    assert.throws(() => model.restoreSession('not bytes'), FormatError);
    const ok = await drain(model.restoreSession(blob).send('Again.', { temperature: 0, maxTokens: 4 }));
    assert.equal(ok.stats.stopReason === 'maxTokens' || ok.stats.stopReason === 'eos', true);
  } finally {
    model.dispose();
    other.dispose();
  }
});
