// GGUF v2/v3 reader. Layout (ggml/docs/gguf.md): magic "GGUF", u32 version, u64 tensor count, u64 metadata
// count, the metadata key/value pairs, the tensor infos (name, n_dims, ne[0..n), type, offset), padding to
// `general.alignment` (default 32), then the tensor data; every tensor offset is relative to that data
// section and aligned. Everything is little-endian. All counts, lengths and offsets are checked before use.
import { FormatError, UnsupportedError, AbortError } from '../errors.js';
import type { ByteReader } from './source.js';
import { ggmlTypeName, isKnownGGMLType, tensorByteSize } from './ggml-types.js';

export const GGUFValueType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8,
  ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;
export type GGUFValueType = (typeof GGUFValueType)[keyof typeof GGUFValueType];

export type GGUFValue = number | bigint | boolean | string | GGUFValue[] | Float32Array | Int32Array | Uint32Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Float64Array | BigInt64Array | BigUint64Array;

/** One metadata pair as a writer takes it (the reader gives a Map of values). Arrays give `itemType`; an array of arrays gives `value` as a list of `{ itemType, value }`. */
export interface GGUFMetadataEntry {
  key: string;
  type: GGUFValueType;
  value: unknown;
  itemType?: GGUFValueType;
}

export interface GGUFTensorInfo {
  name: string;
  /** ne[0] first (the contiguous dimension). */
  shape: number[];
  type: number;
  /** Relative to the data section. */
  offset: number;
  byteSize: number;
}

export interface GGUFHeader {
  version: number;
  metadata: Map<string, GGUFValue>;
  tensors: GGUFTensorInfo[];
  alignment: number;
  /** Absolute, aligned start of the tensor data. */
  dataOffset: number;
  /** Bytes from dataOffset to the end of the last tensor. */
  dataSize: number;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGML_MAX_DIMS = 4;
const MAX_ARRAY_DEPTH = 16;
/** Metadata arrays beyond this many bytes are refused (the largest real vocabularies use a few MiB). */
const MAX_ARRAY_BYTES = 1 << 30;

/** Fixed-size scalar types: bytes each. */
const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** Smallest encoding of one value of each type (string: its u64 length; array: type + count). */
const MIN_SIZE: Record<number, number> = { ...SCALAR_SIZE, 8: 8, 9: 12 };
const TYPE_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'];

/** Name of a GGUF metadata value type id, for messages. */
export function ggufValueTypeName(t: number): string { return TYPE_NAMES[t] ?? `type#${t}`; }

class HeaderParser {
  constructor(readonly r: ByteReader) {}

  get file(): string { return this.r.name; }

  fail(message: string, field: string): never { throw new FormatError(`${field}: ${message}`, this.file, field); }

  async need(n: number, field: string): Promise<void> {
    if (this.r.buffered < n) await this.r.need(n, field);
  }

  async u32(field: string): Promise<number> { await this.need(4, field); return this.r.u32(); }

  async u64(field: string): Promise<number> { await this.need(8, field); return this.r.u64Number(field); }

  /** A count of items that take at least `minBytes` each: refused when they cannot fit in what is left. */
  async count(field: string, minBytes: number): Promise<number> {
    const n = await this.u64(field);
    if (n * minBytes > this.r.remaining) {
      this.fail(`count ${n} cannot fit: ${n} items of at least ${minBytes} bytes need more than the ${this.r.remaining} bytes left`, field);
    }
    return n;
  }

  async string(field: string): Promise<string> {
    const len = await this.u64(`${field} (string length)`);
    if (len > this.r.remaining) this.fail(`string length ${len} runs past the end of the file (${this.r.remaining} bytes left)`, field);
    await this.need(len, field);
    return this.r.string(len);
  }

  async valueType(field: string): Promise<number> {
    const t = await this.u32(`${field} (value type)`);
    if (t > 12) this.fail(`unknown metadata value type ${t} (expected 0..12)`, field);
    return t;
  }

