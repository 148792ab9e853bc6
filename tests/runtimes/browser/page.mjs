// In the page: the browser bundle loads the model from a page-relative path (streamed with fetch) and a
// K-quant model (on the kernel build the page picks), then
// a module Web Worker does the same from a Blob, then the page calls the OpenAI-compatible handler directly and
// goes on with a session saved in Node. Both ask for 2 threads, which they get only when the page
// is cross-origin isolated (otherwise the runtime runs on one). Results go to window.__sparq for the driver.
import * as sparq from '../../../dist/bundles/browser/index.js';
import { greedy, openaiCompletion, continueSession, SESSION_LOAD } from '../case.mjs';

const MODEL = '/model/model.gguf';

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => { worker.terminate(); data.error ? reject(new Error(data.error)) : resolve(data); };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(`worker: ${e.message}`)); };
    worker.postMessage({ model: new URL(MODEL, location.href).href });
  });
}

try {
  const page = await greedy(sparq, MODEL, { threads: 2 });
  const kquant = await greedy(sparq, '/model/kquant.gguf', { threads: 2 });
  const worker = await inWorker();
  const openai = await openaiCompletion(sparq, MODEL, { threads: 1 });
  const blob = new Uint8Array(await (await fetch('/session/session.bin')).arrayBuffer());
  const session = await continueSession(sparq, MODEL, blob, SESSION_LOAD);
  window.__sparq = { page, kquant, worker, openai, session, crossOriginIsolated: globalThis.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer };
} catch (e) {
  window.__sparq = { error: `${e.name}: ${e.message}` };
}
