// The pass-key task by setting: " The pass key is NNNNN. Remember it." buried at a depth of filler text, then
// " What is the pass key? The pass key is"; a hit when the greedy answer under a setting starts with the key.
// The sentences are those the default model was trained on (models/README.md).
import type { Model } from '../engine/model.js';
import { InvalidArgumentError } from '../errors.js';
import { greedyBySetting, type EvalSetting } from './by-setting.js';

export interface PasskeyOptions {
  /** Prompt length in tokens (BOS, filler, the needle, the question). */
  length: number;
  /** Prompts per depth. */
  trials: number;
  /** Needle depths as fractions of the filler (default 0, 0.25, 0.5, 0.75, 1). */
  depths?: readonly number[];
  /** Seed of the keys and filler offsets (the same prompts for the same seed). */
  seed?: number;
  settings: EvalSetting[];
}

export const PASSKEY_DEPTHS = [0, 0.25, 0.5, 0.75, 1];

/** Deterministic numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Share of pass-key prompts each setting answers, over `trials` prompts at every depth; filler: token ids. */
export function passkeyBySetting(model: Model, filler: readonly number[], opts: PasskeyOptions): number[] {
  const { length, trials, settings } = opts;
  const rand = rng(opts.seed ?? length);
  const bos = model.tokenizer.bos;
  const question = model.tokenize(' What is the pass key? The pass key is', { addSpecial: false });
  const hits = settings.map(() => 0);
  let total = 0;
  for (const depth of opts.depths ?? PASSKEY_DEPTHS) {
    for (let t = 0; t < trials; t++) {
      const key = String(10000 + Math.floor(rand() * 90000));
      const needle = model.tokenize(` The pass key is ${key}. Remember it.`, { addSpecial: false });
      const fill = length - 8 - (bos === null ? 0 : 1) - needle.length - question.length;
      if (fill < 1 || filler.length < fill) throw new InvalidArgumentError(`a pass-key prompt of ${length} tokens needs ${fill} filler tokens; the filler has ${filler.length}`);
      const off = Math.floor(rand() * (filler.length - fill));
      const body = filler.slice(off, off + fill);
      const at = Math.round(depth * fill);
      const prompt = [...(bos === null ? [] : [bos]), ...body.slice(0, at), ...needle, ...body.slice(at), ...question];
      greedyBySetting(model, prompt, 6, settings).forEach((got, si) => {
        if (model.tokenizer.decode(got).trim().startsWith(key)) hits[si]++;
      });
      total++;
    }
  }
  return hits.map((h) => h / total);
}
