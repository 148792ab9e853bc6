// `sparq quantize IN OUT --type T`: a GGUF with F32/F16/BF16 weights, or a Hugging Face safetensors directory
// (converted to a temporary F32 GGUF first), to a quantised GGUF written atomically.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDirectory } from '../platform/node.js';
import { convertHFToGGUF, quantizeGGUF, parseFileType } from '../convert/index.js';
import { ggmlTypeName } from '../formats/ggml-types.js';

export interface QuantizeFlags { type: string; pure?: boolean; quiet?: boolean }

export async function runQuantize(input: string, output: string, flags: QuantizeFlags): Promise<number> {
  const ftype = parseFileType(flags.type);
  const log = (s: string) => { if (!flags.quiet) process.stderr.write(s + '\n'); };
  const onTensor = (name: string, from: number, to: number, i: number, n: number) =>
    log(`[${i + 1}/${n}] ${name}: ${ggmlTypeName(from)} -> ${ggmlTypeName(to)}`);
  const started = Date.now();
  if (await isDirectory(input)) {
    const dir = await mkdtemp(join(tmpdir(), 'sparq-quantize-'));
    try {
      const tmp = join(dir, 'f32.gguf');
      log(`converting ${input} to a temporary F32 GGUF`);
      await convertHFToGGUF(input, tmp, 'F32', { warn: log });
      await quantizeGGUF(tmp, output, ftype, { pure: flags.pure, onTensor });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    await quantizeGGUF(input, output, ftype, { pure: flags.pure, onTensor });
  }
  log(`wrote ${output} (${ftype}${flags.pure ? ', pure' : ''}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}
