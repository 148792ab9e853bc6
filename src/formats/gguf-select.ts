// The part of a GGUF data section a load keeps: the tensors the model binds. Consecutive kept tensors form a
// run, copied as it lies in the file (padding included) to its own aligned place in one buffer; the bytes of
// tensors nobody binds are skipped, never stored. When every tensor is kept, the one run is the data section
// as it is in the file.
import type { DataRun, GGUFHeader, GGUFTensorInfo } from './gguf.js';

export interface TensorSelection {
  /** In file order. */
  readonly runs: readonly DataRun[];
  /** Size of the buffer the runs fill. */
  readonly bytes: number;
  /** Offset in that buffer of each kept tensor, by name. */
  readonly offsets: ReadonlyMap<string, number>;
  /** The tensors left out, in file order. */
  readonly ignored: readonly GGUFTensorInfo[];
}

/** The runs of the tensors `keep` accepts, each starting at a multiple of `align` in the buffer. */
export function selectTensors(header: Pick<GGUFHeader, 'tensors'>, keep: (name: string) => boolean, align: number): TensorSelection {
  const runs: DataRun[] = [];
  const offsets = new Map<string, number>();
  const ignored: GGUFTensorInfo[] = [];
  let run: { start: number; end: number; dest: number } | undefined;
  let bytes = 0;
  for (const t of [...header.tensors].sort((a, b) => a.offset - b.offset)) {
    if (!keep(t.name)) {
      ignored.push(t);
      run = undefined;
      continue;
    }
    if (!run) {
      run = { start: t.offset, end: t.offset, dest: Math.ceil(bytes / align) * align };
      runs.push(run);
    }
    run.end = t.offset + t.byteSize;
    offsets.set(t.name, run.dest + t.offset - run.start);
    bytes = run.dest + run.end - run.start;
  }
  return { runs, bytes, offsets, ignored };
}
