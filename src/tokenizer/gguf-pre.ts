// Pre-tokenizer regexes by GGUF `tokenizer.ggml.pre` name. Facts from llama.cpp's llama-vocab.cpp: the
// name -> regex list table and which names turn on ignore_merges / BOS. Each regex splits every piece
// further, keeping both matches and the text between them (HF Split "isolated"). The patterns are written
// in their tokenizer.json form and go through translateRegex, which rewrites `(?i:...)` and possessive
// quantifiers for JS (llama.cpp's own copies of these patterns drop the possessive `+` instead).
import { UnsupportedError } from '../errors.js';
import { translateRegex } from './regex-js.js';

export interface PrePreset {
  regexes: RegExp[];
  ignoreMerges: boolean;
  addBos: boolean;
}

const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
const LLAMA3 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const CJK = String.raw`[\u{4e00}-\u{9fa5}\u{800}-\u{4e00}\u{ac00}-\u{d7ff}]+`;
const BLOOM = String.raw` ?[^(\s|.,!?\u{2026}\u{3002}\u{ff0c}\u{3001}\u{964}\u{6d4}\u{60c})]+`;
const TEKKEN = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const GPT4O = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
// Written as code points: in literal form, Unicode normalisation of the source turns some of them (U+212A
// KELVIN SIGN, U+2126 OHM SIGN, ...) into other characters.
const DEEPSEEK_LLM_LETTERS = String.raw`\s?[` +
  String.raw`A-Za-z\u{b5}\u{c0}-\u{d6}\u{d8}-\u{f6}\u{f8}-\u{1ba}\u{1bc}-\u{1bf}\u{1c4}-\u{293}\u{295}-\u{2af}` +
  String.raw`\u{370}-\u{373}\u{376}\u{377}\u{37b}-\u{37d}\u{37f}\u{386}\u{388}-\u{38a}\u{38c}\u{38e}-\u{3a1}` +
  String.raw`\u{3a3}-\u{3f5}\u{3f7}-\u{481}\u{48a}-\u{52f}\u{531}-\u{556}\u{10a0}-\u{10c5}\u{13a0}-\u{13f5}` +
  String.raw`\u{13f8}-\u{13fd}\u{1c90}-\u{1cba}\u{1cbd}-\u{1cbf}\u{1d00}-\u{1d2b}\u{1d6b}-\u{1d77}\u{1d79}-\u{1d9a}` +
  String.raw`\u{1e00}-\u{1f15}\u{1f18}-\u{1f1d}\u{1f20}-\u{1f45}\u{1f48}-\u{1f4d}\u{1f50}-\u{1f57}\u{1f59}\u{1f5b}` +
  String.raw`\u{1f5d}\u{1f5f}-\u{1f7d}\u{1f80}-\u{1fb4}\u{1fb6}-\u{1fbc}\u{1fbe}\u{1fc2}-\u{1fc4}\u{1fc6}-\u{1fcc}` +
  String.raw`\u{1fd0}-\u{1fd3}\u{1fd6}-\u{1fdb}\u{1fe0}-\u{1fec}\u{1ff2}-\u{1ff4}\u{1ff6}-\u{1ffc}\u{2102}\u{2107}` +
  String.raw`\u{210a}-\u{2113}\u{2115}\u{2119}-\u{211d}\u{2124}\u{2126}\u{2128}\u{212a}-\u{212d}\u{212f}-\u{2134}` +
  String.raw`\u{2139}\u{213c}-\u{213f}\u{2145}-\u{2149}\u{214e}\u{2183}\u{2184}\u{2c00}-\u{2c7b}\u{2c7e}-\u{2ce4}` +
  String.raw`\u{2ceb}-\u{2cee}\u{2cf2}\u{2cf3}\u{a640}-\u{a66d}\u{a680}-\u{a69b}\u{a722}-\u{a76f}\u{a771}-\u{a787}` +
  String.raw`\u{a78b}-\u{a78e}\u{ab70}-\u{abbf}\u{fb00}-\u{fb06}\u{fb13}-\u{fb17}\u{ff21}-\u{ff3a}\u{ff41}-\u{ff5a}` +
  String.raw`\u{10400}-\u{1044f}\u{104b0}-\u{104d3}\u{104d8}-\u{104fb}\u{10c80}-\u{10cb2}\u{10cc0}-\u{10cf2}` +
  String.raw`\u{118a0}-\u{118df}\u{1e900}-\u{1e943}` + ']+';

