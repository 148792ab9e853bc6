// Hugging Face Llama directory -> GGUF with llama.cpp's tensor names, metadata keys and weight layout.
// Q and K rows are permuted per head from HF's half-split rotary layout (pairs (i, i+d/2)) to GGML's
// interleaved one (pairs (2i, 2i+1)); llama3 rope scaling becomes a rope_freqs.weight tensor.
import { FormatError, UnsupportedError, InvalidArgumentError } from '../errors.js';
import { GGMLType, tensorByteSize } from './ggml-types.js';
import { GGUFValueType as T } from './gguf.js';
import type { GGUFMetadataEntry, GGUFTensorEntry } from './gguf-writer.js';
import { readHFDir, type HFTensor } from './hf-dir.js';
import { convertTokenizer } from './convert-tokenizer.js';
import { toF32, f32ToF16Array, quantizeQ8_0 } from './quantize.js';
import { readFileRange, writeGGUFFile } from '../platform/node.js';

export type ConvertType = 'F32' | 'F16' | 'Q8_0';

export interface ConvertOptions {
  /** general.name (default: the directory's last path component). */
  name?: string;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Notes that do not stop the conversion (default: console.warn). */
  warn?: (message: string) => void;
}

/** llama.cpp's general.file_type (LLAMA_FTYPE_*). */
const FILE_TYPE: Record<ConvertType, number> = { F32: 0, F16: 1, Q8_0: 7 };
const ARCHITECTURES = new Set(['LlamaForCausalLM', 'MistralForCausalLM']);

const LAYER_NAMES: Record<string, string> = {
  'input_layernorm': 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'post_attention_layernorm': 'ffn_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

/** GGUF name of an HF Llama tensor; null for tensors the GGUF does not keep (rotary inv_freq). */
export function llamaTensorName(hf: string): string | null {
  if (hf === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'model.norm.weight') return 'output_norm.weight';
  if (hf === 'lm_head.weight') return 'output.weight';
  if (hf.endsWith('.rotary_emb.inv_freq')) return null;
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (m && LAYER_NAMES[m[2]]) return `blk.${Number(m[1])}.${LAYER_NAMES[m[2]]}.weight`;
  throw new UnsupportedError(`tensor ${hf} has no llama GGUF name`);
}

/**
 * Reorder the rows of a Q or K projection ([nHead·headDim] rows of `cols`) as llama.cpp's converter does:
 * within each head, viewed as [2][headDim/2] rows, swap to [headDim/2][2], so that output row 2i+j is input
 * row j·headDim/2 + i.
 */
export function permuteQK(w: Float32Array, nHead: number, cols: number): Float32Array {
  const rows = w.length / cols;
  if (!Number.isInteger(rows) || rows % nHead !== 0 || (rows / nHead) % 2 !== 0) {
    throw new InvalidArgumentError(`permuteQK: ${rows} rows do not split into ${nHead} heads of even size`);
  }
  const half = rows / nHead / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * 2 * half + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), (h * 2 * half + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

export interface Llama3Scaling { factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }

/**
 * Per-frequency divisors of llama3 rope scaling, as llama.cpp's converter writes them into rope_freqs.weight:
 * wavelengths shorter than original/high_freq_factor keep 1, longer than original/low_freq_factor get `factor`,
 * and the band between interpolates smoothly in 1/factor. The converter computes in float32 tensors, so
 * every step here is rounded to f32 (fround) to give the same bits.
 */
export function llama3RopeFactors(headDim: number, theta: number, s: Llama3Scaling): Float32Array {
  const f = Math.fround;
  const lowWavelen = s.originalContext / s.lowFreqFactor;
  const highWavelen = s.originalContext / s.highFreqFactor;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = f(1 / f(theta ** f((2 * i) / headDim)));
    const wavelen = f(f(2 * Math.PI) / freq);
    if (wavelen < f(highWavelen)) out[i] = 1;
    else if (wavelen > f(lowWavelen)) out[i] = s.factor;
    else {
      const smooth = f(f(f(f(s.originalContext) / wavelen) - f(s.lowFreqFactor)) / f(s.highFreqFactor - s.lowFreqFactor));
      out[i] = f(1 / f(f(f(1 - smooth) / f(s.factor)) + smooth));
    }
  }
  return out;
}

const HF_DTYPE: Record<string, number> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };
/** Rows converted per piece when streaming a matrix (bounded to a few MiB of f32). */
const PIECE_ELEMENTS = 1 << 22;

