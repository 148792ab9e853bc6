// Runs inside Deno: the deno bundle loads the model from a path (streamed with Deno.open), on 2 threads,
// generates, then answers a completion through the OpenAI-compatible handler.
import * as sparq from '../../dist/bundles/deno/index.js';
import { greedy, openaiCompletion } from './case.mjs';

const result = await greedy(sparq, Deno.args[0], { threads: 2 });
const openai = await openaiCompletion(sparq, Deno.args[0], { threads: 1 });
console.log('RESULT ' + JSON.stringify({ ...result, openai, deno: Deno.version.deno, v8: Deno.version.v8 }));
