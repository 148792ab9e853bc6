// End to end on a real trained model: stories260K (llama.cpp's GGUF conversion) against reference.json,
// which an independent numpy forward pass produced (see ../shared/data/stories260K/SOURCES.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../dist/index.js';

const dir = fileURLToPath(new URL('../../../shared/data/stories260K/', import.meta.url));
const gguf = dir + 'stories260K.gguf';
const skip = existsSync(gguf) ? false : 'needs ../shared/data/stories260K (absent)';
const ref = skip ? null : JSON.parse(readFileSync(dir + 'reference.json', 'utf8'));

test('stories260K: logits of the first 6 positions match the reference within 1e-4', { skip }, async () => {
  const model = await loadModel(gguf);
  const ids = [1, ...ref.greedy_from_bos.output_ids.slice(0, 5)];
  const logits = model.logits(ids);
  let worst = 0;
  ref.greedy_from_bos.logits_first_6_positions.forEach((row, p) => {
    assert.equal(row.length, 512);
    row.forEach((want, i) => { worst = Math.max(worst, Math.abs(logits[p * 512 + i] - want)); });
  });
  assert.ok(worst < 1e-4, `max |Δlogit| = ${worst}`);
  model.dispose();
});

test('stories260K: greedy decoding from BOS reproduces all 256 reference ids', { skip }, async () => {
  const model = await loadModel(gguf);
  const gen = model.generate([1], { temperature: 0, maxTokens: 256 });
  for await (const _ of gen) { /* drain */ }
  const { tokens, text } = await gen.result;
  assert.deepEqual(tokens, ref.greedy_from_bos.output_ids);
  assert.equal(text, ref.greedy_from_bos.text);
  model.dispose();
});

test('stories260K: greedy decoding after the prompt reproduces the reference', { skip }, async () => {
  const model = await loadModel(gguf);
  const { prompt, prompt_ids_with_bos, output_ids, steps } = ref.greedy_with_prompt;
  assert.deepEqual(model.tokenize(prompt), prompt_ids_with_bos);
  const nPrompt = prompt_ids_with_bos.length - 1;
  const gen = model.generate(prompt, { temperature: 0, maxTokens: steps - nPrompt });
  for await (const _ of gen) { /* drain */ }
  const { tokens } = await gen.result;
  // output_ids lists the prompt tokens after BOS and then the generated ones, llama2.c style.
  assert.deepEqual([...prompt_ids_with_bos.slice(1), ...tokens], output_ids);
  model.dispose();
});
