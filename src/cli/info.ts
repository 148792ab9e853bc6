// `sparq info FILE`: a GGUF file's metadata, tensor table and the memory a load would need.
import { kvCacheSizesWith, type KVLayout } from '../kv/sizes.js';
import { ByteReader } from '../formats/source.js';
import { readGGUFHeader, type GGUFHeader, type GGUFValue } from '../formats/gguf.js';
import { ggmlTypeName } from '../formats/ggml-types.js';
import { openFileInput } from '../platform/node.js';
import { configFromGGUF } from '../model/from-gguf.js';
import { ggufWeightsLayout, selectGGUFWeights, weightsAlign } from '../engine/gguf-weights.js';
import { planModel } from '../model/plan.js';
import { planBytes } from '../kernels/memory-plan.js';
import { sizingKernels } from '../kernels/instantiate.js';
import type { KernelExports } from '../kernels/abi.js';
import { KVCache } from '../kv/cache.js';
import { readKernelModule } from '../platform/wasm-node.js';

/** Context the memory estimate assumes when none is given: the loader's default (trained context, capped). */
const DEFAULT_CONTEXT_CAP = 4096;
/** Values of an array shown before the "...". */
const ARRAY_PREVIEW = 4;

export async function runInfo(file: string, flags: { context?: number }): Promise<number> {
  const { input, size } = await openFileInput(file);
  const reader = new ByteReader(input, file, size);
  let header: GGUFHeader;
  try {
    header = await readGGUFHeader(reader);
  } finally {
    await reader.close();
  }
  const out: string[] = [];
  out.push(`${file}: GGUF v${header.version}, ${size} bytes, ${header.metadata.size} metadata keys, ${header.tensors.length} tensors`);
  out.push('', 'model:', ...table(summary(header).map(([k, v]) => [`  ${k}`, v])));
  out.push('', 'metadata:', ...table([...header.metadata].map(([k, v]) => [`  ${k}`, formatValue(v)])));
  out.push('', 'tensors:', ...tensorTable(header));
  out.push('', ...memoryEstimate(await sizingKernels(await readKernelModule()), header, file, flags.context));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

/** The general fields, read from the metadata as the file states them ('-' when absent). */
function summary(h: GGUFHeader): [string, string][] {
  const m = h.metadata;
  const arch = typeof m.get('general.architecture') === 'string' ? (m.get('general.architecture') as string) : undefined;
  const num = (key: string): number | undefined => {
    const v = m.get(key);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  };
  const a = (key: string) => (arch === undefined ? undefined : num(`${arch}.${key}`));
  const heads = a('attention.head_count');
  const embd = a('embedding_length');
  const tokens = m.get('tokenizer.ggml.tokens');
  const headDim = a('attention.key_length') ?? (heads && embd ? embd / heads : undefined);
  const vocab = a('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : undefined);
  const fileType = num('general.file_type');
  const show = (v: unknown) => (v === undefined ? '-' : String(v));
  return [
    ['architecture', show(arch)],
    ['name', show(m.get('general.name'))],
    ['context length', show(a('context_length'))],
    ['embedding size', show(embd)],
    ['layers', show(a('block_count'))],
    ['heads', show(heads)],
    ['KV heads', show(a('attention.head_count_kv') ?? heads)],
    ['head dim', show(headDim)],
    ['vocab', show(vocab)],
    ['file type', fileType === undefined ? '-' : `${FILE_TYPES[fileType] ?? 'unknown'} (${fileType})`],
  ];
}

/** general.file_type values (llama.cpp's llama_ftype) of the common files. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 32: 'BF16',
};

/** A metadata value on one line: arrays as "[N items] first values, ...", long strings cut. */
export function formatValue(v: GGUFValue): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v !== 'object') return String(v);
  const items = Array.from(v as ArrayLike<GGUFValue>);
  const head = items.slice(0, ARRAY_PREVIEW).map(formatValue).join(', ');
  return `[${items.length} items]${items.length ? ' ' + head : ''}${items.length > ARRAY_PREVIEW ? ', ...' : ''}`;
}

