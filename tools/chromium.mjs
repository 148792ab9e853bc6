// Headless Chromium (Debian package, /usr/bin/chromium) driven by playwright-core, and a static file server on
// 127.0.0.1 for the pages it opens: shared by the runtime conformance tests and the browser benchmarks.
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, normalize } from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so Wasm threads). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };

/**
 * A server for the files `route(path)` names (undefined or a missing file: 404), with the isolation headers
 * when `isolated`. Resolves once listening on a free port.
 */
export function serveFiles(route, isolated) {
  const server = createServer((req, res) => {
    const file = route(normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!file || !existsSync(file)) { res.writeHead(404).end(); return; }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size };
    res.writeHead(200, isolated ? { ...headers, ...ISOLATION } : headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs `fn(browser, urlOf)` with headless Chromium and the given servers; closes everything after. */
export async function withChromium(servers, fn) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  let chromium;
  try { ({ chromium } = await import('playwright-core')); } catch { throw new Error('playwright-core is not installed: npm i -D playwright-core@1.65.1'); }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    return await fn(browser, (i, path) => `http://127.0.0.1:${servers[i].address().port}${path}`);
  } finally {
    await browser.close();
    for (const s of servers) s.close();
  }
}
