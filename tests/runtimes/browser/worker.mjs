// In a module Web Worker: the browser bundle loads the model from a Blob, asking for 2 threads.
import * as sparq from '../../../dist/bundles/browser/index.js';
import { greedy } from '../case.mjs';

self.onmessage = async ({ data }) => {
  try {
    const res = await fetch(data.model);
    const blob = await res.blob();
    self.postMessage(await greedy(sparq, blob, { threads: 2 }));
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
