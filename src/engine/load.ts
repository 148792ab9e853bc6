// loadModel: any model source -> a ready Model (weights streamed once into Wasm memory).
import type { Runtime } from '../kernels/runtime.js';
import type { BufferGroup } from '../kernels/memory-plan.js';
import { WEIGHT_KERNELS } from '../kernels/weight-kernels.js';
import { createRuntime, type RuntimeOptions } from '../threads/create-runtime.js';
import { defaultThreadCount } from '../threads/support.js';
import { ByteReader, sourceFromUrl, sourceFromResponse, type ByteInput } from '../formats/source.js';
import type { HFDir } from '../formats/hf-dir.js';
import { host } from '../platform/host.js';
import { readGGUFHeader, readGGUFData, type GGUFHeader } from '../formats/gguf.js';
import { GGMLType, ggmlTypeName } from '../formats/ggml-types.js';
import { configFromGGUF } from '../model/from-gguf.js';
import { configFromHF } from '../model/from-hf.js';
import type { ModelConfig } from '../model/config.js';
import { bindWeights, prepareWeights, GGUF_NAMES, type Tensor } from '../model/weights.js';
import { familyOf } from '../model/families/index.js';
import { Decoder } from '../model/decoder.js';
import { planModel, type ModelPlan } from '../model/plan.js';
import { planList, planBytes } from '../kernels/memory-plan.js';
import { KVCache, type KType, type VType } from '../kv/cache.js';
import type { AttentionSetting } from '../attention/index.js';
import { tokenizerFromGGUF, tokenizerFromHF, type Tokenizer } from '../tokenizer/index.js';
import { chatTemplatesFromGGUF, chatTemplatesFromHF, type ChatTemplates } from '../tokenizer/chat-templates.js';
import { Model } from './model.js';
import { AbortError, UnsupportedError, InvalidArgumentError } from '../errors.js';

/**
 * A path (Node, Deno; a page-relative URL in browsers), an http(s) URL, bytes, a Blob, a fetched Response
 * (a Workers static asset), a ReadableStream, or a stream with its size (an R2 object: `{ body, size }`).
 * Streams are read chunk by chunk straight into Wasm memory, so the weights are never held twice.
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Blob | Response | ReadableStream<Uint8Array>
  | { body: ReadableStream<Uint8Array>; size?: number };

export interface LoadOptions {
  /**
   * KV-cache capacity in positions (default: the model's trained context, at most 4096); 'auto': the
   * longest context, up to the trained one, whose KV cache fits memoryLimit beside the weights and scratch.
   */
  contextLength?: number | 'auto';
  /**
   * Generations that can run at once, each with its own KV cache of contextLength positions (default 1;
   * at most 16). More wait their turn. The memory plan counts every cache.
   */
  maxSequences?: number;
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
  /** Refuse to load when weights + KV cache + scratch exceed this many bytes (default 128 MiB on Workers, 4 GiB elsewhere). */
  memoryLimit?: number;
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** The compiled kernel module or its bytes (default: the sparq.wasm shipped with this build). */
  wasm?: WebAssembly.Module | Uint8Array;
  /**
   * Threads the kernels run on, this one included (default: the number of cores). Where shared memory or
   * workers are missing, the model runs on one thread and logs why once; model.info.threads says which.
   */
  threads?: number;
  /** The kernel module built for shared memory (default: the sparq-threads.wasm shipped with this build). */
  threadsWasm?: WebAssembly.Module | Uint8Array;
  /** Kernel calls below this many multiply-adds stay on one thread (tuning and tests; default 262144). */
  parallelMinWork?: number;
}

const DEFAULT_CONTEXT_CAP = 4096;
const FOUR_GIB = 4 * 1024 ** 3;

