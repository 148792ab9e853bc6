// The generation loop and the scheduler against a fake model core (logits a fixed function of the previous
// token) and a fake character-level tokenizer: sampling, stop strings, limits, cancellation, laziness, and
// continuous batching over several cache slots (joining, leaving, queueing, prefix reuse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate as generateOn } from '../../dist/engine/generate.js';
import { Scheduler } from '../../dist/engine/scheduler.js';
import { InvalidArgumentError } from '../../dist/errors.js';

// Token 0 = BOS, 1 = EOS, then one character per id; 'OP\nab' is one multi-character token.
const VOCAB = ['<s>', '</s>', 'a', 'b', 'c', 'S', 'T', 'O', 'P', '\n', 'x', 'OP\nab'];
const id = (ch) => VOCAB.indexOf(ch);

function fakeTokenizer(stopIds = [1]) {
  return {
    bos: 0,
    eos: 1,
    stopIds: new Set(stopIds),
    encode(text, { addSpecial = true } = {}) {
      return [...(addSpecial ? [0] : []), ...[...text].map((ch) => { const i = id(ch); assert.ok(i >= 2, `no token for ${ch}`); return i; })];
    },
    decoder() {
      return { push: (t) => VOCAB[t], flush: () => '' };
    },
  };
}

/**
 * A BatchCore whose logits after token t peak at next(t) and fall off linearly with the distance (mod V)
 * from it, so greedy decoding follows `next` and sampling at T > 0 spreads around it. It records every span
 * of every pass, checks that spans only extend what their slot holds, and counts each decode step as a
 * SparQ step that read a quarter of dense.
 */
function fakeCore(next, contextLength = 64, { sequences = 1, batchRows = 32 } = {}) {
  const V = VOCAB.length;
  let logits = [];
  return {
    vocabSize: V, contextLength, sequences, batchRows,
    lengths: new Array(sequences).fill(0),
    calls: [],
    passes: [],
    copies: [],
    forward(spans) {
      assert.ok(spans.reduce((a, s) => a + s.tokens.length, 0) <= batchRows, 'a pass over the batch size');
      assert.equal(new Set(spans.map((s) => s.seq)).size, spans.length, 'one span per slot');
      this.passes.push(spans.map((s) => ({ seq: s.seq, pos: s.pos, n: s.tokens.length })));
      logits = spans.map((s) => {
        assert.ok(s.pos <= this.lengths[s.seq], `evaluate at ${s.pos} but slot ${s.seq} holds ${this.lengths[s.seq]}`);
        assert.ok(s.pos + s.tokens.length <= contextLength, `evaluate past the context: ${s.pos}+${s.tokens.length}`);
        this.calls.push({ tokens: [...s.tokens], pos: s.pos, seq: s.seq });
        this.lengths[s.seq] = s.pos + s.tokens.length;
        if (s.tokens.length === 1) Object.assign(s.state.counters, { steps: s.state.counters.steps + 1, bytesRead: s.state.counters.bytesRead + 1, denseBytes: s.state.counters.denseBytes + 4, r: 4, k: 8 });
        const want = next(s.tokens[s.tokens.length - 1]);
        return Float32Array.from({ length: V }, (_, i) => -((i - want + V) % V));
      });
    },
    logitsOf(i) { return logits[i]; },
    truncate(pos, seq) { this.lengths[seq] = Math.min(this.lengths[seq], pos); },
    copyPrefix(from, to, len) { this.copies.push({ from, to, len }); this.lengths[to] = len; },
    exactLength(_seq, len) { return len; },
    checkAttention() {},
  };
}

/** generate() on a core's own scheduler (one per core, as a Model has). */
function generate(core, tokenizer, prompt, options = {}) {
  core.scheduler ??= new Scheduler(core);
  return generateOn(core.scheduler, core, tokenizer, prompt, options, 'dense');
}

// a -> b -> c -> S -> T -> O -> P -> \n -> a ...; BOS -> a; x -> EOS
const CYCLE = { 0: 'a', 2: 'b', 3: 'c', 4: 'S', 5: 'T', 6: 'O', 7: 'P', 8: '\n', 9: 'a', 10: '</s>', 11: 'c' };
const cycle = (t) => id(CYCLE[t] ?? 'a');

async function drain(gen) {
  const chunks = [];
  for await (const c of gen) chunks.push(c);
  return { chunks, result: await gen.result };
}

const greedy = { temperature: 0 };

