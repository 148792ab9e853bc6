// HF -> GGUF conversion (names, shapes, types, metadata, Q/K permutation, llama3 rope factors, tokenizer)
// and the float/Q8_0 conversions in quantize.ts it relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertHFToGGUF } from '../../dist/convert/index.js';
import { permuteQK, llama3RopeFactors } from '../../dist/convert/tensor-fixes.js';
import { convertTokenizer, TokenKind } from '../../dist/convert/convert-tokenizer.js';
import { encodeSafetensors } from '../../dist/formats/safetensors.js';
import { ByteReader } from '../../dist/formats/source.js';
import { readGGUFHeader, readGGUFData } from '../../dist/formats/gguf.js';
import { GGMLType } from '../../dist/formats/ggml-types.js';
import { f32ToF16Bits, f16BitsToF32, f32ToBF16Bits, bf16BitsToF32, toF32 } from '../../dist/formats/half-floats.js';
import { quantizeQ8_0, dequantizeQ8_0 } from '../../dist/convert/quantize.js';

// ---------- quantize.ts ----------

test('f16: every half converts to f32 and back to the same bits (NaNs stay NaN)', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = f16BitsToF32(h);
    const back = f32ToF16Bits(x);
    if (Number.isNaN(x)) assert.ok((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0, `NaN ${h.toString(16)}`);
    else assert.equal(back, h, `half 0x${h.toString(16)} -> ${x} -> 0x${back.toString(16)}`);
  }
});

test('f16: round to nearest even between every pair of neighbours, overflow and underflow', () => {
  for (let h = 0; h < 0x7bff; h++) {
    const a = f16BitsToF32(h), b = f16BitsToF32(h + 1);
    const mid = (a + b) / 2, eps = (b - a) / 1024;
    const even = h % 2 === 0 ? h : h + 1;
    assert.equal(f32ToF16Bits(mid), even, `midpoint after 0x${h.toString(16)}`);
    assert.equal(f32ToF16Bits(-mid), even | 0x8000);
    assert.equal(f32ToF16Bits(mid - eps), h);
    assert.equal(f32ToF16Bits(mid + eps), h + 1);
  }
  const max = f16BitsToF32(0x7bff);
  const ulp = max - f16BitsToF32(0x7bfe);
  assert.equal(f32ToF16Bits(max + ulp / 2 - ulp / 64), 0x7bff);
  assert.equal(f32ToF16Bits(max + ulp / 2), 0x7c00); // the tie goes to the even pattern, which is Inf
  assert.equal(f32ToF16Bits(1e9), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -25), 0); // half of the smallest subnormal: ties to even zero
  assert.equal(f32ToF16Bits(2 ** -25 * 1.001), 1);
  assert.equal(f32ToF16Bits(-(2 ** -30)), 0x8000);
});

test('bf16 and toF32 conversions', () => {
  for (const h of [0, 0x3f80, 0xbf80, 0x7f7f, 0x0001, 0x8000, 0x4049]) assert.equal(f32ToBF16Bits(bf16BitsToF32(h)), h);
  assert.equal(f32ToBF16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.equal(f32ToBF16Bits(1 + 3 * 2 ** -8), 0x3f82);
  const raw = new Uint8Array([0, 0x3c, 0, 0xc0]); // f16 1, -2
  assert.deepEqual([...toF32(raw, GGMLType.F16)], [1, -2]);
  assert.deepEqual([...toF32(new Uint8Array([0x80, 0x3f, 0, 0x40]), GGMLType.BF16)], [1, 2]);
  assert.deepEqual([...toF32(new Uint8Array([9, ...new Uint8Array(Float32Array.of(0.5).buffer)]).subarray(1), GGMLType.F32)], [0.5]);
});

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}
function normals(n, seed, scale = 1) {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()));
}

