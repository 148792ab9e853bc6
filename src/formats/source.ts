// Sequential little-endian reader over any byte input (whole buffer, web stream, async iterable, or a local
// file read by position). Holds at most the current chunk plus a carry for a value that straddles two chunks;
// bulk data goes straight from the input's chunks into the caller's buffer, and a file's bytes are read
// straight into it (no intermediate copy). Inputs may reuse their chunk buffer: the reader copies out
// everything it still needs from a chunk before asking for the next one.
import { FormatError, AbortError, NotFoundError, PermissionError } from '../errors.js';

/**
 * A local file whose ranges can be read into any buffer (Node's positional reads): large reads go straight
 * into the destination, several at once.
 */
export interface RandomAccessInput {
  readonly size: number;
  /** Reads up to dst.length bytes at `position` into dst; resolves with the count (0 past the end). */
  read(dst: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export type ByteInput = Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | RandomAccessInput;

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8');
/** Chunks of a random-access input, and the pieces a large read is split into (read PARALLEL at a time). */
const CHUNK = 8 << 20;
const PIECE = 4 << 20;
const PARALLEL = 4;
/** Reads of at least this many bytes go straight into the destination. */
const DIRECT_MIN = 1 << 20;

type Pull = () => Promise<Uint8Array | null>;

interface Source {
  pull: Pull;
  close: () => Promise<void>;
  /** Random-access inputs: fill dst with the next dst.length bytes (fewer at the end: returns the count). */
  fill?: (dst: Uint8Array) => Promise<number>;
  /** Random-access inputs: move past n bytes without reading them. */
  advance?: (n: number) => void;
}

function isRandomAccess(input: ByteInput): input is RandomAccessInput {
  return typeof (input as RandomAccessInput).read === 'function' && typeof (input as RandomAccessInput).size === 'number';
}

/** A random-access input as a source: a cursor, chunks into one reused buffer, and direct parallel fills. */
function randomAccessSource(input: RandomAccessInput): Source {
  let cursor = 0;
  let chunk: Uint8Array | undefined;
  const readFully = async (dst: Uint8Array, at: number): Promise<number> => {
    let got = 0;
    while (got < dst.length) {
      const n = await input.read(dst.subarray(got), at + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  };
  return {
    pull: async () => {
      if (cursor >= input.size) return null;
      chunk ??= new Uint8Array(Math.min(CHUNK, input.size));
      const n = await input.read(chunk.subarray(0, Math.min(chunk.length, input.size - cursor)), cursor);
      if (n === 0) return null; // the file shrank: the reader reports the truncation
      cursor += n;
      return chunk.subarray(0, n);
    },
    fill: async (dst) => {
      const at = cursor;
      const counts: number[] = [];
      let next = 0;
      // up to PARALLEL pieces in flight: the copies (and first touches of fresh memory) run on several threads
      const worker = async () => {
        for (let i = next++; i * PIECE < dst.length; i = next++) counts[i] = await readFully(dst.subarray(i * PIECE, (i + 1) * PIECE), at + i * PIECE);
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, Math.ceil(dst.length / PIECE)) }, worker));
      // the bytes before the first short piece are contiguous (a short piece: the file ended inside it)
      let got = 0;
      for (let i = 0; i < counts.length; i++) {
        got += counts[i];
        if (counts[i] < Math.min(PIECE, dst.length - i * PIECE)) break;
      }
      cursor += got;
      return got;
    },
    advance: (n) => { cursor += n; },
    close: () => input.close(),
  };
}

function pullFrom(input: ByteInput): Source {
  if (input instanceof ArrayBuffer) input = new Uint8Array(input);
  if (input instanceof Uint8Array) {
    let given = false;
    const whole = input;
    return { pull: async () => (given ? null : ((given = true), whole)), close: async () => {} };
  }
  if (isRandomAccess(input)) return randomAccessSource(input);
  if (typeof (input as ReadableStream<Uint8Array>).getReader === 'function') {
    const r = (input as ReadableStream<Uint8Array>).getReader();
    return {
      pull: async () => { const { done, value } = await r.read(); return done ? null : value; },
      close: async () => { try { await r.cancel(); } catch { /* already closed */ } },
    };
  }
  const it = (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return {
    pull: async () => { const { done, value } = await it.next(); return done ? null : value; },
    close: async () => { await it.return?.(); },
  };
}

export class ByteReader {
  /** Absolute offset of the next unread byte. */
  position = 0;
  readonly name: string;
  readonly size: number | undefined;
  private buf: Uint8Array = EMPTY;
  private view: DataView = new DataView(EMPTY.buffer);
  private pos = 0;
  /** The unread tail of a chunk whose head went into a carry. */
  private rest: Uint8Array | null = null;
  private readonly src: Source;
  private ended = false;

  constructor(input: ByteInput, name: string, size?: number) {
    this.name = name;
    this.size = size;
    this.src = pullFrom(input);
  }

  /** Bytes readable synchronously right now. */
  get buffered(): number { return this.buf.length - this.pos; }

  /** Bytes left before the known end of the input (Infinity when the size is unknown). */
  get remaining(): number { return this.size === undefined ? Infinity : this.size - this.position; }

  private setBuf(b: Uint8Array): void {
    this.buf = b;
    this.pos = 0;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** The next chunk; only called once everything still needed from the current one was copied out. */
  private async next(what: string): Promise<Uint8Array> {
    if (this.rest) { const r = this.rest; this.rest = null; return r; }
    for (;;) {
      const c = this.ended ? null : await this.src.pull();
      if (c === null) {
        this.ended = true;
        throw new FormatError(`file is truncated: ends at byte ${this.position + this.buffered} while reading ${what}`, this.name, what);
      }
      if (c.length > 0) return c;
    }
  }

  /** Make `n` bytes readable synchronously (u8/u32/... /bytes). Throws FormatError when the input ends first. */
  async need(n: number, what = 'data'): Promise<void> {
    const have = this.buffered;
    if (have >= n) return;
    if (n > this.remaining) {
      throw new FormatError(`file is truncated: ${what} needs ${n} bytes at offset ${this.position} but only ${this.remaining} remain`, this.name, what);
    }
    // Gather pieces first so that a bogus length on a stream of unknown size fails at EOF, not in an allocation.
    const pieces: Uint8Array[] = have > 0 ? [this.buf.slice(this.pos)] : [];
    let got = have;
    this.setBuf(EMPTY);
    while (got < n) {
      let c: Uint8Array;
      try { c = await this.next(what); } catch (e) { this.setBuf(concat(pieces, got)); throw e; }
      if (got === 0 && c.length >= n) { this.setBuf(c); return; } // nothing carried: read the chunk in place
      const take = Math.min(c.length, n - got);
      pieces.push(c.slice(0, take));
      got += take;
      if (take < c.length) this.rest = c.subarray(take);
    }
    this.setBuf(concat(pieces, got));
  }

  private check(n: number): number {
    if (this.buffered < n) throw new RangeError(`ByteReader: ${n} bytes read without need()`);
    const p = this.pos;
    this.pos += n;
    this.position += n;
    return p;
  }

  u8(): number { return this.buf[this.check(1)]; }
  i8(): number { return this.view.getInt8(this.check(1)); }
  u16(): number { return this.view.getUint16(this.check(2), true); }
  i16(): number { return this.view.getInt16(this.check(2), true); }
  u32(): number { return this.view.getUint32(this.check(4), true); }
  i32(): number { return this.view.getInt32(this.check(4), true); }
  f32(): number { return this.view.getFloat32(this.check(4), true); }
  f64(): number { return this.view.getFloat64(this.check(8), true); }
  u64(): bigint { return this.view.getBigUint64(this.check(8), true); }
  i64(): bigint { return this.view.getBigInt64(this.check(8), true); }

  /** A u64 that must fit a JS number exactly; FormatError naming `what` otherwise. */
  u64Number(what: string): number {
    const p = this.check(8);
    const lo = this.view.getUint32(p, true);
    const hi = this.view.getUint32(p + 4, true);
    if (hi >= 0x200000) throw new FormatError(`${what} = ${(BigInt(hi) << 32n) | BigInt(lo)} is too large`, this.name, what);
    return hi * 0x100000000 + lo;
  }

  /** `n` buffered bytes as a view into the current chunk (valid until the next await). */
  bytes(n: number): Uint8Array { const p = this.check(n); return this.buf.subarray(p, p + n); }

  /** `n` buffered bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  string(n: number): string {
    const p = this.check(n);
    const b = this.buf;
    if (n <= 32) {
      // Short ASCII strings (most vocabulary entries) skip the decoder call.
      let ascii = '';
      for (let i = p; i < p + n; i++) {
        const c = b[i];
        if (c >= 0x80) return utf8.decode(b.subarray(p, p + n));
        ascii += String.fromCharCode(c);
      }
      return ascii;
    }
    return utf8.decode(b.subarray(p, p + n));
  }

  /** Copy exactly dst.length bytes into dst, streaming chunk by chunk (a file's bytes straight into dst). */
  async readInto(dst: Uint8Array, what = 'tensor data'): Promise<void> {
    if (dst.length > this.remaining) {
      throw new FormatError(`file is truncated: ${what} needs ${dst.length} bytes at offset ${this.position} but only ${this.remaining} remain`, this.name, what);
    }
    let done = Math.min(this.buffered, dst.length);
    dst.set(this.buf.subarray(this.pos, this.pos + done));
    this.pos += done;
    this.position += done;
    while (done < dst.length) {
      if (this.src.fill && !this.rest && dst.length - done >= DIRECT_MIN) {
        const got = await this.src.fill(dst.subarray(done));
        this.position += got;
        this.setBuf(EMPTY);
        if (got < dst.length - done) {
          this.ended = true;
          throw new FormatError(`file is truncated: ends at byte ${this.position} while reading ${what}`, this.name, what);
        }
        return;
      }
      const c = await this.next(what);
      const take = Math.min(c.length, dst.length - done);
      dst.set(take === c.length ? c : c.subarray(0, take), done);
      done += take;
      this.position += take;
      this.setBuf(c);
      this.pos = take;
    }
  }

  /** The next `n` bytes without consuming them (fewer when the input ends first). */
  async peek(n: number): Promise<Uint8Array> {
    try {
      await this.need(n, 'the first bytes');
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
    return this.buf.subarray(this.pos, this.pos + Math.min(n, this.buffered));
  }

  /** Everything left in the input, as one buffer; FormatError when it is more than `max` bytes. */
  async readToEnd(max: number, what: string): Promise<Uint8Array> {
    if (this.remaining !== Infinity) {
      if (this.remaining > max) throw new FormatError(`${what} is ${this.remaining} bytes, more than the ${max} read here`, this.name, what);
      const all = new Uint8Array(this.remaining);
      await this.readInto(all, what);
      return all;
    }
    const pieces: Uint8Array[] = [];
    let total = 0;
    for (let c: Uint8Array | null = this.buf.subarray(this.pos); c !== null; c = this.rest ?? (this.ended ? null : await this.src.pull())) {
      this.rest = null;
      total += c.length;
      if (total > max) throw new FormatError(`${what} is more than the ${max} bytes read here`, this.name, what);
      pieces.push(c.slice());
      this.position += c.length;
      this.setBuf(EMPTY);
    }
    this.ended = true;
    return concat(pieces, total);
  }

  /** Advance `n` bytes without keeping them. */
  async skip(n: number, what = 'padding'): Promise<void> {
    if (n > this.remaining) {
      throw new FormatError(`file is truncated: skipping ${n} bytes of ${what} at offset ${this.position} but only ${this.remaining} remain`, this.name, what);
    }
    let left = n;
    const first = Math.min(this.buffered, left);
    this.pos += first;
    this.position += first;
    left -= first;
    if (left > 0 && this.src.advance && !this.rest) {
      this.src.advance(left);
      this.position += left;
      this.setBuf(EMPTY);
      return;
    }
    while (left > 0) {
      const c = await this.next(what);
      const take = Math.min(c.length, left);
      this.position += take;
      left -= take;
      this.setBuf(c);
      this.pos = take;
    }
  }

  /** Release the input (closes a file or cancels a stream). */
  async close(): Promise<void> {
    this.setBuf(EMPTY);
    this.rest = null;
    this.ended = true;
    await this.src.close();
  }
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  if (pieces.length === 0) return EMPTY;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of pieces) { out.set(p, o); o += p.length; }
  return out;
}

/** A streaming source for an http(s) URL: the response body and its size from Content-Length (when not compressed). */
export async function sourceFromUrl(url: string, signal?: AbortSignal): Promise<{ input: ReadableStream<Uint8Array>; size: number | undefined }> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw new AbortError();
    throw new FormatError(`could not fetch: ${(e as Error).message}`, url, 'url');
  }
  return sourceFromResponse(res, url);
}

/** A streaming source for a fetched Response (a URL, or a Workers static asset): its body and Content-Length. */
export function sourceFromResponse(res: Response, url: string): { input: ReadableStream<Uint8Array>; size: number | undefined } {
  const status = `HTTP ${res.status} ${res.statusText}`.trim();
  if (res.status === 404 || res.status === 410) throw new NotFoundError(status, url);
  if (res.status === 401 || res.status === 403) throw new PermissionError(status, url);
  if (!res.ok || !res.body) throw new FormatError(status, url, 'http status');
  const encoding = res.headers.get('content-encoding');
  const len = res.headers.get('content-length');
  const size = len !== null && (!encoding || encoding === 'identity') && /^\d+$/.test(len) ? Number(len) : undefined;
  return { input: res.body, size };
}
