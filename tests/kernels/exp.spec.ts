// The three e^x variants of assembly/exp.ts against f64 Math.exp, and exp4Scores against exp4 bit for bit.
import { exp4, exp4Scores, exp4Coarse, expCoarse } from '../../assembly/exp';

function exp1(x: f32): f32 { return f32x4.extract_lane(exp4(f32x4.splat(x)), 0); }
function expScores1(x: f32): f32 { return f32x4.extract_lane(exp4Scores(f32x4.splat(x)), 0); }

const SMALLEST_SUBNORMAL: f64 = 1.401298464324817e-45;

describe('exp4', () => {
  it('relative error < 2e-7 over the whole normal range (-87.33 .. 88.72)', () => {
    let worst = 0.0;
    const lo = -87.33, hi = 88.72, steps = 400000;
    for (let k = 0; k <= steps; k++) {
      const x = <f32>(lo + (hi - lo) * <f64>k / <f64>steps);
      const want = Math.exp(<f64>x);
      worst = Math.max(worst, Math.abs(<f64>exp1(x) - want) / want);
    }
    // and densely around 0, where r = x and the polynomial alone matters
    for (let k = -20000; k <= 20000; k++) {
      const x = <f32>(<f64>k * 1e-5);
      const want = Math.exp(<f64>x);
      worst = Math.max(worst, Math.abs(<f64>exp1(x) - want) / want);
    }
    expect<f64>(worst).toBeLessThan(2e-7);
    log<f64>(worst); // exp4 max relative error
  });

  it('subnormal results within one subnormal step; overflow, underflow, infinities and NaN', () => {
    for (let k = 0; k <= 10000; k++) {
      const x = <f32>(-103.9 + 16.5 * <f64>k / 10000.0); // -103.9 .. -87.4: results below FLT_MIN
      expect<f64>(Math.abs(<f64>exp1(x) - Math.exp(<f64>x))).toBeLessThanOrEqual(SMALLEST_SUBNORMAL);
    }
    expect<f32>(exp1(0)).toBe(1);
    expect<f32>(exp1(88.72283)).toBeLessThan(Infinity);
    expect<f64>(<f64>exp1(88.72283)).toBeGreaterThan(3.4e38);
    expect<f32>(exp1(88.7229)).toBe(Infinity);
    expect<f32>(exp1(1000)).toBe(Infinity);
    expect<f32>(exp1(Infinity)).toBe(Infinity);
    expect<f32>(exp1(-110)).toBe(0);
    expect<f32>(exp1(-1e30)).toBe(0);
    expect<f32>(exp1(-Infinity)).toBe(0);
    expect<f32>(exp1(NaN)).toBeNaN();
  });
});

describe('exp4Scores', () => {
  it('gives exp4\'s bits for every x but NaN (a sweep of f32 bit patterns, infinities, signed zeros)', () => {
    let bad = 0;
    // every 4099th bit pattern of both signs: all exponents, so clamped, subnormal and overflowing results too
    for (let b: u64 = 0; b < 0x100000000; b += 4099) {
      const x = reinterpret<f32>(<u32>b);
      if (isNaN(x)) continue;
      if (reinterpret<u32>(expScores1(x)) != reinterpret<u32>(exp1(x))) bad++;
    }
    const special: f32[] = [0, -0, Infinity, -Infinity, 88.7229, -103.9, -120, -120.5, 89, 89.5];
    for (let i = 0; i < special.length; i++) if (reinterpret<u32>(expScores1(special[i])) != reinterpret<u32>(exp1(special[i]))) bad++;
    expect(bad).toBe(0);
    expect<f32>(expScores1(NaN)).toBeNaN();
  });
});

describe('exp4Coarse', () => {
  it('relative error: < 7e-6 over [-20, 0], < 1.1e-5 over [-87, 88]; e^0 = 1, NaN stays NaN, tiny below -87.3', () => {
    expect<f64>(worstCoarse(-20, 0)).toBeLessThan(7e-6);
    log<f64>(worstCoarse(-20, 0)); // exp4Coarse max relative error on [-20, 0]
    expect<f64>(worstCoarse(-87, 88)).toBeLessThan(1.1e-5);
    log<f64>(worstCoarse(-87, 88)); // on [-87, 88]
    expect<f32>(expCoarse(0)).toBe(1);
    expect<f32>(f32x4.extract_lane(exp4Coarse(f32x4.splat(NaN)), 0)).toBeNaN();
    expect<f64>(<f64>expCoarse(-1000)).toBeLessThan(1.2e-38);
    expect<f64>(<f64>expCoarse(-1000)).toBeGreaterThan(0);
  });
});

/** Largest relative error of expCoarse against Math.exp on 400001 points of [lo, hi]. */
function worstCoarse(lo: f64, hi: f64): f64 {
  let worst = 0.0;
  const steps = 400000;
  for (let k = 0; k <= steps; k++) {
    const x = <f32>(lo + (hi - lo) * <f64>k / <f64>steps);
    const want = Math.exp(<f64>x);
    worst = Math.max(worst, Math.abs(<f64>expCoarse(x) - want) / want);
  }
  return worst;
}
