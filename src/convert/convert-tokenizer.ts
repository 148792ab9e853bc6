// tokenizer.json (+ tokenizer_config.json, config.json) -> GGUF tokenizer.ggml.* metadata, following the
// conventions of llama.cpp's converter: 'gpt2' for byte-level BPE (tokens, types, merges, pre-tokenizer name),
// 'llama' for SentencePiece-style BPE with byte fallback (tokens, scores, types). Ids missing from the
// vocabulary become "[PAD<id>]" tokens of type UNUSED.
import type { ChatTemplates } from '../tokenizer/chat-templates.js';
import { FormatError, UnsupportedError } from '../errors.js';
import { GGUFValueType as T, type GGUFMetadataEntry } from '../formats/gguf.js';

/** tokenizer.ggml.token_type values. */
export const TokenKind = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Pre-tokenizer split patterns (tokenizer.json spelling) -> llama.cpp's tokenizer.ggml.pre names. */
const PRE_PATTERNS: Record<string, string> = {
  [String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`]: 'llama-bpe',
  [String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`]: 'qwen2',
  [String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`]: 'gpt-2',
  [String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`]: 'gpt-2',
};

/** A node and, for Sequence nodes, its children (pretokenizers / normalizers / processors / decoders). */
function flatten(node: unknown): Obj[] {
  if (!isObj(node)) return [];
  const kids = node.pretokenizers ?? node.normalizers ?? node.processors ?? node.decoders;
  return Array.isArray(kids) ? [node, ...kids.flatMap(flatten)] : [node];
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

export interface TokenizerConversion {
  metadata: GGUFMetadataEntry[];
  model: 'gpt2' | 'llama';
  pre: string | undefined;
}

export function convertTokenizer(tokenizerJson: unknown, tokenizerConfig: Obj | undefined, config: Obj, vocabSize: number,
  file: string, warn: (msg: string) => void = () => {}, templates: ChatTemplates = new Map()): TokenizerConversion {
  if (!isObj(tokenizerJson) || !isObj(tokenizerJson.model)) throw new FormatError('expected an object with a "model"', file, 'model');
  const tj = tokenizerJson;
  const model = tj.model as Obj;
  if (model.type !== undefined && model.type !== 'BPE') throw new UnsupportedError(`tokenizer model type ${JSON.stringify(model.type)} is not supported (BPE only)`, file);
  if (!isObj(model.vocab)) throw new FormatError('model.vocab must be an object of token -> id', file, 'model.vocab');

  const pre = flatten(tj.pre_tokenizer);
  const byteLevel = pre.some((n) => n.type === 'ByteLevel') || flatten(tj.decoder).some((n) => n.type === 'ByteLevel');
  const spm = !byteLevel && (model.byte_fallback === true || flatten(tj.decoder).some((n) => n.type === 'ByteFallback' || n.type === 'Metaspace'));
  if (!byteLevel && !spm) throw new UnsupportedError('tokenizer is neither byte-level BPE nor BPE with byte fallback', file);
  const kind = byteLevel ? 'gpt2' : 'llama';

  // Tokens by id.
  const tokens: Array<string | undefined> = new Array(vocabSize);
  const types = new Int32Array(vocabSize).fill(TokenKind.NORMAL);
  const place = (text: string, id: unknown, field: string) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new FormatError(`id of ${JSON.stringify(text)} must be a non-negative integer`, file, field);
    if ((id as number) >= vocabSize) throw new FormatError(`token ${JSON.stringify(text)} has id ${id}, but vocab_size is ${vocabSize}`, file, field);
    tokens[id as number] = text;
  };
  for (const [text, id] of Object.entries(model.vocab)) place(text, id, 'model.vocab');
  const added = Array.isArray(tj.added_tokens) ? tj.added_tokens : [];
  for (const a of added) {
    if (!isObj(a) || typeof a.content !== 'string') throw new FormatError('added_tokens entries need a string content', file, 'added_tokens');
    place(a.content, a.id, 'added_tokens');
    types[a.id as number] = a.special === true ? TokenKind.CONTROL : TokenKind.USER_DEFINED;
  }
  const idOf = new Map<string, number>();
  const names: string[] = new Array(vocabSize);
  for (let i = 0; i < vocabSize; i++) {
    const t = tokens[i];
    if (t === undefined) { names[i] = `[PAD${i}]`; types[i] = TokenKind.UNUSED; continue; }
    names[i] = t;
    if (!idOf.has(t)) idOf.set(t, i);
    if (kind === 'llama' && types[i] === TokenKind.NORMAL && /^<0x[0-9A-Fa-f]{2}>$/.test(t)) types[i] = TokenKind.BYTE;
  }
  const unkText = typeof model.unk_token === 'string' ? model.unk_token : undefined;
  if (kind === 'llama' && unkText !== undefined && idOf.has(unkText)) types[idOf.get(unkText)!] = TokenKind.UNKNOWN;

  const merges = (Array.isArray(model.merges) ? model.merges : []).map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && m.every((x) => typeof x === 'string')) return `${m[0]} ${m[1]}`;
    throw new FormatError(`merge ${i} is neither "a b" nor ["a", "b"]`, file, 'model.merges');
  });

  const md: GGUFMetadataEntry[] = [
    { key: 'tokenizer.ggml.model', type: T.STRING, value: kind },
  ];
  let preName: string | undefined;
  if (kind === 'gpt2') {
    preName = preTokenizerName(pre, warn);
    md.push({ key: 'tokenizer.ggml.pre', type: T.STRING, value: preName });
  } else {
    md.push({ key: 'tokenizer.ggml.pre', type: T.STRING, value: 'default' });
  }
  md.push({ key: 'tokenizer.ggml.tokens', type: T.ARRAY, itemType: T.STRING, value: names });
  if (kind === 'llama') md.push({ key: 'tokenizer.ggml.scores', type: T.ARRAY, itemType: T.FLOAT32, value: spmScores(names, types, merges) });
  md.push({ key: 'tokenizer.ggml.token_type', type: T.ARRAY, itemType: T.INT32, value: types });
  if (merges.length > 0) md.push({ key: 'tokenizer.ggml.merges', type: T.ARRAY, itemType: T.STRING, value: merges });

  // Special ids: tokenizer_config.json token texts first, then config.json ids, as llama.cpp does.
  const tc = tokenizerConfig ?? {};
  const special = (name: 'bos' | 'eos' | 'unk' | 'pad'): number | undefined => {
    const text = tokenText(tc[`${name}_token`]) ?? (name === 'unk' ? unkText : undefined);
    if (text !== undefined && idOf.has(text)) return idOf.get(text);
    const raw = config[`${name}_token_id`];
    const id = Array.isArray(raw) ? raw[0] : raw;
    return Number.isSafeInteger(id) && id >= 0 && id < vocabSize ? id : undefined;
  };
  const ids = { bos: special('bos'), eos: special('eos'), unk: special('unk'), pad: special('pad') };
  const keyOf = { bos: 'bos_token_id', eos: 'eos_token_id', unk: 'unknown_token_id', pad: 'padding_token_id' };
  for (const k of ['bos', 'eos', 'unk', 'pad'] as const) {
    if (ids[k] !== undefined) md.push({ key: `tokenizer.ggml.${keyOf[k]}`, type: T.UINT32, value: ids[k] });
  }
  const template = templateFlags(tj.post_processor, ids.bos !== undefined ? names[ids.bos] : undefined, ids.eos !== undefined ? names[ids.eos] : undefined);
  const addBos = typeof tc.add_bos_token === 'boolean' ? tc.add_bos_token : template.bos ?? kind === 'llama';
  const addEos = typeof tc.add_eos_token === 'boolean' ? tc.add_eos_token : template.eos ?? false;
  md.push({ key: 'tokenizer.ggml.add_bos_token', type: T.BOOL, value: addBos });
  md.push({ key: 'tokenizer.ggml.add_eos_token', type: T.BOOL, value: addEos });
  if (kind === 'llama') md.push({ key: 'tokenizer.ggml.add_space_prefix', type: T.BOOL, value: prependsSpace(tj) });
  for (const [name, template] of templates) {
    md.push({ key: name === 'default' ? 'tokenizer.chat_template' : `tokenizer.chat_template.${name}`, type: T.STRING, value: template });
  }
  return { metadata: md, model: kind, pre: preName };
}

