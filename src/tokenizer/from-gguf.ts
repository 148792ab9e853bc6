// Tokenizer from GGUF metadata (tokenizer.ggml.*): 'llama' = SentencePiece scores with byte fallback,
// 'gpt2' = byte-level BPE with merges and a named pre-tokenizer.
import { FormatError, UnsupportedError } from '../errors.js';
import { BpeModel } from './bpe.js';
import { toByteLevel } from './byte-level.js';
import { ggufPrePreset } from './gguf-pre.js';
import { stopIdsFor, type AddedToken } from './special.js';
import { splitPieces } from './split.js';
import { SpmModel } from './spm.js';
import { CoreTokenizer, type TokenizerParts } from './tokenizer-core.js';
import { TokenType, isSpecialType, type Tokenizer } from './types.js';
import { numberArray, optionalBool, optionalId, requireStringArray, tokenIndex } from './vocab.js';

const K = 'tokenizer.ggml.';
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;

export function tokenizerFromGGUF(meta: Map<string, unknown>, file?: string): Tokenizer {
  const model = meta.get(K + 'model');
  if (typeof model !== 'string') throw new FormatError('expected the tokenizer model name (a string)', file, K + 'model');
  if (model !== 'llama' && model !== 'gpt2') {
    throw new UnsupportedError(`tokenizer model '${model}' (${K}model) is not supported; expected 'llama' or 'gpt2'`, file);
  }
  const tokens = requireStringArray(meta.get(K + 'tokens'), file, K + 'tokens');
  const n = tokens.length;
  if (n === 0) throw new FormatError('the token list is empty', file, K + 'tokens');

  const types = new Uint8Array(n).fill(TokenType.normal);
  if (meta.has(K + 'token_type')) {
    const t = numberArray(meta.get(K + 'token_type'), file, K + 'token_type');
    if (t.length !== n) throw new FormatError(`has ${t.length} entries, but there are ${n} tokens`, file, K + 'token_type');
    for (let i = 0; i < n; i++) types[i] = t[i] >= 1 && t[i] <= 6 ? t[i] : TokenType.normal;
  } else if (model === 'llama') {
    for (let i = 0; i < n; i++) if (BYTE_TOKEN.test(tokens[i])) types[i] = TokenType.byte;
  }
  let scores: ArrayLike<number> = new Float32Array(n);
  if (meta.has(K + 'scores')) {
    scores = numberArray(meta.get(K + 'scores'), file, K + 'scores');
    if (scores.length !== n) throw new FormatError(`has ${scores.length} entries, but there are ${n} tokens`, file, K + 'scores');
  }

  const id = (name: string) => optionalId(meta.get(K + name), n, file, K + name);
  const bos = id('bos_token_id'), eos = id('eos_token_id'), unk = id('unknown_token_id');
  const eot = id('eot_token_id'), eom = id('eom_token_id');
  const tokenToId = tokenIndex(tokens);
  const added: AddedToken[] = [];
  for (let i = 0; i < n; i++) {
    if (isSpecialType(types[i])) added.push({ id: i, content: tokens[i], special: types[i] !== TokenType.userDefined });
  }
  const stopIds = stopIdsFor(tokens, (i) => types[i] === TokenType.control, [eos, eot, eom]);
  const addEos = optionalBool(meta.get(K + 'add_eos_token'), file, K + 'add_eos_token') ?? false;
  const addBosKey = optionalBool(meta.get(K + 'add_bos_token'), file, K + 'add_bos_token');

  let parts: TokenizerParts;
  if (model === 'llama') {
    const spacePrefix = optionalBool(meta.get(K + 'add_space_prefix'), file, K + 'add_space_prefix') ?? true;
    const spm = new SpmModel(tokenToId, scores, types, unk);
    parts = {
      tokens, types, added, bos, eos, stopIds, addEos,
      addBos: addBosKey ?? true,
      pieces: { byteLevel: false, metaspace: true, stripLeadingSpace: spacePrefix },
      // llama.cpp prefixes every raw fragment: each one follows the start or a special token
      encodeFragment: (text, _first, out) => spm.encode((spacePrefix ? ' ' + text : text).replaceAll(' ', '\u2581'), out),
    };
  } else {
    const pre = meta.get(K + 'pre');
    if (pre !== undefined && typeof pre !== 'string') throw new FormatError('expected a string', file, K + 'pre');
    const preset = ggufPrePreset(pre, file);
    const merges = requireStringArray(meta.get(K + 'merges'), file, K + 'merges');
    const pairs = merges.map((m, i): [string, string] => {
      const sp = m.indexOf(' ', 1); // the first character may itself be a space in some vocabularies
      if (sp < 0) throw new FormatError(`merge ${i} ("${m}") is not two tokens separated by a space`, file, K + 'merges');
      return [m.slice(0, sp), m.slice(sp + 1)];
    });
    const bpe = new BpeModel(tokenToId, n, pairs, { ignoreMerges: preset.ignoreMerges, unkId: unk }, file, K + 'merges');
    parts = {
      tokens, types, added, bos, eos, stopIds, addEos,
      addBos: addBosKey ?? preset.addBos,
      pieces: { byteLevel: true, metaspace: false, stripLeadingSpace: false },
      encodeFragment: (text, _first, out) => {
        let pieces = [text];
        for (const re of preset.regexes) pieces = splitPieces(pieces, re);
        for (const p of pieces) bpe.encode(toByteLevel(p), out);
      },
    };
  }
  return new CoreTokenizer(parts);
}
