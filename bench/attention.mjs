#!/usr/bin/env node
// Time per decode step of one layer's attention (all heads, single thread) for dense f32, dense q8 and
// SparQ q8 at ratios 1/8 and 1/4, with Llama-3.2-1B shapes (32 query heads, 8 KV heads, d_h 64) and
// Llama-2-7B shapes (32 heads MHA, d_h 128), at several sequence lengths, in one run. Bytes read come from
// the kernels' own accounting (the sequence's attention counters); GB/s = bytes / time. The streaming-read yardstick
// read_sum_f32 is measured in the same run.
//   node bench/attention.mjs [--seqs 1024,4096,16384,32768] [--min-ms 400] [--out bench/results/attention.json]
//     [--md bench/results/attention.md] [--note 'text for the markdown header']
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { createRuntime } from '../dist/threads/create-runtime.js';
import { KVCache } from '../dist/kv/cache.js';
import { Attention, newCounters } from '../dist/attention/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, x, i, all) => (x.startsWith('--') ? [...a, [x.slice(2), all[i + 1]]] : a), []));
const seqs = (args.seqs ?? '1024,4096,16384,32768').split(',').map(Number);
const minMs = Number(args['min-ms'] ?? 400);
const wasm = readFileSync(join(root, 'dist', 'sparq.wasm'));

const SHAPES = [
  { name: 'llama-3.2-1b', nHeads: 32, nKV: 8, d: 64 },
  { name: 'llama-2-7b', nHeads: 32, nKV: 32, d: 128 },
];
const VARIANTS = [
  { name: 'dense f32', type: 'f32', setting: 'dense' },
  { name: 'dense q8', type: 'q8', setting: 'dense' },
  { name: 'sparq q8 1/8', type: 'q8', setting: { kind: 'sparq', ratio: 1 / 8 } },
  { name: 'sparq q8 1/4', type: 'q8', setting: { kind: 'sparq', ratio: 1 / 4 } },
];

function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
}

/** Fill one layer of a cache with S random positions, in chunks. */
function fill(rt, cache, S, nKV, d, rand) {
  const chunk = 256;
  const m = rt.mark();
  const k = rt.alloc('test', 4 * chunk * nKV * d), v = rt.alloc('test', 4 * chunk * nKV * d);
  for (let p = 0; p < S; p += chunk) {
    const n = Math.min(chunk, S - p);
    const kf = rt.f32At(k, n * nKV * d), vf = rt.f32At(v, n * nKV * d);
    for (let i = 0; i < kf.length; i++) { kf[i] = 3 * rand(); vf[i] = 2 * rand(); }
    cache.store(0, p, k, v, n);
  }
  rt.release(m);
}

/** Median time (ms) of fn over repeated runs lasting at least minMs (at least 3 runs), after a warm-up
 *  long enough for the optimising compiler to take over from the baseline one. */
