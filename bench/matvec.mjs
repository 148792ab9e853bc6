#!/usr/bin/env node
// Single-thread weight-streaming speed of the matvec kernels against the plain read kernel.
// Every case streams a 256 MiB weight buffer (much larger than the caches) with K = 4096 columns;
// GB/s counts weight bytes only. Also: f16 weights with subnormals flushed to zero (does the f16
// conversion slow down on subnormal halves?) and prefill matmuls (tokens x weight bytes per second).
//   node bench/matvec.mjs [--out bench/results/matvec.json] [--max-time 1.5] [--only REGEX]
// --only keeps the cases whose label matches REGEX (the read yardstick always runs).
import Benchmark from 'benchmark';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { createRuntime } from '../dist/threads/create-runtime.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const outFile = opt('--out');
const maxTime = Number(opt('--max-time', '1.5'));
const only = opt('--only') ? new RegExp(opt('--only')) : null;

const BYTES = 256 * 2 ** 20;
const K = 4096;
const PREFILL_N = 16;

const rt = await createRuntime(readFileSync(join(root, 'dist', 'sparq.wasm')));
const k = rt.k;
const wPtr = rt.alloc('test', BYTES);
const xPtr = rt.alloc('test', PREFILL_N * K * 4);
const xqPtr = rt.alloc('test', PREFILL_N * (K / 32) * 36);
const xwPtr = rt.alloc('test', PREFILL_N * (K / 32) * 80);
const xkPtr = rt.alloc('test', PREFILL_N * (K / 256) * 560);
const yPtr = rt.alloc('test', PREFILL_N * (BYTES / (K / 32 * 34) + 4) * 4);

// Fixed-seed generator: uniform in [0,1) and approximately N(0,1) (sum of 4 uniforms, rescaled).
let seed = 12345;
const uni = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const gauss = () => (uni() + uni() + uni() + uni() - 2) * Math.sqrt(3);

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function toHalf(v) { // round-to-nearest-even f32 -> f16 bits (finite, |v| < 65504)
  f32buf[0] = v;
  const b = u32buf[0], s = (b >>> 16) & 0x8000, e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  if (e < 103) return s;
  if (e < 113) { // subnormal half
    const full = m | 0x800000, shift = 126 - e;
    let h = full >>> shift; const rem = full & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1))) h++;
    return s | h;
  }
  let h = ((e - 112) << 10) | (m >>> 13); const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return s | h;
}

/** Fill the weight buffer by tiling a ~4 MiB pattern made by `make(u8 view)`; its length is a multiple
 *  of 34 * 4 so Q8_0 block starts (and f32 / f16 elements) line up across copies. PAT = 0: `make` fills the
 *  whole buffer (the quantised types: on this VM a buffer of repeated pages read the integer kernels up to
 *  2x slower than the same kernels on distinct bytes, presumably because the host merges identical pages). */
function fillWeights(make, PAT = 34 * 4 * 32768) {
  const u8 = rt.u8;
  if (PAT === 0) { make(u8.subarray(wPtr, wPtr + BYTES)); return; }
  make(u8.subarray(wPtr, wPtr + PAT));
  for (let off = PAT; off < BYTES; off += PAT) u8.copyWithin(wPtr + off, wPtr, wPtr + PAT);
}
/** Distinct random bytes, fast (xorshift32 over 32-bit words). */
function randomBytes(u8) {
  const a = new Uint32Array(u8.buffer, u8.byteOffset, u8.byteLength >> 2);
  let x = seed | 1;
  for (let i = 0; i < a.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; a[i] = x; }
  seed = x >>> 0;
}
const view = (Ctor, u8) => new Ctor(u8.buffer, u8.byteOffset, u8.byteLength / Ctor.BYTES_PER_ELEMENT);

const weightMakers = {
  f32: (u8) => { const a = view(Float32Array, u8); for (let i = 0; i < a.length; i++) a[i] = 0.02 * gauss(); },
  f16: (u8) => { const a = view(Uint16Array, u8); for (let i = 0; i < a.length; i++) a[i] = toHalf(0.02 * gauss()); },
  f16_nosub: (u8) => {
    const a = view(Uint16Array, u8);
    for (let i = 0; i < a.length; i++) { const h = toHalf(0.02 * gauss()); a[i] = (h & 0x7c00) === 0 ? h & 0x8000 : h; }
  },
  bf16: (u8) => { const a = view(Uint16Array, u8); for (let i = 0; i < a.length; i++) { f32buf[0] = 0.02 * gauss(); a[i] = u32buf[0] >>> 16; } },
  q8_0: (u8) => {
    randomBytes(u8);
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    for (let off = 0; off + 2 <= u8.length; off += 34) dv.setUint16(off, toHalf(0.0005 + 0.001 * uni()), true);
  },
};

const cases = [];
const rowsFor = (rowBytes) => Math.floor(BYTES / rowBytes);
function addMatvec(label, fill, rowBytes, run) { cases.push({ label, fill, rowBytes, rows: rowsFor(rowBytes), run, tokens: 1 }); }