  async value(type: number, field: string, depth: number): Promise<GGUFValue> {
    if (type === GGUFValueType.STRING) return this.string(field);
    if (type === GGUFValueType.ARRAY) return this.array(field, depth + 1);
    await this.need(SCALAR_SIZE[type], field);
    const r = this.r;
    switch (type) {
      case GGUFValueType.UINT8: return r.u8();
      case GGUFValueType.INT8: return r.i8();
      case GGUFValueType.UINT16: return r.u16();
      case GGUFValueType.INT16: return r.i16();
      case GGUFValueType.UINT32: return r.u32();
      case GGUFValueType.INT32: return r.i32();
      case GGUFValueType.FLOAT32: return r.f32();
      case GGUFValueType.FLOAT64: return r.f64();
      case GGUFValueType.BOOL: return this.bool(r.u8(), field);
      case GGUFValueType.UINT64: return safeOrBig(r.u64());
      default: return safeOrBig(r.i64()); // INT64
    }
  }

  /** `n` strings; awaits only when the next piece is not buffered yet (vocabularies hold 10^5 entries). */
  async strings(n: number, field: string): Promise<string[]> {
    const r = this.r;
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (r.buffered < 8) await r.need(8, `${field}[${i}] (string length)`);
      const len = r.u64Number(field);
      if (len > r.remaining) this.fail(`string length ${len} runs past the end of the file (${r.remaining} bytes left)`, `${field}[${i}]`);
      if (r.buffered < len) await r.need(len, `${field}[${i}]`);
      out[i] = r.string(len);
    }
    return out;
  }

  bool(b: number, field: string): boolean {
    if (b > 1) this.fail(`bool value ${b} is neither 0 nor 1`, field);
    return b === 1;
  }

