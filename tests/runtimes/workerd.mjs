// workerd conformance: `workerd serve` runs examples/workers/ (worker.js + workerd.capnp, the workers
// bundle) on 127.0.0.1; the SSE endpoint must stream the Node ids, and a model over the 128 MiB
// Workers budget must get a 507 with the OutOfMemoryError's message, after which the worker still serves.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmBin, model, root } from './common.mjs';
import { writeOverBudgetModel } from './big-model.mjs';
import { PROMPT, MAX_TOKENS } from './case.mjs';

export async function runWorkerd() {
  const workerd = npmBin('workerd', 'workerd@1.20261117.1');
  const dir = await mkdtemp(join(tmpdir(), 'sparq-workerd-'));
  let child;
  try {
    await symlink(model, join(dir, 'model.gguf'));
    await writeOverBudgetModel(join(dir, 'over-budget.gguf'));
    const port = await freePort();
    let log = '';
    child = spawn(workerd, ['serve', 'examples/workers/workerd.capnp', '--directory-path', `assets=${dir}`,
      '--socket-addr', `http=127.0.0.1:${port}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, exited, () => log);
    const query = `prompt=${encodeURIComponent(PROMPT)}&max_tokens=${MAX_TOKENS}`;
    const first = await sse(`${base}/generate?${query}&model=model.gguf`);
    const refused = await fetch(`${base}/generate?${query}&model=over-budget.gguf`);
    const refusal = { status: refused.status, body: await refused.json() };
    const after = await sse(`${base}/generate?${query}&model=model.gguf`);
    return { ids: first.done.tokens, text: first.done.text, streamedText: first.text, events: first.events, refusal, idsAfterRefusal: after.done.tokens };
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

/** Reads a server-sent event stream to its end: the token texts and the final `done` event. */
async function sse(url) {
  const res = await fetch(url);
  if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
    throw new Error(`GET ${url}: ${res.status} ${res.headers.get('content-type')}\n${await res.text()}`);
  }
  const body = await res.text();
  let text = '', events = 0, done;
  for (const block of body.split('\n\n').filter(Boolean)) {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
    events++;
    if (event === 'token') text += data.text;
    else if (event === 'done') done = data;
    else throw new Error(`unexpected event ${event}: ${JSON.stringify(data)}`);
  }
  if (!done) throw new Error(`the stream ended without a done event:\n${body}`);
  return { text, events, done };
}
