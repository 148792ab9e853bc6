// The KV cache in Wasm memory: per layer and KV head, K rows and V rows position-major; with the SparQ
// layout also K transposed in tiles of KT_TILE positions and an f32 running sum of V per KV head.
import type { Runtime } from '../kernels/runtime.js';
import type { Buffers } from '../kernels/memory-plan.js';
import { KT_TILE, KT_GROUP } from '../kernels/abi.js';
import { InvalidArgumentError } from '../errors.js';
import { TYPE_ID, checkType, type KType, type VType, type ElemType, type LayoutKernels } from './layout.js';

export type { KType, VType } from './layout.js';

export interface KVShape {
  nLayers: number;
  nKVHeads: number;
  headDim: number;
}

export interface KVCacheOptions extends KVShape {
  capacity: number;
  kType?: KType;
  vType?: VType;
  /** Also keep K transposed in tiles and a running V sum (needed by SparQ). */
  sparqLayout?: boolean;
  /** Element type of the transposed K: the K type ('same', default) or 4-bit. */
  kTType?: 'same' | 'q4';
}

/** KVCacheOptions with every default filled in and checked. */
export type KVSpec = Readonly<Required<KVCacheOptions>>;

export function resolveKV(k: LayoutKernels, o: KVCacheOptions): KVSpec {
  for (const f of ['nLayers', 'nKVHeads', 'headDim', 'capacity'] as const) {
    if (!Number.isInteger(o[f]) || o[f] < 1) throw new InvalidArgumentError(`KV cache ${f} must be a positive integer, got ${o[f]}`);
  }
  const r: KVSpec = {
    nLayers: o.nLayers, nKVHeads: o.nKVHeads, headDim: o.headDim, capacity: o.capacity,
    kType: o.kType ?? 'f32', vType: o.vType ?? 'f32', sparqLayout: o.sparqLayout ?? false, kTType: o.kTType ?? 'same',
  };
  checkType(k, r.kType, ['f32', 'f16', 'q8'], 'kType', r.headDim);
  checkType(k, r.vType, ['f32', 'f16', 'q8', 'q4'], 'vType', r.headDim);
  checkType(k, r.kTType, ['same', 'q4'], 'kTType', r.headDim);
  if (r.kTType === 'q4') checkType(k, 'q4', ['q4'], 'kTType', r.headDim);
  return r;
}

/** Byte sizes and strides of a cache of spec `s`. */
function geometry(k: LayoutKernels, s: KVSpec) {
  const d = s.headDim;
  const ktType: ElemType = s.kTType === 'q4' ? 'q4' : s.kType;
  const kRowBytes = k.kv_row_bytes(d, TYPE_ID[s.kType]);
  const vRowBytes = k.kv_row_bytes(d, TYPE_ID[s.vType]);
  const ktTiles = k.kv_t_tiles(s.capacity);
  return {
    ktType, kRowBytes, vRowBytes, ktTiles,
    kHeadStride: s.capacity * kRowBytes,
    vHeadStride: s.capacity * vRowBytes,
    ktHeadStride: s.sparqLayout ? k.kv_t_head_bytes(d, TYPE_ID[ktType], ktTiles) : 0,
  };
}

export class KVCache {
  readonly spec: KVSpec;
  readonly capacity: number;
  readonly nLayers: number;
  readonly nKVHeads: number;
  readonly headDim: number;
  readonly kType: KType;
  readonly vType: VType;
  /** Element type of the transposed K (only with the SparQ layout). */
  readonly ktType: ElemType;
  readonly sparqLayout: boolean;
  readonly kRowBytes: number;
  readonly vRowBytes: number;
  /** Byte strides between KV heads of one layer. */
  readonly kHeadStride: number;
  readonly vHeadStride: number;
  readonly ktHeadStride: number;
  /** Transposed-K tiles per KV head (whole groups of tiles covering the capacity). */
  readonly ktTiles: number;
  private readonly ptr: Record<'k' | 'v' | 'kt' | 'vsum' | 'tmp', number>;
  private readonly layerLen: Int32Array;

  /** The cache's buffers for spec `s`: what the constructor allocates and the memory plan counts. */
  static buffers(k: LayoutKernels, s: KVSpec): Buffers<'k' | 'v' | 'kt' | 'vsum' | 'tmp'> {
    const g = geometry(k, s);
    const heads = s.nLayers * s.nKVHeads;
    return {
      k: heads * g.kHeadStride,
      v: heads * g.vHeadStride,
      kt: heads * g.ktHeadStride,
      vsum: s.sparqLayout ? heads * s.headDim * 4 : 0,
      tmp: s.headDim * 4,
    };
  }

  /** Cache bytes per stored position over all layers (the running V sums are per head, not per token; the
   *  transposed K is allocated in whole groups of tiles, so a smaller capacity pays for a whole group). */
  static bytesPerToken(k: LayoutKernels, opts: KVShape & Omit<KVCacheOptions, 'capacity' | keyof KVShape>): number {
    const s = resolveKV(k, { ...opts, capacity: 1 });
    const g = geometry(k, s);
    const kt = s.sparqLayout ? k.kv_t_head_bytes(s.headDim, TYPE_ID[g.ktType], 1) / KT_TILE : 0; // one tile holds KT_TILE positions
    return s.nLayers * s.nKVHeads * (g.kRowBytes + g.vRowBytes + kt);
  }

