// A model's chat templates (Jinja source) as its files store them, by name ('default' for the main one):
// GGUF `tokenizer.chat_template` and `tokenizer.chat_template.<name>`; Hugging Face tokenizer_config.json
// `chat_template` (a string, or a list of { name, template }) and chat_template.jinja, which takes precedence
// over the default in tokenizer_config.json as in transformers.
import { FormatError } from '../errors.js';

export type ChatTemplates = ReadonlyMap<string, string>;

const GGUF_KEY = 'tokenizer.chat_template';

export function chatTemplatesFromGGUF(meta: ReadonlyMap<string, unknown>, file: string): ChatTemplates {
  const out = new Map<string, string>();
  for (const [key, value] of meta) {
    if (key !== GGUF_KEY && !key.startsWith(`${GGUF_KEY}.`)) continue;
    if (typeof value !== 'string') throw new FormatError(`metadata ${key} must be a string (a Jinja template)`, file, key);
    out.set(key === GGUF_KEY ? 'default' : key.slice(GGUF_KEY.length + 1), value);
  }
  return out;
}

export function chatTemplatesFromHF(tokenizerConfig: Record<string, unknown> | undefined, jinjaFile: string | undefined, file: string): ChatTemplates {
  const out = new Map<string, string>();
  const t = tokenizerConfig?.chat_template;
  if (typeof t === 'string') out.set('default', t);
  else if (Array.isArray(t)) {
    t.forEach((entry, i) => {
      const e = entry as { name?: unknown; template?: unknown } | null;
      if (typeof e?.name !== 'string' || typeof e.template !== 'string') {
        throw new FormatError(`chat_template[${i}] must be { "name": string, "template": string }`, file, 'chat_template');
      }
      out.set(e.name, e.template);
    });
  } else if (t !== undefined && t !== null) {
    throw new FormatError('chat_template must be a string or a list of { name, template }', file, 'chat_template');
  }
  if (jinjaFile !== undefined) out.set('default', jinjaFile);
  return out;
}
