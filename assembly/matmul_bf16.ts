// (kernels to come)
export const __placeholder_matmul_bf16: i32 = 0;
