#!/usr/bin/env node
// What SparQ's settings do to perplexity at one context length, in one run (issue 7 asks which setting moves
// a missed goal): dense, the 1/8 ratio recipe, other (r, k) splits of about the same attention bytes, a
// larger k, exact ranking (r = d_h), and the 1/8 recipe with mean-value reallocation (a second model load,
// as reallocation is a load option). Same scoring as run.mjs: held-out windows, dense prefill, the last
// STEPS tokens scored by teacher-forced decode steps, q8 K/V cache. The local window stays k/4 (a kernel
// constant).
//
// usage: node bench/accuracy/settings.mjs [--model models/default.gguf] --text HELDOUT.txt [--length 4096]
//          [--docs 3] [--steps 128] [--name NAME]      writes bench/results/accuracy-settings-NAME.json and .md
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/index.js';
import { perplexityBySetting } from '../../dist/research/index.js';
import { documentWindows, table } from '../../dist/cli/eval.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'models/default.gguf' }, text: { type: 'string' }, length: { type: 'string', default: '4096' },
  docs: { type: 'string', default: '3' }, steps: { type: 'string', default: '128' }, name: { type: 'string', default: 'default' },
} });
if (!a.text) throw new Error('--text HELDOUT.txt is required');
const L = Number(a.length), nDocs = Number(a.docs), steps = Number(a.steps);
const started = Date.now();

/** Perplexity of every setting over the same windows, with the model loaded with `reallocation`. */
async function score(reallocation, settings) {
  const model = await loadModel(a.model, { contextLength: L, sparqLayout: true, kType: 'q8', vType: 'q8', reallocation });
  try {
    const ids = model.tokenize(readFileSync(a.text, 'utf8'), { addSpecial: false });
    const docs = documentWindows(ids, model.tokenizer.bos, L, nDocs);
    return { d: model.info.config.headDim, results: perplexityBySetting(model, docs, { prefill: L - steps - 1, settings, probe: true }) };
  } finally {
    model.dispose();
  }
}

const sparq = (label, s) => ({ label, setting: { kind: 'sparq', ...s, denseBelow: 0 } });
const d = 64; // rows below name r in 64ths; the model's head_dim is checked after loading
const plain = [
  { label: 'dense', setting: 'dense' },
  sparq('1/8 recipe', { ratio: 1 / 8 }),
  sparq('r 4, k 384', { r: 4, k: Math.round((3 * L) / 32) }),
  sparq('r 16, k 128', { r: 16, k: Math.round(L / 32) }),
  sparq('r 8, k 512', { r: 8, k: Math.round(L / 8) }),
  sparq('r 8, k 1024', { r: 8, k: Math.round(L / 4) }),
  sparq('exact rank r 64, k 256', { r: d, k: Math.round(L / 16) }),
];
const first = await score(undefined, plain);
if (first.d !== d) throw new Error(`this sweep is written for head_dim ${d}; the model has ${first.d}`);
const withRealloc = await score(true, [plain[0], plain[1]]);
const rows = [
  ...first.results.map((p) => ({ ...p, reallocation: false })),
  { ...withRealloc.results[1], label: '1/8 recipe + reallocation', reallocation: true },
];
const dense = first.results[0].perplexity;
const mean = (layers, f) => (layers?.length ? layers.reduce((x, l) => x + f(l), 0) / layers.length : NaN);
const md = [
  `# SparQ settings at ${L} tokens: ${a.name}`, '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; model ${a.model}; ` +
  `held-out text ${a.text}; K/V cache q8; ${nDocs} windows of ${L} tokens, the last ${steps} tokens of each scored by decode steps ` +
  `after a dense prefill; local window k/4; ${((Date.now() - started) / 1000).toFixed(0)} s. The reallocation row reuses the same ` +
  `windows with a second model load (its dense perplexity: ${withRealloc.results[0].perplexity.toFixed(3)}).`, '',
  table([['setting', 'r', 'k', 'perplexity', 'vs dense', 'bytes read', 'rel. error', 'top-k recall'],
    ...rows.map((r) => [r.label, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k), r.perplexity.toFixed(3),
      `${((r.perplexity / dense - 1) * 100).toFixed(2)}%`, `${(r.fractionRead * 100).toFixed(1)}%`,
      Number.isNaN(mean(r.layers, (l) => l.relErr)) ? '-' : mean(r.layers, (l) => l.relErr).toFixed(4),
      Number.isNaN(mean(r.layers, (l) => l.recall)) ? '-' : mean(r.layers, (l) => l.recall).toFixed(3)])]),
  '',
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/accuracy-settings-${a.name}.md`, md);
writeFileSync(`bench/results/accuracy-settings-${a.name}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model,
  node: process.version, model: a.model, text: a.text, length: L, docs: nDocs, steps,
  rows: rows.map(({ setting, layers, ...r }) => ({ ...r, setting })) }, null, 1) + '\n');
process.stdout.write(md);
