// Bad model, config and tokenizer files end in a typed error naming the file and the field, before anything
// is sized by a bad value: the defects a mutation run over the loaders found (sizes that built huge arrays,
// untyped RangeErrors, unbounded recursion, vocabularies that disagree with the embedding, errors of the
// wrong class). Each case builds its bad input from a committed fixture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, loadTokenizer, FormatError, NotFoundError, PermissionError } from '../../dist/index.js';
import { convertHFToGGUF } from '../../dist/convert/index.js';
import { decodeGGUF, encodeGGUF, T } from '../fuzz/gguf-codec.mjs';

const fixture = (name) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const LLAMA = fixture('llama-mqa-f32');
const LOAD = { threads: 1, contextLength: 64 };
let tmp, gguf;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sparq-bad-inputs-'));
  const path = join(tmp, 'llama.gguf');
  await convertHFToGGUF(LLAMA, path, 'F32', { warn: () => {} });
  gguf = decodeGGUF(readFileSync(path));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** The fixture GGUF changed by `edit` (it gets a copy of the decoded file), written to a file; returns the path. */
function ggufWith(edit) {
  const g = { ...gguf, kvs: gguf.kvs.map((kv) => ({ ...kv })), tensors: gguf.tensors.map((t) => ({ ...t })) };
  edit(g);
  const path = join(tmp, `case-${n++}.gguf`);
  writeFileSync(path, encodeGGUF(g).bytes);
  return path;
}

const kv = (g, key) => g.kvs.find((x) => x.key === key);

