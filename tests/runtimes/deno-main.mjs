// Runs inside Deno: the deno bundle loads the model from a path (streamed with Deno.open), on 2 threads,
// generates, then answers a completion through the OpenAI-compatible handler. A path the read permission
// does not cover and a missing one give the error classes a user catches.
import * as sparq from '../../dist/bundles/deno/index.js';
import { greedy, openaiCompletion } from './case.mjs';

const result = await greedy(sparq, Deno.args[0], { threads: 2 });
const openai = await openaiCompletion(sparq, Deno.args[0], { threads: 1 });
const errorOf = (path) => sparq.loadModel(path).then(() => 'loaded', (e) => e.name);
const errors = { denied: await errorOf(Deno.args[1]), missing: await errorOf(`${Deno.args[0]}.missing`) };
console.log('RESULT ' + JSON.stringify({ ...result, openai, errors, deno: Deno.version.deno, v8: Deno.version.v8 }));
