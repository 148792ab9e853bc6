// Shared row loops of the legacy-quant and K-quant weight kernels (matmul_legacy.ts, matmul_kquant.ts). Each
// function is @inline and called with a constant `kind` (a type id of types.ts), so each type gets its own
// code with the other types' branches folded away. Each family supplies its per-block step: dot_legacy.ts
// (Q4_0..Q5_1 against Q8W activations) and dot_kquant.ts (Q2_K..Q6_K against Q8KW).
//
// Every (row, token) value is computed in one order, whichever kernel, row group or token group computes it:
// per block (super-block) in turn, the block's integer sums are formed exactly, then the block's f32 step
// (dot_legacy.ts, dot_kquant.ts) is added to one f32 sum. So a row's result never depends on the other rows
// or tokens of a call.
//
//   matvec: one row at a time (dot1): one sequential weight stream and a loop body small enough that nothing
//           spills. Legacy types reduce 4 blocks' sums at once (hsum4i) and add their f32 terms in turn; a
//           K-quant super-block's sums are reduced once.
//   matmul: token-major, every group of 4 rows (a few KiB, cache-resident) applied to every token in turn
//           (dot4, one f32 lane per row); a tail row goes as 4 copies of itself.
import { nibMask, halfRescale } from './quant_simd';
import { laneSumPairs } from './lanes';
import { Q2_K, Q6_K } from './types';
import { legacyBlockBytes, legacyHasMin } from './blocks_legacy';
import { kquantBlockBytes } from './blocks_kquant';
import { Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES } from './blocks_act';
import { legacyLoopConst, legacyStep1, legacyMinTerm1, legacyRowTokens4 } from './dot_legacy';
import { kquantLoopConst, kquantStep1 } from './dot_kquant';
import { kquantRowTokens4 } from './tile_kquant';

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
  let p = w, xb = x;
  const end = x + (<usize>blocks) * xbb;
  if (isKQuant(kind)) {
    let acc: f32 = 0;
    while (xb < end) {
      acc = kquantStep1(kind, acc, p, xb, m, c1, c2, c3);
      p += wb; xb += xbb;
    }
    return acc;
  }
  const k = halfRescale(); // the f16 scales' rescale factor, kept in a register
  let acc = f32x4.splat(0);
  let accM: f32 = 0; // Σ m·dx·sx of Q4_1 / Q5_1 (0 for Q4_0 / Q5_0)
  while (xb < end) {
    acc = legacyStep1(kind, acc, p, xb, m, c1, c2, c3, k);
    if (legacyHasMin(kind)) accM += legacyMinTerm1(kind, p, xb, k);
    p += wb; xb += xbb;
  }
  return laneSumPairs(acc) + accM;
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
  const wb = blockBytes(kind), rowBytes = (<usize>blocks) * wb;
  const xStride = (<usize>blocks) * actBytes(kind), yStride = <usize>ldy << 2;
  for (let r = 0; r < rows; r++) {
    const wr = w + (<usize>r) * rowBytes, yr = y + (<usize>r << 2);
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      const xt = xq + (<usize>t) * xStride, yt = yr + (<usize>t) * yStride;
      const v = isKQuant(kind) ? kquantRowTokens4(kind, wr, wb, xt, xStride, blocks) : legacyRowTokens4(kind, wr, wb, xt, xStride, blocks);
      v128.store32_lane(yt, v, 0);
      v128.store32_lane(yt + yStride, v, 1);
      v128.store32_lane(yt + 2 * yStride, v, 2);
      v128.store32_lane(yt + 3 * yStride, v, 3);
    }
    for (; t < n; t++) store<f32>(yr + (<usize>t) * yStride, dot1(kind, wr, xq + (<usize>t) * xStride, blocks));
  }
}
