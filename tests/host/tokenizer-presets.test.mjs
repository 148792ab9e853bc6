// The GGUF pre-tokenizer presets (tokenizer.ggml.pre): every one compiles and splits text, the deepseek-llm
// letter class holds llama.cpp's code points (the ones Unicode normalisation of a source file changes), and
// the presets that have llama.cpp test vectors (gguf-vocab/*.inp/.out) pass them: gpt-2, mpt, falcon, refact
// and deepseek-coder through their vocab-only GGUFs (tokenizer-assets.test.mjs), llama-bpe and qwen2 here,
// through GGUFs written from the Llama 3.2 and Qwen3 vocabularies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../../dist/index.js';
import { writeGGUF } from '../../dist/convert/index.js';
import { GGUFValueType as T } from '../../dist/formats/gguf.js';
import { GGUF_PRE_NAMES, ggufPrePreset } from '../../dist/tokenizer/gguf-pre.js';

const data = new URL('../../../shared/data/', import.meta.url);
const path = (f) => fileURLToPath(new URL(f, data));
const needs = (...files) => (files.every((f) => existsSync(path(f))) ? false : 'needs ../shared/data (absent)');

/** A vocab-only GGUF (byte-level BPE) with these tokens, merges and pre-tokenizer name, as bytes. */
async function bpeGGUF(tokens, merges, pre) {
  const chunks = [];
  await writeGGUF({ write: (c) => { chunks.push(c); } }, {
    metadata: [
      { key: 'tokenizer.ggml.model', type: T.STRING, value: 'gpt2' },
      { key: 'tokenizer.ggml.pre', type: T.STRING, value: pre },
      { key: 'tokenizer.ggml.tokens', type: T.ARRAY, itemType: T.STRING, value: tokens },
      { key: 'tokenizer.ggml.merges', type: T.ARRAY, itemType: T.STRING, value: merges },
    ],
    tensors: [],
  });
  return new Uint8Array(Buffer.concat(chunks));
}

/** GPT-2's byte alphabet: the 256 single-character tokens of a byte-level vocabulary. */
function byteAlphabet() {
  const printable = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

const SAMPLE = 'Hello, Wörld! 12345 ΩKιώ ΐΊ 我想在apple工作 \r\n\t  ｈｅｌｌｏ… 🦙';

test('every pre-tokenizer preset compiles, and a byte-level vocabulary with it round-trips text', async () => {
  assert.ok(GGUF_PRE_NAMES.length > 50, `${GGUF_PRE_NAMES.length} presets`);
  for (const name of GGUF_PRE_NAMES) {
    const tok = await loadTokenizer(await bpeGGUF(byteAlphabet(), [], name));
    assert.equal(tok.decode(tok.encode(SAMPLE)), SAMPLE, name);
  }
});

test('deepseek-llm: the letter class holds U+212A KELVIN SIGN, U+2126 OHM SIGN and Greek letters with their own code points', () => {
  const letters = ggufPrePreset('deepseek-llm').regexes[1];
  for (const cp of [0x212a, 0x2126, 0x1fbe, 0x1f7d, 0x1fd3, 0x1fdb, 0x10400, 0x1e943]) {
    const ch = String.fromCodePoint(cp);
    assert.deepEqual(`1${ch}2`.match(letters), [ch], `U+${cp.toString(16)}`);
  }
  assert.equal('\u00d7'.match(letters), null, 'U+00D7 MULTIPLICATION SIGN lies between the ranges');
});

function vectors(name) {
  const inp = readFileSync(path(`gguf-vocab/ggml-vocab-${name}.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  const out = readFileSync(path(`gguf-vocab/ggml-vocab-${name}.gguf.out`), 'utf8').split('\n');
  return inp.map((text, i) => ({ text, ids: out[i].trim() === '' ? [] : out[i].trim().split(/\s+/).map(Number) }));
}

function assertVectors(label, name, tok) {
  const failures = vectors(name).filter(({ text, ids }) => JSON.stringify(tok.encode(text, { addSpecial: false, parseSpecial: false })) !== JSON.stringify(ids));
  assert.deepEqual(failures.map((f) => f.text), [], `${label}: ${failures.length} cases differ`);
}

test("preset llama-bpe: llama.cpp's llama-bpe vectors with the Llama 3.2 vocabulary", { skip: needs('tokenizers/llama3.2/encoder.json') }, async () => {
  const encoder = JSON.parse(readFileSync(path('tokenizers/llama3.2/encoder.json'), 'utf8'));
  const tokens = [];
  for (const [t, id] of Object.entries(encoder)) tokens[id] = t;
  const merges = readFileSync(path('tokenizers/llama3.2/vocab.bpe'), 'utf8').split('\n').filter((l, i) => l && !(i === 0 && l.startsWith('#version')));
  assertVectors('llama-bpe', 'llama-bpe', await loadTokenizer(await bpeGGUF(tokens, merges, 'llama-bpe')));
});

test("preset qwen2: llama.cpp's qwen2 vectors with the Qwen3 vocabulary", { skip: needs('tokenizers/qwen3/tokenizer.json') }, async () => {
  const { model } = JSON.parse(readFileSync(path('tokenizers/qwen3/tokenizer.json'), 'utf8'));
  const tokens = [];
  for (const [t, id] of Object.entries(model.vocab)) tokens[id] = t;
  const merges = model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  assertVectors('qwen2', 'qwen2', await loadTokenizer(await bpeGGUF(tokens, merges, 'qwen2')));
});
