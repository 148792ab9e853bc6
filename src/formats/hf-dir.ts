// A Hugging Face model directory (Node): config.json, tokenizer.json (+ tokenizer_config.json), and
// model.safetensors or the shards named by model.safetensors.index.json. Only headers are read here;
// tensor bytes are streamed on demand by loadTensorInto.
import { readFile, open, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { FormatError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { quoted } from './quoted.js';
import { fileAccessError } from './file-errors.js';
import { safetensorsHeaderLength, parseSafetensorsHeader } from './safetensors.js';
import { readFileRange } from './file-range.js';

export interface HFTensor {
  name: string;
  dtype: string;
  /** Outermost dimension first (PyTorch order). */
  shape: number[];
  /** Absolute path of the safetensors file holding it. */
  file: string;
  /** Absolute byte offset in that file. */
  offset: number;
  byteSize: number;
}

export interface HFDir {
  dir: string;
  config: Record<string, unknown>;
  tokenizer: unknown;
  tokenizerConfig: Record<string, unknown> | undefined;
  /** chat_template.jinja, where the directory has one (newer checkpoints keep the template there). */
  chatTemplate: string | undefined;
  tensors: HFTensor[];
  /** Sum of every tensor's byteSize. */
  totalBytes: number;
  /** Copy tensor `t`'s bytes (exactly t.byteSize) from its file into dst. */
  loadTensorInto(t: HFTensor, dst: Uint8Array): Promise<void>;
}

/** A regular file's text; undefined when the path does not exist and the file is optional. */
async function readText(path: string, required: boolean): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) throw new FormatError('not a regular file', path);
    return await readFile(path, 'utf8');
  } catch (e) {
    const typed = fileAccessError(e, path);
    if (!required && typed instanceof NotFoundError) return undefined;
    throw typed;
  }
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  const text = await readText(path, required);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`not valid JSON: ${(e as Error).message}`, path);
  }
}

function asObject(v: unknown, file: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError('expected a JSON object', file);
  return v as Record<string, unknown>;
}

/** The tensors of one safetensors file, from its header only. */
export async function readSafetensorsFile(path: string): Promise<HFTensor[]> {
  const fh = await open(path, 'r').catch((e: unknown) => { throw fileAccessError(e, path); });
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new FormatError('not a regular file', path);
    const size = info.size;
    const first = new Uint8Array(8);
    await fh.read(first, 0, Math.min(8, size), 0);
    const n = safetensorsHeaderLength(first, size, path);
    const json = new Uint8Array(n);
    const { bytesRead } = await fh.read(json, 0, n, 8);
    if (bytesRead !== n) throw new FormatError(`file is truncated inside the ${n}-byte header`, path, 'header');
    return parseSafetensorsHeader(json, size, path).tensors.map((t) => ({ ...t, file: path }));
  } finally {
    await fh.close();
  }
}

/** Shard file names from model.safetensors.index.json (each must be a plain file name in `dir`). */
function shardNames(index: unknown, file: string): string[] {
  const map = asObject(index, file).weight_map;
  if (typeof map !== 'object' || map === null) throw new FormatError('weight_map must be an object', file, 'weight_map');
  const names = new Set<string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '..') {
      throw new FormatError(`weight_map.${tensor} must name a file in the same directory, got ${quoted(shard)}`, file, 'weight_map');
    }
    names.add(shard);
  }
  return [...names];
}

export async function readHFDir(dir: string): Promise<HFDir> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new FormatError('a directory without config.json: neither a GGUF file nor a Hugging Face model directory', dir);
  }
  const config = asObject(await readJson(configPath, true), configPath);
  const tokenizer = await readJson(join(dir, 'tokenizer.json'), true);
  const tcPath = join(dir, 'tokenizer_config.json');
  const tc = await readJson(tcPath, false);
  const tokenizerConfig = tc === undefined ? undefined : asObject(tc, tcPath);
  const chatTemplate = await readText(join(dir, 'chat_template.jinja'), false);

  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  let files: string[];
  let expected: Record<string, unknown> | undefined;
  if (existsSync(single)) {
    files = [single];
  } else if (existsSync(indexPath)) {
    const index = await readJson(indexPath, true);
    files = shardNames(index, indexPath).map((f) => join(dir, f));
    expected = asObject(index, indexPath).weight_map as Record<string, unknown>;
  } else {
    throw new FormatError('no model.safetensors or model.safetensors.index.json', dir);
  }
  const tensors: HFTensor[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    for (const t of await readSafetensorsFile(f)) {
      const other = seen.get(t.name);
      if (other) throw new FormatError(`tensor ${t.name} appears in both ${basename(other)} and ${basename(f)}`, dir, t.name);
      seen.set(t.name, f);
      tensors.push(t);
    }
  }
  if (expected) {
    for (const [name, shard] of Object.entries(expected)) {
      const at = seen.get(name);
      if (!at || basename(at) !== shard) throw new FormatError(`tensor ${name} is listed in ${shard} but not found there`, indexPath, 'weight_map');
    }
  }
  const totalBytes = tensors.reduce((a, t) => a + t.byteSize, 0);
  return {
    dir, config, tokenizer, tokenizerConfig, chatTemplate, tensors, totalBytes,
    async loadTensorInto(t: HFTensor, dst: Uint8Array): Promise<void> {
      if (dst.length !== t.byteSize) throw new InvalidArgumentError(`loadTensorInto(${t.name}): dst has ${dst.length} bytes, the tensor ${t.byteSize}`);
      await readFileRange(t.file, t.offset, dst);
    },
  };
}
