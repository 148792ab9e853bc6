// Runs inside Deno: the deno bundle loads the model from a path (streamed with Deno.open), on 2 threads,
// generates (also from a K-quant model, on the kernel build it picks), answers a completion through the OpenAI-compatible handler and goes on with a session saved
// in Node. A path the read permission does not cover and a missing one give the error classes a user catches.
import * as sparq from '../../dist/bundles/deno/index.js';
import { greedy, openaiCompletion, continueSession } from './case.mjs';

const [model, sessionFile, sessionLoad, denied, kquantFile] = Deno.args;
const result = await greedy(sparq, model, { threads: 2 });
const kquant = await greedy(sparq, kquantFile, { threads: 2 });
const openai = await openaiCompletion(sparq, model, { threads: 1 });
const session = await continueSession(sparq, model, await Deno.readFile(sessionFile), JSON.parse(sessionLoad));
const errorOf = (path) => sparq.loadModel(path).then(() => 'loaded', (e) => e.name);
const errors = { denied: await errorOf(denied), missing: await errorOf(`${model}.missing`) };
console.log('RESULT ' + JSON.stringify({ ...result, kquant, openai, session, errors, deno: Deno.version.deno, v8: Deno.version.v8 }));
