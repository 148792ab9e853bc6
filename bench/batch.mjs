#!/usr/bin/env node
// Aggregate decode speed of B sequences decoding together, against one, and against node-llama-cpp with
// `sequences: B` on the same file and thread count, in one run; and the time to first token of a request that
// arrives while 7 others decode and one more sends a 4K-token prompt.
//
// Ours: each of B cache slots holds `depth` positions (random K/V rows stored through the cache's own path:
// filling 8 x 4096 positions by prefill would take many minutes on this CPU; decode speed does not depend on
// the values), then timed forward passes of B decode rows (the engine's decode step: one pass over the
// weights for all B, attention per sequence), dense and SparQ 1/8 on the same q8 cache (SparQ layout),
// alternating for --rounds rounds (medians). node-llama-cpp: a context of 8 sequences (its default F16 KV
// cache), each prefilled with `depth` random tokens, then B of them generate --steps tokens at once.
//   node bench/batch.mjs [--files Q8_0,Q4_K_M] [--depths 512,4096] [--long 16384] [--threads 2] [--steps 8]
//                        [--rounds 2] [--no-peer] [--no-ttft] [--out bench/results/batch]
// Files: bench/.cache/llama32-1b-shape-from-F16-<TYPE>.gguf (bench/decode-types.mjs makes them).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fillRandomRows } from './lib/random-cache.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peerEntry = join(root, 'bench', 'peers', 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
const { values: a } = parseArgs({
  options: {
    files: { type: 'string', default: 'Q8_0,Q4_K_M' }, depths: { type: 'string', default: '512,4096' }, long: { type: 'string', default: '16384' },
    threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' },
    'no-peer': { type: 'boolean' }, 'no-ttft': { type: 'boolean' }, out: { type: 'string' },
    child: { type: 'string' }, file: { type: 'string' }, depth: { type: 'string' }, bs: { type: 'string' },
  },
});
const threads = Number(a.threads), steps = Number(a.steps), rounds = Number(a.rounds);
const SPARQ = { kind: 'sparq', ratio: 1 / 8 };

if (a.child === 'ours') await childOurs(a.file, Number(a.depth), a.bs.split(',').map(Number));
else if (a.child === 'peer') await childPeer(a.file, Number(a.depth), a.bs.split(',').map(Number));
else if (a.child === 'ttft') await childTtft(a.file);
else await parent();

function runChild(args) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), ...args, '--threads', String(threads),
    '--steps', String(steps), '--rounds', String(rounds)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop());
}

async function parent() {
  const rows = [];
  const withPeer = !a['no-peer'] && existsSync(peerEntry);
  const cases = [...a.depths.split(',').map((d) => ({ depth: Number(d), bs: [1, 2, 4, 8] })), ...(a.long ? [{ depth: Number(a.long), bs: [1, 2] }] : [])];
  for (const type of a.files.split(',')) {
    const file = join(root, 'bench', '.cache', `llama32-1b-shape-from-F16-${type}.gguf`);
    if (!existsSync(file)) throw new Error(`${file} is missing: make it as bench/decode-types.mjs does`);
    for (const { depth, bs } of cases) {
      const load = loadavg()[0];
      const ours = runChild(['--child', 'ours', '--file', file, '--depth', String(depth), '--bs', bs.join(',')]);
      const peer = withPeer ? runChild(['--child', 'peer', '--file', file, '--depth', String(depth), '--bs', bs.join(',')]) : undefined;
      for (const b of bs) {
        const row = { type, depth, b, dense: ours[b].dense, sparq: ours[b].sparq, llamaCpp: peer?.[b], load };
        rows.push(row);
        console.error(`${type} depth ${depth} B=${b}: dense ${row.dense.toFixed(2)}, SparQ 1/8 ${row.sparq.toFixed(2)}${peer ? `, node-llama-cpp ${peer[b].toFixed(2)}` : ''} tok/s`);
      }
    }
  }
  const ttft = a['no-ttft'] ? undefined : runChild(['--child', 'ttft', '--file', join(root, 'bench', '.cache', `llama32-1b-shape-from-F16-${a.files.split(',')[0]}.gguf`)]);
  report(rows, ttft, withPeer);
}

