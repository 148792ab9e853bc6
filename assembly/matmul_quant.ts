// Shared row loops of the legacy-quant and K-quant weight kernels (matmul_legacy.ts, matmul_kquant.ts). Each
// function is @inline and called with a constant `kind` (a type id of types.ts), so each type gets its own
// code with the other types' branches folded away. Each family supplies its per-block step: dot_legacy.ts
// (Q4_0..Q5_1 against Q8W activations) and dot_kquant.ts (Q2_K..Q6_K against Q8KW) add one block's
// d·dx·(exact integer sum) and min term to the f32 accumulator; Q4_1/Q5_1's m·dx·sx goes to a scalar sum
// in the one-row loop.
//
//   matvec: one row at a time (dot1): one sequential weight stream (neighbouring rows read side by side
//           stream much slower) and a loop body small enough that nothing spills; the per-block f32 terms
//           stay 4 partial lanes until the end.
//   matmul: token-major, every group of 4 rows (a few KiB, cache-resident) applied to every token in turn
//           (dot4, one f32 lane per row); a tail row goes as 4 copies of itself.
import { nibMask, halfRescale } from './quant_simd';
import { laneSumPairs } from './lanes';
import { Q2_K, Q6_K } from './types';
import { legacyBlockBytes, legacyHasMin } from './blocks_legacy';
import { kquantBlockBytes } from './blocks_kquant';
import { Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from './blocks_act';
import { legacyLoopConst, legacyStep1, legacyStep4, legacyMinTerm1 } from './dot_legacy';
import { kquantLoopConst, kquantStep1, kquantStep4 } from './dot_kquant';

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
/** The family's loop constants 1..3 (constant 0 is nibMask()), loaded once before a loop. */
// @ts-ignore: decorator
@inline function loopConst(kind: i32, i: i32): v128 { return isKQuant(kind) ? kquantLoopConst(i) : legacyLoopConst(i); }

/** One row (`blocks` blocks at w) · one activation row x. */
// @ts-ignore: decorator
@inline function dot1(kind: i32, w: usize, x: usize, blocks: i32): f32 {
  const wb = blockBytes(kind), xbb = actBytes(kind), m = nibMask();
  const c1 = loopConst(kind, 1), c2 = loopConst(kind, 2), c3 = loopConst(kind, 3);
  const k = isKQuant(kind) ? <f32>0 : halfRescale(); // legacy: the f16 scales' rescale factor, kept in a register
  let acc = f32x4.splat(0);
  let accM: f32 = 0; // legacy: Σ m·dx·sx of Q4_1 / Q5_1 (0 for Q4_0 / Q5_0)
  let p = w, xb = x;
  const end = x + (<usize>blocks) * xbb;
  while (xb < end) {
    acc = isKQuant(kind) ? kquantStep1(kind, acc, p, xb, m, c1, c2, c3) : legacyStep1(kind, acc, p, xb, m, c1, c2, c3, k);
    if (!isKQuant(kind) && legacyHasMin(kind)) accM += legacyMinTerm1(kind, p, xb, k);
    p += wb; xb += xbb;
  }
  return isKQuant(kind) ? laneSumPairs(acc) : laneSumPairs(acc) + accM;
}

/** Rows w0..w3 (`blocks` blocks each) · one activation row x: f32x4, lane = row. */
// @ts-ignore: decorator
@inline function dot4(kind: i32, w0: usize, w1: usize, w2: usize, w3: usize, x: usize, blocks: i32): v128 {
  const wb = blockBytes(kind), xbb = actBytes(kind), m = nibMask();
  const c1 = loopConst(kind, 1), c2 = loopConst(kind, 2), c3 = loopConst(kind, 3);
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const xb = x + (<usize>b) * xbb, o = (<usize>b) * wb;
    const p0 = w0 + o, p1 = w1 + o, p2 = w2 + o, p3 = w3 + o;
    acc = isKQuant(kind) ? kquantStep4(kind, acc, p0, p1, p2, p3, xb, m, c1, c2, c3) : legacyStep4(kind, acc, p0, p1, p2, p3, xb, m, c1, c2, c3);
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
