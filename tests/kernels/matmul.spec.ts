// matvec_* / matmul_* against plain scalar references: f64 sums of the weights as the reference decoding
// (dequant_row_*, checked in dequant.spec.ts) gives them.
import { matvec_f32, matmul_f32 } from '../../assembly/matmul_f32';
import { matvec_f16, matmul_f16 } from '../../assembly/matmul_f16';
import { matvec_bf16, matmul_bf16 } from '../../assembly/matmul_bf16';
import { matvec_q8_0, matmul_q8_0 } from '../../assembly/matmul_q8_0';
import { dequant_row_f16, dequant_row_bf16, dequant_row_q8_0 } from '../../assembly/dequant';
import { F32, F16, BF16 } from '../../assembly/types';
import { Q8_0_BLOCK_BYTES, Q8_0_D, Q8_0_QS } from '../../assembly/blocks_legacy';
import { Q8A_BLOCK_BYTES, Q8A_D, Q8A_QS } from '../../assembly/blocks_act';

// Fixed-seed LCG.
let seed: u32 = 2463534242;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed; }
/** Uniform in [-1, 1). */
function unit(): f32 { return <f32>(<i32>(nextU32() >> 8) - (1 << 23)) / <f32>(1 << 23); }
function randI8(): i32 { return <i32>(nextU32() >> 24) - 128; }

function pow2(e: i32): f64 { return reinterpret<f64>(<u64>(e + 1023) << 52); }
/** A random finite half: any sign, exponents 0..30 (subnormals included). */
function randHalf(): u16 {
  const h = nextU32() >> 16;
  return <u16>(((h >> 10) & 31) == 31 ? h & 0xbfff : h);
}

function elemBytes(kind: i32): i32 { return kind == F32 ? 4 : 2; }
/** The count weights at w as f32 at dst, by the reference decoding. */
function decodeWeights(w: usize, count: i32, kind: i32, dst: usize): void {
  if (kind == F32) memory.copy(dst, w, <usize>count << 2);
  else if (kind == F16) dequant_row_f16(w, dst, count);
  else dequant_row_bf16(w, dst, count);
}
function fillWeights(w: usize, count: i32, kind: i32): void {
  for (let i = 0; i < count; i++) {
    if (kind == F32) store<f32>(w + (<usize>i << 2), unit());
    else if (kind == F16) store<u16>(w + (<usize>i << 1), randHalf());
    else store<u16>(w + (<usize>i << 1), <u16>(reinterpret<u32>(unit() * 8) >> 16));
  }
}
let xScale: f32 = 1;
function fillX(x: usize, count: i32): void { for (let i = 0; i < count; i++) store<f32>(x + (<usize>i << 2), unit() * xScale); }

const SENTINEL: f32 = 12345.5;

/**
 * Runs matmul (n >= 1, ldy = rows + 3) or matvec (n == 0: one token, ldy = rows) and returns the number
 * of outputs off the f64 reference by more than 1e-5 * sum|w*x| (f32 accumulation in a different order),
 * plus any padding slot (r >= rows) that was written.
 */
function checkFloat(kind: i32, rows: i32, cols: i32, n: i32): i32 {
  const tokens = n == 0 ? 1 : n;
  const ldy = n == 0 ? rows : rows + 3;
  const w = heap.alloc(<usize>(rows * cols * elemBytes(kind)));
  const x = heap.alloc(<usize>(tokens * cols * 4));
  const y = heap.alloc(<usize>(tokens * ldy * 4));
  const wf = heap.alloc(<usize>(rows * cols * 4));
  fillWeights(w, rows * cols, kind);
  decodeWeights(w, rows * cols, kind, wf);
  fillX(x, tokens * cols);
  for (let i = 0; i < tokens * ldy; i++) store<f32>(y + (<usize>i << 2), SENTINEL);
  if (n == 0) {
    if (kind == F32) matvec_f32(w, x, y, rows, cols);
    else if (kind == F16) matvec_f16(w, x, y, rows, cols);
    else matvec_bf16(w, x, y, rows, cols);
  } else {
    if (kind == F32) matmul_f32(w, x, y, rows, cols, n, ldy);
    else if (kind == F16) matmul_f16(w, x, y, rows, cols, n, ldy);
    else matmul_bf16(w, x, y, rows, cols, n, ldy);
  }
  let bad = 0;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < ldy; r++) {
      const got = load<f32>(y + (<usize>(t * ldy + r) << 2));
      if (r >= rows) { if (got != SENTINEL) bad++; continue; }
      let ref = 0.0, mag = 0.0;
      for (let c = 0; c < cols; c++) {
        const p = <f64>load<f32>(wf + (<usize>(r * cols + c) << 2)) * <f64>load<f32>(x + (<usize>(t * cols + c) << 2));
        ref += p; mag += Math.abs(p);
      }
      if (!(Math.abs(<f64>got - ref) <= 1e-5 * mag + 1e-30)) bad++;
    }
  }
  heap.free(w); heap.free(x); heap.free(y); heap.free(wf);
  return bad;
}

