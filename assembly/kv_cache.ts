// (kernels to come)
export const __placeholder_kv_cache: i32 = 0;
