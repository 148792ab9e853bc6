// Runs inside Deno: the deno bundle loads the model from a path (streamed with Deno.open), on 2 threads.
import * as sparq from '../../dist/bundles/deno/index.js';
import { greedy } from './case.mjs';

const result = await greedy(sparq, Deno.args[0], { threads: 2 });
console.log('RESULT ' + JSON.stringify({ ...result, deno: Deno.version.deno, v8: Deno.version.v8 }));
