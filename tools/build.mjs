#!/usr/bin/env node
// Builds everything `npm ci` and `npm test` need: the kernel modules (asc), the host JS (esbuild, one
// output file per source file) and the TypeScript declarations (tsc).
//
// Two kernel modules from the same sources: dist/sparq.wasm imports a plain memory (every runtime), and
// dist/sparq-threads.wasm imports a shared one (`--enable threads --sharedMemory`, asconfig target
// "threads") that each worker of src/threads instantiates. An active data segment is copied into memory by
// every instantiation, so that module is built with --zeroFilledMemory, which drops the all-zero segments
// (static scratch): what remains are constant tables, and a later instance rewrites them with the bytes
// already there. The stub runtime keeps no shadow stack in memory, and globals are per instance.
//   node tools/build.mjs [--wasm-only] [--no-types]
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

mkdirSync(join(root, 'dist'), { recursive: true });
mkdirSync(join(root, 'build'), { recursive: true });
const WASM = ['sparq.wasm', 'sparq-threads.wasm'];
run(bin('asc'), ['assembly/index.ts', '--target', 'release']);
run(bin('asc'), ['assembly/index.ts', '--target', 'threads']);
if (!args.has('--wasm-only')) {
  for (const d of readdirSync(join(root, 'dist'))) {
    if (!WASM.includes(d)) rmSync(join(root, 'dist', d), { recursive: true, force: true });
  }
  await esbuild.build({
    entryPoints: listTs(join(root, 'src')),
    outdir: join(root, 'dist'),
    outbase: join(root, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  if (!args.has('--no-types')) run(bin('tsc'), ['-p', 'tsconfig.json']);
}
