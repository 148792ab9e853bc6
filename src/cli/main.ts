// The `sparq` command line: argument parsing and error reporting. Each command's work is in its own
// file, imported when that command runs.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { SparqError } from '../errors.js';
import { integer, ratioList } from './parse.js';
import { addModelOptions, addSamplingOptions, addChatTemplateOption } from './model-flags.js';
import type { GenerateFlags } from './generate.js';
import type { ChatFlags } from './chat.js';
import type { ServeFlags } from './serve.js';
import type { EvalFlags } from './eval.js';

/** Runs the command line `argv` (as process.argv: node, script, args...); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('sparq')
    .description('CPU LLM inference in WebAssembly SIMD, with SparQ attention')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const generate = program.command('generate')
    .description('generate a continuation of PROMPT, streamed to stdout; stats go to stderr')
    .argument('[PROMPT]', 'the prompt text; - reads it from stdin')
    .option('-f, --file <FILE>', 'read the prompt from FILE (UTF-8) instead');
  addSamplingOptions(addModelOptions(generate))
    .action(async (prompt: string | undefined, flags: GenerateFlags) => {
      const { runGenerate } = await import('./generate.js');
      code = await runGenerate(prompt, flags);
    });

  const chat = program.command('chat')
    .description('chat with the model in the terminal (its chat template; streamed replies, /reset, /exit, Ctrl-C stops a reply); ' +
      'with stdin not a terminal, one message per line and one reply per message')
    .option('--system <TEXT>', 'system message')
    .option('--stats', 'print each reply\'s stats to stderr');
  addChatTemplateOption(addSamplingOptions(addModelOptions(chat), 'most tokens per reply (default 256)'))
    .action(async (flags: ChatFlags) => {
      const { runChat } = await import('./chat.js');
      code = await runChat(flags);
    });

  const serve = program.command('serve')
    .description('serve an OpenAI-compatible API: POST /v1/chat/completions and /v1/completions (streaming with SSE), GET /v1/models, GET /health')
    .option('--host <HOST>', 'address to listen on', '127.0.0.1')
    .option('--port <PORT>', 'port to listen on (0: any free port)', integer(0), 8080)
    .option('--api-key <KEY>', 'require Authorization: Bearer KEY (default: $SPARQ_API_KEY, else none)')
    .option('--parallel <N>', 'requests that run at once, batched together (each with its own KV cache of -c positions); more wait in a queue', integer(1), 1)
    .option('--queue <N>', 'requests that may wait; more get 503 (default 32)', integer(0))
    .option('--name <ID>', 'the model id clients name (default: the model\'s name)');
  addChatTemplateOption(addModelOptions(serve))
    .action(async (flags: ServeFlags) => {
      const { runServe } = await import('./serve.js');
      code = await runServe(flags);
    });

  program.command('eval')
    .description('perplexity over a text file with a dense prefill and teacher-forced decode steps, for dense and SparQ attention')
    .requiredOption('--text <FILE>', 'UTF-8 text to score')
    .option('-m, --model <FILE>', 'GGUF file, Hugging Face directory or URL (default: models/default.gguf)')
    .option('--prefill <N>', 'tokens per window through the dense prefill (default 256)', integer(1), 256)
    .option('--steps <N>', 'teacher-forced decode steps scored per window (default 128)', integer(1), 128)
    .option('--docs <N>', 'windows spread evenly over the text (default 4)', integer(1), 4)
    .option('--ratios <LIST>', 'SparQ ratios, comma-separated (default 1/2,1/4,1/8,1/16,1/32)', ratioList, [1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32])
    .option('--passkey <N>', 'pass-key prompts per depth (0, 25, 50, 75, 100%) at the window length, 0 for none (default 1)', integer(0), 1)
    .addOption(new Option('--k-type <T>', 'K cache type (default q8)').choices(['f32', 'f16', 'q8']))
    .addOption(new Option('--v-type <T>', 'V cache type (default q8)').choices(['f32', 'f16', 'q8', 'q4']))
    .addOption(new Option('--kt-type <T>', 'store the transposed K in 4 bits').choices(['q4']))
    .option('--no-probe', 'skip the per-layer comparison with exact attention (faster)')
    .option('--json <FILE>', 'also write the results as JSON')
    .action(async (flags: EvalFlags) => {
      const { runEval } = await import('./eval.js');
      code = await runEval(flags);
    });

  program.command('info')
    .description('print a GGUF file\'s metadata, tensor table and memory estimate')
    .argument('<FILE>', 'GGUF file')
    .option('-c, --context <N>', 'context length for the memory estimate (default: the model\'s, at most 4096)', integer(1))
    .action(async (file: string, flags: { context?: number }) => {
      const { runInfo } = await import('./info.js');
      code = await runInfo(file, flags);
    });

  program.command('quantize')
    .description('quantise a GGUF (F32/F16/BF16 weights) or a Hugging Face directory to a GGUF of the given type')
    .argument('<IN>', 'GGUF file or Hugging Face safetensors directory')
    .argument('<OUT>', 'GGUF file to write (atomically)')
    .requiredOption('--type <TYPE>', 'Q4_K_M, Q5_K_M, Q4_K_S, Q5_K_S, Q3_K_S, Q2_K, Q6_K, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (Q3_K/Q4_K/Q5_K = _S)')
    .option('--pure', 'every 2-D weight in the base type (no Q6_K output, no per-layer mixture)')
    .option('-q, --quiet', 'no per-tensor progress on stderr')
    .action(async (input: string, output: string, flags: { type: string; pure?: boolean; quiet?: boolean }) => {
      const { runQuantize } = await import('./quantize.js');
      code = await runQuantize(input, output, flags);
    });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    return report(e);
  }
}

/** Typed and operating-system errors are the user's to fix: one line. Anything else is a bug: the stack. */
function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode; // commander already printed help or the message
  if (e instanceof SparqError || isSystemError(e)) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  return 2;
}

function isSystemError(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
