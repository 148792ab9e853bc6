// Tokenizer from HF tokenizer.json (+ tokenizer_config.json): BPE models, byte-level or SentencePiece-style
// (byte_fallback, '▁' normalizers / Metaspace).
import { FormatError, UnsupportedError } from '../errors.js';
import { quoted } from '../formats/quoted.js';
import { BpeModel } from './bpe.js';
import { buildNormalizer, buildPreTokenizer, checkNesting, pieceRules } from './hf-pipeline.js';
import { stopIdsFor, type AddedToken } from './special.js';
import { CoreTokenizer } from './tokenizer-core.js';
import { TokenType, type Tokenizer } from './types.js';
import { isTokenId, MAX_TOKEN_ID, tokenIndex } from './vocab.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;

function parseJson(v: unknown, file: string | undefined, field: string): unknown {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v instanceof Uint8Array || v instanceof ArrayBuffer) text = new TextDecoder().decode(v);
  else return v;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${field} is not valid JSON: ${(e as Error).message}`, file, field);
  }
}

function mergePairs(merges: unknown, file: string | undefined): Array<[string, string]> {
  if (!Array.isArray(merges)) throw new FormatError('expected an array of merges', file, 'model.merges');
  return merges.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      if (sp > 0) return [m.slice(0, sp), m.slice(sp + 1)];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    throw new FormatError(`merge ${i} is not "a b" or ["a", "b"]`, file, 'model.merges');
  });
}

/** A special token named in tokenizer_config.json: a string or {content: string}. */
function configToken(cfg: Json, key: string): string | null {
  const v = cfg[key];
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return null;
}

/** BOS/EOS that a TemplateProcessing post-processor puts around a single sequence. */
function templateEnds(pp: unknown, file: string | undefined, field = 'post_processor', depth = 0): { first: string | null; last: string | null } {
  if (!isObj(pp)) return { first: null, last: null };
  if (pp.type === 'Sequence' && Array.isArray(pp.processors)) {
    checkNesting(depth, file, field);
    for (const [i, p] of pp.processors.entries()) {
      const r = templateEnds(p, file, `${field}.processors[${i}]`, depth + 1);
      if (r.first !== null || r.last !== null) return r;
    }
    return { first: null, last: null };
  }
  if (pp.type !== 'TemplateProcessing' || !Array.isArray(pp.single)) return { first: null, last: null };
  const name = (item: unknown) => (isObj(item) && isObj(item.SpecialToken) && typeof item.SpecialToken.id === 'string'
    ? item.SpecialToken.id : null);
  return { first: name(pp.single[0]), last: name(pp.single[pp.single.length - 1]) };
}

export function tokenizerFromHF(tokenizerJson: unknown, tokenizerConfig?: unknown, file?: string): Tokenizer {
  const j = parseJson(tokenizerJson, file, 'tokenizer.json');
  if (!isObj(j)) throw new FormatError('expected a JSON object', file, 'tokenizer.json');
  const cfgRaw = tokenizerConfig === undefined ? {} : parseJson(tokenizerConfig, file, 'tokenizer_config.json');
  if (!isObj(cfgRaw)) throw new FormatError('expected a JSON object', file, 'tokenizer_config.json');
  const cfg = cfgRaw;
  const model = j.model;
  if (!isObj(model)) throw new FormatError('missing the model object', file, 'model');
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new UnsupportedError(`model.type ${quoted(model.type)} is not supported (only BPE)`, file);
  }
  if (!isObj(model.vocab)) throw new FormatError('missing the vocabulary object {token: id}', file, 'model.vocab');

  // ids: the vocabulary plus added tokens; gaps (rare) become unused empty tokens
  const vocab = model.vocab;
  const entries: string[] = [];
  const entryIds: number[] = [];
  for (const t in vocab) {
    const id = vocab[t];
    if (!isTokenId(id)) throw new FormatError(`token "${t}" has id ${quoted(id)}; ids are integers in [0, ${MAX_TOKEN_ID}]`, file, 'model.vocab');
    entries.push(t);
    entryIds.push(id);
  }
  const addedRaw = j.added_tokens ?? [];
  if (!Array.isArray(addedRaw)) throw new FormatError('expected an array', file, 'added_tokens');
  const added: AddedToken[] = addedRaw.map((a, i) => {
    if (!isObj(a) || typeof a.content !== 'string' || !isTokenId(a.id)) {
      throw new FormatError(`entry ${i} needs an integer id in [0, ${MAX_TOKEN_ID}] and a string content`, file, 'added_tokens');
    }
    return { id: a.id, content: a.content, special: a.special === true, lstrip: a.lstrip === true, rstrip: a.rstrip === true };
  });
  // the arrays below are sized by the largest id: isTokenId bounds it
  let n = 0;
  for (const id of entryIds) n = Math.max(n, id + 1);
  for (const a of added) n = Math.max(n, a.id + 1);
  const tokens: string[] = new Array(n).fill('');
  const types = new Uint8Array(n).fill(TokenType.unused);
  const byteFallback = model.byte_fallback === true;
  for (let i = 0; i < entries.length; i++) {
    const t = entries[i], id = entryIds[i];
    tokens[id] = t;
    types[id] = byteFallback && BYTE_TOKEN.test(t) ? TokenType.byte : TokenType.normal;
  }
  for (const a of added) {
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TokenType.control : TokenType.userDefined;
  }
  const tokenToId = tokenIndex(tokens);
  const lookup = (name: string | null, field: string): number | null => {
    if (name === null) return null;
    const id = tokenToId.get(name);
    if (id === undefined) throw new FormatError(`token "${name}" is not in the vocabulary`, file, field);
    return id;
  };
  const unk = typeof model.unk_token === 'string' ? lookup(model.unk_token, 'model.unk_token') : null;
  if (unk !== null && types[unk] === TokenType.normal) types[unk] = TokenType.unknown;

  if (typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== ''
    || typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix !== '') {
    throw new UnsupportedError('BPE with continuing_subword_prefix / end_of_word_suffix is not supported', file);
  }
  if (model.merges === undefined) throw new FormatError('missing the merge list', file, 'model.merges');
  const bpe = new BpeModel(tokenToId, n, mergePairs(model.merges, file), {
    ignoreMerges: model.ignore_merges === true,
    byteFallback,
    unkId: unk,
    fuseUnk: model.fuse_unk === true,
  }, file, 'model.merges');

  const normalize = buildNormalizer(j.normalizer, file);
  const pre = buildPreTokenizer(j.pre_tokenizer, file);
  const pieces = pieceRules(j.decoder, pre.byteLevel, file);

  const tmpl = templateEnds(j.post_processor, file);
  const bos = lookup(configToken(cfg, 'bos_token') ?? tmpl.first, 'bos_token');
  const eos = lookup(configToken(cfg, 'eos_token') ?? tmpl.last, 'eos_token');
  const addBos = typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : tmpl.first !== null;
  const addEos = typeof cfg.add_eos_token === 'boolean' ? cfg.add_eos_token : tmpl.last !== null;

  return new CoreTokenizer({
    tokens, types, added, bos, eos, addBos, addEos, pieces,
    stopIds: stopIdsFor(tokens, (i) => types[i] === TokenType.control, [eos]),
    encodeFragment: (text, first, out) => {
      for (const p of pre.run([normalize(text)], first)) bpe.encode(p, out);
    },
  });
}
