#!/usr/bin/env node
// Decode and prefill speed per weight type for a Llama-3.2-1B-shaped model (random weights, real shapes,
// 128256-token vocabulary), 1 thread, next to the Wasm streaming-read bandwidth measured in the same run
// (before and after the models, since the machine is shared). The quantised files are made from
// bench/.cache/llama32-1b-shape-F16.gguf with our quantiser (`sparq quantize`). Each model runs in its own
// child process. With bench/peers installed, node-llama-cpp (llama.cpp's CPU backend, 1 thread, its default
// F16 KV cache) times the same files in the same run, for a ratio column.
//   node bench/decode-types.mjs [--types Q8_0,Q6_K,Q4_K_M,Q4_0] [--prefill 512] [--decode 32] [--no-peer]
//                               [--threads 1] [--out bench/results/decode-types]   (writes .json and .md)
// --threads N: both engines on N threads.
//   node bench/decode-types.mjs --render bench/results/decode-types.json   (rewrites the .md from the .json)
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, statSync, readFileSync, cpSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { readBandwidth } from './lib/read-bandwidth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peerEntry = join(root, 'bench', 'peers', 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const nPrefill = Number(opt('--prefill', '512'));
const nDecode = Number(opt('--decode', '32'));
const nThreads = Number(opt('--threads', '1'));
const REPEATS = 3; // extra decode-only runs per engine (short prompt), best kept: the machine is shared
const dist = opt('--dist', join(root, 'dist'));

const role = opt('--child');
if (role === 'sparq') await childSparq(opt('--file'));
else if (role === 'peer') await childPeer(opt('--file'));
else if (opt('--render')) writeFileSync(opt('--render').replace(/\.json$/, '.md'), markdown(JSON.parse(readFileSync(opt('--render'), 'utf8'))));
else await parent();

async function parent() {
  const types = opt('--types', 'Q8_0,Q6_K,Q4_K_M,Q4_0').split(',');
  const cache = opt('--cache', join(root, 'bench', '.cache'));
  const source = join(cache, 'llama32-1b-shape-F16.gguf');
  const withPeer = !argv.includes('--no-peer') && existsSync(peerEntry);
  const buildAtStart = sparqBuild();
  // Others rebuild dist/ while this runs: every child runs one snapshot of it.
  const snapshot = join(cache, 'decode-types-dist');
  rmSync(snapshot, { recursive: true, force: true });
  cpSync(join(root, 'dist'), snapshot, { recursive: true });
  const bandwidthBefore = await readBandwidth(snapshot);
  const rows = [];
  for (const type of types) {
    const file = join(cache, `llama32-1b-shape-from-F16-${type}.gguf`);
    if (!existsSync(file)) {
      if (!existsSync(source)) throw new Error(`${source} is missing: make it with tools/make-random-gguf.mjs --preset llama-3.2-1b --type F16`);
      console.error(`quantising ${source} to ${type} ...`);
      execFileSync(process.execPath, [join(root, 'bin', 'sparq.js'), 'quantize', source, file, '--type', type, '--quiet'], { stdio: 'inherit' });
    }
    execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // page cache warm: load time is not the subject here
    const row = { type, fileBytes: statSync(file).size, loadAvg: loadavg()[0] };
    row.sparq = runChild('sparq', file, ['--dist', snapshot]);
    if (withPeer) {
      try { row.llamaCpp = runChild('peer', file, ['--vocab', String(row.sparq.vocab)]); } catch (e) { row.llamaCppError = String(e.message).split('\n')[0]; }
    }
    console.error(`${type}: sparq decode ${row.sparq.decodeTokPerS.toFixed(2)} tok/s` + (row.llamaCpp ? `, llama.cpp ${row.llamaCpp.decodeTokPerS.toFixed(2)} tok/s` : ''));
    rows.push(row);
  }
  const bandwidthAfter = await readBandwidth(snapshot);
  const gbps = Math.max(bandwidthBefore.gbps, bandwidthAfter.gbps);
  for (const r of rows) {
    r.decodeBoundTokPerS = gbps * 1e9 / r.sparq.bytesPerDecodeToken;
    r.decodeBoundShortTokPerS = gbps * 1e9 / r.sparq.weightBytes;
    r.sparqDecodeGBps = r.sparq.decodeTokPerS * r.sparq.bytesPerDecodeToken / 1e9;
  }
  const result = {
    date: new Date().toISOString(), machine: `${cpus()[0].model}, ${cpus().length} cores (shared)`, node: process.version,
    prefillTokens: nPrefill, decodeTokens: nDecode, threads: nThreads,
    sparqBuild: buildAtStart, repeats: REPEATS,
    bandwidth: { before: bandwidthBefore, after: bandwidthAfter, usedGBps: gbps },
    peer: withPeer ? `node-llama-cpp ${JSON.parse(readFileSync(join(root, 'bench', 'peers', 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version} (prebuilt CPU), ${nThreads} thread(s), F16 KV cache (its default)` : null,
    rows,
  };
  const out = opt('--out');
  const md = markdown(result);
  console.log(md);
  if (out) {
    writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`${out}.md`, md);
  }
}

