#!/usr/bin/env node
// Decode speed at long context, end to end: a Llama-3.2-1B-shaped Q8_0 model (random weights, real shapes;
// or --model) whose q8 K/V cache (SparQ layout) holds S positions; decode tokens/s with dense attention
// and with SparQ 1/8 and 1/16 on that same cache, in one run, next to the Wasm streaming-read bandwidth, and
// with --peer node-llama-cpp's decode on the same file at the same depth (flash attention off, its fastest
// setting at depth on this CPU), prefilled once per S with random token ids and then alternating with ours.
// Filling 16K positions by a real prefill would take many minutes on this CPU, so the cache is filled with
// random K/V rows through the cache's own store path (speed does not depend on the values; accuracy is
// bench/accuracy's job). Per setting: a warm-up token at position S (which first rolls the cache back to S),
// then the timed steps append tokens at S + 1, S + 2, ... as generation does (a roll-back recomputes the V sums
// over all positions, which is no part of a decode step). The settings alternate in --rounds rounds; the table
// gives the median tok/s of each and the median of its per-round ratio to dense.
//   node bench/long-context.mjs [--lengths 16384,4096] [--steps 6] [--rounds 3] [--threads N] [--model FILE]
//     [--peer] [--out bench/results/long-context]
// --threads: as loadModel's option (default: the number of cores); the table says how many ran (node-llama-cpp
// gets the same number). --model: a Q8_0 GGUF (default: a Llama-3.2-1B-shaped one made by
// tools/make-random-gguf.mjs into the cache folder; `--preset pythia-1.4b` makes the GPT-NeoX one).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { readBandwidth } from './lib/read-bandwidth.mjs';
import { fillRandomRows } from './lib/random-cache.mjs';
import { spawnEngine } from './engines/protocol.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: {
  lengths: { type: 'string', default: '16384,4096' }, steps: { type: 'string', default: '6' }, rounds: { type: 'string', default: '3' },
  threads: { type: 'string' }, model: { type: 'string' }, peer: { type: 'boolean', default: false },
  out: { type: 'string', default: join(root, 'bench', 'results', 'long-context') }, cache: { type: 'string', default: join(root, 'bench', '.cache') },
} });
const lengths = a.lengths.split(',').map(Number).sort((x, y) => y - x); // longest first: later ones roll back
const steps = Number(a.steps), rounds = Number(a.rounds);
const load0 = loadavg();

const { loadModel } = await import(join(root, 'dist', 'index.js'));
const { decoderOf } = await import(join(root, 'dist', 'engine', 'model.js'));
const { table } = await import(join(root, 'dist', 'cli', 'eval.js'));

mkdirSync(a.cache, { recursive: true });
const file = a.model ?? join(a.cache, 'llama32-1b-shape-Q8_0.gguf');
if (!a.model && !existsSync(file)) {
  execFileSync(process.execPath, [join(root, 'tools', 'make-random-gguf.mjs'), '--preset', 'llama-3.2-1b', '--type', 'Q8_0', '--out', file], { stdio: 'inherit' });
}

const bandwidth = await readBandwidth(join(root, 'dist'));
const model = await loadModel(file, { contextLength: lengths[0] + steps + 2, sparqLayout: true, kType: 'q8', vType: 'q8',
  threads: a.threads === undefined ? undefined : Number(a.threads) });
// The engine has no public "fill the cache" call (session restore will be one); the benchmark reaches the
// decoder directly for it.
const dec = decoderOf(model);
fillRandomRows(dec, 0, lengths[0]);

const peer = a.peer ? spawnEngine(join(root, 'bench', 'engines', 'llama-node.mjs')) : undefined;
const peerInfo = await peer?.call('load', { file, threads: model.info.threads, context: lengths[0] + (steps + 1) * rounds + 8, flashAttention: false });
const PEER = 'node-llama-cpp, flash attention off';

