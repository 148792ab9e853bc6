// A model's config is read once and frozen: loading (weight preparation included) never changes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../dist/index.js';
import { convertHFToGGUF } from '../../dist/convert/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Every object and array reachable from `v` is frozen. */
function assertDeepFrozen(v, path = 'config') {
  if (typeof v !== 'object' || v === null) return;
  assert.ok(Object.isFrozen(v), `${path} is frozen`);
  for (const [k, x] of Object.entries(v)) assertDeepFrozen(x, `${path}.${k}`);
}

async function loadedConfig(source) {
  const model = await loadModel(source, { contextLength: 64 });
  try {
    const c = model.info.config;
    assertDeepFrozen(c);
    assert.throws(() => { c.tiedOutput = !c.tiedOutput; }, TypeError);
    assert.throws(() => { c.layerWindows[0] = 1; }, TypeError);
    return c;
  } finally { model.dispose(); }
}

// Gemma's HF weights are rewritten in memory at load (norms stored as w, used as 1 + w) and GPT-NeoX's fused
// QKV regrouped; their GGUFs need neither.
for (const name of ['gemma', 'gptneox']) {
  test(`${name}: the config of the HF directory and of its GGUF is deeply frozen`, async () => {
    const fromHF = await loadedConfig(join(fixtures, name));
    const tmp = mkdtempSync(join(tmpdir(), 'sparq-config-'));
    try {
      const file = join(tmp, `${name}.gguf`);
      await convertHFToGGUF(join(fixtures, name), file, 'F32', { warn: () => {} });
      const fromGGUF = await loadedConfig(file);
      assert.equal(fromGGUF.tiedOutput, fromHF.tiedOutput);
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  });
}
