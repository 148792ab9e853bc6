// `sparq generate`: load a model, stream the continuation of a prompt to stdout, stats to stderr.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GenerateOptions, GenerateStats } from '../engine/types.js';
import type { AttentionSetting } from '../attention/index.js';
import type { KType, VType } from '../kv/layout.js';
import { InvalidArgumentError } from '../errors.js';
import { loadingProgress } from './progress.js';

export interface GenerateFlags {
  model?: string;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  seed?: number;
  stop?: string[];
  context?: number;
  attention?: 'dense' | 'sparq';
  sparqRatio?: number;
  sparqR?: number;
  sparqK?: number;
  threads?: number;
  kType?: KType;
  vType?: VType;
  ktType?: 'q4';
}

const DEFAULT_SPARQ_RATIO = 1 / 8;

/** The model `--model` defaults to, relative to the package root. */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));

/** Runs the command; returns the exit code (130 when interrupted by Ctrl-C). */
export async function runGenerate(prompt: string, flags: GenerateFlags): Promise<number> {
  const source = modelSource(flags.model);
  const attention = attentionSetting(flags);
  const options: GenerateOptions = {
    maxTokens: flags.maxTokens, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, minP: flags.minP,
    repeatPenalty: flags.repeatPenalty, seed: flags.seed, stop: flags.stop,
  };
  const ac = new AbortController();
  let interrupted = false;
  const interrupt = () => { interrupted = true; ac.abort(); };
  process.once('SIGINT', interrupt);
  // A reader that goes away (`sparq generate ... | head`) ends generation instead of crashing on EPIPE.
  const closed = () => ac.abort();
  process.stdout.on('error', closed);
  const progress = loadingProgress('loading');
  try {
    const { loadModel } = await import('../engine/load.js');
    let model;
    try {
      model = await loadModel(source, { contextLength: flags.context, attention, threads: flags.threads, kType: flags.kType, vType: flags.vType, kTType: flags.ktType, onProgress: progress.onProgress, signal: ac.signal });
    } finally {
      progress.stop();
    }
    try {
      const gen = model.generate(prompt, { ...options, signal: ac.signal });
      let last = '';
      for await (const text of gen) {
        if (!process.stdout.writable) break;
        process.stdout.write(text);
        last = text;
      }
      if (process.stdout.isTTY && last !== '' && !last.endsWith('\n')) process.stdout.write('\n');
      const { stats } = await gen.result;
      process.stderr.write(statsLine(stats) + '\n');
      return interrupted ? 130 : 0;
    } finally {
      model.dispose();
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.stdout.removeListener('error', closed);
  }
}

export function modelSource(model: string | undefined): string {
  if (model === undefined) {
    if (!existsSync(DEFAULT_MODEL)) throw new InvalidArgumentError(`no --model given and the default model ${DEFAULT_MODEL} does not exist`);
    return DEFAULT_MODEL;
  }
  if (!/^https?:\/\//.test(model) && !existsSync(model)) throw new InvalidArgumentError(`${model}: no such file or directory`);
  return model;
}

/**
 * --attention and the --sparq-* flags as a load option. A --sparq-* flag alone selects SparQ; SparQ with no
 * parameters uses ratio 1/8; --sparq-r and --sparq-k go together and exclude --sparq-ratio.
 */
export function attentionSetting(f: GenerateFlags): AttentionSetting | undefined {
  const rk = f.sparqR !== undefined || f.sparqK !== undefined;
  const tuned = rk || f.sparqRatio !== undefined;
  if (f.attention === 'dense' && tuned) throw new InvalidArgumentError('--sparq-ratio, --sparq-r and --sparq-k need --attention sparq');
  if (f.attention !== 'sparq' && !tuned) return f.attention;
  if (rk && f.sparqRatio !== undefined) throw new InvalidArgumentError('give either --sparq-ratio or --sparq-r with --sparq-k, not both');
  if (rk) {
    if (f.sparqR === undefined || f.sparqK === undefined) throw new InvalidArgumentError('--sparq-r and --sparq-k must be given together');
    return { kind: 'sparq', r: f.sparqR, k: f.sparqK };
  }
  return { kind: 'sparq', ratio: f.sparqRatio ?? DEFAULT_SPARQ_RATIO };
}

export function statsLine(s: GenerateStats): string {
  const parts = [
    `prompt ${s.promptTokens} tokens, generated ${s.generatedTokens} (${s.stopReason})`,
    `prefill ${s.prefillTokensPerSecond.toFixed(1)} tok/s`,
    `decode ${s.decodeTokensPerSecond.toFixed(1)} tok/s`,
  ];
  const a = s.attention;
  if (a.kind === 'sparq' && a.r === undefined) parts.push('SparQ: no decode step ran SparQ (all ran dense)');
  else if (a.kind === 'sparq') {
    const read = a.fractionRead === undefined ? 'n/a' : `${(100 * a.fractionRead).toFixed(1)}%`;
    parts.push(`SparQ r=${a.r} k=${a.k}, attention bytes read ${read} of dense`);
  }
  return parts.join(' | ');
}
