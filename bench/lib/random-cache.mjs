// Random K/V rows for a decoder's cache slot, so that decode steps at a depth can be timed without
// prefilling it (decode speed does not depend on the values).

/** Random K/V rows at positions [0, S) of every layer of slot `seq`, through KVCache.store (which also fills K^T and the V sums). */
export function fillRandomRows(dec, seq, S) {
  const rt = dec.rt, cache = dec.caches[seq], cfg = dec.config;
  const width = cfg.nKVHeads * cfg.headDim, chunk = 256;
  const mark = rt.mark();
  const k = rt.alloc('bench', 4 * width * chunk), v = rt.alloc('bench', 4 * width * chunk);
  let x = 12345;
  const rand = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x / 2 ** 32) * 2 - 1; };
  for (let l = 0; l < cfg.nLayers; l++) {
    for (let p = 0; p < S; p += chunk) {
      const n = Math.min(chunk, S - p);
      const kv = rt.f32At(k, width * n), vv = rt.f32At(v, width * n);
      for (let i = 0; i < kv.length; i++) { kv[i] = rand() * 2; vv[i] = rand(); }
      cache.store(l, p, k, v, n);
    }
  }
  rt.release(mark);
}
