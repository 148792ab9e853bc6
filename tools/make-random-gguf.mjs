#!/usr/bin/env node
// Writes a random-weight GGUF with a real model's shapes (Llama, or GPT-NeoX for pythia-1.4b), for benchmarks
// and tests:
//   node tools/make-random-gguf.mjs --preset llama-3.2-1b|pythia-1.4b|tiny --type Q8_0|F16|F32 --out FILE [--vocab N] [--seed S]
// Weights ~ N(0, 0.02), norms 1.0, biases 0. The tokenizer is a minimal byte-level BPE (256 byte tokens, a few merges,
// BOS/EOS, the rest "[PAD<id>]" placeholders): enough to encode text and decode ids. Tensors are generated and
// written piece by piece, so memory stays at a few MiB whatever the model size. Needs `node tools/build.mjs` first.
import { parseArgs } from 'node:util';
import { GGUFValueType as T } from '../dist/formats/gguf.js';
import { GGMLType, tensorByteSize } from '../dist/formats/ggml-types.js';
import { f32ToF16Array } from '../dist/formats/half-floats.js';
import { writeGGUFFile } from '../dist/convert/index.js';
import { quantizeQ8_0 } from '../dist/convert/quantize.js';
import { llama3RopeFactors } from '../dist/convert/tensor-fixes.js';

const PRESETS = {
  'llama-3.2-1b': {
    name: 'random Llama-3.2-1B', dim: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, ffn: 8192, vocab: 128256,
    ctx: 131072, theta: 500000, eps: 1e-5, tied: true,
    llama3: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 },
  },
  // GPT-NeoX: LayerNorm with biases, fused QKV with bias, rotary on the first 25% of each head, parallel
  // residual, GELU MLP with biases, untied output; multi-head (16 KV heads of 128)
  'pythia-1.4b': {
    name: 'random Pythia-1.4B', arch: 'gptneox', dim: 2048, layers: 24, heads: 16, kvHeads: 16, headDim: 128, ffn: 8192,
    vocab: 50304, ctx: 2048, theta: 10000, eps: 1e-5, tied: false, ropeDim: 32,
  },
  tiny: {
    name: 'random tiny llama', dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffn: 128, vocab: 512,
    ctx: 256, theta: 10000, eps: 1e-5, tied: false,
  },
};

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tiny' }, type: { type: 'string', default: 'Q8_0' }, out: { type: 'string' },
    vocab: { type: 'string' }, seed: { type: 'string', default: '0' },
  },
});
const preset = PRESETS[args.preset];
if (!preset) fail(`unknown --preset ${args.preset} (${Object.keys(PRESETS).join(', ')})`);
if (!args.out) fail('--out FILE is required');
const wtype = { Q8_0: GGMLType.Q8_0, F16: GGMLType.F16, F32: GGMLType.F32 }[args.type];
if (wtype === undefined) fail(`--type must be Q8_0, F16 or F32, got ${args.type}`);
const p = { ...preset, vocab: args.vocab ? Number(args.vocab) : preset.vocab };
if (!Number.isSafeInteger(p.vocab) || p.vocab < 300) fail('--vocab must be an integer >= 300');
const seed = Number(args.seed);

function fail(msg) { console.error(`make-random-gguf: ${msg}`); process.exit(2); }

/** splitmix32-seeded xorshift128 with Box-Muller: a reproducible N(0, 1) stream per tensor. */
function gaussian(seedValue) {
  let s = seedValue >>> 0;
  const next32 = () => { s = (s + 0x9e3779b9) >>> 0; let z = s; z = Math.imul(z ^ (z >>> 16), 0x85ebca6b); z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35); return (z ^ (z >>> 16)) >>> 0; };
  let a = next32(), b = next32(), c = next32(), d = next32() | 1;
  const u = () => { const t = a ^ (a << 11); a = b; b = c; c = d; d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0; return (d + 0.5) / 4294967296; };
  return (out) => {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(u()));
      const th = 2 * Math.PI * u();
      out[i] = r * Math.cos(th);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(th);
    }
  };
}

