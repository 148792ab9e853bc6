// workerd conformance: `workerd serve` runs tests/runtimes/workerd.capnp on 127.0.0.1: the example Worker
// (examples/workers/worker.js) whose OpenAI-compatible completions, whole and streamed, must give the Node
// text, and whose refusal of a model over the 128 MiB Workers budget must be a 507 with the
// OutOfMemoryError's numbers, after which it still serves; and a Worker that goes on with a session saved in
// Node.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmBin, model, root, sessionReference } from './common.mjs';
import { writeOverBudgetModel } from './big-model.mjs';
import { COMPLETION, readSSE } from './case.mjs';

export async function runWorkerd() {
  const workerd = npmBin('workerd', 'workerd@1.20261117.1');
  const dir = await mkdtemp(join(tmpdir(), 'sparq-workerd-'));
  let child;
  try {
    await symlink(model, join(dir, 'model.gguf'));
    await writeOverBudgetModel(join(dir, 'over-budget.gguf'));
    const port = await freePort(), sessionPort = await freePort();
    let log = '';
    child = spawn(workerd, ['serve', 'tests/runtimes/workerd.capnp', '--directory-path', `assets=${dir}`,
      '--socket-addr', `http=127.0.0.1:${port}`, '--socket-addr', `session=127.0.0.1:${sessionPort}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, exited, () => log);
    const post = (body) => fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const whole = await (await post({ ...COMPLETION, model: 'model' })).json();
    if (whole.error) throw new Error(`workerd completion: ${JSON.stringify(whole.error)}`);
    const streamed = await readSSE(await post({ ...COMPLETION, model: 'model', stream: true }));
    const refused = await post({ ...COMPLETION, model: 'over-budget' });
    const refusal = { status: refused.status, body: await refused.json() };
    const after = await (await post({ ...COMPLETION, model: 'model' })).json();
    const session = await (await fetch(`http://127.0.0.1:${sessionPort}/`, { method: 'POST', body: (await sessionReference()).blob })).json();
    if (session.error) throw new Error(`workerd session: ${session.error}`);
    return { text: whole.choices[0].text, ...streamed, refusal, textAfterRefusal: after.choices?.[0]?.text, session };
  } finally {
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitReady(base, exited, log) {
  const deadline = Date.now() + 15_000;
  let done = false;
  exited.then(() => { done = true; });
  while (Date.now() < deadline) {
    if (done) throw new Error(`workerd exited before serving:\n${log()}`);
    try { await fetch(`${base}/`); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`workerd did not answer on ${base} within 15 s:\n${log()}`);
}
