#!/usr/bin/env node
// End-to-end speed of a Llama-3.2-1B-shaped model (random weights, real shapes, 128256-token vocabulary):
// load GB/s, prefill and decode tokens/s at a 512-token context, and peak RSS, for F16 and Q8_0 weights,
// next to the streaming-read bandwidth measured in the same run. Each model runs in its own child process
// so its peak RSS is its own.
//   node bench/e2e.mjs [--types Q8_0,F16] [--prefill 512] [--decode 32] [--cache DIR] [--out bench/results/e2e.json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { readBandwidth } from './lib/read-bandwidth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs(process.argv.slice(2));

if (args.child) {
  await child(args.child, Number(args.prefill ?? 512), Number(args.decode ?? 32));
} else {
  await parent();
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[i + 1]?.startsWith('--') === false ? argv[++i] : argv[++i];
  return out;
}

async function parent() {
  const types = (args.types ?? 'Q8_0,F16').split(',');
  const cache = args.cache ?? join(root, 'bench', '.cache');
  mkdirSync(cache, { recursive: true });
  const bandwidth = await bandwidths();
  const rows = [];
  for (const type of types) {
    const file = join(cache, `llama32-1b-shape-${type}.gguf`);
    if (!existsSync(file)) {
      console.error(`writing ${file} ...`);
      execFileSync(process.execPath, [join(root, 'tools', 'make-random-gguf.mjs'), '--preset', 'llama-3.2-1b', '--type', type, '--out', file], { stdio: 'inherit' });
    }
    // Warm the page cache so load speed measures our path, not the disk.
    execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 });
    const out = execFileSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--child', file,
      '--prefill', String(args.prefill ?? 512), '--decode', String(args.decode ?? 32)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const r = JSON.parse(out.trim().split('\n').pop());
    r.type = type;
    r.fileBytes = statSync(file).size;
    r.decodeBoundTokPerS = bandwidth.gbps * 1e9 / r.bytesPerDecodeToken;
    rows.push(r);
  }
  const result = { date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores`, node: process.version, bandwidth, rows };
  printTable(result);
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
}

/** The read yardstick plus the first-touch speed of fresh Wasm memory. */
async function bandwidths() {
  const read = await readBandwidth(join(root, 'dist'));
  const bytes = read.bytes;
  // First touch of fresh memory: what loading into a new Wasm memory pays per page (the page faults; on this
  // VM they cost far more than the copy), the ceiling for load GB/s from the page cache.
  const fresh = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const t0 = performance.now();
  fresh.grow(bytes / 65536);
  new Uint8Array(fresh.buffer).fill(1, 65536);
  const touchGBps = bytes / (performance.now() - t0) / 1e6;
  return { ...read, firstTouchGBps: touchGBps };
}

async function child(file, nPrefill, nDecode) {
  const { loadModel } = await import(join(root, 'dist', 'index.js'));
  const t0 = performance.now();
  const model = await loadModel(file, { contextLength: nPrefill + nDecode + 8 });
  const loadMs = performance.now() - t0;
  const vocab = model.info.config.vocabSize;
  const ids = Array.from({ length: nPrefill }, (_, i) => 1 + ((i * 7919) % (vocab - 1)));
  // Prefill: one untimed warm-up on a short prompt, then the full prompt timed.
  await drain(model.generate(ids.slice(0, 8), { temperature: 0, maxTokens: 1 }));
  const gen = model.generate(ids, { temperature: 0, maxTokens: nDecode });
  const r = await drain(gen);
  const s = r.stats;
  const c = model.info.config;
  const kvPerToken = model.info.kvBytesPerToken;
  process.stdout.write(JSON.stringify({
    loadMs, loadGBps: model.info.weightBytes / loadMs / 1e6,
    prefillTokens: s.promptTokens, prefillTokPerS: s.prefillTokensPerSecond,
    decodeTokens: s.generatedTokens, decodeTokPerS: s.decodeTokensPerSecond,
    weightBytes: model.info.weightBytes, kvBytes: kvPerToken * model.info.contextLength,
    bytesPerDecodeToken: model.info.weightBytes + kvPerToken * (nPrefill + nDecode / 2),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    layers: c.nLayers, dim: c.dim,
  }) + '\n');
}

async function drain(gen) {
  for await (const _ of gen) { /* discard text */ }
  return gen.result;
}

function printTable(r) {
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`\nsparq-wasm end to end, Llama-3.2-1B shapes, 1 thread — ${r.date}, ${r.machine}, Node ${r.node}`);
  console.log(`Wasm streaming read (read_sum_f32, 256 MiB): ${f(r.bandwidth.gbps, 2)} GB/s; first touch of fresh Wasm memory (grow + fill): ${f(r.bandwidth.firstTouchGBps, 2)} GB/s\n`);
  console.log('| weights | file MB | load GB/s | prefill tok/s | decode tok/s | decode bound tok/s | % of bound | peak RSS MB | RSS - file - KV MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const x of r.rows) {
    const overhead = (x.peakRssBytes - x.fileBytes - x.kvBytes) / 2 ** 20;
    console.log(`| ${x.type} | ${f(x.fileBytes / 1e6, 0)} | ${f(x.loadGBps, 2)} | ${f(x.prefillTokPerS)} | ${f(x.decodeTokPerS, 2)} | ${f(x.decodeBoundTokPerS, 2)} | ${f(100 * x.decodeTokPerS / x.decodeBoundTokPerS, 0)}% | ${f(x.peakRssBytes / 2 ** 20, 0)} | ${f(overhead, 0)} |`);
  }
}
