// Shared core of the f32 / f16 / bf16 weight kernels (matmul_f32.ts, matmul_f16.ts, matmul_bf16.ts).
// Weights are row-major; `kind` (a type id of types.ts) picks how 8 consecutive weights are loaded and widened to two f32x4.
// Every function here is @inline and called with a constant `kind`, so each family gets its own code
// with the other kinds' branches folded away.
//
//   matvec: 4 rows per pass, so each x vector is loaded once for 4 rows; one accumulator per row.
//   matmul: 2 rows x 4 tokens per pass, so each widened weight vector is used for 4 tokens; 8 accumulators.
//
// Every (row, token) value is computed in one order, whichever kernel, row group or token group computes it,
// so a row's result never depends on the other rows or tokens of a call: an f32x4 accumulator takes
// acc + (lo·xlo + hi·xhi) for each 8 columns in turn; then (l0 + l2) + (l1 + l3); then w·x of each
// column past the last 8, added in turn. (F16_PRESCALED gives the same products bit for bit: w·2^-112
// times x·2^112 is the same real number as w·x, rounded once.)
// Columns go 8 at a time, then one at a time.
import { f16_to_f32_finite, HALF_RESCALE, HALF_MASK } from './f16';
import { laneMax } from './lanes';
import { F32, F16, BF16 } from './types';

/** F16 weights with the 2^112 rescale moved onto x (below): a variant of this file only, not a tensor type, so
 *  its id lies outside the table of types.ts. */
const F16_PRESCALED: i32 = -1;

// @ts-ignore: decorator
@inline function elemBytes(kind: i32): usize { return kind == F32 ? 4 : 2; }

/** |x| below this for all of x: x * 2^112 is finite. */
const PRESCALE_LIMIT: f32 = 32768;

// Lane order: f32 weights keep their order (lo = weights 0..3, hi = 4..7). For 16-bit weights, one v128
// holds 8 weights = 4 i32 lanes of (even, odd) pairs; lo gets the even ones, hi the odd ones, straight from
// the i32 lanes without widening shuffles, and x is split the same way (xlo / xhi) once per 4 rows.
// f16: see f16.ts for the bit placement. F16_PRESCALED leaves out the 2^112 rescale of the weights
// and puts it on x instead (exact while |x| * 2^112 stays finite, checked by the caller).

/** Weights 0..3 (f32) or the even weights (16-bit kinds) of the 8 at p, as f32x4. `v` is v128.load(p). */
// @ts-ignore: decorator
@inline function lo(v: v128, kind: i32): v128 {
  if (kind == F32) return v;
  if (kind == BF16) return i32x4.shl(v, 16);
  const b = v128.and(i32x4.shr_s(i32x4.shl(v, 16), 3), i32x4.splat(<i32>HALF_MASK));
  return kind == F16 ? f32x4.mul(b, f32x4.splat(HALF_RESCALE)) : b;
}

/** Weights 4..7 (f32; `v` is v128.load(p, 16)) or the odd weights (16-bit kinds; `v` is v128.load(p)). */
// @ts-ignore: decorator
@inline function hi(v: v128, kind: i32): v128 {
  if (kind == F32) return v;
  if (kind == BF16) return v128.and(v, i32x4.splat(0xffff0000));
  const b = v128.and(i32x4.shr_s(v, 3), i32x4.splat(<i32>HALF_MASK));
  return kind == F16 ? f32x4.mul(b, f32x4.splat(HALF_RESCALE)) : b;
}

/** x[0..3] (f32) or x[0,2,4,6] (16-bit kinds), from xl = x[0..3], xh = x[4..7]. */
// @ts-ignore: decorator
@inline function xlo(xl: v128, xh: v128, kind: i32): v128 {
  if (kind == F32) return xl;
  const e = i32x4.shuffle(xl, xh, 0, 2, 4, 6);
  return kind == F16_PRESCALED ? f32x4.mul(e, f32x4.splat(HALF_RESCALE)) : e;
}

/** x[4..7] (f32) or x[1,3,5,7] (16-bit kinds). */
// @ts-ignore: decorator
@inline function xhi(xl: v128, xh: v128, kind: i32): v128 {
  if (kind == F32) return xh;
  const o = i32x4.shuffle(xl, xh, 1, 3, 5, 7);
  return kind == F16_PRESCALED ? f32x4.mul(o, f32x4.splat(HALF_RESCALE)) : o;
}

/** Second load for the high half: the next 16 bytes for f32, the same vector otherwise. */
// @ts-ignore: decorator
@inline function load2(p: usize, v: v128, kind: i32): v128 {
  return kind == F32 ? v128.load(p, 16) : v;
}

/** One weight at p as f32. */
// @ts-ignore: decorator
@inline function scalarW(p: usize, kind: i32): f32 {
  if (kind == F32) return load<f32>(p);
  if (kind == F16 || kind == F16_PRESCALED) return f16_to_f32_finite(<u32>load<u16>(p));
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}

