// (kernels to come)
export const __placeholder_matmul_q8_0: i32 = 0;
