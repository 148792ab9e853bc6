// (kernels to come)
export const __placeholder_activations: i32 = 0;
