// e^x on four f32 lanes, in three variants:
//   exp4        accurate over the whole f32 range (activations, softmax);
//   exp4Scores  the same value as exp4 for every x but NaN, with cheaper clamps and 2^n conversion
//               (attention's softmax);
//   exp4Coarse  relative error below 1e-5 (7e-6 for x in [-20, 0]), for the approximate softmax mass of
//               SparQ's steps 1 and 3.
//
// exp4 and exp4Scores: x = n·ln2 + r with n = round(x·log2 e) and |r| <= ln2/2 (plus a rounding step), so
// e^x = 2^n·e^r. e^r comes from its degree-7 Taylor polynomial (truncation error r^8/8! < 1e-8 relative on
// that interval), written as 1 + (r + r²·q(r)) so the final additions round once against the leading 1. 2^n
// is applied as 2^a·2^b with a = n >> 1, b = n - a: both halves stay in the normal exponent range, so results
// that overflow give +Infinity, results in the subnormal range round once, and tiny results give 0.

/** log2 e, rounded to f32. */
const LOG2E: f32 = 1.4426950408889634;
// ln 2 split in two (Cody and Waite): LN2_HI = 22713·2^-15 has 15 significant bits, so n·LN2_HI is exact for
// |n| < 2^9; LN2_LO = ln 2 - LN2_HI rounded to f32. Together they carry ln 2 to within 1e-13.
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286068202862268e-6;
// Clamping range: e^89 > FLT_MAX (overflows to +Infinity), e^-120 is below half the smallest subnormal (0).
const X_MAX: f32 = 89.0;
const X_MIN: f32 = -120.0;
// 1.5·2^23: adding it to an f32 of magnitude below 2^22 rounds to an integer, and that integer is then the low
// mantissa bits of the sum (whose bits are ROUND_BITS plus the integer).
const ROUND_MAGIC: f32 = 12582912;
const ROUND_BITS: i32 = 0x4b400000;
/** The f32 exponent bias. */
const BIAS: i32 = 127;

/** e^r for |r| <= ln2/2: 1 + (r + r²·q(r)), q(r) = 1/2! + r/3! + r²/4! + r³/5! + r⁴/6! + r⁵/7!. */
// @ts-ignore: decorator
@inline function expReduced(r: v128): v128 {
  let q = f32x4.splat(<f32>(1.0 / 5040.0));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 720.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 120.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 24.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>(1.0 / 6.0)));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(<f32>0.5));
  return f32x4.add(f32x4.splat(<f32>1.0), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
}

/** e^x for x in [X_MIN, X_MAX]; magic: n to an integer by adding ROUND_MAGIC (exact, n is an integer of
 *  magnitude below 2^8) instead of i32x4.trunc_sat (whose NaN and overflow fix-ups cost several instructions). */
// @ts-ignore: decorator
@inline function expClamped(x: v128, magic: bool): v128 {
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const er = expReduced(r);
  const ni = magic ? i32x4.sub(f32x4.add(n, f32x4.splat(ROUND_MAGIC)), i32x4.splat(ROUND_BITS)) : i32x4.trunc_sat_f32x4_s(n);
  const a = i32x4.shr_s(ni, 1);
  const b = i32x4.sub(ni, a);
  const bias = i32x4.splat(BIAS);
  const pa = i32x4.shl(i32x4.add(a, bias), 23);
  const pb = i32x4.shl(i32x4.add(b, bias), 23);
  return f32x4.mul(f32x4.mul(er, pa), pb);
}

/** e^x on four lanes, NaN stays NaN (min/max propagate it). */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  return expClamped(f32x4.min(f32x4.max(x, f32x4.splat(X_MIN)), f32x4.splat(X_MAX)), false);
}

/** exp4 with the clamps as pmin/pmax (one instruction each instead of several for min/max's NaN and
 *  signed-zero rules) and the magic conversion of n: the same results for every x but NaN. */
// @ts-ignore: decorator
@inline export function exp4Scores(x: v128): v128 {
  return expClamped(f32x4.pmin(f32x4.pmax(x, f32x4.splat(X_MIN)), f32x4.splat(X_MAX)), true);
}

// exp4Coarse: e^x = 2^t with t = x·log2 e = n + f, n = floor(t), f in [0, 1); 2^f from a quartic, 2^n from the
// bits of n + BIAS + ROUND_MAGIC (an exact f32 whose low mantissa bits hold n + 127, shifted into the exponent
// field). t is clamped below at -126, so x < -87.3 gives 2^-126·p(f) ≈ 1e-38 rather than 0 or a subnormal.
//
// The quartic p(f) = 1 + C1·f + f²·(C2 + C3·f + C4·f²) approximates 2^f on [0, 1] with p(0) = 1 exactly.
// C1..C4 are, to within 4e-7, the least-squares fit of the relative error (minimising the integral over
// [0, 1] of (p(f)/2^f - 1)², c0 held at 1), which gives 0.69304349, 0.24124973, 0.05235300, 0.01334143; the
// stored digits differ from that fit in the last one or two places and are kept as they are so that results
// stay the same. Measured: |p(f)/2^f - 1| <= 6.2e-6 over [0, 1] in exact arithmetic; p(1) = 1.99998766 leaves
// a jump of 6e-6 relative where t crosses an integer. In f32, rounding t = x·log2 e adds up to |t|·2^-24 to
// the exponent, so exp4Coarse is within 6.6e-6 relative of e^x on [-20, 0] and 9.7e-6 on [-87, 88]
// (exp.spec.ts).
const C1: f32 = 0.69304347;
const C2: f32 = 0.24124989;
const C3: f32 = 0.05235266;
const C4: f32 = 0.01334164;
/** Lower clamp of t: 2^-126 is the smallest normal f32. */
const T_MIN: f32 = -126;

/** e^x on four lanes within 1e-5 relative for x in [-87, 88]; pmax keeps a NaN x as NaN. */
// @ts-ignore: decorator
@inline export function exp4Coarse(x: v128): v128 {
  const t = f32x4.pmax(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(T_MIN));
  const n = f32x4.floor(t);
  const f = f32x4.sub(t, n);
  // 1 + C1·f + f²·(C2 + C3·f + C4·f²), evaluated in a shallow tree
  const f2 = f32x4.mul(f, f);
  const lo = f32x4.add(f32x4.mul(f, f32x4.splat(C1)), f32x4.splat(<f32>1));
  const hi = f32x4.add(f32x4.add(f32x4.mul(f, f32x4.splat(C3)), f32x4.splat(C2)), f32x4.mul(f2, f32x4.splat(C4)));
  const p = f32x4.add(lo, f32x4.mul(f2, hi));
  return f32x4.mul(p, i32x4.shl(f32x4.add(n, f32x4.splat(ROUND_MAGIC + <f32>BIAS)), 23));
}

/** exp4Coarse of one value. */
// @ts-ignore: decorator
@inline export function expCoarse(x: f32): f32 { return f32x4.extract_lane(exp4Coarse(f32x4.splat(x)), 0); }
