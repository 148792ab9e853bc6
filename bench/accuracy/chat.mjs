#!/usr/bin/env node
// The default model's chat tasks over long documents, dense against SparQ, in chat form: the model's
// own template renders one user turn (a held-out passage, then the question) and the assistant's reply is
// generated greedily. The prompt goes through a dense prefill; its last token and every generated token are
// decode steps through the setting under test (as the paper scores its tasks).
//   pass key   " The pass key is NNNNN. Remember it." at depth 0, 25, 50, 75 or 100% of the passage;
//              "What is the pass key?"; a hit when the reply holds the key.
//   key-value  four lines " The value of key WORD is NNNN." at random depths; one is asked for
//              ("What is the value of key WORD?"); a hit when the reply holds that value and no other.
//   copying    'Repeat the text that starts with "QUOTE".', QUOTE the 6-12 tokens that open a span at a random
//              depth of the passage; a hit when the reply is QUOTE followed by the passage's next 32 tokens,
//              character for character (the paper's Repetition task as an exact match).
//   perplexity held-out windows of the context length: dense prefill, the last STEPS tokens scored by decode
//              steps through each setting (as bench/accuracy/run.mjs scores it).
// Settings: dense and SparQ at ratios 1/2, 1/4, 1/8, 1/16 (run.mjs's recipe: r = ratio·d_h,
// k = max(128, ratio·S/2)), on one q8 K/V cache.
//
// usage: node bench/accuracy/chat.mjs [--model models/default.gguf] --text HELDOUT.txt [--lengths 1024,2048,4096]
//          [--n 8] [--ppl-docs 2] [--steps 128] [--threads 1] [--name NAME] [--tasks passkey,kv,copy]
//          [--set 'LABEL=SETTING_JSON' ...]   (extra settings after dense and the four ratios, e.g.
//          --set '1/8 r16 k128={"kind":"sparq","r":16,"k":128}'; "denseBelow": 0 is added)
//        writes bench/results/chat-NAME.json and .md
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '../../dist/index.js';
import { perplexityBySetting, greedyBySetting } from '../../dist/research/index.js';
import { evalSettings, documentWindows, table } from '../../dist/cli/eval.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'models/default.gguf' }, text: { type: 'string' },
  lengths: { type: 'string', default: '1024,2048,4096' }, n: { type: 'string', default: '8' },
  'ppl-docs': { type: 'string', default: '2' }, steps: { type: 'string', default: '128' },
  threads: { type: 'string', default: '1' }, name: { type: 'string', default: 'default' },
  tasks: { type: 'string', default: 'passkey,kv,copy' }, set: { type: 'string', multiple: true, default: [] },
} });
if (!a.text) throw new Error('--text HELDOUT.txt is required');
const lengths = a.lengths.split(',').map(Number);
const N = Number(a.n), pplDocs = Number(a['ppl-docs']), steps = Number(a.steps);
const settings = [...evalSettings([1 / 2, 1 / 4, 1 / 8, 1 / 16]), ...a.set.map((s) => {
  const at = s.indexOf('=');
  return { label: s.slice(0, at), setting: { kind: 'sparq', denseBelow: 0, ...JSON.parse(s.slice(at + 1)) } };
})];
const taskNames = a.tasks.split(',');
const WORDS = ['amber', 'falcon', 'river', 'copper', 'maple', 'harbor', 'violet', 'granite', 'lantern', 'orchid', 'thunder', 'meadow'];
const started = Date.now();
const loadBefore = loadavg();

const model = await loadModel(a.model, { contextLength: Math.max(...lengths), sparqLayout: true, kType: 'q8', vType: 'q8', threads: Number(a.threads) });
const tok = model.tokenizer;
const textIds = model.tokenize(readFileSync(a.text, 'utf8'), { addSpecial: false });
const wordStart = (id) => /^[ \n]/.test(tok.tokenText(id).replace(/\u0120/g, ' ').replace(/\u010a/g, '\n'));
const log = (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

/** Deterministic pseudo-random numbers (mulberry32) so runs are repeatable. */
function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
}