/** Which kernel build ran (dist/ is rebuilt by others while this runs). */
function sparqBuild() {
  const path = join(root, 'dist', 'sparq.wasm');
  return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16), mtime: statSync(path).mtime.toISOString() };
}

function runChild(kind, file, extra = []) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--child', kind, '--file', file,
    '--prefill', String(nPrefill), '--decode', String(nDecode), '--threads', String(nThreads), ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop());
}

/** Best-of-7 read_sum_f32 over 256 MiB of Wasm memory: the streaming-read ceiling of one Wasm thread. */

/** Prompt ids spread over the vocabulary (random weights: the text does not matter, the shapes do). */
function promptIds(vocab) {
  return Array.from({ length: nPrefill }, (_, i) => 1 + ((i * 7919) % (vocab - 1)));
}

async function childSparq(file) {
  const { loadModel } = await import(join(dist, 'index.js'));
  const t0 = performance.now();
  const model = await loadModel(file, { threads: nThreads, contextLength: nPrefill + nDecode + 8 });
  const loadMs = performance.now() - t0;
  const ids = promptIds(model.info.config.vocabSize);
  await drain(model.generate(ids.slice(0, 8), { temperature: 0, maxTokens: 2 })); // warm-up (tier-up of the kernels)
  const gen = model.generate(ids, { temperature: 0, maxTokens: nDecode, cachePrompt: false });
  const s = (await drain(gen)).stats;
  const kvPerToken = model.info.kvBytesPerToken;
  let best = 0;
  for (let i = 0; i < REPEATS; i++) {
    const st = (await drain(model.generate(ids.slice(0, 8), { temperature: 0, maxTokens: nDecode }))).stats;
    best = Math.max(best, st.decodeTokensPerSecond);
  }
  process.stdout.write(JSON.stringify({
    loadMs, threads: model.info.threads, vocab: model.info.config.vocabSize,
    prefillTokens: s.promptTokens, prefillTokPerS: s.prefillTokensPerSecond,
    decodeTokens: s.generatedTokens, decodeTokPerS: s.decodeTokensPerSecond, decodeShortBestTokPerS: best,
    weightBytes: model.info.weightBytes,
    bytesPerDecodeToken: model.info.weightBytes + kvPerToken * (nPrefill + nDecode / 2),
  }) + '\n');
}

async function drain(gen) {
  for await (const _ of gen) { /* discard text */ }
  return gen.result;
}

async function childPeer(file) {
  const { getLlama, LlamaLogLevel } = await import(peerEntry);
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: nThreads, logLevel: LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const loadMs = performance.now() - t0;
  const ctx = await model.createContext({ contextSize: nPrefill + nDecode + 8, batchSize: nPrefill, threads: nThreads });
  const seq = ctx.getSequence();
  const ids = promptIds(Number(opt('--vocab')));
  // Warm-up as for sparq: a short prompt, then a fresh history.
  for await (const _ of seq.evaluate(ids.slice(0, 8), { temperature: 0 })) break;
  await seq.clearHistory();
  // The first token arrives after the prompt is evaluated (prefill); the rest are decode steps.
  const tStart = performance.now();
  let tFirst = 0, n = 0;
  for await (const _ of seq.evaluate(ids, { temperature: 0 })) {
    if (n++ === 0) tFirst = performance.now();
    if (n >= nDecode + 1) break;
  }
  const tEnd = performance.now();
  let best = 0;
  for (let i = 0; i < REPEATS; i++) {
    await seq.clearHistory();
    let t1 = 0, m = 0;
    for await (const _ of seq.evaluate(ids.slice(0, 8), { temperature: 0 })) {
      if (m++ === 0) t1 = performance.now();
      if (m >= nDecode + 1) break;
    }
    best = Math.max(best, (m - 1) / ((performance.now() - t1) / 1000));
  }
  process.stdout.write(JSON.stringify({
    loadMs, threads: ctx.currentThreads, prefillTokens: ids.length, prefillTokPerS: ids.length / ((tFirst - tStart) / 1000),
    decodeTokens: n - 1, decodeTokPerS: (n - 1) / ((tEnd - tFirst) / 1000), decodeShortBestTokPerS: best, flashAttention: ctx.flashAttention, systemInfo: llama.systemInfo,
  }) + '\n');
  await ctx.dispose();
  await model.dispose();
}

