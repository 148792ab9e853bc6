// tokenizer.json normalizers, pre-tokenizers and decoders, turned into plain functions.
import { FormatError, UnsupportedError } from '../errors.js';
import { quoted } from '../formats/quoted.js';
import { toByteLevel } from './byte-level.js';
import { splitPieces, type SplitBehavior } from './split.js';
import { translateRegex } from './regex-js.js';
import type { PieceRules } from './tokenizer-core.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sequences nested deeper than this are refused (real files nest one or two). */
const MAX_NESTING = 32;

export function checkNesting(depth: number, file: string | undefined, field: string): void {
  if (depth > MAX_NESTING) throw new FormatError(`Sequences nested deeper than ${MAX_NESTING}`, file, field);
}

function list(v: unknown, file: string | undefined, field: string): Json[] {
  if (!Array.isArray(v) || !v.every(isObj)) throw new FormatError('expected an array of objects', file, field);
  return v as Json[];
}

function str(v: unknown, file: string | undefined, field: string): string {
  if (typeof v !== 'string') throw new FormatError('expected a string', file, field);
  return v;
}

/** A `pattern` field: {String: "..."} matches literally, {Regex: "..."} is a regex. */
function patternRegex(v: unknown, file: string | undefined, field: string): RegExp {
  if (isObj(v) && typeof v.String === 'string') return new RegExp(v.String.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'gu');
  if (isObj(v) && typeof v.Regex === 'string') return translateRegex(v.Regex);
  throw new FormatError('expected {"String": ...} or {"Regex": ...}', file, field);
}

export type Normalizer = (text: string) => string;