const ROWS: i32[] = [1, 3, 7, 33];
const FLOAT_COLS: i32[] = [1, 5, 31, 32, 33, 77];
const TOKENS: i32[] = [1, 2, 3, 5, 8];

function floatMatvecCases(kind: i32): void {
  for (let i = 0; i < ROWS.length; i++) for (let j = 0; j < FLOAT_COLS.length; j++) {
    expect(checkFloat(kind, ROWS[i], FLOAT_COLS[j], 0)).toBe(0, 'rows=' + ROWS[i].toString() + ' cols=' + FLOAT_COLS[j].toString());
  }
}
function floatMatmulCases(kind: i32): void {
  for (let i = 0; i < ROWS.length; i++) for (let j = 0; j < FLOAT_COLS.length; j++) for (let k = 0; k < TOKENS.length; k++) {
    expect(checkFloat(kind, ROWS[i], FLOAT_COLS[j], TOKENS[k])).toBe(0,
      'rows=' + ROWS[i].toString() + ' cols=' + FLOAT_COLS[j].toString() + ' n=' + TOKENS[k].toString());
  }
}

describe('float matvec (within 1e-5 of sum|w*x| of the f64 reference)', () => {
  it('matvec_f32', () => { floatMatvecCases(F32); });
  it('matvec_f16', () => { floatMatvecCases(F16); });
  it('matvec_bf16', () => { floatMatvecCases(BF16); });
  it('matvec_f16 with |x| up to 1e5 (x too large to carry the 2^112 rescale)', () => {
    xScale = 1e5;
    floatMatvecCases(F16);
    xScale = 1;
  });
});

describe('float matmul (same tolerance; ldy padding left alone)', () => {
  it('matmul_f32', () => { floatMatmulCases(F32); });
  it('matmul_f16', () => { floatMatmulCases(F16); });
  it('matmul_bf16', () => { floatMatmulCases(BF16); });
});

// ---- Q8_0 ----

const QMODE_RANDOM: i32 = 0; // random scales and int8 values
const QMODE_POW2: i32 = 1; // power-of-two scales: every f32 step is exact, so the result must be bit-exact
const QMODE_EXTREME: i32 = 2; // -128/127 values, all-zero blocks, zero scales

/** Writes rows of Q8_0 blocks at w and tokens of Q8A blocks at x. */
function fillQ8(w: usize, x: usize, rows: i32, tokens: i32, blocks: i32, mode: i32): void {
  for (let r = 0; r < rows; r++) {
    const rowExp = <i32>(nextU32() >> 29); // per-row scale 2^-(5 + rowExp) in POW2 mode
    for (let b = 0; b < blocks; b++) {
      const p = w + <usize>(r * blocks + b) * Q8_0_BLOCK_BYTES;
      let d: u16;
      if (mode == QMODE_POW2) d = <u16>((15 - 5 - rowExp) << 10);
      else if (mode == QMODE_RANDOM) d = <u16>(((nextU32() >> 27) % 20 + 1) << 10 | (nextU32() >> 22)) | <u16>(nextU32() & 0x8000);
      else d = (b % 3 == 2) ? 0 : 0x1c00; // 2^-8, and some zero scales
      store<u16>(p + Q8_0_D, d);
      const kindOfBlock = (r + b) % 4; // extreme mode: 0 all -128, 1 all 127, 2 all zero, 3 random
      for (let i = 0; i < 32; i++) {
        let q = randI8();
        if (mode == QMODE_EXTREME) q = kindOfBlock == 0 ? -128 : kindOfBlock == 1 ? 127 : kindOfBlock == 2 ? 0 : q;
        store<i8>(p + Q8_0_QS + <usize>i, <i8>q);
      }
    }
  }
  for (let t = 0; t < tokens; t++) {
    const tokExp = <i32>(nextU32() >> 30);
    for (let b = 0; b < blocks; b++) {
      const p = x + <usize>(t * blocks + b) * Q8A_BLOCK_BYTES;
      let d: f32;
      if (mode == QMODE_POW2) d = <f32>pow2(-3 - tokExp);
      else if (mode == QMODE_RANDOM) d = (unit() + 1.5) * 0.01;
      else d = (b % 5 == 4) ? 0 : 0.25;
      store<f32>(p + Q8A_D, d);
      for (let i = 0; i < 32; i++) {
        let q = randI8();
        if (mode == QMODE_EXTREME) q = (t + b) % 3 == 0 ? -128 : (t + b) % 3 == 1 ? 127 : 0;
        store<i8>(p + Q8A_QS + <usize>i, <i8>q);
      }
    }
  }
}

