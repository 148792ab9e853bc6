// HF transformers as the reference for every supported family. Each fixture directory with an
// expected-gguf.json (the random-init models of tools/make-fixtures.py; see tests/fixtures/README.md) is
// loaded as its HF directory and as the F32 GGUF our converter writes with llama.cpp's names: both must give
// transformers' logits on the 106-token prompt within 1e-3 and its 32 greedy ids, and the GGUF must name the
// family's architecture and hold (or lack) the tensors the file lists. Every family the runtime lists
// (src/model/families/index.ts) needs such a fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../dist/index.js';
import { convertHFToGGUF } from '../../dist/convert/index.js';
import { FAMILIES } from '../../dist/model/families/index.js';
import { ByteReader } from '../../dist/formats/source.js';
import { readGGUFHeader } from '../../dist/formats/gguf.js';

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));
const BOUND = 1e-3;

/** Fixture directory name -> what its F32 GGUF must show (arch, tensors, absent). */
const EXPECTED = new Map(readdirSync(root)
  .filter((name) => existsSync(join(root, name, 'expected-gguf.json')))
  .map((name) => [name, JSON.parse(readFileSync(join(root, name, 'expected-gguf.json'), 'utf8'))]));

function fixture(name) {
  const dir = join(root, name);
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const buf = readFileSync(join(dir, 'logits.f32'));
  return { dir, ref, logits: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) };
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

async function greedy(model, ids, n) {
  const gen = model.generate(ids, { temperature: 0, maxTokens: n });
  for await (const _ of gen) { /* drain */ }
  return (await gen.result).tokens;
}

async function check(model, fx, label) {
  const ids = fx.ref.prompt.ids_with_bos;
  assert.deepEqual(model.tokenize(fx.ref.prompt.text), ids, 'tokenizer.json reproduces HF ids');
  const worst = maxAbsDiff(model.logits(ids), fx.logits);
  assert.ok(worst <= BOUND, `${label}: max |Δlogit| ${worst} over ${BOUND}`);
  assert.deepEqual(await greedy(model, ids, fx.ref.greedy.n_new), fx.ref.greedy.ids, `${label}: greedy ids`);
  return worst;
}

test('every family has a fixture with an expected-gguf.json', () => {
  const covered = new Set([...EXPECTED.values()].map((e) => e.arch));
  assert.deepEqual(FAMILIES.map((f) => f.arch).filter((arch) => !covered.has(arch)), []);
});

for (const [name, want] of EXPECTED) {
  test(`${name}: HF directory and our F32 GGUF (${want.arch}) match transformers within ${BOUND}, greedy identical`, async () => {
    const fx = fixture(name);
    const hf = await loadModel(fx.dir);
    try {
      assert.equal(hf.info.config.arch, want.arch);
      console.log(`${name} hf dir: max |Δlogit| ${(await check(hf, fx, 'hf')).toExponential(2)}`);
    } finally { hf.dispose(); }

    const tmp = mkdtempSync(join(tmpdir(), 'sparq-family-'));
    try {
      const out = join(tmp, `${name}.gguf`);
      await convertHFToGGUF(fx.dir, out, 'F32', { warn: () => {} });
      const bytes = readFileSync(out);
      const header = await readGGUFHeader(new ByteReader(bytes, out, bytes.length));
      assert.equal(header.metadata.get('general.architecture'), want.arch);
      const names = new Set(header.tensors.map((t) => t.name));
      for (const t of want.tensors) assert.ok(names.has(t), `GGUF has ${t}`);
      for (const t of want.absent) assert.ok(!names.has(t), `GGUF has no ${t}`);
      const gg = await loadModel(out);
      try {
        console.log(`${name} GGUF F32: max |Δlogit| ${(await check(gg, fx, 'gguf')).toExponential(2)}`);
      } finally { gg.dispose(); }
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  });
}
