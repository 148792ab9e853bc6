// Reductions of the four f32 lanes of a v128 to one f32, in fixed orders (results depend on the order).

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
