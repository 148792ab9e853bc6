#!/usr/bin/env node
// Time per decode step of one layer's attention (all heads) over a q8 K/V cache with the SparQ layout: dense,
// and SparQ at ratios 1/8 and 1/16 with the defaults of a layer past the first (mean-value reallocation on),
// with Llama-3.2-1B shapes (32 query heads, 8 KV heads, d_h 64) and Llama-2-7B shapes (32 heads MHA, d_h 128),
// at several sequence lengths, on 1 and 2 threads. Per (threads, shape, S) the variants and the streaming
// read (read_sum_f32 over 256 MiB, split over the threads) run in alternating rounds in this one process;
// the table gives medians of ms per step and the medians of the per-round ratios (speed-up over dense, share
// of the round's streaming read). Bytes read come from the kernels' own accounting (the attention counters).
// A last pass times each kernel call (every stage of a step) by wrapping the runtime's call and runTasks:
// "host" is the rest of the step (argument packing, the JS merges of parts and softmax sums).
//   node bench/attention.mjs [--seqs 4096,16384,32768] [--threads 1,2] [--shapes llama-3.2-1b,llama-2-7b]
//     [--rounds 7] [--out bench/results/attention.json] [--md bench/results/attention.md] [--note 'header text']
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRuntime } from '../dist/threads/create-runtime.js';
import { KVCache } from '../dist/kv/cache.js';
import { Attention, newCounters } from '../dist/attention/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: {
  seqs: { type: 'string', default: '4096,16384,32768' }, threads: { type: 'string', default: '1,2' },
  shapes: { type: 'string', default: 'llama-3.2-1b,llama-2-7b' }, rounds: { type: 'string', default: '7' },
  out: { type: 'string' }, md: { type: 'string' }, note: { type: 'string' },
} });
const seqs = a.seqs.split(',').map(Number);
const threadCounts = a.threads.split(',').map(Number);
const rounds = Number(a.rounds);
const wasm = readFileSync(join(root, 'dist', 'sparq.wasm'));
const threadsWasm = readFileSync(join(root, 'dist', 'sparq-threads.wasm'));

const SHAPES = [
  { name: 'llama-3.2-1b', nHeads: 32, nKV: 8, d: 64 },
  { name: 'llama-2-7b', nHeads: 32, nKV: 32, d: 128 },
].filter((s) => a.shapes.split(',').includes(s.name));
const VARIANTS = [
  { name: 'dense q8', setting: 'dense' },
  { name: 'sparq 1/8', setting: { kind: 'sparq', ratio: 1 / 8 } },
  { name: 'sparq 1/16', setting: { kind: 'sparq', ratio: 1 / 16 } },
];
const STREAM_BYTES = 256 * 2 ** 20;

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

const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** ms per call of fn, over enough calls to last about 60 ms (at least 2). */
function batch(fn) {
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  const n = Math.max(2, Math.min(200, Math.round(60 / Math.max(once, 0.01))));
  const t1 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t1) / n;
}

/** Per kernel name, ms spent in rt.call / rt.runTasks while fn runs (nested calls count once). */
function stageTimes(rt, fn, steps) {
  const ms = {};
  let depth = 0;
  const wrap = (orig) => function (kernel, ...rest) {
    if (depth > 0) return orig.call(this, kernel, ...rest);
    depth++;
    const t0 = performance.now();
    try { return orig.call(this, kernel, ...rest); } finally {
      ms[kernel] = (ms[kernel] ?? 0) + performance.now() - t0;
      depth--;
    }
  };
  rt.call = wrap(Object.getPrototypeOf(rt).call);
  rt.runTasks = wrap(Object.getPrototypeOf(rt).runTasks);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) fn();
  const total = performance.now() - t0;
  delete rt.call;
  delete rt.runTasks;
  let inKernels = 0;
  for (const k of Object.keys(ms)) { ms[k] /= steps; inKernels += ms[k]; }
  ms.host = total / steps - inKernels;
  return ms;
}

