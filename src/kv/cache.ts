// The KV cache in Wasm memory: per layer and KV head, K rows and V rows position-major; with the SparQ
// layout also K transposed in tiles of KT_TILE positions and an f32 running sum of V per KV head.
import type { Runtime } from '../wasm/runtime.js';
import { InvalidArgumentError } from '../errors.js';
import { TYPE_CODE, KT_TILE, KT_GROUP, rowBytes, tileRowBytes, checkType, type KType, type VType, type ElemType } from './layout.js';

export type { KType, VType } from './layout.js';

export interface KVCacheOptions {
  nLayers: number;
  nKVHeads: number;
  headDim: number;
  capacity: number;
  kType?: KType;
  vType?: VType;
  /** Also keep K transposed in tiles and a running V sum (needed by SparQ). */
  sparqLayout?: boolean;
  /** Element type of the transposed K: the K type ('same', default) or 4-bit. */
  kTType?: 'same' | 'q4';
}

type Resolved = Required<Omit<KVCacheOptions, 'capacity'>>;

function resolve(o: Omit<KVCacheOptions, 'capacity'>): Resolved {
  for (const f of ['nLayers', 'nKVHeads', 'headDim'] as const) {
    if (!Number.isInteger(o[f]) || o[f] < 1) throw new InvalidArgumentError(`KV cache ${f} must be a positive integer, got ${o[f]}`);
  }
  const r: Resolved = {
    nLayers: o.nLayers, nKVHeads: o.nKVHeads, headDim: o.headDim,
    kType: o.kType ?? 'f32', vType: o.vType ?? 'f32', sparqLayout: o.sparqLayout ?? false, kTType: o.kTType ?? 'same',
  };
  checkType(r.kType, ['f32', 'f16', 'q8'], 'kType', r.headDim);
  checkType(r.vType, ['f32', 'f16', 'q8', 'q4'], 'vType', r.headDim);
  checkType(r.kTType, ['same', 'q4'], 'kTType', r.headDim);
  if (r.kTType === 'q4') checkType('q4', ['q4'], 'kTType', r.headDim);
  return r;
}

export class KVCache {
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
  /** Transposed-K tiles per KV head: capacity rounded up to whole groups of KT_GROUP tiles. */
  readonly ktTiles: number;
  private readonly k: number;
  private readonly v: number;
  private readonly kt: number;
  private readonly vsum: number;
  private readonly tmp: number;
  private readonly layerLen: Int32Array;

