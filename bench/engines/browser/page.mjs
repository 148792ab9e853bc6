// A benchmark engine in a page (?engine=sparq or ?engine=wllama), driven through window.engine by
// bench/engines/browser.mjs. The page is cross-origin isolated, so both engines can use Wasm threads.
// Timings are wall clock, as for the Node engines: prefill = time to the first token, decode = the rest.
const kind = new URLSearchParams(location.search).get('engine');
const MODEL = '/model/model.gguf';

async function sparqEngine() {
  const sparq = await import('/sparq/index.js');
  let model;
  return {
    async load({ threads, context }) {
      const t0 = performance.now();
      model = await sparq.loadModel(MODEL, { threads, contextLength: context });
      return { loadMs: performance.now() - t0, threads: model.info.threads };
    },
    async trial({ ids, decode }) {
      const t0 = performance.now();
      let first = 0, n = 0;
      for await (const chunk of model.generate(ids, { temperature: 0, maxTokens: decode, cachePrompt: false }).chunks()) {
        if (n === 0) first = performance.now();
        n += chunk.tokens.length;
      }
      return { promptTokens: ids.length, prefillMs: first - t0, decodeTokens: n - 1, decodeMs: performance.now() - first };
    },
  };
}

async function wllamaEngine() {
  const { Wllama } = await import('/wllama/esm/index.js');
  const quiet = { debug() {}, log() {}, warn: console.warn, error: console.error };
  const wllama = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { logger: quiet });
  return {
    async load({ threads, context }) {
      const t0 = performance.now();
      const blob = await (await fetch(MODEL)).blob();
      await wllama.loadModel([new File([blob], 'model.gguf')], { n_ctx: context, n_threads: threads, n_batch: 512, n_gpu_layers: 0 });
      return { loadMs: performance.now() - t0, threads: wllama.getNumThreads?.() ?? threads, multithread: wllama.isMultithread?.() };
    },
    /** wllama takes the prompt as text (text: ours detokenised, checked against its prompt token count). */
    async trial({ text, decode }) {
      const t0 = performance.now();
      let first = 0, last, end = 0;
      // a chunk per token (its text may be empty: a token can end mid-character); the last brings the timings
      const stream = await wllama.createCompletion({ prompt: text, max_tokens: decode, temperature: 0, ignore_eos: true, cache_prompt: false, stream: true });
      for await (const chunk of stream) {
        if (first === 0) first = performance.now();
        if (chunk.choices?.length) end = performance.now();
        last = chunk;
      }
      const t = last?.timings;
      if (!t) throw new Error('wllama sent no timings');
      return { promptTokens: t.prompt_n, prefillMs: first - t0, decodeTokens: t.predicted_n - 1, decodeMs: end - first, timings: t };
    },
  };
}

try {
  window.engine = kind === 'wllama' ? await wllamaEngine() : kind === 'sparq' ? await sparqEngine() : undefined;
  window.engineReady = window.engine ? 'ok' : `unknown engine ${kind}`;
} catch (e) {
  window.engineReady = `${e.name}: ${e.message}`;
}
