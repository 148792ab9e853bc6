#!/usr/bin/env node
// SparQ's accuracy against dense on one model, three tasks, all settings in one run (issue 7):
//   perplexity  held-out windows of L tokens: dense prefill, then the last STEPS tokens scored by
//               teacher-forced decode steps through each setting (as the paper scores WikiText);
//   repetition  a held-out passage followed by its first 16 tokens; greedy tokens that match the passage
//               before the first divergence (the paper's Repetition task, in tokens);
//   pass key    " The pass key is NNNNN. Remember it." buried at depths 0-100% of filler text, then
//               " What is the pass key? The pass key is"; a hit when the greedy answer starts with the key.
// Settings: dense and SparQ at ratios 1/2, 1/4, 1/8, 1/16 (r = ratio·d_h, k = max(128, ratio·S/2), local
// window k/4; SparQ runs at every length here, without the speed switch-off), all on one q8 K/V cache.
//
// usage: node bench/accuracy/run.mjs [--model models/default.gguf] --text HELDOUT.txt [--filler FILLER.txt]
//          [--lengths 1024,2048,4096] [--docs 3] [--steps 128] [--passkey 2] [--kt-type q4] [--name NAME]
//        writes bench/results/accuracy-NAME.json and .md
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/index.js';
import { perplexityBySetting, greedyBySetting, passkeyBySetting, PASSKEY_DEPTHS as DEPTHS } from '../../dist/research/index.js';
import { evalSettings, documentWindows, table } from '../../dist/cli/eval.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'models/default.gguf' }, text: { type: 'string' }, filler: { type: 'string' },
  lengths: { type: 'string', default: '1024,2048,4096' }, docs: { type: 'string', default: '3' },
  steps: { type: 'string', default: '128' }, passkey: { type: 'string', default: '2' }, 'kt-type': { type: 'string' },
  name: { type: 'string', default: 'default' }, 'rep-new': { type: 'string', default: '128' },
} });
if (!a.text) throw new Error('--text HELDOUT.txt is required');
const lengths = a.lengths.split(',').map(Number);
const nDocs = Number(a.docs), steps = Number(a.steps), trials = Number(a.passkey), repNew = Number(a['rep-new']);
const REP_LEAD = 16;
const settings = evalSettings([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32]);
const started = Date.now();

const model = await loadModel(a.model, { contextLength: Math.max(...lengths), sparqLayout: true, kType: 'q8', vType: 'q8', kTType: a['kt-type'] });
const tok = model.tokenizer;
const textIds = model.tokenize(readFileSync(a.text, 'utf8'), { addSpecial: false });
const fillerIds = a.filler ? model.tokenize(readFileSync(a.filler, 'utf8'), { addSpecial: false }) : textIds;
const bos = tok.bos;
const log = (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

function perplexity(L) {
  const docs = documentWindows(textIds, bos, L, nDocs);
  return perplexityBySetting(model, docs, { prefill: L - steps - 1, settings, probe: true });
}

function repetition(L) {
  const passageLen = L - REP_LEAD - repNew;
  const windows = documentWindows(textIds, bos, passageLen, nDocs);
  const matched = settings.map(() => 0);
  for (const w of windows) {
    const body = bos === null ? w : w.slice(1);
    const prompt = [...w, ...body.slice(0, REP_LEAD)];
    const want = body.slice(REP_LEAD, REP_LEAD + repNew);
    greedyBySetting(model, prompt, repNew, settings).forEach((got, si) => {
      let n = 0;
      while (n < got.length && got[n] === want[n]) n++;
      matched[si] += n / windows.length;
    });
  }
  return matched;
}

function passkey(L) {
  return passkeyBySetting(model, fillerIds, { length: L, trials, settings });
}

const rows = [];
for (const L of lengths) {
  log(`L = ${L}: perplexity`);
  const ppl = perplexity(L);
  log(`L = ${L}: repetition`);
  const rep = repetition(L);
  log(`L = ${L}: pass key`);
  const pk = trials > 0 ? passkey(L) : settings.map(() => NaN);
  settings.forEach((s, si) => {
    const p = ppl[si];
    const layers = p.layers ?? [];
    const mean = (f) => layers.length ? layers.reduce((x, l) => x + f(l), 0) / layers.length : NaN;
    rows.push({ length: L, setting: s.label, r: p.r, k: p.k, perplexity: p.perplexity, pplVsDense: p.perplexity / ppl[0].perplexity - 1,
      fractionRead: p.fractionRead, relErr: mean((l) => l.relErr), recall: mean((l) => l.recall), layers,
      repetition: rep[si], repetitionVsDense: rep[0] > 0 ? rep[si] / rep[0] : NaN, passkey: pk[si], passkeyVsDense: pk[si] - pk[0] });
  });
}
model.dispose();

const md = [
  `# SparQ accuracy: ${a.name}`, '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ` +
  `model ${a.model}; held-out text ${a.text}${a.filler ? `, pass-key filler ${a.filler}` : ''}; K/V cache q8${a['kt-type'] ? `, K^T ${a['kt-type']}` : ''}; ` +
  `${nDocs} windows per length, ${steps} scored decode steps each; repetition: ${REP_LEAD}-token lead, up to ${repNew} tokens; ` +
  `pass key: ${trials} trials at each depth ${DEPTHS.join(', ')}; ${((Date.now() - started) / 1000).toFixed(0)} s.`, '',
  table([['context', 'attention', 'r', 'k', 'perplexity', 'vs dense', 'bytes read', 'rel. error', 'top-k recall', 'repetition', 'vs dense', 'pass key', 'vs dense'],
    ...rows.map((r) => [String(r.length), r.setting, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k),
      r.perplexity.toFixed(3), `${(r.pplVsDense * 100).toFixed(2)}%`, `${(r.fractionRead * 100).toFixed(1)}%`,
      Number.isNaN(r.relErr) ? '-' : r.relErr.toFixed(4), Number.isNaN(r.recall) ? '-' : r.recall.toFixed(3),
      r.repetition.toFixed(1), Number.isNaN(r.repetitionVsDense) ? '-' : `${(r.repetitionVsDense * 100).toFixed(0)}%`,
      Number.isNaN(r.passkey) ? '-' : `${(r.passkey * 100).toFixed(0)}%`, Number.isNaN(r.passkeyVsDense) ? '-' : `${(r.passkeyVsDense * 100).toFixed(0)} pts`])]),
  '',
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/accuracy-${a.name}.md`, md);
writeFileSync(`bench/results/accuracy-${a.name}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version,
  model: a.model, text: a.text, filler: a.filler ?? null, ktType: a['kt-type'] ?? 'same', docs: nDocs, steps, repLead: REP_LEAD, repNew, passkeyTrials: trials, depths: DEPTHS, rows }, null, 1) + '\n');
process.stdout.write(md);
