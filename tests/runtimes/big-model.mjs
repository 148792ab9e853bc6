// A GGUF over the Workers budget for the refusal test: a Llama with the conformance model's tokenizer and
// dim 1024, 12 layers, ffn 2816 in F16, about 270 MiB of weights. The weights are all zero and never
// written: the file is sparse (a few KiB on disk), since the loader must refuse it after the header.
import { open, truncate } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundles, model } from './common.mjs';

const ZERO = new Uint8Array(1 << 22);

export async function writeOverBudgetModel(path) {
  const dist = join(bundles, '..');
  const { writeGGUF } = await import(join(dist, 'convert', 'gguf-writer.js'));
  const { readGGUFHeader, GGUFValueType: T } = await import(join(dist, 'formats', 'gguf.js'));
  const { ByteReader } = await import(join(dist, 'formats', 'source.js'));
  const { GGMLType, tensorByteSize } = await import(join(dist, 'formats', 'ggml-types.js'));
  const small = await readGGUFHeader(new ByteReader(readFileSync(model), model));
  const meta = small.metadata;
  const dim = 1024, layers = 12, heads = 16, kvHeads = 4, ffn = 2816, vocab = meta.get('tokenizer.ggml.tokens').length;
  const u32 = (key, value) => ({ key, type: T.UINT32, value });
  const metadata = [
    { key: 'general.architecture', type: T.STRING, value: 'llama' },
    { key: 'general.name', type: T.STRING, value: 'zero llama over the Workers budget' },
    u32('llama.context_length', 2048), u32('llama.embedding_length', dim), u32('llama.block_count', layers),
    u32('llama.feed_forward_length', ffn), u32('llama.attention.head_count', heads), u32('llama.attention.head_count_kv', kvHeads),
    u32('llama.rope.dimension_count', dim / heads),
    { key: 'llama.attention.layer_norm_rms_epsilon', type: T.FLOAT32, value: 1e-5 },
    { key: 'tokenizer.ggml.model', type: T.STRING, value: meta.get('tokenizer.ggml.model') },
    { key: 'tokenizer.ggml.tokens', type: T.ARRAY, itemType: T.STRING, value: meta.get('tokenizer.ggml.tokens') },
    { key: 'tokenizer.ggml.token_type', type: T.ARRAY, itemType: T.INT32, value: [...meta.get('tokenizer.ggml.token_type')] },
    u32('tokenizer.ggml.bos_token_id', meta.get('tokenizer.ggml.bos_token_id')),
    u32('tokenizer.ggml.eos_token_id', meta.get('tokenizer.ggml.eos_token_id')),
  ];
  // SentencePiece vocabularies carry scores, byte-level BPE ones merges and a pre-tokenizer name.
  if (meta.has('tokenizer.ggml.scores')) metadata.push({ key: 'tokenizer.ggml.scores', type: T.ARRAY, itemType: T.FLOAT32, value: [...meta.get('tokenizer.ggml.scores')] });
  if (meta.has('tokenizer.ggml.merges')) metadata.push({ key: 'tokenizer.ggml.merges', type: T.ARRAY, itemType: T.STRING, value: meta.get('tokenizer.ggml.merges') });
  if (meta.has('tokenizer.ggml.pre')) metadata.push({ key: 'tokenizer.ggml.pre', type: T.STRING, value: meta.get('tokenizer.ggml.pre') });
  const zeros = (type, shape) => () => (function* () {
    for (let left = tensorByteSize(type, shape); left > 0; left -= ZERO.length) yield ZERO.subarray(0, Math.min(left, ZERO.length));
  })();
  const matrix = (name, cols, rows) => ({ name, shape: [cols, rows], type: GGMLType.F16, data: zeros(GGMLType.F16, [cols, rows]) });
  const norm = (name) => ({ name, shape: [dim], type: GGMLType.F32, data: zeros(GGMLType.F32, [dim]) });
  const tensors = [matrix('token_embd.weight', dim, vocab), norm('output_norm.weight')];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    tensors.push(norm(b + 'attn_norm.weight'), norm(b + 'ffn_norm.weight'),
      matrix(b + 'attn_q.weight', dim, dim), matrix(b + 'attn_k.weight', dim, kvHeads * dim / heads),
      matrix(b + 'attn_v.weight', dim, kvHeads * dim / heads), matrix(b + 'attn_output.weight', dim, dim),
      matrix(b + 'ffn_gate.weight', dim, ffn), matrix(b + 'ffn_up.weight', dim, ffn), matrix(b + 'ffn_down.weight', ffn, dim));
  }
  // Zero pieces are skipped (a hole in the file) instead of written.
  const fh = await open(path, 'w');
  let pos = 0;
  try {
    await writeGGUF({
      async write(chunk) {
        if (chunk.buffer !== ZERO.buffer) await fh.write(chunk, 0, chunk.length, pos);
        pos += chunk.length;
      },
    }, { metadata, tensors });
  } finally {
    await fh.close();
  }
  await truncate(path, pos);
  return pos;
}