interface Hparams {
  dim: number; nLayers: number; nHeads: number; nKV: number; headDim: number; ffn: number; vocab: number;
  ctx: number; eps: number; theta: number; tied: boolean; scaling: unknown;
}

function hparams(c: Record<string, unknown>, file: string): Hparams {
  const num = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`${key} must be a number, got ${JSON.stringify(c[key])}`, file, key);
    return v;
  };
  const int = (key: string, fallback?: number): number => {
    const v = num(key, fallback);
    if (!Number.isSafeInteger(v) || v <= 0) throw new FormatError(`${key} must be a positive integer, got ${v}`, file, key);
    return v;
  };
  const archs = Array.isArray(c.architectures) ? c.architectures : [];
  if (!archs.some((a) => ARCHITECTURES.has(a as string))) {
    throw new UnsupportedError(`architectures ${JSON.stringify(c.architectures)}: only ${[...ARCHITECTURES].join(', ')} convert`, file);
  }
  const dim = int('hidden_size');
  const nHeads = int('num_attention_heads');
  const headDim = int('head_dim', dim / nHeads);
  const nKV = int('num_key_value_heads', nHeads);
  if (nHeads % nKV !== 0) throw new FormatError(`num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKV}`, file, 'num_key_value_heads');
  if (headDim % 2 !== 0) throw new FormatError(`head_dim ${headDim} must be even for rotary embeddings`, file, 'head_dim');
  return {
    dim, nLayers: int('num_hidden_layers'), nHeads, nKV, headDim, ffn: int('intermediate_size'), vocab: int('vocab_size'),
    ctx: int('max_position_embeddings', 2048), eps: num('rms_norm_eps', 1e-6), theta: num('rope_theta', 10000),
    tied: c.tie_word_embeddings === true, scaling: c.rope_scaling ?? null,
  };
}

function ropeMetadata(h: Hparams, file: string): { md: GGUFMetadataEntry[]; llama3?: Llama3Scaling } {
  const s = h.scaling;
  if (s === null) return { md: [] };
  if (typeof s !== 'object') throw new FormatError('rope_scaling must be an object or null', file, 'rope_scaling');
  const r = s as Record<string, unknown>;
  const kind = r.rope_type ?? r.type;
  const pos = (key: string, fallback?: number): number => {
    const v = r[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) throw new FormatError(`rope_scaling.${key} must be a positive number, got ${JSON.stringify(r[key])}`, file, `rope_scaling.${key}`);
    return v;
  };
  if (kind === 'default') return { md: [] };
  if (kind === 'linear') {
    return { md: [
      { key: 'llama.rope.scaling.type', type: T.STRING, value: 'linear' },
      { key: 'llama.rope.scaling.factor', type: T.FLOAT32, value: pos('factor') },
    ] };
  }
  if (kind === 'llama3') {
    const l3 = { factor: pos('factor', 8), lowFreqFactor: pos('low_freq_factor', 1), highFreqFactor: pos('high_freq_factor', 4), originalContext: pos('original_max_position_embeddings', 8192) };
    if (l3.lowFreqFactor === l3.highFreqFactor) throw new FormatError('rope_scaling low_freq_factor equals high_freq_factor', file, 'rope_scaling');
    return { md: [], llama3: l3 };
  }
  throw new UnsupportedError(`rope_scaling type ${JSON.stringify(kind)} does not convert (linear, llama3 do)`, file);
}

