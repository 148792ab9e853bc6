// Deno conformance: the deno bundle in the `deno` npm package's binary, ids compared with Node's by run-all.mjs.
import { run, npmBin, lastResult, model, root } from './common.mjs';

/** A path outside the read permission the test grants. */
const denied = '/etc/hostname';

export async function runDeno() {
  const deno = npmBin('deno', 'deno@2.9.6');
  const { stdout } = await run(deno, [
    'run', '--no-config', '--no-prompt', `--allow-read=${root},${model}`, 'tests/runtimes/deno-main.mjs', model, denied,
  ], { env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
  return lastResult(stdout);
}
