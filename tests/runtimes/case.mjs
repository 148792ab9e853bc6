// The conformance case every runtime runs: load a model, greedy-generate 32 tokens, report the ids.
// Platform-neutral (no imports): the caller passes the sparq-wasm module it loaded and the model source.
// openaiCompletion runs the OpenAI-compatible handler in the same runtime, called directly.
export const PROMPT = 'Once upon a time';
export const MAX_TOKENS = 32;

/** { ids, text, contextLength, threads, kernels } of greedy decoding from PROMPT (threads, kernels: what the model runs on). */
export async function greedy(sparq, source, options = {}) {
  const model = await sparq.loadModel(source, options);
  try {
    const gen = model.generate(PROMPT, { temperature: 0, maxTokens: MAX_TOKENS });
    let streamed = '';
    for await (const piece of gen) streamed += piece;
    const { tokens, text } = await gen.result;
    if (streamed !== text) throw new Error(`streamed text ${JSON.stringify(streamed)} differs from result.text ${JSON.stringify(text)}`);
    return { ids: tokens, text, contextLength: model.info.contextLength, threads: model.info.threads, kernels: model.info.kernels };
  } finally {
    model.dispose();
  }
}

/** The completion request of the OpenAI-API case (greedy, as `greedy` generates). */
export const COMPLETION = { model: 'conformance', prompt: PROMPT, temperature: 0, max_tokens: MAX_TOKENS };

/**
 * The OpenAI-compatible handler in this runtime, called directly (no network): a whole completion and a
 * streamed one. { text, streamedText, events, finish, usage }.
 */
export async function openaiCompletion(sparq, source, options = {}) {
  const model = await sparq.loadModel(source, options);
  try {
    const handler = sparq.createOpenAIHandler(model, { modelName: COMPLETION.model });
    const post = (body) => handler(new Request('http://local/v1/completions', { method: 'POST', body: JSON.stringify(body) }));
    const whole = await (await post(COMPLETION)).json();
    if (whole.error) throw new Error(`completion: ${JSON.stringify(whole.error)}`);
    const stream = await post({ ...COMPLETION, stream: true });
    return { text: whole.choices[0].text, finish: whole.choices[0].finish_reason, usage: whole.usage, ...(await readSSE(stream)) };
  } finally {
    model.dispose();
  }
}

/** The text of an OpenAI completion event stream, and how many events carried text. */
export async function readSSE(response) {
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`not an event stream: ${response.status} ${await response.text()}`);
  const body = await response.text();
  let streamedText = '', events = 0, done = false;
  for (const block of body.split('\n\n').filter(Boolean)) {
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data === '[DONE]') { done = true; continue; }
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(`stream: ${JSON.stringify(chunk.error)}`);
    const piece = chunk.choices[0]?.text ?? '';
    if (piece) { streamedText += piece; events++; }
  }
  if (!done) throw new Error(`the stream ended without data: [DONE]:\n${body}`);
  return { streamedText, events };
}

/** The conversation the saved-session case saves after its first two turns and goes on with in every runtime. */
export const SESSION_TURNS = ['Tell me about a small boat.', 'Where did it sail?', 'What happened next?'];
export const SESSION_SAMPLING = { temperature: 0, maxTokens: 12 };
/** The KV cache settings of the saved-session case (the SparQ layout, so the transposed K travels too). */
export const SESSION_LOAD = { threads: 1, contextLength: 512, kType: 'q8', vType: 'q8', sparqLayout: true };

/** A saved session (bytes) restored from `blob` and sent the last turn: { tokens, text, cachedTokens }. */
export async function continueSession(sparq, source, blob, options = {}) {
  const model = await sparq.loadModel(source, options);
  try {
    const gen = model.restoreSession(blob).send(SESSION_TURNS[2], SESSION_SAMPLING);
    for await (const _ of gen) { /* drain */ }
    const { tokens, text, stats } = await gen.result;
    return { tokens, text, cachedTokens: stats.cachedTokens };
  } finally {
    model.dispose();
  }
}
