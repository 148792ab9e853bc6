#!/usr/bin/env node
// 1 thread against 2, in one run: prefill and decode tokens/s of a Llama-3.2-1B-shaped Q8_0 model (random
// weights, real shapes), one layer's attention decode step at S = 16K (dense q8 and SparQ q8 at ratio 1/8,
// 32 query heads, 8 KV heads, d_h 64), and the streaming-read bandwidth (read_sum_f32 over 256 MiB) on one
// and two threads, which bounds decode. Each model run is a child process of its own; the runs alternate
// 1, 2, 1, 2, ... thread(s) for --rounds rounds, so that a machine whose speed drifts (other jobs, clocks)
// affects both alike, and the table gives the median of each.
//   node bench/threads.mjs [--prefill 64] [--decode 32] [--rounds 3] [--seq 16384] [--cache DIR] [--note TEXT]
//                          [--out bench/results/threads]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    prefill: { type: 'string', default: '64' }, decode: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' }, seq: { type: 'string', default: '16384' },
    cache: { type: 'string' }, out: { type: 'string' }, child: { type: 'string' }, threads: { type: 'string' },
    note: { type: 'string', default: 'Shared machine: other jobs ran on the same cores during the run, so every number here is noisy' },
  },
});
const THREADS = [1, 2];

if (args.child) await child(args.child, Number(args.threads), Number(args.prefill), Number(args.decode));
else await parent();

async function parent() {
  const cache = args.cache ?? join(root, 'bench', '.cache');
  mkdirSync(cache, { recursive: true });
  const file = join(cache, 'llama32-1b-shape-Q8_0.gguf');
  if (!existsSync(file)) {
    console.error(`writing ${file} ...`);
    execFileSync(process.execPath, [join(root, 'tools', 'make-random-gguf.mjs'), '--preset', 'llama-3.2-1b', '--type', 'Q8_0', '--out', file], { stdio: 'inherit' });
  }
  const load0 = loadavg()[0];
  const bandwidth = await readBandwidth();
  console.error(`read bandwidth: ${bandwidth.map((b) => `${b.threads} thread(s) ${b.gbps.toFixed(2)} GB/s`).join(', ')}`);
  const attention = await attentionSteps(Number(args.seq));
  const runs = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const threads of THREADS) {
      const out = execFileSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--child', file,
        '--threads', String(threads), '--prefill', args.prefill, '--decode', args.decode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const r = JSON.parse(out.trim().split('\n').pop());
      console.error(`model, round ${round + 1}, ${threads} thread(s): prefill ${r.prefillTokPerS.toFixed(1)} tok/s, decode ${r.decodeTokPerS.toFixed(2)} tok/s`);
      runs.push({ round, ...r });
    }
  }
  // per thread count: the median run's speeds, and every run's
  const model = THREADS.map((threads) => {
    const mine = runs.filter((r) => r.threads === threads);
    const r = { ...mine[0], prefillTokPerS: median(mine.map((x) => x.prefillTokPerS)), decodeTokPerS: median(mine.map((x) => x.decodeTokPerS)),
      prefillRuns: mine.map((x) => x.prefillTokPerS), decodeRuns: mine.map((x) => x.decodeTokPerS) };
    delete r.round;
    r.decodeBoundTokPerS = bandwidth.find((b) => b.threads === threads).gbps * 1e9 / r.bytesPerDecodeToken;
    return r;
  });
  const speedup = (rows, key, filter = () => true) => {
    const [a, b] = THREADS.map((t) => rows.find((r) => r.threads === t && filter(r))[key]);
    return key === 'msPerStep' ? a / b : b / a;
  };
  const result = {
    date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores`, node: process.version,
    loadAverage: { start: load0, end: loadavg()[0] },
    note: args.note,
    bandwidth, attention, model, runs,
    speedups: {
      // per round, the 2-thread run over the 1-thread run just before it; the median of those
      prefill: pairedSpeedup(runs, 'prefillTokPerS'), decode: pairedSpeedup(runs, 'decodeTokPerS'), bandwidth: speedup(bandwidth, 'gbps'),
      attentionDense: speedup(attention, 'msPerStep', (r) => r.variant === 'dense q8'),
      attentionSparq: speedup(attention, 'msPerStep', (r) => r.variant === 'sparq q8 1/8'),
    },
    goals: { prefill: 1.8, decode: 1.6 },
  };
  const md = table(result);
  console.log(md);
  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(`${args.out}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`${args.out}.md`, md);
  }
}

