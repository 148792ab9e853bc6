#!/usr/bin/env node
// Prefill, decode and load speed per weight type on Llama-3.2-1B shapes, for every engine in one run on the
// same files, prompt and thread count: ours in Node and in Chromium, node-llama-cpp (llama.cpp's native CPU
// backend) and wllama (llama.cpp compiled to Wasm, in Chromium). Each engine keeps its model loaded in its
// own process or page; each round runs one trial per engine (prompt, then greedy tokens) in a rotating
// order, and the table gives medians over rounds and medians of the per-round ratios (the machine's speed
// drifts, so ratios are only taken within a round).
//   node bench/speed.mjs [--types Q8_0,Q4_0,Q4_K_M,Q5_K_M,Q6_K] [--prompt 512] [--decode 64] [--threads 2]
//                        [--rounds 3] [--engines sparq,sparq-browser,llama,wllama] [--out bench/results/speed]
// Long prompts (time to first token): --prompt 4096 --decode 2 --engines sparq,llama,llama-fa-off.
// Files: bench/.cache/llama32-1b-shape-from-F16-<TYPE>.gguf, quantised from llama32-1b-shape-F16.gguf by
// `sparq quantize` when missing (tools/make-random-gguf.mjs --preset llama-3.2-1b --type F16 makes that one).
// Engines need: bench/peers installed (`cd bench/peers && npm ci`) for llama and wllama, /usr/bin/chromium and
// playwright-core for the browser engines, `npm run build` for ours.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { readBandwidth } from './lib/read-bandwidth.mjs';
import { spawnEngine } from './engines/protocol.mjs';
import { openPageEngine } from './engines/browser.mjs';
import { withChromium } from '../tools/chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const here = join(root, 'bench', 'engines');
const { values: a } = parseArgs({ options: {
  types: { type: 'string', default: 'Q8_0,Q4_0,Q4_K_M,Q5_K_M,Q6_K' }, prompt: { type: 'string', default: '512' },
  decode: { type: 'string', default: '64' }, threads: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' },
  engines: { type: 'string', default: 'sparq,sparq-browser,llama,wllama' }, out: { type: 'string' },
  cache: { type: 'string', default: join(root, 'bench', '.cache') },
} });
const nPrompt = Number(a.prompt), nDecode = Number(a.decode), threads = Number(a.threads), rounds = Number(a.rounds);
const context = nPrompt + nDecode + 16;

/** The engines: how each starts, what its load request adds, whether it needs Chromium. */
const ENGINES = {
  sparq: { label: 'ours (Node)', start: () => spawnEngine(join(here, 'sparq-node.mjs'), [join(root, 'dist')]) },
  'sparq-browser': { label: 'ours (Chromium)', page: 'sparq' },
  llama: { label: 'node-llama-cpp', start: () => spawnEngine(join(here, 'llama-node.mjs')) },
  'llama-fa-off': { label: 'node-llama-cpp, flash attention off', start: () => spawnEngine(join(here, 'llama-node.mjs')), load: { flashAttention: false } },
  wllama: { label: 'wllama (Chromium)', page: 'wllama' },
};
const names = a.engines.split(',');
for (const n of names) if (!ENGINES[n]) throw new Error(`unknown engine ${n}; known: ${Object.keys(ENGINES).join(', ')}`);
const needsBrowser = names.some((n) => ENGINES[n].page);

const run = async (browser) => {
  const bandwidthBefore = await readBandwidth(join(root, 'dist'));
  const rows = [];
  for (const type of a.types.split(',')) rows.push(await measureType(type, browser));
  const bandwidthAfter = await readBandwidth(join(root, 'dist'));
  const result = {
    date: new Date().toISOString(), cpu: cpus()[0].model, cores: cpus().length, node: process.version, browser: browser?.version(),
    prompt: nPrompt, decode: nDecode, threads, rounds, engines: names, versions: versions(),
    bandwidth: { before: bandwidthBefore, after: bandwidthAfter, gbps: Math.max(bandwidthBefore.gbps, bandwidthAfter.gbps) }, rows,
  };
  const md = markdown(result);
  process.stdout.write(md);
  if (a.out) {
    writeFileSync(`${a.out}.json`, JSON.stringify(result, null, 1) + '\n');
    writeFileSync(`${a.out}.md`, md);
  }
};
if (needsBrowser) await withChromium([], run); else await run(undefined);

