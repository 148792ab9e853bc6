#!/usr/bin/env node
// Single-thread speed of the weight kernels against the streaming read.
//   matvec (decode): every case streams a 256 MiB weight buffer (much larger than the caches) with K = 4096
//     columns; GB/s counts weight bytes, and "% of read" compares with the read bound of the same run: the
//     higher of read_sum_f32 over the same buffer and a native C read of its size (bench/lib/read-bandwidth.mjs).
//   matmul (prefill): n tokens against a smaller buffer (--prefill-mib, default 8 MiB); GB/s counts weight
//     bytes x n, i.e. per-token speed on the scale of a matvec.
// With --base, a second kernel module (e.g. a copy of an older dist/sparq.wasm) runs every case too, on its
// own memory holding the same bytes; samples of the two alternate (one call each in turn), so both see the
// same load, and the table gives both and their ratio.
// Times are CPU time of this process (see clock below).
//   node bench/matvec.mjs [--out bench/results/matvec.json] [--wasm module.wasm] [--base old.wasm [--x4-base]] [--rounds 9] [--only REGEX]
//                         [--prefill 32,64] [--prefill-mib 8]
// --only keeps the cases whose label matches REGEX (the read yardstick always runs). --wasm: the module under
// test (default dist/sparq.wasm; e.g. dist/sparq-relaxed.wasm, under a runtime where its relaxed_selfcheck() is 1).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { createRuntime } from '../dist/threads/create-runtime.js';
import { nativeReadBandwidth } from './lib/read-bandwidth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const outFile = opt('--out');
const basePath = opt('--base');
/** --x4-base: the base module runs the x4 kernels too (comparing two builds of them), not the file-layout ones. */
const x4Base = argv.includes('--x4-base');
const rounds = Number(opt('--rounds', '9'));
const only = opt('--only') ? new RegExp(opt('--only')) : null;
const prefillNs = opt('--prefill', '32,64').split(',').filter(Boolean).map(Number);
const PREFILL_BYTES = Number(opt('--prefill-mib', '8')) * 2 ** 20;

const BYTES = 256 * 2 ** 20;
const K = 4096;
const MAX_N = Math.max(1, ...prefillNs);
/** The smallest row of any type (Q2_K's), which sizes the output buffer. */
const MIN_ROW_BYTES = (K / 256) * 84;

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

/** Distinct random bytes, fast (xorshift32 over 32-bit words). Distinct over the whole buffer: on some VMs a
 *  buffer of repeated pages reads the integer kernels up to 2x slower (the host merging identical pages). */
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
};
// Quantised weights: random bytes with sane f16 scale fields. [name, values per block, bytes, f16 field offsets]
const QUANTS = [['q8_0', 32, 34, [0]], ['q4_0', 32, 18, [0]], ['q4_1', 32, 20, [0, 2]], ['q5_0', 32, 22, [0]], ['q5_1', 32, 24, [0, 2]],
  ['q2_k', 256, 84, [80, 82]], ['q3_k', 256, 110, [108]], ['q4_k', 256, 144, [0, 2]], ['q5_k', 256, 176, [0, 2]], ['q6_k', 256, 210, [208]]];
for (const [name, , bytes, halves] of QUANTS) {
  weightMakers[name] = (u8) => {
    randomBytes(u8);
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    for (let off = 0; off + bytes <= u8.length; off += bytes) for (const h of halves) dv.setUint16(off + h, toHalf(0.0005 + 0.001 * uni()), true);
  };
}

/** A module with its buffers: weights, f32 activations and their quantised forms, outputs. */
async function setup(wasm) {
  const rt = await createRuntime(wasm);
  const p = {
    w: rt.alloc('w', BYTES),
    x: rt.alloc('x', MAX_N * K * 4),
    q8a: rt.alloc('q8a', MAX_N * (K / 32) * 36),
    q8w: rt.alloc('q8w', MAX_N * (K / 32) * 80),
    q8kw: rt.alloc('q8kw', MAX_N * (K / 256) * 560),
    q8p: rt.alloc('q8p', MAX_N * (K / 32) * 72),
    q8x: rt.alloc('q8x', MAX_N * (K / 32) * 72),
    q8xk: rt.alloc('q8xk', MAX_N * (K / 256) * 576),
    y: rt.alloc('y', Math.ceil(Math.max(BYTES, MAX_N * PREFILL_BYTES) / MIN_ROW_BYTES) * 4),
  };
  return { rt, k: rt.k, p };
}
const mods = [await setup(readFileSync(opt('--wasm', join(root, 'dist', 'sparq.wasm'))))];
if (basePath) mods.push(await setup(readFileSync(basePath)));
// The interleaved (x4) forms of the weights, repacked from the file layout in each module that has them.
for (const m of mods) if (m.k.x4_bytes) m.p.x4 = m.rt.alloc('x4', Math.ceil(BYTES * 1.03));


