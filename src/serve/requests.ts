// The bodies of POST /v1/chat/completions and /v1/completions, checked field by field: a field of the wrong
// type or out of range is a 400 naming it (OpenAI's error shape). Fields this server does not use are ignored,
// as OpenAI-compatible servers do; top_k, min_p, repeat_penalty and chat_template_kwargs are extensions.
import type { ChatMessage } from '../engine/chat.js';
import type { SamplingOptions } from '../engine/types.js';
import { ApiError, badField } from './errors.js';

export interface CompletionRequest {
  kind: 'chat' | 'completion';
  /** The model the client asked for (the handler checks it is the one served). */
  model: string | undefined;
  messages: ChatMessage[];
  prompt: string | number[];
  tools: unknown[] | undefined;
  /** Extra chat template variables (chat_template_kwargs, e.g. { enable_thinking: false }). */
  templateVariables: Record<string, unknown> | undefined;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  stop: string[];
  /** Alternatives per token when log-probabilities were asked for; undefined: none. */
  logprobs: number | undefined;
  sampling: SamplingOptions;
}

export const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

type Json = Record<string, unknown>;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads optional field `k` of `b` with `ok`, or throws a 400 naming it. */
function field<T>(b: Json, k: string, ok: (v: unknown) => boolean, expected: string): T | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (!ok(v)) throw badField(k, expected, v);
  return v as T;
}

export function parseRequest(kind: 'chat' | 'completion', body: unknown): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badField('body', 'a JSON object');
  const b = body as Json;
  const n = field<number>(b, 'n', isInt, 'an integer');
  if (n !== undefined && n !== 1) throw new ApiError(400, `'n' must be 1: one choice per request is supported, got ${n}`, 'invalid_request_error', 'unsupported_value', 'n');
  const maxTokens = field<number>(b, 'max_completion_tokens', (v) => isInt(v) && v >= 1, 'an integer >= 1')
    ?? field<number>(b, 'max_tokens', (v) => isInt(v) && v >= 1, 'an integer >= 1');
  const stop = field<string | string[]>(b, 'stop', (v) => (typeof v === 'string' && v !== '')
    || (Array.isArray(v) && v.length <= 16 && v.every((s) => typeof s === 'string' && s !== '')), 'a non-empty string or a list of up to 16');
  const streamOptions = field<Json>(b, 'stream_options', (v) => typeof v === 'object' && !Array.isArray(v), 'an object') ?? {};
  const includeUsage = field<boolean>(streamOptions, 'include_usage', (v) => typeof v === 'boolean', 'a boolean') ?? false;
  const sampling: SamplingOptions = {
    temperature: field(b, 'temperature', (v) => isNum(v) && v >= 0 && v <= 2, 'a number in [0, 2]'),
    topP: field(b, 'top_p', (v) => isNum(v) && v > 0 && v <= 1, 'a number in (0, 1]'),
    topK: field(b, 'top_k', (v) => isInt(v) && v >= 0, 'an integer >= 0'),
    minP: field(b, 'min_p', (v) => isNum(v) && v >= 0 && v <= 1, 'a number in [0, 1]'),
    repeatPenalty: field(b, 'repeat_penalty', (v) => isNum(v) && v > 0, 'a number > 0'),
    presencePenalty: field(b, 'presence_penalty', (v) => isNum(v) && Math.abs(v) <= 2, 'a number in [-2, 2]'),
    frequencyPenalty: field(b, 'frequency_penalty', (v) => isNum(v) && Math.abs(v) <= 2, 'a number in [-2, 2]'),
    seed: field(b, 'seed', isInt, 'an integer'),
  };
  const req: CompletionRequest = {
    kind,
    model: field(b, 'model', (v) => typeof v === 'string', 'a string'),
    messages: [],
    prompt: '',
    tools: undefined,
    templateVariables: field(b, 'chat_template_kwargs', (v) => typeof v === 'object' && !Array.isArray(v), 'an object'),
    stream: field(b, 'stream', (v) => typeof v === 'boolean', 'a boolean') ?? false,
    includeUsage,
    maxTokens,
    stop: stop === undefined ? [] : typeof stop === 'string' ? [stop] : stop,
    logprobs: undefined,
    sampling,
  };
  if (kind === 'chat') {
    req.messages = messages(b.messages);
    req.tools = field(b, 'tools', Array.isArray, 'a list of tools');
    const wanted = field<boolean>(b, 'logprobs', (v) => typeof v === 'boolean', 'a boolean') ?? false;
    const top = field<number>(b, 'top_logprobs', (v) => isInt(v) && v >= 0 && v <= 20, 'an integer in [0, 20]');
    if (top !== undefined && !wanted) throw badField('logprobs', 'true when top_logprobs is given', false);
    req.logprobs = wanted ? top ?? 0 : undefined;
  } else {
    req.prompt = prompt(b.prompt);
    req.logprobs = field<number>(b, 'logprobs', (v) => isInt(v) && v >= 0 && v <= 5, 'an integer in [0, 5]');
    for (const unsupported of ['suffix', 'echo', 'best_of']) {
      if (b[unsupported] !== undefined && b[unsupported] !== null && b[unsupported] !== false && b[unsupported] !== 1) {
        throw new ApiError(400, `'${unsupported}' is not supported`, 'invalid_request_error', 'unsupported_parameter', unsupported);
      }
    }
  }
  return req;
}

function messages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw badField('messages', 'a non-empty list of messages', v);
  return v.map((m, i) => {
    const p = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw badField(p, 'an object', m);
    const { role, content } = m as Json;
    if (typeof role !== 'string' || !ROLES.has(role)) throw badField(`${p}.role`, `one of ${[...ROLES].join(', ')}`, role);
    const text = messageContent(content, `${p}.content`);
    if (text === null && !(role === 'assistant' && Array.isArray((m as Json).tool_calls))) {
      throw badField(`${p}.content`, 'a string or a list of text parts', content);
    }
    return { ...(m as Json), role, content: text } as ChatMessage;
  });
}

/** A message's content as text: a string, text parts joined, or null (absent). */
function messageContent(v: unknown, param: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw badField(param, 'a string or a list of text parts', v);
  return v.map((part, j) => {
    const t = (part as Json | null)?.type;
    if (t !== 'text' || typeof (part as Json).text !== 'string') {
      throw new ApiError(400, `${param}[${j}]: only text parts ({ "type": "text", "text": ... }) are supported, got type ${JSON.stringify(t)}`,
        'invalid_request_error', 'unsupported_content', `${param}[${j}]`);
    }
    return (part as Json).text as string;
  }).join('');
}

function prompt(v: unknown): string | number[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  if (Array.isArray(v) && v.length > 0 && v.every(isInt)) return v as number[];
  throw badField('prompt', 'a string, a list with one string, or a list of token ids', v);
}