/** One weight type: every engine loads the file, warms up, then `rounds` rounds of one trial each. */
async function measureType(type, browser) {
  const file = ensureFile(type);
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // the page cache holds the file for every load
  const row = { type, fileBytes: statSync(file).size, loadAvg: [loadavg()[0]], engines: {} };
  const engines = {};
  try {
    for (const n of names) {
      const spec = ENGINES[n];
      engines[n] = spec.page ? await openPageEngine(browser, spec.page, file) : spec.start();
      const info = await engines[n].call('load', { file, threads, context, ...spec.load });
      row.engines[n] = { load: info, trials: [] };
      console.error(`${type} ${n}: loaded in ${(info.loadMs / 1000).toFixed(1)} s`);
    }
    const { ids, text } = await prompt(engines.sparq ?? await helperTokenizer(file));
    for (const n of names) await engines[n].call('trial', { ids: ids.slice(0, 8), text: text.slice(0, 8), decode: 4 }); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < names.length; i++) {
        const n = names[(i + r) % names.length];
        const t = await engines[n].call('trial', { ids, text, decode: nDecode });
        row.engines[n].trials.push(t);
        console.error(`${type} round ${r + 1} ${n}: prefill ${(t.promptTokens / t.prefillMs * 1000).toFixed(1)}, decode ${(t.decodeTokens / t.decodeMs * 1000).toFixed(2)} tok/s`);
      }
      row.loadAvg.push(loadavg()[0]);
    }
  } finally {
    for (const e of Object.values(engines)) await e.close();
  }
  return row;
}

/** The file of `type`, quantised from the F16 one when missing. */
function ensureFile(type) {
  const file = join(a.cache, `llama32-1b-shape-from-F16-${type}.gguf`);
  if (existsSync(file)) return file;
  const source = join(a.cache, 'llama32-1b-shape-F16.gguf');
  if (!existsSync(source)) throw new Error(`${source} is missing: make it with tools/make-random-gguf.mjs --preset llama-3.2-1b --type F16 --out ${source}`);
  console.error(`quantising ${source} to ${type} ...`);
  execFileSync(process.execPath, [join(root, 'bin', 'sparq.js'), 'quantize', source, file, '--type', type, '--quiet'], { stdio: 'inherit' });
  return file;
}

/** Our engine in this process, only to tokenize the prompt when the Node engine is not in the run. */
async function helperTokenizer(file) {
  const { loadModel } = await import(join(root, 'dist', 'index.js'));
  const model = await loadModel(file, { contextLength: 16 });
  return { call: async (op, { text }) => { if (op !== 'tokenize') throw new Error(op); const ids = model.tokenize(text); return ids; } };
}

/**
 * A prompt of exactly nPrompt ids (BOS first, as every engine adds it to text) and the text they come from
 * (wllama takes text): random words, cut at the longest prefix that tokenizes to nPrompt ids.
 */
async function prompt(engine) {
  let x = 7;
  const rand = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 2 ** 32; };
  const words = Array.from({ length: nPrompt * 2 }, () => Array.from({ length: 2 + Math.floor(rand() * 6) }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join(''));
  const full = words.join(' ');
  let lo = 0, hi = full.length;
  while (lo < hi) { // the longest prefix with at most nPrompt ids
    const mid = Math.ceil((lo + hi) / 2);
    if ((await engine.call('tokenize', { text: full.slice(0, mid) })).length <= nPrompt) lo = mid; else hi = mid - 1;
  }
  const text = full.slice(0, lo);
  const ids = await engine.call('tokenize', { text });
  if (ids.length !== nPrompt) throw new Error(`no prefix of the prompt text tokenizes to ${nPrompt} ids (got ${ids.length})`);
  return { ids, text };
}

function versions() {
  const version = (dir) => { try { return JSON.parse(readFileSync(join(root, 'bench', 'peers', 'node_modules', dir, 'package.json'), 'utf8')).version; } catch { return undefined; } };
  return { 'node-llama-cpp': version('node-llama-cpp'), wllama: version('@wllama/wllama') };
}

