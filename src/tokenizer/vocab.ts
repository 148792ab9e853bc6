// Checked reading of tokenizer metadata values: each failure names the file and the field.
import { FormatError } from '../errors.js';

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
  const ok = ArrayBuffer.isView(v) && !(v instanceof DataView) && typeof (v as unknown as ArrayLike<number>).length === 'number'
    || Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (!ok) throw new FormatError(`expected a numeric array`, file, field);
  return v as ArrayLike<number>;
}

/** A token id field: absent -> null; otherwise an integer in 0..n-1. */
export function optionalId(v: unknown, n: number, file: string | undefined, field: string): number | null {
  if (v === undefined || v === null) return null;
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= n) {
    throw new FormatError(`token id ${String(v)} is not in the vocabulary (0..${n - 1})`, file, field);
  }
  return x;
}

export function optionalBool(v: unknown, file: string | undefined, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new FormatError(`expected a boolean, got ${typeof v}`, file, field);
  return v;
}
