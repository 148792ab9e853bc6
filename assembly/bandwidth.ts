// (kernels to come)
export const __placeholder_bandwidth: i32 = 0;
