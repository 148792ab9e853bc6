// Exact top-k selection in O(n): radix selection on order-preserving integer keys of the f32 values.
//
// key(x) maps f32 to u32 so that x < y  <=>  key(x) < key(y) (flip all bits of negatives, the sign bit of
// the rest). Level 1 histograms the top 11 key bits over all n values, finds the bucket holding the k-th
// largest, emits every index in a higher bucket and keeps the indices in that bucket as candidates; levels
// 2 and 3 do the same on the candidates with the next 11 and the last 10 bits. Candidates left after level
// 3 have equal keys, so any of them completes the set. Indices come out in increasing order within each
// level (good for the gather that follows). No sorting anywhere.
//
// Large n with a small k (SparQ's case: k/n around 1/20) first narrows the input: the radix selection on an
// evenly spaced sample gives a threshold t a little below the sample's k/n quantile, one vectorised pass
// keeps the indices with x >= t (usually under 2k of them), and the radix selection runs on those. Every
// value left out is < t <= every candidate, so the result stays exact; when fewer than k pass (or too many,
// or t is NaN) the radix selection runs on the whole input instead.

const BUCKETS: i32 = 2048;

/** Bytes of `work` topk_select needs for n values. */
export function topk_work_bytes(n: i32): i32 { return 4 * BUCKETS + 4 * n; }

@inline
function key(x: f32): u32 {
  const b = reinterpret<u32>(x);
  return b ^ (<u32>(<i32>b >> 31) | 0x80000000);
}

// Bucket of value j at a level: bits [shift, shift+width) of its key.
@inline
function bucket(x: usize, j: i32, shift: u32, mask: u32): i32 {
  return <i32>((key(load<f32>(x + (<usize>j << 2))) >> shift) & mask);
}

// Highest bucket b with count(buckets >= b) >= need; *above receives count(buckets > b).
@inline
function findBucket(hist: usize, need: i32, above: usize): i32 {
  let acc = 0;
  let b = BUCKETS - 1;
  for (; b > 0; b--) {
    const h = load<i32>(hist + (<usize>b << 2));
    if (acc + h >= need) break;
    acc += h;
  }
  store<i32>(above, acc);
  return b;
}

/**
 * Indices of the k largest of the f32 values x[0, n) written to out (i32); returns min(k, n). Exact: every
 * index written has a value >= every value not written. work: topk_work_bytes(n) bytes.
 */
export function topk_select(x: usize, n: i32, k: i32, out: usize, work: usize): i32 {
  if (k <= 0) return 0;
  if (k >= n) {
    for (let j = 0; j < n; j++) store<i32>(out + (<usize>j << 2), j);
    return n;
  }
  const hist = work;
  const rest = work + (<usize>BUCKETS << 2); // 4n bytes
  if (n >= SAMPLED_MIN_N && k <= n >> 3 && narrowed(x, n, k, out, hist, rest)) return k;
  return radix(x, n, k, out, hist, rest);
}

