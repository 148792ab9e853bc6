// Typed errors: every failure a user can cause maps to one of these classes.

export class SparqError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A model or tokenizer file is malformed: names the file, the field and what was expected. The message reads
 * `file: field: what` (the field left out where the text already names it).
 */
export class FormatError extends SparqError {
  constructor(message: string, readonly file?: string, readonly field?: string) {
    const named = field !== undefined && !message.includes(field) ? `${field}: ${message}` : message;
    super(file ? `${file}: ${named}` : named);
  }
}

/** A path, file or URL the caller named does not exist (a missing file, an HTTP 404). */
export class NotFoundError extends SparqError {
  constructor(message: string, readonly path: string) {
    super(`${path}: ${message}`);
  }
}

/** A path, file or URL exists but may not be read (file permissions, a denied Deno permission, an HTTP 401/403). */
export class PermissionError extends SparqError {
  constructor(message: string, readonly path: string) {
    super(`${path}: ${message}`);
  }
}

/** The file is valid but uses something this runtime does not implement (a tensor type, an architecture). */
export class UnsupportedError extends SparqError {
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
  }
}

/** The model, KV cache and scratch do not fit the memory budget. */
export class OutOfMemoryError extends SparqError {
  constructor(message: string, readonly requiredBytes: number, readonly limitBytes: number) {
    super(message);
  }
}

/** An operation was cancelled through an AbortSignal. */
export class AbortError extends SparqError {
  constructor(message = 'the operation was aborted') { super(message); }
}

/** Bad arguments passed to the API (a negative max token count, an unknown option value). */
export class InvalidArgumentError extends SparqError {}