test('Q8_0: error within half a step per block, zero blocks, extreme value maps to ±127', () => {
  const rows = 5, cols = 96;
  const x = normals(rows * cols, 7, 3);
  x.fill(0, 32, 64); // one all-zero block
  const q = quantizeQ8_0(x, rows, cols);
  assert.equal(q.length, rows * (cols / 32) * 34);
  const y = dequantizeQ8_0(q, rows * cols);
  const view = new DataView(q.buffer);
  for (let b = 0; b < (rows * cols) / 32; b++) {
    const block = x.subarray(b * 32, b * 32 + 32);
    const amax = Math.max(...block.map(Math.abs));
    const d = Math.fround(amax / 127);
    const d16 = f16BitsToF32(view.getUint16(b * 34, true));
    assert.ok(Math.abs(d16 - d) <= d * 2 ** -11, `scale of block ${b}`);
    let hasExtreme = amax === 0;
    for (let j = 0; j < 32; j++) {
      const qj = view.getInt8(b * 34 + 2 + j);
      if (Math.abs(qj) === 127) hasExtreme = true;
      const bound = d / 2 * (1 + 1e-6) + Math.abs(d16 - d) * 127;
      assert.ok(Math.abs(y[b * 32 + j] - block[j]) <= bound, `block ${b} element ${j}`);
    }
    assert.ok(hasExtreme, `block ${b} uses ±127`);
  }
  assert.ok(y.subarray(32, 64).every((v) => v === 0));
  assert.throws(() => quantizeQ8_0(x, 1, 48), /divisible by 32/);
});

// ---------- permutation and rope factors ----------

test('permuteQK: a hand-built 1-head example and the reshape/swapaxes definition for several heads', () => {
  // One head of dim 4, two columns: HF rows r0 r1 | r2 r3 (halves) -> GGUF rows r0 r2 r1 r3 (pairs).
  const w = Float32Array.of(0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5);
  assert.deepEqual([...permuteQK(w, 1, 2)], [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  // numpy: w.reshape(H, 2, hd/2, C).swapaxes(1, 2).reshape(H*hd, C): out[h, i, j, c] = in[h, j, i, c].
  const H = 3, hd = 8, C = 5, half = hd / 2;
  const x = Float32Array.from({ length: H * hd * C }, (_, k) => k);
  const y = permuteQK(x, H, C);
  for (let h = 0; h < H; h++) for (let i = 0; i < half; i++) for (let j = 0; j < 2; j++) for (let c = 0; c < C; c++) {
    const outIdx = ((h * half + i) * 2 + j) * C + c;
    const inIdx = ((h * 2 + j) * half + i) * C + c;
    assert.equal(y[outIdx], x[inIdx]);
  }
});

function llama3Reference(headDim, theta, s) {
  const out = [];
  for (let i = 0; i < headDim / 2; i++) {
    const wavelen = 2 * Math.PI * theta ** ((2 * i) / headDim);
    if (wavelen < s.originalContext / s.highFreqFactor) out.push(1);
    else if (wavelen > s.originalContext / s.lowFreqFactor) out.push(s.factor);
    else {
      const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out.push(1 / ((1 - smooth) / s.factor + smooth));
    }
  }
  return out;
}

// ---------- a small HF directory ----------

const H = { dim: 64, heads: 4, kv: 2, hd: 16, layers: 2, ffn: 80, vocab: 300, theta: 500000 };
const SCALING = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };

function byteChars() {
  const keep = (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
}
const LLAMA3_SPLIT = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

function byteLevelTokenizer() {
  const vocab = {};
  byteChars().forEach((c, i) => { vocab[c] = i; });
  vocab['Ġt'] = 256; vocab.he = 257;
  return {
    model: { type: 'BPE', vocab, merges: [['Ġ', 't'], ['h', 'e']], byte_fallback: false, ignore_merges: true },
    added_tokens: [
      { id: 258, content: '<|begin_of_text|>', special: true }, { id: 259, content: '<|end_of_text|>', special: true },
      { id: 260, content: '<|user|>', special: false },
    ],
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel' }, { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] }] },
    decoder: { type: 'ByteLevel' },
  };
}

/** HF tensors with mixed dtypes; returns the f32 values each holds (after its dtype's rounding). */
function hfWeights() {
  const list = [];
  let seed = 1;
  const add = (name, shape, dtype, fill) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let x = fill === 1 ? new Float32Array(n).fill(1) : normals(n, seed++, 0.05);
    let data;
    if (dtype === 'F32') data = new Uint8Array(x.buffer);
    else {
      const bits = Uint16Array.from(x, dtype === 'F16' ? f32ToF16Bits : f32ToBF16Bits);
      x = Float32Array.from(bits, dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32);
      data = new Uint8Array(bits.buffer);
    }
    list.push({ name, dtype, shape, data, values: x });
  };
  add('model.embed_tokens.weight', [H.vocab, H.dim], 'F32');
  for (let l = 0; l < H.layers; l++) {
    const p = `model.layers.${l}.`;
    add(p + 'input_layernorm.weight', [H.dim], 'BF16', 1);
    add(p + 'self_attn.q_proj.weight', [H.heads * H.hd, H.dim], 'BF16');
    add(p + 'self_attn.k_proj.weight', [H.kv * H.hd, H.dim], 'F16');
    add(p + 'self_attn.v_proj.weight', [H.kv * H.hd, H.dim], 'F32');
    add(p + 'self_attn.o_proj.weight', [H.dim, H.heads * H.hd], 'F32');
    add(p + 'post_attention_layernorm.weight', [H.dim], 'F32', 1);
    add(p + 'mlp.gate_proj.weight', [H.ffn, H.dim], 'BF16');
    add(p + 'mlp.up_proj.weight', [H.ffn, H.dim], 'BF16');
    add(p + 'mlp.down_proj.weight', [H.dim, H.ffn], 'BF16');
  }
  add('model.norm.weight', [H.dim], 'F32', 1);
  add('lm_head.weight', [H.vocab, H.dim], 'F16');
  list.push({ name: 'model.layers.0.self_attn.rotary_emb.inv_freq', dtype: 'F32', shape: [H.hd / 2], data: new Uint8Array(H.hd * 2) });
  return list;
}

function writeHFDir(dir, weights) {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: H.dim, num_attention_heads: H.heads, num_key_value_heads: H.kv,
    num_hidden_layers: H.layers, intermediate_size: H.ffn, vocab_size: H.vocab, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: H.theta, rope_scaling: SCALING, tie_word_embeddings: false,
    bos_token_id: 258, eos_token_id: [259, 260],
  }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteLevelTokenizer()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|end_of_text|>', chat_template: '{{ x }}' }));
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(weights));
}

