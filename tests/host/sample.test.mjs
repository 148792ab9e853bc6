// Sampler and RNG: each stage against a brute-force full-sort reference, reproducibility, and the empirical
// distribution of draws against softmax(logits / T).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler } from '../../dist/sample/sampler.js';
import { Rng } from '../../dist/sample/rng.js';
import { InvalidArgumentError } from '../../dist/errors.js';

/** Small deterministic generator for test data (independent of the code under test). */
function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

function randomLogits(rand, n, scale) {
  const l = new Float32Array(n);
  for (let i = 0; i < n; i++) l[i] = (rand() + rand() + rand() - 1.5) * scale;
  return l;
}

/** The whole pipeline by definition: full sort, softmax at each stage. Returns Map id -> probability. */
function reference(logits, history, o) {
  const l = Array.from(logits);
  if (o.repeatPenalty !== 1) {
    const seen = new Set();
    for (const id of history.slice(Math.max(0, history.length - o.repeatLastN))) {
      if (seen.has(id)) continue;
      seen.add(id);
      l[id] = l[id] > 0 ? Math.fround(l[id] / o.repeatPenalty) : Math.fround(l[id] * o.repeatPenalty);
    }
  }
  let c = l.map((v, i) => ({ i, v })).sort((a, b) => b.v - a.v || a.i - b.i);
  if (o.temperature === 0) return new Map([[c[0].i, 1]]);
  const softmax = (xs, t) => {
    const m = xs.reduce((a, x) => Math.max(a, x.v), -Infinity);
    const e = xs.map((x) => Math.exp((x.v - m) / t));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  if (o.topK > 0) c = c.slice(0, o.topK);
  if (o.topP < 1) {
    const p = softmax(c, 1);
    let cum = 0;
    let keep = c.length;
    for (let j = 0; j < c.length; j++) { cum += p[j]; if (cum >= o.topP) { keep = j + 1; break; } }
    c = c.slice(0, keep);
  }
  if (o.minP > 0) {
    const p = softmax(c, 1);
    c = c.filter((_, j) => p[j] >= o.minP * p[0]);
  }
  const p = softmax(c, o.temperature);
  return new Map(c.map((x, j) => [x.i, p[j]]));
}

function assertSameDistribution(sampler, logits, history, o, label) {
  const want = reference(logits, history, o);
  const { ids, probs } = sampler.distribution(logits, history);
  const got = new Map(Array.from(ids, (id, j) => [id, probs[j]]));
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), `${label}: kept ids`);
  for (const [id, p] of want) assert.ok(Math.abs(got.get(id) - p) < 1e-9, `${label}: p(${id}) ${got.get(id)} vs ${p}`);
}

const OFF = { temperature: 1, topK: 0, topP: 1, minP: 0, repeatPenalty: 1, repeatLastN: 64 };

test('greedy (temperature 0) picks the argmax, lowest id on ties', () => {
  const rand = lcg(1);
  for (let t = 0; t < 50; t++) {
    const l = randomLogits(rand, 1 + Math.floor(rand() * 500), 5);
    const s = new Sampler(l.length, { temperature: 0, seed: t });
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
    assert.equal(s.sample(l, []), best);
  }
  const tie = new Float32Array([1, 3, 2, 3, 3]);
  assert.equal(new Sampler(5, { temperature: 0 }).sample(tie, []), 1);
});

const CASES = [
  ['temperature only', {}],
  ['top-k', { topK: 7 }],
  ['top-k larger than the vocabulary', { topK: 100000 }],
  ['top-p alone (histogram path)', { topP: 0.8 }],
  ['top-p after top-k', { topK: 20, topP: 0.7 }],
  ['min-p alone', { minP: 0.1 }],
  ['min-p after top-k', { topK: 30, minP: 0.05 }],
  ['repetition penalty', { repeatPenalty: 1.3, repeatLastN: 16 }],
  ['all stages, llama.cpp defaults', { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.1 }],
  ['low temperature, tight top-p', { temperature: 0.3, topP: 0.5, minP: 0.02 }],
  ['greedy with repetition penalty', { temperature: 0, repeatPenalty: 5 }],
];

