// Public API of sparq-wasm.
export * from './errors.js';
