// The interleaved (x4) weights: the repacked layouts read back with offsets written out here from the layout
// description in blocks_x4.ts (not taken from it) against the reference decoder; the pair-order activations
// (Q8P, Q8XK); and the x4 kernels:
//  - Q8_0x4, Q4_Kx4, Q5_Kx4, Q6_Kx4 form the same exact integer sums and f32 steps as the file-layout kernels,
//    so they must give the same bits as those (themselves checked against the reference in quants.spec.ts
//    and matmul.spec.ts);
//  - Q4_0x4 against the reference: exact with unit scales and integer activations, within 1e-5 of sum|w*x|
//    with random scales;
//  - every x4 kernel: matmul (n = 1..9) and row blocks of 16 give the bits of matvec; odd row counts.
import { repack_q4_0x4, repack_q8_0x4, repack_q4_kx4, repack_q5_kx4, repack_q6_kx4, x4_bytes } from '../../assembly/repack_x4';
import { matvec_q4_0x4, matmul_q4_0x4, matvec_q8_0x4, matmul_q8_0x4 } from '../../assembly/matmul_x4_legacy';
import { matvec_q4_kx4, matmul_q4_kx4, matvec_q5_kx4, matmul_q5_kx4, matvec_q6_kx4, matmul_q6_kx4 } from '../../assembly/matmul_x4_kquant';
import { quantize_q8p, quantize_q8x, quantize_q8xk } from '../../assembly/quant_act_pair';
import { relaxed_selfcheck } from '../../assembly/relaxed_check';
import { legacyQ, kquantQ, kquantScale, kquantMin } from '../../assembly/dequant_quants';
import { f16_to_f32 } from '../../assembly/f16';
import { Q8_0, Q4_0, Q4_K, Q5_K, Q6_K } from '../../assembly/types';
import { unit, nextU32, isK, blockBytes, rowBytes, inputBytes, fillWeights, prepareInput, matvecK, name } from './weight_cases';

// ---- layouts, offsets written out from blocks_x4.ts ----

function x4BlockBytes(kind: i32): i32 {
  return kind == Q4_0 ? 72 : kind == Q8_0 ? 136 : kind == Q4_K ? 592 : kind == Q5_K ? 720 : 840;
}
function values(kind: i32): i32 { return isK(kind) ? 256 : 32; }

/** Stored integer of value k (all bits) of row r, block b, of the file-layout matrix at w. */
function fileQ(kind: i32, w: usize, cols: i32, r: i32, b: i32, k: i32): i32 {
  const p = w + <usize>(r * rowBytes(kind, cols) + b * blockBytes(kind));
  if (kind == Q8_0) return <i32>load<i8>(p + 2 + <usize>k);
  return kind == Q4_0 ? legacyQ(kind, p, k) : kquantQ(kind, p, k);
}

/** Value k of row r (within its group: rr), block b, read from the x4 layout at base (the group block). */
function x4Q(kind: i32, base: usize, rr: i32, k: i32): i32 {
  if (kind == Q8_0) {
    const c = k >> 2, i = k & 3;
    return <i32>load<i8>(base + 8 + <usize>(16 * c + ((i & 1) << 3) + 2 * rr + (i >> 1)));
  }
  const qs = kind == Q6_K ? 72 : kind == Q4_0 ? 8 : 80;
  const c = k >> 3, i = k & 7;
  const byte = <i32>load<u8>(base + <usize>(qs + 16 * c + 4 * rr + (i & 3)));
  let v = i < 4 ? byte & 15 : byte >> 4;
  if (kind == Q5_K) {
    const hb = <i32>load<u8>(base + <usize>(592 + 16 * (c >> 2) + 4 * rr + (i & 3)));
    v |= ((hb >> (2 * (c & 3) + (i >> 2))) & 1) << 4;
  } else if (kind == Q6_K) {
    const hb = <i32>load<u8>(base + <usize>(584 + 16 * (c >> 1) + 4 * rr + (i & 3)));
    v |= ((hb >> (4 * (c & 1) + 2 * (i >> 2))) & 3) << 4;
  }
  return v;
}