interface Entry { patterns: string[]; ignoreMerges?: boolean; addBos?: boolean }

const TABLE: Array<[string[], Entry]> = [
  [['default'], { patterns: [String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]'] }],
  [['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2'],
    { patterns: [LLAMA3], ignoreMerges: true, addBos: true }],
  [['dbrx', 'smaug-bpe', 'chatglm-bpe', 'glm4'], { patterns: [LLAMA3] }],
  [['deepseek-llm'], { patterns: ['[\r\n]', DEEPSEEK_LLM_LETTERS, String.raw`\s?[!-/:-~\u{ff01}-\u{ff0f}\u{ff1a}-\u{ff5e}\u{2018}-\u{201f}\u{3000}-\u{3002}]+`, String.raw`\s+$`, CJK, String.raw`\p{N}+`] }],
  [['deepseek-coder'], { patterns: ['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK, String.raw`\p{N}`] }],
  [['deepseek-v3'], { patterns: [String.raw`\p{N}{1,3}`, String.raw`[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+`,
    String.raw`[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_${'`'}{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`] }],
  [['falcon'], { patterns: [String.raw`[\p{P}\$\+<=>\^~\|${'`'}]+`, GPT2, '[0-9][0-9][0-9]'] }],
  [['gpt-2', 'phi-2', 'mpt', 'olmo', 'jais', 'trillion', 'exaone4', 'granite-docling', 'gigachat', 'roberta-bpe',
    'jina-es', 'jina-de', 'jina-v1-en', 'jina-v2-es', 'jina-v2-de', 'jina-v2-code'], { patterns: [GPT2] }],
  [['starcoder', 'refact', 'command-r', 'smollm', 'codeshell', 'exaone', 'minerva-7b'], { patterns: [String.raw`\p{N}`, GPT2] }],
  [['qwen2', 'deepseek-r1-qwen', 'kormo', 'stablelm2', 'megrez', 'hunyuan', 'grok-2'], { patterns: [QWEN2] }],
  [['poro-chat', 'bloom', 'gpt3-finnish'], { patterns: [BLOOM] }],
  [['viking'], { patterns: [BLOOM, String.raw`\p{N}`] }],
  [['tekken'], { patterns: [TEKKEN], ignoreMerges: true, addBos: true }],
  [['gpt-4o', 'llama4', 'minimax-m2'], { patterns: [GPT4O] }],
  [['seed-coder'], { patterns: [String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+`] }],
  [['bailingmoe', 'bailingmoe2', 'llada-moe'],
    { patterns: [String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`] }],
];

const BY_NAME = new Map<string, Entry>();
for (const [names, entry] of TABLE) for (const n of names) BY_NAME.set(n, entry);

/** Every `tokenizer.ggml.pre` name this runtime knows. */
export const GGUF_PRE_NAMES: readonly string[] = [...BY_NAME.keys()];

/** The pre-tokenizer for a `tokenizer.ggml.pre` name (absent: 'default', as llama.cpp does). */
export function ggufPrePreset(name: string | undefined, file?: string): PrePreset {
  const entry = BY_NAME.get(name ?? 'default');
  if (!entry) {
    throw new UnsupportedError(`tokenizer.ggml.pre '${name}' is not a pre-tokenizer this runtime knows`, file);
  }
  return {
    regexes: entry.patterns.map(translateRegex),
    ignoreMerges: entry.ignoreMerges ?? false,
    addBos: entry.addBos ?? false,
  };
}
