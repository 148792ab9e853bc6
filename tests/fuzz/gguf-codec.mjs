// A permissive GGUF codec for the fuzzer: decodes a valid file into plain values, and encodes any such value
// back (wrong counts, unknown type ids, values that do not fit their type), recording where every numeric
// field and structural boundary lies so that mutations can overwrite a field or cut the file at a boundary.
// Value types (GGUF): 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64,
// 11 i64, 12 f64. Scalars are numbers (64-bit ones bigints), strings are strings, arrays are
// { itemType, items }; a bool is kept as its byte.

export const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 };
export const MAGIC = 0x46554747;

/** Bytes and field kind of each scalar type. */
export const SCALAR = {
  0: ['u8', 1], 1: ['i8', 1], 2: ['u16', 2], 3: ['i16', 2], 4: ['u32', 4], 5: ['i32', 4], 6: ['f32', 4], 7: ['u8', 1],
  10: ['u64', 8], 11: ['i64', 8], 12: ['f64', 8],
};

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The file as { version, kvs: [{ key, type, value }], tensors: [{ name, dims, type, offset }], data }. */
export function decodeGGUF(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const u32 = () => { const x = v.getUint32(p, true); p += 4; return x; };
  const u64 = () => { const x = Number(v.getBigUint64(p, true)); p += 8; return x; };
  const str = () => { const n = u64(); const s = fromUtf8.decode(bytes.subarray(p, p + n)); p += n; return s; };
  const value = (t) => {
    if (t === T.STRING) return str();
    if (t === T.ARRAY) {
      const itemType = u32();
      const n = u64();
      const items = new Array(n);
      for (let i = 0; i < n; i++) items[i] = value(itemType);
      return { itemType, items };
    }
    const [kind, size] = SCALAR[t];
    const x = read(v, p, kind);
    p += size;
    return x;
  };
  if (u32() !== MAGIC) throw new Error('seed is not a GGUF file');
  const version = u32();
  const nTensors = u64();
  const nKV = u64();
  const kvs = [];
  for (let i = 0; i < nKV; i++) {
    const key = str();
    const type = u32();
    kvs.push({ key, type, value: value(type) });
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const dims = Array.from({ length: u32() }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const start = nTensors > 0 ? alignUp(p, alignmentOf(kvs)) : p;
  return { version, kvs, tensors, data: bytes.slice(start) };
}

/** The data alignment a reader derives from the metadata (general.alignment when it is a valid u32). */
export function alignmentOf(kvs) {
  const a = kvs.find((kv) => kv.key === 'general.alignment');
  const x = a && typeof a.value === 'number' ? a.value : 32;
  return Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0 && x <= 2 ** 30 ? x : 32;
}

function alignUp(x, a) { return Math.ceil(x / a) * a; }

/** The value of a field of `kind` at p. */
export function read(v, p, kind) {
  switch (kind) {
    case 'u8': return v.getUint8(p);
    case 'i8': return v.getInt8(p);
    case 'u16': return v.getUint16(p, true);
    case 'i16': return v.getInt16(p, true);
    case 'u32': return v.getUint32(p, true);
    case 'i32': return v.getInt32(p, true);
    case 'f32': return v.getFloat32(p, true);
    case 'f64': return v.getFloat64(p, true);
    case 'u64': return v.getBigUint64(p, true);
    default: return v.getBigInt64(p, true);
  }
}

/** Writes `x` as `kind` at p (numbers wrap or truncate as DataView does; 64-bit kinds take a bigint or a number). */
export function write(v, p, kind, x) {
  switch (kind) {
    case 'u8': v.setUint8(p, Number(x)); return;
    case 'i8': v.setInt8(p, Number(x)); return;
    case 'u16': v.setUint16(p, Number(x), true); return;
    case 'i16': v.setInt16(p, Number(x), true); return;
    case 'u32': v.setUint32(p, Number(x), true); return;
    case 'i32': v.setInt32(p, Number(x), true); return;
    case 'f32': v.setFloat32(p, Number(x), true); return;
    case 'f64': v.setFloat64(p, Number(x), true); return;
    case 'u64': v.setBigUint64(p, BigInt.asUintN(64, toBig(x)), true); return;
    default: v.setBigInt64(p, BigInt.asIntN(64, toBig(x)), true);
  }
}

function toBig(x) {
  if (typeof x === 'bigint') return x;
  return Number.isFinite(x) ? BigInt(Math.trunc(x)) : 0n;
}

export const KIND_SIZE = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8, u64: 8, i64: 8 };

/** Array items whose fields are recorded: the first few and the last (a vocabulary has 10^4 of them). */
const RECORDED_ITEMS = 4;

/**
 * Bytes of `g` (as decodeGGUF gives it; `tensorCount`/`kvCount`/`magic` override the real counts), with
 * `fields` ({ at, kind, label } of every numeric field) and `boundaries` (offsets where a structure ends).
 */
export function encodeGGUF(g) {
  const w = new Writer();
  const fields = [];
  const boundaries = [];
  const field = (label, kind, x) => { fields.push({ at: w.length, kind, label }); w.num(kind, x); };
  const value = (t, x, label) => {
    if (t === T.STRING) {
      const b = utf8.encode(String(x));
      field(`${label} (string length)`, 'u64', b.length);
      w.bytes(b);
    } else if (t === T.ARRAY) {
      field(`${label} (item type)`, 'u32', x.itemType);
      field(`${label} (array length)`, 'u64', x.items.length);
      const n = x.items.length;
      for (let i = 0; i < n; i++) {
        if (i < RECORDED_ITEMS || i === n - 1) value(x.itemType, x.items[i], `${label}[${i}]`);
        else silentValue(w, x.itemType, x.items[i]);
      }
    } else if (SCALAR[t]) {
      field(label, SCALAR[t][0], x);
    }
    // an unknown type id has no value bytes: the reader must refuse the id itself
  };
  field('magic', 'u32', g.magic ?? MAGIC);
  field('version', 'u32', g.version);
  field('tensor_count', 'u64', g.tensorCount ?? g.tensors.length);
  field('metadata_kv_count', 'u64', g.kvCount ?? g.kvs.length);
  boundaries.push(w.length);
  for (const kv of g.kvs) {
    value(T.STRING, kv.key, `key ${kv.key}`);
    boundaries.push(w.length);
    field(`${kv.key} (value type)`, 'u32', kv.type);
    value(kv.type, kv.value, kv.key);
    boundaries.push(w.length);
  }
  for (const t of g.tensors) {
    value(T.STRING, t.name, `tensor ${t.name} name`);
    field(`tensor ${t.name} n_dims`, 'u32', t.nDims ?? t.dims.length);
    t.dims.forEach((d, i) => field(`tensor ${t.name} ne[${i}]`, 'u64', d));
    field(`tensor ${t.name} type`, 'u32', t.type);
    field(`tensor ${t.name} offset`, 'u64', t.offset);
    boundaries.push(w.length);
  }
  if (g.tensors.length > 0) w.bytes(new Uint8Array(alignUp(w.length, alignmentOf(g.kvs)) - w.length));
  const dataStart = w.length;
  boundaries.push(dataStart);
  for (const t of g.tensors) if (typeof t.offset === 'number' && t.offset > 0 && t.offset < g.data.length) boundaries.push(dataStart + t.offset);
  w.bytes(g.data);
  boundaries.push(w.length);
  return { bytes: w.result(), fields, boundaries };
}

function silentValue(w, t, x) {
  if (t === T.STRING) { const b = utf8.encode(String(x)); w.num('u64', b.length); w.bytes(b); return; }
  if (t === T.ARRAY) {
    w.num('u32', x.itemType);
    w.num('u64', x.items.length);
    for (const item of x.items) silentValue(w, x.itemType, item);
    return;
  }
  if (SCALAR[t]) w.num(SCALAR[t][0], x);
}

/** A growing little-endian byte buffer. */
class Writer {
  constructor() { this.buf = new Uint8Array(1 << 16); this.view = new DataView(this.buf.buffer); this.length = 0; }
  room(n) {
    if (this.length + n > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      b.set(this.buf.subarray(0, this.length));
      this.buf = b;
      this.view = new DataView(b.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  num(kind, x) { const at = this.room(KIND_SIZE[kind]); write(this.view, at, kind, x); }
  bytes(b) { const at = this.room(b.length); this.buf.set(b, at); }
  result() { return this.buf.slice(0, this.length); }
}