/** Best of 7 streaming reads of 256 MiB on one thread, then split in 16 tasks over two. */
async function readBandwidth() {
  const { createRuntime } = await import(join(root, 'dist', 'threads', 'create-runtime.js'));
  const rt = await createRuntime(readFileSync(join(root, 'dist', 'sparq.wasm')), { threads: 2, minParallelWork: 0 });
  const bytes = 256 * 2 ** 20, tasks = 16, part = bytes / tasks;
  const ptr = rt.alloc('test', bytes);
  rt.u8At(ptr, bytes).fill(1);
  const best = (fn) => {
    let ms = Infinity;
    for (let i = 0; i < 7; i++) { const t0 = performance.now(); fn(); ms = Math.min(ms, performance.now() - t0); }
    return ms;
  };
  const one = best(() => rt.raw.read_sum_f32(ptr, bytes / 4));
  const two = best(() => rt.runTasks('read_sum_f32', tasks, Infinity, (t) => ({ ptr: ptr + t * part, n: part / 4 })));
  const threads = rt.threads;
  rt.dispose();
  return [{ threads: 1, bytes, bestMs: one, gbps: bytes / one / 1e6 }, { threads, bytes, bestMs: two, gbps: bytes / two / 1e6 }];
}

/** Median ms per decode step of one layer's attention over S cached positions, dense q8 and SparQ q8 1/8. */
async function attentionSteps(S) {
  const { createRuntime } = await import(join(root, 'dist', 'threads', 'create-runtime.js'));
  const { KVCache } = await import(join(root, 'dist', 'kv', 'cache.js'));
  const { Attention } = await import(join(root, 'dist', 'attention', 'index.js'));
  const wasm = readFileSync(join(root, 'dist', 'sparq.wasm'));
  const nHeads = 32, nKV = 8, d = 64;
  const rows = [];
  for (const threads of THREADS) {
    const rt = await createRuntime(wasm, { threads });
    const cache = new KVCache(rt, { nLayers: 1, nKVHeads: nKV, headDim: d, capacity: S, kType: 'q8', vType: 'q8', sparqLayout: true });
    let s = 12345;
    const rand = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
    const chunk = 256, k = rt.alloc('test', 4 * chunk * nKV * d), v = rt.alloc('test', 4 * chunk * nKV * d);
    for (let p = 0; p < S; p += chunk) {
      const kf = rt.f32At(k, chunk * nKV * d), vf = rt.f32At(v, chunk * nKV * d);
      for (let i = 0; i < kf.length; i++) { kf[i] = 3 * rand(); vf[i] = 2 * rand(); }
      cache.store(0, p, k, v, chunk);
    }
    const q = rt.alloc('test', 4 * nHeads * d), out = rt.alloc('test', 4 * nHeads * d);
    const qf = rt.f32At(q, nHeads * d);
    for (let i = 0; i < qf.length; i++) qf[i] = 2 * rand();
    for (const [variant, setting] of [['dense q8', 'dense'], ['sparq q8 1/8', { kind: 'sparq', ratio: 1 / 8 }]]) {
      const att = new Attention(rt, cache.spec, { nHeads, nKVHeads: nKV, headDim: d });
      const seq = { cache, setting, counters: { steps: 0, bytesRead: 0, denseBytes: 0 } };
      for (let i = 0; i < 5; i++) att.run(0, seq, q, out, S - 1, 1); // warm-up
      const t = [];
      for (const t0 = performance.now(); t.length < 5 || (performance.now() - t0 < 1500 && t.length < 60);) {
        const t1 = performance.now();
        att.run(0, seq, q, out, S - 1, 1);
        t.push(performance.now() - t1);
      }
      t.sort((a, b) => a - b);
      rows.push({ variant, S, threads: rt.threads, msPerStep: t[t.length >> 1], steps: t.length });
      console.error(`attention ${variant} S=${S}, ${rt.threads} thread(s): ${t[t.length >> 1].toFixed(3)} ms`);
    }
    rt.dispose();
  }
  return rows;
}

