// node-llama-cpp (llama.cpp's CPU backend, prebuilt) as a benchmark engine (protocol.mjs).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveEngine } from './protocol.mjs';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers', 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
const { getLlama, LlamaLogLevel } = await import(entry);
let llama, model, ctx, seq, last;

serveEngine({
  /** flashAttention: undefined lets node-llama-cpp choose (its default). */
  async load({ file, threads, context, batch = 512, flashAttention }) {
    llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
    const t0 = performance.now();
    model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
    const loadMs = performance.now() - t0;
    ctx = await model.createContext({ contextSize: context, batchSize: batch, threads, ...(flashAttention === undefined ? {} : { flashAttention }) });
    seq = ctx.getSequence();
    return { loadMs, threads: ctx.currentThreads, flashAttention: ctx.flashAttention, systemInfo: llama.systemInfo };
  },
  /** Greedy generation after the prompt `ids` from an empty history: prefill = time to the first token. */
  async trial({ ids, decode }) {
    await seq.clearHistory();
    const t0 = performance.now();
    let first = 0, n = 0;
    for await (const _ of seq.evaluate(ids, { temperature: 0 })) {
      if (n++ === 0) first = performance.now();
      if (n >= decode) break;
    }
    return { promptTokens: ids.length, prefillMs: first - t0, decodeTokens: n - 1, decodeMs: performance.now() - first };
  },
  /** A fresh history of `ids` and its first generated token: the depth for decodeMore. */
  async prefill({ ids }) {
    await seq.clearHistory();
    const t0 = performance.now();
    for await (const token of seq.evaluate(ids, { temperature: 0 })) { last = token; break; }
    return { prefillMs: performance.now() - t0 };
  },
  /** n more greedy tokens after the history (each one decode step at the history's depth). */
  async decodeMore({ n }) {
    const t0 = performance.now();
    let k = 0;
    for await (const token of seq.evaluate([last], { temperature: 0 })) { last = token; if (++k >= n) break; }
    return { decodeTokens: k, decodeMs: performance.now() - t0 };
  },
  async close() { await ctx?.dispose(); await model?.dispose(); },
});