/** Mismatches between the repacked matrix and the file: every value, d / dmin, scales and mins; the padding
 *  rows of the last group must be zero. */
function layoutMismatches(kind: i32, rows: i32, blocks: i32): i32 {
  const cols = blocks * values(kind), xb = x4BlockBytes(kind);
  const w = heap.alloc(<usize>(rows * rowBytes(kind, cols)));
  const dst = heap.alloc(x4_bytes(kind, rows, cols));
  fillWeights(kind, w, rows, cols);
  memory.fill(dst, 0xa5, x4_bytes(kind, rows, cols));
  if (kind == Q4_0) repack_q4_0x4(w, dst, rows, cols); else if (kind == Q8_0) repack_q8_0x4(w, dst, rows, cols);
  else if (kind == Q4_K) repack_q4_kx4(w, dst, rows, cols); else if (kind == Q5_K) repack_q5_kx4(w, dst, rows, cols);
  else repack_q6_kx4(w, dst, rows, cols);
  let bad = 0;
  const groups = (rows + 3) >> 2;
  if (x4_bytes(kind, rows, cols) != <usize>(groups * blocks * xb)) bad++;
  for (let r = 0; r < groups * 4; r++) for (let b = 0; b < blocks; b++) {
    const base = dst + <usize>(((r >> 2) * blocks + b) * xb), rr = r & 3;
    const p = w + <usize>(r * rowBytes(kind, cols) + b * blockBytes(kind));
    for (let k = 0; k < values(kind); k++) {
      const want = r < rows ? fileQ(kind, w, cols, r, b, k) : 0;
      if (x4Q(kind, base, rr, k) != want) bad++;
    }
    // f16 fields: d at 0 (file: Q4_0/Q8_0/Q4_K/Q5_K at 0, Q6_K at 208); dmin at 8 (file: 2)
    const fd = kind == Q6_K ? 208 : 0;
    if (load<u16>(base + <usize>(2 * rr)) != (r < rows ? load<u16>(p + <usize>fd) : 0)) bad++;
    if ((kind == Q4_K || kind == Q5_K) && load<u16>(base + <usize>(8 + 2 * rr)) != (r < rows ? load<u16>(p + 2) : 0)) bad++;
    if (isK(kind)) {
      const subs = kind == Q6_K ? 16 : 8, sc = kind == Q6_K ? 8 : 16;
      for (let s = 0; s < subs; s++) {
        const at = <usize>(8 * (s >> 1) + 2 * rr + (s & 1));
        const scale = kind == Q6_K ? <i32>load<i8>(base + <usize>sc + at) : <i32>load<u8>(base + <usize>sc + at);
        if (scale != (r < rows ? kquantScale(kind, p, s * (256 / subs)) : 0)) bad++;
        if (kind != Q6_K && <i32>load<u8>(base + 48 + at) != (r < rows ? kquantMin(kind, p, s * 32) : 0)) bad++;
      }
    }
  }
  heap.free(w); heap.free(dst);
  return bad;
}

const X4_KINDS: i32[] = [Q8_0, Q4_0, Q4_K, Q5_K, Q6_K];

describe('x4 layouts: repacked bytes read back with the documented offsets', () => {
  it('values, d / dmin, scales, mins and zero padding rows (rows 1, 5, 7, 8; 2 blocks)', () => {
    const rowsList: i32[] = [1, 5, 7, 8];
    for (let k = 0; k < X4_KINDS.length; k++) for (let i = 0; i < rowsList.length; i++) {
      expect(layoutMismatches(X4_KINDS[k], rowsList[i], 2)).toBe(0, name(X4_KINDS[k]) + ' rows=' + rowsList[i].toString());
    }
  });
});

// ---- pair-order activations ----

/** Position of value i within its block in pair order (each 8 values as 0, 2, 1, 3, 4, 6, 5, 7). */
function pairPos(i: i32): i32 { const j = i & 7; return (i & ~7) + (j == 1 ? 2 : j == 2 ? 1 : j == 5 ? 6 : j == 6 ? 5 : j); }
/** Value i of the qs field at qs of a Q8X / Q8XK block: i16 in pair order (portable module) or i8 in order
 *  (relaxed-SIMD module). */
