// Reading a GGUF's kept tensors into the weights buffer, matrices of the common quantised types repacked on
// the way into their interleaved forms (weight-kernels.ts INTERLEAVED_KERNELS): such a matrix is read in
// slices of whole groups of X4_ROWS rows into one of two staging buffers, and each slice is repacked (spread
// over the threads) while the next one is being read. Other tensors are read straight into place. The
// weights are never held twice: the staging buffers are a few MiB, released once the weights are in place.
import type { Runtime } from '../kernels/runtime.js';
import { INTERLEAVED_KERNELS, type InterleavedKernels } from '../kernels/weight-kernels.js';
import { X4_ROWS } from '../kernels/abi.js';
import type { GGUFHeader, GGUFTensorInfo } from '../formats/gguf.js';
import type { ByteReader } from '../formats/source.js';
import type { Tensor } from '../model/weights.js';
import { alignUp, ALIGN } from '../kernels/memory-plan.js';
import { AbortError } from '../errors.js';

/**
 * Bytes of one staging buffer (two of them take turns): a 32nd of the repacked bytes, between 1 and 8 MiB, so
 * that the staging of a small model stays below its decoder's scratch and a large one reads in big pieces.
 */
function sliceBudget(repackedBytes: number): number {
  return Math.min(8 << 20, Math.max(1 << 20, alignUp(Math.ceil(repackedBytes / 32), ALIGN)));
}

interface Placed {
  info: GGUFTensorInfo;
  /** Offset in the weights buffer. */
  dest: number;
  /** The interleaved form it is repacked into, if any. */
  form?: InterleavedKernels;
}

/** Where each kept tensor goes in the weights buffer, and the staging the repacks need. */
export interface WeightsLayout {
  /** In file order. */
  readonly placed: readonly Placed[];
  readonly bytes: number;
  /** Bytes of each of the two staging buffers (0: nothing is repacked). */
  readonly slice: number;
  /** The most bytes of a slice (sliceBudget). */
  readonly budget: number;
}

/** A matrix (2 dimensions) of a type with an interleaved form. */
function repackable(t: GGUFTensorInfo): InterleavedKernels | undefined {
  return t.shape.length >= 2 && t.shape.slice(2).every((d) => d === 1) && t.shape[1] > 1 ? INTERLEAVED_KERNELS.get(t.type) : undefined;
}

/**
 * The layout of the `kept` tensors (file order), each at a multiple of `align`: matrices with an interleaved
 * form take its size, except `lookupOnly` (a token embedding that is not also the output projection: only
 * single rows are read from it, so the file layout serves as well).
 */
export function layoutWeights(kept: readonly GGUFTensorInfo[], align: number, lookupOnly: (name: string) => boolean): WeightsLayout {
  const inFileOrder = [...kept].sort((a, b) => a.offset - b.offset);
  const forms = inFileOrder.map((info) => (lookupOnly(info.name) ? undefined : repackable(info)));
  const budget = sliceBudget(inFileOrder.reduce((a, info, i) => a + (forms[i] ? info.byteSize : 0), 0));
  const placed: Placed[] = [];
  let bytes = 0, slice = 0;
  inFileOrder.forEach((info, i) => {
    const form = forms[i], dest = alignUp(bytes, align), rows = info.shape[1];
    bytes = dest + (form ? form.rowBytes(info.shape[0]) * alignUp(rows, X4_ROWS) : info.byteSize);
    if (form) slice = Math.max(slice, sliceRows(info, budget) * (info.byteSize / rows));
    placed.push({ info, dest, form });
  });
  return { placed, bytes, slice: alignUp(slice, ALIGN), budget };
}

/** Rows of one slice of a repacked matrix: whole groups, at most `budget` bytes (one group at least), at most all. */
function sliceRows(t: GGUFTensorInfo, budget: number): number {
  const rows = t.shape[1], rowBytes = t.byteSize / rows;
  const groups = Math.max(1, Math.floor(budget / (X4_ROWS * rowBytes)));
  return Math.min(alignUp(rows, X4_ROWS), groups * X4_ROWS);
}

/** The placed tensors as the decoder binds them, once read at `base`. */
export function placedTensors(layout: WeightsLayout, base: number): (name: string) => Tensor | undefined {
  const byName = new Map(layout.placed.map((p) => [p.info.name, p]));
  return (name) => {
    const p = byName.get(name);
    return p && { name, ptr: base + p.dest, type: p.info.type, shape: p.info.shape, interleaved: p.form !== undefined };
  };
}

/**
 * Reads the placed tensors from `reader` (positioned at the data section) into the weights buffer at `base`,
 * repacking through two staging buffers of layout.slice bytes at `staging`. Progress counts file bytes.
 */
export async function readWeights(rt: Runtime, reader: ByteReader, header: GGUFHeader, layout: WeightsLayout, base: number,
  staging: number, opts: { onProgress?: (loaded: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
  const total = layout.placed.reduce((a, p) => a + p.info.byteSize, 0);
  let loaded = 0;
  const advance = (n: number) => { loaded += n; opts.onProgress?.(loaded, total); };
  opts.onProgress?.(0, total);
  for (const p of layout.placed) {
    if (opts.signal?.aborted) throw new AbortError();
    await reader.skip(header.dataOffset + p.info.offset - reader.position, 'tensor data nobody binds');
    if (!p.form) {
      await reader.readInto(rt.u8At(base + p.dest, p.info.byteSize), `tensor ${p.info.name}`);
      advance(p.info.byteSize);
      continue;
    }
    const form = p.form, [cols, rows] = p.info.shape, rowBytes = p.info.byteSize / rows, step = sliceRows(p.info, layout.budget);
    let pending: { row: number; n: number; src: number } | undefined;
    for (let row = 0, turn = 0; row < rows; row += step, turn ^= 1) {
      if (opts.signal?.aborted) throw new AbortError();
      const n = Math.min(step, rows - row), src = staging + turn * layout.slice;
      const read = reader.readInto(rt.u8At(src, n * rowBytes), `tensor ${p.info.name}`);
      if (pending) repackSlice(rt, form, pending, base + p.dest, cols, rowBytes); // while the read is in flight
      await read;
      advance(n * rowBytes);
      pending = { row, n, src };
    }
    if (pending) repackSlice(rt, form, pending, base + p.dest, cols, rowBytes);
  }
}

/**
 * Rows [row, row + n) (row a multiple of X4_ROWS) of a matrix of `cols` columns, at src in the file layout
 * (srcRow bytes a row), to their interleaved place in the matrix at dst; groups of rows spread over the threads.
 */
function repackSlice(rt: Runtime, form: InterleavedKernels, s: { row: number; n: number; src: number }, dst: number, cols: number, srcRow: number): void {
  const groups = Math.ceil(s.n / X4_ROWS), per = Math.ceil(groups / Math.min(groups, 4 * rt.threads));
  const dstRow = form.rowBytes(cols);
  // every repack kernel takes (src, dst, rows, cols)
  rt.runTasks(form.repack as 'repack_q8_0x4', Math.ceil(groups / per), s.n * cols, (t) => {
    const r0 = t * per * X4_ROWS;
    return { src: s.src + r0 * srcRow, dst: dst + (s.row + r0) * dstRow, rows: Math.min(per * X4_ROWS, s.n - r0), cols };
  });
}
