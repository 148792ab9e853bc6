// One fuzz case from (run seed, case index): a format, a seed input, a mutation (JSON files get a second one
// a fifth of the time), load settings, and what to load. A case is plain data: { index, format, seed,
// mutation, target, files: [[name, bytes | 'dir' | null]], base?, settings }, where target 'gguf' loads
// files[0] as bytes, 'tokenizer' loads files[0] with loadTokenizer (files[1]: its tokenizer_config.json),
// and 'dir' loads the directory `base` with `files` replacing, added to or (null) removed from it.
import { join } from 'node:path';
import { caseRng } from './rng.mjs';
import { mutateGGUF } from './mutate-gguf.mjs';
import { mutateJson, mutateText } from './mutate-json.mjs';
import { mutateSafetensors } from './mutate-safetensors.mjs';

export const FORMATS = ['gguf', 'config.json', 'safetensors', 'tokenizer.json', 'hf-dir'];
const FORMAT_WEIGHTS = [[45, 'gguf'], [18, 'config.json'], [12, 'safetensors'], [20, 'tokenizer.json'], [5, 'hf-dir']];
const CONFIG_FOCUS = /layers|size|heads|head_dim|position|vocab|eps|rope|window|layer_types|softcap|scalar|architectures|act|tie|rotary|partial/;
const TOKENIZER_FOCUS = /^model\.(vocab|merges|type|unk_token|byte_fallback|ignore_merges)|added_tokens|pattern|type|prepend|replacement|content/;

/** The format of case `index` (the first draw of its generator), without making the case. */
export function caseFormat(runSeed, index) {
  return caseRng(runSeed, index).weighted(FORMAT_WEIGHTS);
}

/** Load settings beside the defaults, so that generation runs with SparQ, quantised caches and fitted contexts too. */
const SETTINGS = [
  [6, {}], [2, { attention: { kind: 'sparq', ratio: 1 / 8 } }], [1, { attention: { kind: 'sparq', r: 2, k: 4 }, kTType: 'q4' }],
  [1, { kType: 'q8', vType: 'q4' }], [1, { contextLength: 'auto', memoryLimit: 48 * 2 ** 20 }], [1, { contextLength: 16, reallocation: true }],
];

export function makeCase(seeds, runSeed, index) {
  const rng = caseRng(runSeed, index);
  const format = rng.weighted(FORMAT_WEIGHTS);
  const settings = rng.weighted(SETTINGS);
  const c = makeFiles(rng, seeds, format);
  return { index, format, settings, ...c };
}

/** mutateJson, and a fifth of the time a second mutation of its result (when that is still JSON). */
function mutateJsonStacked(rng, text, options) {
  const first = mutateJson(rng, text, options);
  if (!rng.chance(0.2)) return first;
  try {
    const second = mutateJson(rng, new TextDecoder().decode(first.bytes), options);
    return { bytes: second.bytes, mutation: `${first.mutation}; ${second.mutation}` };
  } catch {
    return first; // the first mutation left no JSON (or one too deep to walk) to mutate again
  }
}

function makeFiles(rng, seeds, format) {
  if (format === 'gguf') {
    const seed = rng.weighted(seeds.ggufFiles.map((s) => [s.weight, s.name]));
    const m = mutateGGUF(rng, seeds.gguf(seed));
    return { seed, mutation: m.mutation, target: 'gguf', files: [['model.gguf', m.bytes]] };
  }
  const hf = rng.pick(seeds.hf);
  const file = (name) => seeds.bytes(join(hf.dir, name));
  const text = (name) => new TextDecoder().decode(file(name));
  const seed = `tests/fixtures/${hf.name}`;
  const dirCase = (mutation, files) => ({ seed, mutation, target: 'dir', base: hf.dir, files });
  if (format === 'config.json') {
    const m = mutateJsonStacked(rng, text('config.json'), { focus: CONFIG_FOCUS });
    return dirCase(m.mutation, [['config.json', m.bytes]]);
  }
  const shards = hf.files.filter((f) => f.endsWith('.safetensors'));
  if (format === 'safetensors') {
    const shard = rng.pick(shards);
    const m = mutateSafetensors(rng, file(shard));
    return dirCase(`${shard}: ${m.mutation}`, [[shard, m.bytes]]);
  }
  if (format === 'tokenizer.json') {
    const m = mutateJsonStacked(rng, text('tokenizer.json'), { tokenizer: true, focus: TOKENIZER_FOCUS });
    if (rng.chance(0.3)) return dirCase(m.mutation, [['tokenizer.json', m.bytes]]);
    return { seed, mutation: m.mutation, target: 'tokenizer', files: [['tokenizer.json', m.bytes], ['tokenizer_config.json', file('tokenizer_config.json')]] };
  }
  // the directory itself: a file missing or a directory in its place, tokenizer_config.json or the shard index
  // mutated, or a real chat template, cut or garbled, as its chat_template
  const loaded = hf.files.filter((f) => /\.(json|safetensors)$/.test(f));
  const what = rng.int(5);
  if (what === 4) {
    const name = rng.pick(seeds.templates);
    const m = mutateText(rng, new TextDecoder().decode(seeds.bytes(join(seeds.templateDir, name))));
    const config = { ...JSON.parse(text('tokenizer_config.json')), chat_template: new TextDecoder().decode(m.bytes) };
    return dirCase(`chat_template ${name}: ${m.mutation}`, [['tokenizer_config.json', new TextEncoder().encode(JSON.stringify(config))]]);
  }
  if (what === 0) { const f = rng.pick(loaded); return dirCase(`${f} missing`, [[f, null]]); }
  if (what === 1) { const f = rng.pick(loaded); return dirCase(`${f} is a directory`, [[f, 'dir']]); }
  const target = what === 2 || !hf.files.includes('model.safetensors.index.json') ? 'tokenizer_config.json' : 'model.safetensors.index.json';
  const m = mutateJsonStacked(rng, text(target), { focus: /token|template|weight_map/ });
  return dirCase(`${target}: ${m.mutation}`, [[target, m.bytes]]);
}