export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  options.signal?.throwIfAborted?.();
  if (typeof source === 'string' && !/^https?:\/\//.test(source)) {
    const opened = await host.openPath(source, options.signal);
    if (opened.kind === 'hf-dir') return loadHFDir(opened.hf, source, options);
    return loadGGUF(opened.input, source, opened.size, options);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = String(source);
    const { input, size } = await sourceFromUrl(url, options.signal);
    return loadGGUF(input, url, size, options);
  }
  if (source instanceof ArrayBuffer) return loadGGUF(new Uint8Array(source), 'buffer', source.byteLength, options);
  if (source instanceof Uint8Array) return loadGGUF(source, 'buffer', source.byteLength, options);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const name = source.url || 'response';
    const { input, size } = sourceFromResponse(source, name);
    return loadGGUF(input, name, size, options);
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return loadGGUF(source.stream(), (source as { name?: string }).name ?? 'blob', source.size, options);
  }
  if (typeof (source as ReadableStream).getReader === 'function') return loadGGUF(source as ReadableStream<Uint8Array>, 'stream', undefined, options);
  const sized = source as { body?: ReadableStream<Uint8Array>; size?: number; key?: string };
  if (sized.body && typeof sized.body.getReader === 'function') {
    const size = typeof sized.size === 'number' ? sized.size : undefined;
    return loadGGUF(sized.body, sized.key ?? 'stream', size, options);
  }
  throw new InvalidArgumentError('loadModel: source must be a path, URL, ArrayBuffer, Uint8Array, Blob, Response, ReadableStream or { body, size }');
}

async function loadGGUF(input: ByteInput, name: string, size: number | undefined, options: LoadOptions): Promise<Model> {
  const reader = new ByteReader(input, name, size);
  // Closes the file or cancels the stream also when the header is refused (bad format, over the budget).
  try { return await loadGGUFFrom(reader, name, options); } finally { await reader.close(); }
}

async function loadGGUFFrom(reader: ByteReader, name: string, options: LoadOptions): Promise<Model> {
  const header = await readGGUFHeader(reader);
  const config = configFromGGUF(header, name);
  checkTensorTypes(header, name);
  const tokenizer = tokenizerFromGGUF(header.metadata, name);
  const templates = chatTemplatesFromGGUF(header.metadata, name);
  const weights: BufferGroup = { owner: 'weights', buffers: { data: header.dataSize }, align: Math.max(64, header.alignment) };
  return withRuntime(options, async (rt) => {
    const plan = planModel(rt.raw, config, weights, planOptions(rt, config, options), name);
    const base = rt.allocate(weights.owner, weights.buffers, weights.align).data;
    await readGGUFData(reader, header, rt.u8At(base, header.dataSize), { onProgress: options.onProgress, signal: options.signal });
    const byName = new Map<string, Tensor>();
    for (const t of header.tensors) byName.set(t.name, { name: t.name, ptr: base + t.offset, type: t.type, shape: t.shape });
    const bound = bindWeights(config, (n) => byName.get(n), GGUF_NAMES, name);
    return finish(rt, config, bound, { tokenizer, templates }, header.dataSize, plan, options);
  });
}

/** Tensors the forward pass reads must be in a type the kernels read in place. */
function checkTensorTypes(header: GGUFHeader, file: string): void {
  for (const t of header.tensors) {
    const ok = t.shape.filter((d) => d > 1).length <= 1 ? t.type === GGMLType.F32 || WEIGHT_KERNELS.has(t.type) : WEIGHT_KERNELS.has(t.type);
    if (!ok) throw new UnsupportedError(`tensor ${t.name} has type ${ggmlTypeName(t.type)}; supported here: ${[...WEIGHT_KERNELS.keys()].map(ggmlTypeName).join(', ')}`, file);
  }
}

