// Typed errors: every failure a user can cause maps to one of these classes.

export class SparqError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A model or tokenizer file is malformed: names the file, the field and what was expected. */
export class FormatError extends SparqError {
  constructor(message: string, readonly file?: string, readonly field?: string) {
    super(file ? `${file}: ${message}` : message);
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
