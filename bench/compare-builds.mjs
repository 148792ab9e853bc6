#!/usr/bin/env node
// Two builds of the project side by side in one run: each checkout's own benchmark scripts against its own
// dist/ (so an API change between them does not matter), alternating before/after for --rounds rounds. For
// a behaviour-preserving change the ratios should sit within the machine's noise.
//   - model: bench/decode-types.mjs's child run (load, a --prefill-token prompt, --decode greedy tokens, and
//     the best of 3 short decode runs) on --file with --threads;
//   - attention: bench/attention.mjs, one layer's decode step at --seqs for every shape and variant.
// Reports per measure the median of the per-round after/before ratios (> 1: after is faster).
//   node bench/compare-builds.mjs --before ../other-checkout [--after .] --file MODEL.gguf [--threads 2]
//        [--rounds 3] [--prefill 128] [--decode 32] [--seqs 4096,16384] [--out bench/results/NAME]
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' }, after: { type: 'string', default: '.' }, file: { type: 'string' }, threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' }, prefill: { type: 'string', default: '128' }, decode: { type: 'string', default: '32' },
    seqs: { type: 'string', default: '4096,16384' }, out: { type: 'string' },
  },
});
if (!args.before || !args.file) throw new Error('usage: --before DIR --file MODEL.gguf (see the header of this file)');
const trees = { before: resolve(args.before), after: resolve(args.after) };

function model(tree) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', join(tree, 'bench', 'decode-types.mjs'), '--child', 'sparq',
    '--file', resolve(args.file), '--threads', args.threads, '--prefill', args.prefill, '--decode', args.decode],
  { cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const r = JSON.parse(out.trim().split('\n').pop());
  return { 'prefill tok/s': r.prefillTokPerS, 'decode tok/s': r.decodeTokPerS, 'decode tok/s, best of 3': r.decodeShortBestTokPerS };
}

function attention(tree, name) {
  const out = `bench/results/compare-${name}.tmp`; // attention.mjs writes --out relative to its checkout
  execFileSync(process.execPath, [join(tree, 'bench', 'attention.mjs'), '--seqs', args.seqs, '--min-ms', '300', '--out', out],
    { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  const rows = JSON.parse(readFileSync(join(tree, out), 'utf8')).rows;
  rmSync(join(tree, out));
  // steps per second, so that > 1 means faster like the model rates
  return Object.fromEntries(rows.map((r) => [`attention ${r.shape} S=${r.S} ${r.variant} (steps/s)`, 1000 / r.msPerStep]));
}

const runs = { before: [], after: [] };
{
  for (let round = 0; round < Number(args.rounds); round++) {
    const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const which of order) {
      const m = { ...model(trees[which]), ...attention(trees[which], `${which}-${round}`) };
      runs[which].push(m);
      console.error(`round ${round + 1} ${which}: prefill ${m['prefill tok/s'].toFixed(1)} tok/s, decode ${m['decode tok/s'].toFixed(2)} tok/s`);
    }
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const measures = Object.keys(runs.before[0]);
const rows = measures.map((k) => ({
  measure: k,
  before: median(runs.before.map((r) => r[k])), after: median(runs.after.map((r) => r[k])),
  ratio: median(runs.before.map((r, i) => runs.after[i][k] / r[k])),
}));
const meta = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadAvg: loadavg()[0], node: process.version, ...args, before: trees.before, after: trees.after };
const md = [
  '# Two builds side by side (bench/compare-builds.mjs)',
  '',
  `${meta.date}, ${meta.cpu}, ${meta.cores} cores, load average ${meta.loadAvg.toFixed(2)} at the end, Node ${meta.node}. ` +
    `${args.rounds} rounds alternating the builds; model ${args.file}, ${args.threads} thread(s), a ${args.prefill}-token prompt then ${args.decode} greedy tokens; ` +
    'attention: one layer\'s decode step, one thread. Ratio: the median of the per-round after/before ratios (> 1: after is faster).',
  '',
  '| measure | before (median) | after (median) | after / before |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.measure} | ${r.before.toFixed(2)} | ${r.after.toFixed(2)} | ${r.ratio.toFixed(3)} |`),
  '',
].join('\n');
process.stdout.write(md);
if (args.out) {
  writeFileSync(`${args.out}.json`, JSON.stringify({ meta, rows, runs }, null, 1));
  writeFileSync(`${args.out}.md`, md);
}