const PIECE = 1 << 22; // elements generated per piece

/** Random N(0, 0.02) matrix [rows][cols] in `type`, produced a block of rows at a time into reused buffers. */
function randomMatrix(cols, rows, type, tensorSeed) {
  return function* () {
    const fill = gaussian(tensorSeed);
    const step = Math.max(1, Math.floor(PIECE / cols));
    const x = new Float32Array(step * cols);
    const out = new Uint8Array(tensorByteSize(type, [cols, step]));
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r);
      const xs = x.subarray(0, n * cols);
      fill(xs);
      for (let i = 0; i < xs.length; i++) xs[i] *= 0.02;
      const bytes = tensorByteSize(type, [cols, n]);
      if (type === GGMLType.F32) yield new Uint8Array(xs.buffer, 0, bytes);
      else if (type === GGMLType.F16) { f32ToF16Array(xs, new Uint16Array(out.buffer, 0, n * cols)); yield out.subarray(0, bytes); }
      else yield quantizeQ8_0(xs, n, cols, out.subarray(0, bytes));
    }
  };
}

const ones = (n) => new Uint8Array(new Float32Array(n).fill(1).buffer);

/** GPT-2's byte -> printable character table (bytes that are not printable move to U+0100 and up). */
function byteChars() {
  const keep = (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
}

function tokenizer(vocab) {
  const tokens = byteChars();
  const merges = [['Ġ', 't'], ['h', 'e'], ['Ġ', 'a'], ['i', 'n'], ['Ġt', 'he'], ['e', 'r'], ['o', 'n'], ['Ġ', 's']];
  for (const [a, b] of merges) tokens.push(a + b);
  const bos = tokens.length, eos = bos + 1;
  tokens.push('<|begin_of_text|>', '<|end_of_text|>');
  const types = new Int32Array(vocab).fill(1);
  types[bos] = 3; types[eos] = 3;
  for (let i = tokens.length; i < vocab; i++) { tokens.push(`[PAD${i}]`); types[i] = 5; }
  return [
    { key: 'tokenizer.ggml.model', type: T.STRING, value: 'gpt2' },
    { key: 'tokenizer.ggml.pre', type: T.STRING, value: 'llama-bpe' },
    { key: 'tokenizer.ggml.tokens', type: T.ARRAY, itemType: T.STRING, value: tokens },
    { key: 'tokenizer.ggml.token_type', type: T.ARRAY, itemType: T.INT32, value: types },
    { key: 'tokenizer.ggml.merges', type: T.ARRAY, itemType: T.STRING, value: merges.map((m) => m.join(' ')) },
    { key: 'tokenizer.ggml.bos_token_id', type: T.UINT32, value: bos },
    { key: 'tokenizer.ggml.eos_token_id', type: T.UINT32, value: eos },
    { key: 'tokenizer.ggml.add_bos_token', type: T.BOOL, value: true },
    { key: 'tokenizer.ggml.add_eos_token', type: T.BOOL, value: false },
  ];
}

const u32 = (key, value) => ({ key, type: T.UINT32, value });
const arch = p.arch ?? 'llama', neox = arch === 'gptneox';
const metadata = [
  { key: 'general.architecture', type: T.STRING, value: arch },
  { key: 'general.name', type: T.STRING, value: p.name },
  u32('general.file_type', { [GGMLType.F32]: 0, [GGMLType.F16]: 1, [GGMLType.Q8_0]: 7 }[wtype]),
  u32('general.quantization_version', 2),
  u32(`${arch}.vocab_size`, p.vocab),
  u32(`${arch}.context_length`, p.ctx),
  u32(`${arch}.embedding_length`, p.dim),
  u32(`${arch}.block_count`, p.layers),
  u32(`${arch}.feed_forward_length`, p.ffn),
  u32(`${arch}.attention.head_count`, p.heads),
  u32(`${arch}.attention.head_count_kv`, p.kvHeads),
  neox ? { key: 'gptneox.attention.layer_norm_epsilon', type: T.FLOAT32, value: p.eps }
    : { key: 'llama.attention.layer_norm_rms_epsilon', type: T.FLOAT32, value: p.eps },
  { key: `${arch}.rope.freq_base`, type: T.FLOAT32, value: p.theta },
  u32(`${arch}.rope.dimension_count`, p.ropeDim ?? p.headDim),
  ...(neox ? [{ key: 'gptneox.use_parallel_residual', type: T.BOOL, value: true }] : []),
  ...tokenizer(p.vocab),
];

// Q8_0 needs ne0 % 32 == 0; other matrices fall back to F16 as llama.cpp's converter does.
const typeFor = (cols) => (wtype === GGMLType.Q8_0 && cols % 32 !== 0 ? GGMLType.F16 : wtype);
let nextSeed = seed * 1000003;
const matrix = (name, cols, rows) => ({ name, shape: [cols, rows], type: typeFor(cols), data: randomMatrix(cols, rows, typeFor(cols), nextSeed++) });
const norm = (name, n) => ({ name, shape: [n], type: GGMLType.F32, data: ones(n) });
const bias = (name, n) => ({ name, shape: [n], type: GGMLType.F32, data: new Uint8Array(4 * n) });

const q = p.heads * p.headDim, kv = p.kvHeads * p.headDim;
const tensors = [matrix('token_embd.weight', p.dim, p.vocab)];
if (p.llama3) {
  const f = llama3RopeFactors(p.headDim, p.theta, p.llama3);
  tensors.push({ name: 'rope_freqs.weight', shape: [f.length], type: GGMLType.F32, data: new Uint8Array(f.buffer) });
}
for (let l = 0; l < p.layers; l++) {
  const b = `blk.${l}.`;
  if (neox) {
    tensors.push(
      norm(b + 'attn_norm.weight', p.dim), bias(b + 'attn_norm.bias', p.dim),
      matrix(b + 'attn_qkv.weight', p.dim, q + 2 * kv), bias(b + 'attn_qkv.bias', q + 2 * kv),
      matrix(b + 'attn_output.weight', q, p.dim), bias(b + 'attn_output.bias', p.dim),
      norm(b + 'ffn_norm.weight', p.dim), bias(b + 'ffn_norm.bias', p.dim),
      matrix(b + 'ffn_up.weight', p.dim, p.ffn), bias(b + 'ffn_up.bias', p.ffn),
      matrix(b + 'ffn_down.weight', p.ffn, p.dim), bias(b + 'ffn_down.bias', p.dim),
    );
    continue;
  }
  tensors.push(
    norm(b + 'attn_norm.weight', p.dim),
    matrix(b + 'attn_q.weight', p.dim, q), matrix(b + 'attn_k.weight', p.dim, kv), matrix(b + 'attn_v.weight', p.dim, kv),
    matrix(b + 'attn_output.weight', q, p.dim),
    norm(b + 'ffn_norm.weight', p.dim),
    matrix(b + 'ffn_gate.weight', p.dim, p.ffn), matrix(b + 'ffn_up.weight', p.dim, p.ffn), matrix(b + 'ffn_down.weight', p.ffn, p.dim),
  );
}
tensors.push(norm('output_norm.weight', p.dim), ...(neox ? [bias('output_norm.bias', p.dim)] : []));
if (!p.tied) tensors.push(matrix('output.weight', p.dim, p.vocab));

const t0 = performance.now();
await writeGGUFFile(args.out, { metadata, tensors });
const bytes = tensors.reduce((a, t) => a + tensorByteSize(t.type, t.shape), 0);
console.log(`wrote ${args.out}: ${args.preset}, ${args.type}, ${tensors.length} tensors, ${(bytes / 2 ** 20).toFixed(1)} MiB of weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
