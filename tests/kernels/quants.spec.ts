// Legacy-quant (Q4_0, Q4_1, Q5_0, Q5_1) and K-quant (Q2_K..Q6_K) kernels against the scalar reference decoding
// (the dequant_row_* kernels of assembly/dequant_quants.ts), which is itself checked on hand-computed blocks:
//  - exact: scales 1.0 and integer activations with |x| max 127 per block (activation scale exactly 1), so
//    the kernel's float steps are exact or replayed in the same order here: equality checks the integer part;
//  - random scales: within 1e-5 of sum|w*x| of an f64 reference;
//  - the activation layouts (Q8W / Q8KW), and the vector unpacking of K-quant scales against the scalar one.
import { quantize_q8w, quantize_q8kw } from '../../assembly/quant_act_wide';
import { matvec_q4_0, matvec_q4_1, matvec_q5_0, matvec_q5_1, matmul_q4_0, matmul_q4_1, matmul_q5_0, matmul_q5_1 } from '../../assembly/matmul_legacy';
import { matvec_q2_k, matvec_q3_k, matvec_q4_k, matvec_q5_k, matvec_q6_k, matmul_q2_k, matmul_q3_k, matmul_q4_k, matmul_q5_k, matmul_q6_k } from '../../assembly/matmul_kquant';
import { dequant_row_q4_0, dequant_row_q4_1, dequant_row_q5_0, dequant_row_q5_1, dequant_row_q2_k, dequant_row_q3_k, dequant_row_q4_k, dequant_row_q5_k, dequant_row_q6_k } from '../../assembly/dequant_quants';
import { f16_to_f32 } from '../../assembly/f16';
import { Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from '../../assembly/types';
import { legacyBlockBytes, legacyD, legacyM, legacyHasMin } from '../../assembly/blocks_legacy';
import { kquantBlockBytes, kquantD, kquantDmin, kquantHasMins, q3kScale, q3kScales, q4kScale, q4kMin, q4kScalesMins } from '../../assembly/blocks_kquant';
import { Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from '../../assembly/blocks_act';

const KINDS: i32[] = [Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K];

let seed: u32 = 88172645;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed ^ (seed >> 15); }
function unit(): f64 { return <f64>(nextU32() >> 8) / <f64>(1 << 24) * 2.0 - 1.0; }

function isK(kind: i32): bool { return kind >= Q2_K; }
function blockValues(kind: i32): i32 { return isK(kind) ? 256 : 32; }
function blockBytes(kind: i32): i32 { return <i32>(isK(kind) ? kquantBlockBytes(kind) : legacyBlockBytes(kind)); }
/** Byte offsets of the f16 fields of a block: scale d and min m / dmin (-1 when absent). */
function dField(kind: i32): i32 { return <i32>(isK(kind) ? kquantD(kind) : legacyD(kind)); }
function mField(kind: i32): i32 {
  if (isK(kind)) return kquantHasMins(kind) ? <i32>kquantDmin(kind) : -1;
  return legacyHasMin(kind) ? <i32>legacyM(kind) : -1;
}

// ---- kernels by kind ----
function matvecK(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  if (kind == Q4_0) matvec_q4_0(w, xq, y, rows, cols); else if (kind == Q4_1) matvec_q4_1(w, xq, y, rows, cols);
  else if (kind == Q5_0) matvec_q5_0(w, xq, y, rows, cols); else if (kind == Q5_1) matvec_q5_1(w, xq, y, rows, cols);
  else if (kind == Q2_K) matvec_q2_k(w, xq, y, rows, cols); else if (kind == Q3_K) matvec_q3_k(w, xq, y, rows, cols);
  else if (kind == Q4_K) matvec_q4_k(w, xq, y, rows, cols); else if (kind == Q5_K) matvec_q5_k(w, xq, y, rows, cols);
  else matvec_q6_k(w, xq, y, rows, cols);
}
function matmulK(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  if (kind == Q4_0) matmul_q4_0(w, xq, y, rows, cols, n, ldy); else if (kind == Q4_1) matmul_q4_1(w, xq, y, rows, cols, n, ldy);
  else if (kind == Q5_0) matmul_q5_0(w, xq, y, rows, cols, n, ldy); else if (kind == Q5_1) matmul_q5_1(w, xq, y, rows, cols, n, ldy);
  else if (kind == Q2_K) matmul_q2_k(w, xq, y, rows, cols, n, ldy); else if (kind == Q3_K) matmul_q3_k(w, xq, y, rows, cols, n, ldy);
  else if (kind == Q4_K) matmul_q4_k(w, xq, y, rows, cols, n, ldy); else if (kind == Q5_K) matmul_q5_k(w, xq, y, rows, cols, n, ldy);
  else matmul_q6_k(w, xq, y, rows, cols, n, ldy);
}
function dequantK(kind: i32, src: usize, dst: usize, n: i32): void {
  if (kind == Q4_0) dequant_row_q4_0(src, dst, n); else if (kind == Q4_1) dequant_row_q4_1(src, dst, n);
  else if (kind == Q5_0) dequant_row_q5_0(src, dst, n); else if (kind == Q5_1) dequant_row_q5_1(src, dst, n);
  else if (kind == Q2_K) dequant_row_q2_k(src, dst, n); else if (kind == Q3_K) dequant_row_q3_k(src, dst, n);
  else if (kind == Q4_K) dequant_row_q4_k(src, dst, n); else if (kind == Q5_K) dequant_row_q5_k(src, dst, n);
  else dequant_row_q6_k(src, dst, n);
}
function actBytes(kind: i32, cols: i32): i32 { return isK(kind) ? cols / 256 * <i32>Q8KW_BLOCK_BYTES : cols / 32 * <i32>Q8W_BLOCK_BYTES; }
function quantizeAct(kind: i32, x: usize, xq: usize, n: i32): void { if (isK(kind)) quantize_q8kw(x, xq, n); else quantize_q8w(x, xq, n); }

const MODE_EXACT: i32 = 0, MODE_ALL_FF: i32 = 1, MODE_ALL_00: i32 = 2, MODE_RANDOM: i32 = 3;
const SENTINEL: f32 = 12345.5;
const HALF_ONE: u16 = 0x3c00;

function fillWeights(kind: i32, w: usize, nBlocks: i32, mode: i32): void {
  const bb = blockBytes(kind);
  for (let b = 0; b < nBlocks; b++) {
    const p = w + <usize>(b * bb);
    for (let i = 0; i < bb; i++) store<u8>(p + <usize>i, mode == MODE_ALL_FF ? 0xff : mode == MODE_ALL_00 ? 0 : <u8>(nextU32() >> 24));
    const md = mField(kind);
    if (mode == MODE_RANDOM) {
      store<u16>(p + <usize>dField(kind), <u16>(((nextU32() % 6 + 8) << 10) | (nextU32() & 0x3ff) | (nextU32() & 0x8000)));
      if (md >= 0) store<u16>(p + <usize>md, <u16>(((nextU32() % 6 + 8) << 10) | (nextU32() & 0x3ff)));
    } else {
      store<u16>(p + <usize>dField(kind), HALF_ONE);
      if (md >= 0) store<u16>(p + <usize>md, HALF_ONE);
    }
  }
}

/** Integer activations in [-127, 127] with one |x| = 127 per 32 (random mode: floats). */
function fillX(x: usize, count: i32, mode: i32): void {
  for (let i = 0; i < count; i++) {
    let v: f32;
    if (mode == MODE_RANDOM) v = <f32>(unit() * 3.0);
    else if (mode == MODE_ALL_FF) v = 127;
    else if (mode == MODE_ALL_00) v = (i & 1) ? -127 : 127;
    else v = (i & 31) == 0 ? ((nextU32() & 1) ? 127 : -127) : <f32>(<i32>(nextU32() % 255) - 127);
    store<f32>(x + (<usize>i << 2), v);
  }
}

/**
 * The reference decoding of nBlocks blocks at w split into its two integer parts: every weight is
 * d·a + m·b, with a and b the reference's output for a copy of the block whose scale fields are set to
 * (d, m) = (1, 0) and (0, 1): a = scale·(q - offset) (legacy: q - offset), b = -min (K-quants with mins),
 * 1 (Q4_1, Q5_1) or 0. Both are small integers, exact in f32. a and b: nBlocks·values f32 each.
 */
function decodeParts(kind: i32, w: usize, nBlocks: i32, a: usize, b: usize): void {
  const bb = blockBytes(kind), bv = blockValues(kind), md = mField(kind);
  const blk = heap.alloc(<usize>bb);
  for (let k = 0; k < nBlocks; k++) {
    const o = <usize>(k * bv) << 2;
    memory.copy(blk, w + <usize>(k * bb), <usize>bb);
    store<u16>(blk + <usize>dField(kind), HALF_ONE);
    if (md >= 0) store<u16>(blk + <usize>md, 0);
    dequantK(kind, blk, a + o, bv);
    if (md < 0) { memory.fill(b + o, 0, <usize>bv << 2); continue; }
    store<u16>(blk + <usize>dField(kind), 0);
    store<u16>(blk + <usize>md, HALF_ONE);
    dequantK(kind, blk, b + o, bv);
  }
  heap.free(blk);
}

/**
 * Kernel output for row r, token t against the reference: in exact modes the kernel's f32 steps replayed on the
 * integer parts (per block: the sum of a·x, then that of b·x); in random mode the f64 sum of weight
 * (d·a + m·b) times dequantised activation.
 */
function reference(kind: i32, w: usize, a: usize, b: usize, x: usize, xq: usize, r: i32, t: i32, cols: i32, exact: bool, mag: StaticArray<f64>): f64 {
  const bv = blockValues(kind), nb = cols / bv, bb = blockBytes(kind), md = mField(kind);
  const xbb = isK(kind) ? <i32>Q8KW_BLOCK_BYTES : <i32>Q8W_BLOCK_BYTES;
  let acc: f32 = 0;
  let ref = 0.0, m = 0.0;
  for (let k = 0; k < nb; k++) {
    const p = w + <usize>((r * nb + k) * bb);
    const d = <f64>f16_to_f32(<u32>load<u16>(p + <usize>dField(kind)));
    const dm = md >= 0 ? <f64>f16_to_f32(<u32>load<u16>(p + <usize>md)) : 0.0;
    const xa = load<f32>(xq + <usize>((t * nb + k) * xbb)); // activation scale of this block (both layouts: d at 0)
    let sa: i64 = 0, sb: i64 = 0;
    for (let i = 0; i < bv; i++) {
      const xv = load<f32>(x + (<usize>(t * cols + k * bv + i) << 2));
      const xi = <i32>Math.round(<f64>(xa == 0 ? 0 : xv / xa)); // exact modes: xa = 1 and xv integral
      const j = <usize>((r * nb + k) * bv + i) << 2;
      const wa = load<f32>(a + j), wb = load<f32>(b + j);
      sa += <i64>wa * <i64>xi;
      sb += <i64>wb * <i64>xi;
      const term = (d * <f64>wa + dm * <f64>wb) * <f64>xa * <f64>xi;
      ref += term; m += Math.abs(term);
    }
    acc += <f32>sa;
    if (md >= 0) acc += <f32>sb;
  }
  mag[0] = m;
  return exact ? <f64>acc : ref;
}

/** Number of wrong outputs of matvec (n == 0) or matmul (n tokens, ldy = rows + 3, padding untouched). */
function check(kind: i32, rows: i32, cols: i32, n: i32, mode: i32): i32 {
  const tokens = n == 0 ? 1 : n, ldy = n == 0 ? rows : rows + 3;
  const nBlocks = rows * cols / blockValues(kind);
  const w = heap.alloc(<usize>(nBlocks * blockBytes(kind)));
  const a = heap.alloc(<usize>(rows * cols * 4)), b = heap.alloc(<usize>(rows * cols * 4));
  const x = heap.alloc(<usize>(tokens * cols * 4));
  const xq = heap.alloc(<usize>(tokens * actBytes(kind, cols)));
  const y = heap.alloc(<usize>(tokens * ldy * 4));
  fillWeights(kind, w, nBlocks, mode);
  decodeParts(kind, w, nBlocks, a, b);
  fillX(x, tokens * cols, mode);
  quantizeAct(kind, x, xq, tokens * cols);
  for (let i = 0; i < tokens * ldy; i++) store<f32>(y + (<usize>i << 2), SENTINEL);
  if (n == 0) matvecK(kind, w, xq, y, rows, cols); else matmulK(kind, w, xq, y, rows, cols, n, ldy);
  const mag = new StaticArray<f64>(1);
  let bad = 0;
  for (let t = 0; t < tokens; t++) for (let r = 0; r < ldy; r++) {
    const got = load<f32>(y + (<usize>(t * ldy + r) << 2));
    if (r >= rows) { if (got != SENTINEL) bad++; continue; }
    const ref = reference(kind, w, a, b, x, xq, r, t, cols, mode != MODE_RANDOM, mag);
    if (mode == MODE_RANDOM) { if (!(Math.abs(<f64>got - ref) <= 1e-5 * mag[0] + 1e-30)) bad++; }
    else if (<f64>got != ref) bad++;
  }
  heap.free(w); heap.free(a); heap.free(b); heap.free(x); heap.free(xq); heap.free(y);
  return bad;
}

function name(kind: i32): string {
  return kind == Q4_0 ? 'Q4_0' : kind == Q4_1 ? 'Q4_1' : kind == Q5_0 ? 'Q5_0' : kind == Q5_1 ? 'Q5_1' : kind == Q2_K ? 'Q2_K'
    : kind == Q3_K ? 'Q3_K' : kind == Q4_K ? 'Q4_K' : kind == Q5_K ? 'Q5_K' : 'Q6_K';
}

describe('quantised matvec/matmul vs the reference decoding', () => {
  it('exact integer part: random blocks, scales 1 (rows 1, 6; 1-2 blocks; matvec, matmul n = 5)', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k], bv = blockValues(kind);
      for (let rows = 1; rows <= 6; rows += 5) for (let nb = 1; nb <= 2; nb++) for (let n = 0; n <= 5; n += 5) {
        expect(check(kind, rows, nb * bv, n, MODE_EXACT)).toBe(0, name(kind) + ' rows=' + rows.toString() + ' blocks=' + nb.toString() + ' n=' + n.toString());
      }
    }
  });
  it('exact integer part: extreme blocks (all bits set with x = 127; all zero bits with x = +-127)', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k];
      expect(check(kind, 5, 2 * blockValues(kind), 0, MODE_ALL_FF)).toBe(0, name(kind) + ' all 0xff');
      expect(check(kind, 5, 2 * blockValues(kind), 5, MODE_ALL_00)).toBe(0, name(kind) + ' all 0x00');
    }
  });
  it('random scales and activations within 1e-5 of sum|w*x|', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k];
      expect(check(kind, 7, 3 * blockValues(kind), 0, MODE_RANDOM)).toBe(0, name(kind) + ' matvec');
      expect(check(kind, 5, 2 * blockValues(kind), 6, MODE_RANDOM)).toBe(0, name(kind) + ' matmul');
    }
  });
});