const settings = [
  { label: 'dense', setting: 'dense' },
  { label: 'SparQ 1/8', setting: { kind: 'sparq', ratio: 1 / 8 } },
  { label: 'SparQ 1/16', setting: { kind: 'sparq', ratio: 1 / 16 } },
];
const median = (xs) => { const t = [...xs].sort((x, y) => x - y); return t.length % 2 ? t[t.length >> 1] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2; };
const rows = [];
for (const S of lengths) {
  const runs = settings.map((s) => ({ ...s, tps: [], stats: undefined }));
  const peerTps = [];
  if (peer) {
    // random ordinary token ids (past the few hundred byte and special tokens of any vocabulary)
    const ids = Array.from({ length: S }, (_, i) => 300 + ((i * 7919) % (model.info.config.vocabSize - 300)));
    const { prefillMs } = await peer.call('prefill', { ids });
    process.stderr.write(`S ${S} ${PEER}: prefill ${(S / (prefillMs / 1000)).toFixed(1)} tok/s\n`);
  }
  for (let round = 0; round < rounds; round++) {
    for (const s of runs) {
      dec.attentionSetting = s.setting;
      dec.evaluate([7], S); // warm-up
      dec.resetStats();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) dec.evaluate([7 + i], S + 1 + i);
      s.tps.push(steps / ((performance.now() - t0) / 1000));
      s.stats = dec.attentionStats();
      process.stderr.write(`S ${S} round ${round} ${s.label}: ${s.tps.at(-1).toFixed(2)} tok/s\n`);
    }
    if (peer) {
      const { decodeTokens, decodeMs } = await peer.call('decodeMore', { n: steps });
      peerTps.push(decodeTokens / (decodeMs / 1000));
      process.stderr.write(`S ${S} round ${round} ${PEER}: ${peerTps.at(-1).toFixed(2)} tok/s\n`);
    }
  }
  for (const s of runs) {
    rows.push({ S, attention: s.label, r: s.stats.r, k: s.stats.k, tokPerS: median(s.tps), tokPerSRounds: s.tps,
      vsDense: median(s.tps.map((t, i) => t / runs[0].tps[i])), fractionRead: s.stats.fractionRead ?? 1,
      vsPeer: peer ? median(s.tps.map((t, i) => t / peerTps[i])) : undefined });
  }
  if (peer) {
    rows.push({ S, attention: PEER, tokPerS: median(peerTps), tokPerSRounds: peerTps, vsDense: median(peerTps.map((t, i) => t / runs[0].tps[i])),
      fractionRead: 1, vsPeer: 1 });
  }
}
await peer?.close();
const load1 = loadavg();
const info = model.info;
model.dispose();

const c = info.config;
const weightsBound = bandwidth.gbps * 1e9 / info.weightBytes;
const md = [
  '# Decode at long context, end to end', '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0].model} (${cpus().length} cores), Node ${process.version}, ${info.threads} thread(s); ` +
  `load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end.`,
  `Model: ${info.name ?? file} (${c.arch}, ${c.nLayers} layers, ${c.nHeads} heads / ${c.nKVHeads} KV heads, d_h ${c.headDim}), Q8_0 weights ` +
  `${(info.weightBytes / 1e9).toFixed(2)} GB, random values; KV cache q8 K, q8 V with the SparQ layout, ${info.kvBytesPerToken} bytes per position.`,
  `Wasm streaming read in the same run (one thread): ${bandwidth.gbps.toFixed(2)} GB/s, so reading the weights alone bounds one thread's decode at ${weightsBound.toFixed(2)} tok/s.`,
  `${rounds} rounds, the settings alternating; in each, ${steps} timed steps per setting after one warm-up. Median tok/s, and the median ` +
  `of the per-round ratios to dense${peer ? ` and to ${PEER} (node-llama-cpp ${peerVersion()}, same file and thread count, ` +
  `${peerInfo.threads} threads, prefilled once per S with random token ids, then ${steps} tokens per round after ours)` : ''}.`, '',
  `\`node bench/long-context.mjs --lengths ${a.lengths} --steps ${steps} --rounds ${rounds}${a.threads ? ` --threads ${a.threads}` : ''}` +
  `${a.model ? ` --model ${a.model}` : ''}${peer ? ' --peer' : ''}\``, '',
  table([['context S', 'attention', 'r', 'k', 'decode tok/s', 'vs dense', ...(peer ? ['vs node-llama-cpp'] : []), 'attention bytes read'],
    ...rows.map((r) => [String(r.S), r.attention, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k),
      r.tokPerS.toFixed(2), `${r.vsDense.toFixed(2)}x`, ...(peer ? [`${r.vsPeer.toFixed(2)}x`] : []),
      r.attention === PEER ? '-' : `${(r.fractionRead * 100).toFixed(1)}%`])]), '',
].join('\n');
writeFileSync(`${a.out}.md`, md);
writeFileSync(`${a.out}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0].model, node: process.version, load: [load0, load1], threads: info.threads, rounds, bandwidth,
  weightBytes: info.weightBytes, kvBytesPerToken: info.kvBytesPerToken, steps, peer: peerInfo && { ...peerInfo, version: peerVersion() }, rows }, null, 1) + '\n');
process.stdout.write(md);

function peerVersion() {
  return JSON.parse(readFileSync(join(root, 'bench', 'peers', 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
}
