// Chromium conformance: headless Chromium (Debian package, /usr/bin/chromium, or $CHROMIUM_PATH) driven by
// playwright-core, pages served from 127.0.0.1.
//   runChromium: tests/runtimes/browser/ twice, without and with cross-origin isolation (COOP/COEP
//     headers); each run generates in the page and in a module Web Worker.
//   runElectronRenderer: examples/electron/renderer/ served as main.mjs's app:// protocol serves it
//     (cross-origin isolated), its "Generate in the renderer" button clicked.
import { join } from 'node:path';
import { withChromium } from '../../tools/chromium.mjs';

export { chromiumMissing } from '../../tools/chromium.mjs';
import { model, kquantModel, root } from './common.mjs';

const FILE = /^[\w.-]+$/;

/** The conformance pages: the browser bundle, these test files, the models, a session saved in Node. */
const testRoutes = (sessionFile, kquantFile) => (path) => {
  if (path === '/model/model.gguf') return model;
  if (path === '/model/kquant.gguf') return kquantFile;
  if (path === '/session/session.bin') return sessionFile;
  if (/^\/dist\/bundles\/browser\/[\w.-]+$/.test(path) || /^\/tests\/runtimes\/(browser\/)?[\w.-]+\.(mjs|html)$/.test(path)) return join(root, path);
  return undefined;
};

/** The Electron example's layout under app://local/ (see examples/electron/main.mjs), with the default model. */
function electronRoutes(path) {
  const [, dir, name, ...more] = path.split('/');
  if (more.length || !FILE.test(name ?? '')) return undefined;
  if (dir === 'models' && name === 'model.gguf') return model;
  if (dir === 'renderer') return join(root, 'examples', 'electron', 'renderer', name);
  if (dir === 'sparq') return join(root, 'dist', 'bundles', 'browser', name);
  return undefined;
}

/** sessionFile: a session saved in Node, served to the page. */
export async function runChromium(sessionFile) {
  const routes = testRoutes(sessionFile, (await kquantModel()).file);
  return withChromium([[routes, false], [routes, true]], async (browser, urlOf) => {
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
