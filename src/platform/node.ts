// Node-only file access for loading: files as random-access inputs, and directory checks.
import { open, stat } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import type { RandomAccessInput } from '../formats/source.js';
import { fileAccessError } from '../formats/file-errors.js';

/**
 * A file (or its bytes [start, start + length)) as a random-access input: ByteReader reads its chunks and
 * fills large buffers (tensor data in Wasm memory) with positional reads straight into them.
 */
export async function openFileInput(path: string, start = 0, length?: number): Promise<{ input: RandomAccessInput; size: number }> {
  let info;
  try { info = await stat(path); } catch (e) { throw fileAccessError(e, path); }
  if (!info.isFile()) throw new FormatError('not a regular file', path);
  const end = length === undefined ? info.size : Math.min(info.size, start + length);
  const size = Math.max(0, end - start);
  const fh = await open(path, 'r').catch((e: unknown) => { throw fileAccessError(e, path); });
  let closed = false;
  const input: RandomAccessInput = {
    size,
    async read(dst, position) {
      const n = Math.min(dst.length, size - position);
      if (n <= 0) return 0;
      return (await fh.read(dst, 0, n, start + position)).bytesRead;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
  return { input, size };
}

export async function isDirectory(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}
