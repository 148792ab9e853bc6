// The generated host view of the kernels (src/kernels/abi.ts) against the module it was generated from and
// against the GGUF format's own tables: one numbering of tensor types, the same block sizes, and a parameter
// list for every exported kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as abi from '../../dist/kernels/abi.js';
import { GGMLType, ggmlTypeInfo } from '../../dist/formats/ggml-types.js';
import { WEIGHT_KERNELS } from '../../dist/kernels/weight-kernels.js';

const wasm = new WebAssembly.Module(readFileSync(new URL('../../dist/sparq.wasm', import.meta.url)));

test('every function the module exports has its parameter list, of the right length', () => {
  const instance = new WebAssembly.Instance(wasm, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 65536 }), abort() {} } });
  const fns = WebAssembly.Module.exports(wasm).filter((e) => e.kind === 'function').map((e) => e.name);
  assert.deepEqual(Object.keys(abi.KERNEL_PARAMS).sort(), fns.sort());
  for (const name of fns) assert.equal(abi.KERNEL_PARAMS[name].length, instance.exports[name].length, name);
});

test('the kernels number tensor types as GGML does, with the GGUF block sizes', () => {
  for (const [name, id] of Object.entries(GGMLType)) {
    if (!(name in abi)) continue;
    assert.equal(abi[name], id, name);
    const values = abi[`${name}_BLOCK_VALUES`], bytes = abi[`${name}_BLOCK_BYTES`];
    if (values !== undefined) assert.deepEqual([values, bytes], [ggmlTypeInfo(id).blockSize, ggmlTypeInfo(id).bytesPerBlock], name);
  }
  assert.ok(abi.KV_Q8 > 255 && abi.KV_Q4 > 255, 'the cache row types lie outside GGML ids');
  for (const [type, k] of WEIGHT_KERNELS) {
    const info = ggmlTypeInfo(type);
    assert.equal(k.rowBytes(4096), (4096 / info.blockSize) * info.bytesPerBlock, info.name);
    for (const kernel of [k.matvec, k.matmul, k.dequantRow, k.input.quantize]) if (kernel) assert.ok(kernel in abi.KERNEL_PARAMS, kernel);
  }
});
