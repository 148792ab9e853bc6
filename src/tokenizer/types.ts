// The public tokenizer interface and the token kinds shared by every tokenizer model.

export interface EncodeOptions {
  /** default true: add BOS/EOS as the model's flags say */
  addSpecial?: boolean;
  /** default true: special-token text such as '<|eot_id|>' in the input becomes that token */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** default false: leave out control tokens (BOS, EOS, <|im_end|>...) from the text */
  skipSpecial?: boolean;
}

export interface StreamingDecoder {
  /** adds one id; returns the text that became complete (never half a UTF-8 sequence) */
  push(id: number): string;
  /** returns what is still held back (an incomplete UTF-8 tail decodes to U+FFFD) and resets */
  flush(): string;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  /** token ids that end generation (eos, eot, <|eot_id|>, <|im_end|> ... as the metadata and added tokens say) */
  readonly stopIds: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  decoder(opts?: DecodeOptions): StreamingDecoder;
  /** the token's text as the vocabulary stores it ('Ġthe', '▁the', '<0x0A>', '<|eot_id|>') */
  tokenText(id: number): string;
}

/** Token kinds, numbered as GGUF's tokenizer.ggml.token_type. */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/** Kinds that are matched as whole units in the input text rather than built by the model. */
export function isSpecialType(t: number): boolean {
  return t === TokenType.control || t === TokenType.userDefined || t === TokenType.unknown;
}
