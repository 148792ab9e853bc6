// Legacy-quant (Q4_0, Q4_1, Q5_0, Q5_1) and K-quant (Q2_K..Q6_K) kernels against scalar references that
// decode every value on its own from the ggml block layout:
//  - exact: scales 1.0 and integer activations with |x| max 127 per block (activation scale exactly 1), so
//    the kernel's float steps are exact or replayed in the same order here: equality checks the integer part;
//  - random scales: within 1e-5 of sum|w*x| of an f64 reference;
//  - the activation layouts (Q8W / Q8KW), and the row dequantisers (same formula and order: exact).
import { quantize_q8w, quantize_q8kw } from '../../assembly/quant_act_wide';
import { matvec_q4_0, matvec_q4_1, matvec_q5_0, matvec_q5_1, matmul_q4_0, matmul_q4_1, matmul_q5_0, matmul_q5_1 } from '../../assembly/matmul_legacy';
import { matvec_q2_k, matvec_q3_k, matvec_q4_k, matvec_q5_k, matvec_q6_k, matmul_q2_k, matmul_q3_k, matmul_q4_k, matmul_q5_k, matmul_q6_k } from '../../assembly/matmul_kquant';
import { dequant_row_q4_0, dequant_row_q4_1, dequant_row_q5_0, dequant_row_q5_1, dequant_row_q2_k, dequant_row_q3_k, dequant_row_q4_k, dequant_row_q5_k, dequant_row_q6_k } from '../../assembly/dequant_quants';

const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7, Q2_K: i32 = 10, Q3_K: i32 = 11, Q4_K: i32 = 12, Q5_K: i32 = 13, Q6_K: i32 = 14;
const KINDS: i32[] = [Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K];

let seed: u32 = 88172645;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed ^ (seed >> 15); }
function unit(): f64 { return <f64>(nextU32() >> 8) / <f64>(1 << 24) * 2.0 - 1.0; }

function pow2(e: i32): f64 { return reinterpret<f64>(<u64>(e + 1023) << 52); }
function halfRef(h: u32): f32 {
  const e = <i32>((h >> 10) & 31), m = <f64>(h & 1023);
  const v = e == 0 ? m * pow2(-24) : (1.0 + m / 1024.0) * pow2(e - 15);
  return <f32>((h & 0x8000) ? -v : v);
}

function isK(kind: i32): bool { return kind >= Q2_K; }
function blockValues(kind: i32): i32 { return isK(kind) ? 256 : 32; }
function blockBytes(kind: i32): i32 {
  if (kind == Q4_0) return 18; if (kind == Q4_1) return 20; if (kind == Q5_0) return 22; if (kind == Q5_1) return 24;
  if (kind == Q2_K) return 84; if (kind == Q3_K) return 110; if (kind == Q4_K) return 144; if (kind == Q5_K) return 176;
  return 210;
}
/** Byte offsets of the f16 fields of a block: scale d and min/dmin (-1 when absent). */
function dField(kind: i32): i32 { return kind == Q2_K ? 80 : kind == Q3_K ? 108 : kind == Q6_K ? 208 : 0; }
function mField(kind: i32): i32 { return kind == Q4_1 || kind == Q5_1 || kind == Q4_K || kind == Q5_K ? 2 : kind == Q2_K ? 82 : -1; }

// ---- scalar decoding of value i of the block at p, straight from the layout ----
function u8at(p: usize, i: i32): i32 { return <i32>load<u8>(p + <usize>i); }

