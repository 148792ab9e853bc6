// The conformance case every runtime runs: load a model, greedy-generate 32 tokens, report the ids.
// Platform-neutral (no imports): the caller passes the sparq-wasm module it loaded and the model source.
export const PROMPT = 'Once upon a time';
export const MAX_TOKENS = 32;

/** { ids, text, contextLength, threads } of greedy decoding from PROMPT (threads: what the model runs on). */
export async function greedy(sparq, source, options = {}) {
  const model = await sparq.loadModel(source, options);
  try {
    const gen = model.generate(PROMPT, { temperature: 0, maxTokens: MAX_TOKENS });
    let streamed = '';
    for await (const piece of gen) streamed += piece;
    const { tokens, text } = await gen.result;
    if (streamed !== text) throw new Error(`streamed text ${JSON.stringify(streamed)} differs from result.text ${JSON.stringify(text)}`);
    return { ids: tokens, text, contextLength: model.info.contextLength, threads: model.info.threads };
  } finally {
    model.dispose();
  }
}
