// Node-only file access for the format readers: large-chunk streaming file input, directory checks and
// atomic file output (temp file + rename, so a failed write never leaves a half-written file behind).
import { open, stat, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeGGUF, type GGUFWriteSpec } from '../formats/gguf-writer.js';

const CHUNK = 8 << 20;

/**
 * A file as an async iterable of chunks read into one reused 8 MiB buffer: each chunk is valid until the
 * next one is requested (ByteReader copies out what it keeps before asking for more).
 */
export async function openFileInput(path: string, start = 0, length?: number): Promise<{ input: AsyncIterable<Uint8Array>; size: number }> {
  let info;
  try { info = await stat(path); } catch (e) { throw new FormatError(`cannot open: ${(e as Error).message}`, path); }
  if (!info.isFile()) throw new FormatError('not a regular file', path);
  const end = length === undefined ? info.size : Math.min(info.size, start + length);
  const size = Math.max(0, end - start);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const fh = await open(path, 'r');
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

/** Read exactly dst.length bytes at `offset` of `path` straight into dst (no intermediate buffer). */
export async function readFileRange(path: string, offset: number, dst: Uint8Array): Promise<void> {
  const fh = await open(path, 'r');
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

export async function isDirectory(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}

/**
 * Write `path` atomically: bytes go to a temp file next to it, which is renamed over `path` only after
 * `produce` finished and the data was flushed; on any failure the temp file is removed.
 */
export async function writeFileAtomic(path: string, produce: (out: { write(chunk: Uint8Array): Promise<void> }) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w');
  let ok = false;
  try {
    await produce({
      async write(chunk) {
        for (let done = 0; done < chunk.length;) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      },
    });
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => {});
  }
  await rename(tmp, path);
}

/** writeGGUF into a file, atomically. */
export async function writeGGUFFile(path: string, spec: GGUFWriteSpec): Promise<void> {
  await writeFileAtomic(path, (out) => writeGGUF(out, spec));
}
