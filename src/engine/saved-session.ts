// A chat session as bytes, portable between runtimes (a conversation saved in Node can go on in Deno, a
// Worker or a page):
//   "SPQS"  magic, 4 bytes
//   u32     format version (little-endian)
//   u32     header length H
//   H bytes header, UTF-8 JSON: the model's fingerprint, the KV cache layout, the cached length L, the
//           token ids the rows belong to, the conversation and the session's options
//   ...     the KV rows of positions [0, L) (KVCache.exportPrefix)
//   u32     FNV-1a checksum of every byte before it
// Anything that does not match (another model or cache layout, a version this build does not read, a
// truncated or changed blob) is a typed error, and nothing in the model changes.
import { FormatError, UnsupportedError } from '../errors.js';
import type { ChatMessage } from './chat.js';
import type { SessionOptions } from './session.js';

const MAGIC = 0x53515053; // "SPQS" read as a little-endian u32
export const SESSION_FORMAT_VERSION = 1;
const WHERE = 'saved session';

export interface SavedSession {
  fingerprint: string;
  /** KVCache.layoutKey of the cache the rows came from. */
  layout: string;
  /** Positions whose rows follow the header. */
  length: number;
  /** The token ids of the conversation's last prompt and reply (the rows hold a prefix of them). */
  ids: number[];
  messages: ChatMessage[];
  options: SessionOptions;
}

/** FNV-1a over `bytes`, 32 bits. */
export function fnv1a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

export function encodeSession(s: SavedSession, rows: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify(s));
  const out = new Uint8Array(12 + header.length + rows.length + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, SESSION_FORMAT_VERSION, true);
  v.setUint32(8, header.length, true);
  out.set(header, 12);
  out.set(rows, 12 + header.length);
  v.setUint32(out.length - 4, fnv1a(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The header and the rows of a saved session, checked for shape and integrity (not yet against a model). */
export function decodeSession(bytes: Uint8Array): { session: SavedSession; rows: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new FormatError('expected the bytes of a saved session (a Uint8Array)', WHERE);
  if (bytes.length < 16) throw new FormatError(`${bytes.length} bytes is too short for a saved session`, WHERE, 'length');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) throw new FormatError('not a saved session (no SPQS magic)', WHERE, 'magic');
  const version = v.getUint32(4, true);
  if (version !== SESSION_FORMAT_VERSION) {
    throw new UnsupportedError(`saved session format version ${version}; this build reads version ${SESSION_FORMAT_VERSION}`, WHERE);
  }
  if (v.getUint32(bytes.length - 4, true) !== fnv1a(bytes.subarray(0, bytes.length - 4))) {
    throw new FormatError('the checksum does not match: the saved session was truncated or changed', WHERE, 'checksum');
  }
  const h = v.getUint32(8, true);
  if (12 + h > bytes.length - 4) throw new FormatError(`header length ${h} runs past the end`, WHERE, 'header');
  let session: SavedSession;
  try {
    session = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + h)));
  } catch (e) {
    throw new FormatError(`the header is not valid JSON: ${(e as Error).message}`, WHERE, 'header');
  }
  const ok = typeof session === 'object' && session !== null && typeof session.fingerprint === 'string' && typeof session.layout === 'string'
    && Number.isSafeInteger(session.length) && session.length >= 0 && Array.isArray(session.ids) && session.ids.every(Number.isSafeInteger)
    && session.length <= session.ids.length && Array.isArray(session.messages) && typeof session.options === 'object' && session.options !== null;
  if (!ok) throw new FormatError('the header lacks a field or has one of the wrong type', WHERE, 'header');
  return { session, rows: bytes.subarray(12 + h, bytes.length - 4) };
}
