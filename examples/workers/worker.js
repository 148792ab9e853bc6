// A Cloudflare Worker that streams generated text as server-sent events:
//   GET /generate?prompt=Once%20upon%20a%20time&max_tokens=32[&model=stories260K.gguf]
//   -> event: token  data: {"text":"..."}   (one per piece of text)
//      event: done   data: {"tokens":[...],"text":"...","stats":{...}}
// The model is streamed into Wasm memory from an R2 bucket (binding MODELS_BUCKET) when there is one,
// otherwise from the static assets (binding ASSETS); the weights are never held twice. Loading is
// planned against the Workers budget (128 MiB by default): a model that does not fit is refused with a
// 507 and the OutOfMemoryError's message, before anything is allocated.
import { loadModel, OutOfMemoryError, SparqError } from 'sparq-wasm';

const DEFAULT_MODEL = 'stories260K.gguf';
let loaded; // { name, model } kept for the isolate's lifetime
let queue = Promise.resolve(); // one generation at a time per isolate

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/generate') return json({ error: 'NotFound', message: 'try GET /generate?prompt=...' }, 404);
    const prompt = url.searchParams.get('prompt') ?? 'Once upon a time';
    const maxTokens = Number(url.searchParams.get('max_tokens') ?? 64);
    const name = url.searchParams.get('model') ?? DEFAULT_MODEL;
    const turn = queue.then(() => serve(env, name, prompt, maxTokens));
    queue = turn.then((r) => r.done, () => {});
    return (await turn).response;
  },
};

/** The response, and a promise that settles when its generation has finished. */
async function serve(env, name, prompt, maxTokens) {
  let model;
  try {
    model = await modelFor(env, name);
  } catch (e) {
    return { response: failure(e), done: Promise.resolve() };
  }
  let gen;
  try {
    gen = model.generate(prompt, { temperature: 0, maxTokens });
  } catch (e) {
    return { response: failure(e), done: Promise.resolve() };
  }
  const { readable, writable } = new TransformStream();
  const done = stream(gen, writable.getWriter());
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
  return { response: new Response(readable, { headers }), done };
}

async function stream(gen, writer) {
  const encoder = new TextEncoder();
  const send = (event, data) => writer.write(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  try {
    for await (const text of gen) await send('token', { text });
    const { tokens, text, stats } = await gen.result;
    await send('done', { tokens, text, stats });
  } catch (e) {
    await send('error', { error: e.name, message: e.message }).catch(() => {});
  } finally {
    await writer.close().catch(() => {});
  }
}

async function modelFor(env, name) {
  if (loaded?.name === name) return loaded.model;
  loaded?.model.dispose();
  loaded = undefined;
  const model = await loadModel(await openModel(env, name), { contextLength: 'auto' });
  loaded = { name, model };
  return model;
}

/** The model file as a stream with its size: an R2 object ({ body, size }) or a static asset Response. */
async function openModel(env, name) {
  if (!/^[\w.-]+\.gguf$/.test(name)) throw new ModelNotFound(`model must be a .gguf file name, got ${name}`);
  if (env.MODELS_BUCKET) {
    const object = await env.MODELS_BUCKET.get(name);
    if (!object) throw new ModelNotFound(`no object ${name} in the bucket`);
    return object;
  }
  const res = await env.ASSETS.fetch(new Request(`https://assets.local/${name}`));
  if (res.status === 404) throw new ModelNotFound(`no asset ${name}`);
  return res;
}

class ModelNotFound extends Error {}

function failure(e) {
  if (e instanceof ModelNotFound) return json({ error: 'NotFound', message: e.message }, 404);
  if (e instanceof OutOfMemoryError) {
    return json({ error: e.name, message: e.message, requiredBytes: e.requiredBytes, limitBytes: e.limitBytes }, 507);
  }
  return json({ error: e.name, message: e.message }, e instanceof SparqError ? 400 : 500);
}

function json(body, status) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
