// A model's identity for saved sessions: a hash of its configuration, its vocabulary and samples of its
// weights, so rows saved by one model are never restored into another.
import type { Decoder } from '../model/decoder.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Tensor } from '../model/weights.js';
import { fnv1a } from './saved-session.js';

/** Bytes of each tensor's start that go into the hash. */
const SAMPLE = 4096;

export function modelFingerprint(decoder: Decoder, tokenizer: Tokenizer): string {
  const enc = new TextEncoder();
  let h = fnv1a(enc.encode(JSON.stringify(decoder.config)));
  for (let id = 0; id < tokenizer.vocabSize; id++) h = fnv1a(enc.encode(`${tokenizer.tokenText(id)}\0`), h);
  const w = decoder.weights;
  const tensors: (Tensor | undefined)[] = [w.tokenEmbd, w.output, w.outputNorm, ...w.layers.flatMap((L) => [L.wq, L.wDown, L.attnNorm])];
  let g = 0x9dc5811c; // a second, independent lane: 64 bits in all
  for (const t of tensors) {
    if (!t) continue;
    const bytes = decoder.rt.u8At(t.ptr, Math.min(SAMPLE, t.shape.reduce((a, b) => a * b, 1)));
    h = fnv1a(bytes, h);
    g = fnv1a(bytes, Math.imul(g, 31) >>> 0);
  }
  return `${h.toString(16).padStart(8, '0')}${g.toString(16).padStart(8, '0')}`;
}
