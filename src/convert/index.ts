// The offline tools (Node only), the package entry `sparq-wasm/convert`: Hugging Face directory -> GGUF,
// GGUF -> quantised GGUF, and the GGUF writer and quantisers they are built on. The runtime (`sparq-wasm`)
// never imports this.
export { convertHFToGGUF, type ConvertType, type ConvertOptions } from './convert.js';
export { quantizeGGUF, type QuantizeOptions } from './quantize-gguf.js';
export { parseFileType, planTypes, FILE_TYPES, type FileTypeName } from './quant-mix.js';
export { quantizeRows, dequantizeRows, QUANT_KINDS } from './quantize.js';
export { writeGGUF, type GGUFOutput, type GGUFTensorEntry, type GGUFWriteSpec, type TensorBytes } from './gguf-writer.js';
export type { GGUFMetadataEntry } from '../formats/gguf.js';
export { writeGGUFFile, writeFileAtomic } from './gguf-file.js';
