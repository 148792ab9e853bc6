// The kernel module: every family re-exported from its own file, with the type ids (types.ts) and the block
// sizes the host needs (blocks_*.ts, kv_layout.ts) as exported constants.
export function heap_base(): usize { return __heap_base; }

export * from './types';
export {
  Q4_0_BLOCK_BYTES, Q4_1_BLOCK_BYTES, Q5_0_BLOCK_BYTES, Q5_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES,
  Q4_0_BLOCK_VALUES, Q4_1_BLOCK_VALUES, Q5_0_BLOCK_VALUES, Q5_1_BLOCK_VALUES, Q8_0_BLOCK_VALUES,
} from './blocks_legacy';
export {
  Q2_K_BLOCK_BYTES, Q3_K_BLOCK_BYTES, Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES,
  Q2_K_BLOCK_VALUES, Q3_K_BLOCK_VALUES, Q4_K_BLOCK_VALUES, Q5_K_BLOCK_VALUES, Q6_K_BLOCK_VALUES,
} from './blocks_kquant';
export {
  Q8A_BLOCK_BYTES, Q8W_BLOCK_BYTES, Q8KW_BLOCK_BYTES, Q8P_BLOCK_BYTES, Q8X_BLOCK_BYTES, Q8XK_BLOCK_BYTES,
  Q8A_BLOCK_VALUES, Q8W_BLOCK_VALUES, Q8KW_BLOCK_VALUES, Q8P_BLOCK_VALUES, Q8X_BLOCK_VALUES, Q8XK_BLOCK_VALUES,
} from './blocks_act';
export {
  X4_ROWS, Q4_0X4_BLOCK_BYTES, Q8_0X4_BLOCK_BYTES, Q4_KX4_BLOCK_BYTES, Q5_KX4_BLOCK_BYTES, Q6_KX4_BLOCK_BYTES,
} from './blocks_x4';

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
export { KT_TILE, KT_GROUP, kv_qblock, kv_row_bytes, kv_tile_code_bytes, kv_t_tiles, kv_t_head_bytes, kv_tile_scale_at, kv_tile_codes_at } from './kv_layout';
export * from './kv_cache';
export * from './attention';
export * from './sparq';
export * from './sparq_attend';
export * from './topk';
export * from './quant_act_pair';
export * from './repack_x4';
export * from './dequant_x4';
export * from './matmul_x4_legacy';
export * from './matmul_x4_kquant';
export * from './relaxed_check';
