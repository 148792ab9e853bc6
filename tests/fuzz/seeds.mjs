// The inputs mutations start from: models/default.gguf, the test fixtures as Hugging Face directories and as
// GGUF files converted and quantised from them, and the real chat templates of tests/fixtures/chat-templates. prepareSeeds writes the GGUFs once per run; openSeeds reads
// and decodes them on first use, in each process that makes cases.
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeGGUF, encodeGGUF } from './gguf-codec.mjs';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'tests', 'fixtures');

/**
 * The weight types each fixture is written in: F32, F16 and Q8_0 by the converter, the others quantised from
 * F32 (K-quant mixes fall back to the legacy types where a row is shorter than a K block), so every block
 * type the kernels read appears in some seed.
 */
const GGUF_TYPES = {
  'llama-gqa': ['Q8_0'], 'llama-mha-tied': ['F16', 'Q5_K_M'], 'llama-mqa-f32': ['F32', 'Q4_1'], qwen2: ['F16', 'Q4_K_M'],
  qwen3: ['Q8_0', 'Q3_K_S'], gemma: ['F32', 'Q4_0'], gemma2: ['F16', 'Q5_1'], gemma3: ['Q8_0'], phi3: ['F16', 'Q2_K'],
  gptneox: ['F32', 'Q6_K'],
};
const CONVERTED = new Set(['F32', 'F16', 'Q8_0']);
/** The default model is 28 MB: few of the GGUF cases start from it. */
const DEFAULT_WEIGHT = 0.3;

/** Writes the seed GGUFs into `dir`; returns the descriptor openSeeds takes (plain data, for child processes). */
export async function prepareSeeds(dir) {
  const { convertHFToGGUF, quantizeGGUF } = await import('../../dist/convert/index.js');
  mkdirSync(dir, { recursive: true });
  const hf = readdirSync(fixtures).filter((f) => existsSync(join(fixtures, f, 'config.json'))).sort();
  const ggufFiles = [{ name: 'default.gguf', path: join(root, 'models', 'default.gguf'), weight: DEFAULT_WEIGHT }];
  for (const name of hf) {
    const f32 = join(dir, `${name}.f32.gguf`);
    await convertHFToGGUF(join(fixtures, name), f32, 'F32', { warn: () => {} });
    for (const type of GGUF_TYPES[name] ?? ['F16']) {
      const path = join(dir, `${name}-${type}.gguf`);
      if (CONVERTED.has(type)) await convertHFToGGUF(join(fixtures, name), path, type, { warn: () => {} });
      else await quantizeGGUF(f32, path, type);
      ggufFiles.push({ name: `${name}-${type}.gguf`, path, weight: 1 });
    }
  }
  const templateDir = join(fixtures, 'chat-templates');
  return {
    ggufFiles, hf: hf.map((name) => ({ name, dir: join(fixtures, name), files: readdirSync(join(fixtures, name)).sort() })),
    templateDir, templates: readdirSync(templateDir).filter((f) => f.endsWith('.jinja')).sort(),
  };
}

/** Seed files by name, read and decoded once. */
export function openSeeds(descriptor) {
  const ggufs = new Map();
  const files = new Map();
  return {
    ...descriptor,
    /** { decoded, encoded } of a GGUF seed (encoded: the same bytes with their field map). */
    gguf(name) {
      if (!ggufs.has(name)) {
        const decoded = decodeGGUF(readFileSync(descriptor.ggufFiles.find((s) => s.name === name).path));
        ggufs.set(name, { decoded, encoded: encodeGGUF(decoded) });
      }
      return ggufs.get(name);
    },
    /** A plain Uint8Array (a Buffer's slice() would share its memory, and mutations would change the seed). */
    bytes(path) {
      if (!files.has(path)) files.set(path, new Uint8Array(readFileSync(path)));
      return files.get(path);
    },
  };
}
