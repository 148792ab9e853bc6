// Reductions of the four lanes of a v128 to one value: f32 in fixed orders (results depend on the order), i32
// exactly (any order gives the same sum); and the pairing of two rows' i8 codes for i32x4.dot_i16x8_s.

/** max(max(l0, l1), max(l2, l3)). */
@inline
export function laneMax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** ((l0 + l1) + l2) + l3. */
@inline
export function laneSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** (l0 + l1) + (l2 + l3). */
@inline
export function laneSumPairs(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Sum of the four i32 lanes (wrapping, so exact for sums that fit an i32). */
@inline
export function laneSumI32(v: v128): i32 {
  const a = i32x4.add(v, i32x4.shuffle(v, v, 2, 3, 2, 3));
  return i32x4.extract_lane(i32x4.add(a, i32x4.shuffle(a, a, 1, 1, 1, 1)), 0);
}

/** The lane sums of a and b (exact, as laneSumI32) as f32: lane 0 holds a's, lane 2 b's. */
@inline
export function laneSumsI32ToF32(a: v128, b: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  return f32x4.convert_i32x4_s(i32x4.add(ab, i32x4.shuffle(ab, ab, 1, 0, 3, 2)));
}

/** Bytes 0-7 of a and b interleaved, a0 b0 a1 b1 ... a7 b7: two rows' i8 codes as pairs for dotPairs*. */
@inline
export function interleaveLowI8(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/** Bytes 8-15 of a and b interleaved, a8 b8 ... a15 b15. */
@inline
export function interleaveHighI8(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/** acc + the low 8 i8 of p, sign-extended, dotted pairwise with c's i16 lanes: lane j += p2j·c2j + p2j+1·c2j+1. */
@inline
export function dotPairsLowI8(acc: v128, p: v128, c: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(p), c));
}

/** As dotPairsLowI8 for the high 8 i8 of p. */
@inline
export function dotPairsHighI8(acc: v128, p: v128, c: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(p), c));
}
