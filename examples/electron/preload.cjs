// Exposes main-process generation to the renderer (contextIsolation on; preloads of sandboxed windows are CommonJS).
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld('sparqMain', {
  generate: (prompt) => ipcRenderer.invoke('generate', prompt),
  onToken: (cb) => ipcRenderer.on('token', (_event, piece) => cb(piece)),
});
