// Deno conformance: the deno bundle in the `deno` npm package's binary, ids compared with Node's by run-all.mjs.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, npmBin, lastResult, model, kquantModel, root, sessionReference, SESSION_LOAD } from './common.mjs';

/** A path outside the read permission the test grants. */
const denied = '/etc/hostname';

export async function runDeno() {
  const deno = npmBin('deno', 'deno@2.9.6');
  const dir = await mkdtemp(join(tmpdir(), 'sparq-deno-'));
  try {
    const sessionFile = join(dir, 'session.bin');
    await writeFile(sessionFile, (await sessionReference()).blob);
    const kquant = await kquantModel();
    const { stdout } = await run(deno, [
      'run', '--no-config', '--no-prompt', `--allow-read=${root},${model},${dir},${kquant.dir}`, 'tests/runtimes/deno-main.mjs', model, sessionFile,
      JSON.stringify(SESSION_LOAD), denied, kquant.file,
    ], { env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
    return lastResult(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
