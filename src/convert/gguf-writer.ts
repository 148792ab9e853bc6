// GGUF v3 writer: metadata, tensor infos, aligned tensor data, streamed through `out.write` in pieces
// (tensor bytes may come from a generator so that a multi-GB file never sits in memory).
import { InvalidArgumentError } from '../errors.js';
import { GGUFValueType, GGUF_MAGIC, GGUF_DEFAULT_ALIGNMENT, GGML_MAX_DIMS, type GGUFMetadataEntry } from '../formats/gguf.js';
import { tensorByteSize, ggmlTypeName } from '../formats/ggml-types.js';

export interface GGUFOutput { write(chunk: Uint8Array): Promise<void> | void }

export type TensorBytes = Uint8Array | (() => Iterable<Uint8Array> | AsyncIterable<Uint8Array>);

export interface GGUFTensorEntry {
  name: string;
  /** ne[0] first. */
  shape: number[];
  type: number;
  /** The bytes, or a function producing them in pieces (their total must match the shape and type). */
  data: TensorBytes;
}

export interface GGUFWriteSpec {
  metadata: GGUFMetadataEntry[];
  tensors: GGUFTensorEntry[];
  alignment?: number;
}

const FLUSH_AT = 1 << 20;
const enc = new TextEncoder();

/** Little-endian byte builder that hands full pieces to the output. */
class Sink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  written = 0;
  constructor(private readonly out: GGUFOutput) {}

  /** Reserve n bytes (growing the buffer) and return their offset; read this.view/this.buf only afterwards. */
  private room(n: number): number {
    if (this.len + n > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
      this.view = new DataView(b.buffer);
    }
    const at = this.len;
    this.len += n;
    this.written += n;
    return at;
  }
  u8(v: number) { const at = this.room(1); this.view.setUint8(at, v); }
  i8(v: number) { const at = this.room(1); this.view.setInt8(at, v); }
  u16(v: number) { const at = this.room(2); this.view.setUint16(at, v, true); }
  i16(v: number) { const at = this.room(2); this.view.setInt16(at, v, true); }
  u32(v: number) { const at = this.room(4); this.view.setUint32(at, v, true); }
  i32(v: number) { const at = this.room(4); this.view.setInt32(at, v, true); }
  f32(v: number) { const at = this.room(4); this.view.setFloat32(at, v, true); }
  f64(v: number) { const at = this.room(8); this.view.setFloat64(at, v, true); }
  u64(v: number | bigint) { const at = this.room(8); this.view.setBigUint64(at, BigInt(v), true); }
  i64(v: number | bigint) { const at = this.room(8); this.view.setBigInt64(at, BigInt(v), true); }
  bytes(b: Uint8Array) { const at = this.room(b.length); this.buf.set(b, at); }
  string(s: string) { const b = enc.encode(s); this.u64(b.length); this.bytes(b); }
  zeros(n: number) { const at = this.room(n); this.buf.fill(0, at, this.len); }

  async maybeFlush() { if (this.len >= FLUSH_AT) await this.flush(); }
  async flush() {
    if (this.len === 0) return;
    const piece = this.buf.slice(0, this.len);
    this.len = 0;
    await this.out.write(piece);
  }
  /** Bulk bytes bypass the builder. */
  async direct(b: Uint8Array) { await this.flush(); if (b.length) await this.out.write(b); this.written += b.length; }
}

function bad(key: string, msg: string): never { throw new InvalidArgumentError(`GGUF metadata ${key}: ${msg}`); }

function checkInt(key: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(key, `${String(v)} is not an integer in [${lo}, ${hi}]`);
  return v;
}

function checkBig(key: string, v: unknown, lo: bigint, hi: bigint): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else bad(key, `${String(v)} is not a 64-bit integer`);
  if (b < lo || b > hi) bad(key, `${b} is out of range`);
  return b;
}

function writeScalar(s: Sink, key: string, type: number, v: unknown): void {
  switch (type) {
    case GGUFValueType.UINT8: s.u8(checkInt(key, v, 0, 0xff)); return;
    case GGUFValueType.INT8: s.i8(checkInt(key, v, -0x80, 0x7f)); return;
    case GGUFValueType.UINT16: s.u16(checkInt(key, v, 0, 0xffff)); return;
    case GGUFValueType.INT16: s.i16(checkInt(key, v, -0x8000, 0x7fff)); return;
    case GGUFValueType.UINT32: s.u32(checkInt(key, v, 0, 0xffffffff)); return;
    case GGUFValueType.INT32: s.i32(checkInt(key, v, -0x80000000, 0x7fffffff)); return;
    case GGUFValueType.FLOAT32: if (typeof v !== 'number') bad(key, 'expected a number'); s.f32(v); return;
    case GGUFValueType.FLOAT64: if (typeof v !== 'number') bad(key, 'expected a number'); s.f64(v); return;
    case GGUFValueType.BOOL: if (typeof v !== 'boolean') bad(key, 'expected a boolean'); s.u8(v ? 1 : 0); return;
    case GGUFValueType.STRING: if (typeof v !== 'string') bad(key, 'expected a string'); s.string(v); return;
    case GGUFValueType.UINT64: s.u64(checkBig(key, v, 0n, 0xffffffffffffffffn)); return;
    case GGUFValueType.INT64: s.i64(checkBig(key, v, -(1n << 63n), (1n << 63n) - 1n)); return;
    default: bad(key, `unknown value type ${type}`);
  }
}

