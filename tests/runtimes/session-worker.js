// A Worker for the conformance test: POST the bytes of a saved session, get the tokens of its next turn.
// It loads the model from the ASSETS binding as the example Worker does (a Worker could keep the bytes in KV,
// R2 or a Durable Object between requests).
import * as sparq from 'sparq-wasm';
import { continueSession, SESSION_LOAD } from './case.mjs';

export default {
  async fetch(request, env) {
    try {
      const blob = new Uint8Array(await request.arrayBuffer());
      const model = await env.ASSETS.fetch(new Request('https://assets.local/model.gguf'));
      return Response.json(await continueSession(sparq, model, blob, SESSION_LOAD));
    } catch (e) {
      return Response.json({ error: `${e.name}: ${e.message}` }, { status: 500 });
    }
  },
};
