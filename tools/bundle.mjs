#!/usr/bin/env node
// One self-contained ESM bundle per runtime, each in dist/bundles/<target>/: index.js (+ .map), the kernel
// modules sparq.wasm and sparq-threads.wasm with their relaxed-SIMD builds sparq-relaxed.wasm and
// sparq-relaxed-threads.wasm (src/engine/kernel-variant.ts picks one), and the thread scripts supervisor.js
// and worker.js that the worker pool (src/threads) starts from next to index.js (workers: sparq.wasm and
// index.js only, as an isolate has no threads and compiles no module at run time):
//   node     Node 20+ and Electron's main process (file paths, Hugging Face directories); not minified, so
//            an uncaught error's stack and source line are readable (no download size to save)
//   deno     Deno 2 (file paths through Deno.open; no node: modules)
//   workers  Cloudflare Workers / workerd module workers: `import kernels from './sparq.wasm'` stays an
//            import, so wrangler/workerd hand over a compiled WebAssembly.Module
//   browser  pages, Web Workers and Electron renderers (the .wasm is fetched next to index.js)
// The loader reaches the platform only through src/platform/host.ts; each target links its own host
// module there. The thread code picks Node's worker_threads at run time where `process.versions.node` is
// set: Deno provides node: modules, so they stay imports there; in the browser and workers bundles they
// resolve to a module that throws, which that code never reaches. Needs node tools/build.mjs first.
//   node tools/bundle.mjs [--write-docs]   (--write-docs rewrites docs/bundles.md with the sizes)
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundles');
const WASM = ['sparq.wasm', 'sparq-threads.wasm', 'sparq-relaxed.wasm', 'sparq-relaxed-threads.wasm'];
const THREAD_SCRIPTS = { supervisor: 'src/threads/supervisor.ts', worker: 'src/threads/worker.ts' };

const TARGETS = {
  node: { host: 'node-bundle.ts', platform: 'node', target: 'node20', conditions: ['node'], threads: true, nodeModules: 'native', minify: false },
  deno: { host: 'deno.ts', platform: 'neutral', target: 'es2022', conditions: ['deno'], threads: true, nodeModules: 'external' },
  workers: { host: 'workers.ts', platform: 'neutral', target: 'es2022', conditions: ['workerd', 'worker', 'browser'], threads: false, nodeModules: 'stub' },
  browser: { host: 'browser.ts', platform: 'browser', target: ['es2022', 'chrome91', 'firefox89', 'safari16.4'], conditions: ['browser'], threads: true, nodeModules: 'stub' },
};

/** Modules that only the Node build may contain. */
const NODE_ONLY = /^src\/(platform\/(node|node-host|node-bundle|wasm-node|host)\.ts|formats\/(hf-dir|file-range)\.ts)$/;
/** The offline tools (sparq-wasm/convert), which no runtime bundle contains. */
const TOOLS = /^src\/convert\//;

/** Links src/platform/<host> wherever the sources import platform/host.js; keeps the .wasm import external. */
function hostPlugin(name, hostFile, nodeModules) {
  return {
    name: 'sparq-host',
    setup(build) {
      build.onResolve({ filter: /(^|\/)platform\/host\.js$|^\.\/host\.js$/ }, (args) => {
        const resolved = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        if (resolved !== join(root, 'src', 'platform', 'host.ts')) return undefined;
        return { path: join(root, 'src', 'platform', hostFile) };
      });
      build.onResolve({ filter: /\/sparq\.wasm$/ }, () => ({ path: './sparq.wasm', external: true }));
      if (nodeModules === 'external') build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
      if (nodeModules === 'stub') {
        build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
        build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
          contents: `throw new Error(${JSON.stringify(`${args.path} is not available in the ${name} bundle`)});`,
        }));
      }
    },
  };
}

