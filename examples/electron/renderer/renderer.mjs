// Electron renderer: sparq-wasm through its browser entry. The model comes from the app:// protocol as a
// stream; with the window cross-origin isolated (main.mjs sends COOP/COEP) the kernels use every core.
import { loadModel } from '../sparq/index.js';

const $ = (id) => document.getElementById(id);
let model;

async function generate(where) {
  $('output').textContent = '';
  document.body.dataset.state = 'running';
  const prompt = $('prompt').value;
  try {
    if (where === 'renderer') {
      $('status').textContent = 'loading the model in the renderer...';
      model ??= await loadModel('/models/model.gguf', { contextLength: 'auto', threads: navigator.hardwareConcurrency });
      $('status').textContent = `generating in the renderer on ${model.info.threads} thread(s), crossOriginIsolated=${crossOriginIsolated}`;
      const gen = model.generate(prompt, { temperature: 0, maxTokens: 64 });
      for await (const piece of gen) $('output').textContent += piece;
    } else {
      $('status').textContent = 'generating in the main process...';
      const { threads } = await window.sparqMain.generate(prompt);
      $('status').textContent = `generated in the main process on ${threads} thread(s)`;
    }
    document.body.dataset.state = 'done';
  } catch (e) {
    $('status').textContent = `${e.name}: ${e.message}`;
    document.body.dataset.state = 'failed';
  }
}

$('renderer').onclick = () => generate('renderer');
if (window.sparqMain) {
  window.sparqMain.onToken((piece) => { $('output').textContent += piece; });
  $('main').onclick = () => generate('main');
} else {
  $('main').disabled = true; // opened outside Electron (the Chromium test): no main process
}
