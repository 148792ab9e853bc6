#!/usr/bin/env node
// Perplexity of SparQ settings given on the command line, against dense, at one context length: the
// accuracy options of docs/sparq.md section 8 (attention sinks, dense layers, per-layer budgets, the adaptive
// budget, mean-value reallocation in all or some layers). Same scoring
// as run.mjs and settings.mjs: held-out windows, dense prefill, the last STEPS tokens scored by
// teacher-forced decode steps, q8 K/V cache, SparQ at every length (denseBelow 0).
//
// usage: node bench/accuracy/options.mjs --text HELDOUT.txt [--model models/default.gguf] [--length 4096]
//          [--docs 8] [--steps 128] [--threads 1] [--kt-type q4] [--probe] --name NAME
//          --set 'LABEL={"ratio":0.125,"sinks":4}' [--set ...]      (the options of AttentionSetting)
//        writes bench/results/accuracy-options-NAME.json and .md
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/index.js';
import { perplexityBySetting } from '../../dist/research/index.js';
import { documentWindows, table } from '../../dist/cli/eval.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'models/default.gguf' }, text: { type: 'string' }, length: { type: 'string', default: '4096' },
  docs: { type: 'string', default: '8' }, steps: { type: 'string', default: '128' }, threads: { type: 'string', default: '1' },
  probe: { type: 'boolean', default: false }, 'kt-type': { type: 'string' }, name: { type: 'string' }, set: { type: 'string', multiple: true, default: [] },
} });
if (!a.text || !a.name) throw new Error('--text HELDOUT.txt and --name NAME are required');
const L = Number(a.length), nDocs = Number(a.docs), steps = Number(a.steps), threads = Number(a.threads);
const started = Date.now(), load0 = loadavg()[0];
const asked = a.set.map((s) => {
  const at = s.indexOf('=');
  return { label: s.slice(0, at), setting: { kind: 'sparq', denseBelow: 0, ...JSON.parse(s.slice(at + 1)) } };
});

const model = await loadModel(a.model, { contextLength: L, sparqLayout: true, kType: 'q8', vType: 'q8', kTType: a['kt-type'], threads });
const ids = model.tokenize(readFileSync(a.text, 'utf8'), { addSpecial: false });
const docs = documentWindows(ids, model.tokenizer.bos, L, nDocs);
const rows = perplexityBySetting(model, docs, { prefill: L - steps - 1, settings: [{ label: 'dense', setting: 'dense' }, ...asked],
  probe: a.probe, onDocument: (i, n) => process.stderr.write(`\rwindow ${i}/${n}`) });
process.stderr.write('\n');
model.dispose();
const dense = rows[0].perplexity;
const mean = (layers, f) => layers.reduce((x, l) => x + f(l), 0) / layers.length;
const cmd = `node bench/accuracy/options.mjs --text ${a.text} --length ${L} --docs ${nDocs} --steps ${steps} --threads ${threads}` +
  `${a['kt-type'] ? ` --kt-type ${a['kt-type']}` : ''}` +
  `${a.probe ? ' --probe' : ''} --name ${a.name} ` + a.set.map((s) => `--set '${s}'`).join(' ');
const md = [
  `# SparQ accuracy options at ${L} tokens: ${a.name}`, '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, load average ${load0.toFixed(1)} ` +
  `at the start), Node ${process.version}, ${threads} thread(s); model ${a.model}; held-out text ${a.text}; K/V cache q8, K^T ${a['kt-type'] ?? 'q8'}; ${nDocs} ` +
  `windows of ${L} tokens, the last ${steps} tokens of each scored by decode steps after a dense prefill ` +
  `(n = ${rows[0].tokens} scored tokens per row); ${((Date.now() - started) / 1000).toFixed(0)} s. "bytes read" is the attention data read ` +
  'by the decode steps (K^T codes and scales, gathered K and V rows, index lists, the V sum) over what dense reads.', '',
  `\`${cmd}\``, '',
  table([['setting', 'r', 'k', 'options', 'perplexity', 'vs dense', 'bytes read', ...(a.probe ? ['rel. error', 'top-k recall'] : [])],
    ...rows.map((r) => {
      const { kind, ratio, r: _r, k: _k, denseBelow, reallocation, ...opts } = r.setting === 'dense' ? {} : r.setting;
      const o = [...(reallocation ? [`reallocation ${reallocation === true ? 'all' : reallocation.join('+')}`] : []),
        ...Object.entries(opts).map(([key, v]) => `${key} ${Array.isArray(v) ? v.join('+') || 'none' : v}`)];
      return [r.label, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k), o.join(', ') || '-',
        r.perplexity.toFixed(3), `${((r.perplexity / dense - 1) * 100).toFixed(2)}%`, `${(r.fractionRead * 100).toFixed(1)}%`,
        ...(a.probe ? (r.layers ? [mean(r.layers, (l) => l.relErr).toFixed(4), mean(r.layers, (l) => l.recall).toFixed(3)] : ['-', '-']) : [])];
    })]),
  '',
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/accuracy-options-${a.name}.md`, md);
writeFileSync(`bench/results/accuracy-options-${a.name}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model,
  load: load0, node: process.version, threads, ktType: a['kt-type'] ?? 'q8', model: a.model, text: a.text, length: L, docs: nDocs, steps, command: cmd,
  rows: rows.map(({ setting, ...r }) => ({ ...r, setting })) }, null, 1) + '\n');
process.stdout.write(md);
