// (kernels to come)
export const __placeholder_matmul_f16: i32 = 0;
