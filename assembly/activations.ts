// Element-wise kernels of the feed-forward block and attention: gated activations, GELU, residual and bias
// adds, scaling, soft-capping, softmax.
// Every kernel handles any n >= 1; the gated activations and softmax go four lanes at a time, then the last
// n % 4 elements one by one through the same vector code (so a value's result does not depend on where it sits).
import { exp4 } from './exp';
import { laneSumPairs } from './lanes';

// silu(g)·u with silu(g) = g·sigmoid(g) = g / (1 + e^-g).
@inline
function siluMul4(g: v128, u: v128): v128 {
  const s = f32x4.div(g, f32x4.add(f32x4.splat(<f32>1.0), exp4(f32x4.neg(g))));
  return f32x4.mul(s, u);
}

// gelu_tanh(g)·u. 0.5·g·(1 + tanh(z/2)) = g / (1 + e^-z) with z = 2·sqrt(2/π)·(g + 0.044715·g³): the same
// function as the tanh form, without its cancellation for negative g.
@inline
function geluTanhMul4(g: v128, u: v128): v128 {
  const c = f32x4.splat(<f32>1.5957691216057308); // 2·sqrt(2/π)
  const g2 = f32x4.mul(g, g);
  const z = f32x4.mul(f32x4.mul(c, g), f32x4.add(f32x4.splat(<f32>1.0), f32x4.mul(f32x4.splat(<f32>0.044715), g2)));
  const s = f32x4.div(g, f32x4.add(f32x4.splat(<f32>1.0), exp4(f32x4.neg(z))));
  return f32x4.mul(s, u);
}

/** out[i] = silu(gate[i]) · up[i]  (SwiGLU). out may alias gate or up. */
export function silu_mul(gate: usize, up: usize, out: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o < n4; o += 16) {
    v128.store(out + o, siluMul4(v128.load(gate + o), v128.load(up + o)));
  }
  for (; o < end; o += 4) {
    const v = siluMul4(f32x4.splat(load<f32>(gate + o)), f32x4.splat(load<f32>(up + o)));
    store<f32>(out + o, f32x4.extract_lane(v, 0));
  }
}

/** out[i] = gelu_tanh(gate[i]) · up[i]  (GeGLU with the tanh-approximated GELU). out may alias gate or up. */
export function gelu_tanh_mul(gate: usize, up: usize, out: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o < n4; o += 16) {
    v128.store(out + o, geluTanhMul4(v128.load(gate + o), v128.load(up + o)));
  }
  for (; o < end; o += 4) {
    const v = geluTanhMul4(f32x4.splat(load<f32>(gate + o)), f32x4.splat(load<f32>(up + o)));
    store<f32>(out + o, f32x4.extract_lane(v, 0));
  }
}

/** x[i] += y[i]. */
export function add_f32(x: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  for (; o < n4; o += 16) {
    v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(y + o)));
  }
  for (; o < end; o += 4) {
    store<f32>(x + o, load<f32>(x + o) + load<f32>(y + o));
  }
}

/**
 * In-place softmax: x[i] = e^(x[i] - max) / Σ e^(x[j] - max), summed in f32. -Infinity entries (masked)
 * become 0. If every entry is -Infinity there is no distribution; the row becomes all zeros.
 */
export function softmax_f32(x: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  let o: usize = 0;
  let mv = f32x4.splat(-Infinity);
  for (; o < n4; o += 16) mv = f32x4.max(mv, v128.load(x + o));
  let m = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
    Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; o < end; o += 4) m = Mathf.max(m, load<f32>(x + o));
  if (m == -Infinity) {
    memory.fill(x, 0, end);
    return;
  }

  // e^(x - max) stored back, summed in 16 f32 lanes (four accumulators keep the rounding error of long
  // rows small), then 4 lanes, then one by one.
  const ms = f32x4.splat(m);
  const n16 = <usize>(n & ~15) << 2;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  for (o = 0; o < n16; o += 64) {
    const e0 = exp4(f32x4.sub(v128.load(x + o), ms));
    const e1 = exp4(f32x4.sub(v128.load(x + o, 16), ms));
    const e2 = exp4(f32x4.sub(v128.load(x + o, 32), ms));
    const e3 = exp4(f32x4.sub(v128.load(x + o, 48), ms));
    v128.store(x + o, e0);
    v128.store(x + o, e1, 16);
    v128.store(x + o, e2, 32);
    v128.store(x + o, e3, 48);
    s0 = f32x4.add(s0, e0);
    s1 = f32x4.add(s1, e1);
    s2 = f32x4.add(s2, e2);
    s3 = f32x4.add(s3, e3);
  }
  for (; o < n4; o += 16) {
    const e = exp4(f32x4.sub(v128.load(x + o), ms));
    v128.store(x + o, e);
    s0 = f32x4.add(s0, e);
  }
  const sv = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  let sum = laneSumPairs(sv);
  for (; o < end; o += 4) {
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(x + o) - m)), 0);
    store<f32>(x + o, e);
    sum += e;
  }

  const ss = f32x4.splat(sum);
  for (o = 0; o < n4; o += 16) v128.store(x + o, f32x4.div(v128.load(x + o), ss));
  for (; o < end; o += 4) store<f32>(x + o, load<f32>(x + o) / sum);
}

/** x[r·n + i] += b[i] for r < rows (a bias added to every row). */
export function add_rows(x: usize, b: usize, n: i32, rows: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const rowBytes = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let o: usize = 0;
    for (; o < n4; o += 16) v128.store(xr + o, f32x4.add(v128.load(xr + o), v128.load(b + o)));
    for (; o < rowBytes; o += 4) store<f32>(xr + o, load<f32>(xr + o) + load<f32>(b + o));
  }
}

/** x[i] *= s. */
export function scale_f32(x: usize, s: f32, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const end = <usize>n << 2;
  const sv = f32x4.splat(s);
  let o: usize = 0;
  for (; o < n4; o += 16) v128.store(x + o, f32x4.mul(v128.load(x + o), sv));
  for (; o < end; o += 4) store<f32>(x + o, load<f32>(x + o) * s);
}

/** x[i] = cap·tanh(x[i] / cap) (soft-capping of logits; tanh in f64, rounded once). */
export function softcap_f32(x: usize, cap: f32, n: i32): void {
  const c = <f64>cap;
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 4) store<f32>(x + o, <f32>(c * NativeMath.tanh(<f64>load<f32>(x + o) / c)));
}

// erf by Abramowitz & Stegun 7.1.26 in f64: |error| < 1.5e-7 for every x, so gelu below stays within
// 0.75e-7·|x| of the exact value (about an f32 rounding step for the arguments an MLP sees).
@inline
function erf64(x: f64): f64 {
  const a = Math.abs(x);
  const t = 1.0 / (1.0 + 0.3275911 * a);
  const p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const y = 1.0 - p * NativeMath.exp(-a * a);
  return x < 0 ? -y : y;
}

/** out[i] = gelu(x[i]) = x/2 · (1 + erf(x/√2)) (the exact GELU of GPT-NeoX). out may alias x. */
export function gelu(x: usize, out: usize, n: i32): void {
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 4) {
    const v = <f64>load<f32>(x + o);
    store<f32>(out + o, <f32>(0.5 * v * (1.0 + erf64(v * 0.7071067811865476))));
  }
}
