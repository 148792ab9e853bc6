// (kernels to come)
export const __placeholder_topk: i32 = 0;
