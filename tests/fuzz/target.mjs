// Runs one case in this process and classifies it: 'loaded' (the loader accepted it, and a short greedy
// generation, tokenizer round trip and chat rendering ran), 'typed' (a SparqError), or 'defect' (any other
// exception: a TypeError, a RangeError, a Wasm trap). Hangs and crashes are seen by the parent (pool.mjs).
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Load settings of every case (the case's own settings go on top): one thread, a memory cap, no warnings printed. */
const LOAD = { threads: 1, memoryLimit: 512 * 2 ** 20, onWarning: () => {} };
const SAMPLE = 'Hello wörld, 12345 🦙\n\tend';

async function exerciseModel(model) {
  try {
    const gen = model.generate('Once upon a time', { temperature: 0, maxTokens: 3 });
    for await (const text of gen) void text;
    await gen.result;
    exerciseTokenizer(model.tokenizer);
    if (model.chatTemplates.size > 0) model.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
  } finally {
    model.dispose();
  }
}

/** Encodes text with and without special tokens, and decodes every id, whole and streamed. */
function exerciseTokenizer(t) {
  const ids = t.encode(SAMPLE);
  t.decode(ids);
  t.decode(t.encode(SAMPLE, { addSpecial: false, parseSpecial: false }), { skipSpecial: true });
  const all = Array.from({ length: t.vocabSize }, (_, i) => i);
  t.decode(all);
  const stream = t.decoder({ skipSpecial: true });
  for (const id of all) stream.push(id);
  stream.flush();
}

/** The case's directory under workDir: `base` with the case's files replacing, added to or removed from it. */
function materialize(c, workDir) {
  const dir = join(workDir, 'case');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const own = new Map(c.files);
  for (const f of readdirSync(c.base)) if (!own.has(f)) symlinkSync(join(c.base, f), join(dir, f));
  for (const [name, content] of own) {
    if (content === 'dir') mkdirSync(join(dir, name));
    else if (content !== null) writeFileSync(join(dir, name), content);
  }
  return dir;
}

async function outcome(sparq, run) {
  try {
    await run();
    return { outcome: 'loaded' };
  } catch (e) {
    if (e instanceof sparq.SparqError) return { outcome: 'typed', name: e.name, message: e.message.slice(0, 300) };
    return { outcome: 'defect', kind: 'untyped', name: e?.name ?? typeof e, message: String(e?.message ?? e).slice(0, 1000), stack: String(e?.stack ?? '').slice(0, 3000) };
  }
}

/** `sparq`: the package's module (dist/index.js). */
export async function runCase(sparq, c, workDir) {
  const bytes = c.files[0][1];
  if (c.target === 'gguf') {
    const model = await outcome(sparq, async () => exerciseModel(await sparq.loadModel(bytes, { ...LOAD, ...c.settings })));
    const tokenizer = await outcome(sparq, async () => exerciseTokenizer(await sparq.loadTokenizer(bytes)));
    return model.outcome === 'defect' || tokenizer.outcome !== 'defect' ? model : tokenizer;
  }
  if (c.target === 'tokenizer') {
    return outcome(sparq, async () => exerciseTokenizer(await sparq.loadTokenizer(bytes, { tokenizerConfig: c.files[1]?.[1] })));
  }
  return outcome(sparq, async () => exerciseModel(await sparq.loadModel(materialize(c, workDir), { ...LOAD, ...c.settings })));
}
