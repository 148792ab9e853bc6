// Engines in headless Chromium pages (browser/page.mjs): ours (the browser bundle) and wllama, each page
// cross-origin isolated and serving one model file. Same call(op, args) shape as protocol.mjs's engines.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveFiles, stopServer } from '../../tools/chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAFE = /^[\w./-]+$/;

function routes(file) {
  return (path) => {
    if (!SAFE.test(path) || path.includes('..')) return undefined;
    if (path === '/model/model.gguf') return file;
    if (path.startsWith('/engine/')) return join(root, 'bench', 'engines', 'browser', path.slice('/engine/'.length));
    if (path.startsWith('/sparq/')) return join(root, 'dist', 'bundles', 'browser', path.slice('/sparq/'.length));
    if (path.startsWith('/wllama/')) return join(root, 'bench', 'peers', 'node_modules', '@wllama', 'wllama', path.slice('/wllama/'.length));
    return undefined;
  };
}

/** Opens an engine page (`kind`: 'sparq' or 'wllama') in `browser` for `file`; returns { call, close }. */
export async function openPageEngine(browser, kind, file) {
  const server = await serveFiles(routes(file), true);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/engine/index.html?engine=${kind}`);
  await page.waitForFunction(() => window.engineReady !== undefined, null, { timeout: 60_000 });
  const ready = await page.evaluate(() => window.engineReady);
  if (ready !== 'ok') throw new Error(`${kind} page: ${ready} ${errors.join('; ')}`);
  return {
    async call(op, args = {}) {
      try {
        return await page.evaluate(([o, a]) => window.engine[o](a), [op, args]);
      } catch (e) {
        throw new Error(`${kind} page, ${op}: ${e.message.split('\n')[0]} ${errors.join('; ')}`);
      }
    },
    async close() { await page.close(); stopServer(server); },
  };
}