/** Sum of the 4 lanes of each of a, b, c, d, as the 4 lanes of the result. */
// @ts-ignore: decorator
@inline export function hsum4f(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

// @ts-ignore: decorator
@inline function hsum(a: v128): f32 {
  const b = f32x4.add(a, i32x4.shuffle(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(b, 0) + f32x4.extract_lane(b, 1);
}

/** One row (cols weights at w) dotted with cols floats at x. */
// @ts-ignore: decorator
@inline function dot1(w: usize, x: usize, cols: i32, kind: i32): f32 {
  const eb = elemBytes(kind);
  let a = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const p = w + (<usize>c) * eb;
    const xp = x + (<usize>c << 2);
    const v = v128.load(p);
    const xl = v128.load(xp), xh = v128.load(xp, 16);
    a = f32x4.add(a, f32x4.add(f32x4.mul(lo(v, kind), xlo(xl, xh, kind)), f32x4.mul(hi(load2(p, v, kind), kind), xhi(xl, xh, kind))));
  }
  let s = hsum(a);
  for (; c < cols; c++) s += scalarW(w + (<usize>c) * eb, kind) * load<f32>(x + (<usize>c << 2));
  return s;
}

/** y[r] = W[r,:]·x for r < rows. */
// @ts-ignore: decorator
@inline export function matvecCore(w: usize, x: usize, y: usize, rows: i32, cols: i32, kind: i32): void {
  if (kind == F16 && absMax(x, cols) < PRESCALE_LIMIT) matvecKind(w, x, y, rows, cols, F16_PRESCALED);
  else matvecKind(w, x, y, rows, cols, kind);
}

/** max |x[i]| for i < n. (NaN and inf in x give NaN / inf on both paths alike, so they need no care.) */
function absMax(x: usize, n: i32): f32 {
  let m = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.pmax(m, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let s = laneMax(m);
  for (; i < n; i++) s = max(s, abs(load<f32>(x + (<usize>i << 2))));
  return s;
}

// @ts-ignore: decorator
@inline function matvecKind(w: usize, x: usize, y: usize, rows: i32, cols: i32, kind: i32): void {
  const eb = elemBytes(kind);
  const rowBytes = (<usize>cols) * eb;
  const cols8 = cols & ~7;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + (<usize>r) * rowBytes;
    const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let c = 0; c < cols8; c += 8) {
      const off = (<usize>c) * eb;
      const xp = x + (<usize>c << 2);
      const x0 = v128.load(xp), x1 = v128.load(xp, 16);
      const xl = xlo(x0, x1, kind), xh = xhi(x0, x1, kind);
      const v0 = v128.load(w0 + off);
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(lo(v0, kind), xl), f32x4.mul(hi(load2(w0 + off, v0, kind), kind), xh)));
      const v1 = v128.load(w1 + off);
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(lo(v1, kind), xl), f32x4.mul(hi(load2(w1 + off, v1, kind), kind), xh)));
      const v2 = v128.load(w2 + off);
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(lo(v2, kind), xl), f32x4.mul(hi(load2(w2 + off, v2, kind), kind), xh)));
      const v3 = v128.load(w3 + off);
      a3 = f32x4.add(a3, f32x4.add(f32x4.mul(lo(v3, kind), xl), f32x4.mul(hi(load2(w3 + off, v3, kind), kind), xh)));
    }
    let s = hsum4f(a0, a1, a2, a3);
    for (let c = cols8; c < cols; c++) {
      const off = (<usize>c) * eb;
      let wv = f32x4.splat(scalarW(w0 + off, kind));
      wv = f32x4.replace_lane(wv, 1, scalarW(w1 + off, kind));
      wv = f32x4.replace_lane(wv, 2, scalarW(w2 + off, kind));
      wv = f32x4.replace_lane(wv, 3, scalarW(w3 + off, kind));
      s = f32x4.add(s, f32x4.mul(wv, f32x4.splat(load<f32>(x + (<usize>c << 2)))));
    }
    v128.store(y + (<usize>r << 2), s);
  }
  for (; r < rows; r++) store<f32>(y + (<usize>r << 2), dot1(w + (<usize>r) * rowBytes, x, cols, kind));
}