export function buildNormalizer(spec: unknown, file: string | undefined, field = 'normalizer', depth = 0): Normalizer {
  if (spec === null || spec === undefined) return (s) => s;
  if (!isObj(spec)) throw new FormatError('expected an object or null', file, field);
  switch (spec.type) {
    case 'Sequence': {
      checkNesting(depth, file, field);
      const parts = list(spec.normalizers, file, `${field}.normalizers`)
        .map((n, i) => buildNormalizer(n, file, `${field}.normalizers[${i}]`, depth + 1));
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': {
      const form = spec.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase': return (s) => s.toLowerCase();
    case 'Prepend': {
      const pre = str(spec.prepend, file, `${field}.prepend`);
      return (s) => (s.length > 0 ? pre + s : s);
    }
    case 'Replace': {
      const re = patternRegex(spec.pattern, file, `${field}.pattern`);
      const content = str(spec.content, file, `${field}.content`);
      return (s) => s.replace(re, () => content);
    }
    case 'Strip': {
      const left = spec.strip_left !== false, right = spec.strip_right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
    }
    default:
      throw new UnsupportedError(`${field}.type ${quoted(spec.type)} is not supported`, file);
  }
}

/** Pieces in, pieces out; `first`: the fragment starts the input text. */
export type PreTokenizer = (pieces: string[], first: boolean) => string[];

export interface PreTokenizerInfo { run: PreTokenizer; byteLevel: boolean }

const BEHAVIORS: Record<string, SplitBehavior> = {
  Isolated: 'isolated', Removed: 'removed', MergedWithPrevious: 'mergedWithPrevious',
  MergedWithNext: 'mergedWithNext', Contiguous: 'contiguous',
};

function behavior(v: unknown, file: string | undefined, field: string): SplitBehavior {
  const name = v ?? 'Isolated';
  if (typeof name !== 'string' || !Object.hasOwn(BEHAVIORS, name)) throw new FormatError(`unknown split behavior ${quoted(v)}`, file, field);
  return BEHAVIORS[name];
}

const GPT2_SPLIT = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
// HF Punctuation: ASCII punctuation (which includes symbols like $ + < = > ^ ` | ~) or Unicode P*
const PUNCT = /[\p{P}!-\/:-@\[-`{-~]/gu;

export function buildPreTokenizer(spec: unknown, file: string | undefined, field = 'pre_tokenizer', depth = 0): PreTokenizerInfo {
  if (spec === null || spec === undefined) return { run: (p) => p, byteLevel: false };
  if (!isObj(spec)) throw new FormatError('expected an object or null', file, field);
  switch (spec.type) {
    case 'Sequence': {
      checkNesting(depth, file, field);
      const parts = list(spec.pretokenizers, file, `${field}.pretokenizers`)
        .map((p, i) => buildPreTokenizer(p, file, `${field}.pretokenizers[${i}]`, depth + 1));
      return {
        run: (pieces, first) => parts.reduce((acc, p) => p.run(acc, first), pieces),
        byteLevel: parts.some((p) => p.byteLevel),
      };
    }
    case 'ByteLevel': {
      const prefix = spec.add_prefix_space === true;
      const re = spec.use_regex === false ? null : translateRegex(GPT2_SPLIT);
      return {
        run: (pieces) => {
          let out = prefix ? pieces.map((p) => (p.startsWith(' ') ? p : ' ' + p)) : pieces;
          if (re) out = splitPieces(out, re);
          return out.map(toByteLevel);
        },
        byteLevel: true,
      };
    }
    case 'Split': {
      const re = patternRegex(spec.pattern, file, `${field}.pattern`);
      const b = behavior(spec.behavior, file, `${field}.behavior`);
      const invert = spec.invert === true;
      return { run: (pieces) => splitPieces(pieces, re, b, invert), byteLevel: false };
    }
    case 'Digits': {
      const re = spec.individual_digits === true ? /\p{N}/gu : /\p{N}+/gu;
      return { run: (pieces) => splitPieces(pieces, re), byteLevel: false };
    }
    case 'Punctuation': {
      const b = behavior(spec.behavior, file, `${field}.behavior`);
      return { run: (pieces) => splitPieces(pieces, PUNCT, b), byteLevel: false };
    }
    case 'Metaspace': {
      const rep = str(spec.replacement ?? '\u2581', file, `${field}.replacement`);
      const scheme = typeof spec.prepend_scheme === 'string' ? spec.prepend_scheme
        : spec.add_prefix_space === false ? 'never' : 'always';
      const split = spec.split !== false;
      const sep = new RegExp(rep.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'gu');
      return {
        run: (pieces, first) => {
          const out = pieces.map((p, i) => {
            const q = p.replaceAll(' ', rep);
            const prepend = scheme === 'always' || (scheme === 'first' && first && i === 0);
            return prepend && q.length > 0 && !q.startsWith(rep) ? rep + q : q;
          });
          return split ? splitPieces(out, sep, 'mergedWithNext') : out;
        },
        byteLevel: false,
      };
    }
    default:
      throw new UnsupportedError(`${field}.type ${quoted(spec.type)} is not supported`, file);
  }
}

/** How decoded tokens become text, read off the decoder (and the pre-tokenizer when there is none). */
export function pieceRules(spec: unknown, preByteLevel: boolean, file: string | undefined, field = 'decoder'): PieceRules {
  const rules: PieceRules = { byteLevel: false, metaspace: false, stripLeadingSpace: false };
  if (spec === null || spec === undefined) { rules.byteLevel = preByteLevel; return rules; }
  const visit = (d: unknown, f: string, depth: number) => {
    if (!isObj(d)) throw new FormatError('expected an object', file, f);
    switch (d.type) {
      case 'Sequence':
        checkNesting(depth, file, f);
        list(d.decoders, file, `${f}.decoders`).forEach((x, i) => visit(x, `${f}.decoders[${i}]`, depth + 1));
        break;
      case 'ByteLevel': rules.byteLevel = true; break;
      case 'Metaspace': {
        rules.metaspace = true;
        const scheme = typeof d.prepend_scheme === 'string' ? d.prepend_scheme : d.add_prefix_space === false ? 'never' : 'always';
        if (scheme !== 'never') rules.stripLeadingSpace = true;
        break;
      }
      case 'Replace':
        if (isObj(d.pattern) && d.pattern.String === '\u2581' && d.content === ' ') rules.metaspace = true;
        else throw new UnsupportedError(`${f}: only the '▁' -> ' ' Replace decoder is supported`, file);
        break;
      case 'Strip':
        if (typeof d.start === 'number' && d.start > 0) rules.stripLeadingSpace = true;
        break;
      case 'ByteFallback': case 'Fuse': break; // byte tokens are decoded by type; pieces are always fused
      default: throw new UnsupportedError(`${f}.type ${quoted(d.type)} is not supported`, file);
    }
  };
  visit(spec, field, 0);
  return rules;
}