addMatvec('read_sum_f32', 'f32', 4 * K, () => k.read_sum_f32(wPtr, BYTES / 4));
addMatvec('matvec_f32', 'f32', 4 * K, (rows) => k.matvec_f32(wPtr, xPtr, yPtr, rows, K));
addMatvec('matvec_f16', 'f16', 2 * K, (rows) => k.matvec_f16(wPtr, xPtr, yPtr, rows, K));
addMatvec('matvec_f16 (subnormals flushed)', 'f16_nosub', 2 * K, (rows) => k.matvec_f16(wPtr, xPtr, yPtr, rows, K));
addMatvec('matvec_bf16', 'bf16', 2 * K, (rows) => k.matvec_bf16(wPtr, xPtr, yPtr, rows, K));
addMatvec('matvec_q8_0', 'q8_0', (K / 32) * 34, (rows) => k.matvec_q8_0(wPtr, xqPtr, yPtr, rows, K));
cases[cases.length - 1].pattern = 0;
// Legacy and K-quant weights: random bytes with sane f16 scales; activations in Q8W (per 32) or Q8KW (per 256).
const QUANTS = [['q4_0', 32, 18, [0]], ['q4_1', 32, 20, [0, 2]], ['q5_0', 32, 22, [0]], ['q5_1', 32, 24, [0, 2]],
  ['q2_k', 256, 84, [80, 82]], ['q3_k', 256, 110, [108]], ['q4_k', 256, 144, [0, 2]], ['q5_k', 256, 176, [0, 2]], ['q6_k', 256, 210, [208]]];
for (const [name, block, bytes, halves] of QUANTS) {
  weightMakers[name] = (u8) => {
    randomBytes(u8);
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    for (let off = 0; off + bytes <= u8.length; off += bytes) for (const h of halves) dv.setUint16(off + h, toHalf(0.0005 + 0.001 * uni()), true);
  };
  const rowBytes = (K / block) * bytes;
  addMatvec(`matvec_${name}`, name, rowBytes, (rows) => k[`matvec_${name}`](wPtr, block === 32 ? xwPtr : xkPtr, yPtr, rows, K));
  cases[cases.length - 1].pattern = 0; // the whole buffer, no repeated pages (see fillWeights)
}
for (const [type, fill, rowBytes, fn, xp] of [['f32', 'f32', 4 * K, 'matmul_f32', xPtr], ['f16', 'f16', 2 * K, 'matmul_f16', xPtr],
  ['bf16', 'bf16', 2 * K, 'matmul_bf16', xPtr], ['q8_0', 'q8_0', (K / 32) * 34, 'matmul_q8_0', xqPtr]]) {
  // Prefill on 1/8 of the buffer (32 MiB) to keep the run short; its speed is compute-bound anyway.
  const rows = Math.floor(rowsFor(rowBytes) / 8);
  cases.push({ label: `${fn} n=${PREFILL_N}`, fill, rowBytes, rows, tokens: PREFILL_N, prefillOf: type, pattern: type === 'q8_0' ? 0 : undefined,
    run: (r) => k[fn](wPtr, xp, yPtr, r, K, PREFILL_N, r) });
}

// Activations: N(0,1) floats, and their Q8A form.
{
  const x = rt.f32At(xPtr, PREFILL_N * K);
  for (let i = 0; i < x.length; i++) x[i] = gauss();
  k.quantize_q8a(xPtr, xqPtr, PREFILL_N * K);
  k.quantize_q8w(xPtr, xwPtr, PREFILL_N * K);
  k.quantize_q8kw(xPtr, xkPtr, PREFILL_N * K);
}

const results = [];
let filled = null;
for (const c of cases) {
  if (only && c.label !== 'read_sum_f32' && !only.test(c.label)) continue;
  if (filled !== c.fill) { fillWeights(weightMakers[c.fill], c.pattern); filled = c.fill; }
  const bytes = c.label === 'read_sum_f32' ? BYTES : c.rows * c.rowBytes;
  c.run(c.rows); // warm-up (tier-up)
  const b = new Benchmark(c.label, () => c.run(c.rows), { maxTime, minSamples: 5, initCount: 1 });
  b.run();
  const best = Math.min(...b.stats.sample), mean = b.stats.mean;
  results.push({ kernel: c.label, bytes, tokens: c.tokens, bestMs: best * 1e3, meanMs: mean * 1e3,
    gbps: (bytes * c.tokens) / best / 1e9, gbpsMean: (bytes * c.tokens) / mean / 1e9, samples: b.stats.sample.length, prefillOf: c.prefillOf });
}

const read = results[0].gbps;
for (const r of results) r.pctOfRead = (100 * r.gbps) / read;
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('kernel', 34)}${pad('GB/s best', 11)}${pad('GB/s mean', 11)}% of read`);
for (const r of results) {
  console.log(`${pad(r.kernel, 34)}${pad(r.gbps.toFixed(2), 11)}${pad(r.gbpsMean.toFixed(2), 11)}${r.pctOfRead.toFixed(0)}%`);
}
console.log(`(prefill rows: weight bytes x ${PREFILL_N} tokens per second, i.e. per-token speed relative to a matvec)`);
if (outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores`,
    node: process.version, bufferBytes: BYTES, cols: K, prefillTokens: PREFILL_N, results }, null, 2) + '\n');
}
