// A case as a folder: its files, and case.json saying how to load them ({ target, base?, files: { name:
// 'file' | 'gzip' | 'dir' | 'missing' }, settings }, with the run seed, index, mutation and outcome when the fuzzer
// wrote it). Files over 64 KiB are stored gzipped (name.gz), so that the deep nestings stay small. The fuzzer
// writes every defect this way; tests/fuzz/regressions/ holds such folders, with `expect` (and `error`).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { root } from './seeds.mjs';

const GZIP_OVER = 64 << 10;

export function writeCaseFolder(dir, c, extra) {
  mkdirSync(dir, { recursive: true });
  const files = {};
  for (const [name, content] of c.files) {
    files[name] = content === null ? 'missing' : content === 'dir' ? 'dir' : content.length > GZIP_OVER ? 'gzip' : 'file';
    if (files[name] === 'file') writeFileSync(join(dir, name), content);
    if (files[name] === 'gzip') writeFileSync(join(dir, `${name}.gz`), gzipSync(content, { level: 9 }));
  }
  const meta = {
    target: c.target, ...(c.base ? { base: relative(root, c.base) } : {}), files, settings: c.settings ?? {}, format: c.format, seed: c.seed,
    mutation: c.mutation, ...extra,
  };
  writeFileSync(join(dir, 'case.json'), JSON.stringify(meta, null, 2) + '\n');
}

/** The case a folder holds, in the form runCase takes, and its case.json. */
export function readCaseFolder(dir) {
  const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const content = (name, kind) => {
    if (kind === 'missing') return null;
    if (kind === 'dir') return 'dir';
    return kind === 'gzip' ? new Uint8Array(gunzipSync(readFileSync(join(dir, `${name}.gz`)))) : new Uint8Array(readFileSync(join(dir, name)));
  };
  const files = Object.entries(meta.files).map(([name, kind]) => [name, content(name, kind)]);
  return {
    case: { target: meta.target, base: meta.base && resolve(root, meta.base), files, settings: meta.settings, format: meta.format, seed: meta.seed, mutation: meta.mutation },
    meta,
  };
}
