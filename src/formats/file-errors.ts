// A failure to open or read a path as a typed error. Node reports it by `code` (ENOENT, EACCES, ...), Deno by
// the class name of its error (NotFound, PermissionDenied, NotCapable for a permission not granted).
import { FormatError, NotFoundError, PermissionError, SparqError } from '../errors.js';

export function fileAccessError(e: unknown, path: string): SparqError {
  if (e instanceof SparqError) return e;
  const code = (e as { code?: unknown })?.code;
  const name = (e as Error)?.name;
  const message = (e as Error)?.message ?? String(e);
  if (code === 'ENOENT' || code === 'ENOTDIR' || name === 'NotFound') return new NotFoundError('no such file or directory', path);
  if (code === 'EACCES' || code === 'EPERM' || name === 'PermissionDenied' || name === 'NotCapable') {
    return new PermissionError(`permission denied (${message})`, path);
  }
  if (code === 'EISDIR' || name === 'IsADirectory') return new FormatError('is a directory, expected a file', path);
  return new FormatError(`cannot read: ${message}`, path);
}
