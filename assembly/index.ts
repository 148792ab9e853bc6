// The kernel module: every family re-exported from its own file.
export function heap_base(): usize { return __heap_base; }

export * from './bandwidth';
export * from './quant_act';
export * from './matmul_f32';
export * from './matmul_f16';
export * from './matmul_bf16';
export * from './matmul_q8_0';
export * from './quant_act_wide';
export * from './matmul_legacy';
export * from './matmul_kquant';
export * from './dequant_quants';
export * from './dequant';
export * from './norms';
export * from './rope';
export * from './activations';
export * from './kv_cache';
export * from './attention';
export * from './sparq';
export * from './topk';
