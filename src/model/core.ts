// The contract between the forward pass (model/decoder.ts) and the scheduler that runs generations on it
// (engine/scheduler.ts): passes over spans of several sequences, each in its own KV-cache slot.
import type { AttentionSetting, AttentionCounters } from '../attention/index.js';

/** One sequence's state for attention: the setting of its decode steps and what they read. */
export interface SequenceState {
  setting: AttentionSetting;
  counters: AttentionCounters;
}

/** Consecutive positions [pos, pos + tokens.length) of the sequence in cache slot `seq`, in one forward pass. */
export interface Span {
  seq: number;
  pos: number;
  tokens: readonly number[];
  state: SequenceState;
  /** Compute the logits of the span's last token. */
  logits: boolean;
  /**
   * A decode step (one sampled token fed back): the sequence's attention setting applies and the step is
   * counted. Prompt tokens are always attended densely, however the prompt is split.
   */
  decode: boolean;
}

/** What the scheduler needs from a loaded model. */
export interface BatchCore {
  readonly vocabSize: number;
  /** KV-cache capacity of each slot, in positions. */
  readonly contextLength: number;
  /** Cache slots: sequences that can be in the caches at once. */
  readonly sequences: number;
  /** Rows one forward pass takes at most. */
  readonly batchRows: number;
  /** One pass over spans of distinct slots; then logitsOf(i) for the spans that asked for logits. */
  forward(spans: readonly Span[]): void;
  /** Last-token logits of span i of the last pass (a view, valid until the next pass). */
  logitsOf(i: number): Float32Array;
  /** Drop positions >= pos of slot `seq`. */
  truncate(pos: number, seq: number): void;
  /** Positions [0, len) of slot `from` copied into slot `to`, which then holds exactly those. */
  copyPrefix(from: number, to: number, len: number): void;
  /** The longest prefix of [0, len) of slot `seq` whose cache state equals what storing it afresh gives. */
  exactLength(seq: number, len: number): number;
  /** Throws when `setting` cannot run on these caches. */
  checkAttention(setting: AttentionSetting): void;
}

export interface AttentionStats {
  kind: 'dense' | 'sparq';
  /** SparQ parameters of the last decode step, if SparQ ran. */
  r?: number;
  k?: number;
  /** Attention bytes read divided by what dense attention would have read, over all decode steps. */
  fractionRead?: number;
}