async function readGGUF(path) {
  const bytes = readFileSync(path);
  const r = new ByteReader(bytes, path, bytes.length);
  const h = await readGGUFHeader(r);
  const data = new Uint8Array(h.dataSize);
  await readGGUFData(r, h, data);
  const tensor = (name) => {
    const t = h.tensors.find((x) => x.name === name);
    assert.ok(t, `tensor ${name}`);
    return { ...t, bytes: data.slice(t.offset, t.offset + t.byteSize) };
  };
  return { h, meta: h.metadata, tensor };
}

const GGUF_NAME = {
  input_layernorm: 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output', post_attention_layernorm: 'ffn_norm', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
};
function ggufName(hf) {
  if (hf === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'model.norm.weight') return 'output_norm.weight';
  if (hf === 'lm_head.weight') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  return m ? `blk.${m[1]}.${GGUF_NAME[m[2]]}.weight` : null;
}

/** The f32 values the GGUF should hold for an HF tensor: Q and K permuted per head. */
function expectedValues(w) {
  if (w.name.includes('q_proj')) return permuteQK(w.values, H.heads, H.dim);
  if (w.name.includes('k_proj')) return permuteQK(w.values, H.kv, H.dim);
  return w.values;
}

function withDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-conv-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('convert F32: names, shapes, exact values (Q/K permuted), rope_freqs, metadata, tokenizer', () => withDir(async (dir) => {
  const weights = hfWeights();
  writeHFDir(dir, weights);
  const out = join(dir, 'out.gguf');
  const progress = [];
  await convertHFToGGUF(dir, out, 'F32', { name: 'tiny', onProgress: (a, b) => progress.push([a, b]), warn: assert.fail });
  assert.deepEqual(progress.at(-1)[0], progress.at(-1)[1]);
  const { h, meta, tensor } = await readGGUF(out);

  const expectNames = weights.map((w) => ggufName(w.name)).filter(Boolean);
  assert.deepEqual(h.tensors.map((t) => t.name).sort(), [...expectNames, 'rope_freqs.weight'].sort());
  for (const w of weights) {
    const name = ggufName(w.name);
    if (!name) continue;
    const t = tensor(name);
    assert.deepEqual(t.shape, [...w.shape].reverse(), name);
    assert.equal(t.type, GGMLType.F32, name);
    assert.deepEqual(new Float32Array(t.bytes.buffer), expectedValues(w), name);
  }
  const rf = tensor('rope_freqs.weight');
  assert.deepEqual(rf.shape, [H.hd / 2]);
  const got = new Float32Array(rf.bytes.buffer);
  const ref = llama3Reference(H.hd, H.theta, { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 });
  ref.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-6 * v, `rope factor ${i}: ${got[i]} vs ${v}`));
  assert.equal(got[0], 1);
  assert.equal(got.at(-1), 8);
  assert.ok(got.some((v) => v > 1 && v < 8), 'one factor in the smooth band');

  const want = {
    'general.architecture': 'llama', 'general.name': 'tiny', 'general.file_type': 0,
    'llama.context_length': 4096, 'llama.embedding_length': H.dim, 'llama.block_count': H.layers,
    'llama.feed_forward_length': H.ffn, 'llama.attention.head_count': H.heads, 'llama.attention.head_count_kv': H.kv,
    'llama.attention.layer_norm_rms_epsilon': Math.fround(1e-5), 'llama.rope.freq_base': H.theta,
    'llama.rope.dimension_count': H.hd, 'llama.vocab_size': H.vocab,
    'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'llama-bpe',
    'tokenizer.ggml.bos_token_id': 258, 'tokenizer.ggml.eos_token_id': 259,
    'tokenizer.ggml.add_bos_token': true, 'tokenizer.ggml.add_eos_token': false, 'tokenizer.chat_template': '{{ x }}',
  };
  for (const [k, v] of Object.entries(want)) assert.equal(meta.get(k), v, k);
  assert.equal(meta.has('llama.attention.key_length'), false);
  assert.equal(meta.has('llama.rope.scaling.type'), false);
  const tokens = meta.get('tokenizer.ggml.tokens');
  const types = meta.get('tokenizer.ggml.token_type');
  assert.equal(tokens.length, H.vocab);
  assert.equal(tokens[32], 'Ġ');
  assert.equal(tokens[256], 'Ġt');
  assert.equal(tokens[299], '[PAD299]');
  assert.deepEqual([types[65], types[258], types[260], types[299]], [TokenKind.NORMAL, TokenKind.CONTROL, TokenKind.USER_DEFINED, TokenKind.UNUSED]);
  assert.deepEqual(meta.get('tokenizer.ggml.merges'), ['Ġ t', 'h e']);
}));