// Sample size for the threshold, and the smallest n that uses it (the sample's buffers fit in 4n bytes).
const SAMPLE: i32 = 1024;
const SAMPLED_MIN_N: i32 = 4 * SAMPLE;
// PACK[m] (16 bytes): the byte shuffle that moves the i32 lanes whose bit is set in m to the front, in order.
const PACK = memory.data<u8>([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

// The narrowing above; false when it cannot finish (the caller then selects over all of x). rest: 4n bytes.
function narrowed(x: usize, n: i32, k: i32, out: usize, hist: usize, rest: usize): bool {
  // sample values, then the threshold: the j-th largest sample with j = the expected count plus 4 sigma + 8
  const sv = rest;
  const sIdx = sv + (<usize>SAMPLE << 2);
  const sWork = sIdx + (<usize>SAMPLE << 2);
  const step = <f64>n / <f64>SAMPLE;
  for (let i = 0; i < SAMPLE; i++) store<f32>(sv + (<usize>i << 2), load<f32>(x + (<usize>(<i32>(<f64>i * step)) << 2)));
  const e = <f64>k * <f64>SAMPLE / <f64>n;
  const j = min(SAMPLE, <i32>(e + 4 * Math.sqrt(e) + 8));
  const got = radix(sv, SAMPLE, j, sIdx, hist, sWork);
  let t: f32 = Infinity;
  for (let i = 0; i < got; i++) t = min(t, load<f32>(sv + (<usize>load<i32>(sIdx + (<usize>i << 2)) << 2)));
  if (isNaN(t)) return false;
  // candidates x >= t: their indices at ci, their values at cv, at most n/3 of them (the radix needs n/3 more)
  const cap = n / 3;
  const ci = rest;
  const cv = ci + (<usize>cap << 2);
  const cw = cv + (<usize>cap << 2);
  // branch-free compaction, four values at a time: PACK[mask] moves the lanes at or above t to the front
  const tv = f32x4.splat(t);
  const last = cap - 4;
  let pv = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  let c = 0;
  let p = 0;
  for (; p + 4 <= n; p += 4) {
    if (c > last) return false;
    const v = v128.load(x + (<usize>p << 2));
    const bits = i32x4.bitmask(f32x4.ge(v, tv));
    const sh = v128.load(PACK + (<usize>bits << 4));
    v128.store(ci + (<usize>c << 2), i8x16.swizzle(pv, sh));
    v128.store(cv + (<usize>c << 2), i8x16.swizzle(v, sh));
    c += <i32>popcnt(bits);
    pv = i32x4.add(pv, four);
  }
  for (; p < n; p++) {
    const v = load<f32>(x + (<usize>p << 2));
    if (c >= cap) return false;
    store<i32>(ci + (<usize>c << 2), p);
    store<f32>(cv + (<usize>c << 2), v);
    c += i32(v >= t);
  }
  if (c < k) return false;
  radix(cv, c, k, out, hist, cw);
  for (let i = 0; i < k; i++) {
    const o = out + (<usize>i << 2);
    store<i32>(o, load<i32>(ci + (<usize>load<i32>(o) << 2)));
  }
  return true;
}

// The radix selection of the header over x[0, n) (0 < k < n); hist: BUCKETS i32, cand: n i32.
function radix(x: usize, n: i32, k: i32, out: usize, hist: usize, cand: usize): i32 {
  if (k >= n) {
    for (let j = 0; j < n; j++) store<i32>(out + (<usize>j << 2), j);
    return n;
  }
  let c = 0;
  let need = k;
  // level 1: over all values, top 11 bits
  memory.fill(hist, 0, <usize>BUCKETS << 2);
  for (let j = 0; j < n; j++) {
    const p = hist + (<usize>bucket(x, j, 21, 2047) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  const aboveP = hist; // reused after the bucket is known
  let b = findBucket(hist, need, aboveP);
  need -= load<i32>(aboveP);
  // emit higher buckets, collect the boundary bucket, without branches (the outcomes are data-dependent):
  // both stores always happen and only the matching count advances; c stays below k and nc below n
  let nc = 0;
  for (let j = 0; j < n; j++) {
    const kb = bucket(x, j, 21, 2047);
    store<i32>(out + (<usize>c << 2), j);
    store<i32>(cand + (<usize>nc << 2), j);
    c += i32(kb > b);
    nc += i32(kb == b);
  }
  // levels 2 and 3 on the candidates (compacted in place)
  for (let level = 0; level < 2 && nc > need; level++) {
    const shift: u32 = level == 0 ? 10 : 0;
    const mask: u32 = level == 0 ? 2047 : 1023;
    memory.fill(hist, 0, <usize>BUCKETS << 2);
    for (let m = 0; m < nc; m++) {
      const p = hist + (<usize>bucket(x, load<i32>(cand + (<usize>m << 2)), shift, mask) << 2);
      store<i32>(p, load<i32>(p) + 1);
    }
    b = findBucket(hist, need, aboveP);
    need -= load<i32>(aboveP);
    let kept = 0;
    for (let m = 0; m < nc; m++) {
      const u = load<i32>(cand + (<usize>m << 2));
      const kb = bucket(x, u, shift, mask);
      store<i32>(out + (<usize>c << 2), u);
      store<i32>(cand + (<usize>kept << 2), u);
      c += i32(kb > b);
      kept += i32(kb == b);
    }
    nc = kept;
  }
  // the remaining candidates tie (or exactly fill the set): take the first `need`
  for (let m = 0; m < need; m++) store<i32>(out + (<usize>(c++) << 2), load<i32>(cand + (<usize>m << 2)));
  return c;
}
