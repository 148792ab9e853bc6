// The host of the file-by-file build in dist/ (Node; the kernel modules are dist/sparq*.wasm). Bundles for
// other platforms replace this module with deno.ts, workers.ts or browser.ts (see tools/bundle.mjs).
import { nodeHost } from './node-host.js';

export const host = nodeHost(new URL('../', import.meta.url));
