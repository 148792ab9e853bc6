// (kernels to come)
export const __placeholder_rope: i32 = 0;
