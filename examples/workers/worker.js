// A Cloudflare Worker serving sparq-wasm's OpenAI-compatible API: the same createOpenAIHandler that
// `sparq serve` runs in Node, so POST /v1/chat/completions and /v1/completions (streamed as server-sent
// events with "stream": true), GET /v1/models and GET /health work with any OpenAI client.
//   curl http://127.0.0.1:8787/v1/completions -d '{"model":"default","prompt":"Once upon a time","max_tokens":32}'
// The request's "model" names the file: "default" is default.gguf, streamed into Wasm memory from an R2
// bucket (binding MODELS_BUCKET) when there is one, else from the static assets (binding ASSETS); the
// weights are never held twice. One model at a time per isolate, loaded by the first request that names it.
// Loading is planned against the Workers budget (128 MiB by default): a model that does not fit gets a 507
// with the OutOfMemoryError's numbers, before anything is allocated, and the worker goes on serving.
import { loadModel, createOpenAIHandler, OutOfMemoryError } from 'sparq-wasm';

let served; // { id, model, handler }

export default {
  async fetch(request, env) {
    let id = env.MODEL ?? 'default';
    let forward = request;
    if (request.method === 'POST') {
      // the body names the model: read it once and hand the handler an identical request
      const body = await request.text();
      try { id = JSON.parse(body).model ?? id; } catch { /* the handler answers 400 for a malformed body */ }
      forward = new Request(request, { body });
    }
    try {
      return (await handlerFor(env, String(id)))(forward);
    } catch (e) {
      return failure(e);
    }
  },
};

async function handlerFor(env, id) {
  if (served?.id === id) return served.handler;
  const source = await openModel(env, id);
  served?.model.dispose();
  served = undefined;
  const model = await loadModel(source, { contextLength: 'auto' });
  served = { id, model, handler: createOpenAIHandler(model, { modelName: id }) };
  return served.handler;
}

/** The model file as a stream with its size: an R2 object ({ body, size }) or a static asset Response. */
async function openModel(env, id) {
  if (!/^[\w.-]+$/.test(id)) throw new ModelNotFound(`'model' must be a model file name without .gguf, got ${JSON.stringify(id)}`);
  const name = `${id}.gguf`;
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

/** Loading failures in OpenAI's error shape: 404 for a missing model, 507 for one over the memory budget. */
function failure(e) {
  if (e instanceof ModelNotFound) return error(404, e.message, 'model_not_found');
  if (e instanceof OutOfMemoryError) return error(507, e.message, 'out_of_memory', { requiredBytes: e.requiredBytes, limitBytes: e.limitBytes });
  return error(500, `${e.name}: ${e.message}`, 'load_failed');
}

function error(status, message, code, extra = {}) {
  const body = { error: { message, type: status === 404 ? 'invalid_request_error' : 'server_error', param: 'model', code, ...extra } };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