  /** A cache of `opts` whose buffers are allocated under `owner` (one per sequence slot: 'kv0', 'kv1', ...). */
  constructor(readonly rt: Runtime, opts: KVCacheOptions, owner = 'kv') {
    const s = resolveKV(rt.raw, opts);
    this.spec = s;
    this.capacity = s.capacity;
    this.nLayers = s.nLayers;
    this.nKVHeads = s.nKVHeads;
    this.headDim = s.headDim;
    this.kType = s.kType;
    this.vType = s.vType;
    this.sparqLayout = s.sparqLayout;
    const g = geometry(rt.raw, s);
    this.ktType = g.ktType;
    this.kRowBytes = g.kRowBytes;
    this.vRowBytes = g.vRowBytes;
    this.kHeadStride = g.kHeadStride;
    this.vHeadStride = g.vHeadStride;
    this.ktHeadStride = g.ktHeadStride;
    this.ktTiles = g.ktTiles;
    this.ptr = rt.allocate(owner, KVCache.buffers(rt.raw, s));
    this.layerLen = new Int32Array(s.nLayers);
  }

  /** Positions stored in every layer. */
  get length(): number {
    let m = this.capacity;
    for (const l of this.layerLen) m = Math.min(m, l);
    return m;
  }

  /** Positions stored in one layer. */
  layerLength(layer: number): number { return this.layerLen[layer]; }

  kPtr(layer: number): number { return this.ptr.k + layer * this.nKVHeads * this.kHeadStride; }
  vPtr(layer: number): number { return this.ptr.v + layer * this.nKVHeads * this.vHeadStride; }
  ktPtr(layer: number): number { return this.ptr.kt + layer * this.nKVHeads * this.ktHeadStride; }
  /** f32 [nKVHeads][headDim] sums of the stored V rows of `layer` (SparQ layout only). */
  vsumPtr(layer: number): number { return this.ptr.vsum + layer * this.nKVHeads * this.headDim * 4; }

  /** Kernel type ids of K, V and the transposed K. */
  get kTypeId(): number { return TYPE_ID[this.kType]; }
  get vTypeId(): number { return TYPE_ID[this.vType]; }
  get ktTypeId(): number { return TYPE_ID[this.ktType]; }

