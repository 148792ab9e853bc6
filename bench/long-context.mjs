#!/usr/bin/env node
// Decode speed at long context, end to end (issue 3): a Llama-3.2-1B-shaped Q8_0 model (random weights,
// real shapes) whose q8 K/V cache (SparQ layout) holds S positions; decode tokens/s with dense attention
// and with SparQ 1/8 and 1/4 on that same cache, in one run, next to the Wasm streaming-read bandwidth.
// Filling 16K positions by a real prefill would take many minutes on this CPU, so the cache is filled with
// random K/V rows through the cache's own store path (speed does not depend on the values; accuracy is
// bench/accuracy's job). Per setting: a warm-up token at position S (which first rolls the cache back to S),
// then the timed steps append tokens at S + 1, S + 2, ... as generation does (a roll-back recomputes the V sums
// over all positions, which is no part of a decode step).
//   node bench/long-context.mjs [--lengths 16384,4096] [--steps 6] [--threads N] [--out bench/results/long-context]
// --threads: as loadModel's option (default: the number of cores); the table says how many ran.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { readBandwidth } from './lib/read-bandwidth.mjs';
import { fillRandomRows } from './lib/random-cache.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: {
  lengths: { type: 'string', default: '16384,4096' }, steps: { type: 'string', default: '6' }, threads: { type: 'string' },
  out: { type: 'string', default: join(root, 'bench', 'results', 'long-context') }, cache: { type: 'string', default: join(root, 'bench', '.cache') },
} });
const lengths = a.lengths.split(',').map(Number).sort((x, y) => y - x); // longest first: later ones roll back
const steps = Number(a.steps);

const { loadModel } = await import(join(root, 'dist', 'index.js'));
const { decoderOf } = await import(join(root, 'dist', 'engine', 'model.js'));
const { table } = await import(join(root, 'dist', 'cli', 'eval.js'));

mkdirSync(a.cache, { recursive: true });
const file = join(a.cache, 'llama32-1b-shape-Q8_0.gguf');
if (!existsSync(file)) {
  execFileSync(process.execPath, [join(root, 'tools', 'make-random-gguf.mjs'), '--preset', 'llama-3.2-1b', '--type', 'Q8_0', '--out', file], { stdio: 'inherit' });
}

const bandwidth = await readBandwidth(join(root, 'dist'));
const model = await loadModel(file, { contextLength: lengths[0] + steps + 2, sparqLayout: true, kType: 'q8', vType: 'q8',
  threads: a.threads === undefined ? undefined : Number(a.threads) });
// The engine has no public "fill the cache" call (session restore will be one); the benchmark reaches the
// decoder directly for it.
const dec = decoderOf(model);
fillRandomRows(dec, 0, lengths[0]);

const settings = [
  { label: 'dense', setting: 'dense' },
  { label: 'SparQ 1/8', setting: { kind: 'sparq', ratio: 1 / 8 } },
  { label: 'SparQ 1/4', setting: { kind: 'sparq', ratio: 1 / 4 } },
];
const rows = [];
for (const S of lengths) {
  let denseTps = 0;
  for (const s of settings) {
    dec.attentionSetting = s.setting;
    dec.evaluate([7], S); // warm-up
    dec.resetStats();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) dec.evaluate([7 + i], S + 1 + i);
    const tps = steps / ((performance.now() - t0) / 1000);
    const st = dec.attentionStats();
    if (s.setting === 'dense') denseTps = tps;
    rows.push({ S, attention: s.label, r: st.r, k: st.k, tokPerS: tps, vsDense: tps / denseTps, fractionRead: st.fractionRead ?? 1 });
    process.stderr.write(`S ${S} ${s.label}: ${tps.toFixed(2)} tok/s\n`);
  }
}
const info = model.info;
model.dispose();

const c = info.config;
const weightsBound = bandwidth.gbps * 1e9 / info.weightBytes;
const md = [
  '# Decode at long context, end to end', '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0].model} (${cpus().length} cores), Node ${process.version}, ${info.threads} thread(s).`,
  `Model: Llama-3.2-1B shapes (${c.nLayers} layers, ${c.nHeads} heads / ${c.nKVHeads} KV heads, d_h ${c.headDim}), Q8_0 weights ` +
  `${(info.weightBytes / 1e9).toFixed(2)} GB, random values; KV cache q8 K, q8 V with the SparQ layout, ${info.kvBytesPerToken} bytes per position.`,
  `Wasm streaming read in the same run (one thread): ${bandwidth.gbps.toFixed(2)} GB/s, so reading the weights alone bounds one thread's decode at ${weightsBound.toFixed(2)} tok/s.`,
  `${steps} timed steps per row after one warm-up.`, '',
  table([['context S', 'attention', 'r', 'k', 'decode tok/s', 'vs dense', 'attention bytes read'],
    ...rows.map((r) => [String(r.S), r.attention, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k),
      r.tokPerS.toFixed(2), `${r.vsDense.toFixed(2)}x`, `${(r.fractionRead * 100).toFixed(1)}%`])]), '',
].join('\n');
writeFileSync(`${a.out}.md`, md);
writeFileSync(`${a.out}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0].model, node: process.version, threads: info.threads, bandwidth,
  weightBytes: info.weightBytes, kvBytesPerToken: info.kvBytesPerToken, steps, rows }, null, 1) + '\n');
process.stdout.write(md);

