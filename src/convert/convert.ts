// Hugging Face directory -> GGUF with llama.cpp's tensor names, metadata keys and weight layout, for every
// family configFromHF reads. The config comes from our own HF reader, so what converts is what loads. Per
// family, as llama.cpp's converter does: llama's Q and K rows (and biases) are permuted per head from HF's
// half-split rotary layout (pairs (i, i+d/2)) to GGML's interleaved one (pairs (2i, 2i+1)) and llama3 rope
// scaling becomes a rope_freqs.weight tensor; Gemma's norm weights are stored as 1 + w and its lm_head is
// dropped; GPT-NeoX's per-head interleaved query_key_value rows are regrouped to [q; k; v]. Other families
// keep HF's layout (llama.cpp runs them with NeoX-style rotation).
import { FormatError, UnsupportedError, InvalidArgumentError } from '../errors.js';
import { GGMLType, tensorByteSize } from '../formats/ggml-types.js';
import { GGUFValueType as T } from '../formats/gguf.js';
import type { GGUFMetadataEntry, GGUFTensorEntry } from './gguf-writer.js';
import { readHFDir, type HFTensor } from '../formats/hf-dir.js';
import { convertTokenizer } from './convert-tokenizer.js';
import { toF32, f32ToF16Array } from '../formats/half-floats.js';
import { readFileRange } from '../formats/file-range.js';
import { quantizeQ8_0 } from './quantize.js';
import { writeGGUFFile } from './gguf-file.js';
import { configFromHF } from '../model/from-hf.js';
import { FAMILIES, type ModelConfig } from '../model/config.js';
import { GGUF_NAMES, hfNames, type LayerNames } from '../model/weights.js';

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


/** What a tensor needs on its way into the GGUF. */
type Fix =
  | { kind: 'none' }
  | { kind: 'permuteQK'; heads: number }
  | { kind: 'plusOne' }
  | { kind: 'regroupQKV'; heads: number; headDim: number };

const NORM_ROLES = new Set<keyof LayerNames>(['attnNorm', 'ffnNorm', 'postAttnNorm', 'postFfnNorm', 'qNorm', 'kNorm']);

/** HF tensor name -> GGUF name and fix, for every tensor the family may hold. */
function tensorPlan(c: ModelConfig): Map<string, { name: string; fix: Fix }> {
  const hf = hfNames(c.arch);
  const gg = GGUF_NAMES;
  const plusOne = FAMILIES[c.arch].normPlusOne;
  const plan = new Map<string, { name: string; fix: Fix }>();
  const put = (from: string | undefined, to: string | undefined, fix: Fix = { kind: 'none' }) => {
    if (from !== undefined && to !== undefined) plan.set(from, { name: to, fix });
  };
  put(hf.tokenEmbd, gg.tokenEmbd);
  put(hf.outputNorm, gg.outputNorm, plusOne ? { kind: 'plusOne' } : undefined);
  put(hf.outputNormB, gg.outputNormB);
  if (!c.tiedOutput && !plusOne) put(hf.output, gg.output); // llama.cpp drops Gemma's lm_head (always tied)
  for (let i = 0; i < c.nLayers; i++) {
    const from = hf.layer(i), to = gg.layer(i);
    for (const role of Object.keys(from) as (keyof LayerNames)[]) {
      let fix: Fix = { kind: 'none' };
      if (plusOne && NORM_ROLES.has(role)) fix = { kind: 'plusOne' };
      if (FAMILIES[c.arch].ggufInterleavedRope && (role === 'wq' || role === 'bq')) fix = { kind: 'permuteQK', heads: c.nHeads };
      if (FAMILIES[c.arch].ggufInterleavedRope && (role === 'wk' || role === 'bk')) fix = { kind: 'permuteQK', heads: c.nKVHeads };
      if (c.qkvInterleaved && (role === 'wqkv' || role === 'bqkv')) fix = { kind: 'regroupQKV', heads: c.nHeads, headDim: c.headDim };
      put(from[role], to[role], fix);
    }
  }
  return plan;
}

/** Tensors a checkpoint may carry that no GGUF keeps (rotary caches, GPT-NeoX's causal-mask buffers). */
function dropped(name: string, c: ModelConfig): boolean {
  return name.endsWith('.rotary_emb.inv_freq') || /\.attention\.(masked_)?bias$/.test(name)
    || (name === hfNames(c.arch).output && (c.tiedOutput || FAMILIES[c.arch].normPlusOne));
}

