// The values mutations put into fields: edges of every integer width, sizes that would make a loader build
// huge arrays, negative and fractional sizes, and the float specials.

const INTS = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 4095, 4096,
  65535, 65536, 2 ** 24, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const BIGS = [2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const NEGATIVE = [-1, -2, -8, -(2 ** 31)];
const FLOATS = [0, -0, 0.5, 1.5, 8.5, -1, 1e-45, 1e-30, 3.4e38, 1e300, Infinity, -Infinity, NaN];

/** A value for a field of `kind` (u8..i64, f32, f64) that held `orig`. */
export function interesting(rng, kind, orig) {
  const near = typeof orig === 'number' && Number.isFinite(orig) ? [orig - 1, orig + 1, orig * 2, Math.floor(orig / 2), orig * 1e6]
    : typeof orig === 'bigint' ? [orig - 1n, orig + 1n, orig * 2n] : [];
  if (kind === 'f32' || kind === 'f64') return rng.pick([...FLOATS, ...INTS, ...near.map(Number)]);
  if (kind === 'u64' || kind === 'i64') return rng.pick([...INTS, ...BIGS, ...NEGATIVE, ...near, rng.int(2 ** 32)]);
  return rng.pick([...INTS, ...NEGATIVE, ...near.map(Number), rng.int(2 ** 32)]);
}

/** A number a JSON config or tokenizer file could hold in place of `orig`. */
export function interestingJsonNumber(rng, orig) {
  const near = typeof orig === 'number' ? [orig - 1, orig + 1, orig * 2, -orig, orig + 0.5] : [];
  return rng.pick([...INTS, ...NEGATIVE, ...near, 1.5, 0.5, -0.5, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300, 1e-300,
    Number.MAX_SAFE_INTEGER, 1e9, 2 ** 28]);
}

/** A string to put where a loader expects another string (a token, a name, a type). */
export function interestingString(rng, orig) {
  return rng.pick(['', ' ', 'x', '\u0000', '\u2581', '<0xZZ>', '<0x41>', '\uFFFD', '\uD800', 'a b', 'a '.repeat(2000),
    '🦙'.repeat(50), '12', '-1', 'NaN', 'null', 'BPE', 'Sequence', 'llama', 'gpt2', 'Q4_K', `${orig}${orig}`, String(orig).slice(1)]);
}