test('greedy generation follows the model; maxTokens stops it; stats are filled in', async () => {
  const core = fakeCore(cycle);
  const { chunks, result } = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 10 }));
  assert.equal(result.text, 'bcSTOP\nabc');
  assert.equal(chunks.join(''), result.text);
  assert.deepEqual(result.tokens, [...'bcSTOP\nabc'].map(id));
  const s = result.stats;
  assert.equal(s.stopReason, 'maxTokens');
  assert.equal(s.promptTokens, 2);
  assert.equal(s.generatedTokens, 10);
  assert.ok(s.prefillTokensPerSecond >= 0 && s.decodeTokensPerSecond >= 0);
  assert.deepEqual(s.attention, { kind: 'dense' });
  // prefill, then one evaluation per generated token except the last
  assert.deepEqual(core.calls.map((c) => c.pos), [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const sparq = await drain(generate(fakeCore(cycle), fakeTokenizer(), 'a', { ...greedy, maxTokens: 4, attention: { kind: 'sparq', ratio: 1 / 8 } }));
  assert.deepEqual(sparq.result.stats.attention, { kind: 'sparq', r: 4, k: 8, fractionRead: 0.25 });
});

test('the iterator is lazy: nothing is evaluated before the first pull', async () => {
  const core = fakeCore(cycle);
  const gen = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 3 });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(core.calls.length, 0);
  const it = gen[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 'b', done: false });
  assert.equal(core.calls.length, 1, 'the first token comes from the prefill pass');
  assert.throws(() => gen[Symbol.asyncIterator](), InvalidArgumentError);
});

test('a stop string split across tokens is never emitted, nor anything after it', async () => {
  const core = fakeCore(cycle);
  const { chunks, result } = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, stop: ['TOP'], maxTokens: 50 }));
  assert.equal(result.text, 'bcS');
  assert.deepEqual(chunks, ['b', 'c', 'S']); // 'S' is safe once 'T' arrives: only 'T' could start 'TOP'
  assert.equal(result.stats.stopReason, 'stop');
  assert.deepEqual(result.tokens, [...'bcSTOP'].map(id));
});

test('text held back for a partial stop-string match is released when the match fails', async () => {
  const core = fakeCore(cycle);
  const { chunks, result } = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, stop: ['STX', 'P\nq'], maxTokens: 9 }));
  assert.equal(result.text, 'bcSTOP\nab');
  assert.equal(chunks.join(''), result.text);
  assert.ok(chunks.includes('STO'), `chunks ${JSON.stringify(chunks)}`);
  assert.equal(result.stats.stopReason, 'maxTokens');
});

test('text held back at the end of generation is emitted', async () => {
  const core = fakeCore(cycle);
  const { chunks, result } = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, stop: ['STOPPED'], maxTokens: 6 }));
  assert.equal(result.text, 'bcSTOP');
  assert.deepEqual(chunks, ['b', 'c', 'STOP']);
});

test('a stop string ending inside a multi-character token cuts the token', async () => {
  // after O comes 'OP\nab' (one token); the stop string '\na' ends in its middle
  const next = (t) => (t === id('O') ? id('OP\nab') : cycle(t));
  const { chunks, result } = await drain(generate(fakeCore(next), fakeTokenizer(), 'a', { ...greedy, stop: ['\na'], maxTokens: 50 }));
  assert.equal(result.text, 'bcSTOOP');
  assert.equal(chunks.join(''), 'bcSTOOP');
  assert.equal(result.stats.stopReason, 'stop');
});

test('the earliest of several stop strings wins', async () => {
  const { result } = await drain(generate(fakeCore(cycle), fakeTokenizer(), 'a', { ...greedy, stop: ['P\n', 'ST'], maxTokens: 50 }));
  assert.equal(result.text, 'bc');
});

test('an EOS token ends generation and is neither emitted nor returned', async () => {
  const core = fakeCore(cycle);
  const { result } = await drain(generate(core, fakeTokenizer(), 'cx', { ...greedy, maxTokens: 50 }));
  assert.equal(result.text, '');
  assert.deepEqual(result.tokens, []);
  assert.equal(result.stats.stopReason, 'eos');
  const next = (t) => (t === id('c') ? id('x') : cycle(t));
  const r2 = await drain(generate(fakeCore(next), fakeTokenizer(), 'a', { ...greedy, maxTokens: 50 }));
  assert.equal(r2.result.text, 'bcx');
  assert.equal(r2.result.stats.stopReason, 'eos');
});

test('abort from a timer stops generation cleanly; the next generation starts over at position 0', async () => {
  const core = fakeCore(cycle, 1 << 20);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  const gen = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 1e6, signal: ac.signal });
  const { chunks, result } = await drain(gen);
  assert.equal(result.stats.stopReason, 'aborted');
  assert.ok(result.tokens.length > 0 && result.tokens.length < 1e6, `${result.tokens.length} tokens`);
  assert.equal(chunks.join(''), result.text);

  core.calls.length = 0;
  const again = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 4, cachePrompt: false }));
  assert.equal(again.result.text, 'bcST');
  assert.deepEqual(core.calls[0], { tokens: [0, id('a')], pos: 0, seq: 0 });
});