function markdown(r) {
  const f = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
  const lines = [
    `# Decode and prefill speed per weight type (Llama-3.2-1B shapes, ${r.threads} thread${r.threads > 1 ? 's' : ''})`, '',
    `\`node bench/decode-types.mjs --prefill ${r.prefillTokens} --decode ${r.decodeTokens}${r.threads > 1 ? ` --threads ${r.threads}` : ''}\`, ${r.date}, ${r.machine}, Node ${r.node}.`,
    'Random weights with the real shapes (16 layers, dim 2048, FFN 8192, 32/8 heads, vocabulary 128256, tied embeddings),',
    `quantised from bench/.cache/llama32-1b-shape-F16.gguf by \`sparq quantize\`. sparq-wasm: loadModel with threads ${r.threads},`,
    `F32 KV cache, a ${r.prefillTokens}-token prompt then ${r.decodeTokens} greedy tokens (stats of model.generate); dist/sparq.wasm sha256`
      + ` ${r.sparqBuild.sha256}…, built ${r.sparqBuild.mtime} (one snapshot of dist/ for the whole run).`,
    r.peer ? `llama.cpp: ${r.peer}; same files and prompt ids; prefill = time to the first token, decode = the tokens after it.` : 'llama.cpp: not run.',
    `Wasm streaming read (read_sum_f32, 256 MiB, best of 7, one thread${r.threads > 1 ? ': the bound below is one thread\'s, so with more threads the % of bound can pass 100%' : ''}): ${f(r.bandwidth.before.gbps, 2)} GB/s before the models, ${f(r.bandwidth.after.gbps, 2)} GB/s after`
      + ` (medians ${f(r.bandwidth.before.medianGBps, 2)} / ${f(r.bandwidth.after.medianGBps, 2)}); the bound below uses the higher best, ${f(r.bandwidth.usedGBps, 2)} GB/s.`,
    'Decode bound = that bandwidth / bytes read per decode token: weights + KV cache at the mean decode position for the',
    '512-context run, weights only for the short runs ("best of").',
    `"best of ${r.repeats}": ${r.repeats} more decode runs of ${r.decodeTokens} tokens after an 8-token prompt in the same process, the fastest kept`,
    '(the machine is shared, so the single 512-context run can catch a busy moment; the KV cache is then a few % of the bytes).', '',
    `| weights | file MB | sparq prefill tok/s | sparq decode tok/s | sparq decode best of ${r.repeats} | sparq decode GB/s (best) | decode bound tok/s (512 / short) | % of bound (512 / best) | llama.cpp prefill tok/s | llama.cpp decode tok/s | llama.cpp decode best of ${r.repeats} | sparq / llama.cpp decode (best) | load avg |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const x of r.rows) {
    const p = x.llamaCpp;
    const best = x.sparq.decodeShortBestTokPerS;
    lines.push(`| ${x.type} | ${f(x.fileBytes / 1e6, 0)} | ${f(x.sparq.prefillTokPerS)} | ${f(x.sparq.decodeTokPerS, 2)} | ${f(best, 2)} | ${f(best * x.sparq.weightBytes / 1e9, 2)} | `
      + `${f(x.decodeBoundTokPerS, 2)} / ${f(x.decodeBoundShortTokPerS ?? r.bandwidth.usedGBps * 1e9 / x.sparq.weightBytes, 2)} | `
      + `${f(100 * x.sparq.decodeTokPerS / x.decodeBoundTokPerS, 0)}% / ${f(100 * best / (x.decodeBoundShortTokPerS ?? r.bandwidth.usedGBps * 1e9 / x.sparq.weightBytes), 0)}% | ${p ? f(p.prefillTokPerS) : '-'} | ${p ? f(p.decodeTokPerS, 2) : '-'} | `
      + `${p ? f(p.decodeShortBestTokPerS, 2) : '-'} | ${p ? f(best / p.decodeShortBestTokPerS, 2) : '-'} | ${f(x.loadAvg, 1)} |`);
  }
  const q8 = r.rows.find((x) => x.type === 'Q8_0'), q4km = r.rows.find((x) => x.type === 'Q4_K_M');
  if (q8 && q4km) {
    const ratio = q4km.sparq.decodeShortBestTokPerS / q8.sparq.decodeShortBestTokPerS;
    const ratio512 = q4km.sparq.decodeTokPerS / q8.sparq.decodeTokPerS;
    lines.push('', `Goal "Q4_K_M decode faster than Q8_0": ${ratio > 1 && ratio512 > 1 ? 'met' : 'NOT met'} (sparq Q4_K_M / Q8_0 decode = ${f(ratio, 2)} best of ${r.repeats}, `
      + `${f(ratio512, 2)} at 512 context; file sizes ${f(q4km.fileBytes / q8.fileBytes, 2)}x).`);
  }
  return lines.join('\n') + '\n';
}