function markdown(r) {
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const has = (n) => r.engines.includes(n);
  const cols = r.engines.map((n) => ENGINES[n].label);
  const peerRatios = [['sparq', 'llama'], ['sparq', 'llama-fa-off'], ['sparq', 'wllama'], ['sparq-browser', 'wllama']].filter(([o, p]) => has(o) && has(p));
  const lines = [
    `# Speed per weight type beside node-llama-cpp and wllama (Llama-3.2-1B shapes, ${r.threads} threads)`, '',
    `\`node bench/speed.mjs --types ${r.rows.map((x) => x.type).join(',')} --prompt ${r.prompt} --decode ${r.decode} --threads ${r.threads} --rounds ${r.rounds} --engines ${r.engines.join(',')}\``,
    `${r.date}; ${r.cpu}, ${r.cores} cores; Node ${r.node}${r.browser ? `; Chromium ${r.browser}` : ''}; node-llama-cpp ${r.versions['node-llama-cpp'] ?? '-'}, wllama ${r.versions.wllama ?? '-'}.`,
    'Random weights with the real shapes (16 layers, dim 2048, FFN 8192, 32/8 heads, vocabulary 128256, tied embeddings), quantised from one',
    'F16 file by `sparq quantize`. Every engine: the same file, the same prompt ids (wllama: the text they come from, checked against its',
    `prompt token count), ${r.threads} threads, greedy; each engine's default KV cache. Per round one trial per engine in a rotating order:`,
    `a ${r.prompt}-token prompt, then ${r.decode} tokens; prefill = prompt tokens / time to the first token, decode = the tokens after it / their time`,
    '(wall clock in the engine\'s process or page). Tok/s are medians over rounds; ratios are medians of per-round ratios.',
    `Wasm streaming read (read_sum_f32, one thread, best of 7): ${f(r.bandwidth.before.gbps, 2)} GB/s before, ${f(r.bandwidth.after.gbps, 2)} GB/s after; "% bw" uses the higher.`,
    `Load = the engine's load call with the file in the page cache (ours: loadModel from the path; node-llama-cpp: loadModel; pages: fetch and load).`, '',
    `| weights | file MB | ${cols.map((c) => `${c} prefill`).join(' | ')} | ${cols.map((c) => `${c} decode`).join(' | ')} | ours decode GB/s (% bw) | ${peerRatios.map(([o, p]) => `${ENGINES[o].label} / ${ENGINES[p].label} prefill, decode`).join(' | ')} | ${cols.map((c) => `${c} load GB/s`).join(' | ')} | load avg |`,
    `| --- | --- | ${cols.map(() => '---').join(' | ')} | ${cols.map(() => '---').join(' | ')} | --- | ${peerRatios.map(() => '---').join(' | ')} | ${cols.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const x of r.rows) {
    const e = (n) => x.engines[n];
    const prefill = r.engines.map((n) => f(median(e(n).trials.map(prefillRate))));
    const decode = r.engines.map((n) => f(median(e(n).trials.map(decodeRate)), 2));
    const ours = e('sparq');
    const bytesPerToken = ours ? ours.load.weightBytes + ours.load.kvBytesPerToken * (r.prompt + r.decode / 2) : NaN;
    const oursGBps = ours ? (median(ours.trials.map(decodeRate)) * bytesPerToken) / 1e9 : NaN;
    const ratios = peerRatios.map(([o, p]) => `${f(pairedRatio(x, o, p, prefillRate), 2)}x, ${f(pairedRatio(x, o, p, decodeRate), 2)}x`);
    const loads = r.engines.map((n) => f(x.fileBytes / e(n).load.loadMs / 1e6, 2));
    lines.push(`| ${x.type} | ${f(x.fileBytes / 1e6, 0)} | ${prefill.join(' | ')} | ${decode.join(' | ')} | ${f(oursGBps, 2)} (${f((100 * oursGBps) / r.bandwidth.gbps, 0)}%) | ${ratios.join(' | ')} | ${loads.join(' | ')} | ${x.loadAvg.map((v) => f(v, 1)).join(', ')} |`);
  }
  const wPrompt = r.rows.flatMap((x) => (x.engines.wllama ? x.engines.wllama.trials.map((t) => t.promptTokens) : []));
  if (wPrompt.length) lines.push('', `wllama's prompt token counts: ${[...new Set(wPrompt)].join(', ')} (ours: ${r.prompt}).`);
  return lines.join('\n') + '\n';
}

function median(xs) { const s = xs.filter((v) => Number.isFinite(v)).sort((p, q) => p - q); return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; }
function prefillRate(t) { return (1000 * t.promptTokens) / t.prefillMs; }
function decodeRate(t) { return (1000 * t.decodeTokens) / t.decodeMs; }
/** Median over rounds of ours / theirs, each ratio within one round. */
function pairedRatio(row, ours, theirs, rate) {
  const o = row.engines[ours]?.trials, p = row.engines[theirs]?.trials;
  return o && p ? median(o.map((t, i) => rate(t) / rate(p[i]))) : NaN;
}
