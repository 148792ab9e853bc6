// The memory plan of a loaded model: every buffer the loader and the decoder allocate (the threads' control
// block, the weights, the KV cache, attention and activation buffers), from the same declarations that
// allocate them. It picks the context length for `contextLength: 'auto'` and refuses, naming the numbers, a
// model that cannot fit `memoryLimit`.
import type { KernelExports } from '../kernels/abi.js';
import { ALIGN, alignUp, planBytes, type BufferGroup } from '../kernels/memory-plan.js';
import { BLOCK_BYTES } from '../threads/layout.js';
import { InvalidArgumentError, OutOfMemoryError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { Decoder, resolveDecoder, type DecoderOptions, type DecoderSpec } from './decoder.js';

export interface PlanOptions extends Omit<DecoderOptions, 'contextLength'> {
  /** Positions of KV cache, or 'auto': the most, up to the trained context, that fit the limit. */
  contextLength: number | 'auto';
  /** Bytes of Wasm memory the model may use. */
  limit: number;
  /** Threads the kernels run on (per-thread scratch, and the control block of a pool). */
  threads: number;
  /** Bytes the loader uses after the weights while reading them, released before the decoder allocates. */
  loadScratch?: number;
}

export interface ModelPlan {
  contextLength: number;
  decoder: DecoderSpec;
  /** Every buffer in allocation order, from the threads' control block to the decoder's activations. */
  groups: BufferGroup[];
  /** Wasm memory in use once everything is allocated (the kernel module's static data included). */
  bytes: number;
  /** The most Wasm memory in use at any time: bytes, or the weights with the loader's scratch if more. */
  peakBytes: number;
}

/** The groups of a model with `weights` and a KV cache of `capacity` positions, and the memory they need. */
function layout(k: KernelExports, c: ModelConfig, weights: BufferGroup, o: PlanOptions, capacity: number) {
  const decoder = resolveDecoder(k, c, { ...o, contextLength: capacity });
  const groups: BufferGroup[] = [
    ...(o.threads > 1 ? [{ owner: 'threads', buffers: { control: BLOCK_BYTES } }] : []),
    weights,
    ...Decoder.buffers(k, c, decoder, o.threads),
  ];
  const start = alignUp(k.heap_base(), ALIGN);
  const bytes = start + planBytes(groups, start);
  const loading = start + planBytes([...groups.slice(0, groups.indexOf(weights) + 1), { owner: 'load', buffers: { scratch: o.loadScratch ?? 0 } }], start);
  return { decoder, groups, bytes, peakBytes: Math.max(bytes, loading) };
}

/** The plan for `c` with `weights`, or an OutOfMemoryError naming what does not fit. */
export function planModel(k: KernelExports, c: ModelConfig, weights: BufferGroup, o: PlanOptions, file: string): ModelPlan {
  const weightBytes = planBytes([weights]);
  if (o.contextLength === 'auto') {
    const one = layout(k, c, weights, o, 1);
    if (one.peakBytes > o.limit) {
      const perPosition = layout(k, c, weights, o, 2).bytes - one.bytes;
      throw new OutOfMemoryError(
        `${file}: weights ${mb(weightBytes)} and scratch ${mb(one.peakBytes - weightBytes)} leave no room for a KV cache ` +
        `(${perPosition} bytes a position) within the memory limit of ${mb(o.limit)}`, one.peakBytes, o.limit);
    }
    // the memory needed never shrinks as the capacity grows: the largest that fits, by bisection
    let lo = 1, hi = c.trainedContext;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (layout(k, c, weights, o, mid).peakBytes <= o.limit) lo = mid; else hi = mid - 1;
    }
    return { contextLength: lo, ...layout(k, c, weights, o, lo) };
  }
  const n = o.contextLength;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`contextLength must be a positive integer or 'auto', got ${n}`);
  const plan = { contextLength: n, ...layout(k, c, weights, o, n) };
  if (plan.peakBytes > o.limit) {
    const kv = planBytes(plan.groups.filter((g) => /^kv\d+$/.test(g.owner)));
    throw new OutOfMemoryError(
      `${file}: needs ${mb(plan.peakBytes)} (weights ${mb(weightBytes)}, KV cache ${mb(kv)} for ${n} positions` +
      `${plan.decoder.sequences > 1 ? ` x ${plan.decoder.sequences} sequences` : ''}, ` +
      `scratch ${mb(plan.peakBytes - weightBytes - kv)}) but the memory limit is ${mb(o.limit)}`, plan.peakBytes, o.limit);
  }
  return plan;
}

function mb(bytes: number): string { return `${(bytes / 2 ** 20).toFixed(1)} MiB`; }
