// Mutations of a safetensors file: its JSON header (dtypes, shapes, data offsets) through the JSON mutations,
// the u64 header length overwritten, the file cut inside the header or the data, or the data resized.
import { interesting } from './values.mjs';
import { mutateJson } from './mutate-json.mjs';

const fromUtf8 = new TextDecoder();

export function mutateSafetensors(rng, bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = fromUtf8.decode(bytes.subarray(8, 8 + n));
  const data = bytes.subarray(8 + n);
  const op = rng.weighted([[60, 'header'], [15, 'length'], [15, 'cut'], [10, 'data']]);
  if (op === 'header') {
    const m = mutateJson(rng, header, { focus: /dtype|shape|data_offsets/ });
    return { bytes: withHeader(m.bytes, data), mutation: `header: ${m.mutation}` };
  }
  if (op === 'length') {
    const out = bytes.slice();
    const value = interesting(rng, 'u64', BigInt(n));
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    return { bytes: out, mutation: `header length = ${value}` };
  }
  if (op === 'cut') {
    const at = rng.pick([0, 4, 8, 9, 8 + (n >> 1), 8 + n - 1, 8 + n, 8 + n + rng.int(Math.max(1, data.length)), bytes.length - 1]);
    return { bytes: bytes.slice(0, at), mutation: `cut at ${at}` };
  }
  const size = rng.pick([0, data.length - 1, data.length + 8, data.length >> 1]);
  const d = new Uint8Array(Math.max(0, size));
  d.set(data.subarray(0, d.length));
  return { bytes: withHeader(bytes.subarray(8, 8 + n), d), mutation: `data ${data.length} -> ${d.length} bytes` };
}

function withHeader(json, data) {
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
