// `sparq eval`: perplexity of a model over a text under dense and SparQ decode-step attention, with per-layer
// output error and top-k recall against exact attention, and the pass-key task at the window length, as one
// table (the paper's teacher-forced scoring).
import { readFileSync, writeFileSync } from 'node:fs';
import type { KType, VType } from '../kv/layout.js';
import { perplexityBySetting, passkeyBySetting, PASSKEY_DEPTHS, type EvalSetting, type PerplexityResult } from '../research/index.js';
import { InvalidArgumentError } from '../errors.js';
import { modelSource } from './model-flags.js';
import { loadingProgress } from './progress.js';

export interface EvalFlags {
  model?: string;
  text: string;
  prefill: number;
  steps: number;
  docs: number;
  ratios: number[];
  kType?: KType;
  vType?: VType;
  ktType?: 'q4';
  probe: boolean;
  /** Pass-key prompts per depth (0: none). */
  passkey: number;
  json?: string;
}

/** Settings for a list of ratios: SparQ runs at every length (no dense switch-off) so accuracy is measured. */
export function evalSettings(ratios: readonly number[]): EvalSetting[] {
  return [{ label: 'dense', setting: 'dense' as const },
    ...ratios.map((ratio) => ({ label: fraction(ratio), setting: { kind: 'sparq' as const, ratio, denseBelow: 0 } }))];
}

export function fraction(x: number): string {
  const inv = 1 / x;
  return Math.abs(inv - Math.round(inv)) < 1e-9 ? `1/${Math.round(inv)}` : String(x);
}

/** D windows of `length` tokens spread evenly over the text's tokens, each led by BOS when the model has one. */
export function documentWindows(ids: readonly number[], bos: number | null, length: number, count: number): number[][] {
  const body = bos === null ? length : length - 1;
  if (ids.length < body) throw new InvalidArgumentError(`the text has ${ids.length} tokens; one window needs ${body}`);
  const stride = count > 1 ? Math.floor((ids.length - body) / (count - 1)) : 0;
  const n = stride > 0 || count === 1 ? count : 1;
  return Array.from({ length: n }, (_, i) => {
    const w = ids.slice(i * stride, i * stride + body);
    return bos === null ? w : [bos, ...w];
  });
}

export async function runEval(flags: EvalFlags): Promise<number> {
  const text = readFileSync(flags.text, 'utf8');
  const length = flags.prefill + flags.steps + 1;
  const progress = loadingProgress('loading');
  const { loadModel } = await import('../engine/load.js');
  let model;
  try {
    model = await loadModel(modelSource(flags.model), {
      contextLength: length, sparqLayout: true, kType: flags.kType ?? 'q8', vType: flags.vType ?? 'q8', kTType: flags.ktType,
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
  }
  try {
    const ids = model.tokenize(text, { addSpecial: false });
    const docs = documentWindows(ids, model.tokenizer.bos, length, flags.docs);
    const settings = evalSettings(flags.ratios);
    const t0 = performance.now();
    const results = perplexityBySetting(model, docs, {
      prefill: flags.prefill, settings, probe: flags.probe,
      onDocument: (done, total) => process.stderr.write(`\rdocument ${done}/${total}`),
    });
    process.stderr.write('\n');
    const passkey = flags.passkey > 0 ? passkeyBySetting(model, ids, { length, trials: flags.passkey, settings }) : undefined;
    const c = model.info.config;
    const header = `${flags.text}: ${docs.length} windows of ${length} tokens (dense prefill ${flags.prefill}, then ${flags.steps} ` +
      `teacher-forced decode steps); K ${flags.kType ?? 'q8'}${flags.ktType ? ` (K^T ${flags.ktType})` : ''}, V ${flags.vType ?? 'q8'}; ` +
      `${c.nHeads} heads / ${c.nKVHeads} KV heads, d_h ${c.headDim}` +
      (passkey ? `; pass key: ${flags.passkey} prompt(s) of ${length} tokens at each depth ${PASSKEY_DEPTHS.join(', ')}` : '') +
      `; ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    process.stdout.write(`${header}\n\n${formatTable(results, passkey)}\n`);
    if (flags.probe) process.stdout.write(`\n${formatLayers(results)}\n`);
    if (flags.json) {
      writeFileSync(flags.json, JSON.stringify({ text: flags.text, windows: docs.length, length, prefill: flags.prefill, steps: flags.steps,
        kType: flags.kType ?? 'q8', vType: flags.vType ?? 'q8', ktType: flags.ktType ?? 'same', config: c, passkeyPrompts: flags.passkey,
        results: results.map((r, i) => ({ ...r, passkey: passkey?.[i] })) }, null, 1) + '\n');
    }
    return 0;
  } finally {
    model.dispose();
  }
}

function formatTable(results: PerplexityResult[], passkey?: number[]): string {
  const dense = results.find((r) => r.setting === 'dense');
  const rows = [['attention', 'r', 'k', 'perplexity', 'vs dense', 'bytes read', 'rel. error', 'top-k recall', ...(passkey ? ['pass key'] : [])]];
  results.forEach((r, i) => {
    const layers = r.layers ?? [];
    const mean = (f: (l: { relErr: number; recall: number }) => number) => layers.length ? layers.reduce((s, l) => s + f(l), 0) / layers.length : NaN;
    rows.push([r.label, r.r === undefined ? '-' : String(r.r), r.k === undefined ? '-' : String(r.k), r.perplexity.toFixed(3),
      dense ? `${((r.perplexity / dense.perplexity - 1) * 100).toFixed(2)}%` : '-', `${(r.fractionRead * 100).toFixed(1)}%`,
      layers.length ? mean((l) => l.relErr).toFixed(4) : '-', layers.length ? mean((l) => l.recall).toFixed(3) : '-',
      ...(passkey ? [`${(passkey[i] * 100).toFixed(0)}%`] : [])]);
  });
  return table(rows);
}

function formatLayers(results: PerplexityResult[]): string {
  const sparq = results.filter((r) => r.layers);
  if (sparq.length === 0) return '';
  const rows = [['layer', ...sparq.map((r) => `${r.label} rel. error / recall`)]];
  sparq[0].layers!.forEach((_, l) => rows.push([String(l), ...sparq.map((r) => `${r.layers![l].relErr.toFixed(4)} / ${r.layers![l].recall.toFixed(3)}`)]));
  return table(rows);
}

/** A Markdown table (readable as plain text too). */
export function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(rows[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
