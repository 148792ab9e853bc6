// e^x on four f32 lanes, shared by the activation kernels (not a module export).
//
// x = n·ln2 + r with n = round(x·log2 e) and |r| <= ln2/2. e^r comes from its degree-7 Taylor polynomial
// (truncation error r^8/8! < 1e-8 relative on that interval), written as 1 + (r + r²·q(r)) so the final
// additions round once against the leading 1. 2^n is applied as 2^a · 2^b with a = n >> 1, b = n - a: both
// halves stay in the normal exponent range, so results that overflow give +Infinity, results in the
// subnormal range round once, and tiny results give 0. NaN stays NaN (min/max propagate it).

export const LOG2E: f32 = 1.4426950408889634;
// ln 2 split in two: LN2_HI has 15 significant bits, so n·LN2_HI is exact for |n| < 2^9.
export const LN2_HI: f32 = 0.693145751953125;
export const LN2_LO: f32 = 1.4286068202862268e-6;
// Clamping range: e^89 > FLT_MAX (overflows to +Infinity), e^-120 is below half the smallest subnormal (0).
export const X_MAX: f32 = 89.0;
export const X_MIN: f32 = -120.0;

/** e^r for |r| <= ln2/2: 1 + (r + r²·q(r)), q(r) = 1/2! + r/3! + r²/4! + r³/5! + r⁴/6! + r⁵/7!. */
@inline
export function expReduced(r: v128): v128 {
  let q = f32x4.splat(<f32>(1.0 / 5040.0));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 720.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 120.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 24.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 6.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>0.5));
  return f32x4.add(f32x4.splat(<f32>1.0), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
}

@inline
export function expf4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(X_MIN)), f32x4.splat(X_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const er = expReduced(r);
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const a = i32x4.shr_s(ni, 1);
  const b = i32x4.sub(ni, a);
  const bias = i32x4.splat(127);
  const pa = i32x4.shl(i32x4.add(a, bias), 23);
  const pb = i32x4.shl(i32x4.add(b, bias), 23);
  return f32x4.mul(f32x4.mul(er, pa), pb);
}
