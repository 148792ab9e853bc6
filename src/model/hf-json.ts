// Typed reads of a Hugging Face config.json; a bad value raises FormatError naming the field.
import { FormatError } from '../errors.js';
import { quoted } from '../formats/quoted.js';
import { checkedSize } from './config.js';

export type HFConfig = Readonly<Record<string, unknown>>;

/** j[key] as a finite number, or `fallback` when the key is absent. */
export function jsonNumber(j: HFConfig, key: string, file: string, fallback?: number): number {
  const v = j[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`field ${key} must be a number, got ${quoted(j[key])}`, file, key);
  return v;
}

/** j[key] as a size: an integer in [1, max] (`fallback` when absent), checked before anything is sized by it. */
export function jsonSize(j: HFConfig, key: string, file: string, max: number, fallback?: number): number {
  const absent = j[key] === undefined || j[key] === null;
  return checkedSize(absent ? fallback : j[key], max, file, key, absent && fallback !== undefined);
}

/** A soft-cap setting: null means none (0); absent means `fallback`. */
export function softcap(j: HFConfig, key: string, fallback: number, file: string): number {
  const v = key in j ? j[key] : fallback;
  if (v === null) return 0;
  if (typeof v !== 'number' || !(v >= 0)) throw new FormatError(`field ${key} must be null or a positive number, got ${quoted(v)}`, file, key);
  return v;
}
