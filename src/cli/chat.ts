// `sparq chat`: a conversation in the terminal with the model's chat template. On a terminal: a prompt,
// streamed replies, /reset and /exit, and Ctrl-C stops the current reply (a second Ctrl-C at the prompt
// quits). With stdin not a terminal: one user message per input line, one reply per message on stdout
// (each followed by a newline), so it can be scripted.
import { createInterface } from 'node:readline';
import type { ChatSession } from '../engine/session.js';
import type { GenerateOptions } from '../engine/types.js';
import { loadFromFlags, samplingOptions, chatTemplateFromFlags, type ModelFlags, type SamplingFlags, type ChatTemplateFlags } from './model-flags.js';
import { statsLine } from './generate.js';

export interface ChatFlags extends ModelFlags, SamplingFlags, ChatTemplateFlags {
  system?: string;
  stats?: boolean;
}

export async function runChat(flags: ChatFlags): Promise<number> {
  const chatTemplate = await chatTemplateFromFlags(flags);
  const model = await loadFromFlags(flags);
  try {
    const session = model.createSession({ system: flags.system, chatTemplate });
    const options = samplingOptions(flags);
    return process.stdin.isTTY ? await interactive(session, options, flags) : await scripted(session, options, flags);
  } finally {
    model.dispose();
  }
}

/** Streams one reply to stdout; returns when it ends (or `signal` stops it). */
async function reply(session: ChatSession, text: string, options: GenerateOptions, flags: ChatFlags, signal?: AbortSignal): Promise<void> {
  const gen = session.send(text, { ...options, signal });
  for await (const piece of gen) process.stdout.write(piece);
  process.stdout.write('\n');
  if (flags.stats) process.stderr.write(statsLine((await gen.result).stats) + '\n');
}

async function scripted(session: ChatSession, options: GenerateOptions, flags: ChatFlags): Promise<number> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    await reply(session, line, options, flags);
  }
  return 0;
}

async function interactive(session: ChatSession, options: GenerateOptions, flags: ChatFlags): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
  process.stdout.write('Type a message; /reset starts over, /exit (or Ctrl-D) quits, Ctrl-C stops a reply.\n');
  let current: AbortController | undefined;
  let quit = false;
  rl.on('SIGINT', () => {
    if (current) current.abort(); // stop the reply, keep the program
    else { quit = true; rl.close(); }
  });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/exit') break;
    if (text === '/reset') { session.reset(); process.stdout.write('(conversation cleared)\n'); rl.prompt(); continue; }
    if (text !== '') {
      current = new AbortController();
      try {
        await reply(session, text, options, flags, current.signal);
      } finally {
        current = undefined;
      }
    }
    if (quit) break;
    rl.prompt();
  }
  rl.close();
  return 0;
}
