// The prefill tile of the K-quant kernels (matmul_kquant.ts): one row of super-blocks (layouts in
// blocks_kquant.ts) against 4 tokens' Q8KW rows (blocks_act.ts). Each 16-byte piece of a super-block is
// unpacked once into i16 lanes with its sub-block scale multiplied in, then dotted with the 4 tokens'
// activation groups, so the unpacking is paid once per 4 tokens.
//
// Per (token, super-block) the integer sums are exact, whichever way they are formed: R = Σ scale·Σ q·x
// (scale·q fits an i16: at most 63·31 for Q5_K, 128·63 for Q6_K), less offset·Σ scale·Σ x for Q3_K / Q6_K,
// and M = Σ min·Σ x for the types with mins. The f32 step per super-block is the one-row kernel's
// (dot_kquant.ts kquantStep1): acc + f32(R)·(d·dx), then - f32(M)·(dmin·dx). So each (row, token) value
// has the bits of matvec on that token.
import { hsum4i, nibMask, nibLoEven, nibLoOdd, nibHiEven, nibHiOdd, permSub16, evenByteMask, byteMask0f, byteMask30 } from './quant_simd';
import { Q2_K, Q3_K, Q4_K, Q5_K, Q6_K } from './types';
import { Q3_K_HMASK, Q6_K_QL, Q6_K_QH, Q6_K_SCALES, Q2_K_SCALES, Q5_K_QH, k23Qs, k45Qs, kquantD, kquantDmin, kquantHasMins, q3kScales, q4kScalesMins } from './blocks_kquant';
import { Q8KW_BLOCK_BYTES, Q8KW_D, Q8KW_QS, GROUP_BYTES } from './blocks_act';
import { rowMin, sumsDot } from './dot_kquant';
import { f16_to_f32_finite } from './f16';

/** acc + the dot of 16 weights (even lanes e, odd lanes o, i16) with the activation group at xg. */
// @ts-ignore: decorator
@inline function dotGroup(acc: v128, e: v128, o: v128, xg: usize): v128 {
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(e, v128.load(xg)), i32x4.dot_i16x8_s(o, v128.load(xg, 16))));
}

/** Lane j (0..3, a constant) of the i16 lanes of v in every lane. */
// @ts-ignore: decorator
@inline function lane16(v: v128, j: i32): v128 {
  return j == 0 ? i16x8.shuffle(v, v, 0, 0, 0, 0, 0, 0, 0, 0) : j == 1 ? i16x8.shuffle(v, v, 1, 1, 1, 1, 1, 1, 1, 1)
    : j == 2 ? i16x8.shuffle(v, v, 2, 2, 2, 2, 2, 2, 2, 2) : i16x8.shuffle(v, v, 3, 3, 3, 3, 3, 3, 3, 3);
}

/** The 4 f32 lanes at p, p + stride, p + 2·stride, p + 3·stride. */
// @ts-ignore: decorator
@inline function gather4(p: usize, stride: usize): v128 {
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + stride, v, 1);
  v = v128.load32_lane(p + 2 * stride, v, 2);
  return v128.load32_lane(p + 3 * stride, v, 3);
}

/** One row (`blocks` super-blocks at w, wb bytes each) · 4 tokens' Q8KW rows at x, xStride bytes apart:
 *  lane t of the result is token t's value. */
