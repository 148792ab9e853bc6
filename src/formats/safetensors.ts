// safetensors header: u64 LE header length N, N bytes of JSON { name: { dtype, shape, data_offsets: [begin, end] },
// "__metadata__": { str: str } }, then the data; offsets are relative to the byte after the header.
import { FormatError, UnsupportedError } from '../errors.js';
import { quoted } from './quoted.js';

/** Bytes per element of every safetensors dtype (so sizes can be checked even for unsupported ones). */
export const SAFETENSORS_DTYPE_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1,
};
export const SUPPORTED_SAFETENSORS_DTYPES: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16']);

/** safetensors refuses headers over 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  /** Outermost dimension first (PyTorch order). */
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  byteSize: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: SafetensorsTensor[];
  /** Absolute offset of the data section (8 + header length). */
  dataOffset: number;
}

/** Header length from the first 8 bytes, checked against the file size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (first8.length < 8 || fileSize < 8) throw new FormatError(`file is ${fileSize} bytes, too short for the 8-byte header length`, file, 'header length');
  const v = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (v < 2n || v > BigInt(MAX_SAFETENSORS_HEADER)) {
    throw new FormatError(`header length ${v} is not in [2, ${MAX_SAFETENSORS_HEADER}]`, file, 'header length');
  }
  const n = Number(v);
  if (8 + n > fileSize) throw new FormatError(`header length ${n} runs past the end of the file (${fileSize} bytes)`, file, 'header length');
  return n;
}

/**
 * Parse and check the JSON header: known dtype, integer shape, offsets inside the data section, size equal to
 * numel × dtype size, no two tensors overlapping. Dtypes other than F32/F16/BF16 raise UnsupportedError.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataOffset = 8 + json.length;
  const dataSize = fileSize - dataOffset;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw new FormatError(`header is not valid UTF-8 JSON: ${(e as Error).message}`, file, 'header');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FormatError('header is not a JSON object', file, 'header');
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  const ranges: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) throw new FormatError('__metadata__ must be an object of strings', file, '__metadata__');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new FormatError(`__metadata__.${k} must be a string`, file, '__metadata__');
        metadata[k] = v;
      }
      continue;
    }
    const fail = (what: string, field: string): never => { throw new FormatError(`tensor ${name}: ${what}`, file, `${name}.${field}`); };
    if (typeof entry !== 'object' || entry === null) fail('entry is not an object', 'entry');
    const e = entry as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_SIZE)) fail(`unknown dtype ${quoted(dtype)}`, 'dtype');
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail('shape must be a list of non-negative integers', 'shape');
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail('data_offsets must be [begin, end] with non-negative integers', 'data_offsets');
    }
    const [begin, end] = offs as number[];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] end before they begin`, 'data_offsets');
    if (end > dataSize) fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`, 'data_offsets');
    let numel = 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (!Number.isSafeInteger(numel)) fail(`element count of shape [${shape}] overflows`, 'shape');
    }
    const want = numel * SAFETENSORS_DTYPE_SIZE[dtype as string];
    if (end - begin !== want) {
      fail(`data_offsets span ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${want}`, 'data_offsets');
    }
    if (!SUPPORTED_SAFETENSORS_DTYPES.has(dtype as string)) {
      throw new UnsupportedError(`tensor ${name} has dtype ${dtype}; supported: ${[...SUPPORTED_SAFETENSORS_DTYPES].join(', ')}`, file);
    }
    tensors.push({ name, dtype: dtype as string, shape: [...(shape as number[])], offset: dataOffset + begin, byteSize: want });
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    const [pb, pe, pn] = ranges[i - 1];
    const [b, , n] = ranges[i];
    if (b < pe) throw new FormatError(`tensor ${n} at ${b} overlaps tensor ${pn} [${pb}, ${pe})`, file, `${n}.data_offsets`);
  }
  return { metadata, tensors, dataOffset };
}

/** A safetensors file image from raw tensor bytes (used to build fixtures; tensors laid out in the given order). */
export function encodeSafetensors(tensors: Array<{ name: string; dtype: string; shape: number[]; data: Uint8Array }>,
  metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // keep the data 8-byte aligned, padding with spaces
  if (padded !== json.length) { const j = new Uint8Array(padded).fill(0x20); j.set(json); json = j; }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const t of tensors) { out.set(t.data, o); o += t.data.length; }
  return out;
}