  /** Store n new positions [pos, pos+n) of one layer. k, v: byte offsets of f32 [n][nKVHeads*headDim] (k already rotated). */
  store(layer: number, pos: number, k: number, v: number, n: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) throw new InvalidArgumentError(`KV cache layer ${layer} is outside [0, ${this.nLayers})`);
    const len = this.layerLen[layer];
    if (!Number.isInteger(pos) || pos < 0 || pos > len) throw new InvalidArgumentError(`KV cache store at position ${pos}: layer ${layer} holds ${len} positions`);
    if (!Number.isInteger(n) || n < 1 || pos + n > this.capacity) throw new InvalidArgumentError(`KV cache store of ${n} positions at ${pos} exceeds the capacity ${this.capacity}`);
    const rt = this.rt, tmp = this.ptr.tmp;
    const { nKVHeads: nKV, headDim: d } = this;
    if (pos < len) this.setLayerLength(layer, pos);
    rt.call('kv_store', { src: k, n, nKV, d, dst: this.kPtr(layer), headStride: this.kHeadStride, pos, type: this.kTypeId, vsum: 0, tmp });
    rt.call('kv_store', { src: v, n, nKV, d, dst: this.vPtr(layer), headStride: this.vHeadStride, pos, type: this.vTypeId,
      vsum: this.sparqLayout ? this.vsumPtr(layer) : 0, tmp });
    if (this.sparqLayout) {
      rt.call('kv_store_t', { src: k, n, nKV, d, dst: this.ktPtr(layer), headStride: this.ktHeadStride, pos, type: this.ktTypeId, tiles: this.ktTiles });
    }
    this.layerLen[layer] = pos + n;
  }

  /**
   * The longest prefix of [0, len) whose cache state equals what storing those positions afresh would give:
   * len, except that a quantised transposed K keeps a scale per tile of KT_TILE positions that later
   * positions of the tile may have grown, so only whole tiles are exact there.
   */
  exactLength(len: number): number {
    const quantisedKt = this.sparqLayout && (this.ktType === 'q8' || this.ktType === 'q4');
    return quantisedKt ? Math.floor(len / KT_TILE) * KT_TILE : len;
  }

  /**
   * Positions [0, len) of every layer copied from `src` (a cache of the same spec, holding at least len
   * positions in every layer), after which this cache holds exactly those: K and V rows, the transposed-K
   * tiles covering them (whole groups of tiles and their scales) and the V sums, recomputed from the rows.
   */
  copyFrom(src: KVCache, len: number): void {
    if (src.layoutKey !== this.layoutKey || src.capacity !== this.capacity) throw new InvalidArgumentError('copyFrom: the caches differ in shape or layout');
    if (!Number.isInteger(len) || len < 0 || len > src.length) throw new InvalidArgumentError(`copyFrom: ${len} positions, the source holds ${src.length}`);
    const u8 = this.rt.u8;
    const from: number[] = [];
    src.eachPart(len, (ptr) => from.push(ptr));
    let i = 0;
    this.eachPart(len, (ptr, bytes) => { const f = from[i++]; if (f !== ptr) u8.copyWithin(ptr, f, f + bytes); });
    for (let l = 0; l < this.nLayers; l++) this.setLayerLength(l, len);
  }

  /**
   * What two caches must share for one's rows to be imported into the other: shape, element types, layout
   * and row sizes (the capacity may differ).
   */
  get layoutKey(): string {
    return JSON.stringify([this.nLayers, this.nKVHeads, this.headDim, this.kType, this.vType, this.sparqLayout ? this.ktType : 'none',
      this.kRowBytes, this.vRowBytes]);
  }

  /** Bytes exportPrefix(len) gives. */
  prefixBytes(len: number): number {
    return this.nLayers * this.nKVHeads * this.prefixParts(len).reduce((a, p) => a + p.bytes, 0);
  }

  /**
   * Positions [0, len) as bytes: per layer and KV head, the K rows, the V rows, and with the SparQ layout the
   * transposed-K tiles covering them (whole groups) and, for a quantised K^T, each component's tile scales.
   */
  exportPrefix(len: number): Uint8Array {
    if (!Number.isInteger(len) || len < 0 || len > this.length) throw new InvalidArgumentError(`exportPrefix: ${len} positions, the cache holds ${this.length}`);
    const out = new Uint8Array(this.prefixBytes(len));
    let at = 0;
    this.eachPart(len, (ptr, bytes) => { out.set(this.rt.u8At(ptr, bytes), at); at += bytes; });
    return out;
  }

  /** The inverse of exportPrefix on a cache with the same layoutKey: the cache then holds exactly [0, len). */
  importPrefix(bytes: Uint8Array, len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > this.capacity) throw new InvalidArgumentError(`importPrefix: ${len} positions, the capacity is ${this.capacity}`);
    if (bytes.length !== this.prefixBytes(len)) throw new InvalidArgumentError(`importPrefix: ${bytes.length} bytes, ${len} positions take ${this.prefixBytes(len)}`);
    let at = 0;
    this.eachPart(len, (ptr, n) => { this.rt.u8At(ptr, n).set(bytes.subarray(at, at + n)); at += n; });
    for (let l = 0; l < this.nLayers; l++) this.setLayerLength(l, len);
  }

  /** Byte runs of one KV head's positions [0, len), as offsets from its K row, V row and K^T bases. */
  private prefixParts(len: number): { base: 'k' | 'v' | 'kt'; offset: number; bytes: number }[] {
    const parts: { base: 'k' | 'v' | 'kt'; offset: number; bytes: number }[] = [
      { base: 'k', offset: 0, bytes: len * this.kRowBytes }, { base: 'v', offset: 0, bytes: len * this.vRowBytes },
    ];
    if (!this.sparqLayout) return parts;
    const d = this.headDim, tiles = Math.ceil(len / KT_TILE), groups = Math.ceil(tiles / KT_GROUP);
    const codeBytes = this.rt.raw.kv_tile_code_bytes(this.ktTypeId);
    parts.push({ base: 'kt', offset: 0, bytes: groups * KT_GROUP * d * codeBytes });
    if (this.ktType === 'q8' || this.ktType === 'q4') {
      const plane = this.ktTiles * d * codeBytes;
      for (let i = 0; i < d; i++) parts.push({ base: 'kt', offset: plane + 4 * i * this.ktTiles, bytes: 4 * tiles });
    }
    return parts;
  }

  private eachPart(len: number, f: (ptr: number, bytes: number) => void): void {
    const parts = this.prefixParts(len);
    for (let l = 0; l < this.nLayers; l++) {
      for (let h = 0; h < this.nKVHeads; h++) {
        const base = { k: this.kPtr(l) + h * this.kHeadStride, v: this.vPtr(l) + h * this.vHeadStride, kt: this.ktPtr(l) + h * this.ktHeadStride };
        for (const p of parts) if (p.bytes > 0) f(base[p.base] + p.offset, p.bytes);
      }
    }
  }

  /** Drop positions >= len (rollback); the running V sums are recomputed from the rows that remain. */
  truncate(len: number): void {
    if (!Number.isInteger(len) || len < 0) throw new InvalidArgumentError(`KV cache truncate to ${len}: expected a non-negative integer`);
    for (let l = 0; l < this.nLayers; l++) if (this.layerLen[l] > len) this.setLayerLength(l, len);
  }

  private setLayerLength(layer: number, len: number): void {
    this.layerLen[layer] = len;
    if (this.sparqLayout) {
      this.rt.call('kv_vsum', { v: this.vPtr(layer), headStride: this.vHeadStride, nKV: this.nKVHeads, d: this.headDim, type: this.vTypeId,
        len, vsum: this.vsumPtr(layer), tmp: this.ptr.tmp });
    }
  }
}
