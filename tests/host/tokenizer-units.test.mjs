// Small hand-checked cases: SPM merges and byte fallback, the regex translation, and corrupt inputs. The
// tokenizers are built by loadTokenizer, from GGUF bytes written here or from tokenizer.json text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer, FormatError, UnsupportedError, InvalidArgumentError } from '../../dist/index.js';
import { writeGGUF } from '../../dist/convert/index.js';
import { GGUFValueType as T } from '../../dist/formats/gguf.js';
import { translateRegex } from '../../dist/tokenizer/regex-js.js';

/** A GGUF value type for a test value: strings, integers (signed when negative), string lists, typed arrays. */
function entry(key, value) {
  if (typeof value === 'string') return { key, type: T.STRING, value };
  if (typeof value === 'number') return { key, type: value < 0 ? T.INT32 : T.UINT32, value };
  if (typeof value === 'boolean') return { key, type: T.BOOL, value };
  const itemType = value instanceof Float32Array ? T.FLOAT32 : value instanceof Int32Array ? T.INT32 : T.STRING;
  return { key, type: T.ARRAY, itemType, value: [...value] };
}

/** The tokenizer of a vocab-only GGUF holding `meta` (key -> value), named `name`. */
async function fromGGUF(meta, name = 'vocab.gguf') {
  const chunks = [];
  await writeGGUF({ write: (c) => { chunks.push(c); } }, { metadata: [...meta].map(([k, v]) => entry(k, v)), tensors: [] });
  return loadTokenizer(new File(chunks, name));
}

/** The tokenizer of a tokenizer.json (an object or text), with its tokenizer_config.json when given. */
function fromJson(json, tokenizerConfig) {
  return loadTokenizer(new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json)), { tokenizerConfig });
}

/** A tiny SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then scored pieces. */
function spmMeta(pieces) {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  const scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) { tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`); types.push(6); scores.push(0); }
  for (const [t, s] of pieces) { tokens.push(t); types.push(1); scores.push(s); }
  return new Map([
    ['tokenizer.ggml.model', 'llama'],
    ['tokenizer.ggml.tokens', tokens],
    ['tokenizer.ggml.scores', Float32Array.from(scores)],
    ['tokenizer.ggml.token_type', Int32Array.from(types)],
    ['tokenizer.ggml.bos_token_id', 1],
    ['tokenizer.ggml.eos_token_id', 2],
    ['tokenizer.ggml.unknown_token_id', 0],
  ]);
}

test('SPM: highest score merges first, byte fallback, space prefix', async () => {
  // ids: ▁=259 a=260 b=261 c=262 ab=263 bc=264 ▁a=265 ▁abc=266
  const tok = await fromGGUF(spmMeta([['▁', -5], ['a', -5], ['b', -5], ['c', -5], ['ab', -3], ['bc', -1], ['▁a', -2], ['▁abc', -4]]));
  // "abc" = ▁ a b c: bc (-1) merges first, then ▁a (-2); a+bc is no piece, ▁a+bc = ▁abc is one
  assert.deepEqual(tok.encode('abc', { addSpecial: false }), [266]);
  // "ab": ▁ a b -> ▁a (-2) beats ab (-3); then (▁a, b) is not a piece
  assert.deepEqual(tok.encode('ab', { addSpecial: false }), [265, 261]);
  // 'é' is no piece: its UTF-8 bytes C3 A9 become byte tokens 3 + 0xC3, 3 + 0xA9
  assert.deepEqual(tok.encode('é'), [1, 259, 3 + 0xc3, 3 + 0xa9]);
  assert.equal(tok.decode([1, 259, 3 + 0xc3, 3 + 0xa9]), '<s> é', 'a rendered BOS keeps the space after it');
  assert.equal(tok.decode([1, 259, 3 + 0xc3, 3 + 0xa9], { skipSpecial: true }), 'é');
  const d = tok.decoder();
  assert.deepEqual([1, 259, 3 + 0xc3, 3 + 0xa9].map((id) => d.push(id)), ['<s>', ' ', '', 'é']);
  const d2 = tok.decoder({ skipSpecial: true });
  assert.deepEqual([1, 259, 3 + 0xc3, 3 + 0xa9].map((id) => d2.push(id)), ['', '', '', 'é']);
  assert.equal(d.flush(), '');
  assert.throws(() => tok.decode([tok.vocabSize]), InvalidArgumentError);
});

test('regex translation: case-insensitive groups, possessive quantifiers, ranges, scripts', () => {
  const m = (re, s) => s.match(re) ?? [];
  assert.deepEqual(m(translateRegex("(?i:'s|'ll)"), "it'S he'Ll"), ["'S", "'Ll"]);
  assert.deepEqual(m(translateRegex('a+a'), 'aaa'), ['aaa']);
  assert.deepEqual(m(translateRegex('a++a'), 'aaa'), [], 'possessive a++ gives nothing back');
  assert.deepEqual(m(translateRegex('(?>a+)b|a'), 'aab'), ['aab']);
  assert.deepEqual(m(translateRegex('[0-9][0-9]'), '1-234'), ['23']);
  assert.deepEqual(m(translateRegex(String.raw`\p{Han}+`), 'ab漢字cd'), ['漢字']);
  assert.deepEqual(m(translateRegex(String.raw`\'x\-`), "'x-"), ["'x-"]);
  assert.throws(() => translateRegex(String.raw`(a)\1`), UnsupportedError);
  // range ends written as escapes are ranges, not three characters
  assert.deepEqual(m(translateRegex(String.raw`[\u4e00-\u9fa5]+`), 'ab漢字-cd'), ['漢字']);
  assert.deepEqual(m(translateRegex(String.raw`[\x{41}-\x{43}]+`), 'xABCDx-'), ['ABC']);
  assert.deepEqual(m(translateRegex(String.raw`[a\-z]+`), 'abz-y'), ['a', 'z-']);
  for (const bad of [String.raw`\x{41`, String.raw`[\u{41`, String.raw`[z-a]`]) assert.throws(() => translateRegex(bad), UnsupportedError, bad);
});

