// The relaxed-SIMD kernel build: loadModel picks it only where the runtime validates relaxed SIMD and the
// build's startup self-check passes, and it gives the portable build's bits. Node 20 compiles relaxed SIMD
// only behind --experimental-wasm-relaxed-simd, and its baseline compiler (Liftoff) lowers the dot product
// wrongly, so the children below cover all three cases: no relaxed SIMD, the miscompile, a correct compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convertHFToGGUF, quantizeGGUF } from '../../dist/convert/index.js';

const GQA = fileURLToPath(new URL('../fixtures/llama-gqa', import.meta.url));
const DIST = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * A child Node with `flags` greedy-decodes `file` on `threads`: { kernels, threads, ids, logits (SHA-256 of
 * the f32 bytes) }. The script is a file: worker threads inherit the flags, and --input-type would stop them.
 */
function decodeIn(dir, flags, file, threads, extra = {}) {
  const script = join(dir, `decode-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `
    import { createHash } from 'node:crypto';
    const { loadModel } = await import(${JSON.stringify(DIST)});
    const model = await loadModel(${JSON.stringify(file)}, { threads: ${threads}, ...${JSON.stringify(extra)} });
    const gen = model.generate('Once upon a time, a little fox', { temperature: 0, maxTokens: 24 });
    for await (const _ of gen);
    const { tokens } = await gen.result;
    const logits = model.logits(model.tokenize('The quick brown fox'));
    const sha = createHash('sha256').update(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)).digest('hex');
    console.log(JSON.stringify({ kernels: model.info.kernels, threads: model.info.threads, ids: tokens, logits: sha }));
    model.dispose();`);
  const r = spawnSync(process.execPath, [...flags, script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

test('a K-quant model decodes to the same bits on the portable and the relaxed build, which is used only where its self-check passes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-relaxed-'));
  try {
    const f32 = join(dir, 'f32.gguf'), file = join(dir, 'q4_k_m.gguf');
    await convertHFToGGUF(GQA, f32, 'F32', { warn: () => {} });
    await quantizeGGUF(f32, file, 'Q4_K_M'); // Q4_K and Q6_K matrices: both run relaxed kernels in the relaxed build
    const portable = decodeIn(dir, [], file, 1, { relaxedSimd: false });
    assert.equal(portable.kernels, 'portable');
    const cases = [
      ['default flags', [], 1],
      ['relaxed SIMD on the baseline compiler', ['--experimental-wasm-relaxed-simd'], 1],
      ['relaxed SIMD, optimising compiler only', ['--experimental-wasm-relaxed-simd', '--no-liftoff'], 1],
      ['relaxed SIMD, optimising compiler only, 2 threads', ['--experimental-wasm-relaxed-simd', '--no-liftoff'], 2],
    ];
    for (const [label, flags, threads] of cases) {
      const got = decodeIn(dir, flags, file, threads);
      assert.equal(got.threads, threads, label);
      assert.deepEqual({ ids: got.ids, logits: got.logits }, { ids: portable.ids, logits: portable.logits }, label);
      if (NODE_MAJOR === 20) {
        // Node 20: no relaxed SIMD without the flag; with it, the self-check must reject Liftoff's code
        const want = flags.includes('--no-liftoff') ? 'relaxed' : 'portable';
        assert.equal(got.kernels, want, label);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
