// sparq-wasm's OpenAI-compatible API under Deno: the handler `sparq serve` runs in Node, given to Deno.serve.
//   deno run --allow-read --allow-net examples/deno/serve.ts models/default.gguf [PORT]
//   curl http://127.0.0.1:8080/v1/completions -d '{"prompt":"Once upon a time","max_tokens":32}'
// From npm: `import { loadModel, createOpenAIHandler } from 'npm:sparq-wasm'`.
import { loadModel, createOpenAIHandler } from '../../dist/bundles/deno/index.js';

const [path, port = '8080'] = Deno.args;
if (!path) {
  console.error('usage: deno run --allow-read --allow-net examples/deno/serve.ts MODEL.gguf [PORT]');
  Deno.exit(2);
}

const model = await loadModel(path, { contextLength: 'auto', memoryLimit: 1024 ** 3 });
Deno.serve({ hostname: '127.0.0.1', port: Number(port) }, createOpenAIHandler(model));
