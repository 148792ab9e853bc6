// Tests on the real tokenizer assets in ../shared/data: llama.cpp's test vectors (gguf-vocab/*.inp/.out)
// against tokenizers built from the vocab-only GGUFs, tokenizer.json files and the Llama 3 encoder.json +
// vocab.bpe pair; lossless round trips and the streaming decoder; special tokens, BOS and stop ids; speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../../dist/index.js';
import { tokenizerFromBPEFiles } from '../../dist/tokenizer/index.js';

const root = new URL('../../../shared/data/', import.meta.url);
const hasData = existsSync(root);
const vocabPath = (f) => fileURLToPath(new URL(`gguf-vocab/${f}`, root));
const tokPath = (f) => fileURLToPath(new URL(`tokenizers/${f}`, root));
const corpusPath = (f) => fileURLToPath(new URL(`corpus/${f}`, root));
const needs = (...paths) => (hasData && paths.every(existsSync) ? false : 'needs ../shared/data (absent)');

const ggufTokenizers = new Map();
async function ggufTokenizer(name) {
  if (!ggufTokenizers.has(name)) ggufTokenizers.set(name, await loadTokenizer(vocabPath(`ggml-vocab-${name}.gguf`)));
  return ggufTokenizers.get(name);
}

const once = (make) => { let v; return () => (v ??= make()); };
// The Llama 3 pair (encoder.json + vocab.bpe) is no format loadTokenizer reads: it goes through the internal reader.
const llama3 = once(() => tokenizerFromBPEFiles(readFileSync(tokPath('llama3.2/encoder.json'), 'utf8'),
  readFileSync(tokPath('llama3.2/vocab.bpe'), 'utf8'), { preset: 'llama3', file: 'llama3.2' }));
const qwen3 = once(() => loadTokenizer(tokPath('qwen3/tokenizer.json'), { tokenizerConfig: readFileSync(tokPath('qwen3/tokenizer_config.json'), 'utf8') }));

