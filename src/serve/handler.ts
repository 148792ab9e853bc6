// An OpenAI-compatible HTTP API as one function, (Request) => Promise<Response>, that runs unchanged in Node
// (sparq serve wraps it in node:http), Deno (Deno.serve), Cloudflare Workers (the fetch handler) and a page
// or Service Worker (called directly). Routes: POST /v1/chat/completions and /v1/completions (streamed as
// server-sent events or not), GET /v1/models and GET /health. Bad requests get OpenAI's error JSON with the
// right status and the server keeps serving; requests beyond what runs at once wait in a bounded queue.
import type { Model } from '../engine/model.js';
import type { GenerateOptions, Generation, GenerationChunk } from '../engine/types.js';
import { SparqError, InvalidArgumentError, UnsupportedError, AbortError } from '../errors.js';
import { ApiError, errorResponse } from './errors.js';
import { RequestQueue } from './queue.js';
import { parseRequest, type CompletionRequest } from './requests.js';
import {
  chatCompletion, textCompletion, streamChunk, usageChunk, finishReason, sse, type ResponseContext,
} from './responses.js';

export interface OpenAIHandlerOptions {
  /** Clients must send `Authorization: Bearer <apiKey>` (GET /health excepted); absent: no key needed. */
  apiKey?: string;
  /** The model id of /v1/models and of responses; requests naming another model get 404 (default: the model's name). */
  modelName?: string;
  /** Requests that run at once (default and most: the model's maxSequences, which run batched together). */
  parallel?: number;
  /** Requests that may wait for their turn; one more gets 503 with Retry-After (default 32). */
  queueSize?: number;
  /** Largest request body in bytes; a larger one gets 413 (default 8 MiB). */
  maxBodyBytes?: number;
  /** Answer CORS preflights and allow any origin (default true, as local inference servers do). */
  cors?: boolean;
  /** A Jinja chat template to use instead of the model's own (for models without one). */
  chatTemplate?: string;
}

export type Handler = (request: Request) => Promise<Response>;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};

const ROUTES: Record<string, string> = {
  '/v1/chat/completions': 'POST', '/v1/completions': 'POST', '/v1/models': 'GET', '/health': 'GET',
};

