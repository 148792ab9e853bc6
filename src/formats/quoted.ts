// How an error message quotes a bad value read from a file.

/** Quoting longer than this is cut: a message names a bad value, it does not reprint the file. */
const QUOTED_MAX = 80;

/**
 * A value read from a file as an error message quotes it: JSON, cut to a readable length; a value nested too
 * deep to print is described instead of overflowing the stack.
 */
export function quoted(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
  } catch {
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested value';
  }
  if (s === undefined) return String(v);
  return s.length > QUOTED_MAX ? `${s.slice(0, QUOTED_MAX - 1)}…` : s;
}