for (const [label, opts] of CASES) {
  test(`${label} matches the brute-force reference`, () => {
    const rand = lcg(label.length * 7919);
    for (let t = 0; t < 40; t++) {
      const n = 2 + Math.floor(rand() * 300);
      const l = randomLogits(rand, n, [0.5, 3, 10][t % 3]);
      const history = Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * n));
      const o = { ...OFF, ...opts };
      assertSameDistribution(new Sampler(n, { ...o, seed: t }), l, history, o, `${label} #${t}`);
    }
  });
}

test('top-p without top-k over a 128K vocabulary matches the reference', () => {
  const rand = lcg(99);
  const l = randomLogits(rand, 128 * 1024, 4);
  const o = { ...OFF, topP: 0.9, temperature: 0.7 };
  assertSameDistribution(new Sampler(l.length, o), l, [], o, '128K');
});

test('logits with -Infinity entries are never sampled', () => {
  const l = new Float32Array([-Infinity, 0.5, -Infinity, 0.2, -Infinity]);
  for (const o of [{ topK: 0, topP: 1, minP: 0 }, { topK: 4 }, { topK: 0, topP: 0.99 }]) {
    const s = new Sampler(5, { ...o, seed: 3, temperature: 1 });
    for (let i = 0; i < 200; i++) assert.ok([1, 3].includes(s.sample(l, [])));
  }
});

test('Rng is xoshiro128** seeded by splitmix64', () => {
  // splitmix64 from state 0 gives e220a8397b1dcdaf, 6e789e6aa1b965f4 (its published first outputs);
  // the state words are their low and high halves. xoshiro128** written here with BigInt as the reference.
  const s = [0x7b1dcdafn, 0xe220a839n, 0xa1b965f4n, 0x6e789e6an];
  const M = 0xffffffffn;
  const rotl = (x, k) => ((x << k) | (x >> (32n - k))) & M;
  const next = () => {
    const r = (rotl((s[1] * 5n) & M, 7n) * 9n) & M;
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11n);
    return Number(r);
  };
  const rng = new Rng(0);
  for (let i = 0; i < 1000; i++) assert.equal(rng.nextU32(), next());
  const f = new Rng(12345);
  for (let i = 0; i < 1000; i++) { const x = f.nextFloat(); assert.ok(x >= 0 && x < 1); }
});

test('the same seed gives the same sequence; another seed a different one', () => {
  const rand = lcg(5);
  const l = randomLogits(rand, 1000, 2);
  const draw = (seed) => {
    const s = new Sampler(1000, { seed, temperature: 1, topK: 0, topP: 0.95, minP: 0 });
    return Array.from({ length: 200 }, () => s.sample(l, []));
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
});

test('empirical frequencies match softmax(logits / T) within 0.005 over 200000 draws', () => {
  // The standard deviation of each frequency is at most sqrt(0.25 / 200000) ~ 0.0011; 0.005 is > 4 sigma.
  const l = new Float32Array([1.0, 2.5, -0.5, 2.0, 0.0, 1.7, -2.0, 0.9]);
  for (const [T, opts] of [[0.7, {}], [1.5, {}], [1.0, { topK: 4 }], [1.0, { topP: 0.8 }], [0.9, { minP: 0.2 }]]) {
    const o = { ...OFF, ...opts, temperature: T };
    const want = reference(l, [], o);
    const s = new Sampler(l.length, { ...o, seed: 7 });
    const counts = new Array(l.length).fill(0);
    const N = 200000;
    for (let i = 0; i < N; i++) counts[s.sample(l, [])]++;
    for (let i = 0; i < l.length; i++) {
      const diff = Math.abs(counts[i] / N - (want.get(i) ?? 0));
      assert.ok(diff < 0.005, `T=${T} ${JSON.stringify(opts)} id ${i}: |freq - p| = ${diff}`);
    }
  }
});

test('invalid options raise InvalidArgumentError', () => {
  const bad = [
    { temperature: -0.1 }, { temperature: NaN }, { temperature: Infinity },
    { topP: 0 }, { topP: 1.5 }, { topP: NaN }, { topP: -0.2 },
    { topK: -1 }, { topK: 2.5 }, { minP: -0.1 }, { minP: 1.1 }, { minP: NaN },
    { repeatPenalty: 0 }, { repeatPenalty: NaN }, { repeatLastN: -1 }, { seed: 1.5 }, { seed: NaN },
    { temperature: '1' },
  ];
  for (const o of bad) assert.throws(() => new Sampler(10, o), InvalidArgumentError, JSON.stringify(o));
});
