// Shared row loops of the legacy-quant and K-quant weight kernels (matmul_legacy.ts, matmul_kquant.ts). Each
// function is @inline and called with a constant `kind` (a type id of types.ts), so each type gets its own
// code with the other types' branches folded away. The block dot products come from dot_legacy.ts
// (Q4_0..Q5_1 against Q8W activations) and dot_kquant.ts (Q2_K..Q6_K against Q8KW); per block they give the
// exact integer sum S of each row (offsets applied), and the loops here add d·dx·S in f32, plus each
// family's min term: K-quants subtract dmin·dx·M in the vector sum, Q4_1/Q5_1 add m·dx·sx.
//
//   matvec: one row at a time (dot1): one sequential weight stream (neighbouring rows read side by side
//           stream much slower) and a loop body small enough that nothing spills; the per-block f32 terms
//           stay 4 partial lanes until the end.
//   matmul: token-major, every group of 4 rows (a few KiB, cache-resident) applied to every token in turn
//           (dot4, one f32 lane per row); a tail row goes as 4 copies of itself.
import { halves4, nibMask, halfRescale, halfToF32 } from './quant_simd';
import { laneSumPairs } from './lanes';
import { Q2_K, Q6_K } from './types';
import { legacyBlockBytes, legacyD, legacyHasMin } from './blocks_legacy';
import { kquantBlockBytes, kquantD, kquantHasMins } from './blocks_kquant';
import { Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from './blocks_act';
import { legacyLoopConst, legacySums1, legacySums4, legacyMinTerm1, legacyMinTerm4 } from './dot_legacy';
import { kquantLoopConst, kquantSums1, kquantSums4, kquantMinTerm1, kquantMinTerm4 } from './dot_kquant';

// @ts-ignore: decorator
@inline function isKQuant(kind: i32): bool { return kind >= Q2_K && kind <= Q6_K; }
/** log2 of the values per weight block: 256 (K-quants) or 32. */
// @ts-ignore: decorator
@inline function log2Values(kind: i32): i32 { return isKQuant(kind) ? 8 : 5; }
// @ts-ignore: decorator
@inline function blockBytes(kind: i32): usize { return isKQuant(kind) ? kquantBlockBytes(kind) : legacyBlockBytes(kind); }
/** Bytes of the activation block (Q8KW or Q8W) that goes with one weight block. */
// @ts-ignore: decorator
@inline function actBytes(kind: i32): usize { return isKQuant(kind) ? Q8KW_BLOCK_BYTES : Q8W_BLOCK_BYTES; }
/** Offset of the f16 scale d in a weight block. */
// @ts-ignore: decorator
@inline function dOffset(kind: i32): usize { return isKQuant(kind) ? kquantD(kind) : legacyD(kind); }
/** The family's loop constants 1..3 (constant 0 is nibMask()), loaded once before a loop. */
// @ts-ignore: decorator
@inline function loopConst(kind: i32, i: i32): v128 { return isKQuant(kind) ? kquantLoopConst(i) : legacyLoopConst(i); }

/** One row (`blocks` blocks at w) · one activation row x. */
// @ts-ignore: decorator
@inline function dot1(kind: i32, w: usize, x: usize, blocks: i32): f32 {
  const wb = blockBytes(kind), xbb = actBytes(kind), dOff = dOffset(kind), m = nibMask(), k = halfRescale();
  const c1 = loopConst(kind, 1), c2 = loopConst(kind, 2), c3 = loopConst(kind, 3);
  let acc = f32x4.splat(0);
  let accM: f32 = 0; // Q4_1 / Q5_1: Σ m·dx·sx
  let p = w, xb = x;
  const end = x + (<usize>blocks) * xbb;
  while (xb < end) {
    const dx = load<f32>(xb);
    const s = isKQuant(kind) ? kquantSums1(kind, p, xb, m, c1, c2, c3) : legacySums1(kind, p, xb, m, c1, c2, c3);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(halfToF32(<u32>load<u16>(p + dOff), k) * dx)));
    if (isKQuant(kind) && kquantHasMins(kind)) acc = kquantMinTerm1(kind, acc, p, xb, dx, k);
    if (!isKQuant(kind) && legacyHasMin(kind)) accM += legacyMinTerm1(kind, p, xb, dx, k);
    p += wb; xb += xbb;
  }
  return !isKQuant(kind) && legacyHasMin(kind) ? laneSumPairs(acc) + accM : laneSumPairs(acc);
}

/** Rows w0..w3 (`blocks` blocks each) · one activation row x: f32x4, lane = row. */
// @ts-ignore: decorator
@inline function dot4(kind: i32, w0: usize, w1: usize, w2: usize, w3: usize, x: usize, blocks: i32): v128 {
  const wb = blockBytes(kind), xbb = actBytes(kind), dOff = dOffset(kind), m = nibMask();
  const c1 = loopConst(kind, 1), c2 = loopConst(kind, 2), c3 = loopConst(kind, 3);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const xb = x + (<usize>b) * xbb, o = (<usize>b) * wb;
    const p0 = w0 + o, p1 = w1 + o, p2 = w2 + o, p3 = w3 + o;
    const dx = load<f32>(xb);
    const s = isKQuant(kind) ? kquantSums4(kind, p0, p1, p2, p3, xb, m, c1, c2, c3) : legacySums4(kind, p0, p1, p2, p3, xb, m, c1, c2, c3);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(halves4(p0 + dOff, p1 + dOff, p2 + dOff, p3 + dOff), f32x4.splat(dx))));
    if (isKQuant(kind) && kquantHasMins(kind)) acc = kquantMinTerm4(kind, acc, p0, p1, p2, p3, xb, dx);
    if (!isKQuant(kind) && legacyHasMin(kind)) acc = legacyMinTerm4(kind, acc, p0, p1, p2, p3, xb, dx);
  }
  return acc;
}

/** y[r] = W[r,:]·x for r < rows; xq holds cols/32 Q8W or cols/256 Q8KW blocks. */
// @ts-ignore: decorator
@inline export function quantMatvec(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32): void {
  const blocks = cols >> log2Values(kind);
  const rowBytes = (<usize>blocks) * blockBytes(kind);
  for (let r = 0; r < rows; r++) store<f32>(y + (<usize>r << 2), dot1(kind, w + (<usize>r) * rowBytes, xq, blocks));
}

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols/32 Q8W or cols/256 Q8KW blocks apart. */
// @ts-ignore: decorator
@inline export function quantMatmul(kind: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32): void {
  const blocks = cols >> log2Values(kind);
  const rowBytes = (<usize>blocks) * blockBytes(kind);
  const xStride = (<usize>blocks) * actBytes(kind), yStride = <usize>ldy << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + (<usize>r) * rowBytes;
    for (let t = 0; t < n; t++) {
      v128.store(y + (<usize>t) * yStride + (<usize>r << 2),
        dot4(kind, w0, w0 + rowBytes, w0 + 2 * rowBytes, w0 + 3 * rowBytes, xq + (<usize>t) * xStride, blocks));
    }
  }
  for (; r < rows; r++) {
    const wr = w + (<usize>r) * rowBytes;
    for (let t = 0; t < n; t++) {
      store<f32>(y + (<usize>t) * yStride + (<usize>r << 2), f32x4.extract_lane(dot4(kind, wr, wr, wr, wr, xq + (<usize>t) * xStride, blocks), 0));
    }
  }
}