/** The scalar reference: per block d_x · Σ w·x_q in f64, w the reference decoding's d_w·q (exact in f32). */
function checkQ8(rows: i32, cols: i32, n: i32, mode: i32): i32 {
  const blocks = cols / 32;
  const tokens = n == 0 ? 1 : n;
  const ldy = n == 0 ? rows : rows + 3;
  const w = heap.alloc(<usize>(rows * blocks) * Q8_0_BLOCK_BYTES);
  const x = heap.alloc(<usize>(tokens * blocks) * Q8A_BLOCK_BYTES);
  const y = heap.alloc(<usize>(tokens * ldy * 4));
  const wf = heap.alloc(<usize>(rows * cols * 4));
  fillQ8(w, x, rows, tokens, blocks, mode);
  dequant_row_q8_0(w, wf, rows * cols);
  for (let i = 0; i < tokens * ldy; i++) store<f32>(y + (<usize>i << 2), SENTINEL);
  if (n == 0) matvec_q8_0(w, x, y, rows, cols);
  else matmul_q8_0(w, x, y, rows, cols, n, ldy);
  let bad = 0;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < ldy; r++) {
      const got = load<f32>(y + (<usize>(t * ldy + r) << 2));
      if (r >= rows) { if (got != SENTINEL) bad++; continue; }
      let ref = 0.0, mag = 0.0;
      for (let b = 0; b < blocks; b++) {
        const wp = wf + (<usize>(r * cols + 32 * b) << 2), xp = x + <usize>(t * blocks + b) * Q8A_BLOCK_BYTES;
        let dot = 0.0;
        for (let i = 0; i < 32; i++) dot += <f64>load<f32>(wp + (<usize>i << 2)) * <f64>load<i8>(xp + Q8A_QS + <usize>i);
        const term = <f64>load<f32>(xp + Q8A_D) * dot;
        ref += term; mag += Math.abs(term);
      }
      if (mode == QMODE_RANDOM) {
        if (!(Math.abs(<f64>got - ref) <= 2e-6 * mag + 1e-30)) bad++;
      } else {
        // All terms are integers times one power of two and |sum| < 2^24 units: exact in f32.
        if (<f64>got != ref) bad++;
      }
    }
  }
  heap.free(w); heap.free(x); heap.free(y); heap.free(wf);
  return bad;
}

const Q_COLS: i32[] = [32, 64, 96, 4096];

function q8MatvecCases(mode: i32): void {
  for (let i = 0; i < ROWS.length; i++) for (let j = 0; j < Q_COLS.length; j++) {
    expect(checkQ8(ROWS[i], Q_COLS[j], 0, mode)).toBe(0, 'rows=' + ROWS[i].toString() + ' cols=' + Q_COLS[j].toString());
  }
}
function q8MatmulCases(mode: i32): void {
  for (let i = 0; i < ROWS.length; i++) for (let j = 0; j < Q_COLS.length; j++) for (let k = 0; k < TOKENS.length; k++) {
    expect(checkQ8(ROWS[i], Q_COLS[j], TOKENS[k], mode)).toBe(0,
      'rows=' + ROWS[i].toString() + ' cols=' + Q_COLS[j].toString() + ' n=' + TOKENS[k].toString());
  }
}

describe('q8_0', () => {
  it('matvec_q8_0, random scales (within 2e-6 of sum|terms|)', () => { q8MatvecCases(QMODE_RANDOM); });
  it('matmul_q8_0, random scales (within 2e-6 of sum|terms|)', () => { q8MatmulCases(QMODE_RANDOM); });
  it('matvec_q8_0, power-of-two scales (bit-exact)', () => { q8MatvecCases(QMODE_POW2); });
  it('matmul_q8_0, power-of-two scales (bit-exact)', () => { q8MatmulCases(QMODE_POW2); });
  it('matvec_q8_0, -128/127 values, zero blocks and zero scales (bit-exact)', () => { q8MatvecCases(QMODE_EXTREME); });
  it('matmul_q8_0, -128/127 values, zero blocks and zero scales (bit-exact)', () => { q8MatmulCases(QMODE_EXTREME); });
});