async function child(file, threads, nPrefill, nDecode) {
  const { loadModel } = await import(join(root, 'dist', 'index.js'));
  const model = await loadModel(file, { threads, contextLength: nPrefill + nDecode + 8 });
  const vocab = model.info.config.vocabSize;
  const ids = Array.from({ length: nPrefill }, (_, i) => 1 + ((i * 7919) % (vocab - 1)));
  await drain(model.generate(ids.slice(0, 8), { temperature: 0, maxTokens: 2 })); // warm-up
  const r = await drain(model.generate(ids, { temperature: 0, maxTokens: nDecode + 1 }));
  const s = r.stats;
  process.stdout.write(JSON.stringify({
    threads: model.info.threads, prefillTokens: s.promptTokens, prefillTokPerS: s.prefillTokensPerSecond,
    decodeTokens: s.generatedTokens - 1, decodeTokPerS: s.decodeTokensPerSecond,
    bytesPerDecodeToken: model.info.weightBytes + model.info.kvBytesPerToken * (nPrefill + nDecode / 2),
  }) + '\n');
  model.dispose();
}

/** Per round: key of the run with the most threads over key of the 1-thread run; the median over rounds. */
function pairedSpeedup(runs, key) {
  const rounds = [...new Set(runs.map((r) => r.round))];
  return median(rounds.map((n) => {
    const mine = runs.filter((r) => r.round === n);
    return mine.find((r) => r.threads === THREADS[1])[key] / mine.find((r) => r.threads === THREADS[0])[key];
  }));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function drain(gen) {
  for await (const _ of gen) { /* discard text */ }
  return gen.result;
}

function table(r) {
  const f = (x, d = 2) => x.toFixed(d);
  const [b1, b2] = r.bandwidth, [m1, m2] = r.model;
  const att = (v, t) => r.attention.find((a) => a.variant === v && a.threads === t);
  const lines = [
    `# Threads: 1 vs 2 (${r.date})`,
    '',
    `${r.machine}, Node ${r.node}. ${r.note} (load average ${f(r.loadAverage.start)} at the start, ${f(r.loadAverage.end)} at the end).`,
    'Model: random weights with Llama-3.2-1B shapes, Q8_0 (bench/.cache/llama32-1b-shape-Q8_0.gguf), greedy.',
    `Model rows: the median of ${m1.prefillRuns.length} runs per thread count, alternating 1 and 2 threads; their speedup is the ` +
      'median over rounds of the 2-thread run over the 1-thread run just before it, which cancels most of this machine\'s drift (runs: prefill ' +
      `${m1.prefillRuns.map((x) => f(x, 1)).join(', ')} vs ${m2.prefillRuns.map((x) => f(x, 1)).join(', ')} tok/s; decode ` +
      `${m1.decodeRuns.map((x) => f(x)).join(', ')} vs ${m2.decodeRuns.map((x) => f(x)).join(', ')} tok/s).`,
    '',
    '| measure | 1 thread | 2 threads | speedup | goal |',
    '| --- | --- | --- | --- | --- |',
    `| prefill tok/s (${m1.prefillTokens} tokens) | ${f(m1.prefillTokPerS, 1)} | ${f(m2.prefillTokPerS, 1)} | ${f(r.speedups.prefill)}x | ${r.goals.prefill}x |`,
    `| decode tok/s (${m1.decodeTokens} tokens) | ${f(m1.decodeTokPerS)} | ${f(m2.decodeTokPerS)} | ${f(r.speedups.decode)}x | ${r.goals.decode}x |`,
    `| decode bound from read bandwidth, tok/s | ${f(m1.decodeBoundTokPerS)} | ${f(m2.decodeBoundTokPerS)} | | |`,
    `| read_sum_f32 over 256 MiB, GB/s | ${f(b1.gbps)} | ${f(b2.gbps)} | ${f(r.speedups.bandwidth)}x | |`,
    `| dense q8 attention step, S=${att('dense q8', 1).S}, ms | ${f(att('dense q8', 1).msPerStep, 3)} | ${f(att('dense q8', 2).msPerStep, 3)} | ${f(r.speedups.attentionDense)}x | |`,
    `| SparQ q8 1/8 attention step, S=${att('dense q8', 1).S}, ms | ${f(att('sparq q8 1/8', 1).msPerStep, 3)} | ${f(att('sparq q8 1/8', 2).msPerStep, 3)} | ${f(r.speedups.attentionSparq)}x | |`,
    '',
    'Attention: one layer, 32 query heads, 8 KV heads, d_h 64. Dense: a task per (KV head, 4096 positions), merged by',
    'their softmax sums. SparQ: the approximate scores as a task per (KV head, 4096 positions), then the selection and',
    'the exact attention over the selected rows as a task per KV head. Prefill attention: a task per (KV head, 16 tokens).',
    '',
  ];
  return lines.join('\n');
}
