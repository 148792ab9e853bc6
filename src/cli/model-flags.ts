// Options every model-running command shares (which model, cache, attention, threads; sampling), and
// loading the model they describe.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import type { Model } from '../engine/model.js';
import type { SamplingOptions } from '../engine/types.js';
import type { AttentionSetting } from '../attention/index.js';
import type { KType, VType } from '../kv/layout.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { byteSize, integer, number, ratio, collectEscaped } from './parse.js';
import { loadingProgress } from './progress.js';

export interface ModelFlags {
  model?: string;
  context?: number;
  attention?: 'dense' | 'sparq';
  sparqRatio?: number;
  sparqR?: number;
  sparqK?: number;
  threads?: number;
  memoryLimit?: number;
  kType?: KType;
  vType?: VType;
  ktType?: 'q4';
  /** Sequences that run batched together (set by `serve --parallel`). */
  maxSequences?: number;
}

export interface ChatTemplateFlags {
  chatTemplateFile?: string;
}

export interface SamplingFlags {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  seed?: number;
  stop?: string[];
}

const DEFAULT_SPARQ_RATIO = 1 / 8;

/** The model `--model` defaults to, relative to the package root. */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('-m, --model <FILE>', 'GGUF file, Hugging Face directory or URL (default: models/default.gguf)')
    .option('-c, --context <N>', 'KV-cache capacity in positions (default: the model\'s, at most 4096)', integer(1))
    .addOption(new Option('--attention <KIND>', 'attention for decode steps (default dense)').choices(['dense', 'sparq']))
    .option('--sparq-ratio <RATIO>', 'SparQ: compression ratio, as 1/8 or 0.125 (default 1/8)', ratio)
    .option('--sparq-r <R>', 'SparQ: query components used to approximate scores', integer(1))
    .option('--sparq-k <K>', 'SparQ: positions fetched in full (with --sparq-r)', integer(1))
    .addOption(new Option('--k-type <T>', 'K cache type (default: f32 dense, q8 with SparQ)').choices(['f32', 'f16', 'q8']))
    .addOption(new Option('--v-type <T>', 'V cache type (default: f32 dense, q8 with SparQ)').choices(['f32', 'f16', 'q8', 'q4']))
    .addOption(new Option('--kt-type <T>', 'SparQ: store the transposed K in 4 bits (cache 1.25x dense q8 instead of 1.47x)').choices(['q4']))
    .option('--threads <N>', 'threads for the kernels (default: the number of cores; 1 = single-threaded)', integer(1))
    .option('--memory-limit <SIZE>', 'refuse models whose weights, KV cache and buffers need more (512M, 2G; default 4G)', byteSize);
}

export function addChatTemplateOption(cmd: Command): Command {
  return cmd.option('--chat-template-file <FILE>', 'Jinja chat template to use instead of the model\'s own (for models without one)');
}

/** The --chat-template-file's text, if given. */
export async function chatTemplateFromFlags(f: ChatTemplateFlags): Promise<string | undefined> {
  if (f.chatTemplateFile === undefined) return undefined;
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(f.chatTemplateFile, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`--chat-template-file ${f.chatTemplateFile}: ${(e as Error).message}`);
  }
}

export function addSamplingOptions(cmd: Command, maxTokensHelp = 'most tokens to generate (default 256)'): Command {
  return cmd
    .option('-n, --max-tokens <N>', maxTokensHelp, integer(0))
    .option('-t, --temperature <T>', '0 = greedy (default 0.8)', number((n) => n >= 0, 'a number >= 0'))
    .option('--top-k <K>', 'keep the K most likely tokens, 0 = off (default 40)', integer(0))
    .option('--top-p <P>', 'nucleus sampling, 1 = off (default 0.95)', number((n) => n > 0 && n <= 1, 'a number in (0, 1]'))
    .option('--min-p <P>', 'drop tokens below P times the most likely, 0 = off (default 0.05)', number((n) => n >= 0 && n <= 1, 'a number in [0, 1]'))
    .option('--repeat-penalty <R>', 'repetition penalty over the last 64 tokens, 1 = off (default 1)', number((n) => n > 0, 'a number > 0'))
    .option('-s, --seed <S>', 'random seed (default: random)', integer(-Number.MAX_SAFE_INTEGER))
    .option('--stop <STR>', 'stop before this text (repeatable; \\n, \\t, \\r, \\\\ are unescaped)', collectEscaped);
}

export function samplingOptions(f: SamplingFlags): SamplingOptions & { maxTokens?: number; stop?: string[] } {
  return {
    maxTokens: f.maxTokens, temperature: f.temperature, topK: f.topK, topP: f.topP, minP: f.minP,
    repeatPenalty: f.repeatPenalty, seed: f.seed, stop: f.stop,
  };
}

export function modelSource(model: string | undefined): string {
  if (model === undefined) {
    if (!existsSync(DEFAULT_MODEL)) throw new InvalidArgumentError(`no --model given and the default model ${DEFAULT_MODEL} does not exist`);
    return DEFAULT_MODEL;
  }
  if (!/^https?:\/\//.test(model) && !existsSync(model)) throw new NotFoundError('no such file or directory', model);
  return model;
}

/**
 * --attention and the --sparq-* flags as a load option. A --sparq-* flag alone selects SparQ; SparQ with no
 * parameters uses ratio 1/8; --sparq-r and --sparq-k go together and exclude --sparq-ratio.
 */
export function attentionSetting(f: ModelFlags): AttentionSetting | undefined {
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

/** The model the flags describe, with a progress bar on a terminal. */
export async function loadFromFlags(f: ModelFlags, signal?: AbortSignal): Promise<Model> {
  const source = modelSource(f.model);
  const attention = attentionSetting(f);
  const progress = loadingProgress('loading');
  const { loadModel } = await import('../engine/load.js');
  try {
    return await loadModel(source, {
      contextLength: f.context, attention, threads: f.threads, memoryLimit: f.memoryLimit, kType: f.kType, vType: f.vType, kTType: f.ktType, maxSequences: f.maxSequences,
      onProgress: progress.onProgress, onWarning: (m) => process.stderr.write(`warning: ${m}\n`), signal,
    });
  } finally {
    progress.stop();
  }
}
