// Research tools, the package entry `sparq-wasm/research`: accuracy of decode-step attention settings on a
// loaded model (perplexity and greedy continuations by setting, one shared dense prefill each; the pass-key task).
export { perplexityBySetting, greedyBySetting, type EvalSetting, type PerplexityOptions, type PerplexityResult } from './by-setting.js';
export { passkeyBySetting, PASSKEY_DEPTHS, type PasskeyOptions } from './passkey.js';
