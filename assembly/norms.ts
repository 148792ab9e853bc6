// Row normalisations: RMSNorm (llama family) and LayerNorm (with optional bias). Rows are contiguous,
// n floats each; y may alias x. Sums run in f32 over 16 lanes (four v128 accumulators), which keeps the
// rounding error of a 4096-wide row near 1e-7 relative; the last n % 16 elements go one by one.
import { laneSumPairs } from './lanes';

// Σ (x[i] - c)² over one row: RMSNorm passes centered = false (c unused, the subtraction compiles away),
// LayerNorm the row mean.
@inline
function sumSqDev(x: usize, n: i32, c: f32, centered: bool): f32 {
  const cv = f32x4.splat(c);
  const n16 = <usize>(n & ~15) << 2;
  const end = <usize>n << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let o: usize = 0;
  for (; o < n16; o += 64) {
    let d0 = v128.load(x + o), d1 = v128.load(x + o, 16), d2 = v128.load(x + o, 32), d3 = v128.load(x + o, 48);
    if (centered) {
      d0 = f32x4.sub(d0, cv);
      d1 = f32x4.sub(d1, cv);
      d2 = f32x4.sub(d2, cv);
      d3 = f32x4.sub(d3, cv);
    }
    a0 = f32x4.add(a0, f32x4.mul(d0, d0));
    a1 = f32x4.add(a1, f32x4.mul(d1, d1));
    a2 = f32x4.add(a2, f32x4.mul(d2, d2));
    a3 = f32x4.add(a3, f32x4.mul(d3, d3));
  }
  let s = laneSumPairs(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; o < end; o += 4) {
    const d = centered ? load<f32>(x + o) - c : load<f32>(x + o);
    s += d * d;
  }
  return s;
}

@inline
function sum(x: usize, n: i32): f32 {
  const n16 = <usize>(n & ~15) << 2;
  const end = <usize>n << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let o: usize = 0;
  for (; o < n16; o += 64) {
    a0 = f32x4.add(a0, v128.load(x + o));
    a1 = f32x4.add(a1, v128.load(x + o, 16));
    a2 = f32x4.add(a2, v128.load(x + o, 32));
    a3 = f32x4.add(a3, v128.load(x + o, 48));
  }
  let s = laneSumPairs(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; o < end; o += 4) s += load<f32>(x + o);
  return s;
}

/** y[r,:] = x[r,:] · (1 / sqrt(mean(x[r,:]²) + eps)) · w[:]  for r < rows. */
export function rmsnorm(x: usize, w: usize, y: usize, n: i32, rows: i32, eps: f32): void {
  const rowBytes = <usize>n << 2;
  const n4 = <usize>(n & ~3) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const scale = <f32>1.0 / Mathf.sqrt(sumSqDev(xr, n, 0, false) / <f32>n + eps);
    const sv = f32x4.splat(scale);
    let o: usize = 0;
    for (; o < n4; o += 16) {
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), sv), v128.load(w + o)));
    }
    for (; o < rowBytes; o += 4) store<f32>(yr + o, load<f32>(xr + o) * scale * load<f32>(w + o));
  }
}

/**
 * y[r,:] = (x[r,:] - mean) · (1 / sqrt(var + eps)) · w[:] + b[:]  for r < rows, with the biased variance
 * (two passes: mean, then the mean squared deviation). b = 0 means no bias.
 */
export function layernorm(x: usize, w: usize, b: usize, y: usize, n: i32, rows: i32, eps: f32): void {
  const rowBytes = <usize>n << 2;
  const n4 = <usize>(n & ~3) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    const mean = sum(xr, n) / <f32>n;
    const scale = <f32>1.0 / Mathf.sqrt(sumSqDev(xr, n, mean, true) / <f32>n + eps);
    const mv = f32x4.splat(mean);
    const sv = f32x4.splat(scale);
    let o: usize = 0;
    if (b) {
      for (; o < n4; o += 16) {
        const t = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + o), mv), sv), v128.load(w + o));
        v128.store(yr + o, f32x4.add(t, v128.load(b + o)));
      }
      for (; o < rowBytes; o += 4) {
        store<f32>(yr + o, (load<f32>(xr + o) - mean) * scale * load<f32>(w + o) + load<f32>(b + o));
      }
    } else {
      for (; o < n4; o += 16) {
        v128.store(yr + o, f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + o), mv), sv), v128.load(w + o)));
      }
      for (; o < rowBytes; o += 4) store<f32>(yr + o, (load<f32>(xr + o) - mean) * scale * load<f32>(w + o));
    }
  }
}