/** The field named by the FormatError that `make` rejects with. */
const fieldOf = async (make) => {
  try { await make(); } catch (e) { assert.ok(e instanceof FormatError, `${e}`); return e.field; }
  assert.fail('no error thrown');
};

test('corrupt tokenizer.json: not JSON, no model.vocab, merges with unknown tokens', async () => {
  assert.equal(await fieldOf(() => fromJson('{"model": ')), 'tokenizer.json');
  assert.equal(await fieldOf(() => fromJson({ model: { type: 'BPE', merges: [] } })), 'model.vocab');
  const vocab = { a: 0, b: 1, ab: 2 };
  assert.equal(await fieldOf(() => fromJson({ model: { type: 'BPE', vocab, merges: ['a c'] } })), 'model.merges');
  assert.equal(await fieldOf(() => fromJson({ model: { type: 'BPE', vocab, merges: [['b', 'a']] } })), 'model.merges', 'merged "ba" is missing');
  assert.equal(await fieldOf(() => fromJson({ model: { type: 'BPE', vocab } })), 'model.merges');
  await assert.rejects(fromJson({ model: { type: 'WordPiece', vocab } }), UnsupportedError);
  const split = (behavior) => ({ model: { type: 'BPE', vocab, merges: [] }, pre_tokenizer: { type: 'Split', pattern: { String: 'b' }, behavior } });
  assert.equal(await fieldOf(() => fromJson(split('constructor'))), 'pre_tokenizer.behavior', 'a name of the prototype is no behavior');
  assert.deepEqual((await fromJson(split('Removed'))).encode('abab'), [0, 0]);
  const ok = await fromJson({ model: { type: 'BPE', vocab, merges: ['a b'] } });
  assert.deepEqual(ok.encode('abba'), [2, 1, 0]);
});

test('corrupt GGUF metadata: array lengths, ids out of range, wrong types', async () => {
  const base = () => spmMeta([['▁', -1]]);
  const with_ = (k, v) => { const m = base(); m.set(k, v); return m; };
  const n = base().get('tokenizer.ggml.tokens').length;
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.scores', new Float32Array(n - 1)))), 'tokenizer.ggml.scores');
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.token_type', new Int32Array(n + 1)))), 'tokenizer.ggml.token_type');
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.bos_token_id', n))), 'tokenizer.ggml.bos_token_id');
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.eos_token_id', -1))), 'tokenizer.ggml.eos_token_id');
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.tokens', 'abc'))), 'tokenizer.ggml.tokens');
  assert.equal(await fieldOf(() => fromGGUF(with_('tokenizer.ggml.model', 7))), 'tokenizer.ggml.model');
  const bpe = with_('tokenizer.ggml.model', 'gpt2');
  bpe.set('tokenizer.ggml.merges', ['▁ nope']);
  assert.equal(await fieldOf(() => fromGGUF(bpe)), 'tokenizer.ggml.merges');
  await assert.rejects(fromGGUF(with_('tokenizer.ggml.model', 'rwkv')), UnsupportedError);
  await assert.rejects(fromGGUF(with_('tokenizer.ggml.bos_token_id', n), 'x.gguf'), /x\.gguf.*not in the vocabulary/);
  await assert.rejects(fromGGUF(with_('tokenizer.ggml.bos_token_id', '1'), 'x.gguf'), /x\.gguf.*must be an integer, got the string "1"/);
});

test('tokenizer.json SentencePiece style: Prepend/Replace or Metaspace, byte_fallback, BOS template', async () => {
  const model = {
    type: 'BPE', byte_fallback: true, unk_token: '<unk>', merges: ['a b', '▁ ab'],
    vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, '<0xC3>': 3, '<0xA9>': 4, '▁': 5, a: 6, b: 7, ab: 8, '▁ab': 9 },
  };
  const added_tokens = ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, special: true }));
  const post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] };
  const legacy = await fromJson({
    model, added_tokens, post_processor,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  });
  assert.equal(legacy.bos, 1);
  assert.ok(legacy.addBos);
  assert.deepEqual(legacy.encode('ab é'), [1, 9, 5, 3, 4]);
  assert.equal(legacy.decode([1, 9, 5, 3, 4], { skipSpecial: true }), 'ab é');
  assert.deepEqual(legacy.encode('</s>ab', { addSpecial: false }), [2, 9], 'Prepend runs on every fragment');

  const metaspace = await fromJson({
    model, added_tokens, post_processor,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first' },
  });
  assert.deepEqual(metaspace.encode('ab é'), [1, 9, 5, 3, 4]);
  assert.deepEqual(metaspace.encode('</s>ab', { addSpecial: false }), [2, 8], "prepend_scheme 'first': only the input's start");
  assert.equal(metaspace.decode([1, 9, 5, 3, 4]), '<s> ab é');
});
