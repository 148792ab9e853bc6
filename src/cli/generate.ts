// `sparq generate`: load a model, stream the continuation of a prompt to stdout, stats to stderr.
import { readFile } from 'node:fs/promises';
import type { GenerateStats } from '../engine/types.js';
import type { ModelInfo } from '../engine/model.js';
import { InvalidArgumentError } from '../errors.js';
import { fileAccessError } from '../formats/file-errors.js';
import { loadFromFlags, samplingOptions, type ModelFlags, type SamplingFlags } from './model-flags.js';

export interface GenerateFlags extends ModelFlags, SamplingFlags {
  /** Read the prompt from this file. */
  file?: string;
}

/** The prompt: the argument, stdin for '-', or the file of --file (exactly one of them). */
async function readPrompt(arg: string | undefined, file: string | undefined): Promise<string> {
  if ((arg === undefined) === (file === undefined)) throw new InvalidArgumentError('give the prompt as PROMPT, as - (stdin) or with --file FILE: exactly one of them');
  if (file !== undefined) {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw fileAccessError(e, file);
    }
  }
  if (arg !== '-') return arg!;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs the command; returns the exit code (130 when interrupted by Ctrl-C). */
export async function runGenerate(promptArg: string | undefined, flags: GenerateFlags): Promise<number> {
  const prompt = await readPrompt(promptArg, flags.file);
  const ac = new AbortController();
  let interrupted = false;
  const interrupt = () => { interrupted = true; ac.abort(); };
  process.once('SIGINT', interrupt);
  // A reader that goes away (`sparq generate ... | head`) ends generation instead of crashing on EPIPE.
  const closed = () => ac.abort();
  process.stdout.on('error', closed);
  try {
    const model = await loadFromFlags(flags, ac.signal);
    try {
      const gen = model.generate(prompt, { ...samplingOptions(flags), signal: ac.signal });
      let last = '';
      for await (const text of gen) {
        if (!process.stdout.writable) break;
        process.stdout.write(text);
        last = text;
      }
      if (process.stdout.isTTY && last !== '' && !last.endsWith('\n')) process.stdout.write('\n');
      const { stats } = await gen.result;
      process.stderr.write(statsLine(stats, model.info) + '\n');
      return interrupted ? 130 : 0;
    } finally {
      model.dispose();
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.stdout.removeListener('error', closed);
  }
}

/** A generation's numbers on one line; with `info`, the model's load time and weight bytes per second first. */
export function statsLine(s: GenerateStats, info?: Pick<ModelInfo, 'loadMs' | 'weightBytes'>): string {
  const cached = s.cachedTokens > 0 ? ` (${s.cachedTokens} cached)` : '';
  const dropped = s.droppedMessages ? ` | ${s.droppedMessages} oldest messages left out to fit the context` : '';
  const parts = [
    ...(info ? [`load ${(info.loadMs / 1000).toFixed(2)} s (${(info.weightBytes / info.loadMs / 1e6).toFixed(2)} GB/s)`] : []),
    `prompt ${s.promptTokens} tokens${cached}, generated ${s.generatedTokens} (${s.stopReason})`,
    `prefill ${s.prefillTokensPerSecond.toFixed(1)} tok/s`,
    `decode ${s.decodeTokensPerSecond.toFixed(1)} tok/s`,
  ];
  const a = s.attention;
  if (a.kind === 'sparq' && a.r === undefined) parts.push('SparQ: no decode step ran SparQ (all ran dense)');
  else if (a.kind === 'sparq') {
    const read = a.fractionRead === undefined ? 'n/a' : `${(100 * a.fractionRead).toFixed(1)}%`;
    parts.push(`SparQ r=${a.r} k=${a.k}, attention bytes read ${read} of dense`);
  }
  return parts.join(' | ') + dropped;
}
