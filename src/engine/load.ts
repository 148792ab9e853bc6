// loadModel: any model source -> a ready Model (weights streamed once into Wasm memory).
import type { Runtime } from '../kernels/runtime.js';
import type { BufferGroup } from '../kernels/memory-plan.js';
import { createRuntime, type RuntimeOptions } from '../threads/create-runtime.js';
import { defaultThreadCount } from '../threads/support.js';
import { ByteReader, type ByteInput } from '../formats/source.js';
import type { HFDir } from '../formats/hf-dir.js';
import { host } from '../platform/host.js';
import type { KernelVariant } from '../platform/host-api.js';
import { kernelVariant } from './kernel-variant.js';
import { readGGUFHeader } from '../formats/gguf.js';
import { GGMLType } from '../formats/ggml-types.js';
import { configFromGGUF } from '../model/from-gguf.js';
import { configFromHF } from '../model/from-hf.js';
import type { ModelConfig } from '../model/config.js';
import { bindWeights, boundTensorNames, prepareWeights, GGUF_NAMES, type Tensor } from '../model/weights.js';
import { familyOf } from '../model/families/index.js';
import { Decoder } from '../model/decoder.js';
import { planModel, type ModelPlan } from '../model/plan.js';
import { planList, planBytes } from '../kernels/memory-plan.js';
import { KVCache, type KType, type VType } from '../kv/cache.js';
import type { AttentionSetting } from '../attention/index.js';
import { tokenizerFromGGUF, tokenizerFromHF, type Tokenizer } from '../tokenizer/index.js';
import { chatTemplatesFromGGUF, chatTemplatesFromHF, type ChatTemplates } from '../tokenizer/chat-templates.js';
import { Model } from './model.js';
import { openSource, type ModelSource } from './open-source.js';
import { ggufWeightsLayout, selectGGUFWeights, weightsAlign } from './gguf-weights.js';
import { placedTensors, readWeights } from './gguf-repack.js';
import { checkVocabulary, settingWarnings } from './load-checks.js';
import { AbortError, UnsupportedError } from '../errors.js';

export type { ModelSource } from './open-source.js';

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
  /**
   * Called once per load for each setting that loads but is unwise: a contextLength above the model's trained
   * context, more threads than cores (default: console.warn).
   */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** The compiled kernel module or its bytes (default: the build shipped with this package that suits the runtime). */
  wasm?: WebAssembly.Module | Uint8Array;
  /**
   * Use the relaxed-SIMD kernel build where the runtime supports it and its startup self-check passes
   * (default true; same results, faster 4-, 5- and 6-bit weights); false: always the portable build.
   * model.info.kernels says which runs.
   */
  relaxedSimd?: boolean;
  /**
   * Threads the kernels run on, this one included (default: the number of cores). Where shared memory or
   * workers are missing, the model runs on one thread and logs why once; model.info.threads says which.
   */
  threads?: number;
  /** The kernel module built for shared memory (default: the shipped one of the same variant as `wasm`'s default). */
  threadsWasm?: WebAssembly.Module | Uint8Array;
  /** Kernel calls below this many multiply-adds stay on one thread (tuning and tests; default 262144). */
  parallelMinWork?: number;
}

const DEFAULT_CONTEXT_CAP = 4096;
const FOUR_GIB = 4 * 1024 ** 3;

export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Model> {
  const started = performance.now();
  const opened = await openSource(source, options.signal, 'loadModel');
  if (opened.kind === 'hf-dir') return loadHFDir(opened.hf, opened.name, options, started);
  return loadGGUF(opened.input, opened.name, opened.size, options, started);
}

/** started: when loadModel was called (performance.now()), for ModelInfo.loadMs. */
async function loadGGUF(input: ByteInput, name: string, size: number | undefined, options: LoadOptions, started: number): Promise<Model> {
  const reader = new ByteReader(input, name, size);
  // Closes the file or cancels the stream also when the header is refused (bad format, over the budget).
  try { return await loadGGUFFrom(reader, name, options, started); } finally { await reader.close(); }
}

async function loadGGUFFrom(reader: ByteReader, name: string, options: LoadOptions, started: number): Promise<Model> {
  const header = await readGGUFHeader(reader);
  const config = configFromGGUF(header, name);
  const tokenizer = tokenizerFromGGUF(header.metadata, name);
  checkVocabulary(tokenizer, config, name, 'gguf');
  await warnAboutSettings(config, options);
  const selection = selectGGUFWeights(header, config, name);
  const templates = chatTemplatesFromGGUF(header.metadata, name);
  const layout = ggufWeightsLayout(header, config, selection);
  const weights: BufferGroup = { owner: 'weights', buffers: { data: layout.bytes }, align: weightsAlign(header) };
  return withRuntime(options, async (rt, kernels) => {
    const plan = planModel(rt.raw, config, weights, { ...planOptions(rt, config, options), loadScratch: 2 * layout.slice }, name);
    const base = rt.allocate(weights.owner, weights.buffers, weights.align).data;
    const mark = rt.mark();
    const staging = layout.slice > 0 ? rt.alloc('load.staging', 2 * layout.slice) : 0;
    try {
      await readWeights(rt, reader, header, layout, base, staging, { onProgress: options.onProgress, signal: options.signal });
    } finally {
      rt.release(mark);
      await reader.close();
    }
    const bound = bindWeights(config, placedTensors(layout, base), GGUF_NAMES, name);
    return finish(rt, config, bound, { tokenizer, templates }, layout.bytes, plan, options, started, kernels);
  });
}

