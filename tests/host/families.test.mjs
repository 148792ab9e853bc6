// HF transformers as the reference for every supported family: the random-init fixtures of
// tools/make-fixtures.py --families (Qwen2, Qwen3, Gemma, Gemma 2, Gemma 3, Phi-3, GPT-NeoX), each loaded as
// its HF directory and as the F32 GGUF our converter writes with llama.cpp's names, must give transformers'
// logits on the 106-token prompt within 1e-3 and its 32 greedy ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../dist/index.js';
import { convertHFToGGUF } from '../../dist/convert/index.js';
import { ByteReader } from '../../dist/formats/source.js';
import { readGGUFHeader } from '../../dist/formats/gguf.js';

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));
// fixture -> GGUF architecture, and tensors llama.cpp's converter writes that show the family's layout
const FAMILIES = {
  qwen2: { arch: 'qwen2', tensors: ['blk.0.attn_q.bias', 'blk.0.attn_k.bias', 'blk.0.attn_v.bias'] },
  qwen3: { arch: 'qwen3', tensors: ['blk.0.attn_q_norm.weight', 'blk.0.attn_k_norm.weight'] },
  gemma: { arch: 'gemma', tensors: ['blk.1.ffn_gate.weight'], absent: ['output.weight'] },
  gemma2: { arch: 'gemma2', tensors: ['blk.0.post_attention_norm.weight', 'blk.0.post_ffw_norm.weight'], absent: ['output.weight'] },
  gemma3: { arch: 'gemma3', tensors: ['blk.5.attn_q_norm.weight', 'blk.5.post_ffw_norm.weight'], absent: ['output.weight'] },
  phi3: { arch: 'phi3', tensors: ['blk.0.attn_qkv.weight', 'blk.1.ffn_up.weight', 'output.weight'], absent: ['blk.0.ffn_gate.weight'] },
  gptneox: { arch: 'gptneox', tensors: ['blk.0.attn_qkv.bias', 'blk.0.attn_norm.bias', 'output_norm.bias', 'blk.1.ffn_down.bias'] },
};
const BOUND = 1e-3;

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

for (const [name, want] of Object.entries(FAMILIES)) {
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
      for (const t of want.absent ?? []) assert.ok(!names.has(t), `GGUF has no ${t}`);
      const gg = await loadModel(out);
      try {
        console.log(`${name} GGUF F32: max |Δlogit| ${(await check(gg, fx, 'gguf')).toExponential(2)}`);
      } finally { gg.dispose(); }
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  });
}
