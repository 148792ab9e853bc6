// (kernels to come)
export const __placeholder_norms: i32 = 0;
