// Node: files written atomically (temp file + rename, so a failed write never leaves a half-written file
// behind), and a GGUF written that way.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { writeGGUF, type GGUFWriteSpec } from './gguf-writer.js';

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
