// Checked reading of tokenizer metadata values: each failure names the file and the field.
import { FormatError } from '../errors.js';
import { quoted } from '../formats/quoted.js';

/** The largest token id a file may use: far above real vocabularies (a few 10^5), so id-sized arrays stay small. */
export const MAX_TOKEN_ID = (1 << 22) - 1;

export function isTokenId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TOKEN_ID;
}

export function tokenIndex(tokens: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  // the first id wins when a text repeats (llama.cpp keeps the last; real vocabularies have no repeats)
  for (let i = 0; i < tokens.length; i++) if (!m.has(tokens[i])) m.set(tokens[i], i);
  return m;
}

export function requireStringArray(v: unknown, file: string | undefined, field: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new FormatError(`expected an array of strings`, file, field);
  }
  return v as string[];
}

export function numberArray(v: unknown, file: string | undefined, field: string): ArrayLike<number> {
  const ok = ArrayBuffer.isView(v) && !(v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array)
    || Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (!ok) throw new FormatError(`expected a numeric array`, file, field);
  return v as ArrayLike<number>;
}

/** A token id field: absent -> null; otherwise an integer in 0..n-1. */
export function optionalId(v: unknown, n: number, file: string | undefined, field: string): number | null {
  if (v === undefined || v === null) return null;
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number') throw new FormatError(`a token id must be an integer, got ${typeof v === 'string' ? `the string ${quoted(v)}` : typeof v}`, file, field);
  if (!Number.isInteger(x) || x < 0 || x >= n) {
    throw new FormatError(`token id ${quoted(v)} is not in the vocabulary (0..${n - 1})`, file, field);
  }
  return x;
}

export function optionalBool(v: unknown, file: string | undefined, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new FormatError(`expected a boolean, got ${typeof v}`, file, field);
  return v;
}
