// One fuzz run: seeds prepared, cases [0, cases) of run seed `seed` run in child processes (pool.mjs), the
// outcomes counted per format, and a reproducer folder (case-files.mjs) written for every defect.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareSeeds, openSeeds } from './seeds.mjs';
import { caseFormat, makeCase, FORMATS } from './cases.mjs';
import { runPool } from './pool.mjs';
import { writeCaseFolder } from './case-files.mjs';

export const DEFAULTS = { cases: 2000, seed: 1, jobs: Math.min(2, availableParallelism()), timeoutMs: 20_000, heapMb: 512 };

/**
 * Runs the cases; returns { counts: { format: { cases, loaded, typed, defect } }, errors: { class: typed
 * errors of it }, defects: [...], ms, out }.
 */
export async function runFuzz(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const out = o.out ?? join(tmpdir(), `sparq-fuzz-defects-${o.seed}`);
  const seedDir = mkdtempSync(join(tmpdir(), 'sparq-fuzz-seeds-'));
  const t0 = performance.now();
  try {
    const seeds = await prepareSeeds(seedDir);
    const counts = Object.fromEntries(FORMATS.map((f) => [f, { cases: 0, loaded: 0, typed: 0, defect: 0 }]));
    const errors = {};
    const defects = [];
    const specs = Array.from({ length: o.cases }, (_, index) => ({ index }));
    let done = 0;
    await runPool(specs, { seeds, runSeed: o.seed, jobs: o.jobs, timeoutMs: o.timeoutMs, heapMb: o.heapMb }, ({ index }, r) => {
      const c = counts[caseFormat(o.seed, index)];
      c.cases++;
      c[r.outcome]++;
      if (r.outcome === 'typed') errors[r.name] = (errors[r.name] ?? 0) + 1;
      if (r.outcome === 'defect') defects.push({ index, ...r });
      o.onProgress?.(++done, o.cases);
    });
    const opened = openSeeds(seeds);
    for (const d of defects) {
      d.folder = join(out, `case-${o.seed}-${d.index}`);
      writeCaseFolder(d.folder, makeCase(opened, o.seed, d.index), { runSeed: o.seed, index: d.index, outcome: { ...d, folder: undefined } });
    }
    return { counts, errors, defects, ms: performance.now() - t0, out };
  } finally {
    rmSync(seedDir, { recursive: true, force: true });
  }
}
