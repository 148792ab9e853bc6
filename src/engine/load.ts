// loadModel: any model source -> a ready Model (weights streamed once into Wasm memory).
import { createRuntime, alignUp, type Runtime } from '../wasm/runtime.js';
import { ByteReader, sourceFromUrl, type ByteInput } from '../formats/source.js';
import { readGGUFHeader, readGGUFData, type GGUFHeader } from '../formats/gguf.js';
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';
import { configFromGGUF } from '../model/from-gguf.js';
import { configFromHF } from '../model/from-hf.js';
import type { ModelConfig } from '../model/config.js';
import { bindWeights, GGUF_NAMES, HF_NAMES, type Tensor } from '../model/weights.js';
import { LINEAR_TYPES } from '../model/linear.js';
import { Decoder } from '../model/decoder.js';
import { KVCache, type KType, type VType } from '../kv/cache.js';
import type { AttentionSetting } from '../attention/index.js';
import { tokenizerFromGGUF, tokenizerFromHF, type Tokenizer } from '../tokenizer/index.js';
import { Model } from './model.js';
import { AbortError, OutOfMemoryError, UnsupportedError, InvalidArgumentError } from '../errors.js';

export type ModelSource = string | URL | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;

export interface LoadOptions {
  /** KV-cache capacity in positions (default: the model's trained context, at most 4096). */
  contextLength?: number;
  /** 'dense' (default) or SparQ settings for decode steps. */
  attention?: AttentionSetting;
  /** SparQ mean-value reallocation (default: on for MHA models, off for GQA). */
  reallocation?: boolean;
  kType?: KType;
  vType?: VType;
  /** 'q4' stores SparQ's transposed K (only used to rank positions) in 4 bits: about 1.25x a dense q8 cache. */
  kTType?: 'q4';
  /** Keep the SparQ cache layout even when loading dense, so model.setAttention can switch to SparQ. */
  sparqLayout?: boolean;
  /** Refuse to load when weights + KV cache + scratch exceed this many bytes (default 4 GiB). */
  memoryLimit?: number;
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** The compiled kernel module or its bytes (default: the packaged dist/sparq.wasm, Node only). */
  wasm?: WebAssembly.Module | Uint8Array;
}

const DEFAULT_CONTEXT_CAP = 4096;
const FOUR_GIB = 4 * 1024 ** 3;

export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  options.signal?.throwIfAborted?.();
  if (typeof source === 'string' && !/^https?:\/\//.test(source)) {
    const node = await import('../platform/node.js');
    if (await node.isDirectory(source)) return loadHFDir(source, options);
    const { input, size } = await node.openFileInput(source);
    return loadGGUF(input, source, size, options);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = String(source);
    const { input, size } = await sourceFromUrl(url, options.signal);
    return loadGGUF(input, url, size, options);
  }
  if (source instanceof ArrayBuffer) return loadGGUF(new Uint8Array(source), 'buffer', source.byteLength, options);
  if (source instanceof Uint8Array) return loadGGUF(source, 'buffer', source.byteLength, options);
  if (typeof (source as ReadableStream).getReader === 'function') return loadGGUF(source, 'stream', undefined, options);
  throw new InvalidArgumentError('loadModel: source must be a path, URL, ArrayBuffer, Uint8Array or ReadableStream');
}

async function loadGGUF(input: ByteInput, name: string, size: number | undefined, options: LoadOptions): Promise<Model> {
  const reader = new ByteReader(input, name, size);
  const header = await readGGUFHeader(reader);
  const tokens = header.metadata.get('tokenizer.ggml.tokens');
  const config = configFromGGUF(header.metadata, Array.isArray(tokens) ? tokens.length : undefined, name);
  config.tiedOutput = !header.tensors.some((t) => t.name === GGUF_NAMES.output);
  checkTensorTypes(header, name);
  const tokenizer = tokenizerFromGGUF(header.metadata, name);
  const plan = planMemory(config, header.dataSize, options, name);
  const rt = await createRuntime(await kernelModule(options), { memoryLimit: plan.limit });
  const base = rt.alloc(header.dataSize, Math.max(64, header.alignment));
  await readGGUFData(reader, header, rt.u8At(base, header.dataSize), { onProgress: options.onProgress, signal: options.signal });
  const byName = new Map<string, Tensor>();
  for (const t of header.tensors) byName.set(t.name, { name: t.name, ptr: base + t.offset, type: t.type, shape: t.shape });
  const weights = bindWeights(config, (n) => byName.get(n), GGUF_NAMES, name);
  return finish(rt, config, weights, tokenizer, header.dataSize, plan, options);
}

/** Tensors the forward pass reads must be in a type the kernels read in place. */
function checkTensorTypes(header: GGUFHeader, file: string): void {
  for (const t of header.tensors) {
    const ok = t.shape.filter((d) => d > 1).length <= 1 ? t.type === GGMLType.F32 || LINEAR_TYPES.has(t.type) : LINEAR_TYPES.has(t.type);
    if (!ok) throw new UnsupportedError(`tensor ${t.name} has type ${ggmlTypeName(t.type)}; supported here: F32, F16, BF16, Q8_0`, file);
  }
}