/** Stored unsigned integer of value i (offset not applied). */
function qOf(kind: i32, p: usize, i: i32): i32 {
  if (!isK(kind)) {
    const qs = kind == Q4_0 ? 2 : kind == Q4_1 ? 4 : kind == Q5_0 ? 6 : 8;
    const nib = i < 16 ? u8at(p, qs + i) & 15 : u8at(p, qs + i - 16) >> 4;
    if (kind == Q4_0 || kind == Q4_1) return nib;
    const qh = load<u32>(p + <usize>(kind == Q5_0 ? 2 : 4));
    return nib | <i32>(((qh >> <u32>i) & 1) << 4);
  }
  const n = i >> 7, l = i & 31;
  if (kind == Q2_K || kind == Q3_K) {
    const j = (i >> 5) & 3;
    const low = (u8at(p, (kind == Q2_K ? 16 : 32) + 32 * n + l) >> (2 * j)) & 3;
    if (kind == Q2_K) return low;
    return low | (((u8at(p, l) >> (4 * n + j)) & 1) << 2);
  }
  if (kind == Q4_K || kind == Q5_K) {
    const pair = i >> 6, high = (i >> 5) & 1;
    const byte = u8at(p, (kind == Q4_K ? 16 : 48) + 32 * pair + l);
    const nib = high ? byte >> 4 : byte & 15;
    if (kind == Q4_K) return nib;
    return nib | (((u8at(p, 16 + l) >> (2 * pair + high)) & 1) << 4);
  }
  const k = (i >> 5) & 3;
  const lb = u8at(p, 64 * n + l + 32 * (k & 1));
  return (k < 2 ? lb & 15 : lb >> 4) | (((u8at(p, 128 + 32 * n + l) >> (2 * k)) & 3) << 4);
}
/** Offset subtracted from the stored integer (symmetric types). */
function offsetOf(kind: i32): i32 { return kind == Q4_0 ? 8 : kind == Q5_0 ? 16 : kind == Q3_K ? 4 : kind == Q6_K ? 32 : 0; }
/** Integer scale of the sub-block holding value i (1 for the legacy types). */
function scOf(kind: i32, p: usize, i: i32): i32 {
  if (kind == Q2_K) return u8at(p, i >> 4) & 15;
  if (kind == Q3_K) {
    const s = i >> 4;
    const low = s < 8 ? u8at(p, 96 + s) & 15 : u8at(p, 96 + s - 8) >> 4;
    return (low | (((u8at(p, 104 + (s & 3)) >> (2 * (s >> 2))) & 3) << 4)) - 32;
  }
  if (kind == Q4_K || kind == Q5_K) {
    const j = i >> 5;
    return j < 4 ? u8at(p, 4 + j) & 63 : (u8at(p, 8 + j) & 15) | ((u8at(p, j) >> 6) << 4);
  }
  if (kind == Q6_K) return <i32>load<i8>(p + 192 + <usize>(i >> 4));
  return 1;
}
/** Integer min of the sub-block holding value i (K-quants with mins; 0 otherwise). */
function mOf(kind: i32, p: usize, i: i32): i32 {
  if (kind == Q2_K) return u8at(p, i >> 4) >> 4;
  if (kind == Q4_K || kind == Q5_K) {
    const j = i >> 5;
    return j < 4 ? u8at(p, 8 + j) & 63 : (u8at(p, 8 + j) >> 4) | ((u8at(p, j + 4) >> 6) << 4);
  }
  return 0;
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
function actBytes(kind: i32, cols: i32): i32 { return isK(kind) ? cols / 256 * 560 : cols / 32 * 80; }
function quantizeAct(kind: i32, x: usize, xq: usize, n: i32): void { if (isK(kind)) quantize_q8kw(x, xq, n); else quantize_q8w(x, xq, n); }

const MODE_EXACT: i32 = 0, MODE_ALL_FF: i32 = 1, MODE_ALL_00: i32 = 2, MODE_RANDOM: i32 = 3;
const SENTINEL: f32 = 12345.5;

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
      store<u16>(p + <usize>dField(kind), 0x3c00); // 1.0
      if (md >= 0) store<u16>(p + <usize>md, 0x3c00);
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
 * Kernel output for row r, token t against the reference: in exact modes the kernel's f32 steps replayed on the
 * reference integers (legacy per block: S - off*sx or S, + sx; K per super-block: R, - M); in random mode the
 * f64 sum of dequantised weight times dequantised activation.
 */
function reference(kind: i32, w: usize, x: usize, xq: usize, r: i32, t: i32, cols: i32, exact: bool, mag: StaticArray<f64>): f64 {
  const bv = blockValues(kind), nb = cols / bv, bb = blockBytes(kind);
  let acc: f32 = 0;
  let ref = 0.0, m = 0.0;
  for (let b = 0; b < nb; b++) {
    const p = w + <usize>((r * nb + b) * bb);
    const d = halfRef(<u32>load<u16>(p + <usize>dField(kind)));
    const md = mField(kind);
    const dm: f32 = md >= 0 ? halfRef(<u32>load<u16>(p + <usize>md)) : 0;
    // activation scale of this block (per 32 or per 256)
    let sInt: i64 = 0, mInt: i64 = 0, sx: i64 = 0;
    for (let i = 0; i < bv; i++) {
      const xv = load<f32>(x + (<usize>(t * cols + b * bv + i) << 2));
      const xa = isK(kind) ? load<f32>(xq + <usize>((t * nb + b) * 560)) : load<f32>(xq + <usize>((t * nb + b) * 80));
      const xi = <i32>Math.round(<f64>(xa == 0 ? 0 : xv / xa)); // exact modes: xa = 1 and xv integral
      const q = qOf(kind, p, i), sc = scOf(kind, p, i), mn = mOf(kind, p, i);
      sInt += <i64>(sc * (q - offsetOf(kind)) * xi);
      mInt += <i64>(mn * xi);
      sx += <i64>xi;
      // f64 reference value of the weight
      let wv: f64;
      if (kind == Q4_1 || kind == Q5_1) wv = <f64>d * <f64>q + <f64>dm;
      else if (kind == Q2_K || kind == Q4_K || kind == Q5_K) wv = <f64>d * <f64>sc * <f64>q - <f64>dm * <f64>mn;
      else wv = <f64>d * <f64>sc * <f64>(q - offsetOf(kind));
      const term = wv * <f64>xa * <f64>xi;
      ref += term; m += Math.abs(term);
    }
    if (kind == Q4_1 || kind == Q5_1) { acc += <f32>sInt; acc += <f32>sx; }
    else if (kind == Q2_K || kind == Q4_K || kind == Q5_K) { acc += <f32>sInt; acc -= <f32>mInt; }
    else acc += <f32>sInt;
  }
  mag[0] = m;
  return exact ? <f64>acc : ref;
}

/** Number of wrong outputs of matvec (n == 0) or matmul (n tokens, ldy = rows + 3, padding untouched). */
function check(kind: i32, rows: i32, cols: i32, n: i32, mode: i32): i32 {
  const tokens = n == 0 ? 1 : n, ldy = n == 0 ? rows : rows + 3;
  const nBlocks = rows * cols / blockValues(kind);
  const w = heap.alloc(<usize>(nBlocks * blockBytes(kind)));
  const x = heap.alloc(<usize>(tokens * cols * 4));
  const xq = heap.alloc(<usize>(tokens * actBytes(kind, cols)));
  const y = heap.alloc(<usize>(tokens * ldy * 4));
  fillWeights(kind, w, nBlocks, mode);
  fillX(x, tokens * cols, mode);
  quantizeAct(kind, x, xq, tokens * cols);
  for (let i = 0; i < tokens * ldy; i++) store<f32>(y + (<usize>i << 2), SENTINEL);
  if (n == 0) matvecK(kind, w, xq, y, rows, cols); else matmulK(kind, w, xq, y, rows, cols, n, ldy);
  const mag = new StaticArray<f64>(1);
  let bad = 0;
  for (let t = 0; t < tokens; t++) for (let r = 0; r < ldy; r++) {
    const got = load<f32>(y + (<usize>(t * ldy + r) << 2));
    if (r >= rows) { if (got != SENTINEL) bad++; continue; }
    const ref = reference(kind, w, x, xq, r, t, cols, mode != MODE_RANDOM, mag);
    if (mode == MODE_RANDOM) { if (!(Math.abs(<f64>got - ref) <= 1e-5 * mag[0] + 1e-30)) bad++; }
    else if (<f64>got != ref) bad++;
  }
  heap.free(w); heap.free(x); heap.free(xq); heap.free(y);
  return bad;
}

function name(kind: i32): string {
  return kind == Q4_0 ? 'Q4_0' : kind == Q4_1 ? 'Q4_1' : kind == Q5_0 ? 'Q5_0' : kind == Q5_1 ? 'Q5_1' : kind == Q2_K ? 'Q2_K'
    : kind == Q3_K ? 'Q3_K' : kind == Q4_K ? 'Q4_K' : kind == Q5_K ? 'Q5_K' : 'Q6_K';
}

describe('quantised matvec/matmul vs scalar reference', () => {
  it('exact integer part: random blocks, scales 1 (rows 1, 6; 1-2 blocks; matvec, matmul n = 3)', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k], bv = blockValues(kind);
      for (let rows = 1; rows <= 6; rows += 5) for (let nb = 1; nb <= 2; nb++) for (let n = 0; n <= 3; n += 3) {
        expect(check(kind, rows, nb * bv, n, MODE_EXACT)).toBe(0, name(kind) + ' rows=' + rows.toString() + ' blocks=' + nb.toString() + ' n=' + n.toString());
      }
    }
  });
  it('exact integer part: extreme blocks (all bits set with x = 127; all zero bits with x = +-127)', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k];
      expect(check(kind, 5, 2 * blockValues(kind), 0, MODE_ALL_FF)).toBe(0, name(kind) + ' all 0xff');
      expect(check(kind, 5, 2 * blockValues(kind), 2, MODE_ALL_00)).toBe(0, name(kind) + ' all 0x00');
    }
  });
  it('random scales and activations within 1e-5 of sum|w*x|', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k];
      expect(check(kind, 7, 3 * blockValues(kind), 0, MODE_RANDOM)).toBe(0, name(kind) + ' matvec');
      expect(check(kind, 5, 2 * blockValues(kind), 2, MODE_RANDOM)).toBe(0, name(kind) + ' matmul');
    }
  });
});

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