async function loadHFDir(hf: HFDir, dir: string, options: LoadOptions, started: number): Promise<Model> {
  const { toF32 } = await import('../formats/half-floats.js');
  const config = configFromHF(hf.config, `${dir}/config.json`);
  const tokenizer = tokenizerFromHF(hf.tokenizer, hf.tokenizerConfig, `${dir}/tokenizer.json`);
  checkVocabulary(tokenizer, config, dir, 'hf');
  await warnAboutSettings(config, options);
  const templates = chatTemplatesFromHF(hf.tokenizerConfig, hf.chatTemplate, `${dir}/tokenizer_config.json`);
  const { hf: family } = familyOf(config.arch);
  // 1-D tensors (norms) become f32 so the norm kernels read one type; matrices stay as stored.
  const declared = hf.tensors.map((t) => {
    const shape = [...t.shape].reverse();
    const vector = shape.filter((d) => d > 1).length <= 1;
    const type = vector ? GGMLType.F32 : HF_DTYPES[t.dtype];
    if (type === undefined) throw new UnsupportedError(`tensor ${t.name} has dtype ${t.dtype}; supported: F32, F16, BF16`, dir);
    const bytes = vector ? 4 * shape.reduce((a, b) => a * b, 1) : t.byteSize;
    return { t, shape, type, bytes };
  });
  // Only the tensors the model binds are read (their shapes checked first).
  const byTensorName = new Map(declared.map((s) => [s.t.name, { name: s.t.name, ptr: 0, type: s.type, shape: s.shape }]));
  const used = boundTensorNames(config, (n) => byTensorName.get(n), family.names, dir);
  const stored = declared.filter((s) => used.has(s.t.name));
  const storedBytes = stored.reduce((a, s) => a + s.t.byteSize, 0);
  const weights: BufferGroup = { owner: 'weights', buffers: Object.fromEntries(stored.map((s) => [s.t.name, s.bytes])) };
  return withRuntime(options, async (rt, kernels) => {
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
      options.onProgress?.(loaded, storedBytes);
    }
    const bound = prepareWeights(rt, config, bindWeights(config, (n) => byName.get(n), family.names, dir), family.stored);
    return finish(rt, config, bound, { tokenizer, templates }, planBytes([weights]), plan, options, started, kernels);
  });
}

async function warnAboutSettings(config: ModelConfig, options: LoadOptions): Promise<void> {
  for (const w of await settingWarnings(config, options)) (options.onWarning ?? console.warn)(w);
}

const HF_DTYPES: Record<string, number> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };

/** A runtime for `options` handed to `load`; disposed (its threads ended) when loading fails. */
async function withRuntime(options: LoadOptions, load: (rt: Runtime, kernels: KernelVariant) => Promise<Model>): Promise<Model> {
  const limit = Math.min(options.memoryLimit ?? host.defaultMemoryLimit, FOUR_GIB);
  const shipped = options.wasm ? undefined : await variant(options);
  const rt = await createRuntime(options.wasm ?? await host.kernelModule(shipped), await runtimeOptions(limit, options, shipped));
  try {
    // a module the caller passed reports its own self-check (0 in a portable build)
    return await load(rt, shipped ?? (rt.raw.relaxed_selfcheck() === 1 ? 'relaxed' : 'portable'));
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
  text: { tokenizer: Tokenizer; templates: ChatTemplates }, weightBytes: number, plan: ModelPlan, options: LoadOptions, started: number,
  kernels: KernelVariant): Model {
  if (options.signal?.aborted) throw new AbortError();
  const decoder = new Decoder(rt, config, weights, plan.decoder);
  const kv = plan.decoder.kv;
  return new Model(text.tokenizer, decoder, {
    config, weightBytes, kvBytesPerToken: KVCache.bytesPerToken(rt.raw, kv), contextLength: plan.contextLength, memoryBytes: Math.max(rt.used, plan.peakBytes),
    memoryPlan: planList(plan.groups).map(([name, bytes]) => ({ name, bytes })), threads: rt.threads, maxSequences: plan.decoder.sequences,
    loadMs: performance.now() - started, kernels,
  }, text.templates);
}

/** The build of the shipped kernel modules this load uses. */
async function variant(o: LoadOptions): Promise<KernelVariant> {
  return o.relaxedSimd === false ? 'portable' : kernelVariant();
}

async function runtimeOptions(memoryLimit: number, o: LoadOptions, shipped: KernelVariant | undefined): Promise<RuntimeOptions> {
  const threads = o.threads ?? (host.threads ? await defaultThreadCount() : 1);
  const threadsModule = threads > 1 ? o.threadsWasm ?? await host.threadsKernelModule(shipped ?? 'portable') : undefined;
  return { memoryLimit, threads, threadsModule, minParallelWork: o.parallelMinWork };
}

