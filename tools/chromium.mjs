// Headless Chromium (Debian package /usr/bin/chromium, or $CHROMIUM_PATH) driven by playwright-core, and a
// static file server on 127.0.0.1 for the pages it opens: shared by the runtime conformance tests and the
// browser benchmarks.
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, normalize } from 'node:path';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so Wasm threads). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };

/**
 * A server for the files `route(path)` names (undefined or a missing file: 404), with the isolation headers
 * when `isolated`. Resolves once listening on a free port; stopServer ends it.
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

/** Closes a server of serveFiles and the connections a page left open. */
export function stopServer(server) {
  server.closeAllConnections();
  server.close();
}

/** Why Chromium cannot run here (the install command to fix it), or undefined when it can. */
export async function chromiumMissing() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: apt-get install -y chromium`;
  try { await import('playwright-core'); } catch { return 'playwright-core is not installed: npm i -D playwright-core@1.65.1'; }
  return undefined;
}

/**
 * Runs `fn(browser, urlOf)` with headless Chromium and one server per entry of `sites` ([route, isolated]);
 * every server and the browser are closed after, whatever happens.
 */
export async function withChromium(sites, fn) {
  const missing = await chromiumMissing();
  if (missing) throw new Error(missing);
  const { chromium } = await import('playwright-core');
  const servers = [];
  let browser;
  try {
    for (const [route, isolated] of sites) servers.push(await serveFiles(route, isolated));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    return await fn(browser, (i, path) => `http://127.0.0.1:${servers[i].address().port}${path}`);
  } finally {
    await browser?.close();
    for (const s of servers) stopServer(s);
  }
}