/** The metadata llama.cpp's converter writes for the family (besides general.* and tokenizer.*). */
function archMetadata(c: ModelConfig, j: Record<string, unknown>, file: string): { md: GGUFMetadataEntry[]; llama3?: Llama3Scaling } {
  const a = c.arch;
  const u32 = (key: string, value: number): GGUFMetadataEntry => ({ key: `${a}.${key}`, type: T.UINT32, value });
  const f32 = (key: string, value: number): GGUFMetadataEntry => ({ key: `${a}.${key}`, type: T.FLOAT32, value });
  const sizes = [
    u32('context_length', c.trainedContext), u32('embedding_length', c.dim), u32('block_count', c.nLayers),
    u32('feed_forward_length', c.ffnDim), u32('attention.head_count', c.nHeads),
  ];
  const kv = u32('attention.head_count_kv', c.nKVHeads);
  const rms = f32('attention.layer_norm_rms_epsilon', c.normEps);
  const headLengths = [u32('attention.key_length', c.headDim), u32('attention.value_length', c.headDim)];
  const hasHeadDim = typeof j.head_dim === 'number';
  const s = c.rope.scaling;
  const linear = s.kind === 'linear' ? [{ key: `${a}.rope.scaling.type`, type: T.STRING, value: 'linear' }, f32('rope.scaling.factor', s.factor)] : [];
  if (s.kind === 'llama3' && a !== 'llama') throw new UnsupportedError(`llama3 rope scaling does not convert for ${a}`, file);
  const sliding = c.layerWindows.find((w) => w > 0) ?? 0;
  switch (a) {
    case 'llama':
      return {
        md: [u32('vocab_size', c.vocabSize), ...sizes, kv, rms, f32('rope.freq_base', c.rope.theta), u32('rope.dimension_count', c.headDim),
          ...(c.headDim !== c.dim / c.nHeads ? headLengths : []), ...linear],
        llama3: s.kind === 'llama3' ? s : undefined,
      };
    case 'qwen2': case 'qwen3':
      return { md: [...sizes, kv, f32('rope.freq_base', c.rope.theta), rms, ...(hasHeadDim ? headLengths : []), ...linear] };
    case 'gemma':
      return { md: [...sizes, kv, rms, ...headLengths] };
    case 'gemma2':
      return { md: [...sizes, kv, rms, ...headLengths, ...(c.attnSoftcap > 0 ? [f32('attn_logit_softcapping', c.attnSoftcap)] : []),
        ...(c.finalSoftcap > 0 ? [f32('final_logit_softcapping', c.finalSoftcap)] : []), u32('attention.sliding_window', sliding)] };
    case 'gemma3':
      if (c.attnSoftcap > 0) throw new UnsupportedError('gemma3 with attn_logit_softcapping does not convert (llama.cpp has no key for it)', file);
      return { md: [...sizes, kv, f32('rope.freq_base', c.rope.theta), rms, ...headLengths, ...linear,
        ...(c.finalSoftcap > 0 ? [f32('final_logit_softcapping', c.finalSoftcap)] : []),
        ...(sliding > 0 ? [u32('attention.sliding_window', sliding)] : [])] };
    case 'phi3': {
      const orig = j.original_max_position_embeddings;
      if (typeof orig !== 'number') throw new FormatError('original_max_position_embeddings must be a number (llama.cpp writes it for phi3)', file, 'original_max_position_embeddings');
      if (s.kind !== 'none') throw new UnsupportedError(`phi3 rope scaling ${s.kind} does not convert`, file);
      return { md: [...sizes, u32('rope.scaling.original_context_length', orig), kv, rms, u32('rope.dimension_count', c.rope.dim),
        f32('rope.freq_base', c.rope.theta), u32('attention.sliding_window', sliding)] };
    }
    case 'gptneox':
      if (s.kind !== 'none') throw new UnsupportedError(`gptneox rope scaling ${s.kind} does not convert`, file);
      return { md: [...sizes, u32('rope.dimension_count', c.rope.dim),
        { key: 'gptneox.use_parallel_residual', type: T.BOOL, value: c.parallelResidual }, f32('attention.layer_norm_epsilon', c.normEps),
        // llama.cpp's converter drops rotary_emb_base (every Pythia uses 10000, the loader's default); keep any other
        ...(c.rope.theta !== 10000 ? [f32('rope.freq_base', c.rope.theta)] : [])] };
    default:
      throw new UnsupportedError(`architecture ${a} has no GGUF converter`, file);
  }
}

const HF_DTYPE: Record<string, number> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };
/** Rows converted per piece when streaming a matrix (bounded to a few MiB of f32). */
const PIECE_ELEMENTS = 1 << 22;

