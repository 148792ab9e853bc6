// Node-only file access for loading: large-chunk streaming file input and directory checks.
import { open, stat } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import { fileAccessError } from '../formats/file-errors.js';

const CHUNK = 8 << 20;

/**
 * A file as an async iterable of chunks read into one reused 8 MiB buffer: each chunk is valid until the
 * next one is requested (ByteReader copies out what it keeps before asking for more).
 */
export async function openFileInput(path: string, start = 0, length?: number): Promise<{ input: AsyncIterable<Uint8Array>; size: number }> {
  let info;
  try { info = await stat(path); } catch (e) { throw fileAccessError(e, path); }
  if (!info.isFile()) throw new FormatError('not a regular file', path);
  const end = length === undefined ? info.size : Math.min(info.size, start + length);
  const size = Math.max(0, end - start);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const fh = await open(path, 'r').catch((e: unknown) => { throw fileAccessError(e, path); });
    try {
      const buf = new Uint8Array(Math.min(CHUNK, Math.max(size, 1)));
      for (let pos = start; pos < end;) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) return; // the file shrank: the reader reports the truncation
        pos += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
  return { input: chunks(), size };
}

export async function isDirectory(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}