export function createOpenAIHandler(model: Model, options: OpenAIHandlerOptions = {}): Handler {
  const modelName = options.modelName ?? model.info.config.name;
  const slots = model.info.maxSequences;
  const queue = new RequestQueue(Math.min(options.parallel ?? slots, slots), options.queueSize ?? 32);
  const maxBody = options.maxBodyBytes ?? 8 << 20;
  const cors: Record<string, string> = options.cors === false ? {} : CORS;
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...cors } });

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'OPTIONS' && options.cors !== false) return new Response(null, { status: 204, headers: CORS });
    const method = ROUTES[path];
    if (method === undefined) throw new ApiError(404, `unknown request URL: ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
    if (req.method !== method) throw new ApiError(405, `${path} takes ${method}, not ${req.method}`, 'invalid_request_error', 'method_not_allowed');
    if (path === '/health') return json({ status: 'ok', model: modelName, ...queue.load, prefix: model.load.prefix });
    checkKey(req, options.apiKey);
    if (path === '/v1/models') {
      return json({ object: 'list', data: [{ id: modelName, object: 'model', created: 0, owned_by: 'sparq-wasm', context_length: model.info.contextLength }] });
    }
    const r = parseRequest(path === '/v1/chat/completions' ? 'chat' : 'completion', await readJson(req, maxBody));
    if (r.model !== undefined && r.model !== modelName) {
      throw new ApiError(404, `the model '${r.model}' does not exist here; this server runs '${modelName}'`, 'invalid_request_error', 'model_not_found', 'model');
    }
    return complete(r, req.signal);
  }

  async function complete(r: CompletionRequest, clientGone: AbortSignal): Promise<Response> {
    const ids = promptIds(model, r, options.chatTemplate);
    const ctx = model.info.contextLength;
    if (ids.length >= ctx) {
      throw new ApiError(400, `this model's maximum context length is ${ctx} tokens, but the ${r.kind === 'chat' ? 'messages' : 'prompt'} resulted in ${ids.length} tokens`,
        'invalid_request_error', 'context_length_exceeded', r.kind === 'chat' ? 'messages' : 'prompt');
    }
    const stop = new AbortController();
    const abort = () => stop.abort();
    clientGone.addEventListener('abort', abort, { once: true });
    let release: (() => void) | undefined;
    try {
      release = await queue.enter(stop.signal);
      const opts: GenerateOptions = {
        ...r.sampling, stop: r.stop, logprobs: r.logprobs, signal: stop.signal, maxTokens: Math.min(r.maxTokens ?? ctx, ctx - ids.length),
      };
      const gen = model.generate(ids, opts);
      const done = release;
      gen.result.then(done, done); // the place is free once the generation ends, however it ends
      const c: ResponseContext = {
        id: `${r.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomId()}`, created: Math.floor(Date.now() / 1000), model: modelName,
        tokenText: (t) => model.detokenize([t]),
      };
      return r.stream ? streamed(r, gen, c, stop) : await whole(r, gen, c);
    } catch (e) {
      release?.();
      throw e;
    } finally {
      if (!r.stream) clientGone.removeEventListener('abort', abort);
    }
  }

  async function whole(r: CompletionRequest, gen: Generation, c: ResponseContext): Promise<Response> {
    let text = '';
    for await (const t of gen) text += t;
    const { stats, logprobs } = await gen.result;
    return json(r.kind === 'chat' ? chatCompletion(c, text, logprobs, stats) : textCompletion(c, text, logprobs, stats));
  }

  function streamed(r: CompletionRequest, gen: Generation, c: ResponseContext, stop: AbortController): Response {
    const chunks = gen.chunks()[Symbol.asyncIterator]();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      async pull(out) {
        try {
          let next = await chunks.next();
          while (!next.done && next.value.text === '' && !next.value.logprobs) next = await chunks.next(); // nothing to send
          if (!next.done) {
            const piece: GenerationChunk = next.value;
            out.enqueue(sse(streamChunk(r.kind, c, piece, null, r.includeUsage, first)));
            first = false;
            return;
          }
          const { stats } = await gen.result;
          if (first && r.kind === 'chat') out.enqueue(sse(streamChunk(r.kind, c, { text: '', tokens: [] }, null, r.includeUsage, true)));
          out.enqueue(sse(streamChunk(r.kind, c, undefined, finishReason(stats), r.includeUsage)));
          if (r.includeUsage) out.enqueue(sse(usageChunk(r.kind, c, stats)));
          out.enqueue(sse('[DONE]'));
          out.close();
        } catch (e) {
          const err = asApiError(e);
          out.enqueue(sse({ error: { message: err.message, type: err.type, param: err.param, code: err.code } }));
          out.close();
        }
      },
      async cancel() {
        stop.abort(); // the client went away: the generation ends at its next token and frees its place
        await chunks.return?.();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...cors } });
  }

  return async (req) => {
    try {
      return await route(req);
    } catch (e) {
      return errorResponse(asApiError(e), cors);
    }
  };
}

/** The prompt ids of a request: the chat template's rendering of its messages, or the prompt as given. */
function promptIds(model: Model, r: CompletionRequest, chatTemplate: string | undefined): number[] {
  if (r.kind === 'completion') return typeof r.prompt === 'string' ? model.tokenize(r.prompt) : r.prompt;
  const text = model.applyChatTemplate(r.messages, { chatTemplate, tools: r.tools, variables: r.templateVariables });
  return model.tokenize(text, { addSpecial: false, parseSpecial: true });
}

function checkKey(req: Request, key: string | undefined): void {
  if (key === undefined) return;
  const got = /^Bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (got === undefined) throw new ApiError(401, 'no API key: send the header Authorization: Bearer <key>', 'invalid_request_error', 'missing_api_key');
  if (got !== key) throw new ApiError(401, 'incorrect API key', 'invalid_request_error', 'invalid_api_key');
}

/** The request's JSON body, read up to `limit` bytes (413 beyond, 400 when it is not JSON). */
async function readJson(req: Request, limit: number): Promise<unknown> {
  const tooLarge = () => new ApiError(413, `the request body is over the limit of ${limit} bytes`, 'invalid_request_error', 'request_too_large');
  if (Number(req.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  const parts: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) { await reader.cancel(); throw tooLarge(); }
      parts.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ApiError(400, `the body is not valid JSON: ${(e as Error).message}`, 'invalid_request_error', 'invalid_json');
  }
}

/** Every failure as an ApiError: the library's typed errors are the client's (400), anything else the server's (500). */
function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof InvalidArgumentError || e instanceof UnsupportedError) return new ApiError(400, e.message, 'invalid_request_error', 'invalid_value');
  if (e instanceof AbortError || (e as Error)?.name === 'AbortError') return new ApiError(499, 'the request was cancelled', 'invalid_request_error', 'cancelled');
  if (e instanceof SparqError) return new ApiError(500, e.message, 'server_error', 'model_error');
  return new ApiError(500, `internal error: ${(e as Error)?.message ?? String(e)}`, 'server_error', 'internal_error');
}

function randomId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
