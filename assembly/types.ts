// Tensor type ids: the one numbering every kernel takes and the module exports.
//
// The ids of the GGML types are GGML's own (the ggml_type values stored in GGUF files), so a tensor's type
// passes from a file to the kernels unchanged. The KV cache's two quantised row types are not GGML types:
// their ids start at 256, past every GGML id.

export const F32: i32 = 0;
export const F16: i32 = 1;
export const Q4_0: i32 = 2;
export const Q4_1: i32 = 3;
export const Q5_0: i32 = 6;
export const Q5_1: i32 = 7;
export const Q8_0: i32 = 8;
export const Q2_K: i32 = 10;
export const Q3_K: i32 = 11;
export const Q4_K: i32 = 12;
export const Q5_K: i32 = 13;
export const Q6_K: i32 = 14;
export const BF16: i32 = 30;

/** Not a GGML type: a KV cache row of QB-value blocks of i8 codes with one f32 scale each (kv_layout.ts). */
export const KV_Q8: i32 = 256;
/** Not a GGML type: a KV cache row of QB-value blocks of 4-bit codes with one f32 scale each (kv_layout.ts). */
export const KV_Q4: i32 = 257;