test('convert Q8_0 and F16: per-tensor types (norms F32, ne0 % 32 != 0 falls back to F16), tied output, linear rope', () => withDir(async (dir) => {
  // 2 heads of 16 (head_dim != hidden/heads), 1 KV head: Q is [32, 64], K and V [16, 64], O [64, 32].
  const narrow = { q_proj: [32, H.dim], k_proj: [16, H.dim], v_proj: [16, H.dim], o_proj: [H.dim, 32] };
  const weights = hfWeights().filter((w) => w.name !== 'lm_head.weight').map((w) => {
    const m = /self_attn\.(\w+)\.weight$/.exec(w.name);
    if (!m) return w;
    const shape = narrow[m[1]];
    const values = w.values.slice(0, shape[0] * shape[1]);
    const width = w.data.length / w.values.length;
    return { ...w, shape, values, data: w.data.slice(0, values.length * width) };
  });
  writeHFDir(dir, weights);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, tie_word_embeddings: true, head_dim: 16, num_attention_heads: 2, num_key_value_heads: 1, rope_scaling: { type: 'linear', factor: 2 } }));
  const out = join(dir, 'q.gguf');
  await convertHFToGGUF(dir, out, 'Q8_0', { warn: assert.fail });
  const { meta, tensor, h } = await readGGUF(out);
  assert.equal(meta.get('general.file_type'), 7);
  assert.equal(meta.get('llama.rope.scaling.type'), 'linear');
  assert.equal(meta.get('llama.rope.scaling.factor'), 2);
  assert.equal(meta.get('llama.attention.key_length'), 16);
  assert.equal(meta.get('llama.attention.value_length'), 16);
  assert.equal(meta.get('llama.rope.dimension_count'), 16);
  assert.equal(h.tensors.some((t) => t.name === 'output.weight' || t.name === 'rope_freqs.weight'), false);
  assert.equal(tensor('blk.0.attn_norm.weight').type, GGMLType.F32);
  assert.equal(tensor('blk.0.ffn_down.weight').type, GGMLType.F16); // ne0 = 80
  const q = tensor('blk.1.attn_q.weight');
  assert.equal(q.type, GGMLType.Q8_0);
  const w = weights.find((x) => x.name === 'model.layers.1.self_attn.q_proj.weight');
  const ref = permuteQK(w.values, 2, H.dim);
  const y = dequantizeQ8_0(q.bytes, ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]));
  // Half a quantisation step of the largest block scale bounds the error.
  let amax = 0;
  for (const v of ref) amax = Math.max(amax, Math.abs(v));
  assert.ok(worst <= (amax / 127) * 0.51, `Q8_0 error ${worst}`);

  await convertHFToGGUF(dir, out, 'F16', { warn: assert.fail });
  const f16 = await readGGUF(out);
  assert.equal(f16.meta.get('general.file_type'), 1);
  const up = f16.tensor('blk.0.ffn_up.weight');
  assert.equal(up.type, GGMLType.F16);
  const upRef = weights.find((x) => x.name === 'model.layers.0.mlp.up_proj.weight').values;
  assert.deepEqual(Float32Array.from(new Uint16Array(up.bytes.buffer), f16BitsToF32), Float32Array.from(upRef, (v) => f16BitsToF32(f32ToF16Bits(v))));
}));

