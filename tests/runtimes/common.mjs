// Shared by the runtime launchers (Node side): paths, the model, the Node reference, child processes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { greedy, SESSION_TURNS, SESSION_SAMPLING, SESSION_LOAD } from './case.mjs';

export { SESSION_LOAD };

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bundles = join(root, 'dist', 'bundles');
/** The conformance model: the embedded default (committed, so the runtimes are never skipped). */
export const model = join(root, 'models', 'default.gguf');
/** A skip reason when the test model is absent (false when present). */
export const modelSkip = existsSync(model) ? false : `needs ${model} (missing from this checkout)`;

/** Fails with a clear message when the bundles were not built. */
export function requireBundles() {
  for (const t of ['node', 'deno', 'workers', 'browser']) {
    if (!existsSync(join(bundles, t, 'index.js'))) throw new Error(`dist/bundles/${t} is missing: run node tools/build.mjs && node tools/bundle.mjs`);
  }
}

/** A binary installed from npm (node_modules/.bin/<name>); throws naming the devDependency otherwise. */
export function npmBin(name, pkg) {
  const p = join(root, 'node_modules', '.bin', name);
  if (!existsSync(p)) throw new Error(`${name} is not installed: npm i -D ${pkg}`);
  return p;
}

let kquant;
/**
 * A model with 4- and 6-bit K-quant matrices (the llama-gqa fixture as Q4_K_M, in a temporary folder), whose
 * ids show that a runtime's relaxed-SIMD build, where it loads one, gives the portable build's results.
 * { file, dir, reference: the node bundle's greedy case on the portable build, one thread }.
 */
export function kquantModel() {
  kquant ??= (async () => {
    const { convertHFToGGUF, quantizeGGUF } = await import(join(root, 'dist', 'convert', 'index.js'));
    const dir = mkdtempSync(join(tmpdir(), 'sparq-kquant-'));
    const f32 = join(dir, 'f32.gguf'), file = join(dir, 'q4_k_m.gguf');
    await convertHFToGGUF(join(root, 'tests', 'fixtures', 'llama-gqa'), f32, 'F32', { warn: () => {} });
    await quantizeGGUF(f32, file, 'Q4_K_M');
    const sparq = await import(join(bundles, 'node', 'index.js'));
    return { file, dir, reference: await greedy(sparq, file, { threads: 1, relaxedSimd: false }) };
  })();
  return kquant;
}

/** Removes kquantModel's folder, if it was made. */
export async function removeKquantModel() {
  if (kquant) rmSync((await kquant).dir, { recursive: true, force: true });
}

let reference;
/** The ids Node gets from the node bundle on one thread: what every other runtime must reproduce. */
export function nodeReference() {
  reference ??= import(join(bundles, 'node', 'index.js')).then((sparq) => greedy(sparq, model, { threads: 1 }));
  return reference;
}

let session;
/**
 * The saved-session case in Node: a session (the ChatML template of the chat-template fixtures) saved after
 * two turns, and the tokens its third turn gives when it never stopped. { blob, tokens }.
 */
export function sessionReference() {
  session ??= import(join(bundles, 'node', 'index.js')).then(async (sparq) => {
    const chatTemplate = readFileSync(join(root, 'tests', 'fixtures', 'chat-templates', 'chatml.jinja'), 'utf8');
    const m = await sparq.loadModel(model, SESSION_LOAD);
    try {
      const s = m.createSession({ system: 'You tell short stories.', chatTemplate });
      const drain = async (g) => { for await (const _ of g) { /* drain */ } return g.result; };
      for (const t of SESSION_TURNS.slice(0, 2)) await drain(s.send(t, SESSION_SAMPLING));
      const blob = s.save();
      const { tokens } = await drain(s.send(SESSION_TURNS[2], SESSION_SAMPLING));
      return { blob, tokens };
    } finally {
      m.dispose();
    }
  });
  return session;
}

/**
 * Run a command to completion (stdout and stderr collected); kills it by pid after `timeoutMs`.
 * Rejects with its output when it exits non-zero.
 */
export function run(cmd, args, { timeoutMs = 120_000, env, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}\n${stdout}\n${stderr}`));
    });
  });
}

/** The JSON object printed on the last stdout line that starts with RESULT. */
export function lastResult(stdout) {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in output:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length));
}