async function loadHFDir(dir: string, options: LoadOptions): Promise<Model> {
  const { readHFDir } = await import('../formats/hf-dir.js');
  const { toF32 } = await import('../formats/quantize.js');
  const hf = await readHFDir(dir);
  const config = configFromHF(hf.config, `${dir}/config.json`);
  const tokenizer = tokenizerFromHF(hf.tokenizer, hf.tokenizerConfig, `${dir}/tokenizer.json`);
  // 1-D tensors (norms) become f32 so the norm kernels read one type; matrices stay as stored.
  const stored = hf.tensors.map((t) => {
    const shape = [...t.shape].reverse();
    const vector = shape.filter((d) => d > 1).length <= 1;
    const type = vector ? GGMLType.F32 : HF_DTYPES[t.dtype];
    if (type === undefined) throw new UnsupportedError(`tensor ${t.name} has dtype ${t.dtype}; supported: F32, F16, BF16`, dir);
    const bytes = vector ? 4 * shape.reduce((a, b) => a * b, 1) : t.byteSize;
    return { t, shape, type, bytes };
  });
  const weightBytes = stored.reduce((a, s) => a + alignUp(s.bytes, 64), 0);
  const plan = planMemory(config, weightBytes, options, dir);
  const rt = await createRuntime(await kernelModule(options), { memoryLimit: plan.limit });
  const byName = new Map<string, Tensor>();
  let loaded = 0;
  for (const s of stored) {
    options.signal?.throwIfAborted?.();
    const ptr = rt.alloc(s.bytes);
    if (s.type === GGMLType.F32 && HF_DTYPES[s.t.dtype] !== GGMLType.F32) {
      const raw = new Uint8Array(s.t.byteSize);
      await hf.loadTensorInto(s.t, raw);
      rt.f32At(ptr, s.bytes / 4).set(toF32(raw, HF_DTYPES[s.t.dtype]));
    } else {
      await hf.loadTensorInto(s.t, rt.u8At(ptr, s.bytes));
    }
    byName.set(s.t.name, { name: s.t.name, ptr, type: s.type, shape: s.shape });
    loaded += s.t.byteSize;
    options.onProgress?.(loaded, hf.totalBytes);
  }
  const weights = bindWeights(config, (n) => byName.get(n), HF_NAMES, dir);
  return finish(rt, config, weights, tokenizer, weightBytes, plan, options);
}

const HF_DTYPES: Record<string, number> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };

interface MemoryPlan { limit: number; contextLength: number; kvBytes: number }

/** Weights + KV cache + scratch must fit the budget; refuse up front, naming the numbers. */
function planMemory(c: ModelConfig, weightBytes: number, options: LoadOptions, file: string): MemoryPlan {
  const limit = Math.min(options.memoryLimit ?? FOUR_GIB, FOUR_GIB);
  const contextLength = options.contextLength ?? Math.min(c.trainedContext, DEFAULT_CONTEXT_CAP);
  if (!Number.isSafeInteger(contextLength) || contextLength < 1) {
    throw new InvalidArgumentError(`contextLength must be a positive integer, got ${contextLength}`);
  }
  const kvBytes = KVCache.bytesPerToken(kvOptions(c, options)) * contextLength;
  const total = weightBytes + kvBytes + Decoder.scratchBytes(c) + (1 << 20);
  if (total > limit) {
    throw new OutOfMemoryError(
      `${file}: needs ${mb(total)} (weights ${mb(weightBytes)}, KV cache ${mb(kvBytes)} for ${contextLength} positions, ` +
      `scratch ${mb(Decoder.scratchBytes(c))}) but the memory limit is ${mb(limit)}`, total, limit);
  }
  return { limit, contextLength, kvBytes };
}

function kvOptions(c: ModelConfig, options: LoadOptions) {
  const sparq = options.attention !== undefined && options.attention !== 'dense';
  return {
    nLayers: c.nLayers, nKVHeads: c.nKVHeads, headDim: c.headDim,
    kType: options.kType ?? (sparq ? 'q8' : 'f32') as KType,
    vType: options.vType ?? (sparq ? 'q8' : 'f32') as VType,
    sparqLayout: options.sparqLayout ?? sparq,
    kTType: options.kTType,
  };
}

function finish(rt: Runtime, config: ModelConfig, weights: ReturnType<typeof bindWeights>, tokenizer: Tokenizer,
  weightBytes: number, plan: MemoryPlan, options: LoadOptions): Model {
  if (options.signal?.aborted) throw new AbortError();
  const kv = kvOptions(config, options);
  const decoder = new Decoder(rt, config, weights, {
    contextLength: plan.contextLength, attention: options.attention, reallocation: options.reallocation, kType: kv.kType, vType: kv.vType,
    kTType: kv.kTType, sparqLayout: kv.sparqLayout,
  });
  return new Model(tokenizer, decoder, {
    config, weightBytes, kvBytesPerToken: KVCache.bytesPerToken(kv), contextLength: plan.contextLength, memoryBytes: rt.used,
  });
}

async function kernelModule(options: LoadOptions): Promise<WebAssembly.Module | Uint8Array> {
  if (options.wasm) return options.wasm;
  const { readKernelModule } = await import('../platform/wasm-node.js');
  return readKernelModule();
}

function mb(bytes: number): string { return `${(bytes / 2 ** 20).toFixed(1)} MiB`; }