/** About n tokens of held-out text from a random word start, ending before a word start: [ids, text]. */
function passage(rand, n) {
  let off = Math.floor(rand() * (textIds.length - n - 200));
  while (!wordStart(textIds[off])) off++;
  let end = off + n;
  while (!wordStart(textIds[end])) end--;
  const ids = textIds.slice(off, end);
  return [ids, tok.decode(ids)];
}

function prompt(content) {
  return model.tokenize(model.applyChatTemplate([{ role: 'user', content }]), { addSpecial: false, parseSpecial: true });
}

/** Passage tokens so that the whole prompt is about L tokens (the reply's room kept free). */
const bodyFor = (L, extra) => L - 64 - extra;

function passkeyTrial(rand, L, i) {
  const key = String(10000 + Math.floor(rand() * 90000));
  const [ids] = passage(rand, bodyFor(L, 30));
  const at = Math.round([0, 0.25, 0.5, 0.75, 1][i % 5] * ids.length);
  const text = tok.decode(ids.slice(0, at)) + ` The pass key is ${key}. Remember it.` + tok.decode(ids.slice(at));
  return { ids: prompt(text.trimStart() + '\n\nWhat is the pass key?'), maxNew: 16, check: (reply) => reply.includes(key) };
}

function kvTrial(rand, L) {
  const words = [...WORDS].sort(() => rand() - 0.5).slice(0, 4);
  const values = words.map(() => String(1000 + Math.floor(rand() * 9000)));
  const [ids] = passage(rand, bodyFor(L, 50));
  const cuts = words.map(() => Math.floor(rand() * ids.length)).sort((x, y) => x - y);
  let text = '', prev = 0;
  words.forEach((w, j) => { text += tok.decode(ids.slice(prev, cuts[j])) + ` The value of key ${w} is ${values[j]}.`; prev = cuts[j]; });
  text += tok.decode(ids.slice(prev));
  const ask = Math.floor(rand() * words.length);
  return { ids: prompt(text.trimStart() + `\n\nWhat is the value of key ${words[ask]}?`), maxNew: 20,
    check: (reply) => reply.includes(values[ask]) && values.every((v, j) => j === ask || !reply.includes(v)) };
}

function copyTrial(rand, L) {
  const [ids, text] = passage(rand, bodyFor(L, 30));
  for (;;) {
    let s = Math.floor(rand() * (ids.length - 90));
    while (!wordStart(ids[s])) s++;
    let q = 6;
    while (q < 12 && !wordStart(ids[s + q])) q++;
    const quote = tok.decode(ids.slice(s, s + q)).trim();
    if (!quote || quote.includes('"') || quote.includes('\n')) continue;
    const want = quote + tok.decode(ids.slice(s + q, s + q + 32));
    return { ids: prompt(text.trimStart() + `\n\nRepeat the text that starts with "${quote}".`), maxNew: q + 40,
      check: (reply) => reply.trimStart().startsWith(want), distance: ids.length - s };
  }
}

