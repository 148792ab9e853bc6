// The relaxed-SIMD module's startup self-check. i32x4.relaxed_dot_i8x16_i7x16_add_s may be lowered wrongly by
// a runtime (Node 20's baseline compiler, behind --experimental-wasm-relaxed-simd, returns wrong sums), so a
// runtime loads this module only where relaxed_selfcheck() returns 1 on it, called once on one thread before
// any other kernel (it works in its own static buffer); elsewhere it loads the portable module, whose
// relaxed_selfcheck() returns 0. The check runs the instruction itself on operands across its input range
// (first operand any i8, second 0..127) against a scalar sum, and the relaxed kernels against the portable
// ones of the same module: matvec and matmul of Q4_Kx4, Q5_Kx4, Q6_Kx4 must give the bits of the file-layout
// K-quant matvec (the same integers and f32 steps), and Q4_0x4 the bits of its f32 steps replayed here.
import { Q4_0 } from './types';
import { repack_q4_0x4, repack_q4_kx4, repack_q5_kx4, repack_q6_kx4 } from './repack_x4';
import { matvec_q4_0x4 } from './matmul_x4_legacy';
import { matvec_q4_kx4, matvec_q5_kx4, matvec_q6_kx4, matmul_q4_kx4, matmul_q5_kx4, matmul_q6_kx4 } from './matmul_x4_kquant';
import { matvec_q4_k, matvec_q5_k, matvec_q6_k } from './matmul_kquant';
import { quantize_q8x, quantize_q8xk } from './quant_act_pair';
import { quantize_q8kw } from './quant_act_wide';
import { legacyQ } from './dequant_quants';
import { f16_to_f32_finite } from './f16';
import { Q4_0_BLOCK_BYTES, Q4_0_D } from './blocks_legacy';
import { Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES, Q4_K_D, Q4_K_DMIN, Q5_K_D, Q5_K_DMIN, Q6_K_D } from './blocks_kquant';
import { Q8KW_BLOCK_BYTES, Q8XK_BLOCK_BYTES, Q8X_BLOCK_BYTES, Q8X_D, Q8X_SUM, Q8X_QS } from './blocks_act';

const ROWS = 8, TOKENS = 5, COLS = 256;
// the buffer's parts: weights (file, x4: at most 256 bytes a row), activations (f32, Q8KW, Q8XK or Q8X),
// outputs (x4 kernel, reference)
const W: usize = 0, WX: usize = W + ROWS * 256, X: usize = WX + ROWS * 256, XW: usize = X + TOKENS * COLS * 4;
const XX: usize = XW + <usize>TOKENS * Q8KW_BLOCK_BYTES, Y: usize = XX + <usize>TOKENS * Q8XK_BLOCK_BYTES, YR: usize = Y + TOKENS * ROWS * 4;
const BUF: usize = memory.data(<i32>YR + TOKENS * ROWS * 4, 16);

let seed: u32 = 0;
function next(): u32 { seed = seed * 1664525 + 1013904223; return seed ^ (seed >> 16); }

/** Mismatching lanes of the instruction against a scalar sum over 256 random operand triples. */
function instructionMismatches(): i32 {
  let bad = 0;
  for (let t = 0; t < 256; t++) {
    for (let i = 0; i < 16; i++) {
      store<u8>(BUF + <usize>i, <u8>next());
      store<u8>(BUF + 16 + <usize>i, <u8>(next() & 127));
    }
    store<u32>(BUF, 0x7f80ff80); store<u32>(BUF + 16, 0x007f7f00); // the ends of both ranges in lane 0
    for (let l = 0; l < 4; l++) store<u32>(BUF + 48 + <usize>(4 * l), next());
    if (ASC_FEATURE_RELAXED_SIMD) v128.store(BUF + 32, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(BUF), v128.load(BUF + 16), v128.load(BUF + 48)));
    for (let l = 0; l < 4; l++) {
      let want = load<i32>(BUF + 48 + <usize>(4 * l));
      for (let k = 0; k < 4; k++) want += <i32>load<i8>(BUF + <usize>(4 * l + k)) * <i32>load<u8>(BUF + 16 + <usize>(4 * l + k));
      if (load<i32>(BUF + 32 + <usize>(4 * l)) != want) bad++;
    }
  }
  return bad;
}

/** Random blocks with unit-scale (f16 1.0) scale fields at the given offsets (dmin < 0: none). */
function fillBlocks(p: usize, n: i32, bytes: usize, d: usize, dmin: isize): void {
  for (let b = 0; b < n; b++) {
    const q = p + <usize>b * bytes;
    for (let i: usize = 0; i < bytes; i++) store<u8>(q + i, <u8>next());
    store<u16>(q + d, 0x3c00);
    if (dmin >= 0) store<u16>(q + <usize>dmin, 0x3800);
  }
}

/** Random activations at X for all tokens, and their Q8KW and Q8XK forms. */
function fillX(): void {
  for (let i = 0; i < TOKENS * COLS; i++) store<f32>(BUF + X + (<usize>i << 2), <f32>(<i32>(next() >> 8) - (1 << 23)) / <f32>(1 << 21));
  quantize_q8kw(BUF + X, BUF + XW, TOKENS * COLS);
  quantize_q8xk(BUF + X, BUF + XX, TOKENS * COLS);
}