  async array(field: string, depth: number): Promise<GGUFValue> {
    if (depth > MAX_ARRAY_DEPTH) this.fail(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`, field);
    const type = await this.valueType(`${field} (array element type)`);
    const n = await this.count(`${field} (array length)`, MIN_SIZE[type]);
    if (type === GGUFValueType.STRING) return this.strings(n, field);
    if (type === GGUFValueType.ARRAY) {
      const out: GGUFValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = await this.value(type, `${field}[${i}]`, depth);
      return out;
    }
    const bytes = n * SCALAR_SIZE[type];
    if (bytes > MAX_ARRAY_BYTES) this.fail(`array of ${n} ${ggufValueTypeName(type)} is larger than ${MAX_ARRAY_BYTES} bytes`, field);
    const raw = new Uint8Array(bytes);
    await this.r.readInto(raw, field);
    const buf = raw.buffer;
    switch (type) {
      case GGUFValueType.UINT8: return raw;
      case GGUFValueType.INT8: return new Int8Array(buf);
      case GGUFValueType.UINT16: return new Uint16Array(buf);
      case GGUFValueType.INT16: return new Int16Array(buf);
      case GGUFValueType.UINT32: return new Uint32Array(buf);
      case GGUFValueType.INT32: return new Int32Array(buf);
      case GGUFValueType.FLOAT32: return new Float32Array(buf);
      case GGUFValueType.FLOAT64: return new Float64Array(buf);
      case GGUFValueType.BOOL: return Array.from(raw, (b, i) => this.bool(b, `${field}[${i}]`));
      case GGUFValueType.UINT64: return numbersIfSafe(new BigUint64Array(buf));
      default: return numbersIfSafe(new BigInt64Array(buf)); // INT64
    }
  }
}

function safeOrBig(v: bigint): number | bigint {
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function numbersIfSafe<T extends BigInt64Array | BigUint64Array>(a: T): number[] | T {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  for (const v of a) if (v > max || v < -max) return a;
  return Array.from(a, Number);
}

/** Parse everything up to the tensor data; leaves the reader at dataOffset (or, without tensors, after the infos). */
export async function readGGUFHeader(reader: ByteReader): Promise<GGUFHeader> {
  const p: HeaderParser = new HeaderParser(reader);
  const magic = await p.u32('magic');
  if (magic !== GGUF_MAGIC) {
    const seen = [0, 8, 16, 24].map((s) => (magic >>> s) & 0xff);
    const text = seen.every((c) => c >= 0x20 && c < 0x7f) ? ` ("${String.fromCharCode(...seen)}")` : '';
    p.fail(`not a GGUF file: magic is 0x${magic.toString(16).padStart(8, '0')}${text}, expected "GGUF"`, 'magic');
  }
  const version = await p.u32('version');
  if (version === 1) throw new UnsupportedError('GGUF version 1 is not supported (only v2 and v3); re-convert the model with a current llama.cpp', reader.name);
  if (version !== 2 && version !== 3) {
    if ((version & 0xffff) === 0 && (version >>> 24) >= 1 && (version >>> 24) <= 3) {
      throw new UnsupportedError(`big-endian GGUF (version bytes ${version.toString(16)}) is not supported`, reader.name);
    }
    p.fail(`unknown GGUF version ${version} (expected 2 or 3)`, 'version');
  }
  // Smallest tensor info: name length (8) + n_dims (4) + type (4) + offset (8); smallest pair: key length + type + 1 byte.
  const nTensors = await p.count('tensor_count', 24);
  const nKV = await p.count('metadata_kv_count', 13);

  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < nKV; i++) {
    const key = await p.string(`metadata key #${i}`);
    if (metadata.has(key)) p.fail(`duplicate metadata key '${key}'`, key);
    const type = await p.valueType(key);
    metadata.set(key, await p.value(type, key, 0));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al !== undefined) {
    if (typeof al !== 'number' || !Number.isInteger(al) || al <= 0 || (al & (al - 1)) !== 0 || al > 2 ** 30) {
      p.fail(`must be a power of two > 0, got ${describeValue(al)}`, 'general.alignment');
    }
    alignment = al;
  }

  const tensors: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = await p.string(`tensor #${i} name`);
    const field = `tensor ${name}`;
    if (names.has(name)) p.fail(`duplicate tensor name '${name}'`, field);
    names.add(name);
    const nDims = await p.u32(`${field} n_dims`);
    if (nDims > GGML_MAX_DIMS) p.fail(`n_dims = ${nDims}, expected at most ${GGML_MAX_DIMS}`, `${field} n_dims`);
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) shape.push(await p.u64(`${field} ne[${d}]`));
    const type = await p.u32(`${field} type`);
    if (!isKnownGGMLType(type)) p.fail(`unknown tensor type id ${type}`, `${field} type`);
    const offset = await p.u64(`${field} offset`);
    if (offset % alignment !== 0) p.fail(`offset ${offset} is not a multiple of the alignment ${alignment}`, `${field} offset`);
    const byteSize = tensorByteSize(type, shape, reader.name, `${field} shape`);
    tensors.push({ name, shape, type, offset, byteSize });
  }

  const dataOffset = Math.ceil(reader.position / alignment) * alignment;
  let dataSize = 0;
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < byOffset.length; i++) {
    const t = byOffset[i];
    const end = t.offset + t.byteSize;
    if (!Number.isSafeInteger(dataOffset + end)) p.fail(`offset ${t.offset} + size ${t.byteSize} overflows`, `tensor ${t.name} offset`);
    if (reader.size !== undefined && dataOffset + end > reader.size) {
      p.fail(`data [${dataOffset + t.offset}, ${dataOffset + end}) runs past the end of the file (${reader.size} bytes)`, `tensor ${t.name} offset`);
    }
    const next = byOffset[i + 1];
    if (next && next.offset < end) p.fail(`data [${t.offset}, ${end}) overlaps tensor ${next.name} at ${next.offset}`, `tensor ${t.name} offset`);
    dataSize = Math.max(dataSize, end);
  }
  // Files without tensors may end right after the infos; the padding only precedes tensor data.
  if (tensors.length > 0) await reader.skip(dataOffset - reader.position, 'padding before the tensor data');
  return { version, metadata, tensors, alignment, dataOffset, dataSize };
}

const PROGRESS_STEP = 16 << 20;

/** Bytes [start, end) of the data section, copied to [dest, dest + end - start) of a buffer (gguf-select.ts). */
export interface DataRun {
  readonly start: number;
  readonly end: number;
  readonly dest: number;
}