const rows = [];
const load0 = loadavg();
for (const threads of threadCounts) {
  for (const shape of SHAPES) {
    for (const S of seqs) {
      const rt = await createRuntime(threads > 1 ? threadsWasm : wasm, { threads, threadsModule: threads > 1 ? threadsWasm : undefined });
      const rand = lcg(S + shape.d);
      const cache = new KVCache(rt, { nLayers: 1, nKVHeads: shape.nKV, headDim: shape.d, capacity: S, kType: 'q8', vType: 'q8', sparqLayout: true });
      fill(rt, cache, S, shape.nKV, shape.d, rand);
      const q = rt.alloc('test', 4 * shape.nHeads * shape.d), out = rt.alloc('test', 4 * shape.nHeads * shape.d);
      const qf = rt.f32At(q, shape.nHeads * shape.d);
      for (let i = 0; i < qf.length; i++) qf[i] = 2 * rand();
      // the streaming read: 256 MiB, one part per thread
      const buf = rt.alloc('test', STREAM_BYTES);
      rt.u8At(buf, STREAM_BYTES).fill(1);
      const part = STREAM_BYTES / threads;
      const stream = () => rt.runTasks('read_sum_f32', threads, STREAM_BYTES, (t) => ({ ptr: buf + t * part, n: part / 4 }));
      // reallocation on: what a ratio setting does in every layer but the first
      const att = new Attention(rt, cache.spec, { nHeads: shape.nHeads, nKVHeads: shape.nKV, headDim: shape.d, reallocation: true });
      const runs = VARIANTS.map((v) => {
        const seq = { cache, setting: v.setting, counters: newCounters() };
        return { v, seq, step: () => att.run(0, seq, q, out, S - 1, 1), ms: [], bytes: 0 };
      });
      for (const r of runs) for (let i = 0; i < 3; i++) r.step(); // warm-up: the optimising compiler takes over
      for (let i = 0; i < 3; i++) stream();
      const streamGBps = [];
      for (let round = 0; round < rounds; round++) {
        streamGBps.push(STREAM_BYTES / (batch(stream) * 1e6));
        for (const r of runs) r.ms.push(batch(r.step));
      }
      for (const r of runs) {
        const c = r.seq.counters;
        r.bytes = c.bytesRead / c.steps;
        r.fraction = c.bytesRead / c.denseBytes;
        r.stages = stageTimes(rt, r.step, 5);
      }
      const dense = runs[0];
      for (const r of runs) {
        const row = {
          threads, shape: shape.name, S, variant: r.v.name, msPerStep: median(r.ms), bytesRead: r.bytes, fractionRead: r.fraction,
          gbps: r.bytes / (median(r.ms) * 1e6), streamGBps: median(streamGBps),
          ofStream: median(r.ms.map((ms, i) => r.bytes / (ms * 1e6) / streamGBps[i])),
          speedup: r === dense ? undefined : median(r.ms.map((ms, i) => dense.ms[i] / ms)),
          r: r.seq.counters.r, k: r.seq.counters.k, stages: r.stages,
        };
        rows.push(row);
        console.error(`${threads}t ${shape.name} S=${S} ${r.v.name}: ${row.msPerStep.toFixed(3)} ms, ${row.gbps.toFixed(2)} GB/s ` +
          `(${(100 * row.ofStream).toFixed(0)}% of ${row.streamGBps.toFixed(1)})${row.speedup ? `, ${row.speedup.toFixed(2)}x dense` : ''}; ` +
          Object.entries(r.stages).map(([k, ms]) => `${k} ${ms.toFixed(3)}`).join(', '));
      }
      rt.dispose();
    }
  }
}
const load1 = loadavg();

// the kernels that ran, in order of first appearance, then the host's share
const STAGES = [...new Set(rows.flatMap((r) => Object.keys(r.stages).filter((k) => k !== 'host'))), 'host'];
const fmt = (x, n = 3) => (x === undefined ? '-' : x.toFixed(n));
const date = new Date().toISOString();
const head = `${date}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}; load average ` +
  `${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end. ` +
  `${rounds} alternating rounds per case (each variant and the streaming read once per round, about 60 ms each); ` +
  'q8 K and V with the SparQ layout (q8 K^T); SparQ with reallocation, as in every layer but the first.';
const main = [
  '| threads | shape | S | variant | ms/step | MB read | fraction | GB/s | stream GB/s | % of stream | r | k | x dense |',
  '|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.threads} | ${r.shape} | ${r.S} | ${r.variant} | ${fmt(r.msPerStep)} | ${(r.bytesRead / 1e6).toFixed(2)} | ` +
    `${r.fractionRead.toFixed(3)} | ${r.gbps.toFixed(2)} | ${r.streamGBps.toFixed(1)} | ${(100 * r.ofStream).toFixed(0)}% | ${r.r ?? '-'} | ${r.k ?? '-'} | ${fmt(r.speedup, 2)} |`),
];
const stages = [
  `| threads | shape | S | variant | ${STAGES.join(' | ')} |`,
  `|---:|---|---:|---|${STAGES.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.threads} | ${r.shape} | ${r.S} | ${r.variant} | ${STAGES.map((s) => fmt(r.stages[s])).join(' | ')} |`),
];
console.log(head);
console.log(main.join('\n'));
console.log(stages.join('\n'));
if (a.out) {
  mkdirSync(dirname(join(root, a.out)), { recursive: true });
  writeFileSync(join(root, a.out), JSON.stringify({ date, cpu: cpus()[0]?.model, node: process.version, load: [load0, load1], rounds, rows }, null, 1) + '\n');
}
if (a.md) {
  const lines = [
    '# One layer\'s decode-step attention (bench/attention.mjs)', '', head, ...(a.note ? ['', a.note] : []), '',
    `\`node bench/attention.mjs --seqs ${a.seqs} --threads ${a.threads} --shapes ${a.shapes} --rounds ${rounds}\``, '',
    ...main, '',
    '## Where a step goes', '',
    'ms per step in each kernel (all calls of one step, threads included), timed call by call in a last pass of 5 steps; ' +
      '`host` is the rest (argument packing, the JS merges of the parts\' outputs and softmax sums).', '',
    ...stages, '',
  ];
  mkdirSync(dirname(join(root, a.md)), { recursive: true });
  writeFileSync(join(root, a.md), lines.join('\n'));
}