async function loadHFDir(hf: HFDir, dir: string, options: LoadOptions): Promise<Model> {
  const { toF32 } = await import('../formats/half-floats.js');
  const config = configFromHF(hf.config, `${dir}/config.json`);
  const tokenizer = tokenizerFromHF(hf.tokenizer, hf.tokenizerConfig, `${dir}/tokenizer.json`);
  const templates = chatTemplatesFromHF(hf.tokenizerConfig, hf.chatTemplate, `${dir}/tokenizer_config.json`);
  // 1-D tensors (norms) become f32 so the norm kernels read one type; matrices stay as stored.
  const stored = hf.tensors.map((t) => {
    const shape = [...t.shape].reverse();
    const vector = shape.filter((d) => d > 1).length <= 1;
    const type = vector ? GGMLType.F32 : HF_DTYPES[t.dtype];
    if (type === undefined) throw new UnsupportedError(`tensor ${t.name} has dtype ${t.dtype}; supported: F32, F16, BF16`, dir);
    const bytes = vector ? 4 * shape.reduce((a, b) => a * b, 1) : t.byteSize;
    return { t, shape, type, bytes };
  });
  const weights: BufferGroup = { owner: 'weights', buffers: Object.fromEntries(stored.map((s) => [s.t.name, s.bytes])) };
  return withRuntime(options, async (rt) => {
    const plan = planModel(rt.raw, config, weights, planOptions(rt, config, options), dir);
    const byName = new Map<string, Tensor>();
    let loaded = 0;
    for (const s of stored) {
      options.signal?.throwIfAborted?.();
      const ptr = rt.alloc(`weights.${s.t.name}`, s.bytes);
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
    const { hf: family } = familyOf(config.arch);
    const bound = prepareWeights(rt, config, bindWeights(config, (n) => byName.get(n), family.names, dir), family.stored);
    return finish(rt, config, bound, { tokenizer, templates }, planBytes([weights]), plan, options);
  });
}

const HF_DTYPES: Record<string, number> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };

/** A runtime for `options` handed to `load`; disposed (its threads ended) when loading fails. */
async function withRuntime(options: LoadOptions, load: (rt: Runtime) => Promise<Model>): Promise<Model> {
  const limit = Math.min(options.memoryLimit ?? host.defaultMemoryLimit, FOUR_GIB);
  const rt = await createRuntime(await kernelModule(options), await runtimeOptions(limit, options));
  try {
    return await load(rt);
  } catch (e) {
    rt.dispose();
    throw e;
  }
}

function planOptions(rt: Runtime, c: ModelConfig, o: LoadOptions) {
  return {
    contextLength: o.contextLength ?? Math.min(c.trainedContext, DEFAULT_CONTEXT_CAP), limit: rt.memoryLimit, threads: rt.threads, attention: o.attention,
    reallocation: o.reallocation, kType: o.kType, vType: o.vType, kTType: o.kTType, sparqLayout: o.sparqLayout,
    maxSequences: o.maxSequences,
  };
}

function finish(rt: Runtime, config: ModelConfig, weights: ReturnType<typeof bindWeights>,
  text: { tokenizer: Tokenizer; templates: ChatTemplates }, weightBytes: number, plan: ModelPlan, options: LoadOptions): Model {
  if (options.signal?.aborted) throw new AbortError();
  const decoder = new Decoder(rt, config, weights, plan.decoder);
  const kv = plan.decoder.kv;
  return new Model(text.tokenizer, decoder, {
    config, weightBytes, kvBytesPerToken: KVCache.bytesPerToken(rt.raw, kv), contextLength: plan.contextLength, memoryBytes: rt.used,
    memoryPlan: planList(plan.groups).map(([name, bytes]) => ({ name, bytes })), threads: rt.threads, maxSequences: plan.decoder.sequences,
  }, text.templates);
}

async function kernelModule(options: LoadOptions): Promise<WebAssembly.Module | Uint8Array> {
  return options.wasm ?? host.kernelModule();
}

async function runtimeOptions(memoryLimit: number, o: LoadOptions): Promise<RuntimeOptions> {
  const threads = o.threads ?? (host.threads ? await defaultThreadCount() : 1);
  const threadsModule = threads > 1 ? o.threadsWasm ?? await host.threadsKernelModule() : undefined;
  return { memoryLimit, threads, threadsModule, minParallelWork: o.parallelMinWork };
}