const TASKS = { passkey: passkeyTrial, kv: kvTrial, copy: copyTrial };
const rows = [];
const examples = [];
for (const L of lengths) {
  const score = {};
  for (const name of taskNames) {
    const make = TASKS[name];
    if (!make) throw new Error(`--tasks: unknown task ${name} (passkey, kv, copy)`);
    const rand = rng(L * 7 + name.length);
    const hits = settings.map(() => 0);
    const lens = [];
    for (let i = 0; i < N; i++) {
      const t = make(rand, L, i);
      lens.push(t.ids.length);
      const outs = greedyBySetting(model, t.ids, t.maxNew, settings);
      outs.forEach((got, si) => { if (t.check(tok.decode(got))) hits[si]++; });
      if (i === 0) examples.push({ length: L, task: name, dense: tok.decode(outs[0]), sparq8: tok.decode(outs[3]) });
    }
    score[name] = hits.map((h) => h / N);
    log(`L = ${L} ${name}: ${score[name].map((x) => (x * 100).toFixed(0) + '%').join(' ')} (prompts ${Math.min(...lens)}-${Math.max(...lens)} tokens)`);
  }
  let ppl = settings.map(() => ({ perplexity: NaN }));
  if (pplDocs > 0) {
    ppl = perplexityBySetting(model, documentWindows(textIds, tok.bos, L, pplDocs), { prefill: L - steps - 1, settings });
    log(`L = ${L} perplexity: ${ppl.map((p) => p.perplexity.toFixed(2)).join(' ')}`);
  }
  const at = (name, si) => score[name]?.[si] ?? NaN;
  settings.forEach((s, si) => rows.push({ length: L, setting: s.label, passkey: at('passkey', si), kv: at('kv', si), copy: at('copy', si),
    perplexity: ppl[si].perplexity, vsDense: { passkey: at('passkey', si) / at('passkey', 0), kv: at('kv', si) / at('kv', 0), copy: at('copy', si) / at('copy', 0) } }));
}
model.dispose();

const pct = (x) => Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-';
const at4 = (label) => rows.find((r) => r.length === 4096 && r.setting === label);
const goals = [];
if (at4('dense') && taskNames.length === 3) {
  const d = at4('dense'), s8 = at4('1/8');
  const g = (what, ok, value) => goals.push(`| ${what} | ${value} | ${ok ? 'met' : 'missed'} |`);
  g('dense 4K pass key >= 95%', d.passkey >= 0.95, pct(d.passkey));
  g('dense 4K key-value >= 95%', d.kv >= 0.95, pct(d.kv));
  g('dense 4K copying >= 80% exact', d.copy >= 0.8, pct(d.copy));
  for (const t of ['passkey', 'kv', 'copy']) g(`SparQ 1/8 at 4K >= 90% of dense, ${t}`, s8[t] >= 0.9 * d[t] && d[t] > 0, `${pct(s8[t])} vs ${pct(d[t])}`);
}
const loadAfter = loadavg();
const md = [
  `# Chat tasks over long documents, dense and SparQ: ${a.name}`, '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, load average ${loadBefore[0].toFixed(2)} at the start, ` +
  `${loadAfter[0].toFixed(2)} at the end), Node ${process.version}, ${a.threads} thread(s); model ${a.model}; held-out text ${a.text}; ` +
  `K/V cache q8; n = ${N} trials per task, length and setting (the same prompts for every setting); perplexity: ${pplDocs} windows per length, ` +
  `last ${steps} tokens scored by decode steps; ${((Date.now() - started) / 1000).toFixed(0)} s.`, '',
  table([['context', 'attention', 'pass key', 'vs dense', 'key-value', 'vs dense', 'copying (exact)', 'vs dense', 'perplexity'],
    ...rows.map((r) => [String(r.length), r.setting, pct(r.passkey), pct(r.vsDense.passkey), pct(r.kv), pct(r.vsDense.kv), pct(r.copy), pct(r.vsDense.copy),
      Number.isFinite(r.perplexity) ? r.perplexity.toFixed(2) : '-'])]),
  '', ...(goals.length ? ['| goal | measured | |', '|---|---|---|', ...goals, ''] : []),
  'First reply of each task (dense and SparQ 1/8):', '',
  ...examples.map((e) => `- ${e.length} ${e.task}: dense ${JSON.stringify(e.dense)}; 1/8 ${JSON.stringify(e.sparq8)}`), '',
].join('\n');
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/chat-${a.name}.md`, md);
writeFileSync(`bench/results/chat-${a.name}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length,
  loadavg: { start: loadBefore, end: loadAfter }, node: process.version, threads: Number(a.threads), model: a.model, text: a.text, n: N,
  pplDocs, steps, rows, examples }, null, 1) + '\n');
process.stdout.write(md);
