// A child process that runs fuzz cases one at a time for pool.mjs: { type: 'init', seeds, runSeed, work } first,
// then { type: 'case', index } (made here from the run seed) or { type: 'case', folder } (a case folder), each
// answered with { type: 'result', ...outcome, ms } before the next is sent; { type: 'exit' } ends it. `work`
// is the folder where directory cases are written.
import { openSeeds } from './seeds.mjs';
import { makeCase } from './cases.mjs';
import { runCase } from './target.mjs';
import { readCaseFolder } from './case-files.mjs';

const sparq = await import('../../dist/index.js');
let seeds, runSeed, work;

process.on('message', async (msg) => {
  if (msg.type === 'init') {
    seeds = openSeeds(msg.seeds);
    runSeed = msg.runSeed;
    work = msg.work;
    process.send({ type: 'ready' });
  } else if (msg.type === 'case') {
    const c = msg.folder ? readCaseFolder(msg.folder).case : makeCase(seeds, runSeed, msg.index);
    const t0 = performance.now();
    const r = await runCase(sparq, c, work);
    process.send({ type: 'result', ...r, format: c.format, ms: performance.now() - t0 });
  } else if (msg.type === 'exit') {
    process.disconnect();
  }
});
