// Tokenizer from the original GPT-2 style file pair: encoder.json ({token: id}) and vocab.bpe (merges, one
// "a b" per line, an optional '#version' first line). Special tokens are not in those files; the 'llama3'
// preset adds Llama 3's 256 at 128000.. in their published order.
import { FormatError } from '../errors.js';
import { tokenizerFromHF } from './from-hf.js';
import type { Tokenizer } from './types.js';

export interface BPEFilesOptions {
  /** 'gpt2' (default): GPT-2 regex, no BOS; 'llama3': Llama 3 regex, ignore_merges, its special tokens, BOS */
  preset?: 'gpt2' | 'llama3';
  file?: string;
}

const LLAMA3_SPLIT = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/** Llama 3.1+ special tokens: named ones at fixed ids, reserved ones filling 128000..128255. */
function llama3Specials(): Array<{ id: number; content: string; special: true }> {
  const named: Record<number, string> = {
    128000: '<|begin_of_text|>', 128001: '<|end_of_text|>', 128004: '<|finetune_right_pad_id|>',
    128006: '<|start_header_id|>', 128007: '<|end_header_id|>', 128008: '<|eom_id|>', 128009: '<|eot_id|>',
    128010: '<|python_tag|>',
  };
  const out = [];
  let reserved = 0;
  for (let id = 128000; id < 128256; id++) {
    out.push({ id, content: named[id] ?? `<|reserved_special_token_${reserved++}|>`, special: true as const });
  }
  return out;
}

export function tokenizerFromBPEFiles(encoderJson: unknown, vocabBpe: string | Uint8Array, opts: BPEFilesOptions = {}): Tokenizer {
  const file = opts.file;
  let vocab = encoderJson;
  if (typeof vocab === 'string' || vocab instanceof Uint8Array) {
    const text = typeof vocab === 'string' ? vocab : new TextDecoder().decode(vocab);
    try { vocab = JSON.parse(text); } catch (e) {
      throw new FormatError(`encoder.json is not valid JSON: ${(e as Error).message}`, file, 'encoder.json');
    }
  }
  const mergesText = typeof vocabBpe === 'string' ? vocabBpe : new TextDecoder().decode(vocabBpe);
  const merges = mergesText.split('\n').filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
  const llama3 = opts.preset === 'llama3';
  const json = {
    model: { type: 'BPE', vocab, merges, ignore_merges: llama3 },
    added_tokens: llama3 ? llama3Specials() : [],
    pre_tokenizer: llama3
      ? { type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated' },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] }
      : { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    decoder: { type: 'ByteLevel' },
  };
  const config = llama3 ? { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', add_bos_token: true } : {};
  return tokenizerFromHF(json, config, file);
}
