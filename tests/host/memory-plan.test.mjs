// The memory plan and the allocations are one declaration: after a load, the runtime's allocation log is the
// plan's buffer list, name by name and byte by byte, and the memory in use is what the plan adds up to. So
// `contextLength: 'auto'` picks the longest context that fits `memoryLimit`, one more position does not fit,
// and `sparq info` estimates what a load uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel, OutOfMemoryError } from '../../dist/index.js';
import { decoderOf } from '../../dist/engine/model.js';

const DEFAULT = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
const GQA = fileURLToPath(new URL('../fixtures/llama-gqa', import.meta.url));

/** The loaded model's runtime (internal: the test reads its allocation log). */
const runtimeOf = (model) => decoderOf(model).rt;

function assertPlanIsAllocations(model, label) {
  const rt = runtimeOf(model);
  const allocated = rt.allocations.map((a) => ({ name: a.name, bytes: a.bytes }));
  assert.deepEqual(allocated, model.info.memoryPlan, `${label}: allocations differ from the plan`);
  assert.equal(model.info.memoryBytes, rt.used, `${label}: memory in use`);
  const end = rt.allocations.at(-1);
  assert.equal(end.ptr + end.bytes, rt.used, `${label}: the last buffer ends the used memory`);
}

const CASES = [
  ['GGUF, dense f32 cache', DEFAULT, { threads: 1, contextLength: 512 }],
  ['GGUF, SparQ layout, 2 threads, reallocation, 4-bit K^T', DEFAULT,
    { threads: 2, contextLength: 9000, attention: { kind: 'sparq', ratio: 1 / 8 }, reallocation: true, kTType: 'q4', vType: 'q4' }],
  ['GGUF, q8 cache with the SparQ layout kept for later', DEFAULT, { threads: 1, contextLength: 300, kType: 'q8', vType: 'q8', sparqLayout: true }],
  ['HF directory (one buffer per tensor)', GQA, { threads: 1, contextLength: 64 }],
];

for (const [label, src, opts] of CASES) {
  test(`plan equals allocations: ${label}`, async () => {
    const model = await loadModel(src, opts);
    try {
      assertPlanIsAllocations(model, label);
      for (const owner of ['weights.', 'kv0.', 'attention.', 'decoder.']) {
        assert.ok(model.info.memoryPlan.some((b) => b.name.startsWith(owner)), `${label}: no ${owner} buffer`);
      }
      assert.equal(model.info.memoryPlan.some((b) => b.name.startsWith('sparq.')), Boolean(opts.attention || opts.sparqLayout));
    } finally {
      model.dispose();
    }
  });
}

test("contextLength 'auto' fills memoryLimit: the chosen context fits, one more position does not", async () => {
  const base = { threads: 1, attention: { kind: 'sparq', ratio: 1 / 8 } };
  const probe = await loadModel(DEFAULT, { ...base, contextLength: 1 });
  const oneAt = probe.info.memoryBytes;
  probe.dispose();
  const memoryLimit = oneAt + (3 << 20); // room for about 2K positions of this model's SparQ cache
  const model = await loadModel(DEFAULT, { ...base, contextLength: 'auto', memoryLimit });
  const ctx = model.info.contextLength;
  try {
    assertPlanIsAllocations(model, 'auto');
    assert.ok(model.info.memoryBytes <= memoryLimit, `${model.info.memoryBytes} > ${memoryLimit}`);
    assert.ok(ctx > 1 && ctx < model.info.config.trainedContext, `context ${ctx}`);
  } finally {
    model.dispose();
  }
  await assert.rejects(loadModel(DEFAULT, { ...base, contextLength: ctx + 1, memoryLimit }), OutOfMemoryError);
  await assert.rejects(loadModel(DEFAULT, { ...base, contextLength: 'auto', memoryLimit: oneAt - 1 }), OutOfMemoryError);
});
