// A small seeded random generator (mulberry32 over a 32-bit state), so that a run seed and a case index
// always give the same case.

/** The generator of case `index` of the run seeded with `seed`. */
export function caseRng(seed, index) {
  let s = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    /** An integer in [0, n). */
    int,
    chance: (p) => next() < p,
    pick: (list) => list[int(list.length)],
    /** An entry of [[weight, value], ...] picked by weight. */
    weighted(entries) {
      let r = next() * entries.reduce((a, [w]) => a + w, 0);
      for (const [w, v] of entries) if ((r -= w) < 0) return v;
      return entries[entries.length - 1][1];
    },
  };
}