test('a prompt that starts with what the cache holds is not evaluated again (at least its last token is)', async () => {
  const core = fakeCore(cycle);
  await drain(generate(core, fakeTokenizer(), 'ab', { ...greedy, maxTokens: 3 })); // holds <s> a b c S (T sampled, not fed)
  core.calls.length = 0;
  const r = await drain(generate(core, fakeTokenizer(), 'abcSTx', { ...greedy, maxTokens: 1 }));
  assert.equal(r.result.stats.cachedTokens, 5);
  assert.deepEqual(core.calls[0], { tokens: [id('T'), id('x')], pos: 5, seq: 0 });
  core.calls.length = 0;
  const same = await drain(generate(core, fakeTokenizer(), 'abcSTx', { ...greedy, maxTokens: 1 }));
  assert.equal(same.result.stats.cachedTokens, 6);
  assert.deepEqual(core.calls[0], { tokens: [id('x')], pos: 6, seq: 0 });
});

test('an already-aborted signal generates nothing', async () => {
  const core = fakeCore(cycle);
  const { chunks, result } = await drain(generate(core, fakeTokenizer(), 'a', { signal: AbortSignal.abort() }));
  assert.deepEqual(chunks, []);
  assert.equal(result.stats.stopReason, 'aborted');
  assert.equal(core.calls.length, 0);
});

test('leaving the loop early ends the generation as aborted', async () => {
  const gen = generate(fakeCore(cycle), fakeTokenizer(), 'a', { ...greedy, maxTokens: 50 });
  for await (const c of gen) if (c === 'c') break;
  const r = await gen.result;
  assert.equal(r.text, 'bc');
  assert.equal(r.stats.stopReason, 'aborted');
});

test('the same seed gives the same text; another seed differs', async () => {
  const run = async (seed) => (await drain(generate(fakeCore(cycle), fakeTokenizer([]), 'a', { temperature: 1.5, topK: 0, topP: 1, minP: 0, seed, maxTokens: 40 }))).result.tokens;
  const a = await run(11);
  assert.deepEqual(await run(11), a);
  assert.notDeepEqual(await run(12), a);
});

test('generation stops when the context is full, never evaluating past it', async () => {
  const core = fakeCore(cycle, 8);
  const { result } = await drain(generate(core, fakeTokenizer(), 'ab', { ...greedy, maxTokens: 100 }));
  assert.equal(result.stats.stopReason, 'contextFull');
  // the prompt holds positions 0-2, generated tokens 3-7 are evaluated, one more is sampled from position 7
  assert.equal(result.tokens.length, 6);
  assert.equal(Math.max(...core.calls.map((c) => c.pos + c.tokens.length)), 8);
});

test('a prompt longer than the context is refused up front', () => {
  assert.throws(() => generate(fakeCore(cycle, 8), fakeTokenizer(), 'abcabcabc', {}),
    (e) => e instanceof InvalidArgumentError && e.message === 'prompt has 10 tokens, context is 8');
});

test('long prompts are prefilled in chunks of the batch; token-id prompts are used as given', async () => {
  const core = fakeCore(cycle, 1024, { batchRows: 256 });
  const prompt = Array.from({ length: 600 }, (_, i) => 2 + (i % 3));
  const { result } = await drain(generate(core, fakeTokenizer(), prompt, { ...greedy, maxTokens: 1 }));
  assert.deepEqual(core.calls.map((c) => [c.pos, c.tokens.length]), [[0, 256], [256, 256], [512, 88]]);
  assert.equal(result.stats.promptTokens, 600);
  const core2 = fakeCore(cycle);
  await drain(generate(core2, fakeTokenizer(), 'ab', { ...greedy, maxTokens: 1, addSpecial: false }));
  assert.deepEqual(core2.calls[0].tokens, [id('a'), id('b')]);
});

test('bad arguments raise InvalidArgumentError before anything runs', () => {
  const core = fakeCore(cycle);
  for (const o of [{ maxTokens: -1 }, { maxTokens: 1.5 }, { stop: [''] }, { stop: 'x' }, { temperature: -1 }, { topP: 2 }]) {
    assert.throws(() => generate(core, fakeTokenizer(), 'a', o), InvalidArgumentError, JSON.stringify(o));
  }
  assert.throws(() => generate(core, fakeTokenizer(), [99], {}), InvalidArgumentError);
  assert.throws(() => generate(core, fakeTokenizer(), '', { addSpecial: false }), InvalidArgumentError);
  assert.equal(core.calls.length, 0);
});

