// f16 / bf16 / Q8_0 rows to f32, and the f16.ts conversions, against references written from the formats.
import { dequant_row_f16, dequant_row_bf16, dequant_row_q8_0 } from '../../assembly/dequant';
import { f16_to_f32, f16_to_f32_finite, f16x8_low, f16x8_high } from '../../assembly/f16';

let seed: u32 = 88172645;
function nextU32(): u32 { seed = seed * 1664525 + 1013904223; return seed; }

function pow2(e: i32): f64 { return reinterpret<f64>(<u64>(e + 1023) << 52); }
/** IEEE half to f32 from the definition; inf and NaN (payload kept in the top mantissa bits) included. */
function halfRef(h: u32): f32 {
  const sign: u32 = (h & 0x8000) << 16;
  const e = <i32>((h >> 10) & 31), m = h & 1023;
  if (e == 31) return reinterpret<f32>(sign | 0x7f800000 | (m << 13));
  const v = e == 0 ? <f64>m * pow2(-24) : (1.0 + <f64>m / 1024.0) * pow2(e - 15);
  return reinterpret<f32>(sign | reinterpret<u32>(<f32>v));
}
function isFiniteHalf(h: u32): bool { return ((h >> 10) & 31) != 31; }

describe('f16 conversion (bit-exact over all 65536 halves)', () => {
  it('f16_to_f32: every bit pattern, inf and NaN included', () => {
    let bad = 0;
    for (let h: u32 = 0; h < 65536; h++) if (reinterpret<u32>(f16_to_f32(h)) != reinterpret<u32>(halfRef(h))) bad++;
    expect(bad).toBe(0);
  });
  it('f16_to_f32_finite: every finite half', () => {
    let bad = 0;
    for (let h: u32 = 0; h < 65536; h++) {
      if (isFiniteHalf(h) && reinterpret<u32>(f16_to_f32_finite(h)) != reinterpret<u32>(halfRef(h))) bad++;
    }
    expect(bad).toBe(0);
  });
  it('f16x8_low / f16x8_high: every finite half in every lane', () => {
    let bad = 0;
    for (let base: u32 = 0; base < 65536; base += 8) {
      let v = i16x8.splat(0);
      v = i16x8.replace_lane(v, 0, <i16>base); v = i16x8.replace_lane(v, 1, <i16>(base + 1));
      v = i16x8.replace_lane(v, 2, <i16>(base + 2)); v = i16x8.replace_lane(v, 3, <i16>(base + 3));
      v = i16x8.replace_lane(v, 4, <i16>(base + 4)); v = i16x8.replace_lane(v, 5, <i16>(base + 5));
      v = i16x8.replace_lane(v, 6, <i16>(base + 6)); v = i16x8.replace_lane(v, 7, <i16>(base + 7));
      const lo = f16x8_low(v), hi = f16x8_high(v);
      for (let i: u32 = 0; i < 8; i++) {
        const h = base + i;
        if (!isFiniteHalf(h)) continue;
        const lane = i < 4 ? (i == 0 ? i32x4.extract_lane(lo, 0) : i == 1 ? i32x4.extract_lane(lo, 1) : i == 2 ? i32x4.extract_lane(lo, 2) : i32x4.extract_lane(lo, 3))
          : (i == 4 ? i32x4.extract_lane(hi, 0) : i == 5 ? i32x4.extract_lane(hi, 1) : i == 6 ? i32x4.extract_lane(hi, 2) : i32x4.extract_lane(hi, 3));
        if (<u32>lane != reinterpret<u32>(halfRef(h))) bad++;
      }
    }
    expect(bad).toBe(0);
  });
});

describe('dequant_row', () => {
  it('dequant_row_f16: all finite halves (vector path), and rows of 1..20 (scalar tails)', () => {
    const src = heap.alloc(65536 * 2), dst = heap.alloc(65536 * 4);
    for (let h = 0; h < 65536; h++) store<u16>(src + (<usize>h << 1), <u16>h);
    dequant_row_f16(src, dst, 65536);
    let bad = 0;
    for (let h: u32 = 0; h < 65536; h++) {
      if (isFiniteHalf(h) && load<u32>(dst + (<usize>h << 2)) != reinterpret<u32>(halfRef(h))) bad++;
    }
    for (let n = 1; n <= 20; n++) {
      for (let i = 0; i < n + 1; i++) store<u16>(src + (<usize>i << 1), <u16>(nextU32() >> 16) & 0xbfff);
      store<f32>(dst + (<usize>n << 2), -7); // the slot after the row must survive
      dequant_row_f16(src, dst, n);
      for (let i = 0; i < n; i++) if (load<u32>(dst + (<usize>i << 2)) != reinterpret<u32>(halfRef(<u32>load<u16>(src + (<usize>i << 1))))) bad++;
      if (load<f32>(dst + (<usize>n << 2)) != -7) bad++;
    }
    expect(bad).toBe(0);
    heap.free(src); heap.free(dst);
  });

  it('dequant_row_bf16: bf16 is the upper half of the f32 (n = 1..40)', () => {
    const src = heap.alloc(41 * 2), dst = heap.alloc(41 * 4);
    let bad = 0;
    for (let n = 1; n <= 40; n++) {
      for (let i = 0; i < n; i++) store<u16>(src + (<usize>i << 1), <u16>(nextU32() >> 16));
      store<f32>(dst + (<usize>n << 2), -7);
      dequant_row_bf16(src, dst, n);
      for (let i = 0; i < n; i++) if (load<u32>(dst + (<usize>i << 2)) != (<u32>load<u16>(src + (<usize>i << 1)) << 16)) bad++;
      if (load<f32>(dst + (<usize>n << 2)) != -7) bad++;
    }
    expect(bad).toBe(0);
    heap.free(src); heap.free(dst);
  });

  it('dequant_row_q8_0: d * q per block, bit-exact (n = 32, 64, 4096; -128/127 and zero scales)', () => {
    const src = heap.alloc(128 * 34), dst = heap.alloc(4097 * 4);
    let bad = 0;
    const sizes: i32[] = [32, 64, 4096];
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s], blocks = n / 32;
      for (let b = 0; b < blocks; b++) {
        const p = src + <usize>(b * 34);
        const d = b % 7 == 6 ? <u16>0 : <u16>(nextU32() >> 16) & 0xbfff; // finite, sometimes zero
        store<u16>(p, d);
        for (let i = 0; i < 32; i++) store<i8>(p + 2 + <usize>i, b % 5 == 0 ? -128 : b % 5 == 1 ? 127 : <i8>(nextU32() >> 24));
      }
      store<f32>(dst + (<usize>n << 2), -7);
      dequant_row_q8_0(src, dst, n);
      for (let b = 0; b < blocks; b++) {
        const p = src + <usize>(b * 34);
        const d = halfRef(<u32>load<u16>(p));
        for (let i = 0; i < 32; i++) {
          const want = d * <f32>load<i8>(p + 2 + <usize>i);
          if (load<u32>(dst + (<usize>(b * 32 + i) << 2)) != reinterpret<u32>(want)) bad++;
        }
      }
      if (load<f32>(dst + (<usize>n << 2)) != -7) bad++;
    }
    expect(bad).toBe(0);
    heap.free(src); heap.free(dst);
  });
});