/** Our aggregate decode tok/s for each B: { [B]: { dense, sparq } } (medians over rounds). */
async function childOurs(file, depth, bs) {
  const { loadModel } = await import(join(root, 'dist', 'index.js'));
  const { decoderOf } = await import(join(root, 'dist', 'engine', 'model.js'));
  const { newCounters } = await import(join(root, 'dist', 'attention', 'index.js'));
  const B = Math.max(...bs);
  const model = await loadModel(file, { threads, maxSequences: B, contextLength: depth + rounds * 2 * (steps + 1) * bs.length + 8,
    sparqLayout: true, kType: 'q8', vType: 'q8' });
  const dec = decoderOf(model);
  fillRandomRows(dec, 0, depth);
  for (let s = 1; s < B; s++) dec.copyPrefix(0, s, depth);
  const pos = new Array(B).fill(depth);
  const states = Array.from({ length: B }, () => ({ dense: { setting: 'dense', counters: newCounters() }, sparq: { setting: SPARQ, counters: newCounters() } }));
  const runs = {};
  for (const b of bs) runs[b] = { dense: [], sparq: [] };
  for (let r = 0; r < rounds; r++) {
    for (const b of bs) {
      for (const kind of r % 2 === 0 ? ['dense', 'sparq'] : ['sparq', 'dense']) {
        const step = () => {
          dec.forward(Array.from({ length: b }, (_, s) => ({ seq: s, pos: pos[s], tokens: [5 + s], state: states[s][kind], logits: true, decode: true })));
          for (let s = 0; s < b; s++) pos[s]++;
        };
        step(); // warm-up
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) step();
        runs[b][kind].push((b * steps) / ((performance.now() - t0) / 1000));
      }
    }
  }
  model.dispose();
  const out = {};
  for (const b of bs) out[b] = { dense: median(runs[b].dense), sparq: median(runs[b].sparq) };
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** node-llama-cpp's aggregate decode tok/s for each B, max(B) sequences prefilled to `depth`. */
async function childPeer(file, depth, bs) {
  const { getLlama, LlamaLogLevel } = await import(peerEntry);
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const B = Math.max(...bs);
  // node-llama-cpp dispatches a batch at once only when every sequence of the context has queued a token;
  // with fewer active ones it waits a turn of the event loop, and sequences drift out of step. So a batch
  // goes out as soon as the B active sequences have queued theirs (read from its queue), as a B-sequence
  // context would; after 50 ms it goes anyway.
  let active = B;
  const dispatchSchedule = (dispatch) => {
    const t0 = performance.now();
    const poll = () => (ctx._queuedDecodeSequenceIds.size >= active || performance.now() - t0 > 50 ? dispatch() : setImmediate(poll));
    poll();
  };
  const ctx = await model.createContext({ sequences: B, contextSize: depth + rounds * (steps + 2) * bs.length + 64, threads, batchSize: 512, batching: { dispatchSchedule } });
  const seqs = Array.from({ length: B }, () => ctx.getSequence());
  // token ids below 30000 exist in every vocabulary these files have
  await Promise.all(seqs.map((s, i) => s.evaluateWithoutGeneratingNewTokens(Array.from({ length: depth }, (_, j) => 1 + ((j * 7919 + i * 104729) % 30000)))));
  const runs = {};
  for (const b of bs) runs[b] = [];
  for (let r = 0; r < rounds; r++) {
    for (const b of bs) {
      active = b;
      const t0 = performance.now();
      await Promise.all(seqs.slice(0, b).map(async (s, i) => {
        let n = 0;
        for await (const _ of s.evaluate([7 + i + r], { temperature: 0 })) if (++n >= steps) break;
      }));
      runs[b].push((b * steps) / ((performance.now() - t0) / 1000));
    }
  }
  await ctx.dispose();
  await model.dispose();
  const out = {};
  for (const b of bs) out[b] = median(runs[b]);
  process.stdout.write(JSON.stringify(out) + '\n');
}

/**
 * Time to first token of a 32-token request that arrives while 7 generations decode and one more sends a
 * 4096-token prompt (9 sequences), against the same request on an idle model.
 */
