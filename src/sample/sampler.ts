// Token sampling from a logits row. Stages, in llama.cpp's default order:
//   1. penalties over the last repeatLastN tokens: the repetition penalty (each distinct token once: a
//      positive logit is divided by it, a negative one multiplied), then the presence and frequency penalties
//      (logit -= presence·[count > 0] + frequency·count), as llama.cpp applies them
//   2. top-k: keep the k largest logits (topK = 0: off)
//   3. top-p: keep the smallest best-first set whose probability, normalised over what stage 2 kept, reaches p
//   4. min-p: drop tokens whose probability is below minP times the largest one
//   5. temperature: sample from softmax(logit / T) over what is left; T = 0 picks the argmax (lowest id on ties)
// Stages 3 and 4 do not depend on T. The vocabulary is never sorted: top-k uses a size-k heap, top-p
// without top-k a probability histogram (see select.ts).
import { resolveSampling, type SamplerSettings, type SamplingOptions } from './options.js';
import { Rng } from './rng.js';
import { argmax, topKIds, nucleus, nucleusCut } from './select.js';

export interface Distribution {
  /** Candidate ids (in no particular order). */
  ids: Int32Array;
  /** Their probabilities, summing to 1. */
  probs: Float64Array;
}

export class Sampler {
  readonly settings: SamplerSettings;
  private readonly rng: Rng;
  private readonly penalised: Float32Array;
  private readonly ids: Int32Array;
  private readonly weights: Float64Array;
  private readonly hist = new Float64Array(1024);

  constructor(readonly vocabSize: number, options: SamplingOptions = {}) {
    this.settings = resolveSampling(options);
    this.rng = new Rng(this.settings.seed);
    this.penalised = new Float32Array(vocabSize);
    this.ids = new Int32Array(vocabSize);
    this.weights = new Float64Array(vocabSize);
  }

  /** Picks the next token for `logits`; `history` is the context so far (prompt and generated ids). */
  sample(logits: Float32Array, history: ArrayLike<number>): number {
    const { n, z } = this.candidates(logits, history);
    if (n === 1) return this.ids[0];
    let u = this.rng.nextFloat() * z;
    let lastPositive = 0;
    for (let j = 0; j < n; j++) {
      const w = this.weights[j];
      if (w > 0) lastPositive = j;
      u -= w;
      if (u < 0) return this.ids[j];
    }
    return this.ids[lastPositive]; // rounding left u >= 0
  }

  /** The distribution `sample` draws from (views valid until the next call). */
  distribution(logits: Float32Array, history: ArrayLike<number>): Distribution {
    const { n, z } = this.candidates(logits, history);
    const probs = this.weights.subarray(0, n);
    for (let j = 0; j < n; j++) probs[j] /= z;
    return { ids: this.ids.subarray(0, n), probs };
  }

  /** Runs the stages; leaves ids[0..n) and their unnormalised weights, and returns n and the weights' sum. */
  private candidates(logits: Float32Array, history: ArrayLike<number>): { n: number; z: number } {
    if (logits.length !== this.vocabSize) throw new RangeError(`logits have ${logits.length} entries, vocabulary is ${this.vocabSize}`);
    const s = this.settings;
    const l = this.penalise(logits, history);
    const ids = this.ids;
    const best = argmax(l);
    if (s.temperature === 0 || best < 0) {
      ids[0] = Math.max(best, 0);
      this.weights[0] = 1;
      return { n: 1, z: 1 };
    }
    const lmax = l[best];
    let n: number;
    let minPDone = false;
    if (s.topK > 0 && s.topK < l.length) {
      n = topKIds(l, s.topK, ids);
      if (s.topP < 1) {
        let z = 0;
        for (let j = 0; j < n; j++) z += Math.exp(l[ids[j]] - lmax);
        n = nucleusCut(l, lmax, ids, n, s.topP * z);
      }
    } else if (s.topP < 1) {
      n = nucleus(l, lmax, s.topP, ids, this.hist);
    } else {
      // No ordering stage: keep ids in id order, min-p applied in the same pass.
      const floor = Math.log(s.minP);
      n = 0;
      for (let i = 0; i < l.length; i++) if (l[i] > -Infinity && l[i] - lmax >= floor) ids[n++] = i;
      minPDone = true;
    }
    if (s.minP > 0 && !minPDone) n = minPFilter(l, lmax, s.minP, ids, n);
    let z = 0;
    const invT = 1 / s.temperature;
    for (let j = 0; j < n; j++) {
      const w = Math.exp((l[ids[j]] - lmax) * invT);
      this.weights[j] = w;
      z += w;
    }
    return { n, z };
  }

  /** The logits with the penalties applied (a copy; the input is not changed). */
  private penalise(logits: Float32Array, history: ArrayLike<number>): Float32Array {
    const { repeatPenalty: r, presencePenalty: present, frequencyPenalty: freq, repeatLastN } = this.settings;
    if ((r === 1 && present === 0 && freq === 0) || repeatLastN === 0 || history.length === 0) return logits;
    const out = this.penalised;
    out.set(logits);
    const counts = new Map<number, number>();
    for (let j = Math.max(0, history.length - repeatLastN); j < history.length; j++) {
      const id = history[j];
      if (id >= 0 && id < out.length) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, count] of counts) {
      if (r !== 1) out[id] = out[id] > 0 ? out[id] / r : out[id] * r;
      out[id] -= present + freq * count;
    }
    return out;
  }
}

/** Keeps the ids with p >= minP * pmax, i.e. l - lmax >= ln(minP), in their order. */
function minPFilter(l: Float32Array, lmax: number, minP: number, ids: Int32Array, n: number): number {
  const floor = Math.log(minP);
  let m = 0;
  for (let j = 0; j < n; j++) if (l[ids[j]] - lmax >= floor) ids[m++] = ids[j];
  return m;
}
