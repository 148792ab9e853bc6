// Bitwise snapshot of what a build computes, for changes that must not change results: the converter's and
// quantiser's output bytes, and the logits (SHA-256 of the f32 bytes) and greedy ids of every HF fixture (as
// an HF directory and as F32/F16/Q8_0 GGUF), of the llama-gqa fixture in every quantised type on 1 and 2
// threads, of stories260K, and of the default model dense, on a q8 cache, with SparQ at several ratios,
// reallocation, 4-bit caches, 2 threads and contextLength 'auto', plus a perplexity-by-setting run. Run it
// on two builds and compare the JSON key by key. Needs ../shared/data (stories260K, a Gutenberg book).
//   node tools/golden.mjs <checkout root> <out.json> <scratch dir>
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, outFile, scratch] = process.argv.slice(2);
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const { loadModel } = await dist('index.js');
const { convertHFToGGUF, quantizeGGUF } = await dist('convert/index.js');
const { perplexityBySetting } = await dist('research/index.js');

const sha = (b) => createHash('sha256').update(b).digest('hex').slice(0, 24);
const f32sha = (a) => sha(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const out = {};
mkdirSync(scratch, { recursive: true });
const fixtures = join(root, 'tests', 'fixtures');
const shared = join(root, '..', 'shared', 'data');

async function greedy(model, prompt, n, extra = {}) {
  const gen = model.generate(prompt, { temperature: 0, maxTokens: n, ...extra });
  for await (const _ of gen) { /* drain */ }
  return (await gen.result).tokens;
}

async function snap(key, src, ids, opts = {}, n = 16) {
  const m = await loadModel(src, { threads: 1, ...opts });
  const logits = m.logits(ids);
  out[key] = { logits: f32sha(logits), greedy: await greedy(m, ids, n), memory: m.info.memoryBytes, ctx: m.info.contextLength };
  m.dispose();
  console.log(key, out[key].logits);
}

for (const name of readdirSync(fixtures).filter((d) => existsSync(join(fixtures, d, 'config.json')))) {
  const dir = join(fixtures, name);
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const ids = ref.prompt.ids_with_bos;
  await snap(`${name}/hf`, dir, ids);
  for (const type of ['F32', 'F16', 'Q8_0']) {
    const file = join(scratch, `${name}-${type}.gguf`);
    await convertHFToGGUF(dir, file, type, { warn: () => {} });
    out[`${name}/${type}/file`] = sha(readFileSync(file));
    await snap(`${name}/${type}`, file, ids);
  }
}

const gqa = join(scratch, 'llama-gqa-F32.gguf');
const gqaIds = JSON.parse(readFileSync(join(fixtures, 'llama-gqa', 'reference.json'), 'utf8')).prompt.ids_with_bos;
for (const ft of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K_S', 'Q4_K_S', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0']) {
  const file = join(scratch, `gqa-${ft}.gguf`);
  await quantizeGGUF(gqa, file, ft);
  out[`gqa-${ft}/file`] = sha(readFileSync(file));
  await snap(`gqa-${ft}`, file, gqaIds);
  await snap(`gqa-${ft}/2threads`, file, gqaIds, { threads: 2, parallelMinWork: 0 });
}

const stories = join(shared, 'stories260K', 'stories260K.gguf');
await snap('stories260K', stories, [1, 403, 407, 183, 263, 281], {}, 64);
await snap('stories260K/2threads', stories, [1, 403, 407, 183, 263, 281], { threads: 2, parallelMinWork: 0 }, 64);
await snap('stories260K/sparq', stories, [1], { contextLength: 512, attention: { kind: 'sparq', ratio: 1 / 8 } }, 420);
await snap('stories260K/sparq-realloc-2t', stories, [1], { contextLength: 512, attention: { kind: 'sparq', ratio: 1 / 8 }, reallocation: true, threads: 2, parallelMinWork: 0 }, 420);

const def = join(root, 'models', 'default.gguf');
const text = readFileSync(join(shared, 'corpus', 'gutenberg', readdirSync(join(shared, 'corpus', 'gutenberg')).find((f) => f.endsWith('.txt'))), 'utf8').slice(20000, 40000);
{
  const m = await loadModel(def, { threads: 1 });
  const ids = m.tokenize(text).slice(0, 1500);
  m.dispose();
  await snap('default/dense', def, ids.slice(0, 200), {}, 32);
  await snap('default/q8', def, ids.slice(0, 200), { kType: 'q8', vType: 'q8' }, 32);
  for (const ratio of [1 / 2, 1 / 8, 1 / 16]) {
    await snap(`default/sparq${1 / ratio}`, def, ids, { contextLength: 2048, attention: { kind: 'sparq', ratio, denseBelow: 0 } }, 48);
  }
  await snap('default/sparq8-2t', def, ids, { contextLength: 2048, attention: { kind: 'sparq', ratio: 1 / 8 }, threads: 2, parallelMinWork: 0 }, 48);
  await snap('default/sparq8-ktq4-vq4', def, ids, { contextLength: 2048, attention: { kind: 'sparq', ratio: 1 / 8 }, kTType: 'q4', vType: 'q4' }, 48);
  await snap('default/sparq8-realloc', def, ids, { contextLength: 2048, attention: { kind: 'sparq', ratio: 1 / 8 }, reallocation: true }, 48);
  await snap('default/auto', def, ids.slice(0, 64), { contextLength: 'auto', memoryLimit: 200 << 20, attention: { kind: 'sparq', ratio: 1 / 8 } }, 8);
  // perplexity by setting (research API)
  const m2 = await loadModel(def, { threads: 1, contextLength: 2048, sparqLayout: true, kType: 'q8', vType: 'q8' });
  const docs = [ids.slice(0, 1200)];
  const opts = { prefill: 600, settings: [{ label: 'dense', setting: 'dense' }, { label: '1/8', setting: { kind: 'sparq', ratio: 1 / 8, denseBelow: 0 } }], probe: true };
  const res = perplexityBySetting(m2, docs, opts);
  out['default/ppl'] = JSON.stringify(res);
  m2.dispose();
}
writeFileSync(outFile, JSON.stringify(out, null, 1));
console.log('wrote', outFile);
process.exit(0);
