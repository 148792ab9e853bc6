// (kernels to come)
export const __placeholder_matmul_f32: i32 = 0;