// The activation layouts, with their offsets written out here (not taken from blocks_act.ts).
describe('activation layouts', () => {
  it('Q8W: scale, sum and even/odd i16 groups', () => {
    const x = heap.alloc(64 * 4), xq = heap.alloc(2 * 80);
    fillX(x, 64, MODE_RANDOM);
    quantize_q8w(x, xq, 64);
    for (let b = 0; b < 2; b++) {
      let amax: f32 = 0;
      for (let i = 0; i < 32; i++) amax = max(amax, abs(load<f32>(x + (<usize>(32 * b + i) << 2))));
      const d = load<f32>(xq + <usize>(80 * b));
      expect(d).toBe(amax / 127);
      let sum = 0;
      for (let i = 0; i < 32; i++) {
        const q = <i32>nearest(load<f32>(x + (<usize>(32 * b + i) << 2)) / d);
        const lane = (i & 16) + ((i & 1) << 3) + ((i & 15) >> 1);
        expect(<i32>load<i16>(xq + <usize>(80 * b + 16 + 2 * lane))).toBe(q);
        sum += q;
      }
      expect(load<i32>(xq + <usize>(80 * b + 4))).toBe(sum);
    }
  });
  it('Q8KW: per-16 sums in permuted order; zero block', () => {
    const x = heap.alloc(512 * 4), xq = heap.alloc(2 * 560);
    fillX(x, 512, MODE_EXACT);
    for (let i = 256; i < 512; i++) store<f32>(x + (<usize>i << 2), 0);
    quantize_q8kw(x, xq, 512);
    expect(load<f32>(xq)).toBe(1);
    const perm: i32[] = [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15];
    for (let lane = 0; lane < 16; lane++) {
      let s = 0;
      for (let i = 0; i < 16; i++) s += <i32>load<f32>(x + (<usize>(16 * perm[lane] + i) << 2));
      expect(<i32>load<i16>(xq + 16 + <usize>(2 * lane))).toBe(s);
    }
    expect(load<f32>(xq + 560)).toBe(0);
    for (let i = 4; i < 560; i += 4) expect(load<i32>(xq + 560 + <usize>i)).toBe(0);
  });
});