async function childTtft(file) {
  const { loadModel } = await import(join(root, 'dist', 'index.js'));
  const model = await loadModel(file, { threads, maxSequences: 9, contextLength: 4096 + 256 });
  const V = model.info.config.vocabSize;
  const ids = (n, seed) => Array.from({ length: n }, (_, j) => 1 + ((j * 7919 + seed * 104729) % (V - 1)));
  const first = async (gen) => { const t0 = performance.now(); const it = gen[Symbol.asyncIterator](); await it.next(); const ms = performance.now() - t0; return { it, ms }; };
  const idle = await first(model.generate(ids(32, 99), { temperature: 0, maxTokens: 2 }));
  await idle.it.return();
  const decoding = [];
  for (let i = 0; i < 7; i++) decoding.push(await first(model.generate(ids(64, i), { temperature: 0, maxTokens: 100000 })));
  const doc = model.generate(ids(4096, 50), { temperature: 0, maxTokens: 4 });
  const docStart = performance.now();
  const docFirst = doc[Symbol.asyncIterator]().next();
  await new Promise((r) => setTimeout(r, 2000)); // the document is being read
  const busy = await first(model.generate(ids(32, 98), { temperature: 0, maxTokens: 2 }));
  await busy.it.return();
  await docFirst;
  const docMs = performance.now() - docStart;
  for (const d of decoding) await d.it.return();
  model.dispose();
  process.stdout.write(JSON.stringify({ idleMs: idle.ms, busyMs: busy.ms, documentMs: docMs }) + '\n');
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(rows, ttft, withPeer) {
  const date = new Date().toISOString();
  const f = (x, d = 2) => (x == null ? '-' : x.toFixed(d));
  const one = (r) => rows.find((x) => x.type === r.type && x.depth === r.depth && x.b === 1);
  const md = [
    '# Batched decode: aggregate tokens/s of B sequences (Llama-3.2-1B shapes)', '',
    `\`node bench/batch.mjs --threads ${threads} --steps ${steps} --rounds ${rounds}\`, ${date}, ${cpus()[0].model}, ${cpus().length} cores, load average ${f(loadavg()[0])} at the end, Node ${process.version}.`,
    `Ours: every sequence's q8 K/V cache (SparQ layout) holds \`depth\` positions; ${steps} timed forward passes of B decode rows per cell after one warm-up, dense and SparQ 1/8 alternating, median of ${rounds} rounds.`,
    withPeer ? `node-llama-cpp: a context of B sequences (F16 KV cache, its default; flash attention as it resolves it), each prefilled with \`depth\` tokens, then B sequences generate ${steps} tokens at once; median of ${rounds} rounds.` : 'node-llama-cpp: not run.',
    `Both on ${threads} thread(s), the same files.`, '',
    '| weights | depth | B | ours dense | ours SparQ 1/8 | node-llama-cpp | dense / our B=1 | SparQ / our dense | SparQ / node-llama-cpp | load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.type} | ${r.depth} | ${r.b} | ${f(r.dense)} | ${f(r.sparq)} | ${f(r.llamaCpp)} | ${f(r.dense / one(r).dense)}x | ${f(r.sparq / r.dense)}x | ${r.llamaCpp ? `${f(r.sparq / r.llamaCpp)}x` : '-'} | ${f(r.load, 1)} |`),
    '',
    'Goals: at B = 8 and depth 512, the aggregate at least 3x our B = 1; at B = 8 and depth 4096, SparQ 1/8 at least 1.5x node-llama-cpp and 1.5x our dense.',
    ...(ttft ? ['', `Time to first token of a 32-token request (maxSequences 9, ${threads} thread(s)): ${f(ttft.idleMs, 0)} ms on an idle model; ${f(ttft.busyMs, 0)} ms while 7 generations decode and an 8th reads a 4096-token prompt ` +
      `(which took ${f(ttft.documentMs / 1000, 1)} s to its first token). A pass holds the decode rows, then prompt chunks with the shortest rest first, so the new request's prompt goes into the next pass; a pass is at most 32 rows.`] : []),
    '',
  ].join('\n');
  process.stdout.write(md);
  if (a.out) {
    writeFileSync(`${a.out}.md`, md);
    writeFileSync(`${a.out}.json`, JSON.stringify({ date, cpu: cpus()[0].model, threads, steps, rounds, rows, ttft }, null, 1) + '\n');
  }
}
