// The Tokenizer implementation shared by every file format: special-token splitting, per-fragment
// encoding through a format-specific pipeline, BOS/EOS, and byte-exact (streaming) decoding.
import { InvalidArgumentError } from '../errors.js';
import { fromByteLevel } from './byte-level.js';
import { SpecialSplitter, type AddedToken } from './special.js';
import { TokenType, isSpecialType, type DecodeOptions, type EncodeOptions, type StreamingDecoder, type Tokenizer } from './types.js';

/** How a regular token's text turns back into bytes. */
export interface PieceRules {
  /** token text is in the GPT-2 byte-level alphabet */
  byteLevel: boolean;
  /** '▁' stands for a space (SentencePiece) */
  metaspace: boolean;
  /** encoding put a space in front of the text: drop it from the first piece of output (as llama.cpp and
   *  HF do; a rendered BOS before it keeps the space, a skipped one does not) */
  stripLeadingSpace: boolean;
}

export interface TokenizerParts {
  tokens: string[];
  /** TokenType per id */
  types: Uint8Array;
  added: readonly AddedToken[];
  /** encodes one fragment of text that holds no special tokens; `first`: it starts the input */
  encodeFragment(text: string, first: boolean, out: number[]): void;
  pieces: PieceRules;
  bos: number | null;
  eos: number | null;
  addBos: boolean;
  addEos: boolean;
  stopIds: Set<number>;
}

const utf8 = new TextEncoder();
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export class CoreTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  readonly stopIds: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  private readonly splitter: SpecialSplitter;
  private readonly bytesCache: Array<Uint8Array | undefined>;

  constructor(private readonly parts: TokenizerParts) {
    this.vocabSize = parts.tokens.length;
    this.bos = parts.bos;
    this.eos = parts.eos;
    this.stopIds = parts.stopIds;
    this.addBos = parts.addBos && parts.bos !== null;
    this.addEos = parts.addEos && parts.eos !== null;
    this.splitter = new SpecialSplitter(parts.added);
    this.bytesCache = new Array(this.vocabSize);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecial ?? true;
    const out: number[] = [];
    if (addSpecial && this.addBos) out.push(this.bos!);
    const frags = this.splitter.split(text, opts.parseSpecial ?? true);
    for (let i = 0; i < frags.length; i++) {
      const f = frags[i];
      if (typeof f === 'number') out.push(f);
      else this.parts.encodeFragment(f, i === 0, out);
    }
    if (addSpecial && this.addEos) out.push(this.eos!);
    return out;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const state = { atStart: true };
    for (const id of ids) {
      const b = this.pieceBytes(id, opts.skipSpecial ?? false, state);
      if (b.length > 0) { chunks.push(b); total += b.length; }
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) { all.set(c, o); o += c.length; }
    return new TextDecoder('utf-8').decode(all);
  }

  decoder(opts: DecodeOptions = {}): StreamingDecoder {
    const skip = opts.skipSpecial ?? false;
    let td = new TextDecoder('utf-8');
    let state = { atStart: true };
    return {
      push: (id: number) => td.decode(this.pieceBytes(id, skip, state), { stream: true }),
      flush: () => {
        const rest = td.decode();
        td = new TextDecoder('utf-8');
        state = { atStart: true };
        return rest;
      },
    };
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.parts.tokens[id];
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new InvalidArgumentError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
  }

  /** Bytes of one token in context; `state.atStart`: nothing has been output yet. */
  private pieceBytes(id: number, skipSpecial: boolean, state: { atStart: boolean }): Uint8Array {
    this.checkId(id);
    const type = this.parts.types[id];
    if (skipSpecial && isSpecialType(type) && type !== TokenType.userDefined) return EMPTY;
    const bytes = this.bytesOf(id);
    if (state.atStart && bytes.length > 0) {
      state.atStart = false;
      if (this.parts.pieces.stripLeadingSpace && !isSpecialType(type) && bytes[0] === 0x20) return bytes.subarray(1);
    }
    return bytes;
  }

  private bytesOf(id: number): Uint8Array {
    const hit = this.bytesCache[id];
    if (hit) return hit;
    const text = this.parts.tokens[id];
    const type = this.parts.types[id];
    const rules = this.parts.pieces;
    let bytes: Uint8Array;
    const byteMatch = type === TokenType.byte ? BYTE_TOKEN.exec(text) : null;
    if (byteMatch) bytes = Uint8Array.of(parseInt(byteMatch[1], 16));
    else if (type === TokenType.control || type === TokenType.unknown) bytes = utf8.encode(text);
    else if (rules.byteLevel && type !== TokenType.userDefined) bytes = fromByteLevel(text);
    else if (rules.metaspace) bytes = utf8.encode(text.replaceAll('\u2581', ' '));
    else bytes = utf8.encode(text);
    this.bytesCache[id] = bytes;
    return bytes;
  }
}

const EMPTY = new Uint8Array(0);
