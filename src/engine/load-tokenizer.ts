// loadTokenizer: the tokenizer of a model alone, for counting or splitting tokens without the weights. A GGUF
// (vocab-only files included) is read up to the end of its metadata; a tokenizer.json is read whole.
import { ByteReader } from '../formats/source.js';
import { GGUF_MAGIC, readGGUFHeader } from '../formats/gguf.js';
import { tokenizerFromGGUF, tokenizerFromHF, type Tokenizer } from '../tokenizer/index.js';
import { openSource, type ModelSource } from './open-source.js';

export interface LoadTokenizerOptions {
  /** With a tokenizer.json: its tokenizer_config.json (text, bytes or the parsed object), for BOS/EOS and add_bos_token. */
  tokenizerConfig?: unknown;
  signal?: AbortSignal;
}

/** tokenizer.json files larger than this are refused (the largest real ones are a few tens of MiB). */
const MAX_TOKENIZER_JSON = 256 << 20;

/**
 * The tokenizer of a GGUF file, a tokenizer.json, or a Hugging Face model directory (Node), from any source
 * loadModel takes. A GGUF is told apart by its magic; anything else is read as tokenizer.json.
 */
export async function loadTokenizer(source: ModelSource, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const opened = await openSource(source, options.signal, 'loadTokenizer');
  if (opened.kind === 'hf-dir') return tokenizerFromHF(opened.hf.tokenizer, opened.hf.tokenizerConfig, `${opened.name}/tokenizer.json`);
  const reader = new ByteReader(opened.input, opened.name, opened.size);
  try {
    const head = await reader.peek(4);
    if (head.length === 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === GGUF_MAGIC) {
      return tokenizerFromGGUF((await readGGUFHeader(reader)).metadata, opened.name);
    }
    const json = await reader.readToEnd(MAX_TOKENIZER_JSON, 'tokenizer.json');
    return tokenizerFromHF(json, options.tokenizerConfig, opened.name);
  } finally {
    await reader.close();
  }
}