// Activations: N(0,1) floats and every quantised form, in each module.
{
  const x = new Float32Array(MAX_N * K);
  for (let i = 0; i < x.length; i++) x[i] = gauss();
  for (const { rt, k, p } of mods) {
    rt.f32At(p.x, x.length).set(x);
    k.quantize_q8a(p.x, p.q8a, x.length);
    k.quantize_q8w(p.x, p.q8w, x.length);
    k.quantize_q8kw(p.x, p.q8kw, x.length);
    k.quantize_q8p?.(p.x, p.q8p, x.length);
    k.quantize_q8x?.(p.x, p.q8x, x.length);
    k.quantize_q8xk?.(p.x, p.q8xk, x.length);
  }
}

const input = (name) => (name === 'q8_0' ? 'q8a' : /^q\d_k$/.test(name) ? 'q8kw' : /^q/.test(name) ? 'q8w' : 'x');
const cases = [];
cases.push({ label: 'read_sum_f32', fill: 'f32', bytes: BYTES, tokens: 1, run: ({ k, p }) => k.read_sum_f32(p.w, BYTES / 4) });
const TYPES = [['f32', 4 * K], ['f16', 2 * K], ['bf16', 2 * K], ...QUANTS.map(([name, block, bytes]) => [name, (K / block) * bytes])];
for (const [name, rowBytes] of TYPES) {
  const rows = Math.floor(BYTES / rowBytes), xi = input(name);
  cases.push({ label: `matvec_${name}`, fill: name, bytes: rows * rowBytes, tokens: 1,
    run: ({ k, p }) => k[`matvec_${name}`](p.w, p[xi], p.y, rows, K) });
  if (name === 'f16') {
    cases.push({ label: 'matvec_f16 (subnormals flushed)', fill: 'f16_nosub', bytes: rows * rowBytes, tokens: 1,
      run: ({ k, p }) => k.matvec_f16(p.w, p.x, p.y, rows, K) });
  }
}
// Interleaved kernels: weights repacked (repack_<type>x4) from the file bytes of the same fill; the base
// module runs the file-layout kernel of the type on those file bytes.
const X4 = [['q8_0', 32], ['q4_0', 32], ['q4_k', 256], ['q5_k', 256], ['q6_k', 256]].filter(([name]) => mods[0].k[`matvec_${name}x4`]);
const x4Type = { q8_0: 8, q4_0: 2, q4_k: 12, q5_k: 13, q6_k: 14 };
const repackedAt = new Map();
function repacked(m, name, rows) {
  if (repackedAt.get(m) !== `${name}/${rows}`) {
    const t0 = performance.now();
    m.k[`repack_${name}x4`](m.p.w, m.p.x4, rows, K);
    if (m === mods[0]) repackTimes[name] = { ms: performance.now() - t0, bytes: rows * TYPES.find(([t]) => t === name)[1] };
    repackedAt.set(m, `${name}/${rows}`);
  }
  return m.p.x4;
}
const repackTimes = {};
for (const [name, block] of X4) {
  const rowBytes = TYPES.find(([t]) => t === name)[1], rows = Math.floor(BYTES / rowBytes / 4) * 4, xi = input(name), x4i = name === 'q8_0' ? 'q8p' : block === 32 ? 'q8x' : 'q8xk';
  cases.push({ label: `matvec_${name}x4`, fill: name, bytes: rows * rowBytes, tokens: 1,
    run: (m) => m.k[`matvec_${name}x4`](repacked(m, name, rows), m.p[x4i], m.p.y, rows, K),
    baseRun: x4Base ? undefined : ({ k, p }) => k[`matvec_${name}`](p.w, p[xi], p.y, rows, K) });
}
for (const n of prefillNs) {
  for (const [name, block] of X4) {
    const rowBytes = TYPES.find(([t]) => t === name)[1], rows = Math.floor(PREFILL_BYTES / rowBytes / 16) * 16, xi = input(name), x4i = name === 'q8_0' ? 'q8p' : block === 32 ? 'q8x' : 'q8xk';
    cases.push({ label: `matmul_${name}x4 n=${n}`, fill: name, bytes: rows * rowBytes, tokens: n,
      run: (m) => m.k[`matmul_${name}x4`](repacked(m, name, rows), m.p[x4i], m.p.y, rows, K, n, rows),
      baseRun: x4Base ? undefined : ({ k, p }) => k[`matmul_${name}`](p.w, p[xi], p.y, rows, K, n, rows) });
  }
}
for (const n of prefillNs) {
  for (const [name, rowBytes] of TYPES) {
    const rows = Math.floor(PREFILL_BYTES / rowBytes / 16) * 16, xi = input(name);
    cases.push({ label: `matmul_${name} n=${n}`, fill: name, bytes: rows * rowBytes, tokens: n,
      run: ({ k, p }) => k[`matmul_${name}`](p.w, p[xi], p.y, rows, K, n, rows) });
  }
}

