// The fuzzer in `npm test`: every regression case under regressions/ (a defect fixed once) ends as its
// case.json expects, and a fixed sample of generated cases has no defect. `npm run fuzz` runs more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, runFuzz } from './fuzz.mjs';
import { runPool } from './pool.mjs';
import { readCaseFolder } from './case-files.mjs';

const SAMPLE = { cases: 2000, seed: 20251207 };
const regressions = fileURLToPath(new URL('./regressions/', import.meta.url));

test('every regression case ends as its case.json expects', async () => {
  const folders = readdirSync(regressions).sort().map((f) => join(regressions, f));
  assert.ok(folders.length > 0);
  const seen = new Map();
  await runPool(folders.map((folder) => ({ folder })), { ...DEFAULTS, seeds: {}, runSeed: 0 }, ({ folder }, r) => seen.set(folder, r));
  for (const folder of folders) {
    const { meta } = readCaseFolder(folder);
    const r = seen.get(folder);
    const got = `${r.outcome} ${r.kind ?? ''} ${r.name ?? ''}: ${r.message ?? ''}`;
    assert.equal(r.outcome, meta.expect, `${folder}: ${got}`);
    if (meta.error) assert.equal(r.name, meta.error, `${folder}: ${got}`);
  }
});

test(`a fixed sample of ${SAMPLE.cases} cases (seed ${SAMPLE.seed}) has no defect`, async () => {
  const r = await runFuzz(SAMPLE);
  for (const [format, c] of Object.entries(r.counts)) console.log(`fuzz ${format}: ${c.cases} cases, ${c.loaded} loaded, ${c.typed} typed errors, ${c.defect} defects`);
  assert.ok(Object.values(r.counts).every((c) => c.cases > 0 && c.loaded + c.typed + c.defect === c.cases));
  assert.deepEqual(r.defects.map((d) => `case ${d.index} ${d.kind} ${d.name ?? ''}: ${d.message} (reproducer: ${d.folder})`), []);
});