function tensorTable(h: GGUFHeader): string[] {
  const rows: string[][] = [['  name', 'type', 'shape', 'bytes']];
  const byType = new Map<string, { n: number; bytes: number }>();
  let total = 0;
  for (const t of h.tensors) {
    const type = ggmlTypeName(t.type);
    rows.push([`  ${t.name}`, type, t.shape.join(' x '), String(t.byteSize)]);
    const s = byType.get(type) ?? { n: 0, bytes: 0 };
    s.n++;
    s.bytes += t.byteSize;
    byType.set(type, s);
    total += t.byteSize;
  }
  const types = [...byType].map(([type, s]) => `${type}: ${s.n} (${mib(s.bytes)})`).join(', ');
  return [...table(rows, [3]), `total: ${h.tensors.length} tensors, ${total} bytes (${mib(total)}); ${types}`];
}

/**
 * The memory plan of a one-thread load (weights, KV cache, everything else), for the dense (f32 K/V) and SparQ
 * (q8 K/V + transposed K) layouts, and the KV cache's bytes per position for every type and layout.
 */
function memoryEstimate(k: KernelExports, h: GGUFHeader, file: string, context: number | undefined): string[] {
  let c, selection, layout;
  try {
    c = configFromGGUF(h, file);
    selection = selectGGUFWeights(h, c, file);
    layout = ggufWeightsLayout(h, c, selection);
  } catch (e) {
    return [`memory estimate: not available (${(e as Error).message})`];
  }
  const ctx = context ?? Math.min(c.trainedContext, DEFAULT_CONTEXT_CAP);
  const ignored = selection.ignored.length === 0 ? [] : [
    `ignored by a load (the model reads none of them): ${count(selection.ignored.length, 'tensor')}, ${mib(selection.ignored.reduce((a, t) => a + t.byteSize, 0))}: ` +
      selection.ignored.map((t) => t.name).join(', '), ''];
  const lines = [...ignored, `memory estimate (context ${ctx}, one thread):`];
  const rows: string[][] = [['  weights (the common quantised types interleaved)', mib(layout.bytes)]];
  const weights = { owner: 'weights', buffers: { data: layout.bytes }, align: weightsAlign(h) };
  for (const [label, kv] of [
    ['dense', { kType: 'f32', vType: 'f32', sparqLayout: false }],
    ['sparq', { kType: 'q8', vType: 'q8', sparqLayout: true }],
  ] as const) {
    const plan = planModel(k, c, weights, { ...kv, contextLength: ctx, limit: Infinity, threads: 1, loadScratch: 2 * layout.slice }, file);
    const perToken = KVCache.bytesPerToken(k, { nLayers: c.nLayers, nKVHeads: c.nKVHeads, headDim: c.headDim, ...kv });
    const kvBytes = planBytes(plan.groups.filter((g) => /^kv\d+$/.test(g.owner)));
    rows.push([`  KV cache, ${label}`, `${perToken} bytes/token x ${ctx} = ${mib(kvBytes)}`]);
    rows.push([`  other buffers, ${label}`, mib(plan.peakBytes - layout.bytes - kvBytes)]);
    rows.push([`  total, ${label}`, mib(plan.peakBytes)]);
  }
  const sizes = kvCacheSizesWith(k, c);
  const kvRows = [['  K', 'V', ...LAYOUTS.map((l) => `${l} bytes/token (x dense q8)`)]];
  for (const s of sizes.filter((x) => x.layout === 'dense')) {
    kvRows.push([`  ${s.kType}`, s.vType, ...LAYOUTS.map((l) => {
      const m = sizes.find((x) => x.kType === s.kType && x.vType === s.vType && x.layout === l)!;
      return `${m.bytesPerToken} (${m.vsDenseQ8.toFixed(2)})`;
    })]);
  }
  return [...lines, ...table(rows), '', 'KV cache per position, every type and layout:', ...table(kvRows, [2, 3, 4])];
}

const LAYOUTS: KVLayout[] = ['dense', 'sparq', 'sparq, 4-bit K^T'];

/** Rows padded into columns; columns listed in `right` are right-aligned. */
function table(rows: string[][], right: number[] = []): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((r) => r.map((cell, i) => {
    if (i === r.length - 1 && !right.includes(i)) return cell;
    return right.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
  }).join('  '));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1)} MiB`;
}