// ---- the reference decoding on blocks written by hand from ggml's layouts (offsets and sizes written out here,
// not taken from blocks_*.ts), expected values worked out by hand ----

/** A zeroed block of `kind` (`bytes` long) with f16 d = 2.0 (legacy) or 1.0 (K-quants) at dOff and
 *  m / dmin = 0.5 at mOff (mOff < 0: none). */
function handBlock(kind: i32, bytes: i32, dOff: i32, mOff: i32): usize {
  const p = heap.alloc(<usize>bytes);
  memory.fill(p, 0, <usize>bytes);
  store<u16>(p + <usize>dOff, isK(kind) ? 0x3c00 : 0x4000);
  if (mOff >= 0) store<u16>(p + <usize>mOff, 0x3800);
  return p;
}
/** Value i of the decoded block. */
function decoded(kind: i32, p: usize, i: i32): f32 {
  const out = heap.alloc(<usize>blockValues(kind) << 2);
  dequantK(kind, p, out, blockValues(kind));
  const v = load<f32>(out + (<usize>i << 2));
  heap.free(out);
  return v;
}

describe('reference decoding (dequant_row_*) on hand-written blocks', () => {
  it('Q4_0, Q4_1: byte j holds values j (low nibble) and j + 16 (high nibble)', () => {
    let p = handBlock(Q4_0, 18, 0, -1);
    store<u8>(p + 2 + 3, 0xa5); // qs[3]
    expect(decoded(Q4_0, p, 3)).toBe(-6); // 2·(5 - 8)
    expect(decoded(Q4_0, p, 19)).toBe(4); // 2·(10 - 8)
    expect(decoded(Q4_0, p, 0)).toBe(-16); // 2·(0 - 8)
    p = handBlock(Q4_1, 20, 0, 2);
    store<u8>(p + 4 + 3, 0xa5);
    expect(decoded(Q4_1, p, 3)).toBe(10.5); // 2·5 + 0.5
    expect(decoded(Q4_1, p, 19)).toBe(20.5);
    expect(decoded(Q4_1, p, 0)).toBe(0.5);
  });
  it('Q5_0, Q5_1: bit j of qh is bit 4 of value j', () => {
    let p = handBlock(Q5_0, 22, 0, -1);
    store<u32>(p + 2, (1 << 3) | (1 << 20)); // qh
    store<u8>(p + 6 + 3, 0xa5);
    expect(decoded(Q5_0, p, 3)).toBe(10); // 2·((5 | 16) - 16)
    expect(decoded(Q5_0, p, 19)).toBe(-12); // 2·(10 - 16)
    expect(decoded(Q5_0, p, 20)).toBe(0); // 2·(16 - 16)
    expect(decoded(Q5_0, p, 0)).toBe(-32);
    p = handBlock(Q5_1, 24, 0, 2);
    store<u32>(p + 4, 1 << 19);
    store<u8>(p + 8 + 3, 0xa5);
    expect(decoded(Q5_1, p, 19)).toBe(52.5); // 2·(10 | 16) + 0.5
    expect(decoded(Q5_1, p, 3)).toBe(10.5);
    expect(decoded(Q5_1, p, 0)).toBe(0.5);
  });
  it('Q2_K: 4-bit scale and min per 16, 2-bit values (d 1, dmin 0.5)', () => {
    const p = handBlock(Q2_K, 84, 80, 82);
    store<u8>(p + 5, 0x37); store<u8>(p + 9, 0x21); store<u8>(p + 1, 0x45); // scales[5], [9], [1]
    store<u8>(p + 16 + 19, 0x20); store<u8>(p + 16 + 51, 0x03); // qs[19], qs[51]
    expect(decoded(Q2_K, p, 83)).toBe(12.5); // sub-block 5: 7·2 - 0.5·3 (bits 4..5 of qs[19])
    expect(decoded(Q2_K, p, 147)).toBe(2); // sub-block 9: 1·3 - 0.5·2 (bits 0..1 of qs[51])
    expect(decoded(Q2_K, p, 19)).toBe(-2); // sub-block 1: 5·0 - 0.5·4
  });
  it('Q3_K: 6-bit scales minus 32, hmask bit 2 of each value, offset 4', () => {
    const p = handBlock(Q3_K, 110, 108, -1);
    store<u8>(p + 19, 0x04); // hmask[19]: bit 2 (n = 0, j = 2)
    store<u8>(p + 32 + 19, 0x30); // qs[19]: bits 4..5 = 3
    store<u8>(p + 96 + 5, 0x0a); store<u8>(p + 96 + 9, 0x08); // scale 5: low 10, high bits 2..3 of byte 9 = 2
    store<u8>(p + 96 + 4, 0x50); store<u8>(p + 96 + 8, 0xc0); // scale 12: low 5 (byte 4 high nibble), high 3 (byte 8 bits 6..7)
    expect(decoded(Q3_K, p, 83)).toBe(30); // (42 - 32)·((3 | 4) - 4)
    expect(decoded(Q3_K, p, 200)).toBe(-84); // (53 - 32)·(0 - 4)
    expect(decoded(Q3_K, p, 0)).toBe(128); // (0 - 32)·(0 - 4)
  });
  it('Q4_K, Q5_K: 6-bit scales and mins per 32 (d 1, dmin 0.5)', () => {
    for (let f = 0; f < 2; f++) {
      const kind = f == 0 ? Q4_K : Q5_K, qs = f == 0 ? 16 : 48;
      const p = handBlock(kind, f == 0 ? 144 : 176, 0, 2);
      store<u8>(p + 4 + 1, 0x45); store<u8>(p + 4 + 5, 0x83); store<u8>(p + 4 + 9, 0x2c); // scales[1], [5], [9]
      store<u8>(p + qs + 5, 0x90); store<u8>(p + qs + 69, 0x70); // qs[5], qs[69]
      if (kind == Q5_K) store<u8>(p + 16 + 5, 0x20); // qh[5]: bit 5 = bit 4 of value 64·2 + 32 + 5
      expect(decoded(kind, p, 37)).toBe(43.5); // sub-block 1: 5·9 - 0.5·3
      expect(decoded(kind, p, 165)).toBe(kind == Q4_K ? 179 : 627); // sub-block 5: scale 28, min 34: 28·7 - 17, 28·23 - 17
    }
  });
  it('Q6_K: 4 low bits in ql, 2 high bits in qh, signed scales, offset 32', () => {
    const p = handBlock(Q6_K, 210, 208, -1);
    store<u8>(p + 72, 0xb0); // ql[72]: high nibble 11 (n = 1, k = 2, l = 8)
    store<u8>(p + 128 + 40, 0x20); // qh[40]: bits 4..5 = 2
    store<i8>(p + 192 + 12, -3); store<i8>(p + 192, 2); // scales[12], scales[0]
    expect(decoded(Q6_K, p, 200)).toBe(-33); // -3·((11 | 32) - 32)
    expect(decoded(Q6_K, p, 0)).toBe(-64); // 2·(0 - 32)
  });
});

describe('K-quant scale unpacking', () => {
  it('the vector unpacking (q3kScales, q4kScalesMins) gives the scalar one for random blocks', () => {
    const p = heap.alloc(<usize>blockBytes(Q3_K) + <usize>blockBytes(Q4_K));
    const p4 = p + <usize>blockBytes(Q3_K);
    let bad = 0;
    for (let rep = 0; rep < 200; rep++) {
      for (let i = 0; i < blockBytes(Q3_K) + blockBytes(Q4_K); i++) store<u8>(p + <usize>i, <u8>(nextU32() >> 24));
      const v3 = q3kScales(p), v4 = q4kScalesMins(p4);
      for (let s = 0; s < 16; s++) {
        const lane3 = <i32>i8x16.extract_lane_s(i8x16.swizzle(v3, i8x16.splat(<i8>s)), 0);
        if (lane3 != q3kScale(p, s)) bad++;
        const lane4 = <i32>i8x16.extract_lane_u(i8x16.swizzle(v4, i8x16.splat(<i8>s)), 0);
        if (lane4 != (s < 8 ? q4kScale(p4, s) : q4kMin(p4, s - 8))) bad++;
      }
    }
    expect(bad).toBe(0);
    heap.free(p);
  });
});
