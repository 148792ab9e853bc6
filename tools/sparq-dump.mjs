#!/usr/bin/env node
// Dumps what SparQ decode steps saw and returned, for an independent check (tools/sparq_reference.py):
// held-out windows go through a dense prefill, then teacher-forced decode steps through one SparQ setting;
// every step's query and SparQ output of every layer is recorded, and at the end the cache as the kernels
// read it (decoded K rows, V rows and transposed K, f32). Step t of a window saw cache rows [0, t + 1).
//
// usage: node tools/sparq-dump.mjs --text HELDOUT.txt [--model models/default.gguf] [--length 4096]
//          [--docs 2] [--steps 32] [--setting '{"ratio":0.125}'] [--reallocation] --out DIR
// --setting: the SparQ setting's fields (AttentionSetting); --reallocation: the load option.
// DIR/meta.json describes the files and, per window, layer and step, the step's [r, k, sinks, reallocation];
// every .f32 file is little-endian f32 in the shape meta.json gives.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/index.js';
import { decoderOf } from '../dist/engine/model.js';
import { Attention } from '../dist/attention/index.js';
import { resolveSparq, reallocatesByDefault } from '../dist/attention/policy.js';
import { documentWindows } from '../dist/cli/eval.js';

const { values: a } = parseArgs({ options: {
  model: { type: 'string', default: 'models/default.gguf' }, text: { type: 'string' }, length: { type: 'string', default: '4096' },
  docs: { type: 'string', default: '2' }, steps: { type: 'string', default: '32' }, setting: { type: 'string', default: '{"ratio":0.125}' },
  reallocation: { type: 'boolean', default: false }, out: { type: 'string' },
} });
if (!a.text || !a.out) throw new Error('--text and --out are required');
const L = Number(a.length), steps = Number(a.steps);
mkdirSync(a.out, { recursive: true });

const model = await loadModel(a.model, { contextLength: L, sparqLayout: true, kType: 'q8', vType: 'q8', reallocation: a.reallocation || undefined });
const dec = decoderOf(model), rt = dec.rt, c = dec.config;
const nL = c.nLayers, H = c.nHeads, nKV = c.nKVHeads, d = c.headDim;
const setting = { kind: 'sparq', denseBelow: 0, ...JSON.parse(a.setting) };

// record q, the output and the parameters of every decode step's attention
let rec = null;
const run = Attention.prototype.run;
Attention.prototype.run = function (layer, seq, q, out, pos, n, decode = n === 1) {
  if (rec && decode) {
    rec.q[layer].push(Float32Array.from(rt.f32At(q, H * d)));
    const p = resolveSparq(setting, d, pos + 1, layer, nL);
    rec.params[layer].push([p.r, p.k, p.sinks, p.reallocation ?? (a.reallocation || reallocatesByDefault(layer))]);
  }
  run.call(this, layer, seq, q, out, pos, n, decode);
  if (rec && decode) rec.y[layer].push(Float32Array.from(rt.f32At(out, H * d)));
};

const ids = model.tokenize(readFileSync(a.text, 'utf8'), { addSpecial: false });
const docs = documentWindows(ids, model.tokenizer.bos, L, Number(a.docs));
const cache = dec.cache, tmp = rt.alloc('dump', 4 * d);
const meta = { model: a.model, text: a.text, length: L, steps, setting, reallocation: a.reallocation ? 'all layers' : 'by default', scale: dec.attention.scale,
  nLayers: nL, nHeads: H, nKVHeads: nKV, headDim: d, windows: [] };

/** Layer l's cache rows [0, S) decoded: K, V and K^T values as f32 [S][nKV][d]. */
function decodeLayer(l, S) {
  const K = new Float32Array(S * nKV * d), V = new Float32Array(S * nKV * d), KT = new Float32Array(S * nKV * d);
  for (let h = 0; h < nKV; h++) {
    for (let p = 0; p < S; p++) {
      const at = (p * nKV + h) * d;
      rt.call('kv_decode_row', { src: cache.kPtr(l) + h * cache.kHeadStride + p * cache.kRowBytes, dst: tmp, d, type: cache.kTypeId });
      K.set(rt.f32At(tmp, d), at);
      rt.call('kv_decode_row', { src: cache.vPtr(l) + h * cache.vHeadStride + p * cache.vRowBytes, dst: tmp, d, type: cache.vTypeId });
      V.set(rt.f32At(tmp, d), at);
      const base = cache.ktPtr(l) + h * cache.ktHeadStride;
      for (let i = 0; i < d; i++) KT[at + i] = rt.call('kv_t_get', { base, d, type: cache.ktTypeId, tiles: cache.ktTiles, p, i });
    }
  }
  return { K, V, KT };
}

docs.forEach((doc, w) => {
  const prefill = L - steps - 1;
  dec.attentionSetting = 'dense';
  dec.truncate(0);
  dec.evaluate(doc.slice(0, prefill), 0);
  dec.attentionSetting = setting;
  rec = { q: Array.from({ length: nL }, () => []), y: Array.from({ length: nL }, () => []), params: Array.from({ length: nL }, () => []) };
  for (let t = prefill; t + 1 < doc.length; t++) dec.evaluate([doc[t]], t);
  const got = rec;
  rec = null;
  const S = doc.length - 1;
  for (let l = 0; l < nL; l++) {
    const { K, V, KT } = decodeLayer(l, S);
    const base = `${a.out}/w${w}-l${l}`;
    writeFileSync(`${base}-K.f32`, K); writeFileSync(`${base}-V.f32`, V); writeFileSync(`${base}-KT.f32`, KT);
    writeFileSync(`${base}-q.f32`, Float32Array.from(got.q[l].flatMap((x) => [...x])));
    writeFileSync(`${base}-y.f32`, Float32Array.from(got.y[l].flatMap((x) => [...x])));
  }
  meta.windows.push({ S, firstStep: prefill, steps: S - prefill, params: got.params });
  process.stderr.write(`window ${w + 1}/${docs.length}\n`);
});
writeFileSync(`${a.out}/meta.json`, JSON.stringify(meta, null, 1) + '\n');
model.dispose();
