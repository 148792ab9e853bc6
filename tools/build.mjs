#!/usr/bin/env node
// Builds everything `npm ci` and `npm test` need: the kernel modules (asc), the host's typed view of them
// (src/kernels/abi.ts, generated from the release module's binding declarations by tools/gen-abi.mjs), the
// host JS (esbuild, one output file per source file) and the TypeScript declarations (tsc).
//
// Two kernel modules from the same sources: dist/sparq.wasm imports a plain memory (every runtime), and
// dist/sparq-threads.wasm imports a shared one (`--enable threads --sharedMemory`, asconfig target
// "threads") that each worker of src/threads instantiates. Each has a relaxed-SIMD variant built with
// `--enable relaxed-simd` (targets "relaxed" and "relaxed-threads": dist/sparq-relaxed.wasm and
// dist/sparq-relaxed-threads.wasm), whose interleaved-weight kernels use i32x4.relaxed_dot_i8x16_i7x16_add_s;
// a runtime uses it only where its relaxed_selfcheck() returns 1 (assembly/relaxed_check.ts). An active data segment is copied into memory by
// every instantiation, so that module is built with --zeroFilledMemory, which drops the all-zero segments
// (static scratch): what remains are constant tables, and a later instance rewrites them with the bytes
// already there. The stub runtime keeps no shadow stack in memory, and globals are per instance.
//   node tools/build.mjs [--wasm-only] [--no-types]
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, mkdirSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import asc from 'assemblyscript/asc';
import { abiSource } from './gen-abi.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, stdio: 'inherit' });
process.chdir(root);

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
const WASM = ['sparq.wasm', 'sparq-threads.wasm', 'sparq-relaxed.wasm', 'sparq-relaxed-threads.wasm'];

/** Compiles one asconfig target; files ending in .d.ts or .js (binding declarations) are returned, not written. */
async function compile(target, extra = []) {
  const kept = new Map();
  const { error, stderr } = await asc.main(['assembly/index.ts', '--target', target, ...extra], {
    stdout: process.stdout,
    stderr: process.stderr,
    writeFile(name, contents, baseDir) {
      if (/\.(d\.ts|js)$/.test(name)) { kept.set(name.replace(/.*[\\/]/, ''), contents); return; }
      const path = resolve(root, baseDir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, contents);
    },
  });
  if (error) { console.error(stderr.toString()); throw error; }
  return kept;
}

const bindings = await compile('release', ['--bindings', 'raw']);
await compile('threads');
await compile('relaxed');
await compile('relaxed-threads');
const abiPath = join(root, 'src', 'kernels', 'abi.ts');
const abi = await abiSource(bindings.get('sparq.d.ts'), readFileSync(join(root, 'dist', 'sparq.wasm')), join(root, 'assembly'));
if (!existsSync(abiPath) || readFileSync(abiPath, 'utf8') !== abi) {
  writeFileSync(abiPath, abi);
  console.log('src/kernels/abi.ts regenerated from the kernel module');
}
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