function xValue(qs: usize, i: i32): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? <i32>load<i8>(qs + <usize>i) : <i32>load<i16>(qs + <usize>(2 * pairPos(i)));
}

describe('Q8P / Q8X / Q8XK activations', () => {
  it('scale, values (in each layout\'s order) and sums of every block (random magnitudes, a zero block)', () => {
    const n = 512;
    const x = heap.alloc(n * 4), p = heap.alloc(n / 32 * 72), px = heap.alloc(n / 32 * 72), pk = heap.alloc(n / 256 * 576);
    for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), i >= 448 && i < 480 ? 0 : unit() * (i < 256 ? 3 : 0.01));
    quantize_q8p(x, p, n);
    quantize_q8x(x, px, n);
    quantize_q8xk(x, pk, n);
    let bad = 0;
    for (let b = 0; b < n / 32; b++) {
      let amax: f32 = 0;
      for (let i = 0; i < 32; i++) amax = max(amax, abs(load<f32>(x + (<usize>(32 * b + i) << 2))));
      const d: f32 = amax / 127, at = p + <usize>(72 * b), ax = px + <usize>(72 * b);
      if (load<f32>(at) != d || load<f32>(ax) != d) bad++;
      let sum = 0;
      for (let i = 0; i < 32; i++) {
        const q = d == 0 ? 0 : <i32>nearest(load<f32>(x + (<usize>(32 * b + i) << 2)) / d);
        if (<i32>load<i16>(at + 8 + <usize>(2 * pairPos(i))) != q) bad++;
        if (xValue(ax + 8, i) != q) bad++;
        sum += q;
      }
      if (load<i32>(at + 4) != sum || load<i32>(ax + 4) != sum) bad++;
    }
    for (let b = 0; b < n / 256; b++) {
      let amax: f32 = 0;
      for (let i = 0; i < 256; i++) amax = max(amax, abs(load<f32>(x + (<usize>(256 * b + i) << 2))));
      const d: f32 = amax / 127, at = pk + <usize>(576 * b);
      if (load<f32>(at) != d) bad++;
      for (let g = 0; g < 16; g++) {
        let sum = 0;
        for (let i = 16 * g; i < 16 * g + 16; i++) {
          const q = <i32>nearest(load<f32>(x + (<usize>(256 * b + i) << 2)) / d);
          if (xValue(at + 64, i) != q) bad++;
          sum += q;
        }
        if (<i32>load<i16>(at + 16 + <usize>(2 * g)) != sum) bad++;
        if ((g & 1) == 1 && <i32>load<i16>(at + 48 + <usize>(g - 1)) != sum + <i32>load<i16>(at + 16 + <usize>(2 * g - 2))) bad++;
      }
    }
    expect(bad).toBe(0);
    heap.free(x); heap.free(p); heap.free(px); heap.free(pk);
  });
});

// ---- kernels ----

