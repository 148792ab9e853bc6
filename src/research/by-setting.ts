// Accuracy of decode-step attention settings against dense, as the SparQ paper scores them: a dense prefill,
// then teacher-forced (or greedy) single-token decode steps through the chosen attention. The prefill is
// shared by every setting: the cache is rolled back to its end before each setting runs. These work on the
// model's decoder (engine/model.ts decoderOf), which the public Model does not expose.
import type { Decoder } from '../model/decoder.js';
import type { AttentionSetting, SparqProbe } from '../attention/index.js';
import { decoderOf, type Model } from '../engine/model.js';
import { InvalidArgumentError } from '../errors.js';

export interface EvalSetting {
  /** Row label in tables, e.g. 'dense' or '1/8'. */
  label: string;
  setting: AttentionSetting;
}

export interface PerplexityResult {
  label: string;
  setting: AttentionSetting;
  /** Decode steps scored (one predicted token each). */
  tokens: number;
  /** Mean negative log-likelihood per scored token (nats) and its exponential. */
  nll: number;
  perplexity: number;
  /** Attention bytes read / dense bytes over the decode steps (1 for dense). */
  fractionRead: number;
  r?: number;
  k?: number;
  /** Per layer, mean over probed (step, KV head) of the relative output error and the top-k recall (SparQ only). */
  layers?: { relErr: number; recall: number }[];
}

export interface PerplexityOptions {
  /** Tokens of each document that go through the dense prefill; the rest are scored by decode steps. */
  prefill: number;
  settings: EvalSetting[];
  /** Also measure each SparQ step against exact attention (per layer error and recall; about 2x slower). */
  probe?: boolean;
  onDocument?: (done: number, total: number) => void;
}

/**
 * Rolls the cache back to `len` positions of `tokens` as a fresh dense prefill would leave it: a quantised
 * transposed K keeps the grown scale of a tile that later positions touched, so the positions of a partly
 * kept tile are stored again (otherwise each setting's result would depend on the settings run before it).
 */
function rollBack(dec: Decoder, tokens: readonly number[], len: number): void {
  const exact = dec.exactLength(0, len);
  dec.truncate(exact);
  if (exact < len) {
    dec.attentionSetting = 'dense';
    dec.evaluate(tokens.slice(exact, len), exact);
  }
}

/** ln Σ e^x, computed stably. */
function logSumExp(x: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

function checkDocs(dec: Decoder, docs: readonly (readonly number[])[], prefill: number, extra: number): void {
  if (!Number.isInteger(prefill) || prefill < 1) throw new InvalidArgumentError(`prefill must be a positive integer, got ${prefill}`);
  docs.forEach((d, i) => {
    if (d.length < prefill + extra) throw new InvalidArgumentError(`document ${i} has ${d.length} tokens; needs at least ${prefill + extra}`);
    if (d.length > dec.contextLength) throw new InvalidArgumentError(`document ${i} has ${d.length} tokens; the context holds ${dec.contextLength}`);
  });
}

/**
 * Perplexity of every setting over the decode-step part of each document: tokens [0, prefill) go through a
 * dense prefill, then token t (t >= prefill) is fed as a decode step and scored on predicting token t+1.
 * The model must be idle (no generation running); its attention setting is restored afterwards.
 */
export function perplexityBySetting(model: Model, docs: readonly (readonly number[])[], opts: PerplexityOptions): PerplexityResult[] {
  const dec = decoderOf(model);
  const { prefill, settings } = opts;
  checkDocs(dec, docs, prefill, 2);
  const nLayers = dec.config.nLayers;
  const acc = settings.map(() => ({ nll: 0, tokens: 0, read: 0, dense: 0, r: undefined as number | undefined, k: undefined as number | undefined,
    probe: { relErr: new Float64Array(nLayers), recall: new Float64Array(nLayers), count: new Float64Array(nLayers) } as SparqProbe }));
  const saved = dec.attentionSetting;
  try {
    docs.forEach((doc, di) => {
      dec.attentionSetting = 'dense';
      dec.evaluate(doc.slice(0, prefill), 0);
      settings.forEach((s, si) => {
        const a = acc[si];
        rollBack(dec, doc, prefill);
        dec.attentionSetting = s.setting;
        const sparq = s.setting !== 'dense';
        if (sparq) dec.setAttentionProbe(opts.probe ? a.probe : undefined);
        dec.resetStats();
        for (let t = prefill; t + 1 < doc.length; t++) {
          const logits = dec.evaluate([doc[t]], t);
          a.nll += logSumExp(logits) - logits[doc[t + 1]];
          a.tokens++;
        }
        if (sparq) {
          dec.setAttentionProbe(undefined);
          const st = dec.attentionStats();
          const steps = doc.length - 1 - prefill;
          a.read += (st.fractionRead ?? 1) * steps;
          a.dense += steps;
          if (st.r !== undefined) { a.r = st.r; a.k = st.k; }
        }
      });
      opts.onDocument?.(di + 1, docs.length);
    });
  } finally {
    dec.attentionSetting = saved;
    if (dec.cache.sparqLayout) dec.setAttentionProbe(undefined);
  }
  return settings.map((s, si) => {
    const a = acc[si];
    const nll = a.nll / a.tokens;
    const res: PerplexityResult = { label: s.label, setting: s.setting, tokens: a.tokens, nll, perplexity: Math.exp(nll),
      fractionRead: a.dense > 0 ? a.read / a.dense : 1 };
    if (a.r !== undefined) { res.r = a.r; res.k = a.k; }
    if (opts.probe && s.setting !== 'dense') {
      const p = a.probe;
      res.layers = Array.from({ length: nLayers }, (_, l) => ({
        relErr: p.count[l] ? p.relErr[l] / p.count[l] : NaN, recall: p.count[l] ? p.recall[l] / p.count[l] : NaN,
      }));
    }
    return res;
  });
}

/**
 * Greedy continuations of `prompt` (ids) under every setting: the prompt minus its last token is prefilled
 * densely once; per setting the cache rolls back there and the last prompt token plus up to maxNew - 1
 * generated tokens run as decode steps. Stops early at any of the tokenizer's stop ids.
 */
export function greedyBySetting(model: Model, prompt: readonly number[], maxNew: number, settings: EvalSetting[]): number[][] {
  const dec = decoderOf(model);
  if (prompt.length < 2) throw new InvalidArgumentError('greedy evaluation needs a prompt of at least 2 tokens');
  if (!Number.isInteger(maxNew) || maxNew < 1) throw new InvalidArgumentError(`maxNew must be a positive integer, got ${maxNew}`);
  if (prompt.length + maxNew - 1 > dec.contextLength) {
    throw new InvalidArgumentError(`prompt (${prompt.length}) + ${maxNew} tokens do not fit the context of ${dec.contextLength}`);
  }
  const saved = dec.attentionSetting;
  const stop = new Set(model.tokenizer.stopIds);
  try {
    dec.attentionSetting = 'dense';
    const base = prompt.length - 1;
    dec.evaluate(prompt.slice(0, base), 0);
    return settings.map((s) => {
      rollBack(dec, prompt, base);
      dec.attentionSetting = s.setting;
      const out: number[] = [];
      let tok = prompt[base];
      for (let pos = base; out.length < maxNew; pos++) {
        const logits = dec.evaluate([tok], pos);
        let best = 0;
        for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        out.push(best);
        if (stop.has(best)) break;
        tok = best;
      }
      return out;
    });
  } finally {
    dec.attentionSetting = saved;
  }
}
