#!/usr/bin/env node
// The fuzzer from the command line (npm run fuzz -- --cases N --seed S): prints the outcome counts per
// format, writes a reproducer folder for every defect, and exits 1 when there is one.
//   node tests/fuzz/run.mjs [--cases 2000] [--seed 1] [--jobs 2] [--timeout 20] [--heap 512] [--out DIR] [--report FILE.md]
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULTS, runFuzz } from './fuzz.mjs';

const { values } = parseArgs({
  options: {
    cases: { type: 'string' }, seed: { type: 'string' }, jobs: { type: 'string' }, timeout: { type: 'string' },
    heap: { type: 'string' }, out: { type: 'string' }, report: { type: 'string' },
  },
});
const int = (v, d) => (v === undefined ? d : Number.parseInt(v, 10));
const options = {
  cases: int(values.cases, DEFAULTS.cases), seed: int(values.seed, DEFAULTS.seed), jobs: int(values.jobs, DEFAULTS.jobs),
  timeoutMs: int(values.timeout, DEFAULTS.timeoutMs / 1000) * 1000, heapMb: int(values.heap, DEFAULTS.heapMb), out: values.out,
};
let last = 0;
const loadBefore = loadavg()[0];
const r = await runFuzz({
  ...options,
  onProgress(done, total) {
    if (done === total || performance.now() - last > 10_000) {
      last = performance.now();
      process.stderr.write(`${done}/${total} cases\n`);
    }
  },
});
const lines = table(r);
console.log(lines.join('\n'));
for (const d of r.defects) console.log(`defect (${d.kind}): case ${d.index}: ${d.name ?? ''} ${d.message}\n  reproducer: ${d.folder}`);
const typed = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`).join(', ');
console.log(`typed errors by class: ${typed}`);
if (values.report) {
  const date = new Date().toISOString().slice(0, 10);
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`;
  const md = [
    '# Loader fuzzing', '',
    `\`node tests/fuzz/run.mjs --cases ${options.cases} --seed ${options.seed} --jobs ${options.jobs}\` at commit ${commit()} on ${date}, ` +
      `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${load} (${options.jobs} worker processes, ${options.heapMb} MiB JS heap each, ` +
      `${options.timeoutMs / 1000} s per case).`,
    'Outcomes: loaded (and a short generation ran), a typed error (SparqError), or a defect (an untyped error, a Wasm trap, a hang or a crash).',
    '', ...lines, '', `Typed errors by class: ${typed}.`, '', `${r.defects.length} defects; ${(r.ms / 1000).toFixed(0)} s in all.`, '',
  ];
  writeFileSync(values.report, md.join('\n'));
  writeFileSync(values.report.replace(/\.md$/, '.json'), JSON.stringify({
    date, commit: commit(), options: { ...options, out: undefined }, counts: r.counts, errors: r.errors, defects: r.defects, seconds: r.ms / 1000,
  }, null, 2) + '\n');
}
process.exitCode = r.defects.length ? 1 : 0;

/** The checkout's commit, marked when it has changes not committed. */
function commit() {
  const git = (...args) => execFileSync('git', args, { cwd: new URL('.', import.meta.url), encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', '.', '../../src').length ? ' (with changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

function table({ counts }) {
  const rows = Object.entries(counts).map(([f, c]) => `| ${f} | ${c.cases} | ${c.loaded} | ${c.typed} | ${c.defect} |`);
  const sum = (k) => Object.values(counts).reduce((a, c) => a + c[k], 0);
  return ['| format | cases | loaded | typed error | defect |', '| --- | ---: | ---: | ---: | ---: |', ...rows,
    `| all | ${sum('cases')} | ${sum('loaded')} | ${sum('typed')} | ${sum('defect')} |`];
}
