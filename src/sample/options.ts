// Sampling options: what callers set, defaults (llama.cpp's) and validation.
import { InvalidArgumentError } from '../errors.js';
import { randomSeed } from './rng.js';

export interface SamplingOptions {
  /** 0 means greedy (argmax). Default 0.8. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  /** Subtracted from the logit of every token that occurs in the last repeatLastN tokens (OpenAI's presence_penalty; default 0). */
  presencePenalty?: number;
  /** Subtracted from a token's logit once per occurrence in the last repeatLastN tokens (OpenAI's frequency_penalty; default 0). */
  frequencyPenalty?: number;
  /** How many recent tokens the penalties look at (default 64). */
  repeatLastN?: number;
  /** RNG seed; the same seed, prompt and options give the same text. */
  seed?: number;
}

export interface SamplerSettings {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  repeatLastN: number;
  seed: number;
}

export const SAMPLING_DEFAULTS = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.0,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repeatLastN: 64,
} as const;

/** Fills in defaults and rejects values outside each option's range (NaN included). */
export function resolveSampling(o: SamplingOptions): SamplerSettings {
  const d = SAMPLING_DEFAULTS;
  const s: SamplerSettings = {
    temperature: o.temperature ?? d.temperature,
    topK: o.topK ?? d.topK,
    topP: o.topP ?? d.topP,
    minP: o.minP ?? d.minP,
    repeatPenalty: o.repeatPenalty ?? d.repeatPenalty,
    presencePenalty: o.presencePenalty ?? d.presencePenalty,
    frequencyPenalty: o.frequencyPenalty ?? d.frequencyPenalty,
    repeatLastN: o.repeatLastN ?? d.repeatLastN,
    seed: o.seed ?? randomSeed(),
  };
  check('temperature', s.temperature, Number.isFinite(s.temperature) && s.temperature >= 0, 'a finite number >= 0');
  check('topK', s.topK, Number.isSafeInteger(s.topK) && s.topK >= 0, 'an integer >= 0 (0 = off)');
  check('topP', s.topP, s.topP > 0 && s.topP <= 1, 'in (0, 1]');
  check('minP', s.minP, s.minP >= 0 && s.minP <= 1, 'in [0, 1]');
  check('repeatPenalty', s.repeatPenalty, Number.isFinite(s.repeatPenalty) && s.repeatPenalty > 0, 'a finite number > 0');
  check('presencePenalty', s.presencePenalty, Number.isFinite(s.presencePenalty) && Math.abs(s.presencePenalty) <= 2, 'a number in [-2, 2]');
  check('frequencyPenalty', s.frequencyPenalty, Number.isFinite(s.frequencyPenalty) && Math.abs(s.frequencyPenalty) <= 2, 'a number in [-2, 2]');
  check('repeatLastN', s.repeatLastN, Number.isSafeInteger(s.repeatLastN) && s.repeatLastN >= 0, 'an integer >= 0');
  check('seed', s.seed, Number.isSafeInteger(s.seed), 'a safe integer');
  return s;
}

function check(name: string, value: unknown, ok: boolean, expected: string): void {
  if (typeof value !== 'number' || !ok) throw new InvalidArgumentError(`${name} must be ${expected}, got ${String(value)}`);
}