function time(fn) {
  const w0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - w0 < 100; i++) fn();
  const t = [];
  const start = performance.now();
  while (t.length < 3 || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
    if (t.length >= 50) break;
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

async function readBandwidth() {
  const rt = await createRuntime(wasm);
  const n = 64 << 20; // 256 MiB of f32
  const p = rt.alloc('test', 4 * n);
  rt.f32At(p, n).fill(1);
  const ms = time(() => rt.k.read_sum_f32(p, n));
  return (4 * n) / (ms * 1e6);
}

const rows = [];
const bw = typeof (await createRuntime(wasm)).k.read_sum_f32 === 'function' ? await readBandwidth() : undefined;
for (const shape of SHAPES) {
  for (const S of seqs) {
    const rt = await createRuntime(wasm);
    const rand = lcg(S + shape.d);
    const caches = {};
    for (const type of ['f32', 'q8']) {
      caches[type] = new KVCache(rt, { nLayers: 1, nKVHeads: shape.nKV, headDim: shape.d, capacity: S, kType: type, vType: type, sparqLayout: type === 'q8' });
      fill(rt, caches[type], S, shape.nKV, shape.d, rand);
    }
    const q = rt.alloc('test', 4 * shape.nHeads * shape.d), out = rt.alloc('test', 4 * shape.nHeads * shape.d);
    const qf = rt.f32At(q, shape.nHeads * shape.d);
    for (let i = 0; i < qf.length; i++) qf[i] = 2 * rand();
    let denseQ8;
    for (const v of VARIANTS) {
      const att = new Attention(rt, caches[v.type].spec, { nHeads: shape.nHeads, nKVHeads: shape.nKV, headDim: shape.d, reallocation: shape.nKV === shape.nHeads });
      const seq = { cache: caches[v.type], setting: v.setting, counters: newCounters() };
      const ms = time(() => att.run(0, seq, q, out, S - 1, 1));
      const st = seq.counters;
      const bytes = st.bytesRead / st.steps;
      const row = { shape: shape.name, S, variant: v.name, msPerStep: ms, bytesRead: bytes, fractionRead: st.bytesRead / st.denseBytes, gbps: bytes / (ms * 1e6), r: st.r, k: st.k };
      if (v.name === 'dense q8') denseQ8 = ms;
      if (v.type === 'q8' && denseQ8) row.speedupVsDenseQ8 = denseQ8 / ms;
      rows.push(row);
      console.error(`${shape.name} S=${S} ${v.name}: ${ms.toFixed(3)} ms`);
    }
  }
}

const pad = (s, n) => String(s).padStart(n);
console.log(`read_sum_f32: ${bw ? bw.toFixed(2) + ' GB/s' : 'n/a'} (single thread, same run)`);
console.log(['shape', 'S', 'variant', 'ms/step', 'MB read', 'frac', 'GB/s', 'r', 'k', 'x dense q8'].map((h, i) => pad(h, [13, 6, 13, 9, 9, 6, 6, 4, 5, 10][i])).join(' '));
for (const r of rows) {
  console.log([r.shape, r.S, r.variant, r.msPerStep.toFixed(3), (r.bytesRead / 1e6).toFixed(2), r.fractionRead.toFixed(3), r.gbps.toFixed(2), r.r ?? '-', r.k ?? '-', r.speedupVsDenseQ8 ? r.speedupVsDenseQ8.toFixed(2) : '-']
    .map((x, i) => pad(x, [13, 6, 13, 9, 9, 6, 6, 4, 5, 10][i])).join(' '));
}
const date = new Date().toISOString();
if (args.out) {
  mkdirSync(dirname(join(root, args.out)), { recursive: true });
  writeFileSync(join(root, args.out), JSON.stringify({ date, cpu: cpus()[0]?.model, node: process.version, threads: 1, readSumF32GBps: bw, rows }, null, 2) + '\n');
}
if (args.md) {
  const lines = [
    '# One layer\'s decode-step attention (bench/attention.mjs)',
    '',
    `${date}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}, one thread. ` +
      `read_sum_f32 in the same run: ${bw ? bw.toFixed(1) + ' GB/s' : 'n/a'}. Median ms per step (at least ${minMs} ms of runs per case).`,
    ...(args.note ? ['', args.note] : []),
    '',
    '| shape | S | variant | ms/step | MB read | fraction | GB/s | r | k | x dense q8 |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.shape} | ${r.S} | ${r.variant} | ${r.msPerStep.toFixed(3)} | ${(r.bytesRead / 1e6).toFixed(2)} | ${r.fractionRead.toFixed(3)} | ${r.gbps.toFixed(2)} | ${r.r ?? '-'} | ${r.k ?? '-'} | ${r.speedupVsDenseQ8 ? r.speedupVsDenseQ8.toFixed(2) : '-'} |`),
  ];
  mkdirSync(dirname(join(root, args.md)), { recursive: true });
  writeFileSync(join(root, args.md), lines.join('\n') + '\n');
}
