// One declaration per buffer: the memory plan (for `contextLength: 'auto'` and `memoryLimit`) adds up the
// same declarations that the owners of the buffers hand to Runtime.allocate, so the plan cannot miss one.
// A group is an owner's buffers by name, in allocation order; a buffer of 0 bytes is not allocated (its
// pointer is 0, which the kernels read as "absent").

/** Alignment of every allocation (a cache line). */
export const ALIGN = 64;

/** An owner's buffers: name -> bytes, in allocation order. */
export type Buffers<K extends string = string> = Readonly<Record<K, number>>;

export interface BufferGroup {
  /** Who allocates it ('kv', 'attention', ...); allocations are logged as `owner.name`. */
  readonly owner: string;
  readonly buffers: Buffers;
  /** Alignment of the group's buffers (default ALIGN). */
  readonly align?: number;
}

export function alignUp(x: number, a: number): number { return Math.ceil(x / a) * a; }

/** Bytes the groups take when allocated in order from an offset aligned to ALIGN, padding included. */
export function planBytes(groups: readonly BufferGroup[], start = 0): number {
  let top = start;
  for (const g of groups) {
    for (const bytes of Object.values(g.buffers)) if (bytes > 0) top = alignUp(top, g.align ?? ALIGN) + bytes;
  }
  return top - start;
}

/** Every buffer of the groups as `owner.name` -> bytes (0-byte buffers left out), in allocation order. */
export function planList(groups: readonly BufferGroup[]): [string, number][] {
  return groups.flatMap((g) => Object.entries(g.buffers).filter(([, b]) => b > 0).map(([n, b]): [string, number] => [`${g.owner}.${n}`, b]));
}
