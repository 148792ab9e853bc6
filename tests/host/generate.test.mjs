// The generation loop against a fake model core (logits a fixed function of the previous token) and a fake
// character-level tokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../../dist/engine/generate.js';
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
 * A ModelCore whose logits after token t peak at next(t) and fall off linearly with the distance (mod V)
 * from it, so greedy decoding follows `next` and sampling at T > 0 spreads around it.
 */
function fakeCore(next, contextLength = 64) {
  const V = VOCAB.length;
  const logits = new Float32Array(V);
  return {
    vocabSize: V,
    contextLength,
    length: 0,
    calls: [],
    resets: 0,
    evaluate(tokens, pos) {
      assert.ok(pos <= this.length, `evaluate at ${pos} but the cache holds ${this.length}`);
      assert.ok(pos + tokens.length <= contextLength, `evaluate past the context: ${pos}+${tokens.length}`);
      this.calls.push({ tokens: [...tokens], pos });
      this.length = pos + tokens.length;
      const want = next(tokens[tokens.length - 1]);
      for (let i = 0; i < V; i++) logits[i] = -((i - want + V) % V);
      return logits;
    },
    truncate(pos) { this.length = Math.min(this.length, pos); },
    attentionStats() { return { kind: 'sparq', r: 4, k: 8, fractionRead: 0.25 }; },
    resetStats() { this.resets++; },
  };
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
  assert.deepEqual(s.attention, { kind: 'sparq', r: 4, k: 8, fractionRead: 0.25 });
  assert.equal(core.resets, 1);
  // prefill, then one evaluation per generated token except the last
  assert.deepEqual(core.calls.map((c) => c.pos), [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('the iterator is lazy: nothing is evaluated before the first pull', async () => {
  const core = fakeCore(cycle);
  const gen = generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 3 });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(core.calls.length, 0);
  const it = gen[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 'b', done: false });
  assert.equal(core.calls.length, 2);
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
  const again = await drain(generate(core, fakeTokenizer(), 'a', { ...greedy, maxTokens: 4 }));
  assert.equal(again.result.text, 'bcST');
  assert.deepEqual(core.calls[0], { tokens: [0, id('a')], pos: 0 });
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

test('long prompts are prefilled in chunks; token-id prompts are used as given', async () => {
  const core = fakeCore(cycle, 1024);
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
