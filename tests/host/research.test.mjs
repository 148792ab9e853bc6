// The research entry (dist/research, package export sparq-wasm/research) works on a loaded Model through
// its non-public decoder accessor; the public Model carries neither the research methods nor its decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, InvalidArgumentError } from '../../dist/index.js';
import { perplexityBySetting, greedyBySetting, passkeyBySetting, PASSKEY_DEPTHS } from '../../dist/research/index.js';

const dir = fileURLToPath(new URL('../fixtures/llama-mha-tied/', import.meta.url));
const ref = JSON.parse(readFileSync(dir + 'reference.json', 'utf8'));
const ids = ref.prompt.ids_with_bos;
const dense = [{ label: 'dense', setting: 'dense' }];

test('Model has no research methods and no reachable decoder', async () => {
  const model = await loadModel(dir, { contextLength: 256 });
  try {
    for (const key of ['perplexityBySetting', 'greedyBySetting', 'decoder']) assert.ok(!(key in model), key);
    assert.ok(!Object.values(model).some((v) => typeof v?.evaluate === 'function'), 'no property holds the decoder');
  } finally { model.dispose(); }
});

test('perplexityBySetting (dense) scores decode steps as the full-prompt logits do; greedyBySetting gives HF greedy ids', async () => {
  const model = await loadModel(dir, { contextLength: 256 });
  try {
    const prefill = 64;
    const [res] = perplexityBySetting(model, [ids], { prefill, settings: dense });
    const logits = model.logits(ids), V = logits.length / ids.length;
    let nll = 0;
    for (let t = prefill; t + 1 < ids.length; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const m = Math.max(...row);
      nll += m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) - row[ids[t + 1]];
    }
    assert.equal(res.tokens, ids.length - 1 - prefill);
    assert.ok(Math.abs(res.nll - nll / res.tokens) < 1e-4, `nll ${res.nll} vs ${nll / res.tokens}`);
    assert.deepEqual(greedyBySetting(model, ids, 8, dense)[0], ref.greedy.ids.slice(0, 8));
  } finally { model.dispose(); }
});

test('the research tools refuse a model while it generates', async () => {
  const model = await loadModel(dir, { contextLength: 256 });
  try {
    const gen = model.generate(ids, { temperature: 0, maxTokens: 2 });
    void gen.result; // reading the result starts the generation
    assert.throws(() => perplexityBySetting(model, [ids], { prefill: 64, settings: dense }), InvalidArgumentError);
    for await (const _ of gen) { /* drain */ }
  } finally { model.dispose(); }
});

test('passkeyBySetting: one share per setting from trials x depths prompts of the asked length, the same for the same seed', async () => {
  const model = await loadModel(dir, { contextLength: 256 });
  try {
    const filler = Array.from({ length: 400 }, (_, i) => 3 + (i % 200));
    const settings = [...dense, { label: 'dense again', setting: 'dense' }];
    const shares = passkeyBySetting(model, filler, { length: 128, trials: 1, settings });
    assert.equal(shares.length, 2);
    for (const x of shares) assert.ok(Number.isInteger(x * PASSKEY_DEPTHS.length) && x >= 0 && x <= 1, String(x));
    assert.equal(shares[0], shares[1]);
    assert.deepEqual(passkeyBySetting(model, filler, { length: 128, trials: 1, settings }), shares);
    assert.throws(() => passkeyBySetting(model, filler.slice(0, 50), { length: 128, trials: 1, settings }), InvalidArgumentError);
  } finally { model.dispose(); }
});
