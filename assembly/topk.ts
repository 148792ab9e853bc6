// Exact top-k selection in O(n): radix selection on order-preserving integer keys of the f32 values.
//
// key(x) maps f32 to u32 so that x < y  <=>  key(x) < key(y) (flip all bits of negatives, the sign bit of
// the rest). Level 1 histograms the top 11 key bits over all n values, finds the bucket holding the k-th
// largest, emits every index in a higher bucket and keeps the indices in that bucket as candidates; levels
// 2 and 3 do the same on the candidates with the next 11 and the last 10 bits. Candidates left after level
// 3 have equal keys, so any of them completes the set. Indices come out in increasing order within each
// level (good for the gather that follows). No sorting anywhere.

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
  const cand = work + (<usize>BUCKETS << 2);
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
  // emit higher buckets, collect the boundary bucket; four keys at a time skip the (usual) all-below case
  const lo = i32x4.splat(<i32>(<u32>b << 21));
  const flip = i32x4.splat(0x80000000);
  let nc = 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const v = v128.load(x + (<usize>j << 2));
    const kv = v128.xor(v, v128.or(i32x4.shr_s(v, 31), flip));
    if (!v128.any_true(i32x4.ge_u(kv, lo))) continue;
    for (let u = j; u < j + 4; u++) {
      const kb = bucket(x, u, 21, 2047);
      if (kb > b) store<i32>(out + (<usize>(c++) << 2), u);
      else if (kb == b) store<i32>(cand + (<usize>(nc++) << 2), u);
    }
  }
  for (; j < n; j++) {
    const kb = bucket(x, j, 21, 2047);
    if (kb > b) store<i32>(out + (<usize>(c++) << 2), j);
    else if (kb == b) store<i32>(cand + (<usize>(nc++) << 2), j);
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
      if (kb > b) store<i32>(out + (<usize>(c++) << 2), u);
      else if (kb == b) store<i32>(cand + (<usize>(kept++) << 2), u);
    }
    nc = kept;
  }
  // the remaining candidates tie (or exactly fill the set): take the first `need`
  for (let m = 0; m < need; m++) store<i32>(out + (<usize>(c++) << 2), load<i32>(cand + (<usize>m << 2)));
  return c;
}
