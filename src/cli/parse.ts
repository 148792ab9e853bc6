// Parsers for command-line option values: each returns the value or throws commander's
// InvalidArgumentError, which commander reports as "error: option '...' argument '...' is invalid. <why>".
import { InvalidArgumentError } from 'commander';

export function integer(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

export function number(check: (n: number) => boolean, expected: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${expected}`);
    return n;
  };
}

/** A ratio in (0, 1] written as a fraction ('1/8') or a decimal ('0.125'). */
export function ratio(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  const n = m ? Number(m[1]) / Number(m[2]) : v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError("expected a ratio in (0, 1] such as '1/8' or '0.125'");
  return n;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** A byte count: an integer with an optional binary unit, as 1073741824, 512M, 1.5G or 64KiB. */
export function byteSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(v);
  const n = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a size in bytes such as 1073741824, 512M or 2G');
  return n;
}

/** A comma-separated list of ratios ('1/2,1/4,0.125'). */
export function ratioList(v: string): number[] {
  return v.split(',').map((x) => ratio(x));
}

/** Repeatable string option: each use adds one value; \n, \t, \r and \\ are unescaped. */
export function collectEscaped(v: string, previous: string[] = []): string[] {
  const s = v.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
  if (s === '') throw new InvalidArgumentError('expected a non-empty string');
  return [...previous, s];
}
