// Runs inside Deno: the deno bundle loads the model from a path (streamed with Deno.open), on 2 threads,
// generates, answers a completion through the OpenAI-compatible handler, and goes on with a session saved
// in Node.
import * as sparq from '../../dist/bundles/deno/index.js';
import { greedy, openaiCompletion, continueSession } from './case.mjs';

const [model, sessionFile, sessionLoad] = Deno.args;
const result = await greedy(sparq, model, { threads: 2 });
const openai = await openaiCompletion(sparq, model, { threads: 1 });
const session = await continueSession(sparq, model, await Deno.readFile(sessionFile), JSON.parse(sessionLoad));
console.log('RESULT ' + JSON.stringify({ ...result, openai, session, deno: Deno.version.deno, v8: Deno.version.v8 }));
