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
const CJK = '[一-龥ࠀ-一가-퟿]+';
const BLOOM = String.raw` ?[^(\s|.,!?…。，、।۔،)]+`;
const TEKKEN = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const GPT4O = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const DEEPSEEK_LLM_LETTERS = String.raw`\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+`;

interface Entry { patterns: string[]; ignoreMerges?: boolean; addBos?: boolean }

const TABLE: Array<[string[], Entry]> = [
  [['default'], { patterns: [String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]'] }],
  [['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2'],
    { patterns: [LLAMA3], ignoreMerges: true, addBos: true }],
  [['dbrx', 'smaug-bpe', 'chatglm-bpe', 'glm4'], { patterns: [LLAMA3] }],
  [['deepseek-llm'], { patterns: ['[\r\n]', DEEPSEEK_LLM_LETTERS, String.raw`\s?[!-/:-~！-／：-～‘-‟　-。]+`, String.raw`\s+$`, CJK, String.raw`\p{N}+`] }],
  [['deepseek-coder'], { patterns: ['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK, String.raw`\p{N}`] }],
  [['deepseek-v3'], { patterns: [String.raw`\p{N}{1,3}`, '[一-龥぀-ゟ゠-ヿ]+',
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
