// Chromium conformance: headless Chromium (Debian package, /usr/bin/chromium, or $CHROMIUM_PATH) driven by
// playwright-core, pages served from 127.0.0.1.
//   runChromium: tests/runtimes/browser/ twice, without and with cross-origin isolation (COOP/COEP
//     headers); each run generates in the page and in a module Web Worker.
//   runElectronRenderer: examples/electron/renderer/ served as main.mjs's app:// protocol serves it
//     (cross-origin isolated), its "Generate in the renderer" button clicked.
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { model, root } from './common.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };
const FILE = /^[\w.-]+$/;

/** The conformance pages: the browser bundle, these test files, the model. */
function testRoutes(path) {
  if (path === '/model/model.gguf') return model;
  if (/^\/dist\/bundles\/browser\/[\w.-]+$/.test(path) || /^\/tests\/runtimes\/(browser\/)?[\w.-]+\.(mjs|html)$/.test(path)) return join(root, path);
  return undefined;
}

/** The Electron example's layout under app://local/ (see examples/electron/main.mjs), with the default model. */
function electronRoutes(path) {
  const [, dir, name, ...more] = path.split('/');
  if (more.length || !FILE.test(name ?? '')) return undefined;
  if (dir === 'models' && name === 'model.gguf') return model;
  if (dir === 'renderer') return join(root, 'examples', 'electron', 'renderer', name);
  if (dir === 'sparq') return join(root, 'dist', 'bundles', 'browser', name);
  return undefined;
}

function serve(route, isolated) {
  const server = createServer((req, res) => {
    const file = route(normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!file || !existsSync(file)) { res.writeHead(404).end(); return; }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': statSync(file).size };
    res.writeHead(200, isolated ? { ...headers, ...ISOLATION } : headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Why the Chromium cases cannot run here (the install command to fix it), or undefined when they can. */
export async function chromiumMissing() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: apt-get install -y chromium`;
  try { await import('playwright-core'); } catch { return 'playwright-core is not installed: npm i -D playwright-core@1.65.1'; }
  return undefined;
}

/**
 * Runs `fn(browser, urlOf)` with headless Chromium and one server per entry of `sites` ([route, isolated]);
 * every server and the browser are closed after, whatever happens.
 */
async function withChromium(sites, fn) {
  const missing = await chromiumMissing();
  if (missing) throw new Error(missing);
  const { chromium } = await import('playwright-core');
  const servers = [];
  let browser;
  try {
    for (const [route, isolated] of sites) servers.push(await serve(route, isolated));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    return await fn(browser, (i, path) => `http://127.0.0.1:${servers[i].address().port}${path}`);
  } finally {
    await browser?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  }
}

export async function runChromium() {
  return withChromium([[testRoutes, false], [testRoutes, true]], async (browser, urlOf) => {
    const out = { version: browser.version() };
    for (const [i, name] of ['plain', 'isolated'].entries()) {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(urlOf(i, '/tests/runtimes/browser/index.html'));
      await page.waitForFunction(() => window.__sparq !== undefined, null, { timeout: 60_000 });
      const r = await page.evaluate(() => window.__sparq);
      await page.close();
      if (r.error || errors.length) throw new Error(`chromium (${name}): ${r.error ?? ''} ${errors.join('; ')}`);
      out[name] = r;
    }
    return out;
  });
}

export async function runElectronRenderer() {
  return withChromium([[electronRoutes, true]], async (browser, urlOf) => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(urlOf(0, '/renderer/index.html'));
    await page.click('#renderer');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state), null, { timeout: 60_000 });
    const r = await page.evaluate(() => ({
      state: document.body.dataset.state, status: document.getElementById('status').textContent,
      output: document.getElementById('output').textContent, mainDisabled: document.getElementById('main').disabled,
    }));
    await page.close();
    if (r.state !== 'done' || errors.length) throw new Error(`electron renderer in chromium: ${r.status} ${errors.join('; ')}`);
    return r;
  });
}