/** A copy of an HF fixture directory (files linked) with `files` replaced; returns its path. */
function hfDirWith(base, files) {
  const dir = join(tmp, `dir-${n++}`);
  mkdirSync(dir);
  for (const f of readdirSync(base)) if (!(f in files)) symlinkSync(join(base, f), join(dir, f));
  for (const [f, content] of Object.entries(files)) {
    if (content === 'dir') mkdirSync(join(dir, f));
    else writeFileSync(join(dir, f), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const json = (dir, f) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const bytes = (value) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

/** Rejects with `Class`, the message naming `file` and `field` (and matching `pattern`, when given). */
async function rejectsNaming(promise, Class, file, field, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Class, `${e?.name}: ${e?.message}`);
    if (file) assert.ok(e.message.includes(file), `names the file: ${e.message}`);
    if (field) {
      assert.equal(e.field, field, e.message);
      assert.ok(e.message.includes(field), `names the field: ${e.message}`);
    }
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('GGUF block_count of 2^31, 8.5 (f32) or -8 (i32): a FormatError before anything is sized by it', async () => {
  for (const [type, value] of [[T.U32, 2 ** 31], [T.F32, 8.5], [T.I32, -8], [T.U64, 2n ** 53n + 2n]]) {
    const path = ggufWith((g) => Object.assign(kv(g, 'llama.block_count'), { type, value }));
    await rejectsNaming(loadModel(path, LOAD), FormatError, path, 'llama.block_count');
  }
});

test('GGUF context_length of 0 and config.json max_position_embeddings of -1, 0 or 1.5 are refused', async () => {
  const path = ggufWith((g) => { kv(g, 'llama.context_length').value = 0; });
  await rejectsNaming(loadModel(path, LOAD), FormatError, path, 'llama.context_length');
  for (const value of [-1, 0, 1.5]) {
    const dir = hfDirWith(LLAMA, { 'config.json': { ...json(LLAMA, 'config.json'), max_position_embeddings: value } });
    await rejectsNaming(loadModel(dir, LOAD), FormatError, 'config.json', 'max_position_embeddings');
  }
});

test('config.json num_hidden_layers of 2^31, 1e9, -1, 1.5, 2^53, 1e300 or a value nested 10000 deep: a FormatError', async () => {
  for (const value of [2 ** 31, 1e9, -1, 1.5, 2 ** 53, 1e300, 'deep']) {
    const text = JSON.stringify({ ...json(LLAMA, 'config.json'), num_hidden_layers: value }).replace('"deep"', '['.repeat(10000) + ']'.repeat(10000));
    const dir = hfDirWith(LLAMA, { 'config.json': text });
    await rejectsNaming(loadModel(dir, LOAD), FormatError, 'config.json', 'num_hidden_layers');
  }
});

test('tokenizer.json ids of 2^28 or 1e300 (vocabulary or added token): a FormatError, no id-sized array', async () => {
  const base = json(LLAMA, 'tokenizer.json');
  const first = Object.keys(base.model.vocab)[5];
  for (const id of [2 ** 28, 1e300, 1.5]) {
    await rejectsNaming(loadTokenizer(bytes({ ...base, model: { ...base.model, vocab: { ...base.model.vocab, [first]: id } } })), FormatError, 'buffer', 'model.vocab');
    await rejectsNaming(loadTokenizer(bytes({ ...base, added_tokens: [{ id, content: '<x>', special: true }] })), FormatError, 'buffer', 'added_tokens');
  }
});

test('tokenizer.json Sequences nested 5000 deep in any section: a FormatError, not a stack overflow', async () => {
  const base = json(LLAMA, 'tokenizer.json');
  for (const [section, key] of [['normalizer', 'normalizers'], ['pre_tokenizer', 'pretokenizers'], ['decoder', 'decoders'], ['post_processor', 'processors']]) {
    const nested = `{"type":"Sequence","${key}":[`.repeat(5000) + JSON.stringify(base[section] ?? null) + ']}'.repeat(5000);
    const text = JSON.stringify({ ...base, [section]: 'NESTED' }).replace('"NESTED"', nested);
    await assert.rejects(loadTokenizer(bytes(text)), (e) => e instanceof FormatError && /nested deeper than/.test(e.message) && e.message.includes(section), section);
  }
});

test('a vocabulary that disagrees with the embedding is refused at load, naming both sizes', async () => {
  const shorter = ggufWith((g) => {
    for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type']) {
      const a = kv(g, key);
      if (a) a.value = { ...a.value, items: a.value.items.slice(0, 400) };
    }
    const kept = new Set(kv(g, 'tokenizer.ggml.tokens').value.items);
    const merges = kv(g, 'tokenizer.ggml.merges');
    merges.value = { ...merges.value, items: merges.value.items.filter((m) => m.split(' ').every((p) => kept.has(p)) && kept.has(m.replace(' ', ''))) };
    g.kvs = g.kvs.filter((x) => !/token_id$/.test(x.key));
  });
  await rejectsNaming(loadModel(shorter, LOAD), FormatError, shorter, 'tokenizer.ggml.tokens', /400 tokens .*512 embedding rows/);
  const tokenizer = json(LLAMA, 'tokenizer.json');
  const dir = hfDirWith(LLAMA, { 'tokenizer.json': { ...tokenizer, added_tokens: [...tokenizer.added_tokens, { id: 600, content: '<extra>', special: true }] } });
  await rejectsNaming(loadModel(dir, LOAD), FormatError, dir, 'vocab_size', /600 .* 512/);
});

test('GGUF metadata: no token list names tokenizer.ggml.tokens; a token id stored as a string says so', async () => {
  const noTokens = ggufWith((g) => { g.kvs = g.kvs.filter((x) => x.key !== 'tokenizer.ggml.tokens' && x.key !== 'llama.vocab_size'); });
  await rejectsNaming(loadModel(noTokens, LOAD), FormatError, noTokens, 'tokenizer.ggml.tokens');
  const stringId = ggufWith((g) => Object.assign(kv(g, 'tokenizer.ggml.bos_token_id'), { type: T.STRING, value: '1' }));
  await rejectsNaming(loadModel(stringId, LOAD), FormatError, stringId, 'tokenizer.ggml.bos_token_id', /must be an integer, got the string "1"/);
});

test('paths: missing -> NotFoundError, a directory without config.json, model.safetensors a directory -> FormatError', async () => {
  const missing = join(tmp, 'no-such-model.gguf');
  await assert.rejects(loadModel(missing), (e) => e instanceof NotFoundError && e.path === missing && /no such file/.test(e.message));
  await assert.rejects(loadTokenizer(missing), NotFoundError);
  const empty = join(tmp, `empty-${n++}`);
  mkdirSync(empty);
  await assert.rejects(loadModel(empty), (e) => e instanceof FormatError && /neither a GGUF file nor a Hugging Face model directory/.test(e.message));
  const single = fixture('qwen3');
  const dir = hfDirWith(single, { 'model.safetensors': 'dir' });
  await assert.rejects(loadModel(dir, LOAD), (e) => e instanceof FormatError && e.message.includes(join(dir, 'model.safetensors')) && /not a regular file/.test(e.message));
});

test('a file that may not be read is a PermissionError', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
  const path = ggufWith(() => {});
  chmodSync(path, 0);
  await assert.rejects(loadModel(path, LOAD), (e) => e instanceof PermissionError && e.path === path);
});

test('a declared tensor the model never binds is not read: the weights buffer is what the bound tensors take', async () => {
  const plain = ggufWith(() => {});
  const extraBytes = 1 << 20;
  const withUnused = ggufWith((g) => {
    const end = Math.ceil(g.data.length / 32) * 32;
    const data = new Uint8Array(end + extraBytes);
    data.set(g.data);
    g.data = data;
    g.tensors.push({ name: 'unused.weight', dims: [extraBytes / 4], type: 0, offset: end });
  });
  const a = await loadModel(plain, LOAD);
  const b = await loadModel(withUnused, LOAD);
  try {
    assert.equal(b.info.weightBytes, a.info.weightBytes);
    assert.deepEqual(b.info.memoryPlan, a.info.memoryPlan);
    const ids = async (m) => (await collect(m.generate('Once upon', { temperature: 0, maxTokens: 6 }))).tokens;
    assert.deepEqual(await ids(b), await ids(a));
  } finally {
    a.dispose();
    b.dispose();
  }
});

async function collect(gen) {
  for await (const text of gen) void text;
  return gen.result;
}

test('contextLength above the trained context and more threads than cores load with one warning each', async () => {
  const { availableParallelism } = await import('node:os');
  const warnings = [];
  const model = await loadModel(LLAMA, { contextLength: 4096, threads: availableParallelism() + 1, onWarning: (m) => warnings.push(m) });
  try {
    assert.equal(model.info.contextLength, 4096);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0], /context 4096 is above the 2048 positions/);
    assert.match(warnings[1], /threads on \d+ cores/);
  } finally {
    model.dispose();
  }
  const quiet = [];
  (await loadModel(LLAMA, { contextLength: 2048, threads: 1, onWarning: (m) => quiet.push(m) })).dispose();
  assert.deepEqual(quiet, []);
});
