// Runs cases in child processes (worker.mjs), `jobs` at a time. Each child has a JS heap cap
// (--max-old-space-size) and each case a time limit: a case whose child does not answer in time is a 'hang'
// (the child is killed and replaced), one whose child dies (an abort for memory, a fatal error) is a 'crash'.
// Every child is ended before runPool returns, whatever happens.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKER = new URL('./worker.mjs', import.meta.url);
const START_TIMEOUT_MS = 120_000;
const STDERR_KEPT = 4000;

/**
 * specs: [{ index } | { folder }]; onResult(spec, result) is called for each, in completion order.
 * options: { seeds (descriptor), runSeed, jobs, timeoutMs, heapMb }.
 */
export async function runPool(specs, options, onResult) {
  let next = 0;
  const slot = async () => {
    let child;
    try {
      while (next < specs.length) {
        const spec = specs[next++];
        child ??= await startChild(options);
        const result = await runOne(child, spec, options.timeoutMs);
        if (result.kind === 'hang' || result.kind === 'crash') { await stopChild(child); child = undefined; }
        onResult(spec, result);
      }
    } finally {
      if (child) await stopChild(child);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, specs.length)) }, slot));
}

async function startChild({ seeds, runSeed, heapMb }) {
  const work = mkdtempSync(join(tmpdir(), 'sparq-fuzz-'));
  const proc = fork(WORKER, [], { execArgv: [`--max-old-space-size=${heapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const child = { proc, work, stderr: '', exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))) };
  proc.stderr.on('data', (d) => { child.stderr = (child.stderr + d).slice(-STDERR_KEPT); });
  proc.on('error', () => {});
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fuzz worker did not start in ${START_TIMEOUT_MS / 1000} s:\n${child.stderr}`)), START_TIMEOUT_MS);
      proc.once('message', (m) => { clearTimeout(timer); if (m.type === 'ready') resolve(); else reject(new Error(`fuzz worker: ${JSON.stringify(m)}`)); });
      child.exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`fuzz worker exited (${code ?? signal}) while starting:\n${child.stderr}`)); });
      proc.send({ type: 'init', seeds, runSeed, work });
    });
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return child;
}

function runOne(child, spec, timeoutMs) {
  child.stderr = '';
  return new Promise((resolve) => {
    const t0 = performance.now();
    const finish = (r) => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(r);
    };
    const onMessage = (m) => { if (m.type === 'result') finish(m); };
    const timer = setTimeout(() => finish({ outcome: 'defect', kind: 'hang', message: `no answer in ${timeoutMs / 1000} s`, ms: performance.now() - t0 }), timeoutMs);
    child.proc.on('message', onMessage);
    child.exited.then(({ code, signal }) => finish({
      outcome: 'defect', kind: 'crash', message: `the process exited (${signal ?? `code ${code}`})`, stderr: child.stderr, ms: performance.now() - t0,
    }));
    child.proc.send({ type: 'case', ...spec });
  });
}

/** Asks the child to exit, kills it if it does not within a second, and removes its folder. */
async function stopChild(child) {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    if (child.proc.connected) child.proc.send({ type: 'exit' });
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), 1000);
    await child.exited;
    clearTimeout(timer);
  }
  rmSync(child.work, { recursive: true, force: true });
}
