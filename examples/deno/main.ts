// Generate text with sparq-wasm under Deno, streaming it to stdout:
//   deno run --allow-read examples/deno/main.ts models/default.gguf "Once upon a time"
// The Deno bundle (dist/bundles/deno/, built by node tools/bundle.mjs) reads the model with Deno.open
// and uses no Node APIs. From npm it is `import { loadModel } from 'npm:sparq-wasm'` (export condition
// "deno"). Threads: pass --allow-read for the bundle folder; the pool uses Deno's worker_threads.
import { loadModel } from '../../dist/bundles/deno/index.js';

const [path, prompt = 'Once upon a time'] = Deno.args;
if (!path) {
  console.error('usage: deno run --allow-read examples/deno/main.ts MODEL.gguf [PROMPT]');
  Deno.exit(2);
}

const model = await loadModel(path, { contextLength: 'auto', memoryLimit: 1024 ** 3 });
const out = new TextEncoder();
const gen = model.generate(prompt, { temperature: 0.8, seed: 1, maxTokens: 64 });
await Deno.stdout.write(out.encode(prompt));
for await (const piece of gen) await Deno.stdout.write(out.encode(piece));
const { stats } = await gen.result;
console.log(`\n\n${stats.generatedTokens} tokens, ${stats.decodeTokensPerSecond.toFixed(1)} tokens/s on ${model.info.threads} thread(s)`);
model.dispose();
