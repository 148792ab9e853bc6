// (kernels to come)
export const __placeholder_dequant: i32 = 0;
