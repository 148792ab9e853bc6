// Seeded random numbers: xoshiro128** (Blackman & Vigna), its 128-bit state filled from the seed by
// splitmix64. Only 32-bit integer arithmetic after seeding, so a seed gives the same stream everywhere.
import { InvalidArgumentError } from '../errors.js';

const MASK64 = (1n << 64n) - 1n;

/** splitmix64 step: returns [next state, output], both as 64-bit BigInts. */
function splitmix64(state: bigint): [bigint, bigint] {
  const s = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [s, z ^ (z >> 31n)];
}

export class Rng {
  private readonly s = new Uint32Array(4);

  /** `seed`: any safe integer (negative seeds are taken modulo 2^64). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`seed must be a safe integer, got ${seed}`);
    let state = BigInt.asUintN(64, BigInt(seed));
    for (let i = 0; i < 4; i += 2) {
      const [next, out] = splitmix64(state);
      state = next;
      this.s[i] = Number(out & 0xffffffffn);
      this.s[i + 1] = Number(out >> 32n);
    }
    // splitmix64 never yields four zero words in a row, but guard the one forbidden state anyway.
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seed for callers that gave none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
