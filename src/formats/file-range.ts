// Node: one byte range of a file read straight into the caller's buffer (safetensors tensors, GGUF pieces).
import { open } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import { fileAccessError } from './file-errors.js';

/** Read exactly dst.length bytes at `offset` of `path` straight into dst (no intermediate buffer). */
export async function readFileRange(path: string, offset: number, dst: Uint8Array): Promise<void> {
  const fh = await open(path, 'r').catch((e: unknown) => { throw fileAccessError(e, path); });
  try {
    for (let done = 0; done < dst.length;) {
      const n = Math.min(dst.length - done, 1 << 30);
      const { bytesRead } = await fh.read(dst, done, n, offset + done);
      if (bytesRead === 0) {
        throw new FormatError(`file is truncated: ${dst.length} bytes wanted at offset ${offset}, got ${done}`, path);
      }
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