function repackK(kind: i32, w: usize, dst: usize, rows: i32, cols: i32): void {
  if (kind == Q4_0) repack_q4_0x4(w, dst, rows, cols); else if (kind == Q8_0) repack_q8_0x4(w, dst, rows, cols);
  else if (kind == Q4_K) repack_q4_kx4(w, dst, rows, cols); else if (kind == Q5_K) repack_q5_kx4(w, dst, rows, cols);
  else repack_q6_kx4(w, dst, rows, cols);
}
function matvecX4(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32): void {
  if (kind == Q4_0) matvec_q4_0x4(w, x, y, rows, cols); else if (kind == Q8_0) matvec_q8_0x4(w, x, y, rows, cols);
  else if (kind == Q4_K) matvec_q4_kx4(w, x, y, rows, cols); else if (kind == Q5_K) matvec_q5_kx4(w, x, y, rows, cols);
  else matvec_q6_kx4(w, x, y, rows, cols);
}
function matmulX4(kind: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  if (kind == Q4_0) matmul_q4_0x4(w, x, y, rows, cols, n, ldy); else if (kind == Q8_0) matmul_q8_0x4(w, x, y, rows, cols, n, ldy);
  else if (kind == Q4_K) matmul_q4_kx4(w, x, y, rows, cols, n, ldy); else if (kind == Q5_K) matmul_q5_kx4(w, x, y, rows, cols, n, ldy);
  else matmul_q6_kx4(w, x, y, rows, cols, n, ldy);
}
function x4InputBytes(kind: i32, cols: i32): i32 { return isK(kind) ? cols / 256 * 576 : cols / 32 * 72; }
function quantizeX4(kind: i32, x: usize, xq: usize, n: i32): void {
  if (isK(kind)) quantize_q8xk(x, xq, n); else if (kind == Q8_0) quantize_q8p(x, xq, n); else quantize_q8x(x, xq, n);
}

const SENTINEL: u32 = 0x7fc0dead;

/**
 * Runs matvec_x4 per token (the values every other call must match) and returns the mismatches of matmul_x4
 * over all rows and over row blocks of 16, matvec_x4 over row blocks, and (types whose x4 kernels share the
 * file-layout kernels' arithmetic) the file-layout matvec; ldy = rows + 3, whose padding must stay untouched.
 */
function kernelMismatches(kind: i32, rows: i32, cols: i32, n: i32): i32 {
  const ib = inputBytes(kind, cols), xb = x4InputBytes(kind, cols), ldy = rows + 3;
  const w = heap.alloc(<usize>(rows * rowBytes(kind, cols))), wx = heap.alloc(x4_bytes(kind, rows, cols));
  const x = heap.alloc(<usize>(n * cols) << 2), xi = heap.alloc(<usize>(n * ib)), xq = heap.alloc(<usize>(n * xb));
  const want = heap.alloc(<usize>(n * ldy) << 2), got = heap.alloc(<usize>(n * ldy) << 2);
  fillWeights(kind, w, rows, cols);
  repackK(kind, w, wx, rows, cols);
  for (let i = 0; i < n * cols; i++) store<f32>(x + (<usize>i << 2), unit() * 4);
  prepareInput(kind, x, xi, cols, n);
  quantizeX4(kind, x, xq, n * cols);
  for (let t = 0; t < n; t++) matvecX4(kind, wx, xq + <usize>(t * xb), want + (<usize>(t * ldy) << 2), rows, cols);
  let bad = 0;
  for (let pass = 0; pass < 4; pass++) {
    if (pass == 3 && kind == Q4_0) break;
    for (let i = 0; i < n * ldy; i++) store<u32>(got + (<usize>i << 2), SENTINEL);
    if (pass == 0) matmulX4(kind, wx, xq, got, rows, cols, n, ldy);
    else if (pass == 3) for (let t = 0; t < n; t++) matvecK(kind, w, xi + <usize>(t * ib), got + (<usize>(t * ldy) << 2), rows, cols);
    else for (let r0 = 0; r0 < rows; r0 += 16) {
      const m = min(16, rows - r0), wr = wx + x4_bytes(kind, r0, cols), yr = got + (<usize>r0 << 2);
      if (pass == 1) matmulX4(kind, wr, xq, yr, m, cols, n, ldy);
      else for (let t = 0; t < n; t++) matvecX4(kind, wr, xq + <usize>(t * xb), yr + (<usize>(t * ldy) << 2), m, cols);
    }
    for (let t = 0; t < n; t++) for (let r = 0; r < ldy; r++) {
      const at = <usize>(t * ldy + r) << 2;
      if (r >= rows) { if (load<u32>(got + at) != SENTINEL) bad++; }
      else if (load<u32>(got + at) != load<u32>(want + at)) bad++;
    }
  }
  heap.free(w); heap.free(wx); heap.free(x); heap.free(xi); heap.free(xq); heap.free(want); heap.free(got);
  return bad;
}