describe('row dequantisers', () => {
  it('match the scalar decoding for random blocks (f32, ggml operation order)', () => {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[k], bv = blockValues(kind), n = 3 * bv;
      const w = heap.alloc(<usize>(3 * blockBytes(kind))), out = heap.alloc(<usize>(n * 4));
      fillWeights(kind, w, 3, MODE_RANDOM);
      dequantK(kind, w, out, n);
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const p = w + <usize>((i / bv) * blockBytes(kind)), j = i % bv;
        const d = halfRef(<u32>load<u16>(p + <usize>dField(kind)));
        const md = mField(kind);
        const dm: f32 = md >= 0 ? halfRef(<u32>load<u16>(p + <usize>md)) : 0;
        const q = qOf(kind, p, j), sc = scOf(kind, p, j), mn = mOf(kind, p, j);
        let e: f32;
        if (kind == Q4_1 || kind == Q5_1) e = <f32>q * d + dm;
        else if (kind == Q2_K || kind == Q4_K || kind == Q5_K) e = d * <f32>sc * <f32>q - dm * <f32>mn;
        else if (isK(kind)) e = d * <f32>sc * <f32>(q - offsetOf(kind));
        else e = <f32>(q - offsetOf(kind)) * d;
        if (load<f32>(out + (<usize>i << 2)) != e) bad++;
      }
      expect(bad).toBe(0, name(kind));
      heap.free(w); heap.free(out);
    }
  });
});
