// One linear memory shared by every kernel, and a bump allocator over it.
// Kernels take raw byte offsets into this memory; the host owns all allocation.
import { instantiate } from '@assemblyscript/loader';
import type { KernelExports } from './exports.js';
import { OutOfMemoryError } from '../errors.js';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 ceiling
const ALIGN = 64;

export interface RuntimeOptions {
  /** Upper bound on linear memory in bytes (default 4 GiB). */
  memoryLimit?: number;
}

export class Runtime {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  readonly memoryLimit: number;
  private top: number;
  private buf: ArrayBuffer;
  private u8view: Uint8Array;
  private f32view: Float32Array;
  private i32view: Int32Array;

  constructor(memory: WebAssembly.Memory, exports: KernelExports, memoryLimit: number) {
    this.memory = memory;
    this.k = exports;
    this.memoryLimit = memoryLimit;
    this.top = alignUp(exports.heap_base(), ALIGN);
    this.buf = memory.buffer;
    this.u8view = new Uint8Array(this.buf);
    this.f32view = new Float32Array(this.buf);
    this.i32view = new Int32Array(this.buf);
  }

  /** Bytes currently handed out (including the module's static data). */
  get used(): number { return this.top; }

  /** Allocate `bytes` (aligned to 64), growing memory as needed. Returns a byte offset. */
  alloc(bytes: number, align = ALIGN): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`alloc: invalid size ${bytes}`);
    const ptr = alignUp(this.top, align);
    const end = ptr + bytes;
    if (end > this.memoryLimit) {
      throw new OutOfMemoryError(`out of Wasm memory: need ${end} bytes, limit is ${this.memoryLimit}`, end, this.memoryLimit);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return ptr;
  }

  /** Current allocation mark, for releasing scratch with `release`. */
  mark(): number { return this.top; }
  release(mark: number): void { this.top = mark; }

  private refresh(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.u8view = new Uint8Array(this.buf);
      this.f32view = new Float32Array(this.buf);
      this.i32view = new Int32Array(this.buf);
    }
  }
  get u8(): Uint8Array { this.refresh(); return this.u8view; }
  get f32(): Float32Array { this.refresh(); return this.f32view; }
  get i32(): Int32Array { this.refresh(); return this.i32view; }

  /** A Float32Array view of `n` floats at byte offset `ptr` (invalid after memory grows). */
  f32At(ptr: number, n: number): Float32Array { this.refresh(); return new Float32Array(this.buf, ptr, n); }
  u8At(ptr: number, n: number): Uint8Array { this.refresh(); return new Uint8Array(this.buf, ptr, n); }
  i32At(ptr: number, n: number): Int32Array { this.refresh(); return new Int32Array(this.buf, ptr, n); }
}

export function alignUp(x: number, a: number): number { return Math.ceil(x / a) * a; }

/** Instantiate the kernel module on a fresh memory. `source` is the compiled module or its bytes. */
export async function createRuntime(source: WebAssembly.Module | Uint8Array, options: RuntimeOptions = {}): Promise<Runtime> {
  const memoryLimit = Math.min(options.memoryLimit ?? MAX_PAGES * PAGE, MAX_PAGES * PAGE);
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
  const imports = {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`kernel abort at ${line}:${col}`);
      },
    },
  };
  const mod = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source as BufferSource);
  const { exports } = await instantiate<Record<string, unknown>>(mod, imports);
  return new Runtime(memory, exports as unknown as KernelExports, memoryLimit);
}
