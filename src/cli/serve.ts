// `sparq serve`: the OpenAI-compatible API (src/serve) over node:http until SIGINT or SIGTERM.
import { createOpenAIHandler } from '../serve/handler.js';
import { listen } from '../serve/node-http.js';
import { loadFromFlags, chatTemplateFromFlags, type ModelFlags, type ChatTemplateFlags } from './model-flags.js';

export interface ServeFlags extends ModelFlags, ChatTemplateFlags {
  host: string;
  port: number;
  apiKey?: string;
  parallel?: number;
  queue?: number;
  name?: string;
}

export async function runServe(flags: ServeFlags): Promise<number> {
  const chatTemplate = await chatTemplateFromFlags(flags);
  const model = await loadFromFlags({ ...flags, maxSequences: flags.parallel });
  const handler = createOpenAIHandler(model, {
    chatTemplate,
    apiKey: flags.apiKey ?? process.env.SPARQ_API_KEY, parallel: flags.parallel, queueSize: flags.queue, modelName: flags.name,
  });
  const server = await listen(handler, flags.host, flags.port);
  const name = flags.name ?? model.info.config.name;
  process.stdout.write(`sparq serve: ${name} (context ${model.info.contextLength}, ${model.info.threads} thread(s)) listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  model.dispose();
  return 0;
}
