// Any model or tokenizer source opened for reading: a byte stream with its name and size (when known), or,
// for a local directory, the Hugging Face directory it holds.
import { sourceFromUrl, sourceFromResponse, type ByteInput } from '../formats/source.js';
import type { HFDir } from '../formats/hf-dir.js';
import { host } from '../platform/host.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A path (Node, Deno; a page-relative URL in browsers), an http(s) URL, bytes, a Blob, a fetched Response
 * (a Workers static asset), a ReadableStream, or a stream with its size (an R2 object: `{ body, size }`).
 * Streams are read chunk by chunk straight into Wasm memory, so the weights are never held twice.
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Blob | Response | ReadableStream<Uint8Array>
  | { body: ReadableStream<Uint8Array>; size?: number };

export type OpenedSource =
  | { kind: 'bytes'; input: ByteInput; name: string; size: number | undefined }
  | { kind: 'hf-dir'; hf: HFDir; name: string };

export async function openSource(source: ModelSource, signal: AbortSignal | undefined, caller: string): Promise<OpenedSource> {
  signal?.throwIfAborted?.();
  if (typeof source === 'string' && !/^https?:\/\//.test(source)) {
    const opened = await host.openPath(source, signal);
    if (opened.kind === 'hf-dir') return { kind: 'hf-dir', hf: opened.hf, name: source };
    return { kind: 'bytes', input: opened.input, name: source, size: opened.size };
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = String(source);
    const { input, size } = await sourceFromUrl(url, signal);
    return { kind: 'bytes', input, name: url, size };
  }
  if (source instanceof ArrayBuffer) return { kind: 'bytes', input: new Uint8Array(source), name: 'buffer', size: source.byteLength };
  if (source instanceof Uint8Array) return { kind: 'bytes', input: source, name: 'buffer', size: source.byteLength };
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const name = source.url || 'response';
    const { input, size } = sourceFromResponse(source, name);
    return { kind: 'bytes', input, name, size };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { kind: 'bytes', input: source.stream(), name: (source as { name?: string }).name ?? 'blob', size: source.size };
  }
  if (typeof (source as ReadableStream).getReader === 'function') return { kind: 'bytes', input: source as ReadableStream<Uint8Array>, name: 'stream', size: undefined };
  const sized = source as { body?: ReadableStream<Uint8Array>; size?: number; key?: string };
  if (sized.body && typeof sized.body.getReader === 'function') {
    const size = typeof sized.size === 'number' ? sized.size : undefined;
    return { kind: 'bytes', input: sized.body, name: sized.key ?? 'stream', size };
  }
  throw new InvalidArgumentError(`${caller}: source must be a path, URL, ArrayBuffer, Uint8Array, Blob, Response, ReadableStream or { body, size }`);
}
