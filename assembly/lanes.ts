// Reductions of the four lanes of a v128 to one value: f32 in fixed orders (results depend on the order), i32
// exactly (any order gives the same sum).

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
