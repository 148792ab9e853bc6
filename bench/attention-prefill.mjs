#!/usr/bin/env node
// Prefill attention cost per (query row x position) as the context fills: attn_rows over one KV head for one
// block of 16 query tokens (a GQA group of 4 query heads, d 64: Llama-3.2-1B shapes, 64 query rows; the block
// the host gives each task) ending at depth S, on an f32, f16 or q8 cache, single thread. With --base, a
// second kernel module (e.g. a copy of an older dist/sparq.wasm) runs the same calls on its own memory,
// alternating call by call; times are the CPU time of this process (other jobs may share the cores).
//   node bench/attention-prefill.mjs [--base old.wasm] [--depths 512,1024,2048,4096] [--types f32,f16,q8]
//     [--rounds 9] [--tokens 16] [--out bench/results/attention-prefill.json]
// --tokens 1 times a decode step of the group (4 query rows).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { createRuntime } from '../dist/threads/create-runtime.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const basePath = opt('--base');
const depths = opt('--depths', '512,1024,2048,4096').split(',').map(Number);
const types = opt('--types', 'f32,f16,q8').split(',');
const rounds = Number(opt('--rounds', '9'));
const outFile = opt('--out');

const G = 4, D = 64, TOK = Number(opt('--tokens', '16')), ROWS = G * TOK;
const MAX_S = Math.max(...depths);

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 3;
const clock = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function setup(wasm) {
  const rt = await createRuntime(wasm);
  const k = rt.k;
  const typeId = { f32: k.F32, f16: k.F16, q8: k.KV_Q8 };
  const m = { rt, k, typeId, caches: {} };
  const tmp = rt.alloc('tmp', D * 4);
  for (const t of types) {
    const rb = k.kv_row_bytes(D, typeId[t]);
    const kc = rt.alloc(`k.${t}`, MAX_S * rb), vc = rt.alloc(`v.${t}`, MAX_S * rb);
    m.caches[t] = { rb, kc, vc };
  }
  m.tmp = tmp;
  m.q = rt.alloc('q', ROWS * D * 4);
  m.out = rt.alloc('out', ROWS * D * 4);
  m.scratch = rt.alloc('scratch', k.attn_scratch_bytes(D));
  return m;
}

const mods = [await setup(readFileSync(join(root, 'dist', 'sparq.wasm')))];
if (basePath) mods.push(await setup(readFileSync(basePath)));

// The same random cache rows and queries in every module.
const rows = Array.from({ length: 2 * MAX_S }, () => Float32Array.from({ length: D }, rnd));
const q = Float32Array.from({ length: ROWS * D }, rnd);
for (const m of mods) {
  const f = m.rt.f32At(m.tmp, D);
  for (const t of types) {
    const { rb, kc, vc } = m.caches[t];
    for (let p = 0; p < MAX_S; p++) {
      f.set(rows[2 * p]); m.k.kv_encode_row(m.tmp, kc + p * rb, D, m.typeId[t]);
      f.set(rows[2 * p + 1]); m.k.kv_encode_row(m.tmp, vc + p * rb, D, m.typeId[t]);
    }
  }
  m.rt.f32At(m.q, ROWS * D).set(q);
}

function call(m, t, S) {
  const { rb, kc, vc } = m.caches[t], id = m.typeId[t];
  m.k.attn_rows(m.q, G * D * 4, m.out, G * D * 4, G, TOK, S - TOK, D, 1 / Math.sqrt(D), kc, rb, id, vc, rb, id, 0, m.scratch, 0, 0);
}

const results = [];
for (const t of types) {
  for (const S of depths) {
    for (const m of mods) for (let i = 0; i < 8; i++) call(m, t, S); // warm-up (tier-up)
    const ms = mods.map(() => []);
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < mods.length; j++) {
        const mi = (i & 1) ? mods.length - 1 - j : j;
        const t0 = clock();
        call(mods[mi], t, S);
        ms[mi].push(clock() - t0);
      }
    }
    const ratios = mods.length > 1 ? ms[1].map((b, i) => b / ms[0][i]).sort((a, b) => a - b) : null;
    // largest |new - base| over the call's outputs (relative to the largest |output|)
    let diff;
    if (mods.length > 1) {
      const a = mods[0].rt.f32At(mods[0].out, ROWS * D), b = mods[1].rt.f32At(mods[1].out, ROWS * D);
      let worst = 0, top = 0;
      for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i] - b[i])); top = Math.max(top, Math.abs(b[i])); }
      diff = worst / top;
    }
    // row-positions: row of token i attends to S - TOK + i + 1 positions
    const rowPos = G * (TOK * (S - TOK) + (TOK * (TOK + 1)) / 2);
    const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    results.push({ type: t, S, ms: med(ms[0]), nsPerRowPos: (1e6 * med(ms[0])) / rowPos,
      base: mods.length > 1 ? { ms: med(ms[1]), nsPerRowPos: (1e6 * med(ms[1])) / rowPos } : undefined,
      ratio: ratios ? ratios[ratios.length >> 1] : undefined, diff });
  }
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('cache', 7)}${pad('S', 7)}${pad('ms', 9)}${pad('ns/(row·pos)', 14)}${basePath ? `${pad('base ms', 10)}${pad('base ns', 10)}${pad('new/base', 10)}max|Δ|/max|y|` : ''}`);
for (const r of results) {
  let line = `${pad(r.type, 7)}${pad(r.S, 7)}${pad(r.ms.toFixed(3), 9)}${pad(r.nsPerRowPos.toFixed(3), 14)}`;
  if (r.base) line += `${pad(r.base.ms.toFixed(3), 10)}${pad(r.base.nsPerRowPos.toFixed(3), 10)}${pad(r.ratio.toFixed(2) + 'x', 10)}${r.diff.toExponential(1)}`;
  console.log(line);
}
console.log(`(one call: ${TOK} query token(s) x 4 heads of one KV head, d 64, ending at depth S; median CPU ms; new/base: median of paired ratios)`);
if (outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores`,
    load: loadavg(), node: process.version, base: basePath ?? null, rounds, results }, null, 2) + '\n');
}