// @ts-ignore: decorator
@inline export function kquantRowTokens4(kind: i32, w: usize, wb: usize, x: usize, xStride: usize, blocks: i32): v128 {
  const m = nibMask(), eb = evenByteMask(), lo = byteMask0f(), top = byteMask30(), c3 = i8x16.splat(3), c4 = i8x16.splat(4);
  const s1 = xStride, s2 = xStride << 1, s3 = xStride * 3;
  let acc = f32x4.splat(0);
  let p = w, xb = x;
  for (let b = 0; b < blocks; b++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let r: v128; // R, lane t: token t's
    const xq = xb + Q8KW_QS;
    if (kind == Q4_K || kind == Q5_K) {
      // pair k: sub-block 2k in the low nibbles of 32 bytes (groups 4k, 4k+1), 2k+1 in the high ones (4k+2, 4k+3)
      let sc = i16x8.extend_low_i8x16_u(q4kScalesMins(p));
      const h0 = kind == Q5_K ? v128.load(p, Q5_K_QH) : m, h1 = kind == Q5_K ? v128.load(p, Q5_K_QH + 16) : m;
      const sixteen = i16x8.splat(16);
      for (let k = 0; k < 4; k++) {
        const qs = p + k45Qs(kind) + (<usize>k << 5), g = xq + (<usize>k << 7);
        const v0 = v128.load(qs), v1 = v128.load(qs, 16);
        let sa = lane16(sc, 0), sb = lane16(sc, 1);
        let e0 = nibLoEven(v0, m), o0 = nibLoOdd(v0, m), e1 = nibLoEven(v1, m), o1 = nibLoOdd(v1, m);
        if (kind == Q5_K) {
          // bit 2k of qh byte l is bit 4 of value 64k + l: even bytes at bits 0..7 of a lane (moved up 4 first)
          const b0 = <i32>(2 * k);
          e0 = v128.or(e0, v128.and(i16x8.shr_u(i16x8.shl(h0, 4), b0), sixteen));
          o0 = v128.or(o0, v128.and(i16x8.shr_u(h0, b0 + 4), sixteen));
          e1 = v128.or(e1, v128.and(i16x8.shr_u(i16x8.shl(h1, 4), b0), sixteen));
          o1 = v128.or(o1, v128.and(i16x8.shr_u(h1, b0 + 4), sixteen));
        }
        e0 = i16x8.mul(e0, sa); o0 = i16x8.mul(o0, sa); e1 = i16x8.mul(e1, sa); o1 = i16x8.mul(o1, sa);
        a0 = dotGroup(dotGroup(a0, e0, o0, g), e1, o1, g + GROUP_BYTES);
        a1 = dotGroup(dotGroup(a1, e0, o0, g + s1), e1, o1, g + s1 + GROUP_BYTES);
        a2 = dotGroup(dotGroup(a2, e0, o0, g + s2), e1, o1, g + s2 + GROUP_BYTES);
        a3 = dotGroup(dotGroup(a3, e0, o0, g + s3), e1, o1, g + s3 + GROUP_BYTES);
        e0 = nibHiEven(v0, m); o0 = nibHiOdd(v0); e1 = nibHiEven(v1, m); o1 = nibHiOdd(v1);
        if (kind == Q5_K) {
          const b1 = <i32>(2 * k + 1);
          e0 = v128.or(e0, v128.and(i16x8.shr_u(i16x8.shl(h0, 4), b1), sixteen));
          o0 = v128.or(o0, v128.and(i16x8.shr_u(h0, b1 + 4), sixteen));
          e1 = v128.or(e1, v128.and(i16x8.shr_u(i16x8.shl(h1, 4), b1), sixteen));
          o1 = v128.or(o1, v128.and(i16x8.shr_u(h1, b1 + 4), sixteen));
        }
        e0 = i16x8.mul(e0, sb); o0 = i16x8.mul(o0, sb); e1 = i16x8.mul(e1, sb); o1 = i16x8.mul(o1, sb);
        const gh = g + 2 * GROUP_BYTES;
        a0 = dotGroup(dotGroup(a0, e0, o0, gh), e1, o1, gh + GROUP_BYTES);
        a1 = dotGroup(dotGroup(a1, e0, o0, gh + s1), e1, o1, gh + s1 + GROUP_BYTES);
        a2 = dotGroup(dotGroup(a2, e0, o0, gh + s2), e1, o1, gh + s2 + GROUP_BYTES);
        a3 = dotGroup(dotGroup(a3, e0, o0, gh + s3), e1, o1, gh + s3 + GROUP_BYTES);
        sc = i16x8.shuffle(sc, sc, 2, 3, 4, 5, 6, 7, 0, 1);
      }
      r = hsum4i(a0, a1, a2, a3);
    } else {
      // 16-value sub-blocks in chunks (n, h) of 16 bytes: sub-blocks 8n + h + 2j (j < 4) from one chunk; their
      // scales are lanes 8n + 4h + j of the permuted scales (permSub16), widened to i16 and moved down 4 lanes
      // after each chunk.
      const sc8 = kind == Q6_K ? permSub16(v128.load(p, Q6_K_SCALES))
        : kind == Q3_K ? permSub16(q3kScales(p)) : v128.and(permSub16(v128.load(p, Q2_K_SCALES)), lo); // Q2_K: low nibbles
      let sc = i16x8.extend_low_i8x16_s(sc8);
      for (let n = 0; n < 2; n++) {
        for (let h = 0; h < 2; h++) {
          const g = xq + (<usize>(8 * n + h) << 5);
          let q0: v128, q1: v128, q2: v128, q3: v128;
          if (kind == Q6_K) {
            const qa = v128.load(p + Q6_K_QL + (<usize>(64 * n + 16 * h))), qb = v128.load(p + Q6_K_QL + (<usize>(64 * n + 32 + 16 * h)));
            const qh = v128.load(p + Q6_K_QH + (<usize>(32 * n + 16 * h)));
            q0 = v128.or(v128.and(qa, lo), v128.and(i16x8.shl(qh, 4), top));
            q1 = v128.or(v128.and(qb, lo), v128.and(i16x8.shl(qh, 2), top));
            q2 = v128.or(v128.and(i16x8.shr_u(qa, 4), lo), v128.and(qh, top));
            q3 = v128.or(v128.and(i16x8.shr_u(qb, 4), lo), v128.and(i16x8.shr_u(qh, 2), top));
          } else {
            const q = v128.load(p + k23Qs(kind) + (<usize>(32 * n + 16 * h)));
            q0 = v128.and(q, c3); q1 = v128.and(i16x8.shr_u(q, 2), c3);
            q2 = v128.and(i16x8.shr_u(q, 4), c3); q3 = v128.and(i16x8.shr_u(q, 6), c3);
            if (kind == Q3_K) {
              // bit 4n + j of hmask byte l is bit 2 of value 128n + 32j + 16h + l
              const hn = i16x8.shr_u(v128.load(p + Q3_K_HMASK + (<usize>(16 * h))), 4 * n);
              q0 = v128.or(q0, v128.and(i16x8.shl(hn, 2), c4));
              q1 = v128.or(q1, v128.and(i16x8.shl(hn, 1), c4));
              q2 = v128.or(q2, v128.and(hn, c4));
              q3 = v128.or(q3, v128.and(i16x8.shr_u(hn, 1), c4));
            }
          }
          let s = lane16(sc, 0), e = i16x8.mul(v128.and(q0, eb), s), o = i16x8.mul(i16x8.shr_u(q0, 8), s);
          a0 = dotGroup(a0, e, o, g); a1 = dotGroup(a1, e, o, g + s1); a2 = dotGroup(a2, e, o, g + s2); a3 = dotGroup(a3, e, o, g + s3);
          s = lane16(sc, 1); e = i16x8.mul(v128.and(q1, eb), s); o = i16x8.mul(i16x8.shr_u(q1, 8), s);
          const g1 = g + 2 * GROUP_BYTES;
          a0 = dotGroup(a0, e, o, g1); a1 = dotGroup(a1, e, o, g1 + s1); a2 = dotGroup(a2, e, o, g1 + s2); a3 = dotGroup(a3, e, o, g1 + s3);
          s = lane16(sc, 2); e = i16x8.mul(v128.and(q2, eb), s); o = i16x8.mul(i16x8.shr_u(q2, 8), s);
          const g2 = g + 4 * GROUP_BYTES;
          a0 = dotGroup(a0, e, o, g2); a1 = dotGroup(a1, e, o, g2 + s1); a2 = dotGroup(a2, e, o, g2 + s2); a3 = dotGroup(a3, e, o, g2 + s3);
          s = lane16(sc, 3); e = i16x8.mul(v128.and(q3, eb), s); o = i16x8.mul(i16x8.shr_u(q3, 8), s);
          const g3 = g + 6 * GROUP_BYTES;
          a0 = dotGroup(a0, e, o, g3); a1 = dotGroup(a1, e, o, g3 + s1); a2 = dotGroup(a2, e, o, g3 + s2); a3 = dotGroup(a3, e, o, g3 + s3);
          sc = i16x8.shuffle(sc, sc, 4, 5, 6, 7, 0, 1, 2, 3);
        }
        sc = i16x8.extend_high_i8x16_s(sc8);
      }
      r = hsum4i(a0, a1, a2, a3);
      if (kind != Q2_K) {
        // less the offset (32, 4) times the scale-weighted activation sums, per token
        const o4 = hsum4i(sumsDot(sc8, xb), sumsDot(sc8, xb + s1), sumsDot(sc8, xb + s2), sumsDot(sc8, xb + s3));
        r = i32x4.sub(r, i32x4.shl(o4, kind == Q6_K ? 5 : 2));
      }
    }
    const dx = gather4(xb + Q8KW_D, xStride);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.mul(f32x4.splat(f16_to_f32_finite(<u32>load<u16>(p + kquantD(kind)))), dx)));
    if (kquantHasMins(kind)) {
      const mins = hsum4i(rowMin(kind, p, xb), rowMin(kind, p, xb + s1), rowMin(kind, p, xb + s2), rowMin(kind, p, xb + s3));
      acc = f32x4.sub(acc, f32x4.mul(f32x4.convert_i32x4_s(mins), f32x4.mul(f32x4.splat(f16_to_f32_finite(<u32>load<u16>(p + kquantDmin(kind)))), dx)));
    }
    p += wb; xb += Q8KW_BLOCK_BYTES;
  }
  return acc;
}
