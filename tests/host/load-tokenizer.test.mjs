// loadTokenizer reads a model's tokenizer alone, from every kind of source, and gives what the loaded model's
// tokenizer gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, loadTokenizer, FormatError } from '../../dist/index.js';

const DEFAULT = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
const QWEN3 = fileURLToPath(new URL('../fixtures/qwen3', import.meta.url));
const TEXT = 'Once upon a time, a café served 42 pies <|im_end|> to 🦙s.';

async function modelIds(source) {
  const model = await loadModel(source, { threads: 1, contextLength: 32 });
  try { return model.tokenizer.encode(TEXT); } finally { model.dispose(); }
}

test('a model GGUF as a path, bytes, a Blob or a stream: the model\'s own token ids', async () => {
  const want = await modelIds(DEFAULT);
  const bytes = readFileSync(DEFAULT);
  for (const [kind, source] of [['path', DEFAULT], ['bytes', new Uint8Array(bytes)], ['blob', new Blob([bytes])], ['stream', new Blob([bytes]).stream()]]) {
    assert.deepEqual((await loadTokenizer(source)).encode(TEXT), want, kind);
  }
});

test('an HF directory, or its tokenizer.json with tokenizer_config.json: the model\'s own token ids', async () => {
  const want = await modelIds(QWEN3);
  assert.deepEqual((await loadTokenizer(QWEN3)).encode(TEXT), want);
  const config = readFileSync(join(QWEN3, 'tokenizer_config.json'), 'utf8');
  assert.deepEqual((await loadTokenizer(join(QWEN3, 'tokenizer.json'), { tokenizerConfig: config })).encode(TEXT), want);
});

test('a file that is neither GGUF nor tokenizer JSON is a FormatError', async () => {
  await assert.rejects(loadTokenizer(new TextEncoder().encode('GGU')), FormatError);
  await assert.rejects(loadTokenizer(new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0])), (e) => e instanceof FormatError && /truncated/.test(e.message));
});
