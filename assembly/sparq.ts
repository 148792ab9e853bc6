// (kernels to come)
export const __placeholder_sparq: i32 = 0;