/**
 * Streams the tensor data region [dataOffset, dataOffset+dataSize) into dst (dst.length === header.dataSize),
 * reporting progress and honouring the signal. Closes the reader when done, failed or aborted.
 */
export async function readGGUFData(reader: ByteReader, header: GGUFHeader, dst: Uint8Array,
  opts: { onProgress?: (loaded: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
  if (dst.length !== header.dataSize) {
    await reader.close();
    throw new RangeError(`readGGUFData: dst has ${dst.length} bytes, the data section ${header.dataSize}`);
  }
  await readGGUFRuns(reader, header, [{ start: 0, end: header.dataSize, dest: 0 }], dst, opts);
}

/**
 * Streams the runs of the data section (in file order, see gguf-select.ts) into dst, skipping the bytes
 * between them, reporting progress over the runs' bytes and honouring the signal. Closes the reader when
 * done, failed or aborted.
 */
export async function readGGUFRuns(reader: ByteReader, header: GGUFHeader, runs: readonly DataRun[], dst: Uint8Array,
  opts: { onProgress?: (loaded: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
  const total = runs.reduce((a, r) => a + r.end - r.start, 0);
  try {
    if (total > 0 && reader.position !== header.dataOffset) {
      throw new RangeError(`readGGUFRuns: reader is at ${reader.position}, the data starts at ${header.dataOffset}`);
    }
    opts.onProgress?.(0, total);
    let loaded = 0;
    for (const run of runs.filter((r) => r.end > r.start)) {
      await reader.skip(header.dataOffset + run.start - reader.position, 'tensor data nobody binds');
      for (let done = 0; done < run.end - run.start;) {
        if (opts.signal?.aborted) throw new AbortError();
        const n = Math.min(PROGRESS_STEP, run.end - run.start - done);
        await reader.readInto(dst.subarray(run.dest + done, run.dest + done + n), 'tensor data');
        done += n;
        loaded += n;
        opts.onProgress?.(loaded, total);
      }
    }
  } finally {
    await reader.close();
  }
}

/** UnsupportedError naming the first tensor whose type is not in `supported`. */
export function checkSupportedTypes(h: GGUFHeader, supported: Set<number>, file?: string): void {
  for (const t of h.tensors) {
    if (!supported.has(t.type)) {
      const names = [...supported].map(ggmlTypeName).join(', ');
      throw new UnsupportedError(`tensor ${t.name} has type ${ggmlTypeName(t.type)}; supported: ${names}`, file);
    }
  }
}

export function describeValue(v: GGUFValue | undefined): string {
  if (v === undefined) return 'nothing (key absent)';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'bigint') return `integer ${v}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return `an array of ${v.length}`;
}

function missingOrWrong(meta: Map<string, GGUFValue>, key: string, expected: string, file?: string): never {
  throw new FormatError(`metadata ${key} must be ${expected}, got ${describeValue(meta.get(key))}`, file, key);
}

/** A string value; `fallback` when absent (if given). */
export function metaString(meta: Map<string, GGUFValue>, key: string, file?: string, fallback?: string): string {
  const v = meta.get(key);
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') missingOrWrong(meta, key, 'a string', file);
  return v;
}

/** A finite number (integers stored as u64/i64 must be safe); `fallback` when absent (if given). */
export function metaNumber(meta: Map<string, GGUFValue>, key: string, file?: string, fallback?: number): number {
  const v = meta.get(key);
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) missingOrWrong(meta, key, 'a finite number', file);
  return v;
}

/** An array value (typed array or list); `fallback` when absent (if given). */
export function metaArray(meta: Map<string, GGUFValue>, key: string, file?: string, fallback?: GGUFValue[]): GGUFValue[] | ArrayLike<number | bigint> {
  const v = meta.get(key);
  if (v === undefined && fallback !== undefined) return fallback;
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) missingOrWrong(meta, key, 'an array', file);
  return v as GGUFValue[] | ArrayLike<number | bigint>;
}
