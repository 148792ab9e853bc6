// GGUF (F32/F16/BF16 weights) -> quantised GGUF, tensor by tensor, so memory stays near one tensor's size.
// The metadata is copied with its stored value types (scanned from the header bytes), general.file_type
// and general.quantization_version are set, and the output is written atomically (temp file + rename).
import { ByteReader } from '../formats/source.js';
import { readGGUFHeader, GGUFValueType as T, type GGUFHeader, type GGUFMetadataEntry } from '../formats/gguf.js';
import { GGMLType, ggmlTypeName, tensorByteSize } from '../formats/ggml-types.js';
import type { GGUFTensorEntry } from './gguf-writer.js';
import { toF32, f32ToF16Array } from '../formats/half-floats.js';
import { quantizeRows } from './quantize.js';
import { planTypes, FILE_TYPES, type FileTypeName } from './quant-mix.js';
import { readFileRange } from '../formats/file-range.js';
import { openFileInput } from '../platform/node.js';
import { writeGGUFFile } from './gguf-file.js';
import { FormatError, UnsupportedError } from '../errors.js';

export interface QuantizeOptions {
  /** Every 2-D weight in the base type (no Q6_K output, no mixture). */
  pure?: boolean;
  /** Called as each tensor is written. */
  onTensor?: (name: string, from: number, to: number, index: number, count: number) => void;
}

/** Value type (and array item type) of every metadata key, in file order, read from the raw header. */
async function metadataTypes(path: string, header: GGUFHeader): Promise<{ key: string; type: number; itemType?: number }[]> {
  const raw = new Uint8Array(header.dataOffset);
  await readFileRange(path, 0, raw);
  const v = new DataView(raw.buffer);
  let p = 24; // magic, version, tensor count, metadata count
  const size: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const str = () => { const n = Number(v.getBigUint64(p, true)); const s = new TextDecoder().decode(raw.subarray(p + 8, p + 8 + n)); p += 8 + n; return s; };
  const skip = (type: number) => { if (type === T.STRING) p += 8 + Number(v.getBigUint64(p, true)); else p += size[type]; };
  const out: { key: string; type: number; itemType?: number }[] = [];
  for (let i = 0; i < header.metadata.size; i++) {
    const key = str();
    const type = v.getUint32(p, true); p += 4;
    if (type === T.ARRAY) {
      const itemType = v.getUint32(p, true), count = Number(v.getBigUint64(p + 4, true)); p += 12;
      if (itemType === T.ARRAY) throw new UnsupportedError(`metadata ${key}: nested arrays are not copied`, path);
      if (itemType === T.STRING) for (let j = 0; j < count; j++) skip(T.STRING); else p += count * size[itemType];
      out.push({ key, type, itemType });
    } else {
      skip(type);
      out.push({ key, type });
    }
  }
  return out;
}

/** Quantise the GGUF at `input` to `output` as file type `ftype` (see quant-mix.ts for the per-tensor rule). */
export async function quantizeGGUF(input: string, output: string, ftype: FileTypeName, opts: QuantizeOptions = {}): Promise<void> {
  const { input: src, size } = await openFileInput(input);
  const reader = new ByteReader(src, input, size);
  let header: GGUFHeader;
  try { header = await readGGUFHeader(reader); } finally { await reader.close(); }
  const meta = header.metadata;
  const arch = String(meta.get('general.architecture') ?? 'llama');
  const num = (k: string) => { const x = meta.get(`${arch}.${k}`); return typeof x === 'number' ? x : undefined; };
  const types = planTypes(header.tensors, ftype, { pure: opts.pure, nHead: num('attention.head_count'), nHeadKV: num('attention.head_count_kv') });

  const replaced = new Set(['general.file_type', 'general.quantization_version', 'general.alignment']);
  const metadata: GGUFMetadataEntry[] = (await metadataTypes(input, header))
    .filter((m) => !replaced.has(m.key))
    .map((m) => ({ key: m.key, type: m.type as T, itemType: m.itemType as T | undefined, value: meta.get(m.key) }));
  metadata.push({ key: 'general.quantization_version', type: T.UINT32, value: 2 });
  metadata.push({ key: 'general.file_type', type: T.UINT32, value: FILE_TYPES[ftype] });

  const count = header.tensors.length;
  const tensors: GGUFTensorEntry[] = header.tensors.map((t, index) => {
    const to = types[index];
    const from = t.type;
    if (from !== GGMLType.F32 && from !== GGMLType.F16 && from !== GGMLType.BF16) {
      throw new UnsupportedError(`tensor ${t.name} is ${ggmlTypeName(from)}; quantize reads F32, F16 or BF16 weights`, input);
    }
    const rowLen = t.shape[0], rows = t.shape.slice(1).reduce((a, b) => a * b, 1);
    tensorByteSize(to, t.shape, input, `tensor ${t.name} shape`); // the target must tile the rows
    const data = async function* (): AsyncGenerator<Uint8Array> {
      opts.onTensor?.(t.name, from, to, index, count);
      const inRow = t.byteSize / rows;
      const step = Math.max(1, Math.floor((16 << 20) / Math.max(1, inRow)));
      for (let r = 0; r < rows; r += step) {
        const n = Math.min(step, rows - r);
        const raw = new Uint8Array(n * inRow);
        await readFileRange(input, header.dataOffset + t.offset + r * inRow, raw);
        const f = toF32(raw, from);
        if (to === GGMLType.F32) yield new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
        else if (to === GGMLType.F16) yield new Uint8Array(f32ToF16Array(f).buffer);
        else yield quantizeRows(to, f, n, rowLen);
      }
    };
    return { name: t.name, shape: t.shape, type: to, data };
  });
  if (count === 0) throw new FormatError('no tensors to quantise', input);
  await writeGGUFFile(output, { metadata, tensors, alignment: header.alignment });
}