/** Convert `dir` (LlamaForCausalLM safetensors + tokenizer.json) to a GGUF at outPath, written atomically. */
export async function convertHFToGGUF(dir: string, outPath: string, type: ConvertType, opts: ConvertOptions = {}): Promise<void> {
  if (!(type in FILE_TYPE)) throw new InvalidArgumentError(`type must be F32, F16 or Q8_0, got ${String(type)}`);
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const hf = await readHFDir(dir);
  const configFile = `${dir}/config.json`;
  const h = hparams(hf.config, configFile);
  const rope = ropeMetadata(h, configFile);
  const name = opts.name ?? (dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'llama');
  const tok = convertTokenizer(hf.tokenizer, hf.tokenizerConfig, hf.config, h.vocab, `${dir}/tokenizer.json`, warn);

  const u32 = (key: string, value: number): GGUFMetadataEntry => ({ key, type: T.UINT32, value });
  const metadata: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: T.STRING, value: 'llama' },
    { key: 'general.name', type: T.STRING, value: name },
    u32('general.file_type', FILE_TYPE[type]),
    u32('general.quantization_version', 2),
    u32('llama.vocab_size', h.vocab),
    u32('llama.context_length', h.ctx),
    u32('llama.embedding_length', h.dim),
    u32('llama.block_count', h.nLayers),
    u32('llama.feed_forward_length', h.ffn),
    u32('llama.attention.head_count', h.nHeads),
    u32('llama.attention.head_count_kv', h.nKV),
    { key: 'llama.attention.layer_norm_rms_epsilon', type: T.FLOAT32, value: h.eps },
    { key: 'llama.rope.freq_base', type: T.FLOAT32, value: h.theta },
    u32('llama.rope.dimension_count', h.headDim),
    ...(h.headDim !== h.dim / h.nHeads ? [u32('llama.attention.key_length', h.headDim), u32('llama.attention.value_length', h.headDim)] : []),
    ...rope.md,
    ...tok.metadata,
  ];

  const tensors: GGUFTensorEntry[] = [];
  let total = 0;
  let done = 0;
  const progress = (n: number) => { done += n; opts.onProgress?.(done, total); };
  if (rope.llama3) {
    const f = llama3RopeFactors(h.headDim, h.theta, rope.llama3);
    tensors.push({ name: 'rope_freqs.weight', shape: [f.length], type: GGMLType.F32, data: new Uint8Array(f.buffer) });
  }
  const seen = new Set<string>();
  for (const t of hf.tensors) {
    const out = llamaTensorName(t.name);
    if (out === null || (out === 'output.weight' && h.tied)) continue;
    if (HF_DTYPE[t.dtype] === undefined) throw new UnsupportedError(`tensor ${t.name} has dtype ${t.dtype}`, dir);
    seen.add(out);
    const shape = [...t.shape].reverse();
    const vector = shape.filter((d) => d > 1).length <= 1;
    const outType = vector || type === 'F32' ? GGMLType.F32
      : type === 'Q8_0' && shape[0] % 32 === 0 ? GGMLType.Q8_0 : GGMLType.F16;
    const heads = /\.attn_q\./.test(out) ? h.nHeads : /\.attn_k\./.test(out) ? h.nKV : 0;
    if (shape.length > 4) throw new FormatError(`tensor ${t.name} has ${shape.length} dimensions`, dir, t.name);
    total += t.byteSize;
    tensors.push({ name: out, shape, type: outType, data: () => encodeTensor(t, shape, outType, heads, progress) });
  }
  for (const need of ['token_embd.weight', 'output_norm.weight']) {
    if (!seen.has(need)) throw new FormatError(`the checkpoint has no tensor for ${need}`, dir, need);
  }
  await writeGGUFFile(outPath, { metadata, tensors });
}

/** Stream one tensor as GGUF bytes of `outType`, a block of rows at a time (Q/K whole, for the permutation). */
async function* encodeTensor(t: HFTensor, shape: number[], outType: number, heads: number, progress: (n: number) => void): AsyncGenerator<Uint8Array> {
  const cols = shape[0];
  const rows = shape.length > 0 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const inType = HF_DTYPE[t.dtype];
  const rowBytes = t.byteSize / Math.max(rows, 1);
  const step = heads > 0 ? rows : Math.max(1, Math.floor(PIECE_ELEMENTS / Math.max(cols, 1)));
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const raw = new Uint8Array(n * rowBytes);
    await readFileRange(t.file, t.offset + r0 * rowBytes, raw);
    let x = toF32(raw, inType);
    if (heads > 0) x = permuteQK(x, heads, cols);
    progress(raw.length);
    yield encodeRows(x, n, cols, outType);
  }
}

function encodeRows(x: Float32Array, rows: number, cols: number, outType: number): Uint8Array {
  if (outType === GGMLType.F32) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (outType === GGMLType.F16) { const h = f32ToF16Array(x); return new Uint8Array(h.buffer); }
  const bytes = tensorByteSize(GGMLType.Q8_0, [cols, rows]);
  return quantizeQ8_0(x, rows, cols, new Uint8Array(bytes));
}