test('the generation does not start before its first pull or a read of its result; cancel() ends it', async () => {
  const core = fakeCore(cycle);
  const untouched = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 5 });
  const started = generate(core, fakeTokenizer(), 'ab', { ...greedy, maxTokens: 3 });
  const r = await started.result; // reading the result starts it
  assert.equal(r.text, 'cST');
  assert.equal(core.calls.length, 3); // the prefill, then c and S fed (T is the last, not fed)
  untouched.cancel();
  assert.equal((await untouched.result).stats.stopReason, 'aborted');
  assert.equal(core.calls.length, 3, 'a cancelled generation that never started runs nothing');
});

test('batching: sequences decode together in one pass, and each gets what it gets alone', async () => {
  const alone = [];
  for (const p of ['a', 'bc', 'STO']) alone.push((await drain(generate(fakeCore(cycle), fakeTokenizer(), p, { ...greedy, maxTokens: 6 }))).result.text);
  const core = fakeCore(cycle, 64, { sequences: 3, batchRows: 8 });
  const gens = ['a', 'bc', 'STO'].map((p) => generate(core, fakeTokenizer(), p, { ...greedy, maxTokens: 6 }));
  const results = await Promise.all(gens.map(drain));
  assert.deepEqual(results.map((x) => x.result.text), alone);
  assert.ok(core.passes.some((p) => p.length === 3 && p.every((s) => s.n === 1)), 'a pass decodes all three together');
  assert.deepEqual(new Set(core.calls.map((c) => c.seq)), new Set([0, 1, 2]));
});

test('batching: beyond the slots, generations wait their turn; one that leaves frees its slot for the next', async () => {
  const core = fakeCore(cycle, 64, { sequences: 2 });
  const long = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 1000 >> 4 });
  const short = generate(core, fakeTokenizer(), 'b', { ...greedy, maxTokens: 2 });
  const third = generate(core, fakeTokenizer(), 'c', { ...greedy, maxTokens: 2 });
  const it = long[Symbol.asyncIterator]();
  await it.next();
  const [s, t] = await Promise.all([short.result, third.result]); // the third waits for the short one's slot
  assert.equal(s.text, 'cS');
  assert.equal(t.text, 'ST');
  assert.ok(t.stats.timeToFirstTokenMs >= 0);
  await it.return();
  assert.equal((await long.result).stats.stopReason, 'aborted');
  assert.deepEqual(core.scheduler.load, { running: 0, waiting: 0 });
});

test('batching: a prompt chunk fills what the decoding sequences leave of the batch', async () => {
  const core = fakeCore(cycle, 256, { sequences: 2, batchRows: 8 });
  const decoding = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 40 });
  const it = decoding[Symbol.asyncIterator]();
  await it.next();
  const prompt = Array.from({ length: 30 }, (_, i) => 2 + (i % 3));
  const prefilling = generate(core, fakeTokenizer(), prompt, { ...greedy, maxTokens: 1 });
  await prefilling.result;
  const mixed = core.passes.filter((p) => p.length === 2);
  assert.ok(mixed.length > 0, 'prefill chunks share passes with the decode step');
  for (const p of mixed) assert.deepEqual(p.map((s) => s.n).sort((x, y) => x - y), [1, Math.min(7, p.find((s) => s.n > 1)?.n ?? 1)]);
  await it.return();
});

test('batching: a prompt that starts with what another slot holds copies those rows instead of computing them', async () => {
  const core = fakeCore(cycle, 64, { sequences: 2 });
  const first = generate(core, fakeTokenizer(), 'abcSTOP', { ...greedy, maxTokens: 200 });
  const it = first[Symbol.asyncIterator]();
  await it.next(); // slot 0 holds the prompt and is busy
  const second = await drain(generate(core, fakeTokenizer(), 'abcSTxx', { ...greedy, maxTokens: 1 }));
  assert.deepEqual(core.copies, [{ from: 0, to: 1, len: 6 }]);
  assert.equal(second.result.stats.cachedTokens, 6);
  assert.deepEqual(core.scheduler.prefix, { hits: 1, tokensSaved: 6, copies: 1 });
  await it.return();
});

test('dispose: running and waiting generations end as aborted; new ones fail', async () => {
  const core = fakeCore(cycle, 64, { sequences: 1 });
  const a = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 50 });
  const b = generate(core, fakeTokenizer(), 'b', { ...greedy, maxTokens: 50 });
  const it = a[Symbol.asyncIterator]();
  await it.next();
  void b.result;
  core.scheduler.dispose();
  assert.equal((await a.result).stats.stopReason, 'aborted');
  assert.equal((await b.result).stats.stopReason, 'aborted');
  await assert.rejects(generate(core, fakeTokenizer(), 'c', greedy).result, /disposed/);
});
