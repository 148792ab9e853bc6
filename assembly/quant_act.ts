// (kernels to come)
export const __placeholder_quant_act: i32 = 0;
