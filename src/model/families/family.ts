// What a family is: everything the runtime and the converter know about one architecture, as data and a
// few small rules. The generic code reads these records (the config readers model/from-gguf.ts and
// model/from-hf.ts, the weight binding in model/weights.ts, the converter in convert/convert.ts) and names
// no family itself.
import type { ModelConfig, NormKind, MlpKind } from '../config.js';
import type { TensorNaming, StoredLayout } from '../weights.js';
import type { HFConfig } from '../hf-json.js';
import type { GGUFMetadataEntry } from '../../formats/gguf.js';

export interface Family {
  /** Architecture name as GGUF writes it (general.architecture); ModelConfig.arch holds it. */
  readonly arch: string;
  readonly traits: FamilyTraits;
  readonly gguf: GGUFRules;
  readonly hf: HFRules;
  readonly convert: ConvertRules;
}

/** What the family fixes, whatever its file says; everything else comes from the file's settings. */
export interface FamilyTraits {
  readonly norm: NormKind;
  readonly mlp: MlpKind;
  /** Whether the output reuses the token embedding when config.json does not say (tie_word_embeddings). */
  readonly tied: boolean;
  /** Parallel residual when the file does not say (use_parallel_residual). */
  readonly parallelResidual: boolean;
  readonly postNorms: boolean;
  readonly qkNorm: boolean;
  readonly fusedGateUp: boolean;
  /** Token embeddings are multiplied by sqrt(dim). */
  readonly embedScaled: boolean;
}

/** How llama.cpp's GGUF files of the family are read (its metadata keys are `<arch>.<key>`). */
export interface GGUFRules {
  /**
   * Q and K rows in llama.cpp's interleaved rotary layout, pairs (2i, 2i+1) (its converter permutes them);
   * otherwise HF's layout, pairs (i, i + d/2).
   */
  readonly interleavedRope: boolean;
  /** llama.cpp's sliding-window layer pattern: layer l slides when l % n < n - 1 (0: no sliding layers). */
  readonly slidingPattern: number;
  /**
   * What llama.cpp reads or fixes for the family beyond the keys every family shares, applied last to the
   * config read so far; `meta` gives the value of `<arch>.<key>`.
   */
  adjust?(c: ModelConfig, meta: (key: string) => unknown): ModelConfig;
}

/** How a Hugging Face checkpoint of the family is read (config.json and safetensors names). */
export interface HFRules {
  /** transformers classes (config.json `architectures`) read as this family. */
  readonly architectures: readonly string[];
  /** The config.json key that sets the MLP activation, its default, and the values the family runs with. */
  readonly activation: { readonly key: string; readonly default: string; readonly accepted: readonly string[]; readonly name: string };
  /** Defaults of the family's transformers config class that differ from the common ones (10000, 1). */
  readonly defaults?: { readonly ropeTheta?: number; readonly partialRotary?: number };
  /** The sliding layers' RoPE base is read from rope_local_base_freq (default 10000) in the legacy layout. */
  readonly localRopeBase?: boolean;
  /**
   * Per-layer sliding windows when config.json has no layer_types, as transformers builds the family's
   * masks; `window(fallback)` reads sliding_window. Absent: no layer slides.
   */
  layerWindows?(j: HFConfig, nLayers: number, window: (fallback: number | null) => number): number[];
  /** The family's own config.json settings, applied last to the config read so far. */
  adjust?(c: ModelConfig, j: HFConfig, file: string): ModelConfig;
  readonly names: TensorNaming;
  /** How the checkpoint stores weights where it differs from the forward pass (and from GGUF). */
  readonly stored: StoredLayout;
}

/** What llama.cpp's converter does for the family (convert/convert.ts follows it). */
export interface ConvertRules {
  /** The `<arch>.*` metadata it writes, in its order; refuses settings it cannot express. */
  metadata(c: ModelConfig, j: HFConfig, file: string): GGUFMetadataEntry[];
  /** llama3 RoPE scaling converts, as a rope_freqs.weight tensor of per-frequency divisors. */
  readonly ropeFreqs?: boolean;
  /** No output.weight is written: the family's lm_head is always the token embedding. */
  readonly dropsOutput?: boolean;
}
