// Qwen3: Qwen2 with per-head RMSNorm of q and k before RoPE (and head_dim free of hidden / heads).
import type { Family } from './family.js';
import { qwen2 } from './qwen2.js';

export const qwen3: Family = {
  ...qwen2,
  arch: 'qwen3',
  traits: { ...qwen2.traits, qkNorm: true },
  hf: { ...qwen2.hf, architectures: ['Qwen3ForCausalLM'] },
};