function preTokenizerName(pre: Obj[], warn: (msg: string) => void): string {
  const split = pre.find((n) => n.type === 'Split');
  if (split) {
    const pattern = isObj(split.pattern) ? split.pattern.Regex : undefined;
    const name = typeof pattern === 'string' ? PRE_PATTERNS[pattern] : undefined;
    if (name) return name;
    warn(`unrecognised pre-tokenizer pattern ${JSON.stringify(pattern)}; writing tokenizer.ggml.pre = 'default'`);
    return 'default';
  }
  if (pre.some((n) => n.type === 'ByteLevel' && n.use_regex !== false)) return 'gpt-2';
  warn("no pre-tokenizer split pattern found; writing tokenizer.ggml.pre = 'default'");
  return 'default';
}

/**
 * SentencePiece-style scores (higher merges first) from BPE merge ranks: the token made by merge r scores -r.
 * Tokens no merge produces rank after every merge, by id; bytes, control and unused tokens score 0.
 */
function spmScores(names: string[], types: Int32Array, merges: string[]): Float32Array {
  const scores = new Float32Array(names.length);
  const rank = new Map<string, number>();
  merges.forEach((m, r) => {
    const sp = m.indexOf(' ', 1);
    const t = m.slice(0, sp) + m.slice(sp + 1);
    if (!rank.has(t)) rank.set(t, r);
  });
  for (let i = 0; i < names.length; i++) {
    if (types[i] !== TokenKind.NORMAL || [...names[i]].length === 1) continue;
    scores[i] = -(rank.get(names[i]) ?? merges.length + i);
  }
  return scores;
}

/** BOS/EOS insertion from a TemplateProcessing post-processor, when there is one. */
function templateFlags(post: unknown, bos: string | undefined, eos: string | undefined): { bos?: boolean; eos?: boolean } {
  const tp = flatten(post).find((n) => n.type === 'TemplateProcessing');
  if (!tp || !Array.isArray(tp.single)) return {};
  const ids = tp.single.map((p) => (isObj(p) && isObj(p.SpecialToken) ? p.SpecialToken.id : undefined));
  return { bos: bos !== undefined && ids[0] === bos, eos: eos !== undefined && ids[ids.length - 1] === eos };
}

/** Whether a leading "▁" is added (normalizer Prepend, or a Metaspace pre-tokenizer that prepends). */
function prependsSpace(tj: Obj): boolean {
  if (flatten(tj.normalizer).some((n) => n.type === 'Prepend' && n.prepend === '\u2581')) return true;
  return flatten(tj.pre_tokenizer).some((n) => n.type === 'Metaspace' &&
    (n.prepend_scheme !== undefined ? n.prepend_scheme !== 'never' : n.add_prefix_space !== false));
}