/** Convert `dir` (safetensors + config.json + tokenizer.json) to a GGUF at outPath, written atomically. */
export async function convertHFToGGUF(dir: string, outPath: string, type: ConvertType, opts: ConvertOptions = {}): Promise<void> {
  if (!(type in FILE_TYPE)) throw new InvalidArgumentError(`type must be F32, F16 or Q8_0, got ${String(type)}`);
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const hf = await readHFDir(dir);
  const configFile = `${dir}/config.json`;
  const c = configFromHF(hf.config, configFile);
  if (c.headDim % 2 !== 0) throw new FormatError(`head_dim ${c.headDim} must be even for rotary embeddings`, configFile, 'head_dim');
  const arch = archMetadata(c, hf.config, configFile);
  const name = opts.name ?? (dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || c.arch);
  const tok = convertTokenizer(hf.tokenizer, hf.tokenizerConfig, hf.config, c.vocabSize, `${dir}/tokenizer.json`, warn);

  const metadata: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: T.STRING, value: c.arch },
    { key: 'general.name', type: T.STRING, value: name },
    { key: 'general.file_type', type: T.UINT32, value: FILE_TYPE[type] },
    { key: 'general.quantization_version', type: T.UINT32, value: 2 },
    ...arch.md,
    ...tok.metadata,
  ];

  const tensors: GGUFTensorEntry[] = [];
  let total = 0;
  let done = 0;
  const progress = (n: number) => { done += n; opts.onProgress?.(done, total); };
  if (arch.llama3) {
    const f = llama3RopeFactors(c.headDim, c.rope.theta, arch.llama3);
    tensors.push({ name: 'rope_freqs.weight', shape: [f.length], type: GGMLType.F32, data: new Uint8Array(f.buffer) });
  }
  const plan = tensorPlan(c);
  const seen = new Set<string>();
  for (const t of hf.tensors) {
    if (dropped(t.name, c)) continue;
    const p = plan.get(t.name);
    if (!p) throw new UnsupportedError(`tensor ${t.name} has no ${c.arch} GGUF name`, dir);
    if (HF_DTYPE[t.dtype] === undefined) throw new UnsupportedError(`tensor ${t.name} has dtype ${t.dtype}`, dir);
    seen.add(p.name);
    const shape = [...t.shape].reverse();
    const vector = shape.filter((d) => d > 1).length <= 1;
    const outType = vector || type === 'F32' ? GGMLType.F32
      : type === 'Q8_0' && shape[0] % 32 === 0 ? GGMLType.Q8_0 : GGMLType.F16;
    if (shape.length > 4) throw new FormatError(`tensor ${t.name} has ${shape.length} dimensions`, dir, t.name);
    total += t.byteSize;
    tensors.push({ name: p.name, shape, type: outType, data: () => encodeTensor(t, shape, outType, p.fix, progress) });
  }
  for (const need of [GGUF_NAMES.tokenEmbd, GGUF_NAMES.outputNorm]) {
    if (!seen.has(need)) throw new FormatError(`the checkpoint has no tensor for ${need}`, dir, need);
  }
  await writeGGUFFile(outPath, { metadata, tensors });
}

/** Stream one tensor as GGUF bytes of `outType`, a block of rows at a time (whole when rows are reordered). */
async function* encodeTensor(t: HFTensor, shape: number[], outType: number, fix: Fix, progress: (n: number) => void): AsyncGenerator<Uint8Array> {
  const cols = shape.length > 1 ? shape[0] : 1;
  const rows = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : (shape[0] ?? 1);
  const inType = HF_DTYPE[t.dtype];
  const rowBytes = t.byteSize / Math.max(rows, 1);
  const whole = fix.kind === 'permuteQK' || fix.kind === 'regroupQKV';
  const step = whole ? rows : Math.max(1, Math.floor(PIECE_ELEMENTS / Math.max(cols, 1)));
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const raw = new Uint8Array(n * rowBytes);
    await readFileRange(t.file, t.offset + r0 * rowBytes, raw);
    let x = toF32(raw, inType);
    if (fix.kind === 'permuteQK') x = permuteQK(x, fix.heads, cols);
    else if (fix.kind === 'regroupQKV') x = regroupQKV(x, fix.heads, fix.headDim, cols);
    else if (fix.kind === 'plusOne') x = x.map((v) => v + 1);
    progress(raw.length);
    yield encodeRows(x, n, cols, outType);
  }
}

/** GPT-NeoX query_key_value rows [head][q|k|v][headDim] -> [q|k|v][head][headDim] (llama.cpp's layout). */
export function regroupQKV(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  if (w.length !== 3 * nHeads * headDim * cols) {
    throw new InvalidArgumentError(`regroupQKV: ${w.length} values are not 3 x ${nHeads} heads x ${headDim} rows of ${cols}`);
  }
  const out = new Float32Array(w.length);
  const block = headDim * cols;
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) out.set(w.subarray((h * 3 + part) * block, (h * 3 + part + 1) * block), (part * nHeads + h) * block);
  }
  return out;
}

function encodeRows(x: Float32Array, rows: number, cols: number, outType: number): Uint8Array {
  if (outType === GGMLType.F32) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (outType === GGMLType.F16) { const h = f32ToF16Array(x); return new Uint8Array(h.buffer); }
  const bytes = tensorByteSize(GGMLType.Q8_0, [cols, rows]);
  return quantizeQ8_0(x, rows, cols, new Uint8Array(bytes));
}