/** Q4_0x4 matvec against the reference: d·dx·Σ (q - 8)·xq per block, exact (unit scales, integer x with |x|
 *  max 127 per block, so every f32 step is exact) or within 1e-5 of the sum of |terms| (random scales). */
function q4_0Mismatches(rows: i32, blocks: i32, exact: bool): i32 {
  const cols = 32 * blocks;
  const w = heap.alloc(<usize>(rows * rowBytes(Q4_0, cols))), wx = heap.alloc(x4_bytes(Q4_0, rows, cols));
  const x = heap.alloc(<usize>cols << 2), xq = heap.alloc(<usize>(cols / 32 * 72)), y = heap.alloc(<usize>rows << 2);
  fillWeights(Q4_0, w, rows, cols);
  for (let i = 0; i < rows * blocks; i++) if (exact) store<u16>(w + <usize>(18 * i), 0x3c00);
  for (let i = 0; i < cols; i++) {
    const v: f32 = exact ? ((i & 31) == 0 ? 127 : <f32>(<i32>(nextU32() % 255) - 127)) : unit() * 3;
    store<f32>(x + (<usize>i << 2), v);
  }
  repack_q4_0x4(w, wx, rows, cols);
  quantize_q8x(x, xq, cols);
  matvec_q4_0x4(wx, xq, y, rows, cols);
  let bad = 0;
  for (let r = 0; r < rows; r++) {
    let ref = 0.0, mag = 0.0;
    for (let b = 0; b < blocks; b++) {
      const p = w + <usize>(r * rowBytes(Q4_0, cols) + 18 * b), xb = xq + <usize>(72 * b);
      let s: i64 = 0;
      for (let i = 0; i < 32; i++) s += <i64>(legacyQ(Q4_0, p, i) - 8) * <i64>xValue(xb + 8, i);
      const term = <f64>f16_to_f32(<u32>load<u16>(p)) * <f64>load<f32>(xb) * <f64>s;
      ref += term; mag += Math.abs(term);
    }
    const got = <f64>load<f32>(y + (<usize>r << 2));
    if (exact ? got != ref : !(Math.abs(got - ref) <= 1e-5 * mag + 1e-30)) bad++;
  }
  heap.free(w); heap.free(wx); heap.free(x); heap.free(xq); heap.free(y);
  return bad;
}

function checkKernels(kind: i32): void {
  const rowsList: i32[] = [1, 6, 37];
  const cols = 2 * values(kind);
  for (let i = 0; i < rowsList.length; i++) for (let n = 1; n <= 9; n++) {
    expect(kernelMismatches(kind, rowsList[i], cols, n)).toBe(0, name(kind) + 'x4 rows=' + rowsList[i].toString() + ' n=' + n.toString());
  }
}

describe('x4 kernels', () => {
  it('Q8_0x4: the file-layout kernel\'s bits; matmul and row blocks give matvec\'s bits', () => { checkKernels(Q8_0); });
  it('Q4_Kx4: the same', () => { checkKernels(Q4_K); });
  it('Q5_Kx4: the same', () => { checkKernels(Q5_K); });
  it('Q6_Kx4: the same', () => { checkKernels(Q6_K); });
  it('Q4_0x4: matmul and row blocks give matvec\'s bits', () => { checkKernels(Q4_0); });
  it('relaxed_selfcheck: 1 in the relaxed-SIMD module (these tests then cover its kernels), 0 in the portable one', () => {
    expect(relaxed_selfcheck()).toBe(ASC_FEATURE_RELAXED_SIMD ? 1 : 0);
  });
  it('Q4_0x4 against the reference: exact with unit scales, within 1e-5 of sum|terms| with random ones', () => {
    const rowsList: i32[] = [1, 5, 13];
    for (let i = 0; i < rowsList.length; i++) {
      expect(q4_0Mismatches(rowsList[i], 3, true)).toBe(0, 'exact rows=' + rowsList[i].toString());
      expect(q4_0Mismatches(rowsList[i], 3, false)).toBe(0, 'random rows=' + rowsList[i].toString());
    }
  });
});