async function writeArray(s: Sink, key: string, itemType: GGUFValueType | undefined, value: unknown): Promise<void> {
  if (itemType === undefined) bad(key, 'an array needs itemType');
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) bad(key, 'expected an array value');
  const items = value as ArrayLike<unknown>;
  s.u32(itemType);
  s.u64(items.length);
  for (let i = 0; i < items.length; i++) {
    if (itemType === GGUFValueType.ARRAY) {
      const inner = items[i] as { itemType?: GGUFValueType; value?: unknown } | null;
      if (typeof inner !== 'object' || inner === null) bad(`${key}[${i}]`, 'nested arrays are given as { itemType, value }');
      await writeArray(s, `${key}[${i}]`, inner.itemType, inner.value);
    } else {
      writeScalar(s, `${key}[${i}]`, itemType, items[i]);
    }
    if ((i & 4095) === 4095) await s.maybeFlush();
  }
}

/** Write a GGUF v3 file: header, metadata, tensor infos, then each tensor's bytes at aligned offsets. */
export async function writeGGUF(out: GGUFOutput, spec: GGUFWriteSpec): Promise<void> {
  const alignment = spec.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new InvalidArgumentError(`alignment must be a power of two, got ${alignment}`);
  }
  const metadata = [...spec.metadata];
  const keys = new Set<string>();
  for (const m of metadata) {
    if (keys.has(m.key)) bad(m.key, 'duplicate key');
    keys.add(m.key);
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !keys.has('general.alignment')) {
    metadata.push({ key: 'general.alignment', type: GGUFValueType.UINT32, value: alignment });
  }
  const names = new Set<string>();
  let offset = 0;
  const layout = spec.tensors.map((t) => {
    if (names.has(t.name)) throw new InvalidArgumentError(`duplicate tensor name ${t.name}`);
    names.add(t.name);
    if (t.shape.length > GGML_MAX_DIMS) throw new InvalidArgumentError(`tensor ${t.name}: at most ${GGML_MAX_DIMS} dimensions`);
    const size = tensorByteSize(t.type, t.shape, undefined, `tensor ${t.name} shape`);
    if (t.data instanceof Uint8Array && t.data.length !== size) {
      throw new InvalidArgumentError(`tensor ${t.name}: ${t.data.length} bytes given, shape [${t.shape}] in ${ggmlTypeName(t.type)} needs ${size}`);
    }
    const at = offset;
    offset = align(at + size, alignment);
    return { t, size, at };
  });

  const s = new Sink(out);
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(spec.tensors.length);
  s.u64(metadata.length);
  for (const m of metadata) {
    s.string(m.key);
    s.u32(m.type);
    if (m.type === GGUFValueType.ARRAY) await writeArray(s, m.key, m.itemType, m.value);
    else writeScalar(s, m.key, m.type, m.value);
    await s.maybeFlush();
  }
  for (const { t, at } of layout) {
    s.string(t.name);
    s.u32(t.shape.length);
    for (const d of t.shape) s.u64(d);
    s.u32(t.type);
    s.u64(at);
  }
  if (layout.length > 0) s.zeros(align(s.written, alignment) - s.written);
  const base = s.written;
  for (const { t, size, at } of layout) {
    s.zeros(base + at - s.written);
    if (t.data instanceof Uint8Array) {
      await s.direct(t.data);
    } else {
      let got = 0;
      for await (const piece of t.data()) {
        got += piece.length;
        if (got > size) throw new InvalidArgumentError(`tensor ${t.name}: producer gave more than ${size} bytes`);
        await s.direct(piece);
      }
      if (got !== size) throw new InvalidArgumentError(`tensor ${t.name}: producer gave ${got} bytes, expected ${size}`);
    }
  }
  if (layout.length > 0) s.zeros(align(s.written, alignment) - s.written);
  await s.flush();
}

function align(x: number, a: number): number { return Math.ceil(x / a) * a; }