  constructor(readonly rt: Runtime, opts: KVCacheOptions) {
    const o = resolve(opts);
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) {
      throw new InvalidArgumentError(`KV cache capacity must be a positive integer, got ${opts.capacity}`);
    }
    this.capacity = opts.capacity;
    this.nLayers = o.nLayers;
    this.nKVHeads = o.nKVHeads;
    this.headDim = o.headDim;
    this.kType = o.kType;
    this.vType = o.vType;
    this.sparqLayout = o.sparqLayout;
    this.ktType = o.kTType === 'q4' ? 'q4' : o.kType;
    const d = o.headDim;
    this.kRowBytes = rowBytes(d, o.kType);
    this.vRowBytes = rowBytes(d, o.vType);
    this.kHeadStride = this.capacity * this.kRowBytes;
    this.vHeadStride = this.capacity * this.vRowBytes;
    this.ktTiles = Math.ceil(this.capacity / (KT_TILE * KT_GROUP)) * KT_GROUP;
    this.ktHeadStride = o.sparqLayout ? this.ktTiles * d * tileRowBytes(this.ktType) : 0;
    const heads = o.nLayers * o.nKVHeads;
    this.k = rt.alloc(heads * this.kHeadStride);
    this.v = rt.alloc(heads * this.vHeadStride);
    this.kt = o.sparqLayout ? rt.alloc(heads * this.ktHeadStride) : 0;
    this.vsum = o.sparqLayout ? rt.alloc(heads * d * 4) : 0;
    this.tmp = rt.alloc(d * 4);
    this.layerLen = new Int32Array(o.nLayers);
  }

  /** Cache bytes per stored position over all layers (the running V sums are per head, not per token; the
   *  transposed K is allocated in groups of 1024 positions, so a smaller capacity pays for a whole group). */
  static bytesPerToken(opts: Omit<KVCacheOptions, 'capacity'>): number {
    const o = resolve(opts);
    const d = o.headDim;
    let perHead = rowBytes(d, o.kType) + rowBytes(d, o.vType);
    if (o.sparqLayout) perHead += (d * tileRowBytes(o.kTType === 'q4' ? 'q4' : o.kType)) / KT_TILE;
    return o.nLayers * o.nKVHeads * perHead;
  }

  /** Positions stored in every layer. */
  get length(): number {
    let m = this.capacity;
    for (const l of this.layerLen) m = Math.min(m, l);
    return m;
  }

  /** Positions stored in one layer. */
  layerLength(layer: number): number { return this.layerLen[layer]; }

  kPtr(layer: number): number { return this.k + layer * this.nKVHeads * this.kHeadStride; }
  vPtr(layer: number): number { return this.v + layer * this.nKVHeads * this.vHeadStride; }
  ktPtr(layer: number): number { return this.kt + layer * this.nKVHeads * this.ktHeadStride; }
  /** f32 [nKVHeads][headDim] sums of the stored V rows of `layer` (SparQ layout only). */
  vsumPtr(layer: number): number { return this.vsum + layer * this.nKVHeads * this.headDim * 4; }

  /** Store n new positions [pos, pos+n) of one layer. k, v: byte offsets of f32 [n][nKVHeads*headDim] (k already rotated). */
  store(layer: number, pos: number, k: number, v: number, n: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) throw new InvalidArgumentError(`KV cache layer ${layer} is outside [0, ${this.nLayers})`);
    const len = this.layerLen[layer];
    if (!Number.isInteger(pos) || pos < 0 || pos > len) throw new InvalidArgumentError(`KV cache store at position ${pos}: layer ${layer} holds ${len} positions`);
    if (!Number.isInteger(n) || n < 1 || pos + n > this.capacity) throw new InvalidArgumentError(`KV cache store of ${n} positions at ${pos} exceeds the capacity ${this.capacity}`);
    const kx = this.rt.k;
    const { nKVHeads: h, headDim: d } = this;
    if (pos < len) this.setLayerLength(layer, pos);
    kx.kv_store(k, n, h, d, this.kPtr(layer), this.kHeadStride, pos, TYPE_CODE[this.kType], 0, this.tmp);
    kx.kv_store(v, n, h, d, this.vPtr(layer), this.vHeadStride, pos, TYPE_CODE[this.vType], this.sparqLayout ? this.vsumPtr(layer) : 0, this.tmp);
    if (this.sparqLayout) kx.kv_store_t(k, n, h, d, this.ktPtr(layer), this.ktHeadStride, pos, TYPE_CODE[this.ktType], this.ktTiles);
    this.layerLen[layer] = pos + n;
  }

  /** Drop positions >= len (rollback); the running V sums are recomputed from the rows that remain. */
  truncate(len: number): void {
    if (!Number.isInteger(len) || len < 0) throw new InvalidArgumentError(`KV cache truncate to ${len}: expected a non-negative integer`);
    for (let l = 0; l < this.nLayers; l++) if (this.layerLen[l] > len) this.setLayerLength(l, len);
  }

  private setLayerLength(layer: number, len: number): void {
    this.layerLen[layer] = len;
    if (this.sparqLayout) {
      this.rt.k.kv_vsum(this.vPtr(layer), this.vHeadStride, this.nKVHeads, this.headDim, TYPE_CODE[this.vType], len, this.vsumPtr(layer), this.tmp);
    }
  }
}
