// OpenAI's response objects for chat completions and (legacy) completions, whole and as stream chunks,
// and server-sent events.
import type { GenerateStats, GenerationChunk, TokenLogprob } from '../engine/types.js';

export interface ResponseContext {
  id: string;
  created: number;
  model: string;
  /** A token's text (for logprobs). */
  tokenText(id: number): string;
}

export type FinishReason = 'stop' | 'length';

export function finishReason(s: GenerateStats): FinishReason {
  return s.stopReason === 'maxTokens' || s.stopReason === 'contextFull' ? 'length' : 'stop';
}

export function usage(s: GenerateStats) {
  return {
    prompt_tokens: s.promptTokens, completion_tokens: s.generatedTokens, total_tokens: s.promptTokens + s.generatedTokens,
    prompt_tokens_details: { cached_tokens: s.cachedTokens },
  };
}

const utf8 = new TextEncoder();

/** Chat logprobs: per token, its text, log-probability, UTF-8 bytes and the alternatives. */
export function chatLogprobs(lps: TokenLogprob[] | undefined, c: ResponseContext) {
  if (!lps) return null;
  const entry = (token: number, logprob: number) => {
    const text = c.tokenText(token);
    return { token: text, logprob, bytes: [...utf8.encode(text)] };
  };
  return { content: lps.map((lp) => ({ ...entry(lp.token, lp.logprob), top_logprobs: lp.top.map((t) => entry(t.token, t.logprob)) })) };
}

/** Legacy completions logprobs: parallel lists, text offsets counted from `offset`. */
export function completionLogprobs(lps: TokenLogprob[] | undefined, c: ResponseContext, offset = 0) {
  if (!lps) return null;
  const tokens: string[] = [], tokenLogprobs: number[] = [], top: Record<string, number>[] = [], textOffset: number[] = [];
  let at = offset;
  for (const lp of lps) {
    const text = c.tokenText(lp.token);
    tokens.push(text);
    tokenLogprobs.push(lp.logprob);
    top.push(Object.fromEntries(lp.top.map((t) => [c.tokenText(t.token), t.logprob])));
    textOffset.push(at);
    at += text.length;
  }
  return { tokens, token_logprobs: tokenLogprobs, top_logprobs: top, text_offset: textOffset };
}

export function chatCompletion(c: ResponseContext, text: string, lps: TokenLogprob[] | undefined, stats: GenerateStats) {
  return {
    id: c.id, object: 'chat.completion', created: c.created, model: c.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: chatLogprobs(lps, c), finish_reason: finishReason(stats) }],
    usage: usage(stats),
  };
}

export function textCompletion(c: ResponseContext, text: string, lps: TokenLogprob[] | undefined, stats: GenerateStats) {
  return {
    id: c.id, object: 'text_completion', created: c.created, model: c.model,
    choices: [{ index: 0, text, logprobs: completionLogprobs(lps, c), finish_reason: finishReason(stats) }],
    usage: usage(stats),
  };
}

/** The stream chunk of a piece of generated text (finish: the last chunk of the choice). */
export function streamChunk(kind: 'chat' | 'completion', c: ResponseContext, piece: GenerationChunk | undefined,
  finish: FinishReason | null, withUsage: boolean, first = false) {
  const lps = piece?.logprobs;
  const choice = kind === 'chat'
    ? { index: 0, delta: piece ? { ...(first ? { role: 'assistant' } : {}), content: piece.text } : {}, logprobs: chatLogprobs(lps, c), finish_reason: finish }
    : { index: 0, text: piece?.text ?? '', logprobs: completionLogprobs(lps, c), finish_reason: finish };
  return {
    id: c.id, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: c.created, model: c.model,
    choices: [choice], ...(withUsage ? { usage: null } : {}),
  };
}

/** The usage chunk sent last when stream_options.include_usage is set. */
export function usageChunk(kind: 'chat' | 'completion', c: ResponseContext, stats: GenerateStats) {
  return { id: c.id, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: c.created, model: c.model, choices: [], usage: usage(stats) };
}

/** One server-sent event carrying `data`. */
export function sse(data: unknown): Uint8Array {
  return utf8.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}