async function bundle(name, t) {
  const dir = join(out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { index: 'src/index.ts', ...(t.threads ? THREAD_SCRIPTS : {}) },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: t.platform,
    target: t.target,
    conditions: t.conditions,
    mainFields: ['module', 'main'],
    minify: t.minify ?? true,
    keepNames: true, // error classes name themselves after their constructor (err.name)
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [hostPlugin(name, t.host, t.nodeModules)],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const tools = inputs.filter((p) => TOOLS.test(p));
  if (tools.length) throw new Error(`${name} bundle contains the offline tools: ${tools.join(', ')}`);
  if (name !== 'node') {
    const leaked = inputs.filter((p) => NODE_ONLY.test(p));
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    const nodeImports = imports.filter((p) => (t.nodeModules !== 'external' && p.startsWith('node:')) || ['fs', 'path', 'worker_threads'].includes(p));
    if (leaked.length || nodeImports.length) {
      throw new Error(`${name} bundle contains Node-only code: ${[...leaked, ...nodeImports].join(', ')}`);
    }
  }
  for (const w of t.threads ? WASM : WASM.slice(0, 1)) copyFileSync(join(root, 'dist', w), join(dir, w));
  return sizes(dir, t.threads);
}

/** Raw and gzip bytes of each file a target ships (source maps aside). */
function sizes(dir, threads) {
  const files = threads ? ['index.js', 'supervisor.js', 'worker.js', ...WASM] : ['index.js', WASM[0]];
  return Object.fromEntries(files.map((file) => {
    const bytes = readFileSync(join(dir, file));
    return [file, { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }];
  }));
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

function table(all) {
  const cell = (s) => (s ? `${kb(s.raw)} / ${kb(s.gzip)}` : '-');
  const sum = (files, key) => files.reduce((a, f) => a + f[key], 0);
  const rows = Object.entries(all).map(([name, s]) => {
    const js = ['index.js', 'supervisor.js', 'worker.js'].map((f) => s[f]).filter(Boolean);
    const wasm = WASM.map((f) => s[f]).filter(Boolean);
    const single = [s['index.js'], s[WASM[0]]];
    // a runtime downloads one variant of each module: "everything" counts the larger of the two
    const variants = [0, 1].map((i) => Math.max(...[WASM[i], WASM[i + 2]].map((f) => s[f]?.gzip ?? 0)));
    return `| ${name} | ${cell(s['index.js'])} | ${cell(s['supervisor.js'])} | ${cell(s['worker.js'])} | ${WASM.map((f) => cell(s[f])).join(' | ')} ` +
      `| ${kb(sum(single, 'gzip'))} | ${kb(sum(js, 'gzip') + variants[0] + variants[1])} |`;
  });
  return [`| target | index.js | supervisor.js | worker.js | ${WASM.join(' | ')} | one thread, gzip | everything, gzip |`,
    `|${' --- |'.repeat(10)}`, ...rows].join('\n');
}

for (const w of WASM) {
  if (!existsSync(join(root, 'dist', w))) {
    console.error(`bundle: dist/${w} is missing; run node tools/build.mjs first`);
    process.exit(1);
  }
}
const all = {};
for (const [name, t] of Object.entries(TARGETS)) all[name] = await bundle(name, t);
writeFileSync(join(out, 'sizes.json'), JSON.stringify(all, null, 2) + '\n');
console.log(table(all));

if (process.argv.includes('--write-docs')) {
  const doc = `# Bundle sizes

Written by \`node tools/bundle.mjs --write-docs\` (esbuild, minified ESM with names kept, except the node target,
which is left readable so that a stack names real lines; gzip level 9).
Each target is one folder, \`dist/bundles/<target>/\`: \`index.js\`, the kernel module \`sparq.wasm\` (the
same in every target) and, where threads can run, \`sparq-threads.wasm\` (built for shared memory), the
relaxed-SIMD builds of both (\`sparq-relaxed.wasm\`, \`sparq-relaxed-threads.wasm\`: a runtime loads them
instead only where it validates relaxed SIMD and their startup self-check passes) and the thread scripts
\`supervisor.js\` and \`worker.js\`. Each cell is raw / gzip. "One thread" is what a page or worker downloads
when it runs single-threaded on the portable build (index.js + sparq.wasm); "everything" adds the thread
files, with the larger variant of each module (a runtime fetches one). The JS of the targets differs only in
the platform host it links (see docs/runtimes.md).

${table(all)}
`;
  writeFileSync(join(root, 'docs', 'bundles.md'), doc);
}
