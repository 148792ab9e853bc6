// (kernels to come)
export const __placeholder_attention: i32 = 0;