function cases(name) {
  const inp = readFileSync(vocabPath(`ggml-vocab-${name}.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  const out = readFileSync(vocabPath(`ggml-vocab-${name}.gguf.out`), 'utf8').split('\n');
  return inp.map((text, i) => ({ text, ids: out[i].trim() === '' ? [] : out[i].trim().split(/\s+/).map(Number) }));
}

function runVectors(label, name, tok) {
  const all = cases(name);
  const failures = [];
  for (const { text, ids } of all) {
    const got = tok.encode(text, { addSpecial: false, parseSpecial: false });
    if (JSON.stringify(got) !== JSON.stringify(ids)) failures.push({ text, expected: ids.join(' '), got: got.join(' ') });
  }
  console.log(`tokenizer vectors ${label}: ${all.length - failures.length}/${all.length} pass`);
  assert.deepEqual(failures, [], `${label}: ${failures.length} of ${all.length} cases differ`);
}


for (const name of ['llama-spm', 'gpt-2', 'mpt', 'falcon', 'refact', 'deepseek-coder']) {
  const p = vocabPath(`ggml-vocab-${name}.gguf`);
  test(`GGUF ${name}: every llama.cpp test vector`, { skip: needs(p) }, async () => {
    runVectors(`${name} (gguf)`, name, await ggufTokenizer(name));
  });
}

test('HF gpt2/tokenizer.json: every gpt-2 test vector', { skip: needs(tokPath('gpt2/tokenizer.json')) }, async () => {
  runVectors('gpt-2 (tokenizer.json)', 'gpt-2', await loadTokenizer(tokPath('gpt2/tokenizer.json')));
});

test('HF qwen3/tokenizer.json: every qwen2 test vector', { skip: needs(tokPath('qwen3/tokenizer.json')) }, async () => {
  runVectors('qwen2 (qwen3 tokenizer.json)', 'qwen2', await qwen3());
});

test('Llama 3.2 encoder.json + vocab.bpe: every llama-bpe test vector', { skip: needs(tokPath('llama3.2/vocab.bpe')) }, () => {
  runVectors('llama-bpe (llama3.2 encoder.json + vocab.bpe)', 'llama-bpe', llama3());
});

const strings = (name) => readFileSync(vocabPath(`ggml-vocab-${name}.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
const EXTRA = ['🦙🦙 llamas 😶‍🌫️', '我想在apple工作1314151天～', 'ｈｅｌｌｏ　世界', 'tabs\tand\r\nCRLF  ', ' leading and trailing '];

/** Round trip and streaming checks over all strings; returns how many pushes held text back. */
function checkAll(label, tok, texts) {
  let heldBack = 0;
  for (const s of texts) {
    const ids = tok.encode(s);
    const full = tok.decode(ids, { skipSpecial: true });
    assert.equal(full, s, `${label}: decode(encode(${JSON.stringify(s)}))`);
    const dec = tok.decoder({ skipSpecial: true });
    let acc = '';
    for (let k = 0; k < ids.length; k++) {
      const piece = dec.push(ids[k]);
      if (piece === '') heldBack++;
      acc += piece;
      assert.ok(full.startsWith(acc), `${label}: streamed text after ${k + 1} ids is not a prefix of decode() for ${JSON.stringify(s)}`);
    }
    assert.equal(acc + dec.flush(), full, `${label}: streamed text for ${JSON.stringify(s)}`);
  }
  return heldBack;
}

for (const name of ['llama-spm', 'gpt-2', 'mpt', 'falcon', 'refact', 'deepseek-coder']) {
  const p = vocabPath(`ggml-vocab-${name}.gguf`);
  test(`GGUF ${name}: lossless round trip and streaming`, { skip: needs(p) }, async () => {
    const tok = await ggufTokenizer(name);
    assert.ok(checkAll(name, tok, [...strings(name), ...EXTRA]) > 0, 'no multi-token UTF-8 sequence was exercised');
  });
}

test('Llama 3: round trip, streaming, specials, BOS, stop ids', { skip: needs(tokPath('llama3.2/vocab.bpe')) }, () => {
  const tok = llama3();
  assert.ok(checkAll('llama3', tok, [...strings('llama-bpe'), ...EXTRA]) > 0);
  assert.equal(tok.vocabSize, 128256);
  assert.equal(tok.bos, 128000);
  assert.ok(tok.addBos && !tok.addEos);
  assert.deepEqual([...tok.stopIds].sort(), [128001, 128008, 128009]);
  const ids = tok.encode('<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>');
  assert.deepEqual([ids[0], ids[1], ids.at(-1)], [128000, 128006, 128009]);
  assert.equal(tok.decode(ids), '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>');
  assert.equal(tok.decode(ids, { skipSpecial: true }), 'user\n\nHi');
  const plain = tok.encode('<|eot_id|>', { parseSpecial: false, addSpecial: false });
  assert.ok(plain.length > 1 && !plain.includes(128009), 'with parseSpecial false the marker is ordinary text');
  assert.equal(tok.tokenText(128009), '<|eot_id|>');
});

test('Qwen3: specials from added_tokens, eos from tokenizer_config, no BOS', { skip: needs(tokPath('qwen3/tokenizer.json')) }, async () => {
  const tok = await qwen3();
  assert.ok(checkAll('qwen3', tok, [...strings('qwen2'), ...EXTRA]) > 0);
  assert.equal(tok.bos, null);
  assert.equal(tok.eos, tok.encode('<|im_end|>')[0]);
  assert.ok(!tok.addBos);
  assert.ok(tok.stopIds.has(151645) && tok.stopIds.has(151643)); // <|im_end|>, <|endoftext|>
  const ids = tok.encode('<|im_start|>user\nhello<|im_end|>');
  assert.deepEqual([ids[0], ids.at(-1)], [151644, 151645]);
});

test('Llama 3: 100 KB of English encodes well under a second', { skip: needs(tokPath('llama3.2/vocab.bpe'), corpusPath('gutenberg/austen-emma.txt')) }, () => {
  const tok = llama3();
  const text = readFileSync(corpusPath('gutenberg/austen-emma.txt'), 'utf8').slice(0, 100_000);
  const t0 = performance.now();
  const ids = tok.encode(text);
  const ms = performance.now() - t0;
  console.log(`llama3 encode of 100 KB English: ${ms.toFixed(0)} ms, ${ids.length} tokens`);
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  assert.equal(tok.decode(ids, { skipSpecial: true }), text);
  // a 100k-character run without any split point exercises the priority-queue merge, not the cache
  const t1 = performance.now();
  tok.encode('ab'.repeat(50_000));
  assert.ok(performance.now() - t1 < 1000);
});
