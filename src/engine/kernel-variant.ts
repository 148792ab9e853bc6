// Which build of the kernel module a load runs: the relaxed-SIMD one where this runtime validates the
// relaxed dot-product instruction, this build ships the module and its startup self-check
// (assembly/relaxed_check.ts: the instruction against a scalar sum, the relaxed kernels against the
// portable ones' bits) passes; the portable one elsewhere. Both give the same bits, so the choice changes
// speed only. Decided once per process, before any model is loaded.
import { host } from '../platform/host.js';
import type { KernelVariant } from '../platform/host-api.js';
import { sizingKernels } from '../kernels/instantiate.js';

/**
 * The smallest module using i32x4.relaxed_dot_i8x16_i7x16_add_s: one function () -> v128 that applies it to
 * three zero constants. WebAssembly.validate accepts it only where relaxed SIMD is enabled, so a runtime
 * without it never downloads or compiles the relaxed build.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: (func (result v128))
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]), // v128.const 0, three times
  0xfd, 0x93, 0x02, // i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113)
  0x0b, // end
]);

let decided: Promise<KernelVariant> | undefined;

/** 'relaxed' where the relaxed build runs correctly here, else 'portable'. */
export function kernelVariant(): Promise<KernelVariant> {
  decided ??= relaxedPasses().then((ok) => (ok ? 'relaxed' : 'portable'));
  return decided;
}

async function relaxedPasses(): Promise<boolean> {
  if (!WebAssembly.validate(RELAXED_PROBE)) return false;
  try {
    const kernels = await sizingKernels(await host.kernelModule('relaxed')); // a throwaway instance; the check uses its static buffer
    return kernels.relaxed_selfcheck() === 1;
  } catch {
    return false; // not shipped here, or not compilable: the portable build
  }
}
