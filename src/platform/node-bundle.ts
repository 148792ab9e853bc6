// The host of the Node bundle (dist/bundles/node/): the kernel modules sit next to the bundle.
import { nodeHost } from './node-host.js';

export const host = nodeHost(new URL('./', import.meta.url));