test('convert refuses other architectures and unmapped tensors, and leaves no output behind', () => withDir(async (dir) => {
  const weights = hfWeights();
  writeHFDir(dir, [...weights, { name: 'model.layers.0.mlp.extra.weight', dtype: 'F32', shape: [2], data: new Uint8Array(8) }]);
  const out = join(dir, 'bad.gguf');
  await assert.rejects(convertHFToGGUF(dir, out, 'F32'), /model\.layers\.0\.mlp\.extra\.weight has no llama GGUF name/);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPT2LMHeadModel'] }));
  await assert.rejects(convertHFToGGUF(dir, out, 'F32'), /GPT2LMHeadModel/);
  assert.equal(existsSync(out), false);
}));

test('SentencePiece-style BPE (byte fallback) converts to the llama model with bytes, scores and space prefix', () => {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  ['▁', 't', 'h', 'e', '▁t', 'he', '▁the', 'the'].forEach((t, i) => { vocab[t] = 259 + i; });
  const tj = {
    model: { type: 'BPE', vocab, merges: ['▁ t', 'h e', '▁t he'], byte_fallback: true, unk_token: '<unk>' },
    added_tokens: [{ id: 0, content: '<unk>', special: true }, { id: 1, content: '<s>', special: true }, { id: 2, content: '</s>', special: true }],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
  };
  const { metadata, model } = convertTokenizer(tj, { bos_token: '<s>', eos_token: { content: '</s>' }, add_bos_token: true }, {}, 270, 'tok.json');
  const m = new Map(metadata.map((e) => [e.key, e.value]));
  assert.equal(model, 'llama');
  assert.equal(m.get('tokenizer.ggml.model'), 'llama');
  assert.equal(m.get('tokenizer.ggml.add_space_prefix'), true);
  assert.equal(m.get('tokenizer.ggml.bos_token_id'), 1);
  assert.equal(m.get('tokenizer.ggml.eos_token_id'), 2);
  assert.equal(m.get('tokenizer.ggml.unknown_token_id'), 0);
  const types = m.get('tokenizer.ggml.token_type');
  assert.deepEqual([types[0], types[1], types[3 + 0x41], types[259], types[269]], [TokenKind.UNKNOWN, TokenKind.CONTROL, TokenKind.BYTE, TokenKind.NORMAL, TokenKind.UNUSED]);
  const s = m.get('tokenizer.ggml.scores');
  const id = (t) => vocab[t];
  // Earlier merges score higher; a token no merge makes ranks below every merge.
  assert.ok(s[id('▁t')] > s[id('he')] && s[id('he')] > s[id('▁the')] && s[id('▁the')] > s[id('the')]);
  assert.throws(() => convertTokenizer(tj, undefined, {}, 100, 'tok.json'), /has id \d+, but vocab_size is 100/);
});