/** Y[t*ldy + r] = W[r,:]·X[t,:] for r < rows, t < n; X rows are cols floats apart. */
// @ts-ignore: decorator
@inline export function matmulCore(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, ldy: i32, kind: i32): void {
  const eb = elemBytes(kind);
  const rowBytes = (<usize>cols) * eb;
  const xStride = <usize>cols << 2;
  const yStride = <usize>ldy << 2;
  const cols8 = cols & ~7;
  const n4 = n & ~3;
  const rows2 = rows & ~1;
  for (let r = 0; r < rows2; r += 2) {
    const w0 = w + (<usize>r) * rowBytes, w1 = w0 + rowBytes;
    for (let t = 0; t < n4; t += 4) {
      const x0 = x + (<usize>t) * xStride, x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
      // acc<row><token>
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
      let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (let c = 0; c < cols8; c += 8) {
        const off = (<usize>c) * eb;
        const xo = <usize>c << 2;
        const v0 = v128.load(w0 + off), v1 = v128.load(w1 + off);
        const l0 = lo(v0, kind), l1 = lo(v1, kind);
        const h0 = hi(load2(w0 + off, v0, kind), kind), h1 = hi(load2(w1 + off, v1, kind), kind);
        let xa = v128.load(x0 + xo), xb = v128.load(x0 + xo, 16);
        let xl = xlo(xa, xb, kind), xh = xhi(xa, xb, kind);
        a00 = f32x4.add(a00, f32x4.add(f32x4.mul(l0, xl), f32x4.mul(h0, xh)));
        a10 = f32x4.add(a10, f32x4.add(f32x4.mul(l1, xl), f32x4.mul(h1, xh)));
        xa = v128.load(x1 + xo); xb = v128.load(x1 + xo, 16);
        xl = xlo(xa, xb, kind); xh = xhi(xa, xb, kind);
        a01 = f32x4.add(a01, f32x4.add(f32x4.mul(l0, xl), f32x4.mul(h0, xh)));
        a11 = f32x4.add(a11, f32x4.add(f32x4.mul(l1, xl), f32x4.mul(h1, xh)));
        xa = v128.load(x2 + xo); xb = v128.load(x2 + xo, 16);
        xl = xlo(xa, xb, kind); xh = xhi(xa, xb, kind);
        a02 = f32x4.add(a02, f32x4.add(f32x4.mul(l0, xl), f32x4.mul(h0, xh)));
        a12 = f32x4.add(a12, f32x4.add(f32x4.mul(l1, xl), f32x4.mul(h1, xh)));
        xa = v128.load(x3 + xo); xb = v128.load(x3 + xo, 16);
        xl = xlo(xa, xb, kind); xh = xhi(xa, xb, kind);
        a03 = f32x4.add(a03, f32x4.add(f32x4.mul(l0, xl), f32x4.mul(h0, xh)));
        a13 = f32x4.add(a13, f32x4.add(f32x4.mul(l1, xl), f32x4.mul(h1, xh)));
      }
      // lanes: (row0,t0) (row0,t1) (row0,t2) (row0,t3), then the same for row 1
      let s0 = hsum4f(a00, a01, a02, a03);
      let s1 = hsum4f(a10, a11, a12, a13);
      for (let c = cols8; c < cols; c++) {
        const off = (<usize>c) * eb;
        const xo = <usize>c << 2;
        const q0 = f32x4.splat(scalarW(w0 + off, kind)), q1 = f32x4.splat(scalarW(w1 + off, kind));
        let xv = f32x4.splat(load<f32>(x0 + xo));
        xv = f32x4.replace_lane(xv, 1, load<f32>(x1 + xo));
        xv = f32x4.replace_lane(xv, 2, load<f32>(x2 + xo));
        xv = f32x4.replace_lane(xv, 3, load<f32>(x3 + xo));
        s0 = f32x4.add(s0, f32x4.mul(q0, xv));
        s1 = f32x4.add(s1, f32x4.mul(q1, xv));
      }
      const yp = y + (<usize>t) * yStride + (<usize>r << 2);
      store<f32>(yp, f32x4.extract_lane(s0, 0));
      store<f32>(yp + yStride, f32x4.extract_lane(s0, 1));
      store<f32>(yp + 2 * yStride, f32x4.extract_lane(s0, 2));
      store<f32>(yp + 3 * yStride, f32x4.extract_lane(s0, 3));
      store<f32>(yp, f32x4.extract_lane(s1, 0), 4);
      store<f32>(yp + yStride, f32x4.extract_lane(s1, 1), 4);
      store<f32>(yp + 2 * yStride, f32x4.extract_lane(s1, 2), 4);
      store<f32>(yp + 3 * yStride, f32x4.extract_lane(s1, 3), 4);
    }
  }
  // The last row when rows is odd, for the tokens of whole groups of 4.
  if (rows2 < rows) {
    const wr = w + (<usize>rows2) * rowBytes;
    for (let t = 0; t < n4; t++) {
      store<f32>(y + (<usize>t) * yStride + (<usize>rows2 << 2), dot1(wr, x + (<usize>t) * xStride, cols, kind));
    }
  }
  // Tokens past the last group of 4: one matvec each.
  for (let t = n4; t < n; t++) matvecCore(w, x + (<usize>t) * xStride, y + (<usize>t) * yStride, rows, cols, kind);
}
