// sparq-wasm in Node as a benchmark engine (protocol.mjs): `node bench/engines/sparq-node.mjs DIST`, DIST the
// build to run (a dist/ folder or a copy of it).
import { join } from 'node:path';
import { serveEngine } from './protocol.mjs';

const dist = process.argv[2];
const { loadModel } = await import(join(dist, 'index.js'));
let model;

serveEngine({
  /** Loads `file` with `threads` and room for `context` positions; the load time includes reading the file. */
  async load({ file, threads, context }) {
    const t0 = performance.now();
    model = await loadModel(file, { threads, contextLength: context });
    return { loadMs: performance.now() - t0, threads: model.info.threads, vocab: model.info.config.vocabSize, weightBytes: model.info.weightBytes, kvBytesPerToken: model.info.kvBytesPerToken };
  },
  tokenize({ text }) { return model.tokenize(text); },
  /**
   * Greedy generation of `decode` tokens after the prompt `ids`, nothing reused from the cache. Wall clock, as
   * for every engine: prefill = the time to the first token, decode = the time of the tokens after it.
   */
  async trial({ ids, decode }) {
    const t0 = performance.now();
    let first = 0, n = 0;
    for await (const chunk of model.generate(ids, { temperature: 0, maxTokens: decode, cachePrompt: false }).chunks()) {
      if (n === 0) first = performance.now();
      n += chunk.tokens.length;
    }
    return { promptTokens: ids.length, prefillMs: first - t0, decodeTokens: n - 1, decodeMs: performance.now() - first };
  },
  close() { model?.dispose(); },
});
