// Hugging Face directory -> GGUF with llama.cpp's tensor names, metadata keys and weight layout, for every
// family configFromHF reads. The config comes from our own HF reader, so what converts is what loads. What
// llama.cpp's converter does per family is in the family record (model/families/): its metadata keys, and
// the tensor fixes this file applies from it: Q and K rows permuted to the interleaved rotary layout and
// llama3 scaling written as rope_freqs.weight (llama), norm weights stored with their offset added and the
// lm_head dropped (Gemma), a per-head interleaved fused QKV regrouped to [q; k; v] (GPT-NeoX).
import { chatTemplatesFromHF } from '../tokenizer/chat-templates.js';
import { FormatError, UnsupportedError, InvalidArgumentError } from '../errors.js';
import { GGMLType, tensorByteSize } from '../formats/ggml-types.js';
import { GGUFValueType as T, type GGUFMetadataEntry } from '../formats/gguf.js';
import type { GGUFTensorEntry } from './gguf-writer.js';
import { readHFDir, type HFTensor } from '../formats/hf-dir.js';
import { toF32, f32ToF16Array } from '../formats/half-floats.js';
import { readFileRange } from '../formats/file-range.js';
import { convertTokenizer } from './convert-tokenizer.js';
import { quantizeQ8_0 } from './quantize.js';
import { writeGGUFFile } from './gguf-file.js';
import { permuteQK, llama3RopeFactors, regroupQKVValues } from './tensor-fixes.js';
import { configFromHF } from '../model/from-hf.js';
import type { ModelConfig } from '../model/config.js';
import { familyOf, type Family } from '../model/families/index.js';
import { GGUF_NAMES, type LayerNames } from '../model/weights.js';

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

/** What a tensor needs on its way into the GGUF. */
type Fix =
  | { kind: 'none' }
  | { kind: 'permuteQK'; heads: number }
  | { kind: 'addNormOffset'; offset: number }
  | { kind: 'regroupQKV'; heads: number; headDim: number };

const NORM_ROLES = new Set<keyof LayerNames>(['attnNorm', 'ffnNorm', 'postAttnNorm', 'postFfnNorm', 'qNorm', 'kNorm']);

/** HF tensor name -> GGUF name and fix, for every tensor the family may hold. */
function tensorPlan(c: ModelConfig, fam: Family): Map<string, { name: string; fix: Fix }> {
  const hf = fam.hf.names;
  const gg = GGUF_NAMES;
  const { normOffset, qkvInterleaved } = fam.hf.stored;
  const norm: Fix = normOffset !== 0 ? { kind: 'addNormOffset', offset: normOffset } : { kind: 'none' };
  const plan = new Map<string, { name: string; fix: Fix }>();
  const put = (from: string | undefined, to: string | undefined, fix: Fix = { kind: 'none' }) => {
    if (from !== undefined && to !== undefined) plan.set(from, { name: to, fix });
  };
  put(hf.tokenEmbd, gg.tokenEmbd);
  put(hf.outputNorm, gg.outputNorm, norm);
  put(hf.outputNormB, gg.outputNormB);
  if (!c.tiedOutput && !fam.convert.dropsOutput) put(hf.output, gg.output);
  for (let i = 0; i < c.nLayers; i++) {
    const from = hf.layer(i), to = gg.layer(i);
    for (const role of Object.keys(from) as (keyof LayerNames)[]) {
      let fix: Fix = { kind: 'none' };
      if (NORM_ROLES.has(role)) fix = norm;
      if (fam.gguf.interleavedRope && (role === 'wq' || role === 'bq')) fix = { kind: 'permuteQK', heads: c.nHeads };
      if (fam.gguf.interleavedRope && (role === 'wk' || role === 'bk')) fix = { kind: 'permuteQK', heads: c.nKVHeads };
      if (qkvInterleaved && (role === 'wqkv' || role === 'bqkv')) fix = { kind: 'regroupQKV', heads: c.nHeads, headDim: c.headDim };
      put(from[role], to[role], fix);
    }
  }
  return plan;
}

/** Tensors a checkpoint may carry that no GGUF keeps (rotary caches, GPT-NeoX's causal-mask buffers, a dropped lm_head). */
function dropped(name: string, c: ModelConfig, fam: Family): boolean {
  return name.endsWith('.rotary_emb.inv_freq') || /\.attention\.(masked_)?bias$/.test(name)
    || (name === fam.hf.names.output && (c.tiedOutput || fam.convert.dropsOutput === true));
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
  const fam = familyOf(c.arch);
  if (c.headDim % 2 !== 0) throw new FormatError(`head_dim ${c.headDim} must be even for rotary embeddings`, configFile, 'head_dim');
  const llama3 = c.rope.scaling.kind === 'llama3' ? c.rope.scaling : undefined;
  if (llama3 && !fam.convert.ropeFreqs) throw new UnsupportedError(`llama3 rope scaling does not convert for ${c.arch}`, configFile);
  const archMetadata = fam.convert.metadata(c, hf.config, configFile);
  const name = opts.name ?? (dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || c.arch);
  const templates = chatTemplatesFromHF(hf.tokenizerConfig, hf.chatTemplate, `${dir}/tokenizer_config.json`);
  const tok = convertTokenizer(hf.tokenizer, hf.tokenizerConfig, hf.config, c.vocabSize, `${dir}/tokenizer.json`, warn, templates);

  const metadata: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: T.STRING, value: c.arch },
    { key: 'general.name', type: T.STRING, value: name },
    { key: 'general.file_type', type: T.UINT32, value: FILE_TYPE[type] },
    { key: 'general.quantization_version', type: T.UINT32, value: 2 },
    ...archMetadata,
    ...tok.metadata,
  ];

  const tensors: GGUFTensorEntry[] = [];
  let total = 0;
  let done = 0;
  const progress = (n: number) => { done += n; opts.onProgress?.(done, total); };
  if (llama3) {
    const f = llama3RopeFactors(c.headDim, c.rope.theta, llama3);
    tensors.push({ name: 'rope_freqs.weight', shape: [f.length], type: GGMLType.F32, data: new Uint8Array(f.buffer) });
  }
  const plan = tensorPlan(c, fam);
  const seen = new Set<string>();
  for (const t of hf.tensors) {
    if (dropped(t.name, c, fam)) continue;
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
    else if (fix.kind === 'regroupQKV') x = regroupQKVValues(x, fix.heads, fix.headDim, cols);
    else if (fix.kind === 'addNormOffset') x = x.map((v) => v + fix.offset);
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