/** Mismatching outputs of a K-quant x4 kind's matvec (every token) and matmul (all tokens) against the
 *  file-layout matvec. */
function kquantMismatches(kind: i32): i32 {
  const bytes = kind == 12 ? Q4_K_BLOCK_BYTES : kind == 13 ? Q5_K_BLOCK_BYTES : Q6_K_BLOCK_BYTES;
  const d = kind == 12 ? Q4_K_D : kind == 13 ? Q5_K_D : Q6_K_D;
  const dmin: isize = kind == 12 ? <isize>Q4_K_DMIN : kind == 13 ? <isize>Q5_K_DMIN : -1;
  fillBlocks(BUF + W, ROWS, bytes, d, dmin);
  fillX();
  if (kind == 12) repack_q4_kx4(BUF + W, BUF + WX, ROWS, COLS);
  else if (kind == 13) repack_q5_kx4(BUF + W, BUF + WX, ROWS, COLS);
  else repack_q6_kx4(BUF + W, BUF + WX, ROWS, COLS);
  let bad = 0;
  for (let t = 0; t < TOKENS; t++) {
    const xw = BUF + XW + <usize>t * Q8KW_BLOCK_BYTES, xx = BUF + XX + <usize>t * Q8XK_BLOCK_BYTES, yr = BUF + YR + <usize>(t * ROWS * 4);
    if (kind == 12) { matvec_q4_k(BUF + W, xw, yr, ROWS, COLS); matvec_q4_kx4(BUF + WX, xx, BUF + Y, ROWS, COLS); }
    else if (kind == 13) { matvec_q5_k(BUF + W, xw, yr, ROWS, COLS); matvec_q5_kx4(BUF + WX, xx, BUF + Y, ROWS, COLS); }
    else { matvec_q6_k(BUF + W, xw, yr, ROWS, COLS); matvec_q6_kx4(BUF + WX, xx, BUF + Y, ROWS, COLS); }
    for (let r = 0; r < ROWS; r++) if (load<u32>(BUF + Y + <usize>(4 * r)) != load<u32>(yr + <usize>(4 * r))) bad++;
  }
  if (kind == 12) matmul_q4_kx4(BUF + WX, BUF + XX, BUF + Y, ROWS, COLS, TOKENS, ROWS);
  else if (kind == 13) matmul_q5_kx4(BUF + WX, BUF + XX, BUF + Y, ROWS, COLS, TOKENS, ROWS);
  else matmul_q6_kx4(BUF + WX, BUF + XX, BUF + Y, ROWS, COLS, TOKENS, ROWS);
  for (let i = 0; i < TOKENS * ROWS; i++) if (load<u32>(BUF + Y + <usize>(4 * i)) != load<u32>(BUF + YR + <usize>(4 * i))) bad++;
  return bad;
}

/** Mismatching outputs of matvec_q4_0x4 against its f32 steps replayed on the file blocks: per block the exact
 *  integer S = Σ q·x less 8·sx, then acc + f32(S)·(d·dx). */
function q4_0Mismatches(): i32 {
  fillBlocks(BUF + W, ROWS * COLS / 32, Q4_0_BLOCK_BYTES, Q4_0_D, -1);
  fillX();
  quantize_q8x(BUF + X, BUF + XX, COLS);
  repack_q4_0x4(BUF + W, BUF + WX, ROWS, COLS);
  matvec_q4_0x4(BUF + WX, BUF + XX, BUF + Y, ROWS, COLS);
  const vb: usize = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
  let bad = 0;
  for (let r = 0; r < ROWS; r++) {
    let acc: f32 = 0;
    for (let b = 0; b < COLS / 32; b++) {
      const p = BUF + W + <usize>(r * COLS / 32 + b) * Q4_0_BLOCK_BYTES, xb = BUF + XX + <usize>b * Q8X_BLOCK_BYTES;
      let s = 0;
      for (let i = 0; i < 32; i++) {
        // Q8X's value i: in order (relaxed) or at its pair-order place (portable)
        const j = i & 7, at = vb == 1 ? i : (i & ~7) + (j == 1 ? 2 : j == 2 ? 1 : j == 5 ? 6 : j == 6 ? 5 : j);
        s += legacyQ(Q4_0, p, i) * (vb == 1 ? <i32>load<i8>(xb + Q8X_QS + <usize>at) : <i32>load<i16>(xb + Q8X_QS + (<usize>at << 1)));
      }
      s -= load<i32>(xb + Q8X_SUM) << 3;
      acc = acc + <f32>s * (f16_to_f32_finite(<u32>load<u16>(p + Q4_0_D)) * load<f32>(xb + Q8X_D));
    }
    if (reinterpret<u32>(acc) != load<u32>(BUF + Y + <usize>(4 * r))) bad++;
  }
  return bad;
}

/** 1 where this module's relaxed-SIMD kernels give the portable results on this runtime, 0 where they do
 *  not, or in the portable module (no relaxed kernels). */
export function relaxed_selfcheck(): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  seed = 0x2545f491;
  const bad = instructionMismatches() + q4_0Mismatches() + kquantMismatches(12) + kquantMismatches(13) + kquantMismatches(14);
  return bad == 0 ? 1 : 0;
}
