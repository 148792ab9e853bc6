// The source's layering: every import of src/**/*.ts (static, `import type`, re-exports and dynamic import())
// points to the importing file's own layer or one below it, and no chain of imports between files is a cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Lowest first: a directory of src/ (or a top-level file) per layer; `entry` is every other top-level file
 * (src/index.ts).
 */
const LAYERS = [['errors.ts'], ['formats'], ['platform'], ['tokenizer'], ['kernels'], ['threads'], ['kv'],
  ['attention'], ['model'], ['sample'], ['engine'], ['research'], ['convert'], ['serve'], ['cli'], ['entry']];
const RANK = new Map(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank])));

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : name.endsWith('.ts') ? [relative(src, p)] : [];
  });
}

/** The src-relative .ts files a file imports (relative specifiers only; packages and node: are outside src). */
function imports(file) {
  const code = readFileSync(join(src, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [...code.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]);
  return specs.filter((s) => s.startsWith('.') && s.endsWith('.js'))
    .map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

function layer(file) {
  const [head, ...rest] = file.split(/[\\/]/);
  return rest.length > 0 || head === 'errors.ts' ? head : 'entry';
}

const files = sources(src);
const graph = new Map(files.map((f) => [f, imports(f)]));

test('every relative import names a source file', () => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`));
  assert.deepEqual(missing, []);
});

test('every directory of src/ has a layer', () => {
  assert.deepEqual(files.map(layer).filter((l) => !RANK.has(l)), []);
});

test('no import points up the layers', () => {
  const up = [...graph].flatMap(([f, deps]) => deps.filter((d) => RANK.get(layer(d)) > RANK.get(layer(f))).map((d) => `${f} -> ${d}`));
  assert.deepEqual(up, []);
});

test('no import cycle between files', () => {
  const state = new Map(); // file -> 'open' while on the path, 'done' after
  const cycles = [];
  const visit = (f, path) => {
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...path.slice(path.indexOf(d)), d].join(' -> '));
      else if (!state.has(d)) visit(d, [...path, d]);
    }
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(cycles, []);
});