/** Fills every module's weight buffer with the same bytes. */
function fill(kind) {
  const first = mods[0].rt.u8.subarray(mods[0].p.w, mods[0].p.w + BYTES);
  weightMakers[kind](first);
  for (const m of mods.slice(1)) m.rt.u8.set(first, m.p.w);
}

/** Milliseconds of this process's CPU time (user + system): unlike wall time, it leaves out the time the
 *  process waits for a core that other work holds (the runs here share 2 cores with other jobs). */
const clock = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const results = [];
let filled = null;
for (const c of cases) {
  if (only && c.label !== 'read_sum_f32' && !only.test(c.label)) continue;
  if (filled !== c.fill) { fill(c.fill); filled = c.fill; repackedAt.clear(); }
  const runOf = (j) => (j > 0 && c.baseRun ? c.baseRun : c.run);
  mods.forEach((m, j) => runOf(j)(m)); // warm-up (tier-up)
  const ms = mods.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < mods.length; j++) {
      const m = (i & 1) ? mods.length - 1 - j : j; // alternate which module goes first
      const t0 = clock();
      runOf(m)(mods[m]);
      ms[m].push(clock() - t0);
    }
  }
  // new/base per round (the same load for both), before sorting
  const ratios = mods.length > 1 ? ms[1].map((b, i) => b / ms[0][i]).sort((x, y) => x - y) : null;
  const stats = ms.map((a) => {
    a.sort((x, y) => x - y);
    return { bestMs: a[0], medianMs: a[a.length >> 1], gbps: (c.bytes * c.tokens) / a[0] / 1e6, gbpsMedian: (c.bytes * c.tokens) / a[a.length >> 1] / 1e6 };
  });
  results.push({ kernel: c.label, bytes: c.bytes, tokens: c.tokens, ...stats[0], base: stats[1], ratio: ratios ? ratios[ratios.length >> 1] : undefined });
}

const read = results[0].gbps, baseRead = results[0].base?.gbps;
const native = nativeReadBandwidth(BYTES, { cpu: true });
const bound = Math.max(read, native?.gbps ?? 0);
for (const r of results) {
  r.pctOfRead = (100 * r.gbps) / bound;
  if (r.base) r.base.pctOfRead = (100 * r.base.gbps) / bound;
}
const pad = (s, n) => String(s).padEnd(n);
const head = `${pad('kernel', 34)}${pad('GB/s best', 11)}${pad('median', 9)}${pad('% of read', 11)}`;
console.log(basePath ? `${head}${pad('base best', 11)}${pad('median', 9)}${pad('% of read', 11)}new/base` : head);
for (const r of results) {
  let line = `${pad(r.kernel, 34)}${pad(r.gbps.toFixed(2), 11)}${pad(r.gbpsMedian.toFixed(2), 9)}${pad(r.pctOfRead.toFixed(0) + '%', 11)}`;
  if (r.base) line += `${pad(r.base.gbps.toFixed(2), 11)}${pad(r.base.gbpsMedian.toFixed(2), 9)}${pad(r.base.pctOfRead.toFixed(0) + '%', 11)}${r.ratio.toFixed(2)}x`;
  console.log(line);
}
console.log(`read bound: ${bound.toFixed(2)} GB/s = the higher of read_sum_f32 ${read.toFixed(2)}${baseRead ? ` (base module's ${baseRead.toFixed(2)})` : ''}`
  + ` and ${native ? `the native read ${native.gbps.toFixed(2)} (one stream ${native.one.toFixed(2)}, 4 streams ${native.four.toFixed(2)})` : 'no native read (gcc missing)'}`);
console.log('(matmul rows: weight bytes x n tokens per second, i.e. per-token speed on the scale of a matvec)');
if (basePath) console.log('(new/base: median over rounds of base time / new time, the two timed back to back; the x4 rows: the base runs the file-layout kernel of the type)');
for (const [name, { ms, bytes }] of Object.entries(repackTimes)) console.log(`repack_${name}x4: ${(bytes / ms / 1e6).toFixed(2)} GB/s of file bytes`);
if (outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores`,
    load: loadavg(), node: process.version, bufferBytes: BYTES, prefillBytes: PREFILL_BYTES, cols: K, rounds, base: basePath ?? null,
    read, native, bound, repack: repackTimes, results }, null, 2) + '\n');
}
