// Every supported family, and the lookups the generic readers and the converter use. A new family is one
// file next to this one plus its line here, and a test fixture (docs/families.md, "Adding a family").
import type { Family } from './family.js';
import { UnsupportedError } from '../../errors.js';
import { llama } from './llama.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';
import { gemma } from './gemma.js';
import { gemma2 } from './gemma2.js';
import { gemma3 } from './gemma3.js';
import { phi3 } from './phi3.js';
import { gptneox } from './gptneox.js';

export type { Family } from './family.js';

export const FAMILIES: readonly Family[] = [llama, qwen2, qwen3, gemma, gemma2, gemma3, phi3, gptneox];

/** The family of a GGUF architecture name; UnsupportedError (naming `file`) when there is none. */
export function familyOf(arch: string, file?: string): Family {
  const f = FAMILIES.find((x) => x.arch === arch);
  if (!f) throw new UnsupportedError(`architecture '${arch}' is not supported (supported: ${FAMILIES.map((x) => x.arch).join(', ')})`, file);
  return f;
}

/** transformers classes this runtime reads, in family order. */
export const HF_ARCHITECTURES: readonly string[] = FAMILIES.flatMap((f) => f.hf.architectures);

/** The family a transformers class (config.json `architectures`) belongs to, if any. */
export function familyOfHFClass(name: string): Family | undefined {
  return FAMILIES.find((f) => f.hf.architectures.includes(name));
}
