// A benchmark engine in its own process, driven over stdin/stdout by one JSON line per request and one per
// reply, so each engine keeps its model loaded while the driver alternates between engines.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * In the engine process: answers each request line `{ op, ...args }` with `{ ok: result }` or
 * `{ error: message }` from `handlers[op](args)`, one at a time, and exits when stdin closes.
 */
export function serveEngine(handlers) {
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      const { op, ...args } = JSON.parse(line);
      try {
        if (!handlers[op]) throw new Error(`unknown request ${op}`);
        process.stdout.write(JSON.stringify({ ok: (await handlers[op](args)) ?? null }) + '\n');
      } catch (e) {
        process.stdout.write(JSON.stringify({ error: `${e.name}: ${e.message}` }) + '\n');
      }
    });
  });
  lines.on('close', () => queue.then(() => handlers.close?.()).then(() => process.exit(0)));
}

/** In the driver: starts `node script ...args` and returns `call(op, args)` and `close()`. */
export function spawnEngine(script, args = []) {
  const child = spawn(process.execPath, ['--max-old-space-size=8192', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const replies = createInterface({ input: child.stdout });
  const waiting = [];
  replies.on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const exited = new Promise((resolve) => child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w({ error: `${script} exited with code ${code}` });
    resolve(code);
  }));
  return {
    call(op, a = {}) {
      return new Promise((resolve, reject) => {
        waiting.push((r) => (r.error ? reject(new Error(r.error)) : resolve(r.ok)));
        child.stdin.write(JSON.stringify({ op, ...a }) + '\n');
      });
    },
    close() { child.stdin.end(); return exited; },
  };
}
