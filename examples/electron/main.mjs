// Electron main process: sparq-wasm through its Node entry (file paths, worker_threads), plus the app://
// protocol that serves the renderer, the browser bundle and the model to the window.
//   npm install && npm start [-- /path/to/model.gguf]     (from examples/electron; default models/default.gguf)
// In an app that depends on sparq-wasm, import 'sparq-wasm' here (export condition "node") and
// 'sparq-wasm' in the renderer through your bundler (condition "browser"); this example imports the
// bundles from the repository's dist/bundles/ (node tools/build.mjs && node tools/bundle.mjs).
import { app, BrowserWindow, ipcMain, net, protocol } from 'electron';
import { statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel } from '../../dist/bundles/node/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');
const MODEL = process.argv.find((a) => a.endsWith('.gguf')) ?? join(repo, 'models', 'default.gguf');
/** app://local/<root>/... -> these folders; app://local/models/model.gguf -> MODEL. */
const ROOTS = { renderer: join(here, 'renderer'), sparq: join(repo, 'dist', 'bundles', 'browser') };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream' };

// A standard, secure scheme with fetch and streaming, so the renderer can fetch the model and the .wasm.
protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);

function fileFor(pathname) {
  const [, root, ...rest] = pathname.split('/');
  if (root === 'models' && rest.join('/') === 'model.gguf') return MODEL;
  if (!ROOTS[root]) return undefined;
  const file = normalize(join(ROOTS[root], ...rest));
  return file.startsWith(ROOTS[root] + sep) ? file : undefined;
}

async function serve(request) {
  const file = fileFor(decodeURIComponent(new URL(request.url).pathname));
  let size;
  try { size = file && statSync(file).isFile() ? statSync(file).size : undefined; } catch { size = undefined; }
  if (size === undefined) return new Response('not found', { status: 404 });
  const body = (await net.fetch(pathToFileURL(file).href)).body;
  return new Response(body, {
    headers: {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(size),
      // Cross-origin isolation: SharedArrayBuffer, so the renderer can run the kernels on several threads.
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    },
  });
}

// Generation in the main process, streamed to the window over IPC, one request at a time.
let model;
let queue = Promise.resolve();
ipcMain.handle('generate', (event, prompt) => {
  const run = queue.then(async () => {
    model ??= await loadModel(MODEL, { contextLength: 'auto' });
    const gen = model.generate(String(prompt), { temperature: 0, maxTokens: 64 });
    for await (const piece of gen) event.sender.send('token', piece);
    const { text, tokens } = await gen.result;
    return { text, tokens, threads: model.info.threads };
  });
  queue = run.catch(() => {});
  return run;
});

app.whenReady().then(() => {
  protocol.handle('app', serve);
  const win = new BrowserWindow({
    width: 900,
    height: 700,
    webPreferences: { preload: join(here, 'preload.cjs'), contextIsolation: true, sandbox: true },
  });
  win.loadURL('app://local/renderer/index.html');
});
app.on('window-all-closed', () => app.quit());
